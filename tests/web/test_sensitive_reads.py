"""Sensitive species and drafts on every read of ``/ogc`` (issue 6): the public, and an editor
without the right to exact locations, read a sensitive record at the centre of its cell and no
closer, in items, filters, counts and tiles at every zoom; the national admin reads it exactly;
drafts are invisible to everyone; a change of status shows in the very next request.

The data are committed (the app reads through its own connections) by a fixture that removes
them afterwards, in a corner of Điện Biên where the demo data have no record within tens of
kilometres (checked), so that what a tile shows near the record can only come from it. The
expected cell centres are computed here with pyproj, independently of the database.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Iterator

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from pyproj import Transformer

from tests.conftest import make_token
from tests.db.test_public_locations import expected_centre

pytestmark = pytest.mark.db

#: the level of a taxon critically endangered on the IUCN Red List (migration 0009)
LEVEL_KM = 10
TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
FROM_EQUAL_AREA = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)
FROM_MERCATOR = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
WORLD_M = 40075016.685578488
EXTENT = 4096
GRID = 64


def in_cell(lon: float, lat: float, dx_m: float, dy_m: float) -> tuple[float, float]:
    """The point ``dx_m``, ``dy_m`` from the south-west corner of the 10 km cell of lon/lat."""
    x, y = TO_EQUAL_AREA.transform(lon, lat)
    size = LEVEL_KM * 1000.0
    x0, y0 = math.floor(x / size) * size, math.floor(y / size) * size
    return FROM_EQUAL_AREA.transform(x0 + dx_m, y0 + dy_m)


#: Điện Biên, about 50 km from the nearest demo record
PLACE = (103.05, 21.45)
#: the record, near the south-west corner of its cell (about 6 km from the centre) ...
EXACT = in_cell(*PLACE, 700.0, 900.0)
#: ... where it may move without leaving its cell (the opposite corner)
MOVED = in_cell(*PLACE, 9300.0, 9100.0)
CENTRE = expected_centre(*EXACT, LEVEL_KM)
#: a draft, and a record whose status changes, in the same empty corner
DRAFT_AT = (103.05, 21.80)
CHANGING_AT = (103.25, 21.25)
LOCALITY = "hang đá sau thác, cách bản 300 m về phía bắc"
PREFIX = "test-sensitive-reads:"


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two lon/lat points (equirectangular: exact enough within 20 km)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(b[0] - a[0]) * math.cos(lat) * 6_371_000
    dy = math.radians(b[1] - a[1]) * 6_371_000
    return math.hypot(dx, dy)


@dataclasses.dataclass(frozen=True)
class Placed:
    record: int
    draft: int
    protected_area: int
    #: a point inside the draft protected area
    area_point: tuple[float, float]
    province: str


def _record(conn, taxon: int, name: str, point: tuple[float, float], status: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom, "
                "locality, occurrence_remarks, coordinate_uncertainty_m, review_status) "
                "VALUES (:oid, :taxon, 'HumanObservation', "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), :locality, 'tổ trên vách đá', 20, "
                ":status) RETURNING id"
            ),
            {
                "oid": PREFIX + name,
                "taxon": taxon,
                "x": point[0],
                "y": point[1],
                "locality": LOCALITY,
                "status": status,
            },
        ).scalar_one()
    )


def _taxon(conn, name: str, category: str) -> int:  # type: ignore[no-untyped-def]
    taxon = conn.execute(
        sa.text(
            "INSERT INTO taxa (rank, scientific_name, taxonomic_status) "
            "VALUES ('species', :n, 'accepted') RETURNING id"
        ),
        {"n": name},
    ).scalar_one()
    conn.execute(
        sa.text(
            "INSERT INTO taxon_statuses (taxon_id, list, category) VALUES (:t, 'iucn_red_list', :c)"
        ),
        {"t": taxon, "c": category},
    )
    return int(taxon)


def _remove(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM occurrences WHERE occurrence_id LIKE :p"), {"p": PREFIX + "%"}
        )
        taxa = "SELECT id FROM taxa WHERE scientific_name LIKE 'Testus lectoris%'"
        conn.execute(sa.text(f"DELETE FROM taxon_statuses WHERE taxon_id IN ({taxa})"))  # noqa: S608
        conn.execute(sa.text(f"DELETE FROM taxa WHERE id IN ({taxa})"))  # noqa: S608


@pytest.fixture(scope="module")
def placed(engine) -> Iterator[Placed]:  # type: ignore[no-untyped-def]
    """A record of a critically endangered taxon at :data:`EXACT`, a draft record at
    :data:`DRAFT_AT` and a protected area made a draft, committed; all undone afterwards."""
    _remove(engine)
    with engine.begin() as conn:
        nearest = conn.execute(
            sa.text(
                "SELECT min(ST_Distance(geom::geography, "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography)) FROM occurrences "
                "WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.5)"
            ),
            {"x": PLACE[0], "y": PLACE[1]},
        ).scalar()
        assert nearest is None or nearest > 35_000, "the test needs an empty corner"
        critical = _taxon(conn, "Testus lectoris", "CR")
        common = _taxon(conn, "Testus lectoris communis", "LC")
        record = _record(conn, critical, "critical", EXACT, "published")
        draft = _record(conn, common, "draft", DRAFT_AT, "draft")
        area, x, y = conn.execute(
            sa.text(
                "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) AS p "
                "FROM protected_areas WHERE code = 'PA-CUC-PHUONG') AS s"
            )
        ).one()
        conn.execute(
            sa.text("UPDATE protected_areas SET review_status = 'draft' WHERE id = :id"),
            {"id": area},
        )
        province = conn.execute(
            sa.text(
                "SELECT code FROM admin_units WHERE valid_to IS NULL "
                "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": EXACT[0], "y": EXACT[1]},
        ).scalar_one()
    try:
        yield Placed(record, draft, int(area), (float(x), float(y)), str(province))
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE protected_areas SET review_status = 'published' WHERE id = :id"),
                {"id": area},
            )
        _remove(engine)


@pytest.fixture
def who(request, make_account, engine, placed) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The headers of the request's asker: the public, a provincial editor of the record's
    province without ``exact_locations``, or the national admin."""
    from vbis_geo.auth.store import Grant

    if request.param == "public":
        return {}
    if request.param == "editor":
        account = make_account(
            "sensitive-editor", "provincial_editor", grants=[Grant("province", placed.province)]
        )
    else:
        account = make_account("sensitive-admin", "national_admin")
    return {"Authorization": f"Bearer {make_token(engine, account.id)}"}


