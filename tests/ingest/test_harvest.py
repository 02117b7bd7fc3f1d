"""Harvesting a remote OGC API Features collection: a real server on loopback (our own
application, pygeoapi on the test database), read page by page through its ``next`` links."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.ingest.helpers import counts, ingest
from vbis_geo.errors import InvalidInput
from vbis_geo.ingest import harvest
from vbis_geo.settings import PROJECT_DIR

pytestmark = pytest.mark.db


def test_harvest_is_incremental(conn, live_server: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # small pages, so that the harvest follows many next links
    monkeypatch.setattr(harvest, "PAGE_SIZE", 7)
    url = f"{live_server}/ogc/collections/protected_areas"
    n = conn.execute(sa.text("SELECT count(*) FROM protected_areas")).scalar_one()
    first = ingest(conn, "protected_areas", url)
    assert first.ok, first.summary()
    # the server reads the same database: every row is already there, unchanged
    assert (first.n_read, first.n_inserted, first.n_updated, first.n_unchanged) == (n, 0, 0, n)
    assert first.dataset_code == f"harvest:protected_areas:{harvest.source_code(url)}"
    # a local edit (this transaction only) differs from the remote row: one update, no more
    conn.execute(sa.text("UPDATE protected_areas SET name_en = 'edited' WHERE code = 'PA-BA-BE'"))
    again = ingest(conn, "protected_areas", url)
    assert (again.n_inserted, again.n_updated, again.n_unchanged) == (0, 1, n - 1)
    assert (
        conn.execute(
            sa.text("SELECT name_en FROM protected_areas WHERE code = 'PA-BA-BE'")
        ).scalar_one()
        != "edited"
    )
    dataset = conn.execute(
        sa.text("SELECT source_name, lineage FROM datasets WHERE code = :c"),
        {"c": again.dataset_code},
    ).one()
    assert dataset.source_name == url and "OGC API Features" in dataset.lineage


def test_harvest_of_a_missing_collection(conn, live_server: str) -> None:  # type: ignore[no-untyped-def]
    before = counts(conn)
    with pytest.raises(InvalidInput, match="answered 404"):
        ingest(conn, "wetlands", f"{live_server}/ogc/collections/no_such_layer")
    with pytest.raises(InvalidInput, match="cannot be reached"):
        ingest(conn, "wetlands", "http://127.0.0.1:9/ogc/collections/wetlands")
    assert counts(conn) == before


MAPFILE = """MAP
  NAME "province_wfs"
  EXTENT 102 6 118 24
  PROJECTION "init=epsg:4326" END
  WEB
    METADATA
      "wfs_title" "A province's wetlands"
      "wfs_onlineresource" "{url}?"
      "wfs_srs" "EPSG:4326"
      "wfs_enable_request" "*"
    END
  END
  LAYER
    NAME "wetlands"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE OGR
    CONNECTION "{data}"
    PROJECTION "init=epsg:4326" END
    METADATA
      "wfs_title" "wetlands"
      "gml_include_items" "all"
      "gml_featureid" "code"
      "gml_types" "auto"
    END
  END
END
"""


@pytest.fixture
def mapserver_wfs(conn, tmp_path):  # type: ignore[no-untyped-def]
    """MapServer (Debian's cgi-mapserver) serving a WFS of the wetlands on loopback."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import free_port
    from vbis_geo.export import export_layer

    mapserv = shutil.which("mapserv") or "/usr/lib/cgi-bin/mapserv"
    data = tmp_path / "wetlands.geojson"
    export_layer(conn, "wetlands", "geojson", data)
    port = free_port()
    url = f"http://127.0.0.1:{port}/wfs"
    (tmp_path / "wfs.map").write_text(MAPFILE.format(url=url, data=data))
    (tmp_path / "mapserver.conf").write_text(
        'CONFIG\n  ENV\n    MS_MAP_PATTERN "^' + str(tmp_path) + '"\n  END\nEND\n'
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ingest.cgi_server",
            str(port),
            mapserv,
            f"MAPSERVER_CONFIG_FILE={tmp_path / 'mapserver.conf'}",
            f"QUERY_PREFIX=map={tmp_path / 'wfs.map'}",
        ],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_harvest_a_wfs_layer(conn, mapserver_wfs: str) -> None:  # type: ignore[no-untyped-def]
    n = conn.execute(sa.text("SELECT count(*) FROM wetlands")).scalar_one()
    names = dict(conn.execute(sa.text("SELECT code, name_vi FROM wetlands")).all())
    report = ingest(conn, "wetlands", f"WFS:{mapserver_wfs}?TYPENAME=wetlands")
    assert report.ok, report.summary()
    assert report.n_read == n and report.n_inserted == 0
    assert report.dataset_code.startswith("harvest:wetlands:")
    # the attributes crossed GML unchanged (geometries may carry MapServer's rounding)
    assert dict(conn.execute(sa.text("SELECT code, name_vi FROM wetlands")).all()) == names


def test_wfs_feature_type_must_exist(conn, mapserver_wfs: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="no single feature type 'reserves'") as error:
        ingest(conn, "wetlands", f"WFS:{mapserver_wfs}?TYPENAME=reserves")
    assert "ms:wetlands" in (error.value.hint or "")
