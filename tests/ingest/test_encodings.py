"""Shapefiles from provinces in UTF-8, Windows-1258 and the legacy TCVN3/VNI encodings."""

from __future__ import annotations

from pathlib import Path

import fiona
import pytest
import shapely
import sqlalchemy as sa

from tests.ingest.helpers import ingest
from vbis_geo.ingest.encoding import encode

pytestmark = pytest.mark.db

NAMES = ["Vườn quốc gia Cúc Phương", "Khu bảo tồn thiên nhiên Pù Mát", "Vườn quốc gia Bạch Mã"]


def legacy_shapefile(folder: Path, encoding: str, cpg: str | None) -> Path:
    """A Shapefile whose .dbf holds the names as ``encoding`` bytes."""
    path = folder / "kbt.shp"
    schema = {
        "geometry": "Polygon",
        "properties": {"ma": "str:10", "ten": "str:80", "loai": "str:40"},
    }
    # Latin-1 maps each byte to one character: the .dbf gets exactly the bytes given
    with fiona.open(
        path, "w", driver="ESRI Shapefile", schema=schema, crs="EPSG:4326", encoding="latin1"
    ) as dst:
        for i, name in enumerate(NAMES):
            box = (
                shapely.box(105.5 + i, 20.2, 105.6 + i, 20.3)
                if i < 2
                else shapely.box(107.8, 16.1, 107.9, 16.2)
            )
            dst.write(
                {
                    "geometry": shapely.geometry.mapping(box),
                    "properties": {
                        "ma": f"E{i}",
                        "ten": encode(name, encoding).decode("latin1"),
                        "loai": "national park",
                    },
                }
            )
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def stored_names(conn, report) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        conn.execute(
            sa.text(
                "SELECT name_vi FROM protected_areas WHERE dataset_id = (SELECT id FROM datasets "
                "WHERE code = :c) ORDER BY code"
            ),
            {"c": report.dataset_code},
        ).scalars()
    )


@pytest.mark.parametrize(
    ("encoding", "cpg"),
    [("utf-8", "UTF-8"), ("cp1258", "1258"), ("cp1258", None), ("tcvn3", None), ("vni", None)],
)
def test_names_decoded(conn, tmp_path: Path, encoding: str, cpg: str | None) -> None:
    path = legacy_shapefile(tmp_path, encoding, cpg)
    report = ingest(conn, "protected_areas", path)
    assert report.written, report.summary()
    assert report.encoding == encoding
    assert stored_names(conn, report) == NAMES
    legacy = [i for i in report.issues if "legacy Vietnamese encoding" in i.problem]
    assert bool(legacy) == (encoding in ("tcvn3", "vni"))


def test_cpg_that_lies_is_reported(conn, tmp_path: Path) -> None:
    path = legacy_shapefile(tmp_path, "cp1258", "UTF-8")
    report = ingest(conn, "protected_areas", path)
    assert report.written and stored_names(conn, report) == NAMES
    (note,) = [i for i in report.issues if "declares utf-8" in i.problem]
    assert "cp1258" in note.problem
