"""Accounts and scopes: each scope fits its role and names a real object, in the code and in
the database; the 2025 reform in a province editor's scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vbis_geo.auth.store import (
    Grant,
    create_account,
    deactivate,
    get_account,
    grant,
    list_accounts,
    principal_for_account,
    revoke,
)
from vbis_geo.errors import InvalidInput, NotFound

pytestmark = pytest.mark.db


def _an_lineage(conn) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """A 34-unit formed from two or more of the 63, and those provinces' codes."""
    row = conn.execute(
        sa.text(
            "SELECT n.code, array_agg(p.code ORDER BY p.code) FROM admin_unit_lineage l "
            "JOIN admin_units n ON n.id = l.successor_id JOIN admin_units p ON p.id = "
            "l.predecessor_id GROUP BY n.code HAVING count(*) >= 2 ORDER BY n.code LIMIT 1"
        )
    ).one()
    return row[0], list(row[1])


def test_provincial_editor_of_old_and_new_codes(conn) -> None:  # type: ignore[no-untyped-def]
    merged, predecessors = _an_lineage(conn)
    account = create_account(
        conn,
        "Editor.One",
        role="provincial_editor",
        grants=[Grant("province", merged.lower()), Grant("province", "VN-HN")],
    )
    assert account.username == "editor.one"  # stored lower-case
    assert {(s.kind, s.target) for s in account.scopes} == {
        ("province", merged),
        ("province", "VN-HN"),
    }
    principal = principal_for_account(conn, account.id, via="token")
    assert principal is not None
    assert principal.scopes.provinces == {merged, "VN-HN"}
    # the 34-unit brings the provinces merged whole into it; a 63 code stays itself
    assert principal.scopes.province_codes == {merged, "VN-HN", *predecessors}
    assert principal.may_edit and not principal.is_admin and not principal.exact_locations


def test_a_pre_2025_province_does_not_extend_to_the_merged_unit(conn) -> None:  # type: ignore[no-untyped-def]
    merged, predecessors = _an_lineage(conn)
    account = create_account(
        conn, "editor-old", role="provincial_editor", grants=[Grant("province", predecessors[0])]
    )
    principal = principal_for_account(conn, account.id, via="token")
    assert principal is not None and principal.scopes.province_codes == {predecessors[0]}


@pytest.mark.parametrize(
    ("role", "grants", "message"),
    [
        ("provincial_editor", [Grant("province", "VN-99")], "unknown province code 'VN-99'"),
        ("provincial_editor", [], "needs at least one province scope"),
        ("reserve_board", [], "needs at least one protected_area or facility scope"),
        (
            "reserve_board",
            [Grant("province", "VN-HN")],
            "a province scope is not allowed for the role reserve_board",
        ),
        (
            "national_admin",
            [Grant("exact_locations")],
            "not allowed for the role national_admin",
        ),
        ("expert", [Grant("facility", "CF-CPCP-CUC-PHUONG")], "not allowed for the role expert"),
        ("expert", [Grant("protected_area", "PA-NOWHERE")], "unknown protected area code"),
        ("expert", [Grant("taxon", "Panthera nonexistens")], "unknown taxon"),
        ("expert", [Grant("taxon", "999999999999")], "unknown taxon id"),
        ("expert", [Grant("province", "  ")], "needs its code"),
        ("expert", [Grant("galaxy", "x")], "unknown kind of scope"),
        ("admin", [], "unknown role 'admin'"),
    ],
)
def test_scopes_that_do_not_fit_are_refused_by_name(conn, role, grants, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=message):
        create_account(conn, "misfit", role=role, grants=grants)


