"""What the public sees of occurrences (migration 0011): sensitive records at the centre of
their grid cell, drafts not at all, and every change of status, override or record followed.

The expected cells are computed here with pyproj, independently of ``publish.cell_centre``.
"""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from pyproj import Transformer

from tests.db.test_sensitivity import add_taxon, override

pytestmark = pytest.mark.db

TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
FROM_EQUAL_AREA = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)

#: inside Cúc Phương (Ninh Bình), and inside Hà Nội
CUC_PHUONG = (105.6123, 20.2987)
HA_NOI = (105.8412, 21.0245)


def expected_centre(lon: float, lat: float, km: int) -> tuple[float, float]:
    x, y = TO_EQUAL_AREA.transform(lon, lat)
    size = km * 1000.0
    cx, cy = (math.floor(x / size) + 0.5) * size, (math.floor(y / size) + 0.5) * size
    return FROM_EQUAL_AREA.transform(cx, cy)


def bring_current(conn) -> None:  # type: ignore[no-untyped-def]
    """What ensure_current does, on the test's own (uncommitted) transaction."""
    stale = set(conn.execute(sa.text("SELECT name FROM analysis.state WHERE stale")).scalars())
    if "taxon_species" in stale:
        conn.execute(sa.text("SELECT analysis.recompute_taxon_species()"))
    if "taxon_sensitivity" in stale:
        conn.execute(sa.text("SELECT analysis.recompute_taxon_sensitivity()"))
    if "occurrence_public" in stale:
        conn.execute(sa.text("SELECT publish.rebuild_occurrence_public()"))


def add_record(conn, taxon: int, point: tuple[float, float], **extra) -> int:  # type: ignore[no-untyped-def]
    values = {
        "oid": f"test-public-{taxon}-{point[0]}-{point[1]}-{extra.get('review_status', '')}",
        "taxon": taxon,
        "x": point[0],
        "y": point[1],
        "locality": "bên suối, 200 m phía bắc trạm kiểm lâm",
        "review_status": "published",
        "uncertainty": 30.0,
    } | extra
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, "
                "locality, occurrence_remarks, review_status, coordinate_uncertainty_m) "
                "VALUES (:oid, :taxon, 'HumanObservation', "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), :locality, 'nest found', "
                ":review_status, :uncertainty) RETURNING id"
            ),
            values,
        ).scalar_one()
    )


def seen(conn, view: str, record: int):  # type: ignore[no-untyped-def]
    """A record as ``view`` shows it, read as the application does: current first."""
    bring_current(conn)
    return conn.execute(
        sa.text(
            f"SELECT ST_X(geom) AS x, ST_Y(geom) AS y, generalised_km, locality, "  # noqa: S608
            f"occurrence_remarks, coordinate_uncertainty_m FROM publish.{view} WHERE id = :id"
        ),
        {"id": record},
    ).one_or_none()


@pytest.fixture
def current(conn):  # type: ignore[no-untyped-def]
    bring_current(conn)
    return conn


