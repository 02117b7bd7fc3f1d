"""``GET /api/export/<layer>``: each asker gets the published rows it may see, as a file.

Around the sensitive record of tests/sensitive_site.py: the public (and an expert without the
right to exact locations) gets it at its generalised point, saying so in dataGeneralizations and
informationWithheld, with no exact coordinate anywhere in the file's bytes (the members of a
Darwin Core Archive unzipped); a narrow bbox around the exact spot does not find it. The admin
and an expert granted exact locations get the exact point. No one gets the draft.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer

from tests import sensitive_site
from tests.sensitive_site import PREFIX, SEES_EXACT

pytestmark = pytest.mark.db

site = sensitive_site.site
headers = sensitive_site.headers
ASKERS = list(SEES_EXACT)
FORMATS = ("geojson", "csv", "gpkg", "dwca")
TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)


def bbox_text(bounds) -> str:  # type: ignore[no-untyped-def]
    return ",".join(f"{v!r}" for v in bounds)


def export(client, sent, layer="occurrences", **args):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/export/{layer}", query_string=args, headers=sent)
    assert response.status_code == 200, response.get_data()[:500]
    return response


def read(response, fmt: str, tmp_path: Path) -> pd.DataFrame:
    """The export as a table with ``occurrenceID``, ``lon``, ``lat`` and the Darwin Core
    generalisation terms."""
    data = response.get_data()
    if fmt == "dwca":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            table = pd.read_csv(zf.open("occurrence.txt"), sep="\t", dtype=str)
        return table.assign(
            lon=table.decimalLongitude.astype(float), lat=table.decimalLatitude.astype(float)
        )
    if fmt == "csv":
        table = pd.read_csv(io.BytesIO(data), dtype=str)
        return table.assign(
            lon=table.decimalLongitude.astype(float), lat=table.decimalLatitude.astype(float)
        )
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(data)
    frame = gpd.read_file(path)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    if len(frame) and (frame.geom_type == "Point").all():
        table = table.assign(lon=frame.geometry.x, lat=frame.geometry.y)
    return table


def texts(response, fmt: str) -> list[bytes]:
    """The bytes to search: the file, or each member of an archive."""
    data = response.get_data()
    if fmt != "dwca":
        return [data]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [zf.read(name) for name in zf.namelist()]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("asker", ASKERS)
def test_an_export_of_the_site(client, site, headers, asker, fmt, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cell = site.square(site.generalised, 5200).bounds  # the 10 km cell and a little more
    response = export(client, headers[asker], format=fmt, bbox=bbox_text(cell))
    audience = "exact" if SEES_EXACT[asker] else "public"
    assert response.headers["X-Export-Audience"] == audience
    table = read(response, fmt, tmp_path).set_index("occurrenceID")
    assert len(table) == int(response.headers["X-Export-Rows"])
    assert PREFIX + "draft" not in table.index  # drafts never
    secret = table.loc[PREFIX + "secret"]
    control = table.loc[PREFIX + "common"]
    assert control.locality == "hang đá vôi sau trạm kiểm lâm"  # not sensitive: as recorded
    if SEES_EXACT[asker]:
        assert (secret.lon, secret.lat) == pytest.approx(site.exact, abs=1e-9)
        assert secret.locality == "hang đá vôi sau trạm kiểm lâm"
        assert fmt != "dwca" or pd.isna(secret.dataGeneralizations)
        assert response.headers["Cache-Control"] == "private"
        return
    assert (secret.lon, secret.lat) == pytest.approx(site.generalised, abs=1e-9)
    assert pd.isna(secret.locality) and pd.isna(secret.occurrenceRemarks)
    assert "centre of a 10 km cell" in secret.dataGeneralizations
    assert "EPSG:6933" in secret.dataGeneralizations
    assert "locality" in secret.informationWithheld
    assert float(secret.coordinateUncertaintyInMeters) >= 10_000 * 2**0.5 / 2
    assert pd.isna(control.dataGeneralizations) or control.dataGeneralizations == ""
    for text in texts(response, fmt):
        for spelling in site.exact_texts():
            assert spelling not in text, (fmt, spelling)
        assert "sau trạm kiểm lâm".encode() in text or fmt == "dwca"  # the control's locality


@pytest.mark.parametrize("asker", ASKERS)
def test_a_narrow_bbox_finds_the_point_the_asker_sees(
    client, site, headers, asker, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    tiny = bbox_text(site.tiny().bounds)
    table = read(export(client, headers[asker], format="csv", bbox=tiny), "csv", tmp_path)
    found = set(table.occurrenceID)
    assert PREFIX + "common" in found and PREFIX + "draft" not in found
    assert (PREFIX + "secret" in found) is SEES_EXACT[asker]
    # and the same filter through a protected area: the test area around the exact point
    table = read(
        export(client, headers[asker], format="csv", protected_area="PA-TEST-EXACT"),
        "csv",
        tmp_path,
    )
    assert (PREFIX + "secret" in set(table.occurrenceID)) is SEES_EXACT[asker]


def test_the_archive_declares_its_terms(client, site, headers) -> None:  # type: ignore[no-untyped-def]
    cell = bbox_text(site.square(site.generalised, 5200).bounds)
    public = export(client, headers["public"], format="dwca", bbox=cell).get_data()
    with zipfile.ZipFile(io.BytesIO(public)) as zf:
        meta = zf.read("meta.xml").decode()
        eml = zf.read("eml.xml").decode()
        header = zf.read("occurrence.txt").decode().splitlines()[0].split("\t")
    for term in ("dataGeneralizations", "informationWithheld", "coordinateUncertaintyInMeters"):
        assert f'term="http://rs.tdwg.org/dwc/terms/{term}"' in meta
        assert f'index="{header.index(term)}"' in meta.split(term)[0].rsplit("<", 1)[-1]
    assert "generalised" in eml and "dataGeneralizations" in eml
    exact = export(client, headers["admin"], format="dwca", bbox=cell).get_data()
    with zipfile.ZipFile(io.BytesIO(exact)) as zf:
        assert "not for publication" in zf.read("eml.xml").decode()


def test_other_layers_hold_published_rows_only(client, site, headers, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for asker in ("public", "admin"):
        response = export(client, headers[asker], "protected_areas", format="geojson")
        codes = set(read(response, "geojson", tmp_path).code)
        assert {"PA-TEST-EXACT", "PA-TEST-GENERAL"} <= codes
        assert "PA-TEST-DRAFT" not in codes


def test_bad_parameters_name_themselves(client, site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "/api/export/occurrences?format=shp": (400, "format='shp'"),
        "/api/export/occurrences?format=xml": (400, "format='xml'"),
        "/api/export/occurrences?bbox=1,2,3": (400, "bbox='1,2,3'"),
        "/api/export/occurrences?bbox=106,21,105,22": (400, "bbox='106,21,105,22'"),
        "/api/export/occurrences?bbox=nan,1,2,3": (400, "bbox="),
        "/api/export/occurrences?province=Atlantis": (400, "province='Atlantis': no province"),
        "/api/export/occurrences?protected_area=PA-NOPE": (400, "protected_area='PA-NOPE'"),
        "/api/export/occurrences?protected_area=PA-TEST-DRAFT": (400, "protected_area="),
        "/api/export/occurrences?taxon=Nonexistus": (400, "taxon='Nonexistus': no taxon"),
        "/api/export/wetlands?taxon=Primates": (400, "taxon: wetlands has no taxa"),
        "/api/export/wetlands?format=dwca": (400, "format=dwca"),
        "/api/export/occurrences?limit=5": (400, "unknown parameter(s) limit"),
        "/api/export/occurrences?province=" + "x" * 201: (400, "province: 201 characters"),
        "/api/export/occurrences?taxon=A%00": (400, "taxon='A\\x00': a NUL character"),
        "/api/export/taxa": (404, "no layer 'taxa' to export"),
        "/api/export/nowhere": (404, "no layer 'nowhere'"),
    }
    for url, (status, words) in cases.items():
        response = client.get(url)
        assert response.status_code == status, (url, response.get_data()[:300])
        assert words in response.json["description"], (url, response.json)
    from vbis_geo.web import exports

    monkeypatch.setattr(exports, "MAX_ROWS", 10)
    response = client.get("/api/export/occurrences?format=csv")
    assert response.status_code == 400
    assert "the limit is 10" in response.json["description"]


def test_an_empty_export_is_a_file(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A bbox at sea: no row, still a file of the format asked for."""
    for fmt in FORMATS:
        response = export(client, {}, format=fmt, bbox="112.0,8.0,112.1,8.1")
        assert response.headers["X-Export-Rows"] == "0"
        assert len(read(response, fmt, tmp_path)) == 0
