"""vbis-geo's OGC API Tiles provider (Mapbox Vector Tiles), for pygeoapi.

Why not the stock MVT-postgresql provider (PROVIDERS.md 2.3): it puts every row of a layer in
every tile, with every column and no simplification; one z5 tile of a million points took
seconds and 16 MB. Here, per layer, in WebMercatorQuad and WorldCRS84Quad:

* points (occurrences): up to ``grid_until_zoom``, counts on a grid of 64 x 64 cells per tile,
  one point per cell (at the cell's centre, so no single record's position shows) with
  ``count``; they are read from ``publish.point_cells``, the pyramid of counts that statement
  triggers keep current (migration 0005). Above that zoom, the points themselves, at most
  ``max_features`` per tile, ordered by id;
* polygons: read up to zoom 12 from ``publish.generalised``, simplified to the pixel size of
  the zoom band (kept current by triggers too), deeper from the table itself; clipped by
  ``ST_AsMVTGeom``, with only the layer's tile fields;
* no tile over 500 KB: a tile of points that would be is made with fewer points.

Tiles up to zoom 12 are cached in ``publish.tile_cache`` under the table's version, which every
change bumps: an edit or a load shows at once.

**Who sees what** (issue 6): each request reads what its audience sees
(:func:`vbis_geo.publish.features.relation`). Occurrences: the public's grid counts its
records where the public view places them (a sensitive record at the centre of its cell, so
no zoom places it more precisely than that), the exact audience's at their points; both count
published records only (``publish.point_cells`` holds one pyramid per audience, migration
0012), and points above the grid zooms come from the audience's view. Polygon and facility
layers: published rows only. The cache is keyed by the audience too: a tile made for one
audience is never served to the other; and a rebuild of the public points (after a change of
status) bumps the occurrences' version.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.base_mvt import BaseMVTProvider
from pygeoapi.provider.tile import ProviderTileNotFoundError, ProviderTilesetIdNotFoundError

from vbis_geo.analysis.access import Audience
from vbis_geo.db.base import Base
from vbis_geo.publish.features import (
    cache_writer,
    first_rows,
    reader,
    relation,
    request_audience,
)

#: pixels of a tile side in MVT coordinates
EXTENT = 4096
#: grid cells per tile side when points are counted
GRID = 64
#: the deepest zoom of the stored grid (migration 0005)
GRID_MAX_ZOOM = 9
#: zoom bands of the stored generalised polygons (migration 0005): zoom z reads the first >= z
BANDS = (2, 4, 6, 8, 10, 12)
#: Web Mercator metres per tile at zoom 0
WORLD_M = 40075016.685578488
#: no tile is larger (the issue's bound; MapLibre and QGIS slow down on bigger ones)
MAX_TILE_BYTES = 500_000
#: tiles up to this zoom are cached (deeper ones are cheap and many)
CACHE_MAX_ZOOM = 12
#: Vietnam with its islands, lon/lat (TileJSON bounds)
BOUNDS = [102.14, 6.95, 117.0, 23.4]
#: latitude limit of Web Mercator
MAX_LAT = 85.0511287798


@dataclasses.dataclass(frozen=True)
class TileMatrixSet:
    """One of the two tile matrix sets of OGC 17-083r4 that vbis-geo serves."""

    id: str
    #: its number in ``publish.point_cells.tms``
    code: int
    srid: int
    uri: str
    crs: str
    #: tiles across the matrix at zoom 0 (WorldCRS84Quad has 2 x 1)
    width0: int

    def envelope(self, z: int, x: int, y: int, margin: float = 0.0) -> Any:
        """The tile's bounds in its CRS, widened by ``margin`` of its side on every side."""
        if self.srid == 3857:
            if margin:
                return sa.func.ST_TileEnvelope(z, x, y, margin=margin)
            return sa.func.ST_TileEnvelope(z, x, y)
        side = 180.0 / 2**z
        pad = side * margin
        west, north = -180.0 + x * side, 90.0 - y * side
        return sa.func.ST_MakeEnvelope(
            west - pad, north - side - pad, west + side + pad, north + pad, 4326
        )

    def index_box(self, z: int, x: int, y: int, margin: float) -> Any:
        """The widened tile as a lon/lat box, for the tables' GiST indexes."""
        box = self.envelope(z, x, y, margin)
        return sa.func.ST_Transform(box, 4326) if self.srid == 3857 else box

    def mercator_box(self, z: int, x: int, y: int, margin: float) -> Any:
        """The widened tile in Web Mercator, for ``publish.generalised``'s index."""
        if self.srid == 3857:
            return self.envelope(z, x, y, margin)
        side = 180.0 / 2**z
        pad = side * margin
        west, north = -180.0 + x * side, 90.0 - y * side
        clamp = lambda lat: max(-MAX_LAT, min(MAX_LAT, lat))  # noqa: E731
        box = sa.func.ST_MakeEnvelope(
            west - pad, clamp(north - side - pad), west + side + pad, clamp(north + pad), 4326
        )
        return sa.func.ST_Transform(box, 3857)

    def project(self, geom: Any) -> Any:
        """A lon/lat geometry in the matrix set's CRS."""
        return sa.func.ST_Transform(geom, 3857) if self.srid == 3857 else geom

    def contains(self, z: int, x: int, y: int) -> bool:
        return 0 <= x < self.width0 * 2**z and 0 <= y < 2**z

    def band(self, z: int) -> int | None:
        """The generalised band for tiles of zoom ``z`` (a CRS84 tile's pixel is about half a
        Web Mercator one of the same zoom), or None when the table itself is read."""
        mercator_z = z if self.srid == 3857 else z + 1
        return next((b for b in BANDS if b >= mercator_z), None)

    def cell_keys(self, z: int, geom: Any) -> tuple[Any, Any]:
        """The grid cell of a lon/lat point at zoom ``z``, as publish.point_cells numbers it."""
        cells = GRID * 2**z
        lon, lat = sa.func.ST_X(geom), sa.func.ST_Y(geom)
        if self.srid == 3857:
            lat = sa.func.greatest(-MAX_LAT, sa.func.least(MAX_LAT, lat))
            rad = sa.func.radians(lat)
            fy = (1 - sa.func.ln(sa.func.tan(rad) + 1 / sa.func.cos(rad)) / sa.func.pi()) / 2
            fx = (lon + 180) / 360
            width = cells
        else:
            fy = (90 - lat) / 180
            fx = (lon + 180) / 360
            width = 2 * cells
        ix = sa.func.least(width - 1, sa.func.greatest(0, sa.func.floor(fx * width)))
        iy = sa.func.least(cells - 1, sa.func.greatest(0, sa.func.floor(fy * cells)))
        return sa.cast(ix, sa.Integer), sa.cast(iy, sa.Integer)