def test_a_sensitive_record_is_shown_at_its_cell_centre(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus criticus", "species", statuses=[("iucn_red_list", "CR")])
    record = add_record(conn, taxon, CUC_PHUONG)
    bring_current(conn)
    public = seen(conn, "public_occurrences", record)
    assert public.generalised_km == 10
    want = expected_centre(*CUC_PHUONG, 10)
    assert public.x == pytest.approx(want[0], abs=1e-7)
    assert public.y == pytest.approx(want[1], abs=1e-7)
    assert (public.x, public.y) != CUC_PHUONG
    assert public.locality is None and public.occurrence_remarks is None
    assert public.coordinate_uncertainty_m >= 10_000 * math.sqrt(2) / 2
    exact = seen(conn, "published_occurrences", record)
    assert (exact.x, exact.y) == pytest.approx(CUC_PHUONG)
    assert exact.generalised_km == 0 and exact.locality is not None


def test_records_of_one_cell_share_one_point(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus vulnerabilis", "species", statuses=[("iucn_red_list", "VU")])
    near = (CUC_PHUONG[0] + 0.0005, CUC_PHUONG[1] + 0.0005)  # about 70 m away
    a, b = add_record(conn, taxon, CUC_PHUONG), add_record(conn, taxon, near)
    bring_current(conn)
    pa, pb = seen(conn, "public_occurrences", a), seen(conn, "public_occurrences", b)
    assert pa.generalised_km == pb.generalised_km == 1
    if expected_centre(*CUC_PHUONG, 1) == expected_centre(*near, 1):
        assert (pa.x, pa.y) == (pb.x, pb.y)


def test_records_of_taxa_without_a_level_are_exact(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus communis", "species", statuses=[("iucn_red_list", "LC")])
    record = add_record(conn, taxon, HA_NOI)
    public = seen(conn, "public_occurrences", record)
    assert (public.x, public.y) == pytest.approx(HA_NOI)
    assert public.generalised_km == 0 and public.locality is not None


def test_drafts_and_rejected_rows_are_in_neither_view(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus draftus", "species")
    draft = add_record(conn, taxon, HA_NOI, review_status="draft")
    assert seen(conn, "public_occurrences", draft) is None
    assert seen(conn, "published_occurrences", draft) is None
    conn.execute(
        sa.text(
            "UPDATE occurrences SET review_status = 'published', reviewed_at = now() WHERE id = :id"
        ),
        {"id": draft},
    )
    assert seen(conn, "public_occurrences", draft) is not None


def test_a_rejection_needs_a_reason(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus rejectus", "species")
    record = add_record(conn, taxon, HA_NOI, review_status="draft")
    with pytest.raises(sa.exc.IntegrityError, match="rejection_reason_given"):
        with conn.begin_nested():
            conn.execute(
                sa.text(
                    "UPDATE occurrences SET review_status = 'rejected', review_reason = ' ' "
                    "WHERE id = :id"
                ),
                {"id": record},
            )


def test_a_change_of_status_takes_the_records_with_it(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus mutabilis", "species", statuses=[("iucn_red_list", "LC")])
    record = add_record(conn, taxon, CUC_PHUONG)
    assert seen(conn, "public_occurrences", record).generalised_km == 0
    conn.execute(
        sa.text("UPDATE taxon_statuses SET category = 'EN' WHERE taxon_id = :t"), {"t": taxon}
    )
    stale = set(conn.execute(sa.text("SELECT name FROM analysis.state WHERE stale")).scalars())
    assert "occurrence_public" in stale  # never read stale: ensure_current rebuilds first
    bring_current(conn)
    assert seen(conn, "public_occurrences", record).generalised_km == 10
    conn.execute(
        sa.text("UPDATE taxon_statuses SET category = 'LC' WHERE taxon_id = :t"), {"t": taxon}
    )
    bring_current(conn)
    public = seen(conn, "public_occurrences", record)
    assert public.generalised_km == 0 and (public.x, public.y) == pytest.approx(CUC_PHUONG)


def test_records_of_a_synonym_and_a_subspecies_follow_the_species(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    add_taxon(conn, "Testus speciosus", "species", statuses=[("vn_red_data_book", "EN")])
    synonym = add_taxon(conn, "Testus oldname", "species", accepted="Testus speciosus")
    subspecies = add_taxon(conn, "Testus speciosus minor", "subspecies", parent="Testus speciosus")
    records = [add_record(conn, t, CUC_PHUONG) for t in (synonym, subspecies)]
    bring_current(conn)
    assert [seen(conn, "public_occurrences", r).generalised_km for r in records] == [10, 10]


def test_records_of_a_listed_genus_and_of_a_genus_alone_are_generalised(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    genus = add_taxon(conn, "Testgenus", "genus", statuses=[("forest_law_group", "IA")])
    species = add_taxon(conn, "Testgenus unlisted", "species", parent="Testgenus")
    # a record identified only to the genus of a critically endangered species ("Manis sp.")
    genus_alone = add_taxon(conn, "Othergenus", "genus")
    add_taxon(conn, "Othergenus rarus", "species", parent="Othergenus",
              statuses=[("iucn_red_list", "CR")])  # fmt: skip
    records = [add_record(conn, t, CUC_PHUONG) for t in (genus, species, genus_alone)]
    bring_current(conn)
    for record in records:
        public = seen(conn, "public_occurrences", record)
        assert public.generalised_km == 10, record
        assert (public.x, public.y) == pytest.approx(expected_centre(*CUC_PHUONG, 10), abs=1e-7)
        assert public.locality is None


def test_a_provincial_override_applies_inside_its_province_only(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    taxon = add_taxon(conn, "Testus localis", "species", statuses=[("iucn_red_list", "EN")])
    in_hanoi, in_cuc_phuong = add_record(conn, taxon, HA_NOI), add_record(conn, taxon, CUC_PHUONG)
    hanoi = conn.execute(
        sa.text(
            "SELECT code FROM admin_units WHERE valid_to IS NULL "
            "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"x": HA_NOI[0], "y": HA_NOI[1]},
    ).scalar_one()
    override(conn, "Testus localis", 25, province=hanoi)
    bring_current(conn)
    assert seen(conn, "public_occurrences", in_hanoi).generalised_km == 25
    assert seen(conn, "public_occurrences", in_cuc_phuong).generalised_km == 10
    want = expected_centre(*HA_NOI, 25)
    assert seen(conn, "public_occurrences", in_hanoi).x == pytest.approx(want[0], abs=1e-7)


def test_edits_are_followed_without_a_rebuild(current) -> None:  # type: ignore[no-untyped-def]
    """A statement of a few rows keeps the public points current itself."""
    conn = current
    taxon = add_taxon(conn, "Testus incrementalis", "species", statuses=[("cites", "I")])
    bring_current(conn)
    record = add_record(conn, taxon, CUC_PHUONG)
    assert "occurrence_public" not in set(
        conn.execute(sa.text("SELECT name FROM analysis.state WHERE stale")).scalars()
    )
    assert seen(conn, "public_occurrences", record).generalised_km == 1
    conn.execute(
        sa.text(
            "UPDATE occurrences SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :id"
        ),
        {"x": HA_NOI[0], "y": HA_NOI[1], "id": record},
    )
    assert not conn.execute(
        sa.text("SELECT stale FROM analysis.state WHERE name = 'occurrence_public'")
    ).scalar()
    want = expected_centre(*HA_NOI, 1)
    assert seen(conn, "public_occurrences", record).x == pytest.approx(want[0], abs=1e-7)
    conn.execute(sa.text("DELETE FROM occurrences WHERE id = :id"), {"id": record})
    assert (
        conn.execute(
            sa.text("SELECT count(*) FROM publish.occurrence_public WHERE id = :id"), {"id": record}
        ).scalar_one()
        == 0
    )


def test_the_public_view_refuses_to_answer_while_stale(current) -> None:  # type: ignore[no-untyped-def]
    conn = current
    add_taxon(conn, "Testus staleus", "species", statuses=[("iucn_red_list", "EN")])
    with pytest.raises(sa.exc.OperationalError, match="out of date"):
        with conn.begin_nested():
            conn.execute(sa.text("SELECT count(*) FROM publish.public_occurrences")).scalar()
    bring_current(conn)
    assert conn.execute(sa.text("SELECT count(*) FROM publish.public_occurrences")).scalar()


def test_a_bbox_on_the_public_view_uses_the_spatial_indexes(current) -> None:  # type: ignore[no-untyped-def]
    current.execute(sa.text("SET LOCAL enable_seqscan = off"))  # small tables: ask the index
    plan = "\n".join(
        current.execute(
            sa.text(
                "EXPLAIN SELECT id FROM publish.public_occurrences "
                "WHERE geom && ST_MakeEnvelope(105.5, 20.2, 105.7, 20.4, 4326)"
            )
        ).scalars()
    )
    assert "idx_occurrences_geom" in plan
    assert "ix_occurrence_public_geom" in plan
