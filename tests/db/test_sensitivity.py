"""The sensitivity level of taxa (migration 0009): the rule on the demo checklist, synonyms and
subspecies, overrides, staying current after ensure_current, and ``vbis-geo taxa sensitivity``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from vbis_geo.analysis.assignment import ensure_current, stale_parts
from vbis_geo.cli import cli
from vbis_geo.errors import InvalidInput, NotFound

pytestmark = pytest.mark.db


def recompute(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(sa.text("SELECT analysis.recompute_taxon_sensitivity()"))


def sensitivity(conn, name: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    row = conn.execute(
        sa.text(
            "SELECT s.level_km, s.rule FROM analysis.taxon_sensitivity s "
            "JOIN taxa t ON t.id = s.taxon_id WHERE t.scientific_name = :name"
        ),
        {"name": name},
    ).one()
    return int(row.level_km), str(row.rule)


def taxon_id(conn, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            sa.text("SELECT id FROM taxa WHERE scientific_name = :n"), {"n": name}
        ).scalar_one()
    )


def add_taxon(conn, name: str, rank: str, *, parent=None, accepted=None, statuses=()) -> int:  # type: ignore[no-untyped-def]
    new_id = conn.execute(
        sa.text(
            "INSERT INTO taxa (rank, scientific_name, parent_id, taxonomic_status, accepted_id) "
            "VALUES (:rank, :name, :parent, :status, :accepted) RETURNING id"
        ),
        {
            "rank": rank,
            "name": name,
            "parent": None if parent is None else taxon_id(conn, parent),
            "status": "synonym" if accepted else "accepted",
            "accepted": None if accepted is None else taxon_id(conn, accepted),
        },
    ).scalar_one()
    for list_name, category in statuses:
        conn.execute(
            sa.text("INSERT INTO taxon_statuses (taxon_id, list, category) VALUES (:t, :l, :c)"),
            {"t": new_id, "l": list_name, "c": category},
        )
    return int(new_id)


def override(conn, name: str, level: int, province: str | None = None) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        sa.text(
            "INSERT INTO sensitivity_overrides (taxon_id, province_code, level_km, reason) "
            "VALUES (:t, :p, :l, 'test')"
        ),
        {"t": taxon_id(conn, name), "p": province, "l": level},
    )


# each status combination of the rule, on real demo species (vbis_geo/demo/reference/species.yml)
DEMO_CASES = [
    ("Catlocarpio siamensis", 10, "iucn_red_list CR"),  # IUCN CR alone
    ("Trochalopteron ngoclinhense", 10, "iucn_red_list EN"),  # IUCN EN alone
    ("Malayopython reticulatus", 10, "vn_red_data_book CR"),  # IUCN LC, Red Data Book CR
    ("Fokienia hodginsii", 10, "vn_red_data_book EN"),  # IUCN VU, Red Data Book EN
    ("Cupressus tonkinensis", 10, "priority_protected"),  # Decree 64/2019 alone
    ("Varanus bengalensis", 10, "forest_law_group IB"),  # IUCN LC, IB, CITES I
    ("Chroicocephalus saundersi", 1, "iucn_red_list VU"),  # IUCN VU alone
    ("Pinus krempfii", 1, "iucn_red_list VU, vn_red_data_book VU"),
    ("Paphiopedilum delenatii", 1, "cites I"),  # CITES I alone
    ("Viverricula indica", 1, "forest_law_group IIB"),  # IUCN LC, IIB, CITES III
    ("Ratufa bicolor", 0, "no sensitive status"),  # NT, CITES II
    ("Dendrobium nobile", 0, "no sensitive status"),  # CITES II
    ("Nelumbo nucifera", 0, "no sensitive status"),  # DD
    ("Mimosa pigra", 0, "no sensitive status"),  # invasive alien
    ("Pinus kesiya", 0, "no sensitive status"),  # LC
]


@pytest.mark.parametrize(("name", "level", "rule"), DEMO_CASES)
def test_the_rule_on_the_demo_checklist(conn, name: str, level: int, rule: str) -> None:  # type: ignore[no-untyped-def]
    recompute(conn)
    assert sensitivity(conn, name) == (level, rule)


def _level_of(statuses: list[tuple[str, str | None]]) -> int:
    """The rule, written again independently of the SQL."""
    ten = {("iucn_red_list", "CR"), ("iucn_red_list", "EN"), ("vn_red_data_book", "CR")}
    ten |= {("vn_red_data_book", "EN"), ("priority_protected", None)}
    ten |= {("forest_law_group", "IA"), ("forest_law_group", "IB")}
    one = {("iucn_red_list", "VU"), ("vn_red_data_book", "VU"), ("cites", "I")}
    one |= {("forest_law_group", "IIA"), ("forest_law_group", "IIB")}
    found = set(statuses)
    return 10 if found & ten else 1 if found & one else 0


ABOVE_SPECIES = {"kingdom", "phylum", "class", "order", "family", "genus"}


def _levels_through_the_tree(conn) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Every taxon's national level by the rule of migrations 0009 and 0017, written again
    independently of the SQL: the greatest of its own and of the taxa it stands for (a synonym's
    accepted name, else its parent, up to an override); above the species rank, at least the
    greatest of that over the accepted taxa under it."""
    statuses: dict[int, list[tuple[str, str | None]]] = {}
    for t, list_name, category in conn.execute(
        sa.text("SELECT taxon_id, list, category FROM taxon_statuses")
    ):
        statuses.setdefault(t, []).append((list_name, category))
    overrides = dict(
        conn.execute(
            sa.text(
                "SELECT taxon_id, level_km FROM sensitivity_overrides WHERE province_code IS NULL"
            )
        ).all()
    )
    taxa = {
        r.id: r
        for r in conn.execute(
            sa.text("SELECT id, rank, parent_id, accepted_id, taxonomic_status FROM taxa")
        )
    }

    def own(t: int) -> int:
        return overrides[t] if t in overrides else _level_of(statuses.get(t, []))

    def stands_for(t: int) -> int | None:
        row = taxa[t]
        return row.accepted_id if row.taxonomic_status == "synonym" else row.parent_id

    def down(t: int) -> int:
        level, node = own(t), t
        while node not in overrides and stands_for(node) is not None:
            node = stands_for(node)  # type: ignore[assignment]
            level = max(level, own(node))
        return level

    children: dict[int, list[int]] = {}
    for row in taxa.values():
        if row.taxonomic_status != "synonym" and row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)

    def up(t: int) -> int:
        row = taxa[t]
        if row.rank not in ABOVE_SPECIES or row.taxonomic_status == "synonym" or t in overrides:
            return 0
        found, todo = 0, list(children.get(t, []))
        while todo:
            node = todo.pop()
            found = max(found, down(node))
            todo.extend(children.get(node, []))
        return found

    levels = {}
    for t, row in taxa.items():
        higher = row.accepted_id if row.taxonomic_status == "synonym" else t
        if row.taxonomic_status == "synonym" and t in overrides:
            higher = t
        levels[t] = max(down(t), up(higher) if higher is not None else 0)
    return levels