PUBLIC_ONES = ["public", "editor"]
EVERYONE = ["public", "editor", "admin"]


def get(client, path: str, headers: dict[str, str], **params):  # type: ignore[no-untyped-def]
    return client.get(f"/ogc/collections/{path}", query_string=params, headers=headers)


def point_of(feature: dict) -> tuple[float, float]:  # type: ignore[type-arg]
    x, y = feature["geometry"]["coordinates"]
    return float(x), float(y)


def around(point: tuple[float, float], half_deg: float) -> str:
    x, y = point
    return f"{x - half_deg},{y - half_deg},{x + half_deg},{y + half_deg}"


def tiny_polygon(point: tuple[float, float], half_deg: float = 0.0001) -> str:
    x0, y0, x1, y1 = (float(v) for v in around(point, half_deg).split(","))
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


# -- items ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", EVERYONE, indirect=True)
def test_an_item_is_at_its_cell_centre_for_all_but_those_with_the_right(
    client, placed, who, request
) -> None:  # type: ignore[no-untyped-def]
    exact_audience = request.node.callspec.params["who"] == "admin"
    response = get(client, f"occurrences/items/{placed.record}", who, f="json")
    assert response.status_code == 200
    feature = response.json
    listed = get(client, "occurrences/items", who, f="json", bbox=around(CENTRE, 0.2)).json
    (in_list,) = [f for f in listed["features"] if f["id"] == placed.record]
    for shown in (feature, in_list):
        properties = shown["properties"]
        if exact_audience:
            assert point_of(shown) == pytest.approx(EXACT, abs=1e-9)
            assert properties["generalised_km"] == 0
            assert properties["locality"] == LOCALITY
        else:
            assert point_of(shown) == pytest.approx(CENTRE, abs=1e-7)
            assert distance_m(point_of(shown), EXACT) > 5_000
            assert properties["generalised_km"] == LEVEL_KM
            assert properties["locality"] is None and properties["occurrence_remarks"] is None
            assert properties["coordinate_uncertainty_m"] >= LEVEL_KM * 1000 * math.sqrt(2) / 2


