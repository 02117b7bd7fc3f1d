"""vbis-geo's vector tiles through pygeoapi, decoded by mapbox-vector-tile."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.db

MVT = "application/vnd.mapbox-vector-tile"


def tile(client, collection: str, z: int, y: int, x: int):  # type: ignore[no-untyped-def]
    return client.get(f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt")


def test_occurrence_tiles_count_on_a_grid_then_show_points(client, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
        # tile z5 x25 y14 covers northern Viet Nam
        in_tile = conn.execute(
            sa.text(
                "SELECT count(*) FROM occurrences WHERE ST_Intersects(ST_Transform(geom, 3857), "
                "ST_TileEnvelope(5, 25, 14))"
            )
        ).scalar_one()
    response = tile(client, "occurrences", 5, 14, 25)
    assert response.status_code == 200 and response.mimetype == MVT
    layer = mapbox_vector_tile.decode(response.data)["occurrences"]
    counts = [f["properties"]["count"] for f in layer["features"]]
    assert sum(counts) == in_tile > 0 and in_tile < total
    assert len(counts) <= 64 * 64
    assert len(response.data) < 500_000
    # above grid_until_zoom: points with their fields
    with engine.connect() as conn:
        x, y, n = conn.execute(
            sa.text(
                "WITH t AS (SELECT ST_Transform(geom, 3857) AS g FROM occurrences LIMIT 1) "
                "SELECT floor((ST_X(g) + 20037508.342789244) / (40075016.68557849 / 1024))::int, "
                "floor((20037508.342789244 - ST_Y(g)) / (40075016.68557849 / 1024))::int, 0 FROM t"
            )
        ).one()
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM occurrences WHERE ST_Intersects(ST_Transform(geom, 3857), "
                "ST_TileEnvelope(10, :x, :y))"
            ),
            {"x": x, "y": y},
        ).scalar_one()
    points = mapbox_vector_tile.decode(tile(client, "occurrences", 10, y, x).data)["occurrences"]
    assert len(points["features"]) == n > 0
    assert {"taxon_id", "basis_of_record", "event_date"} <= set(points["features"][0]["properties"])


def test_polygon_tiles_carry_only_the_tile_fields(client, engine) -> None:  # type: ignore[no-untyped-def]
    response = tile(client, "protected_areas", 6, 28, 50)
    layer = mapbox_vector_tile.decode(response.data)["protected_areas"]
    assert layer["features"]
    fields = {"code", "name_vi", "name_en", "legal_category", "iucn_category"}
    for feature in layer["features"]:
        # only the tile fields (an empty value is left out of an MVT feature)
        assert {"code", "name_vi"} <= set(feature["properties"]) <= fields
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in layer["features"])
    # outside the layer's zooms: an empty tile; a malformed index: 404
    assert tile(client, "pa_zones", 2, 1, 3).data == b""
    assert client.get(
        "/ogc/collections/protected_areas/tiles/WebMercatorQuad/6/x/50?f=mvt"
    ).status_code in (400, 404)


def test_tilejson(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/ogc/collections/occurrences/tiles/WebMercatorQuad/metadata?f=tilejson").json
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].endswith(
        "/collections/occurrences/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt"
    )
    assert (
        body["vector_layers"][0]["id"] == "occurrences"
        and "count" in body["vector_layers"][0]["fields"]
    )


def test_tile_cache_sees_an_edit_at_once(client, engine) -> None:  # type: ignore[no-untyped-def]
    def total() -> int:
        layer = mapbox_vector_tile.decode(tile(client, "occurrences", 5, 14, 25).data)
        return sum(f["properties"]["count"] for f in layer["occurrences"]["features"])

    before = total()
    with engine.connect() as conn:
        cached = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.tile_cache WHERE layer = 'occurrences' "
                "AND z = 5 AND x = 25 AND y = 14"
            )
        ).scalar_one()
    assert cached == 1 and total() == before  # the second answer came from the cache
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, geom) "
                "SELECT 'cache-test:1', taxon_id, basis_of_record, "
                "ST_SetSRID(ST_MakePoint(105.8, 21.0), 4326) FROM occurrences LIMIT 1"
            )
        )
    try:
        assert total() == before + 1  # the insert bumped the layer's version: a fresh tile
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM occurrences WHERE occurrence_id = 'cache-test:1'"))
    assert total() == before
