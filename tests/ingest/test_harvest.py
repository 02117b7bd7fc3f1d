"""Harvesting a remote OGC API Features collection: a real server on loopback (our own
application, pygeoapi on the test database), read page by page through its ``next`` links."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qsl, urlencode

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
    # a WFS layer has no "changed since" filter here: the report says it was read whole
    again = ingest(conn, "wetlands", f"WFS:{mapserver_wfs}?TYPENAME=wetlands", since_field="x")
    assert again.n_read == n and again.n_inserted == again.n_updated == 0
    assert any("read whole" in i.problem for i in again.issues if i.action == "warning")


def test_wfs_feature_type_must_exist(conn, mapserver_wfs: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="no single feature type 'reserves'") as error:
        ingest(conn, "wetlands", f"WFS:{mapserver_wfs}?TYPENAME=reserves")
    assert "ms:wetlands" in (error.value.hint or "")


# -- a province's OGC API Features server, with a request log ---------------------------------
#: Unchanged remote rows last changed long before any harvest of the test.
LONG_AGO = "2024-01-01T00:00:00Z"
_CQL2_SINCE = re.compile(r"^(\w+) > TIMESTAMP\('([^']+)'\)$")


class RemoteCollection:
    """One collection served as OGC API Features on loopback: its features can be edited between
    harvests, and every request is logged with the features it answered."""

    def __init__(self, features: list[dict[str, object]], page_size: int = 2) -> None:
        self.features = features
        self.page_size = page_size
        #: (query parameters, ids of the features answered) per request
        self.requests: list[tuple[dict[str, str], list[str]]] = []
        self.url = ""

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, object]]:
        if path.rstrip("/") != "/collections/facilities/items":
            return 404, {"code": "NotFound"}
        selected = self.features
        if "filter" in query:
            match = _CQL2_SINCE.match(query["filter"])
            if not match or query.get("filter-lang") != "cql2-text":
                return 400, {"code": "InvalidParameterValue", "description": query["filter"]}
            field, since = match.group(1), dt.datetime.fromisoformat(match.group(2))
            selected = [
                f
                for f in selected
                if dt.datetime.fromisoformat(str(f["properties"][field])) > since  # type: ignore[index]
            ]
        offset, limit = int(query.get("offset", 0)), min(int(query["limit"]), self.page_size)
        page = selected[offset : offset + limit]
        self.requests.append((query, [str(f["id"]) for f in page]))
        links = []
        if offset + limit < len(selected):
            rest = {**query, "offset": str(offset + limit)}
            links.append({"rel": "next", "href": f"{self.url}/items?{urlencode(rest)}"})
        return 200, {"type": "FeatureCollection", "features": page, "links": links}

    def fetched(self) -> list[str]:
        """Ids of every feature the server sent, in order."""
        return [i for _, ids in self.requests for i in ids]


@pytest.fixture
def remote(conn):  # type: ignore[no-untyped-def]
    """Five real conservation facilities (new codes), served by a loopback OGC API server."""
    import http.server
    import threading

    rows = conn.execute(
        sa.text(
            "SELECT code, name_vi, facility_type, ST_X(geom) AS x, ST_Y(geom) AS y "
            "FROM conservation_facilities ORDER BY code LIMIT 5"
        )
    ).all()
    assert len(rows) == 5
    collection = RemoteCollection(
        [
            {
                "type": "Feature",
                "id": f"R-{r.code}",
                "geometry": {"type": "Point", "coordinates": [r.x, r.y]},
                "properties": {
                    "code": f"R-{r.code}",
                    "name_vi": r.name_vi,
                    "facility_type": r.facility_type,
                    "updated": LONG_AGO,
                },
            }
            for r in rows
        ]
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path, _, query = self.path.partition("?")
            status, body = collection.answer(path, dict(parse_qsl(query)))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/geo+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collection.url = f"http://127.0.0.1:{server.server_address[1]}/collections/facilities"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collection
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def stored_facilities(conn, prefix: str = "R-") -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(
        conn.execute(
            sa.text("SELECT code, name_vi FROM conservation_facilities WHERE code LIKE :p"),
            {"p": prefix + "%"},
        ).all()
    )


def test_reharvest_with_since_field_fetches_only_the_changed_features(conn, remote) -> None:  # type: ignore[no-untyped-def]
    names = {str(f["id"]): f["properties"]["name_vi"] for f in remote.features}  # type: ignore[index]
    first = ingest(conn, "conservation_facilities", remote.url, since_field="updated")
    assert first.ok and first.written, first.summary()
    # never harvested before: no filter, every feature fetched (page by page) and inserted
    assert all("filter" not in query for query, _ in remote.requests)
    assert len(remote.requests) == 3 and sorted(remote.fetched()) == sorted(names)
    assert (first.n_read, first.n_inserted) == (5, 5)
    assert stored_facilities(conn) == names
    loaded_at = conn.execute(
        sa.text("SELECT loaded_at FROM datasets WHERE code = :c"), {"c": first.dataset_code}
    ).scalar_one()
    # on the remote side, one facility is renamed and one is added, after the harvest
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    renamed = remote.features[1]
    renamed["properties"] = {**renamed["properties"], "name_vi": "Tên mới", "updated": now}  # type: ignore[dict-item]
    added = {
        **remote.features[0],
        "id": "R-NEW",
        "properties": {
            **remote.features[0]["properties"],  # type: ignore[dict-item]
            "code": "R-NEW",
            "name_vi": "Cơ sở mới",
            "updated": now,
        },
    }
    remote.features.append(added)
    remote.requests.clear()

    again = ingest(conn, "conservation_facilities", remote.url, since_field="updated")
    assert again.ok and again.written, again.summary()
    # the server was asked for the rows changed since the previous harvest, and sent only those
    (query, sent), *more = remote.requests
    assert not more
    assert query["filter-lang"] == "cql2-text"
    field, since = _CQL2_SINCE.match(query["filter"]).groups()  # type: ignore[union-attr]
    assert field == "updated"
    assert dt.timedelta(0) <= loaded_at - dt.datetime.fromisoformat(since) < dt.timedelta(seconds=1)
    assert sorted(sent) == sorted([str(renamed["id"]), "R-NEW"])
    assert (again.n_read, again.n_inserted, again.n_updated, again.n_unchanged) == (2, 1, 1, 0)
    # the rows not fetched are kept as they were; the table ends up as the remote layer is
    names[str(renamed["id"])] = "Tên mới"
    names["R-NEW"] = "Cơ sở mới"
    assert stored_facilities(conn) == names
    assert again.dataset_code == first.dataset_code
    assert (
        conn.execute(
            sa.text(
                "SELECT count(*) FROM conservation_facilities WHERE dataset_id = "
                "(SELECT id FROM datasets WHERE code = :c)"
            ),
            {"c": again.dataset_code},
        ).scalar_one()
        == 6
    )


def test_reharvest_with_nothing_changed_fetches_nothing_and_changes_nothing(conn, remote) -> None:  # type: ignore[no-untyped-def]
    assert ingest(conn, "conservation_facilities", remote.url, since_field="updated").written
    before = counts(conn)
    remote.requests.clear()
    again = ingest(conn, "conservation_facilities", remote.url, since_field="updated")
    assert [sent for _, sent in remote.requests] == [[]]
    assert again.ok, again.summary()
    assert (again.n_read, again.n_inserted, again.n_updated) == (0, 0, 0)
    assert "nothing changed since the previous harvest" in again.summary()
    changed = {t for t, v in counts(conn).items() if v != before[t]}
    assert changed <= {"datasets"}  # at most the harvest's own lineage entry


def test_remote_rows_are_validated_like_a_file(conn, remote) -> None:  # type: ignore[no-untyped-def]
    remote.features[1]["geometry"] = {"type": "Point", "coordinates": [100.5018, 13.7563]}
    remote.features[3]["properties"] = {
        **remote.features[3]["properties"],
        "facility_type": "casino",
    }  # type: ignore[dict-item]
    before = counts(conn)
    report = ingest(conn, "conservation_facilities", remote.url)
    assert not report.written and not report.ok
    assert counts(conn) == before
    rejected = {(i.row, i.field): i for i in report.issues if i.action == "rejected"}
    # the rows are the features' numbers in the collection, as for the features of a file
    assert set(rejected) == {(2, "geometry"), (4, "facility_type")}
    assert "outside Vietnam" in rejected[(2, "geometry")].problem
    assert rejected[(2, "geometry")].value == "100.501800 13.756300"
    assert rejected[(4, "facility_type")].value == "casino"
    assert "rescue_centre" in rejected[(4, "facility_type")].expected
    # the same report a file gets, line by line
    assert "4,facility_type,rejected," in report.csv_text()
    assert report.n_rejected == 2 and report.n_read == 5