@pytest.mark.parametrize("who", EVERYONE, indirect=True)
def test_filters_find_a_sensitive_record_only_where_its_audience_sees_it(
    client, placed, who, request
) -> None:  # type: ignore[no-untyped-def]
    """A bbox narrowed to a few metres around the exact point, a CQL2 S_INTERSECTS with a tiny
    polygon there (text and JSON), and a projected bbox find nothing for the public; the same
    around the cell centre find the record; numberMatched agrees with what is returned."""
    exact_audience = request.node.callspec.params["who"] == "admin"
    mx, my = TO_MERCATOR.transform(*EXACT)

    def found(**params: str) -> list[int]:
        body = get(client, "occurrences/items", who, f="json", limit=50, **params).json
        ids = [f["id"] for f in body["features"]]
        assert body["numberMatched"] == len(ids), params
        hits = get(client, "occurrences/items", who, f="json", resulttype="hits", **params).json
        assert hits["numberMatched"] == len(ids), params
        return ids

    def polygon_json(point: tuple[float, float]) -> str:
        x0, y0, x1, y1 = (float(v) for v in around(point, 0.0001).split(","))
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        return json.dumps({"op": "s_intersects", "args": [{"property": "geometry"}, geometry]})

    at_exact = [
        found(bbox=around(EXACT, 0.00005)),  # about 5 m either side
        found(filter=f"S_INTERSECTS(geometry, {tiny_polygon(EXACT)})"),
        found(filter=polygon_json(EXACT), **{"filter-lang": "cql2-json"}),
        found(
            bbox=f"{mx - 5},{my - 5},{mx + 5},{my + 5}",
            **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
        ),
    ]
    at_centre = [
        found(bbox=around(CENTRE, 0.00005)),
        found(filter=f"S_INTERSECTS(geometry, {tiny_polygon(CENTRE)})"),
        found(filter=polygon_json(CENTRE), **{"filter-lang": "cql2-json"}),
    ]
    if exact_audience:
        assert at_exact == [[placed.record]] * 4 and at_centre == [[]] * 3
    else:
        assert at_exact == [[]] * 4 and at_centre == [[placed.record]] * 3
    # a property the public view withholds cannot be probed either
    by_locality = found(filter=f"locality = '{LOCALITY}'")
    assert by_locality == ([placed.record] if exact_audience else [])


def test_a_cursor_is_valid_for_its_own_audience_only(client, placed, make_account, engine) -> None:  # type: ignore[no-untyped-def]
    admin = make_account("sensitive-cursor-admin", "national_admin")
    headers = {"Authorization": f"Bearer {make_token(engine, admin.id)}"}
    url = "/ogc/collections/occurrences/items"
    for made_for, used_by in ((headers, {}), ({}, headers)):
        body = client.get(url, query_string={"f": "json", "limit": 2}, headers=made_for).json
        (href,) = [link["href"] for link in body["links"] if link["rel"] == "next"]
        cursor = href.split("cursor=")[1]
        params = {"f": "json", "limit": 2, "cursor": cursor}
        assert client.get(url, query_string=params, headers=made_for).status_code == 200
        refused = client.get(url, query_string=params, headers=used_by)
        assert refused.status_code == 400 and "cursor" in refused.json["description"]


