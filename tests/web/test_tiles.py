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
    """What the public sees (publish.public_occurrences): counts up to zoom 9, then points."""
    response = tile(client, "occurrences", 5, 14, 25)  # makes the public points current
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM occurrences")).scalar_one()
        # tile z5 x25 y14 covers northern Viet Nam
        in_tile = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences "
                "WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(5, 25, 14))"
            )
        ).scalar_one()
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
                "SELECT count(*) FROM publish.public_occurrences "
                "WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(10, :x, :y))"
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
    fields = {"id", "code", "name_vi", "name_en", "legal_category", "iucn_category"}
    for feature in layer["features"]:
        # only the tile fields (an empty value is left out of an MVT feature)
        assert {"id", "code", "name_vi"} <= set(feature["properties"]) <= fields
        assert feature["properties"]["id"] == feature["id"]
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
                "AND audience = 'public' AND z = 5 AND x = 25 AND y = 14"
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


def provider(test_settings, table: str, **options):  # type: ignore[no-untyped-def]
    """Our tile provider on the test database, as pygeoapi builds it from the configuration."""
    from vbis_geo.publish.tiles import TileProvider

    url = test_settings.database_url
    data = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username}
    return TileProvider(
        {
            "name": "vbis_geo.publish.tiles.TileProvider",
            "type": "tile",
            "data": data,
            "table": table,
            "format": {"name": "mvt", "mimetype": MVT},
            "options": {"layer": table, **options},
        }
    )


def cells(tile_bytes: bytes, layer: str) -> dict[tuple[float, ...], int]:
    decoded = mapbox_vector_tile.decode(tile_bytes).get(layer, {"features": []})
    return {
        tuple(f["geometry"]["coordinates"]): f["properties"]["count"] for f in decoded["features"]
    }