def test_reserve_board_expert_and_exact_locations(conn) -> None:  # type: ignore[no-untyped-def]
    board = create_account(
        conn,
        "cuc-phuong-board",
        role="reserve_board",
        grants=[
            Grant("protected_area", "pa-cuc-phuong"),
            Grant("facility", "CF-CPCP-CUC-PHUONG"),
        ],
    )
    principal = principal_for_account(conn, board.id, via="session")
    assert principal is not None
    assert principal.scopes.protected_areas == {"PA-CUC-PHUONG"}
    assert principal.scopes.facilities == {"CF-CPCP-CUC-PHUONG"}
    primates = conn.execute(
        sa.text("SELECT id FROM taxa WHERE scientific_name = 'Primates'")
    ).scalar_one()
    expert = create_account(
        conn,
        "primatologist",
        role="expert",
        grants=[Grant("taxon", "primates"), Grant("exact_locations")],
    )
    principal = principal_for_account(conn, expert.id, via="token")
    assert principal is not None
    assert principal.scopes.taxa == {primates} and principal.exact_locations
    # granting what it has is no change; exact locations can be taken back
    grant(conn, "primatologist", [Grant("taxon", str(primates))])
    after = revoke(conn, "primatologist", [Grant("exact_locations")])
    assert [(s.kind, s.target) for s in after.scopes] == [("taxon", primates)]
    with pytest.raises(InvalidInput, match="has no exact_locations scope"):
        revoke(conn, "primatologist", [Grant("exact_locations")])


def test_the_last_province_of_an_editor_stays(conn) -> None:  # type: ignore[no-untyped-def]
    create_account(
        conn,
        "editor-two",
        role="provincial_editor",
        grants=[Grant("province", "VN-HN"), Grant("province", "VN-44")],
    )
    revoke(conn, "editor-two", [Grant("province", "VN-44")])
    with pytest.raises(InvalidInput, match="needs at least one province"):
        revoke(conn, "editor-two", [Grant("province", "VN-HN")])


def test_usernames_are_unique_whatever_the_case(conn) -> None:  # type: ignore[no-untyped-def]
    create_account(conn, "Tran.Thi.B", role="expert")
    with pytest.raises(InvalidInput, match="taken"):
        create_account(conn, "TRAN.THI.B", role="expert")
    assert get_account(conn, "tran.THI.b").username == "tran.thi.b"
    with pytest.raises(NotFound):
        get_account(conn, "nobody")
    for bad in ["", "a", "has space", "ünïcode", "x" * 65, "-dash-first"]:
        with pytest.raises(InvalidInput, match="a username is"):
            create_account(conn, bad, role="expert")
    assert "tran.thi.b" in [a.username for a in list_accounts(conn)]


def test_the_database_keeps_scopes_within_roles(conn) -> None:  # type: ignore[no-untyped-def]
    editor = create_account(
        conn, "editor-three", role="provincial_editor", grants=[Grant("province", "VN-HN")]
    )
    with pytest.raises(IntegrityError, match="kind_fits_role"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO auth.account_scopes (account_id, account_role, kind, taxon_id) "
                "SELECT :id, 'provincial_editor', 'taxon', min(id) FROM taxa"
            ),
            {"id": editor.id},
        )
    # the role a scope row carries is the account's (composite foreign key)
    with pytest.raises(IntegrityError, match="fk_account_scopes_account_id"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO auth.account_scopes (account_id, account_role, kind, "
                "protected_area_code) VALUES (:id, 'reserve_board', 'protected_area', "
                "'PA-CUC-PHUONG')"
            ),
            {"id": editor.id},
        )
    # changing the role cascades to the scopes, and provinces do not fit a reserve board
    with pytest.raises(IntegrityError, match="kind_fits_role"), conn.begin_nested():
        conn.execute(
            sa.text("UPDATE auth.accounts SET role = 'reserve_board' WHERE id = :id"),
            {"id": editor.id},
        )
    with pytest.raises(IntegrityError, match="target_fits_kind"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO auth.account_scopes (account_id, account_role, kind, "
                "admin_unit_code, protected_area_code) VALUES (:id, 'provincial_editor', "
                "'province', 'VN-HN', 'PA-CUC-PHUONG')"
            ),
            {"id": editor.id},
        )
    with pytest.raises(IntegrityError, match="username_form"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO auth.accounts (username, display_name, role) VALUES "
                "('Upper', 'x', 'expert')"
            )
        )
    with pytest.raises(IntegrityError, match="password_is_argon2id"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO auth.accounts (username, display_name, role, password_hash) "
                "VALUES ('plain', 'x', 'expert', 'hunter2')"
            )
        )


def test_deactivated_accounts_have_no_principal(conn) -> None:  # type: ignore[no-untyped-def]
    account = create_account(conn, "leaving", role="expert")
    assert principal_for_account(conn, account.id, via="token") is not None
    assert not deactivate(conn, "leaving").active
    assert principal_for_account(conn, account.id, via="token") is None
    assert principal_for_account(conn, 2**40, via="token") is None