@pytest.mark.parametrize("who", PUBLIC_ONES, indirect=True)
def test_no_public_answer_carries_the_exact_coordinates(client, placed, who) -> None:  # type: ignore[no-untyped-def]
    texts = {f"{value:.{digits}f}" for value in EXACT for digits in (4, 5, 6)}
    x, y = TO_MERCATOR.transform(*EXACT)
    texts |= {f"{x:.0f}", f"{y:.0f}"}  # in EPSG:3857, to the metre
    bodies = {
        "item": get(client, f"occurrences/items/{placed.record}", who, f="json"),
        "item as html": get(client, f"occurrences/items/{placed.record}", who, f="html"),
        "items": get(client, "occurrences/items", who, f="json", bbox=around(CENTRE, 0.2)),
        "items as csv": get(client, "occurrences/items", who, f="csv", bbox=around(CENTRE, 0.2)),
        "items as html": get(client, "occurrences/items", who, f="html", bbox=around(CENTRE, 0.2)),
        "items in EPSG:4326": get(
            client, "occurrences/items", who, f="json", bbox=around(CENTRE, 0.2),
            crs="http://www.opengis.net/def/crs/EPSG/0/4326",
        ),
        "items in EPSG:3857": get(
            client, "occurrences/items", who, f="json", bbox=around(CENTRE, 0.2),
            crs="http://www.opengis.net/def/crs/EPSG/0/3857",
        ),
    }  # fmt: skip
    for name, response in bodies.items():
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        assert PREFIX + "critical" in body, name  # the record is there ...
        assert not [t for t in texts if t in body], name  # ... but not where it is
        assert LOCALITY not in body, name


# -- counts and drafts ---------------------------------------------------------------------------
@pytest.mark.parametrize("who", EVERYONE, indirect=True)
def test_drafts_are_invisible_to_everyone(client, engine, placed, who, request) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        published = {
            table: conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE review_status = 'published'")  # noqa: S608
            ).scalar_one()
            for table in ("occurrences", "protected_areas")
        }
        total = conn.execute(sa.text("SELECT count(*) FROM protected_areas")).scalar_one()
    assert total == published["protected_areas"] + 1
    for table, n in published.items():
        assert get(client, f"{table}/items", who, f="json", limit=1).json["numberMatched"] == n
        hits = get(client, f"{table}/items", who, f="json", resulttype="hits").json
        assert hits["numberMatched"] == n
    assert get(client, f"occurrences/items/{placed.draft}", who, f="json").status_code == 404
    near = get(client, "occurrences/items", who, f="json", bbox=around(DRAFT_AT, 0.1)).json
    assert near["features"] == [] and near["numberMatched"] == 0
    assert get(client, f"protected_areas/items/{placed.protected_area}", who).status_code == 404
    names = get(client, "protected_areas/items", who, f="json", limit=1000).json["features"]
    assert placed.protected_area not in {f["id"] for f in names}
    # tiles: the draft record at no zoom, the draft area neither from the generalised bands
    # (z8) nor from the table (z14)
    admin = request.node.callspec.params["who"] == "admin"
    view = "published_occurrences" if admin else "public_occurrences"
    for z in range(0, 15):
        x, y = tile_xy(DRAFT_AT, z)
        decoded = features(tile(client, "occurrences", DRAFT_AT, z, who), z, x, y)
        if z > 9:
            assert placed.draft not in {f.id for f in decoded}
        else:  # counts of the view, which has no drafts; from zoom 5 none near the draft
            counts = grid_counts(decoded, z)
            assert counts == view_counts(engine, view, z, x, y)
            assert z < 5 or cell_xy(DRAFT_AT, z) not in counts
    with engine.connect() as conn:  # a published area: the tiles do show areas
        other, x, y = conn.execute(
            sa.text(
                "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) AS p "
                "FROM protected_areas WHERE review_status = 'published' ORDER BY code LIMIT 1) s"
            )
        ).one()
    for z in (8, 14):
        xy = tile_xy(placed.area_point, z)
        decoded = features(tile(client, "protected_areas", placed.area_point, z, who), z, *xy)
        assert placed.protected_area not in {f.id for f in decoded}
        decoded = features(tile(client, "protected_areas", (x, y), z, who), z, *tile_xy((x, y), z))
        assert other in {f.id for f in decoded}


# -- tiles ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TileFeature:
    lon: float
    lat: float
    id: int | None
    count: int | None


