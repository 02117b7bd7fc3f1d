"""vbis-geo's OGC API Tiles provider (Mapbox Vector Tiles, WebMercatorQuad), for pygeoapi.

Why not the stock MVT-postgresql provider (PROVIDERS.md 2.3): it puts every row of a layer in
every tile, with every column and no simplification; one z5 tile of a million points took
seconds and 16 MB. Here, per layer:

* points (occurrences, facilities): up to ``grid_until_zoom``, the points are counted on a grid
  of 64 x 64 cells per tile, and each tile carries one point per cell with ``count``; above it,
  the points themselves, at most ``max_features`` per tile (then ``truncated`` is set);
* polygons: simplified to the tile's pixel size (``ST_AsMVTGeom`` also clips them), with only
  the layer's tile fields.

Still to come (issue 4): WorldCRS84Quad, a cache invalidated on edits, precomputed grids for
national-scale zoom-out speed, the per-role read gate.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.base_mvt import BaseMVTProvider
from pygeoapi.provider.tile import ProviderTileNotFoundError, ProviderTilesetIdNotFoundError

from vbis_geo.db.base import Base
from vbis_geo.publish.features import cache_writer, reader

WEB_MERCATOR = "WebMercatorQuad"
#: pixels of a tile side in MVT coordinates
EXTENT = 4096
#: grid cells per tile side when points are counted
GRID = 64
#: Web Mercator metres per tile at zoom 0
WORLD_M = 40075016.685578488
#: tiles up to this zoom are cached (deeper ones are cheap and many)
CACHE_MAX_ZOOM = 12
#: Vietnam with its islands, lon/lat (TileJSON bounds)
BOUNDS = [102.14, 6.95, 117.0, 23.4]


class TileProvider(BaseMVTProvider):
    """Vector tiles of one vbis-geo table."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        import vbis_geo.db.models  # noqa: F401  (registers the tables)

        options = self.options or {}
        self.table: sa.Table = Base.metadata.tables[provider_def["table"]]
        self.id_field = provider_def.get("id_field", "id")
        self.geom_field = provider_def.get("geom_field", "geom")
        self.layer = options.get("layer", self.table.name)
        self.fields = list(options.get("fields") or [])
        self.zoom = options.get("zoom", {"min": 0, "max": 22})
        self.grid_until_zoom = int(options.get("grid_until_zoom", -1))
        self.max_features = int(options.get("max_features", 20000))
        self._service_url = ""

    def get_layer(self) -> str:
        return self.layer

    def get_fields(self) -> dict[str, dict[str, str]]:
        return {name: {"type": "string"} for name in self.fields}

    def get_tiling_schemes(self) -> list[Any]:
        from pygeoapi.models.provider.base import TileMatrixSetEnum

        return [TileMatrixSetEnum.WEBMERCATORQUAD.value]

    def get_tiles_service(
        self,
        baseurl: str | None = None,
        servicepath: str | None = None,
        dirpath: str | None = None,
        tile_type: str | None = None,
    ) -> dict[str, Any]:
        self._service_url = servicepath or ""
        return self.get_tms_links()

    def get_tiles(
        self,
        layer: str | None = None,
        tileset: str | None = None,
        z: str | int | None = None,
        y: str | int | None = None,
        x: str | int | None = None,
        format_: str | None = None,
    ) -> bytes:
        """The MVT of tile z/y/x (an empty tile outside the layer's zooms)."""
        if tileset != WEB_MERCATOR:
            raise ProviderTilesetIdNotFoundError(user_msg=f"no tile matrix set {tileset!r}")
        try:
            zi, yi, xi = int(z), int(y), int(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ProviderTileNotFoundError(user_msg="tile indexes are whole numbers") from None
        if not (0 <= zi <= 24 and 0 <= xi < 2**zi and 0 <= yi < 2**zi):
            raise ProviderTileNotFoundError(user_msg=f"no tile {zi}/{yi}/{xi}")
        if not int(self.zoom.get("min", 0)) <= zi <= int(self.zoom.get("max", 22)):
            return b""
        key = {"layer": self.layer, "tms": WEB_MERCATOR, "z": zi, "x": xi, "y": yi}
        with reader(self.data) as conn:
            # the table's version, bumped by a trigger on every change: a new version misses
            # the cache, so an edit or a load shows at once
            key["version"] = (
                conn.execute(
                    sa.text("SELECT version FROM publish.layer_state WHERE layer = :t"),
                    {"t": self.table.name},
                ).scalar()
                or 0
            )
            cached = conn.execute(
                sa.text(
                    "SELECT tile FROM publish.tile_cache WHERE layer = :layer AND "
                    "version = :version AND tms = :tms AND z = :z AND x = :x AND y = :y"
                ),
                key,
            ).scalar()
            if cached is not None:
                return bytes(cached)
            tile = bytes(conn.execute(self._statement(zi, xi, yi)).scalar() or b"")
        if zi <= CACHE_MAX_ZOOM:
            with cache_writer(self.data) as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO publish.tile_cache (layer, version, tms, z, x, y, tile) "
                        "VALUES (:layer, :version, :tms, :z, :x, :y, :tile) ON CONFLICT DO NOTHING"
                    ),
                    {**key, "tile": tile},
                )
                conn.execute(
                    sa.text(
                        "DELETE FROM publish.tile_cache WHERE layer = :layer AND version < :version"
                    ),
                    key,
                )
        return tile

    def _statement(self, z: int, x: int, y: int) -> sa.Select:  # type: ignore[type-arg]
        t = self.table.c
        envelope = sa.func.ST_TileEnvelope(z, x, y)
        margin = sa.func.ST_TileEnvelope(z, x, y, margin=64 / EXTENT)
        geom = t[self.geom_field]
        in_tile = geom.op("&&")(sa.func.ST_Transform(margin, 4326))
        mercator = sa.func.ST_Transform(geom, 3857)
        if self.table.c[self.geom_field].type.geometry_type == "POINT":  # type: ignore[attr-defined]
            if z <= self.grid_until_zoom:
                return self._grid(z, envelope, in_tile, mercator)
            rows = (
                sa.select(
                    sa.func.ST_AsMVTGeom(mercator, envelope, EXTENT, 64, True).label("geom"),
                    t[self.id_field].label("id"),
                    *[t[f] for f in self.fields],
                )
                .where(in_tile)
                .order_by(t[self.id_field])
                .limit(self.max_features)
                .subquery("rows")
            )
        else:
            pixel_m = WORLD_M / (2**z) / EXTENT
            simplified = sa.func.ST_SimplifyPreserveTopology(mercator, pixel_m)
            rows = (
                sa.select(
                    sa.func.ST_AsMVTGeom(simplified, envelope, EXTENT, 64, True).label("geom"),
                    t[self.id_field].label("id"),
                    *[t[f] for f in self.fields],
                )
                .where(in_tile)
                .subquery("rows")
            )
        return sa.select(
            sa.func.ST_AsMVT(sa.literal_column("rows"), self.layer, EXTENT, "geom", "id")
        ).select_from(sa.select(rows).where(rows.c.geom.isnot(None)).subquery("rows"))

    def _grid(self, z: int, envelope: Any, in_tile: Any, mercator: Any) -> sa.Select:  # type: ignore[type-arg]
        cell_m = WORLD_M / (2**z) / GRID
        cells = (
            sa.select(
                sa.func.count().label("count"),
                sa.func.ST_Centroid(sa.func.ST_Collect(mercator)).label("centre"),
            )
            .where(in_tile, sa.func.ST_Intersects(mercator, envelope))
            .group_by(
                sa.func.floor(sa.func.ST_X(mercator) / cell_m),
                sa.func.floor(sa.func.ST_Y(mercator) / cell_m),
            )
            .subquery("cells")
        )
        rows = sa.select(
            sa.func.ST_AsMVTGeom(cells.c.centre, envelope, EXTENT, 0, True).label("geom"),
            cells.c.count,
        ).subquery("rows")
        return sa.select(
            sa.func.ST_AsMVT(sa.literal_column("rows"), self.layer, EXTENT, "geom")
        ).select_from(sa.select(rows).where(rows.c.geom.isnot(None)).subquery("rows"))

    # -- metadata -------------------------------------------------------------------------------
    def get_metadata(
        self,
        dataset: str,
        server_url: str,
        layer: str | None = None,
        tileset: str | None = None,
        metadata_format: str | None = None,
        title: str | None = None,
        description: str | None = None,
        keywords: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        fmt = (metadata_format or "json").lower()
        if tileset != WEB_MERCATOR:
            raise ProviderTilesetIdNotFoundError(user_msg=f"no tile matrix set {tileset!r}")
        tiles_url = (
            f"{server_url}/collections/{dataset}/tiles/{WEB_MERCATOR}/{{z}}/{{y}}/{{x}}?f=mvt"
        )
        if fmt == "tilejson":
            return {
                "tilejson": "3.0.0",
                "name": title or dataset,
                "description": description or "",
                "tiles": [tiles_url],
                "minzoom": int(self.zoom.get("min", 0)),
                "maxzoom": int(self.zoom.get("max", 22)),
                "bounds": BOUNDS,
                "center": [105.85, 21.03, 5],
                "attribution": "vbis-geo",
                "vector_layers": [
                    {
                        "id": self.layer,
                        "fields": self._vector_fields(),
                        "minzoom": int(self.zoom.get("min", 0)),
                        "maxzoom": int(self.zoom.get("max", 22)),
                    }
                ],
            }
        if fmt in ("json", "jsonld"):
            return {
                "title": title or dataset,
                "description": description or "",
                "dataType": "vector",
                "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                "links": [
                    {
                        "rel": "item",
                        "type": self.mimetype,
                        "templated": True,
                        "href": f"{server_url}/collections/{dataset}/tiles/{WEB_MERCATOR}"
                        "/{tileMatrix}/{tileRow}/{tileCol}?f=mvt",
                    },
                ],
                "layers": [
                    {
                        "id": self.layer,
                        "dataType": "vector",
                        "minTileMatrix": str(self.zoom.get("min", 0)),
                        "maxTileMatrix": str(self.zoom.get("max", 22)),
                        "propertiesSchema": {
                            "type": "object",
                            "properties": {k: {"type": "string"} for k in self._vector_fields()},
                        },
                    }
                ],
            }
        raise ProviderInvalidQueryError(user_msg=f"no tile metadata as {metadata_format!r}")

    def _vector_fields(self) -> dict[str, str]:
        fields = {name: "String" for name in self.fields}
        if self.grid_until_zoom >= 0:
            fields["count"] = "Number (points in the cell, zooms up to "
            fields["count"] += f"{self.grid_until_zoom})"
        return fields
