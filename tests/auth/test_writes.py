"""Scoped writes, checked by the database (migration 0014) through ``writer()``: the policies
refuse what the application would refuse, even when the application does not ask.

Every write here is plain SQL under :func:`vbis_geo.auth.writer.writer`, with no check by the
application: what is refused is refused by PostgreSQL's row-level security or the review
rules, and comes back as :class:`Forbidden`. Accounts are made inside the test's transaction.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.auth.principal import Principal
from vbis_geo.auth.scope import existing_row_refusal, row_refusal, table_refusal
from vbis_geo.auth.store import Grant, create_account, deactivate, principal_for_account, revoke
from vbis_geo.auth.writer import WRITER_ROLE, writer
from vbis_geo.errors import Forbidden, NotAuthorized

pytestmark = pytest.mark.db

EDITABLE = (
    "admin_units",
    "protected_areas",
    "pa_designations",
    "pa_zones",
    "wetlands",
    "ecosystems",
    "planning_zones",
    "conservation_facilities",
    "occurrences",
    "taxa",
    "taxon_statuses",
)
#: a point in Thanh Hóa (VN-21), and one in Đà Nẵng (VN-DN)
IN_THANH_HOA = (105.5, 19.9)
IN_DA_NANG = (108.3, 16.1)


def account(conn: Connection, username: str, role: str, *grants: Grant) -> Principal:
    created = create_account(conn, username, role=role, grants=grants)
    who = principal_for_account(conn, created.id, via="token")
    assert who is not None
    return who


def taxon(conn: Connection, name: str) -> int:
    return int(
        conn.execute(
            sa.text("SELECT id FROM taxa WHERE scientific_name = :n"), {"n": name}
        ).scalar_one()
    )


def insert_occurrence(
    conn: Connection, key: str, taxon_id: int, point: tuple[float, float], **columns: object
) -> int:
    extra = "".join(f", {c}" for c in columns)
    values = "".join(f", :{c}" for c in columns)
    return int(
        conn.execute(
            sa.text(
                f"INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom{extra}) "  # noqa: S608 (test columns)
                f"VALUES (:key, :taxon, 'HumanObservation', ST_SetSRID(ST_MakePoint(:x, :y), "
                f"4326){values}) RETURNING id"
            ),
            {"key": key, "taxon": taxon_id, "x": point[0], "y": point[1], **columns},
        ).scalar_one()
    )


def refuses(conn: Connection, principal: Principal, statement, params=None) -> Forbidden:  # type: ignore[no-untyped-def]
    """The Forbidden the database answers ``statement`` run under ``writer()``."""
    savepoint = conn.begin_nested()
    try:
        with pytest.raises(Forbidden) as caught, writer(conn, principal, "test"):
            conn.execute(sa.text(statement) if isinstance(statement, str) else statement, params)
    finally:
        savepoint.rollback()
    return caught.value


def test_the_writer_role_cannot_bypass_and_owns_nothing(conn) -> None:  # type: ignore[no-untyped-def]
    role = conn.execute(
        sa.text(
            "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole FROM pg_roles "
            "WHERE rolname = :r"
        ),
        {"r": WRITER_ROLE},
    ).one()
    assert tuple(role) == (False, False, False, False)
    owned = conn.execute(
        sa.text("SELECT count(*) FROM pg_class WHERE relowner = to_regrole(:r)"),
        {"r": WRITER_ROLE},
    ).scalar_one()
    assert owned == 0
    tables = conn.execute(
        sa.text(
            "SELECT relname, relrowsecurity, pg_has_role(:r, relowner, 'MEMBER') AS owner "
            "FROM pg_class WHERE oid = ANY(CAST(:t AS regclass[]))"
        ),
        {"r": WRITER_ROLE, "t": [f"public.{t}" for t in EDITABLE]},
    ).all()
    assert {t.relname for t in tables if t.relrowsecurity} == set(EDITABLE)
    # a member of the owner's role would share the owner's exemption from the policies
    assert not any(t.owner for t in tables)
    # no right on the derived tables: the triggers that keep them run as their owner
    rights = conn.execute(
        sa.text(
            "SELECT table_schema || '.' || table_name FROM information_schema.role_table_grants "
            "WHERE grantee = :r AND table_schema <> 'public'"
        ),
        {"r": WRITER_ROLE},
    ).scalars()
    assert list(rights) == []


def test_every_trigger_function_of_the_editable_tables_runs_as_its_owner(conn) -> None:  # type: ignore[no-untyped-def]
    # a later migration that replaces one without SECURITY DEFINER breaks the writer's writes
    loose = conn.execute(
        sa.text(
            "SELECT DISTINCT p.oid::regprocedure::text FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal "
            "AND t.tgrelid = ANY(CAST(:t AS regclass[])) AND NOT (p.prosecdef AND EXISTS ("
            "SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%'))"
        ),
        {"t": [f"public.{t}" for t in EDITABLE]},
    ).scalars()
    assert list(loose) == [], "run SELECT auth.secure_trigger_functions() after replacing them"


def test_a_provincial_editor_writes_inside_its_province_only(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(conn, "writes-thanh-hoa", "provincial_editor", Grant("province", "VN-21"))
    tiger = taxon(conn, "Panthera tigris")
    with writer(conn, editor, "survey of 2024"):
        row = insert_occurrence(conn, "writes:1", tiger, IN_THANH_HOA)
        current = conn.execute(sa.text("SELECT current_user")).scalar_one()
    assert current == WRITER_ROLE
    assert conn.execute(sa.text("SELECT current_user")).scalar_one() != WRITER_ROLE  # restored
    written = conn.execute(
        sa.text("SELECT review_status, submitted_by, reviewed_by FROM occurrences WHERE id = :id"),
        {"id": row},
    ).one()
    # an editor publishes directly: it reviewed what it wrote
    assert tuple(written) == ("published", editor.account_id, editor.account_id)

    # the same row in Đà Nẵng: the policy refuses it, not the application (none asked)
    refusal = refuses(
        conn,
        editor,
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) VALUES "
        "('writes:2', :t, 'HumanObservation', ST_SetSRID(ST_MakePoint(:x, :y), 4326))",
        {"t": tiger, "x": IN_DA_NANG[0], "y": IN_DA_NANG[1]},
    )
    assert "outside your scope" in refusal.message
    assert "row-level security of occurrences" in refusal.message


def test_an_edit_cannot_move_a_row_out_of_scope(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(conn, "writes-mover", "provincial_editor", Grant("province", "VN-21"))
    row = insert_occurrence(conn, "writes:3", taxon(conn, "Panthera tigris"), IN_THANH_HOA)
    move = "UPDATE occurrences SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :id"
    refusal = refuses(conn, editor, move, {"x": IN_DA_NANG[0], "y": IN_DA_NANG[1], "id": row})
    assert "outside your scope" in refusal.message
    # a move within the province is an edit like any other
    with writer(conn, editor, "corrected position"):
        moved = conn.execute(sa.text(move), {"x": 105.52, "y": 19.92, "id": row}).rowcount
    assert moved == 1


def test_rows_out_of_scope_are_not_reached_by_updates_and_deletes(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(conn, "writes-neighbour", "provincial_editor", Grant("province", "VN-21"))
    row = insert_occurrence(conn, "writes:4", taxon(conn, "Panthera tigris"), IN_DA_NANG)
    with writer(conn, editor, "bulk correction"):
        updated = conn.execute(
            sa.text("UPDATE occurrences SET recorded_by = 'x' WHERE id = :id"), {"id": row}
        ).rowcount
        deleted = conn.execute(
            sa.text("DELETE FROM occurrences WHERE id = :id"), {"id": row}
        ).rowcount
        # it sees the row (the writer reads everything; users read through the views)
        seen = conn.execute(
            sa.text("SELECT count(*) FROM occurrences WHERE id = :id"), {"id": row}
        ).scalar_one()
    assert (updated, deleted, seen) == (0, 0, 1)


def test_a_2025_unit_covers_the_provinces_merged_into_it(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(
        conn, "writes-new-unit", "provincial_editor", Grant("province", "VN34-THANH-HOA")
    )
    old_code = account(conn, "writes-old-code", "provincial_editor", Grant("province", "VN-21"))
    tiger = taxon(conn, "Panthera tigris")
    with writer(conn, editor, "survey"):
        insert_occurrence(conn, "writes:5", tiger, IN_THANH_HOA)
    scope = conn.execute(
        sa.text(
            "SELECT ARRAY(SELECT code FROM admin_units WHERE id = ANY((auth.account_scope(:a))"
            ".units) ORDER BY code)"
        ),
        {"a": editor.account_id},
    ).scalar_one()
    assert scope == ["VN-21", "VN34-THANH-HOA"]  # the unit, and the province merged into it
    assert old_code.scopes.province_codes == {"VN-21"}


def test_a_reserve_board_edits_its_own_area_and_not_another(conn) -> None:  # type: ignore[no-untyped-def]
    board = account(
        conn, "writes-cuc-phuong", "reserve_board", Grant("protected_area", "PA-CUC-PHUONG")
    )
    rename = "UPDATE protected_areas SET management_board = :b WHERE code = :code"
    with writer(conn, board, "new board"):
        own = conn.execute(sa.text(rename), {"b": "Ban quản lý", "code": "PA-CUC-PHUONG"})
        other = conn.execute(sa.text(rename), {"b": "Ban quản lý", "code": "PA-BA-VI"})
        zones = conn.execute(
            sa.text(
                "UPDATE pa_zones z SET remarks = 'checked' FROM protected_areas p "
                "WHERE p.id = z.protected_area_id AND p.code = ANY(:codes)"
            ),
            {"codes": ["PA-CUC-PHUONG", "PA-BA-VI"]},
        )
        own_zones = conn.execute(
            sa.text(
                "SELECT count(*) FROM pa_zones z JOIN protected_areas p "
                "ON p.id = z.protected_area_id WHERE p.code = 'PA-CUC-PHUONG'"
            )
        ).scalar_one()
    assert (own.rowcount, other.rowcount, zones.rowcount) == (1, 0, own_zones)
    # an occurrence inside its area, and one outside
    inside = conn.execute(
        sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p "
            "FROM protected_areas WHERE code = 'PA-CUC-PHUONG') s"
        )
    ).one()
    monkey = taxon(conn, "Pygathrix nemaeus")
    with writer(conn, board, "patrol"):
        insert_occurrence(conn, "writes:6", monkey, (inside[0], inside[1]))
    refuses(
        conn,
        board,
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) VALUES "
        "('writes:7', :t, 'HumanObservation', ST_SetSRID(ST_MakePoint(:x, :y), 4326))",
        {"t": monkey, "x": IN_DA_NANG[0], "y": IN_DA_NANG[1]},
    )
    # renaming its area to another's code would take it out of its scope
    refuses(conn, board, "UPDATE protected_areas SET code = 'PA-X' WHERE code = 'PA-CUC-PHUONG'")


def test_an_expert_contributes_drafts_of_its_taxa(conn) -> None:  # type: ignore[no-untyped-def]
    expert = account(conn, "writes-primates", "expert", Grant("taxon", "Primates"))
    monkey = taxon(conn, "Pygathrix nemaeus")
    # a synonym of a primate counts as a primate
    synonym = conn.execute(
        sa.text(
            "INSERT INTO taxa (rank, scientific_name, taxonomic_status, accepted_id) "
            "VALUES ('species', 'Pygathrix nemaea', 'synonym', :a) RETURNING id"
        ),
        {"a": monkey},
    ).scalar_one()
    with writer(conn, expert, "field notes"):
        rows = [
            insert_occurrence(conn, "writes:8", monkey, IN_THANH_HOA, review_status="draft"),
            insert_occurrence(conn, "writes:9", synonym, IN_DA_NANG, review_status="draft"),
        ]
    drafts = conn.execute(
        sa.text("SELECT review_status, submitted_by FROM occurrences WHERE id = ANY(:ids)"),
        {"ids": rows},
    ).all()
    assert {tuple(d) for d in drafts} == {("draft", expert.account_id)}
    # published directly: refused by the review rules
    insert = (
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, review_status) "
        "VALUES (:k, :t, 'HumanObservation', ST_SetSRID(ST_MakePoint(105.5, 19.9), 4326), :s)"
    )
    refusal = refuses(conn, expert, insert, {"k": "writes:10", "t": monkey, "s": "published"})
    assert "drafts until reviewed" in refusal.message
    # a tiger is not a primate: the policy refuses it
    refusal = refuses(
        conn, expert, insert, {"k": "writes:11", "t": taxon(conn, "Panthera tigris"), "s": "draft"}
    )
    assert "row-level security" in refusal.message
    # its own draft it may not publish, nor edit into a published row
    refusal = refuses(
        conn, expert, "UPDATE occurrences SET review_status = 'published' WHERE id = :id",
        {"id": rows[0]},
    )  # fmt: skip
    assert "another reviewer" in refusal.message
    # a published record it edits goes back to review
    published = insert_occurrence(conn, "writes:12", monkey, IN_THANH_HOA)
    with writer(conn, expert, "wrong date"):
        conn.execute(
            sa.text(
                "UPDATE occurrences SET event_date = '2020-01-01', review_status = 'draft' "
                "WHERE id = :id"
            ),
            {"id": published},
        )
    state = conn.execute(
        sa.text("SELECT review_status, submitted_by FROM occurrences WHERE id = :id"),
        {"id": published},
    ).one()
    assert tuple(state) == ("draft", expert.account_id)
    # it deletes its own drafts, not published records
    other = insert_occurrence(conn, "writes:13", monkey, IN_THANH_HOA)
    with writer(conn, expert, "withdrawn"):
        gone = conn.execute(
            sa.text("DELETE FROM occurrences WHERE id = ANY(:ids)"), {"ids": [rows[0], other]}
        )
    assert gone.rowcount == 1


def test_an_expert_with_areas_writes_inside_them(conn) -> None:  # type: ignore[no-untyped-def]
    expert = account(
        conn, "writes-local", "expert", Grant("taxon", "Primates"), Grant("province", "VN-21")
    )
    monkey = taxon(conn, "Pygathrix nemaeus")
    with writer(conn, expert, "survey"):
        insert_occurrence(conn, "writes:14", monkey, IN_THANH_HOA, review_status="draft")
    refuses(
        conn,
        expert,
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, review_status) "
        "VALUES ('writes:15', :t, 'HumanObservation', "
        "ST_SetSRID(ST_MakePoint(108.3, 16.1), 4326), 'draft')",
        {"t": monkey},
    )


def test_the_reference_tables_are_the_national_administrators(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(conn, "writes-taxa", "provincial_editor", Grant("province", "VN-21"))
    admin = account(conn, "writes-admin", "national_admin")
    add = "INSERT INTO taxa (rank, scientific_name) VALUES ('species', :n)"
    refuses(conn, editor, add, {"n": "Nova species"})
    with writer(conn, admin, "checklist"):
        conn.execute(sa.text(add), {"n": "Nova species"})
    assert table_refusal(editor, "taxa") == "taxa is written by national administrators only"
    assert table_refusal(admin, "taxa") is None


def test_a_revoked_scope_or_a_deactivated_account_writes_no_more(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(
        conn,
        "writes-revoked",
        "provincial_editor",
        Grant("province", "VN-21"),
        Grant("province", "VN-DN"),
    )
    tiger = taxon(conn, "Panthera tigris")
    with writer(conn, editor, "before"):
        insert_occurrence(conn, "writes:16", tiger, IN_THANH_HOA)
    revoke(conn, "writes-revoked", [Grant("province", "VN-21")])
    # the principal of the request still says VN-21: the database reads the scopes it holds
    assert "VN-21" in editor.scopes.provinces
    insert = (
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) VALUES "
        "(:k, :t, 'HumanObservation', ST_SetSRID(ST_MakePoint(105.5, 19.9), 4326))"
    )
    refuses(conn, editor, insert, {"k": "writes:17", "t": tiger})
    deactivate(conn, "writes-revoked")
    refusal = refuses(
        conn,
        editor,
        insert.replace("105.5, 19.9", "108.3, 16.1"),
        {"k": "writes:18", "t": tiger},
    )
    assert "no active account is writing" in refusal.message


def test_writing_needs_an_account(conn) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.auth.principal import PUBLIC

    with pytest.raises(NotAuthorized), writer(conn, PUBLIC, "anonymous"):
        pass
    # the role without an account (a write path that forgot the principal) writes nothing
    for table, statement, message in (
        (
            "occurrences",
            "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) VALUES "
            "('writes:19', 879, 'HumanObservation', ST_SetSRID(ST_MakePoint(105.5, 19.9), 4326))",
            "no active account is writing",
        ),
        (
            "taxa",
            "INSERT INTO taxa (rank, scientific_name) VALUES ('species', 'Nova species')",
            'row-level security policy for table "taxa"',
        ),
    ):
        savepoint = conn.begin_nested()
        conn.execute(sa.text("SELECT set_config('role', :r, true)"), {"r": WRITER_ROLE})
        with pytest.raises(sa.exc.ProgrammingError, match=message):
            conn.execute(sa.text(statement))
        savepoint.rollback()
        assert table


def test_a_forged_account_setting_is_overwritten(conn) -> None:  # type: ignore[no-untyped-def]
    # a value left on a pooled connection (a session-level SET of an admin's id, say) is
    # replaced by writer() before anything is written
    editor = account(conn, "writes-forged", "provincial_editor", Grant("province", "VN-21"))
    admin = account(conn, "writes-forged-admin", "national_admin")
    conn.execute(
        sa.text("SELECT set_config('vbis.account_id', :a, false)"), {"a": str(admin.account_id)}
    )
    savepoint = conn.begin_nested()
    with pytest.raises(Forbidden), writer(conn, editor, "forged"):
        setting = conn.execute(sa.text("SELECT current_setting('vbis.account_id')")).scalar()
        assert setting == str(editor.account_id)
        insert_occurrence(conn, "writes:20", taxon(conn, "Panthera tigris"), IN_DA_NANG)
    savepoint.rollback()


def test_the_account_setting_and_the_role_end_with_the_transaction(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        with conn.begin() as transaction:
            editor = account(conn, "writes-ending", "provincial_editor", Grant("province", "VN-21"))
            with writer(conn, editor, "local"):
                # left inside the block: the role stays until the transaction ends
                conn.execute(sa.text("SELECT 1"))
                transaction.rollback()
        # the next transaction of the pooled connection has neither
        setting = conn.execute(sa.text("SELECT current_setting('vbis.account_id', true)"))
        assert setting.scalar() in ("", None)
        assert conn.execute(sa.text("SELECT current_user")).scalar() != WRITER_ROLE
        conn.rollback()


def test_the_history_keeps_who_and_why(conn) -> None:  # type: ignore[no-untyped-def]
    editor = account(conn, "writes-history", "provincial_editor", Grant("province", "VN-21"))
    row = insert_occurrence(conn, "writes:21", taxon(conn, "Panthera tigris"), IN_THANH_HOA)
    with writer(conn, editor, "the count was wrong"):
        conn.execute(
            sa.text("UPDATE occurrences SET individual_count = 3 WHERE id = :id"), {"id": row}
        )
    kept = conn.execute(
        sa.text(
            "SELECT changed_by, change_reason, individual_count FROM history.occurrences "
            "WHERE id = :id"
        ),
        {"id": row},
    ).one()
    assert tuple(kept) == (editor.account_id, "the count was wrong", None)


def test_one_row_is_checked_as_a_feature_provider_would(conn) -> None:  # type: ignore[no-untyped-def]
    import shapely

    editor = account(conn, "writes-provider", "provincial_editor", Grant("province", "VN-21"))
    tiger = taxon(conn, "Panthera tigris")
    inside = {"geom": shapely.Point(*IN_THANH_HOA), "taxon_id": tiger}
    outside = {"geom": "POINT(108.3 16.1)", "taxon_id": tiger}
    assert row_refusal(conn, editor, "occurrences", inside) is None
    assert row_refusal(conn, editor, "occurrences", outside) == (
        "outside your scope: lies in province VN-DN / VN34-DA-NANG, you edit VN-21"
    )
    # a row of Đà Nẵng cannot be moved into Thanh Hóa either: the row it replaces is out of scope
    there = insert_occurrence(conn, "writes:22", tiger, IN_DA_NANG)
    reason = row_refusal(conn, editor, "occurrences", inside, replaces=there)
    assert reason is not None and "the existing occurrences row it would replace" in reason
    assert existing_row_refusal(conn, editor, "occurrences", there) is not None
    assert (
        row_refusal(conn, editor, "taxa", {}) == "taxa is written by national administrators only"
    )


def test_the_migrations_run_as_a_table_owner_that_is_no_superuser(server_url) -> None:  # type: ignore[no-untyped-def]
    """In production the application's user may own the tables without being a superuser: the
    migrations make it a member of the writer role, its own loads (COPY) are not under row-level
    security, and under writer() the policies hold for it as for the embedded superuser."""
    import uuid

    from tests.conftest import create_database, drop_database
    from vbis_geo.db.migrate import upgrade

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    owner = f"vbis_owner_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        assert conn.execute(sa.text(superuser)).scalar_one()  # it makes the owner
        conn.execute(sa.text(f"CREATE ROLE {owner} LOGIN CREATEROLE"))
    url = create_database(server_url, "vbis_test_owner")
    engine = None
    try:
        with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{url.database}" OWNER TO {owner}'))
            for extension in ("postgis", "btree_gist", "pg_trgm"):  # a superuser's part
                conn.execute(sa.text(f"CREATE EXTENSION {extension}"))
        engine = sa.create_engine(url.set(username=owner))
        upgrade(engine)
        with engine.connect() as conn, conn.begin():
            assert conn.execute(sa.text("SELECT current_user")).scalar_one() == owner
            member = conn.execute(
                sa.text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": WRITER_ROLE}
            ).scalar_one()
            assert member
            # the owner's fast path works: COPY is refused under row-level security, which
            # holds for the writer only
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy("COPY taxa (rank, scientific_name) FROM STDIN") as copy:
                    copy.write_row(("species", "Copied species"))
            expert = account(conn, "owner-expert", "expert", Grant("taxon", "Copied species"))
            national = account(conn, "owner-admin", "national_admin")
            refusal = refuses(
                conn, expert, "INSERT INTO taxa (rank, scientific_name) VALUES ('species', 'x')"
            )
            assert "row-level security of taxa" in refusal.message
            with writer(conn, national, "checklist"):
                conn.execute(
                    sa.text("INSERT INTO taxa (rank, scientific_name) VALUES ('species', 'y')")
                )
                assert conn.execute(sa.text("SELECT current_user")).scalar_one() == WRITER_ROLE
    finally:
        if engine is not None:
            engine.dispose()
        drop_database(url)
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()