def tile_xy(point: tuple[float, float], z: int, cells: int = 1) -> tuple[int, int]:
    """The WebMercatorQuad tile (or grid cell, with ``cells`` per tile side) of a point."""
    n = 2**z * cells
    lon, lat = point
    rad = math.radians(lat)
    x = math.floor((lon + 180) / 360 * n)
    y = math.floor((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return x, y


def cell_xy(point: tuple[float, float], z: int) -> tuple[int, int]:
    return tile_xy(point, z, GRID)


def tile(client, collection: str, point: tuple[float, float], z: int, headers):  # type: ignore[no-untyped-def]
    x, y = tile_xy(point, z)
    response = client.get(
        f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt", headers=headers
    )
    assert response.status_code == 200
    return response.data


def features(data: bytes, z: int, x: int, y: int) -> list[TileFeature]:
    """The features of a tile's one layer, at lon/lat."""
    side = WORLD_M / 2**z
    found = []
    for layer in mapbox_vector_tile.decode(data, default_options={"y_coord_down": True}).values():
        for feature in layer["features"]:
            geometry = feature["geometry"]
            points = (
                [geometry["coordinates"]]
                if geometry["type"] == "Point"
                else geometry["coordinates"]
                if geometry["type"] == "MultiPoint"
                else [geometry["coordinates"][0][0]]  # a polygon: only its id is used
            )
            for px, py in points:
                mx = -WORLD_M / 2 + (x + px / EXTENT) * side
                my = WORLD_M / 2 - (y + py / EXTENT) * side
                lon, lat = FROM_MERCATOR.transform(mx, my)
                properties = feature["properties"]
                found.append(TileFeature(lon, lat, feature.get("id"), properties.get("count")))
    return found


def grid_counts(decoded: list[TileFeature], z: int) -> dict[tuple[int, int], int]:
    """A grid tile's counts by cell (each feature is at its cell's centre)."""
    return {cell_xy((f.lon, f.lat), z): int(f.count or 0) for f in decoded}


def view_counts(engine, view: str, z: int, x: int, y: int) -> dict[tuple[int, int], int]:  # type: ignore[no-untyped-def]
    """The records of ``view`` in the cells of tile z/x/y, counted here from their points."""
    side = WORLD_M / 2**z
    west, north = FROM_MERCATOR.transform(-WORLD_M / 2 + x * side, WORLD_M / 2 - y * side)
    east, south = FROM_MERCATOR.transform(
        -WORLD_M / 2 + (x + 1) * side, WORLD_M / 2 - (y + 1) * side
    )
    with engine.connect() as conn:
        points = conn.execute(
            sa.text(
                f"SELECT ST_X(geom), ST_Y(geom) FROM publish.{view} "  # noqa: S608
                "WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
            ),
            {"w": west - 0.01, "s": south - 0.01, "e": east + 0.01, "n": north + 0.01},
        ).all()
    cells = Counter(cell_xy((lon, lat), z) for lon, lat in points)
    first = (x * GRID, y * GRID)
    return {
        cell: n
        for cell, n in cells.items()
        if first[0] <= cell[0] < first[0] + GRID and first[1] <= cell[1] < first[1] + GRID
    }


@pytest.mark.parametrize("who", EVERYONE, indirect=True)
def test_tiles_place_a_sensitive_record_no_more_precisely_than_its_cell(
    client, engine, placed, who, request
) -> None:  # type: ignore[no-untyped-def]
    """z0-z14 through the record. Grid zooms (0-9): every cell's count is the count, made here
    from the audience's view, of its records: the public's record is counted in the cell of
    its centre, never of its exact point. Point zooms (10-14): the public's record is at the
    centre (within the tile's pixel), the admin's at its exact point. For the public, no
    feature within the cell's size of the exact point lies nearer to it than to the centre
    (at zooms whose grid cells are smaller than a third of the record's cell: coarser cells can
    lie anywhere near both)."""
    exact_audience = request.node.callspec.params["who"] == "admin"
    view = "published_occurrences" if exact_audience else "public_occurrences"
    shown_at = EXACT if exact_audience else CENTRE
    for z in range(0, 15):
        decoded: list[TileFeature] = []
        for point in {tile_xy(EXACT, z): EXACT, tile_xy(CENTRE, z): CENTRE}.values():
            x, y = tile_xy(point, z)
            in_tile = features(tile(client, "occurrences", point, z, who), z, x, y)
            decoded += in_tile
            if z <= 9:
                assert grid_counts(in_tile, z) == view_counts(engine, view, z, x, y), z
        pixel_m = WORLD_M / 2**z / EXTENT * math.cos(math.radians(EXACT[1]))
        if z <= 9:
            counts = grid_counts(decoded, z)
            assert counts.get(cell_xy(shown_at, z), 0) >= 1, z
            # from zoom 5 (cells under 20 km) no other record shares the cells near it
            if z >= 5 and cell_xy(EXACT, z) != cell_xy(CENTRE, z):
                hidden = CENTRE if exact_audience else EXACT
                assert cell_xy(hidden, z) not in counts, z
        else:  # (twice when the other tile's buffer holds it too)
            mine = [f for f in decoded if f.id == placed.record]
            assert mine, z
            for f in mine:
                assert distance_m((f.lon, f.lat), shown_at) <= 1.5 * pixel_m, z
        cell_m = WORLD_M / 2**z / GRID * math.cos(math.radians(EXACT[1]))
        if not exact_audience and (z > 9 or cell_m < LEVEL_KM * 1000 / 3):
            near = [f for f in decoded if distance_m((f.lon, f.lat), EXACT) < LEVEL_KM * 1000]
            assert near, z
            for f in near:
                assert distance_m((f.lon, f.lat), CENTRE) <= distance_m((f.lon, f.lat), EXACT), z


def test_the_tile_cache_keeps_the_audiences_apart(client, engine, placed, make_account) -> None:  # type: ignore[no-untyped-def]
    """A tile the admin asked for first is cached for the admin only: the public asking next
    for the same tile, of the same version, gets its own (and the reverse)."""
    admin = make_account("sensitive-cache-admin", "national_admin")
    as_admin = {"Authorization": f"Bearer {make_token(engine, admin.id)}"}
    # a point zoom and a grid zoom (both cached), where the exact point and the centre share a
    # tile, in different grid cells
    z_points = max(z for z in range(10, 13) if tile_xy(EXACT, z) == tile_xy(CENTRE, z))
    z_grid = 9
    assert cell_xy(EXACT, z_grid) != cell_xy(CENTRE, z_grid)

    def record_at(headers: dict[str, str]) -> tuple[float, float]:
        x, y = tile_xy(EXACT, z_points)
        decoded = features(tile(client, "occurrences", EXACT, z_points, headers), z_points, x, y)
        (mine,) = [f for f in decoded if f.id == placed.record]
        return mine.lon, mine.lat

    def counted_at(headers: dict[str, str]) -> set[tuple[int, int]]:
        x, y = tile_xy(EXACT, z_grid)
        counts = grid_counts(
            features(tile(client, "occurrences", EXACT, z_grid, headers), z_grid, x, y), z_grid
        )
        return {c for c in (cell_xy(EXACT, z_grid), cell_xy(CENTRE, z_grid)) if c in counts}

    def cached() -> set[tuple[str, int]]:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT c.audience, c.z FROM publish.tile_cache c JOIN publish.layer_state l "
                    "ON l.layer = c.layer AND l.version = c.version "
                    "WHERE c.layer = 'occurrences' AND c.z IN (:a, :b)"
                ),
                {"a": z_points, "b": z_grid},
            ).all()
        return {(audience, z) for audience, z in rows}

    pixel_m = WORLD_M / 2**z_points / EXTENT
    for first, second in ((as_admin, {}), ({}, as_admin)):
        with engine.begin() as conn:  # a new version: nothing cached
            conn.execute(
                sa.text("UPDATE occurrences SET individual_count = NULL WHERE id = :id"),
                {"id": placed.record},
            )
        assert cached() == set()
        for headers in (first, second, first, second):  # made, made, then from the cache
            exact = bool(headers)
            at = EXACT if exact else CENTRE
            assert distance_m(record_at(headers), at) < 1.5 * pixel_m
            assert counted_at(headers) == {cell_xy(at, z_grid)}
        assert cached() == {(a, z) for a in ("exact", "public") for z in (z_points, z_grid)}


