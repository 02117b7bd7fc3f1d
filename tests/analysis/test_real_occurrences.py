"""The questions on real records: the Aedes occurrences of Kraemer et al. 2015 (../shared/data),
loaded through the ingest, against geopandas on the real provinces of their time (the 63)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa

from tests.analysis import independent

pytestmark = [pytest.mark.db, pytest.mark.shared_data]

AEDES = "aedes-occurrences-seasia-kraemer2015/aedes_seasia_kraemer2015_dwc.csv"
#: the records run to 2014: the 63 provinces were in force
AS_OF = "2014-12-31"


@pytest.fixture(scope="module")
def aedes(engine, shared_data: Path) -> Iterator[gpd.GeoDataFrame]:  # type: ignore[no-untyped-def]
    """The records in Viet Nam, loaded (committed) by the ingest, then removed."""
    from vbis_geo.ingest.load import IngestOptions, ingest_file

    with engine.begin() as conn:
        report = ingest_file(
            conn, "occurrences", shared_data / AEDES,
            IngestOptions(add_taxa=True, skip_rejected=True),
        )  # fmt: skip
        assert report.written and report.n_inserted > 200
    try:
        yield gpd.read_postgis(
            sa.text(
                "SELECT id, taxon_id, event_date, geom FROM occurrences "
                "WHERE occurrence_id LIKE 'kraemer2015:%'"
            ),
            engine,
            geom_col="geom",
        )
    finally:  # the records, the taxa the load added and its dataset entry go
        with engine.begin() as conn:
            dataset = conn.execute(
                sa.text(
                    "SELECT DISTINCT dataset_id FROM occurrences "
                    "WHERE occurrence_id LIKE 'kraemer2015:%'"
                )
            ).scalar_one()
            conn.execute(
                sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE 'kraemer2015:%'")
            )
            conn.execute(sa.text("DELETE FROM taxa WHERE dataset_id = :d"), {"d": dataset})
            conn.execute(sa.text("DELETE FROM datasets WHERE id = :d"), {"d": dataset})


def test_richness_per_province_of_real_records(client, engine, aedes) -> None:  # type: ignore[no-untyped-def]
    """Records and species of the family Culicidae per province (the 63 of 2014), and the same
    from a geopandas join of the stored points with the real outlines."""
    body = client.get(f"/api/richness?by=province&as_of={AS_OF}&family=Culicidae&f=json").json
    got = {
        f["properties"]["code"]: (f["properties"]["records"], f["properties"]["species"])
        for f in body["features"]
        if f["properties"]["records"]
    }
    provinces = gpd.read_postgis(
        sa.text(
            "SELECT code, geom FROM admin_units WHERE valid_from <= :d "
            "AND (valid_to IS NULL OR valid_to >= :d)"
        ),
        engine,
        geom_col="geom",
        params={"d": AS_OF},
    )
    assert len(provinces) == 63 and len(body["features"]) == 63
    species = independent.species_of(engine)
    # as of a date: the records made by then (undated ones are left out)
    dated = aedes[aedes["event_date"].notna() & (aedes["event_date"].astype(str) <= AS_OF)]
    pairs = independent.inside(dated, provinces)
    pairs["code"] = provinces.loc[pairs["polygon"], "code"].to_numpy()
    pairs["species"] = [species[t] for t in dated.loc[pairs["point"], "taxon_id"]]
    expected = {
        code: (len(group), group["species"].nunique()) for code, group in pairs.groupby("code")
    }
    assert got == expected and sum(n for n, _ in got.values()) > 100
    # both species of the compendium are among them
    assert max(s for _, s in got.values()) <= 2


def test_a_real_taxon_outside_protected_areas(client, engine, aedes) -> None:  # type: ignore[no-untyped-def]
    """Aedes albopictus: records in protected areas against geopandas on the same points."""
    with engine.connect() as conn:
        taxon = conn.execute(
            sa.text("SELECT id FROM taxa WHERE scientific_name = 'Aedes albopictus'")
        ).scalar_one()
    body = client.get(f"/api/taxa/{taxon}/protected-areas").json
    mine = aedes[aedes["taxon_id"] == taxon]
    pas = independent.areas(engine, "protected_areas")
    pairs = independent.inside(mine, pas)
    assert body["records"] == len(mine) > 0
    assert body["records_inside_any"] == pairs["point"].nunique()
    codes = pas.loc[pairs["polygon"], "code"].value_counts().to_dict()
    assert {a["code"]: a["records"] for a in body["areas"]} == codes