def test_every_demo_taxon_follows_the_rule(conn) -> None:  # type: ignore[no-untyped-def]
    recompute(conn)
    rows = conn.execute(
        sa.text(
            "SELECT t.id, t.rank, s.level_km FROM taxa t "
            "LEFT JOIN analysis.taxon_sensitivity s ON s.taxon_id = t.id"
        )
    ).all()
    assert rows and all(r.level_km is not None for r in rows)  # every taxon has a level
    expected = _levels_through_the_tree(conn)
    for r in rows:
        assert r.level_km == expected[r.id], r
    assert {r.level_km for r in rows} == {0, 1, 10}
    # the demo checklist has its statuses on species: the higher taxa take theirs from below
    kingdoms = conn.execute(
        sa.text(
            "SELECT t.scientific_name, s.level_km FROM taxa t "
            "JOIN analysis.taxon_sensitivity s ON s.taxon_id = t.id WHERE t.rank = 'kingdom'"
        )
    ).all()
    assert {"Animalia": 10, "Plantae": 10}.items() <= dict(kingdoms).items()


def test_synonyms_take_their_accepted_name_s_level(conn) -> None:  # type: ignore[no-untyped-def]
    add_taxon(conn, "Manis aurita", "species", parent="Manis", accepted="Manis pentadactyla")
    # statuses entered on the synonym count too: the greater level wins
    add_taxon(conn, "Pinus khasya", "species", accepted="Pinus kesiya", statuses=[("cites", "I")])
    add_taxon(
        conn, "Cupressus vietnamensis", "species", accepted="Pinus krempfii",
        statuses=[("iucn_red_list", "LC")],
    )  # fmt: skip
    recompute(conn)
    assert sensitivity(conn, "Manis aurita") == (
        10,
        "forest_law_group IB, iucn_red_list CR, priority_protected, vn_red_data_book EN "
        "(inherited from species Manis pentadactyla)",
    )
    assert sensitivity(conn, "Pinus khasya") == (1, "cites I")
    assert sensitivity(conn, "Cupressus vietnamensis")[0] == 1