@pytest.mark.parametrize("audience", ["exact", "public"])
@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "WorldCRS84Quad"])
def test_stored_grid_is_the_grid_counted_from_the_table(  # type: ignore[no-untyped-def]
    test_settings, engine, tms_id, audience
) -> None:
    """Each audience's stored grid is the grid counted from its view of occurrences."""
    from vbis_geo.analysis.access import Audience
    from vbis_geo.analysis.assignment import ensure_current
    from vbis_geo.publish.tiles import MATRIX_SETS

    tms = MATRIX_SETS[tms_id]
    occurrences = provider(test_settings, "occurrences", grid_until_zoom=9, zoom={"max": 18})
    ensure_current(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("SELECT publish.rebuild_point_cells('occurrences', :a)"), {"a": audience}
        )
    lon, lat = 105.85, 21.03  # Hà Nội
    with engine.connect() as conn:
        for z in range(0, 10):
            side = 180.0 / 2**z
            if tms.srid == 4326:
                x, y = int((lon + 180) // side), int((90 - lat) // side)
            else:
                x, y = int((lon + 180) / 360 * 2**z), int(2**z * 0.4366)  # row of 21° N
            stored = conn.execute(
                occurrences.stored_grid(tms, z, x, y, Audience(audience))
            ).scalar()
            counted = conn.execute(
                occurrences.counted_grid(tms, z, x, y, Audience(audience))
            ).scalar()
            assert stored is not None, "the grid was rebuilt: it is not stale"
            assert cells(bytes(stored), "occurrences") == cells(bytes(counted), "occurrences")
            if z <= 4:  # the whole country is in one or two tiles: most records are counted
                assert sum(cells(bytes(stored), "occurrences").values()) > 0


def test_world_crs84_quad_tiles(client, engine) -> None:  # type: ignore[no-untyped-def]
    listing = client.get("/ogc/collections/occurrences/tiles?f=json").json
    assert {"WebMercatorQuad", "WorldCRS84Quad"} <= {
        t["tileMatrixSetURI"].rsplit("/", 1)[1] for t in listing["tilesets"]
    }
    # zoom 3 of WorldCRS84Quad: tiles of 22.5 degrees; column 12, row 3 holds 101.25-123.75 E,
    # 22.5-0 N (all of Viet Nam south of 22.5 N)
    response = client.get("/ogc/collections/occurrences/tiles/WorldCRS84Quad/3/3/12?f=mvt")
    assert response.status_code == 200
    with engine.connect() as conn:
        expected = conn.execute(
            sa.text(
                "SELECT count(*) FROM publish.public_occurrences WHERE ST_X(geom) >= 101.25 "
                "AND ST_X(geom) < 123.75 AND ST_Y(geom) > 0 AND ST_Y(geom) <= 22.5"
            )
        ).scalar_one()
    assert sum(cells(response.data, "occurrences").values()) == expected > 0
    # a tile beyond the matrix (zoom 0 has 2 x 1 tiles) is not found
    assert (
        client.get("/ogc/collections/occurrences/tiles/WorldCRS84Quad/0/1/0?f=mvt").status_code
        == 404
    )
    polygons = client.get("/ogc/collections/admin_units/tiles/WorldCRS84Quad/5/12/50?f=mvt")
    features = mapbox_vector_tile.decode(polygons.data)["admin_units"]["features"]
    assert features and all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    tilejson = client.get(
        "/ogc/collections/admin_units/tiles/WorldCRS84Quad/metadata?f=tilejson"
    ).json
    assert tilejson["tiles"][0].endswith("/tiles/WorldCRS84Quad/{z}/{y}/{x}?f=mvt")


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "WorldCRS84Quad"])
def test_generalised_polygons_keep_every_feature_the_table_has(
    test_settings, engine, tms_id
) -> None:  # type: ignore[no-untyped-def]
    """At each zoom band, a tile from the stored generalised polygons holds the same features
    as the same tile simplified on the fly from the table."""
    from vbis_geo.publish.tiles import MATRIX_SETS

    tms = MATRIX_SETS[tms_id]
    admin = provider(test_settings, "admin_units", fields=["code", "name_vi"])
    with engine.connect() as conn:
        for z, x, y in ((2, 3, 1), (5, 25, 14), (8, 203, 113), (11, 1627, 904)):
            if tms.srid == 4326:  # the same place in WorldCRS84Quad
                x, y = int((105.85 + 180) // (180 / 2**z)), int((90 - 21.03) // (180 / 2**z))
            band = tms.band(z)
            assert band is not None
            stored = conn.execute(admin.generalised_features(tms, z, x, y, band)).scalar()
            direct = conn.execute(admin.table_features(tms, z, x, y)).scalar()
            ids = [
                {f["id"] for f in mapbox_vector_tile.decode(bytes(t))["admin_units"]["features"]}
                for t in (stored, direct)
            ]
            assert ids[0] and ids[0] == ids[1], (z, x, y)


def test_tile_metadata_as_html(client) -> None:  # type: ignore[no-untyped-def]
    for tms in ("WebMercatorQuad", "WorldCRS84Quad"):
        response = client.get(f"/ogc/collections/wetlands/tiles/{tms}/metadata?f=html&lang=en")
        assert response.status_code == 200 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert f"/collections/wetlands/tiles/{tms}/{{z}}/{{y}}/{{x}}?f=mvt" in page
        assert "metadata?f=tilejson" in page


def test_a_tile_of_points_never_exceeds_the_byte_bound(test_settings, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the bound lowered to 20 kB, a dense z10 tile is made again with fewer points (the
    first by id) until it fits; the real bound is 500 kB."""
    from vbis_geo.publish import tiles

    assert tiles.MAX_TILE_BYTES == 500_000
    occurrences = provider(
        test_settings, "occurrences", grid_until_zoom=9, zoom={"max": 18},
        fields=["taxon_id", "basis_of_record", "event_date", "locality", "recorded_by"],
    )  # fmt: skip
    with engine.connect() as conn:
        x, y = conn.execute(
            sa.text(
                "SELECT x, y FROM (SELECT "
                "floor((ST_X(g) + 20037508.342789244) / (40075016.68557849 / 1024))::int AS x, "
                "floor((20037508.342789244 - ST_Y(g)) / (40075016.68557849 / 1024))::int AS y "
                "FROM (SELECT ST_Transform(geom, 3857) AS g FROM occurrences) AS m) AS t "
                "GROUP BY x, y ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        full = bytes(conn.execute(occurrences.statement(tiles.WEB_MERCATOR, 10, x, y)).scalar())
        monkeypatch.setattr(tiles, "MAX_TILE_BYTES", 20_000)
        assert len(full) > 20_000, "the test needs a tile over the lowered bound"
        cut = occurrences._render(conn, tiles.WEB_MERCATOR, 10, x, y)
    assert cut is not None and 10_000 < len(cut) <= 20_000
    kept = mapbox_vector_tile.decode(cut)["occurrences"]["features"]
    every = mapbox_vector_tile.decode(full)["occurrences"]["features"]
    ids = sorted(f["id"] for f in every)
    assert sorted(f["id"] for f in kept) == ids[: len(kept)]  # the first by id