def test_public_tiles_do_not_change_when_the_exact_point_moves_within_its_cell(
    client, engine, placed, make_account
) -> None:  # type: ignore[no-untyped-def]
    """The public's tiles at every zoom, through the old and the new exact point and the
    centre, are the same before and after the move: they carry nothing of where in its cell
    the record is. The admin's change (the test can see a move)."""
    admin = make_account("sensitive-moving-admin", "national_admin")
    as_admin = {"Authorization": f"Bearer {make_token(engine, admin.id)}"}

    def everything(headers: dict[str, str]) -> dict[tuple[int, int, int], Counter]:  # type: ignore[type-arg]
        shown = {}
        for z in range(0, 15):
            for point in (EXACT, MOVED, CENTRE):
                x, y = tile_xy(point, z)
                decoded = features(tile(client, "occurrences", point, z, headers), z, x, y)
                shown[(z, x, y)] = Counter(
                    (round(f.lon, 9), round(f.lat, 9), f.id, f.count) for f in decoded
                )
        return shown

    before = everything({}), everything(as_admin)
    move = "UPDATE occurrences SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :id"
    with engine.begin() as conn:
        conn.execute(sa.text(move), {"x": MOVED[0], "y": MOVED[1], "id": placed.record})
    try:
        after = everything({}), everything(as_admin)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(move), {"x": EXACT[0], "y": EXACT[1], "id": placed.record})
    assert expected_centre(*MOVED, LEVEL_KM) == pytest.approx(CENTRE)
    assert after[0] == before[0]
    assert after[1] != before[1]