def test_infraspecific_taxa_take_at_least_their_species_level(conn) -> None:  # type: ignore[no-untyped-def]
    tiger = "Panthera tigris"
    add_taxon(conn, "Panthera tigris corbetti", "subspecies", parent=tiger)
    # a lower status of its own does not lower it below the species'
    add_taxon(
        conn, "Panthera tigris altaica", "subspecies", parent=tiger,
        statuses=[("iucn_red_list", "LC")],
    )  # fmt: skip
    # a higher status of its own raises it above its species'
    add_taxon(
        conn, "Pinus kesiya var. langbianensis", "variety", parent="Pinus kesiya",
        statuses=[("vn_red_data_book", "EN")],
    )  # fmt: skip
    add_taxon(conn, "Pinus kesiya subsp. test", "subspecies", parent="Pinus kesiya")
    # a form of a subspecies, and a synonym of a subspecies: up the chain to the species
    add_taxon(conn, "Panthera tigris corbetti f. test", "form", parent="Panthera tigris corbetti")
    add_taxon(conn, "Panthera corbetti", "subspecies", accepted="Panthera tigris corbetti")
    recompute(conn)
    inherited = "(inherited from species Panthera tigris)"
    for name in (
        "Panthera tigris corbetti",
        "Panthera tigris altaica",
        "Panthera tigris corbetti f. test",
        "Panthera corbetti",
    ):
        level, rule = sensitivity(conn, name)
        assert level == 10 and rule.endswith(inherited), (name, rule)
    assert sensitivity(conn, "Pinus kesiya var. langbianensis") == (10, "vn_red_data_book EN")
    assert sensitivity(conn, "Pinus kesiya subsp. test") == (0, "no sensitive status")


def test_a_status_on_a_genus_reaches_every_taxon_under_it(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        sa.text(
            "INSERT INTO taxon_statuses (taxon_id, list, category) "
            "VALUES (:t, 'forest_law_group', 'IIA')"
        ),
        {"t": taxon_id(conn, "Dendrobium")},
    )
    add_taxon(conn, "Dendrobium nobile var. test", "variety", parent="Dendrobium nobile")
    add_taxon(conn, "Callista nobilis", "species", accepted="Dendrobium nobile")
    add_taxon(conn, "Dendrobium testii", "species", parent="Dendrobium")
    override(conn, "Dendrobium testii", 0)  # an override stops what is inherited
    recompute(conn)
    inherited = (1, "forest_law_group IIA (inherited from genus Dendrobium)")
    for name in ("Dendrobium nobile", "Dendrobium nobile var. test", "Callista nobilis"):
        assert sensitivity(conn, name) == inherited, name
    assert sensitivity(conn, "Dendrobium testii") == (0, "national override")
    # a species' own higher status stays; the taxa above the genus do not take the genus' status
    # from above, only from below
    assert sensitivity(conn, "Dendrobium")[0] == 1


def test_a_record_identified_only_to_a_genus_is_as_sensitive_as_its_species(conn) -> None:  # type: ignore[no-untyped-def]
    recompute(conn)
    # "Manis sp.": both pangolins of the demo checklist are 10 km
    level, rule = sensitivity(conn, "Manis")
    assert level == 10 and rule.endswith("(greatest under it: species Manis javanica)"), rule
    # the nearest taxon under it decides, then the name: a subspecies does not
    add_taxon(conn, "Panthera tigris corbetti", "subspecies", parent="Panthera tigris")
    add_taxon(conn, "Pantheroides", "genus", accepted="Panthera")  # a genus synonym
    add_taxon(conn, "Panthera testii", "species", parent="Panthera")
    recompute(conn)
    level, rule = sensitivity(conn, "Panthera")
    assert level == 10 and rule.endswith("(greatest under it: species Panthera pardus)"), rule
    assert sensitivity(conn, "Pantheroides") == (level, rule)
    # from below only: a sibling of a sensitive species is not raised by its genus
    assert sensitivity(conn, "Panthera testii") == (0, "no sensitive status")
    # the family, the order, up to the kingdom
    for higher in conn.execute(
        sa.text(
            "WITH RECURSIVE up AS (SELECT parent_id FROM taxa WHERE scientific_name = 'Manis' "
            "UNION ALL SELECT t.parent_id FROM taxa t JOIN up ON t.id = up.parent_id) "
            "SELECT t.scientific_name FROM up JOIN taxa t ON t.id = up.parent_id"
        )
    ).scalars():
        assert sensitivity(conn, higher)[0] == 10, higher
    # a genus overridden is its override, whatever is under it
    override(conn, "Manis", 1)
    recompute(conn)
    assert sensitivity(conn, "Manis") == (1, "national override")
    assert sensitivity(conn, "Manis javanica")[0] == 10


