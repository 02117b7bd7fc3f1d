"""``vbis-geo export`` and ``export_layer`` for each audience, around the sensitive record of
tests/sensitive_site.py: the public's (the default) moves it to its generalised point and says
so, the exact audience's (``--audience exact``) keeps it where it was recorded; drafts in
neither."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from tests import sensitive_site
from tests.sensitive_site import PREFIX
from tests.test_cli import _db_env, run_cli
from vbis_geo.analysis.access import Audience
from vbis_geo.export import ExportFilters, export_layer, read_layer

pytestmark = pytest.mark.db

site = sensitive_site.site


def cell(where: sensitive_site.Site) -> str:
    return ",".join(f"{v!r}" for v in where.square(where.generalised, 5200).bounds)


@pytest.mark.parametrize("audience", [None, "public", "exact"])
def test_the_command_exports_as_the_public_unless_told(
    test_settings, site, tmp_path, audience
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "records.zip"
    chosen = ["--audience", audience] if audience else []
    result = run_cli(
        "export", "occurrences", "--format", "dwca", "-o", str(out), "--bbox", cell(site),
        *chosen, **_db_env(test_settings),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    exact = audience == "exact"
    assert ("exact locations" if exact else "as the public sees them") in result.stdout
    with zipfile.ZipFile(out) as zf:
        table = pd.read_csv(zf.open("occurrence.txt"), sep="\t", dtype=str)
        text = b"".join(zf.read(name) for name in zf.namelist())
    table = table.set_index("occurrenceID")
    assert PREFIX + "draft" not in table.index
    secret = table.loc[PREFIX + "secret"]
    point = (float(secret.decimalLongitude), float(secret.decimalLatitude))
    assert point == pytest.approx(site.exact if exact else site.generalised, abs=1e-9)
    if exact:
        assert pd.isna(secret.dataGeneralizations)
    else:
        assert "10 km cell" in secret.dataGeneralizations
        assert all(spelling not in text for spelling in site.exact_texts())
    bad = run_cli(
        "export", "occurrences", "--format", "csv", "-o", str(tmp_path / "x.csv"),
        "--audience", "everyone", **_db_env(test_settings),
    )  # fmt: skip
    assert bad.returncode == 2 and "'everyone' is not one of 'public', 'exact'" in bad.stderr


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv"])
def test_every_format_of_the_public_says_what_was_generalised(conn, site, tmp_path, fmt) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd

    path = tmp_path / f"records.{fmt}"
    box = tuple(site.square(site.generalised, 5200).bounds)
    n = export_layer(conn, "occurrences", fmt, path, ExportFilters(bbox_4326=box))
    if fmt == "csv":
        table = pd.read_csv(path, dtype=str)
        ids, text = table.occurrenceID, path.read_bytes()
    else:
        table = gpd.read_file(path)
        # a Shapefile has the field names cut to 10 characters (occurrence, data_gener)
        ids = table[[c for c in table.columns if c.startswith("occurrenc")][0]]
        text = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert len(table) == n > 0
    assert PREFIX + "secret" in set(ids) and PREFIX + "draft" not in set(ids)
    column = [c for c in table.columns if c.lower().replace("_", "").startswith("datagener")][0]
    secret = table[ids == PREFIX + "secret"].iloc[0]
    assert "centre of a 10 km cell" in secret[column]
    for spelling in site.exact_texts():
        assert spelling not in text, spelling


def test_the_public_relation_is_brought_current_before_an_export(conn, site) -> None:  # type: ignore[no-untyped-def]
    """An export on a connection of its own (no ensure_current first) still reads current
    generalised points: a species made sensitive a moment ago is generalised already."""
    import sqlalchemy as sa

    conn.execute(
        sa.text(
            "INSERT INTO taxon_statuses (taxon_id, list, category) "
            "VALUES (:t, 'iucn_red_list', 'CR')"
        ),
        {"t": site.common_taxon},
    )
    box = tuple(site.square(site.generalised, 5200).bounds)
    frame = read_layer(conn, "occurrences", ExportFilters(bbox_4326=box))
    control = frame[frame.occurrence_id == PREFIX + "common"].iloc[0]
    assert control.generalised_km == 10  # in the secret record's cell: at its centre too
    assert (control.geometry.x, control.geometry.y) == pytest.approx(site.generalised, abs=1e-9)
    exact = read_layer(conn, "occurrences", ExportFilters(bbox_4326=box), audience=Audience.EXACT)
    secret = exact[exact.occurrence_id == PREFIX + "secret"].iloc[0]
    assert (secret.geometry.x, secret.geometry.y) == pytest.approx(site.exact, abs=1e-9)


def test_a_public_export_cannot_overwrite_the_exact_record(conn, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Its generalised rows are refused by name: an upsert on occurrenceID would otherwise put
    the cell's centre in place of the exact point."""
    import sqlalchemy as sa

    from vbis_geo.ingest.load import IngestOptions, ingest_file

    path = tmp_path / "public.dwca.zip"
    box = tuple(site.square(site.generalised, 5200).bounds)
    export_layer(conn, "occurrences", "dwca", path, ExportFilters(bbox_4326=box))
    report = ingest_file(conn, "occurrences", path, IngestOptions(skip_rejected=True))
    refused = [i for i in report.issues if i.field == "dataGeneralizations"]
    assert len(refused) == 1 and "generalised" in refused[0].problem
    exact = conn.execute(
        sa.text("SELECT ST_X(geom), ST_Y(geom) FROM occurrences WHERE occurrence_id = :o"),
        {"o": PREFIX + "secret"},
    ).one()
    assert tuple(exact) == pytest.approx(site.exact, abs=1e-9)