# -- a change of status --------------------------------------------------------------------------
def test_a_change_of_status_shows_in_the_very_next_requests(client, engine, placed) -> None:  # type: ignore[no-untyped-def]
    """A record of a taxon of least concern is exact for the public; its taxon made critically
    endangered, the very next item and tile requests show it at its cell's centre; back to
    least concern, exact again. The tiles asked for before were cached: the cache does not
    serve them after the change."""
    with engine.begin() as conn:
        taxon = _taxon(conn, "Testus lectoris mutabilis", "LC")
        record = _record(conn, taxon, "changing", CHANGING_AT, "published")
    centre = expected_centre(*CHANGING_AT, LEVEL_KM)
    item = f"occurrences/items/{record}"

    def shown() -> tuple[tuple[float, float], int, dict[int, tuple[int, int]]]:
        feature = get(client, item, {}, f="json").json
        where: dict[int, tuple[int, int]] = {}
        for z in (5, 9):  # grid zooms (cached), and the point zoom 14
            x, y = tile_xy(CHANGING_AT, z)
            counts = grid_counts(
                features(tile(client, "occurrences", CHANGING_AT, z, {}), z, x, y), z
            )
            assert counts == view_counts(engine, "public_occurrences", z, x, y)
            where[z] = next(c for c in (cell_xy(CHANGING_AT, z), cell_xy(centre, z)) if c in counts)
        for point in (CHANGING_AT, centre):
            x, y = tile_xy(point, 14)
            decoded = features(tile(client, "occurrences", point, 14, {}), 14, x, y)
            for f in decoded:
                if f.id == record:
                    where[14] = tile_xy((f.lon, f.lat), 14, EXTENT)
        return point_of(feature), feature["properties"]["generalised_km"], where

    def status(category: str) -> None:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE taxon_statuses SET category = :c WHERE taxon_id = :t"),
                {"c": category, "t": taxon},
            )

    exact_where = {9: cell_xy(CHANGING_AT, 9), 14: tile_xy(CHANGING_AT, 14, EXTENT)}
    centre_where = {9: cell_xy(centre, 9), 14: tile_xy(centre, 14, EXTENT)}
    assert exact_where[9] != centre_where[9]
    point, km, where = shown()
    assert point == pytest.approx(CHANGING_AT, abs=1e-9) and km == 0
    assert where[9] == exact_where[9] and where[14] == pytest.approx(exact_where[14], abs=1)
    status("CR")
    point, km, where = shown()
    assert point == pytest.approx(centre, abs=1e-7) and km == LEVEL_KM
    assert where[9] == centre_where[9] and where[14] == pytest.approx(centre_where[14], abs=1)
    status("LC")
    point, km, where = shown()
    assert point == pytest.approx(CHANGING_AT, abs=1e-9) and km == 0
    assert where[9] == exact_where[9] and where[14] == pytest.approx(exact_where[14], abs=1)