def test_a_national_override_beats_the_rule(conn) -> None:  # type: ignore[no-untyped-def]
    add_taxon(conn, "Panthera tigris corbetti", "subspecies", parent="Panthera tigris")
    add_taxon(conn, "Manis aurita", "species", accepted="Manis pentadactyla")
    override(conn, "Pinus kesiya", 25)  # raised
    override(conn, "Panthera tigris corbetti", 0)  # lowered, despite its species
    override(conn, "Manis pentadactyla", 1)  # its synonym follows
    override(conn, "Paphiopedilum delenatii", 25, province="VN-HN")  # provincial: not here
    recompute(conn)
    assert sensitivity(conn, "Pinus kesiya") == (25, "national override")
    assert sensitivity(conn, "Panthera tigris corbetti") == (0, "national override")
    assert sensitivity(conn, "Manis pentadactyla") == (1, "national override")
    assert sensitivity(conn, "Manis aurita") == (
        1,
        "national override (inherited from species Manis pentadactyla)",
    )
    assert sensitivity(conn, "Paphiopedilum delenatii") == (1, "cites I")


def test_changes_mark_it_stale(conn) -> None:  # type: ignore[no-untyped-def]
    recompute(conn)
    assert "taxon_sensitivity" not in stale_parts(conn)
    override(conn, "Pinus kesiya", 10)
    assert "taxon_sensitivity" in stale_parts(conn)
    recompute(conn)
    conn.execute(
        sa.text("UPDATE taxon_statuses SET category = 'EN' WHERE taxon_id = :t"),
        {"t": taxon_id(conn, "Pinus merkusii")},
    )
    assert "taxon_sensitivity" in stale_parts(conn)
    recompute(conn)
    add_taxon(conn, "Pinus test", "species", parent="Pinus")
    assert "taxon_sensitivity" in stale_parts(conn)


def test_the_database_refuses_bad_overrides(conn) -> None:  # type: ignore[no-untyped-def]
    for bad in (5, -1, 100):
        with pytest.raises(IntegrityError, match="level_km_allowed"), conn.begin_nested():
            override(conn, "Pinus kesiya", bad)
    with pytest.raises(IntegrityError, match="reason_given"), conn.begin_nested():
        conn.execute(
            sa.text(
                "INSERT INTO sensitivity_overrides (taxon_id, level_km, reason) "
                "VALUES (:t, 1, '  ')"
            ),
            {"t": taxon_id(conn, "Pinus kesiya")},
        )
    override(conn, "Pinus kesiya", 1)
    with pytest.raises(IntegrityError, match="uq_sensitivity_overrides"), conn.begin_nested():
        override(conn, "Pinus kesiya", 10)  # one national override per taxon
    override(conn, "Pinus kesiya", 10, province="VN-HN")
    with pytest.raises(IntegrityError, match="uq_sensitivity_overrides"), conn.begin_nested():
        override(conn, "Pinus kesiya", 25, province="VN-HN")
    # deleting the taxon deletes its overrides
    t = add_taxon(conn, "Pinus test", "species", parent="Pinus")
    override(conn, "Pinus test", 10)
    conn.execute(sa.text("DELETE FROM taxa WHERE id = :t"), {"t": t})
    assert not conn.execute(
        sa.text("SELECT count(*) FROM sensitivity_overrides WHERE taxon_id = :t"), {"t": t}
    ).scalar()


def test_a_status_change_is_current_after_ensure_current(engine) -> None:  # type: ignore[no-untyped-def]
    ensure_current(engine)
    with engine.connect() as conn:
        assert sensitivity(conn, "Pinus merkusii") == (1, "iucn_red_list VU")
        pid = taxon_id(conn, "Pinus merkusii")
    change = (
        "UPDATE taxon_statuses SET category = :c WHERE taxon_id = :t AND list = 'iucn_red_list'"
    )
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(change), {"c": "CR", "t": pid})
        assert ensure_current(engine) is not None  # counts=False: recomputed all the same
        with engine.connect() as conn:
            assert "taxon_sensitivity" not in stale_parts(conn)
            assert sensitivity(conn, "Pinus merkusii") == (10, "iucn_red_list CR")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(change), {"c": "VU", "t": pid})
        ensure_current(engine)
    with engine.connect() as conn:
        assert sensitivity(conn, "Pinus merkusii") == (1, "iucn_red_list VU")