WEB_MERCATOR = TileMatrixSet(
    "WebMercatorQuad",
    0,
    3857,
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
    1,
)
WORLD_CRS84 = TileMatrixSet(
    "WorldCRS84Quad",
    1,
    4326,
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    2,
)
MATRIX_SETS = {tms.id: tms for tms in (WEB_MERCATOR, WORLD_CRS84)}

# the publish schema's derived tables (migrations 0003-0005, 0012)
GRID_STATE = sa.table(
    "grid_state", *map(sa.column, ("layer", "audience", "stale")), schema="publish"
)
POINT_CELLS = sa.table(
    "point_cells",
    *map(sa.column, ("layer", "audience", "tms", "z", "ix", "iy", "n")),
    schema="publish",
)
GENERALISED = sa.table(
    "generalised", *map(sa.column, ("layer", "id", "band", "geom")), schema="publish"
)


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
        self.points = self.table.c[self.geom_field].type.geometry_type == "POINT"  # type: ignore[attr-defined]
        self._service_url = ""

    def get_layer(self) -> str:
        return self.layer

    def get_fields(self) -> dict[str, dict[str, str]]:
        return {name: {"type": "string"} for name in self.fields}

    def get_tiling_schemes(self) -> list[Any]:
        from pygeoapi.models.provider.base import TileMatrixSetEnum

        return [TileMatrixSetEnum.WEBMERCATORQUAD.value, TileMatrixSetEnum.WORLDCRS84QUAD.value]

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
        tms = MATRIX_SETS.get(tileset or "")
        if tms is None:
            raise ProviderTilesetIdNotFoundError(user_msg=f"no tile matrix set {tileset!r}")
        try:
            zi, yi, xi = int(z), int(y), int(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ProviderTileNotFoundError(user_msg="tile indexes are whole numbers") from None
        if not (0 <= zi <= 24 and tms.contains(zi, xi, yi)):
            raise ProviderTileNotFoundError(user_msg=f"no tile {zi}/{yi}/{xi} in {tms.id}")
        if not int(self.zoom.get("min", 0)) <= zi <= int(self.zoom.get("max", 22)):
            return b""
        audience = request_audience()
        key = {
            "layer": self.layer,
            "audience": audience.value,
            "tms": tms.id,
            "z": zi,
            "x": xi,
            "y": yi,
        }
        with reader(self.data, public_points=relation(self.table, audience).public_points) as conn:
            # the table's version, bumped by a trigger on every change: a new version misses
            # the cache, so an edit or a load shows at once; and a tile made for one audience is
            # never served to another
            key["version"], cached = conn.execute(
                sa.text(
                    "SELECT l.version, c.tile FROM publish.layer_state l "
                    "LEFT JOIN publish.tile_cache c ON c.layer = :layer "
                    "AND c.audience = :audience AND c.version = l.version "
                    "AND c.tms = :tms AND c.z = :z AND c.x = :x AND c.y = :y WHERE l.layer = :t"
                ),
                {**key, "t": self.table.name},
            ).one_or_none() or (0, None)
            if cached is not None:
                return bytes(cached)
            tile = self._render(conn, tms, zi, xi, yi, audience)
        if tile is None:  # the stored grid is stale: recount it once, then read it
            tile = self._render_after_rebuild(tms, zi, xi, yi, audience)
        if zi <= CACHE_MAX_ZOOM:
            with cache_writer(self.data) as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO publish.tile_cache "
                        "(layer, audience, version, tms, z, x, y, tile) "
                        "VALUES (:layer, :audience, :version, :tms, :z, :x, :y, :tile) "
                        "ON CONFLICT DO NOTHING"
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

    # -- rendering -------------------------------------------------------------------------------
    def statement(  # type: ignore[type-arg]
        self, tms: TileMatrixSet, z: int, x: int, y: int, audience: Audience = Audience.PUBLIC
    ) -> sa.Select:
        """The one SQL statement that makes tile z/x/y for ``audience``: it returns the MVT
        (NULL when it would be read from a stale stored grid)."""
        if self.points and z <= self.grid_until_zoom:
            if z <= GRID_MAX_ZOOM:
                return self.stored_grid(tms, z, x, y, audience)
            return self.counted_grid(tms, z, x, y, audience)
        if self.points:
            return self.point_features(tms, z, x, y, audience=audience)
        if (band := tms.band(z)) is not None:
            return self.generalised_features(tms, z, x, y, band, audience)
        return self.table_features(tms, z, x, y, audience)

    def _render(
        self,
        conn: sa.Connection,
        tms: TileMatrixSet,
        z: int,
        x: int,
        y: int,
        audience: Audience = Audience.PUBLIC,
    ) -> bytes | None:
        """The tile, or None when it would come from a stale stored grid. A tile of points
        over :data:`MAX_TILE_BYTES` is made again with proportionally fewer points (the first
        by id), until it fits."""
        tile = conn.execute(self.statement(tms, z, x, y, audience)).scalar()
        if tile is None:
            return None
        tile, limit = bytes(tile), self.max_features
        while len(tile) > MAX_TILE_BYTES and self.points and z > self.grid_until_zoom:
            limit = max(1, int(limit * MAX_TILE_BYTES / len(tile) * 0.95))
            points = self.point_features(tms, z, x, y, limit, audience)
            tile = bytes(conn.execute(points).scalar() or b"")
        return tile

    def _render_after_rebuild(
        self, tms: TileMatrixSet, z: int, x: int, y: int, audience: Audience
    ) -> bytes:
        """Rebuild the audience's stale grid unless another request is at it (then count this
        tile)."""
        grid = {"l": self.table.name, "a": audience.value}
        with cache_writer(self.data) as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = '10min'"))
            locked = conn.execute(
                sa.text(
                    "SELECT pg_try_advisory_xact_lock("
                    "hashtext('publish.point_cells:' || :l || ':' || :a))"
                ),
                grid,
            ).scalar()
            if (
                locked
                and conn.execute(
                    sa.text(
                        "SELECT stale FROM publish.grid_state WHERE layer = :l AND audience = :a"
                    ),
                    grid,
                ).scalar()
            ):
                conn.execute(sa.text("SELECT publish.rebuild_point_cells(:l, :a)"), grid)
        with reader(self.data) as conn:
            tile = conn.execute(self.stored_grid(tms, z, x, y, audience)).scalar()
            if tile is None:
                tile = conn.execute(self.counted_grid(tms, z, x, y, audience)).scalar()
            return bytes(tile or b"")

    def _mvt(self, rows: Any, id_column: str | None = "feature_id") -> sa.Select:  # type: ignore[type-arg]
        """ST_AsMVT over the rows whose clipped geometry is not empty. The row's id is both the
        MVT feature id and an ``id`` attribute: QGIS (3.22) ignores feature ids, and analysts
        need the id to find the record."""
        args = [sa.literal_column("rows"), self.layer, EXTENT, "geom"]
        if id_column:
            args.append(id_column)
        return sa.select(sa.func.ST_AsMVT(*args)).select_from(
            sa.select(rows).where(rows.c.geom.isnot(None)).subquery("rows")
        )

    def stored_grid(  # type: ignore[type-arg]
        self, tms: TileMatrixSet, z: int, x: int, y: int, audience: Audience = Audience.PUBLIC
    ) -> sa.Select:
        """The tile from ``audience``'s grid in ``publish.point_cells``, or NULL if that is
        stale (one snapshot)."""
        cells = POINT_CELLS
        x0, y0 = x * GRID, y * GRID
        in_tile = (
            sa.select(cells.c.ix, cells.c.iy, cells.c.n)
            .where(
                cells.c.layer == self.table.name,
                cells.c.audience == audience.value,
                cells.c.tms == tms.code,
                cells.c.z == z,
                cells.c.ix.between(x0, x0 + GRID - 1),
                cells.c.iy.between(y0, y0 + GRID - 1),
            )
            .subquery("cells")
        )
        state = GRID_STATE
        tile = self._grid_tile(in_tile, x, y).scalar_subquery()
        return sa.select(sa.case((state.c.stale, None), else_=tile)).where(
            state.c.layer == self.table.name, state.c.audience == audience.value
        )

    def counted_grid(  # type: ignore[type-arg]
        self, tms: TileMatrixSet, z: int, x: int, y: int, audience: Audience = Audience.PUBLIC
    ) -> sa.Select:
        """The same grid counted from the audience's relation (zooms beyond the stored ones,
        or a stale grid another request is rebuilding)."""
        rel = relation(self.table, audience)
        geom = rel.c[self.geom_field]
        ix, iy = tms.cell_keys(z, geom)
        x0, y0 = x * GRID, y * GRID
        keys = (
            sa.select(ix.label("ix"), iy.label("iy"))
            .select_from(rel.source)
            .where(geom.op("&&")(tms.index_box(z, x, y, 0.0)), *rel.gate)
            .subquery("keys")
        )
        cells = (
            sa.select(keys.c.ix, keys.c.iy, sa.func.count().label("n"))
            .where(keys.c.ix.between(x0, x0 + GRID - 1), keys.c.iy.between(y0, y0 + GRID - 1))
            .group_by(keys.c.ix, keys.c.iy)
            .subquery("cells")
        )
        return self._grid_tile(cells, x, y)

    def _grid_tile(self, cells: Any, x: int, y: int) -> sa.Select:  # type: ignore[type-arg]
        """The MVT of grid cells (ix, iy, n) of tile x/y: a point at each cell's centre."""
        x0, y0 = x * GRID, y * GRID
        pixel = EXTENT // GRID
        rows = sa.select(
            sa.func.ST_Point(
                (cells.c.ix - x0 + 0.5) * pixel, (cells.c.iy - y0 + 0.5) * pixel
            ).label("geom"),
            cells.c.n.label("count"),
        ).subquery("rows")
        return self._mvt(rows, None)

    def _columns(  # type: ignore[type-arg]
        self, source: Any, geom: Any, tms: TileMatrixSet, z: int, x: int, y: int
    ) -> sa.Select:
        """A tile's rows of ``source`` (a relation with the table's columns): the geometry
        clipped to the tile, the id (as the MVT feature id and as an attribute) and the layer's
        tile fields."""
        t = source.c
        return sa.select(
            sa.func.ST_AsMVTGeom(geom, tms.envelope(z, x, y), EXTENT, 64, True).label("geom"),
            t[self.id_field].label("feature_id"),
            t[self.id_field].label("id"),
            *[t[f] for f in self.fields],
        )

    def point_features(  # type: ignore[type-arg]
        self,
        tms: TileMatrixSet,
        z: int,
        x: int,
        y: int,
        limit: int | None = None,
        audience: Audience = Audience.PUBLIC,
    ) -> sa.Select:
        """The first points by id in the tile, at most ``limit`` (``max_features``), from the
        audience's relation (of the public view of occurrences, from each of its parts:
        :func:`~vbis_geo.publish.features.first_rows`)."""
        rel = relation(self.table, audience)
        geom = rel.c[self.geom_field]
        first = first_rows(
            rel,
            [geom.op("&&")(tms.index_box(z, x, y, 64 / EXTENT)), *rel.gate],
            [rel.c[self.id_field]],
            limit or self.max_features,
        )
        rows = self._columns(first, tms.project(first.c[self.geom_field]), tms, z, x, y)
        return self._mvt(
            rows.order_by(first.c[self.id_field]).limit(limit or self.max_features).subquery("rows")
        )

    def generalised_features(  # type: ignore[type-arg]
        self,
        tms: TileMatrixSet,
        z: int,
        x: int,
        y: int,
        band: int,
        audience: Audience = Audience.PUBLIC,
    ) -> sa.Select:
        """Polygons from ``publish.generalised`` at ``band`` (which holds every row: joined to
        the table for its published ones)."""
        rel = relation(self.table, audience)
        g = GENERALISED
        geom = g.c.geom if tms.srid == 3857 else sa.func.ST_Transform(g.c.geom, 4326)
        rows = (
            self._columns(rel.source, geom, tms, z, x, y)
            .select_from(g.join(rel.source, rel.c[self.id_field] == g.c.id))
            .where(
                *rel.gate,
                g.c.layer == self.table.name,
                g.c.band == band,
                g.c.geom.op("&&")(tms.mercator_box(z, x, y, 64 / EXTENT)),
            )
            .subquery("rows")
        )
        return self._mvt(rows)

    def table_features(  # type: ignore[type-arg]
        self, tms: TileMatrixSet, z: int, x: int, y: int, audience: Audience = Audience.PUBLIC
    ) -> sa.Select:
        """Polygons beyond the stored bands, only clipped: a pixel there is under 1.2 m, finer
        than the vertex spacing of boundary data, so simplifying (once measured at z13-z14:
        most of the tile's time) would change nothing the tile can show."""
        rel = relation(self.table, audience)
        geom = rel.c[self.geom_field]
        rows = (
            self._columns(rel.source, tms.project(geom), tms, z, x, y)
            .where(geom.op("&&")(tms.index_box(z, x, y, 64 / EXTENT)), *rel.gate)
            .subquery("rows")
        )
        return self._mvt(rows)

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
        tms = MATRIX_SETS.get(tileset or "")
        if tms is None:
            raise ProviderTilesetIdNotFoundError(user_msg=f"no tile matrix set {tileset!r}")
        tiles_url = f"{server_url}/collections/{dataset}/tiles/{tms.id}/{{z}}/{{y}}/{{x}}?f=mvt"
        if fmt == "html":  # what pygeoapi's collections/tiles/metadata.html template reads
            base = f"{server_url}/collections/{dataset}/tiles/{tms.id}/metadata"
            return {
                "id": dataset,
                "title": title or dataset,
                "tileset": tms.id,
                "collections_path": tiles_url,
                "json_url": f"{base}?f=json",
                "tilejson_url": f"{base}?f=tilejson",
                "metadata": {
                    "minzoom": int(self.zoom.get("min", 0)),
                    "maxzoom": int(self.zoom.get("max", 22)),
                    "bounds": BOUNDS,
                    "crs": tms.crs,
                    "fields": ", ".join(self._vector_fields()),
                },
            }
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
                "crs": tms.crs,
                "tileMatrixSetURI": tms.uri,
                "links": [
                    {
                        "rel": "item",
                        "type": self.mimetype,
                        "templated": True,
                        "href": f"{server_url}/collections/{dataset}/tiles/{tms.id}"
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
        fields = {"id": "Number (the row's id)", **{name: "String" for name in self.fields}}
        if self.grid_until_zoom >= 0:
            fields["count"] = "Number (points in the cell, zooms up to "
            fields["count"] += f"{self.grid_until_zoom})"
        return fields