# -- vbis-geo taxa sensitivity ----------------------------------------------------------------
@pytest.fixture
def run(test_settings, engine):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["taxa", "sensitivity", *args], obj=test_settings)

    yield invoke
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sensitivity_overrides WHERE reason LIKE 'cli test%'"))
    ensure_current(engine)


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def test_show_set_and_clear(run, engine) -> None:  # type: ignore[no-untyped-def]
    out = ok(run("show", "pinus KESIYA"))
    assert "Pinus kesiya (id " in out and "national level: 0 km (no sensitive status)" in out
    with engine.connect() as conn:
        pid = taxon_id(conn, "Pinus kesiya")
    assert "national level: 0 km" in ok(run("show", str(pid)))

    out = ok(run("set", "Pinus kesiya", "--level", "10", "--reason", "cli test: logging"))
    assert "national level: 10 km (national override)" in out
    assert "override national: 10 km, cli test: logging" in out
    out = ok(
        run("set", "Pinus kesiya", "--level", "25", "--province", "vn-hn", "--reason", "cli test")
    )
    assert "override VN-HN: 25 km, cli test" in out and "national level: 10 km" in out
    out = ok(run("set", "Pinus kesiya", "--level", "1", "--reason", "cli test: replaced"))
    assert "national level: 1 km (national override)" in out
    with engine.connect() as conn:
        assert sensitivity(conn, "Pinus kesiya") == (1, "national override")

    out = ok(run("clear", "Pinus kesiya", "--reason", "cli test: lifted"))
    assert "national level: 0 km (no sensitive status)" in out and "VN-HN: 25 km" in out
    out = ok(run("clear", "Pinus kesiya", "--province", "VN-HN", "--reason", "cli test"))
    assert "override" not in out


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["show", "Pinus nowhere"], NotFound, "unknown taxon 'Pinus nowhere'"),
        (["show", "999999999"], NotFound, "unknown taxon id 999999999"),
        (["show", "99999999999999"], NotFound, "unknown taxon id 99999999999999"),
        (["set", "Nowhere", "--level", "1", "--reason", "cli test"], NotFound, "unknown taxon"),
        (["set", "Pinus kesiya", "--level", "1", "--province", "VN-99", "--reason", "cli test"],
         InvalidInput, "unknown province code 'VN-99'"),
        (["set", "Pinus kesiya", "--level", "1", "--reason", "  "], InvalidInput,
         "needs its reason"),
        (["clear", "Pinus kesiya", "--reason", "cli test"], NotFound,
         "has no national override"),
        (["clear", "Pinus kesiya", "--reason", " "], InvalidInput, "needs its reason"),
        (["clear", "Pinus kesiya", "--province", "VN-XX", "--reason", "cli test"], InvalidInput,
         "unknown province code 'VN-XX'"),
    ],
)  # fmt: skip
def test_errors_name_the_problem(run, args, error, message) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert isinstance(result.exception, error), result.output
    assert message in str(result.exception)


def test_a_bad_level_is_a_usage_error(run) -> None:  # type: ignore[no-untyped-def]
    result = run("set", "Pinus kesiya", "--level", "5", "--reason", "cli test")
    assert result.exit_code == 2 and "'5' is not one of '0', '1', '10', '25'" in result.output
    result = run("set", "Pinus kesiya", "--reason", "cli test")
    assert result.exit_code == 2 and "Missing option '--level'" in result.output


def test_a_replaced_or_removed_override_keeps_its_history(conn) -> None:  # type: ignore[no-untyped-def]
    from vbis_geo.analysis.sensitivity import clear_override, set_override
    from vbis_geo.db.history import row_history

    set_override(conn, "Panthera tigris", 25, "Decision 1: poaching wave")
    override_id = conn.execute(
        sa.text("SELECT id FROM sensitivity_overrides WHERE taxon_id = :t"),
        {"t": taxon_id(conn, "Panthera tigris")},
    ).scalar_one()
    set_override(conn, "Panthera tigris", 1, "Decision 2: survey published")
    clear_override(conn, "Panthera tigris", "Decision 3: back to the rule")
    versions = row_history(conn, "sensitivity_overrides", override_id)
    assert [(v.values["level_km"], v.values["reason"]) for v in versions] == [
        (25, "Decision 1: poaching wave"),
        (1, "Decision 2: survey published"),
    ]
    assert [(v.change_kind, v.change_reason) for v in versions] == [
        ("update", "Decision 2: survey published"),
        ("delete", "Decision 3: back to the rule"),
    ]
    assert not any(v.current for v in versions)  # the override is gone, its versions kept
