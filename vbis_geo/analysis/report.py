"""The report of a polygon: its species, the protected areas and zones it touches, and its land
cover (an area report, as the Atlas of Living Australia's, with Vietnam's lists and zones).

* The polygon comes as GeoJSON (a Polygon or MultiPolygon, or a Feature with one) or WKT, in any
  CRS :func:`vbis_geo.geodesy.resolve_crs` reads, coordinates in the GIS order (longitude/latitude
  or easting/northing, as GeoJSON and WKT write them). It is checked before anything is read:
  valid (no self-intersection; the reason and place are named), at most :data:`MAX_VERTICES`
  vertices and :data:`MAX_AREA_KM2` km² (:class:`LimitExceeded` naming the limit). The largest
  provincial unit (Lâm Đồng since 2025, about 24,240 km²) fits: any province can be reported on.
* Records: the points inside the polygon, boundary included (``ST_Intersects``, the rule of
  :mod:`vbis_geo.analysis.assignment`), read from the relation of the audience asking
  (:mod:`vbis_geo.analysis.access`): for the public, a sensitive record is inside when its
  generalised point is, so a polygon drawn tightly around an exact spot finds nothing; species
  and summary as :func:`vbis_geo.analysis.species.species_in_area` gives them.
* Areas (hectares): in EPSG:6933, the equal-area CRS of every stored ``area_ha`` /
  ``gis_area_ha`` (:data:`vbis_geo.db.base.EQUAL_AREA_SRID`), so that an overlap compares with
  the area it is part of. An equal-area projection gives exact ellipsoidal areas wherever the
  polygon lies (a Vietnam Albers would give the same areas); EPSG:6933 is cylindrical, so a
  box of longitudes and latitudes -- a drawn rectangle, a raster pixel -- stays a rectangle and
  its area is exact, where a conic projection bends its parallels. Its shapes are distorted in
  Vietnam's latitudes, which does not matter to an area.
* Land cover: zonal statistics of the land-cover raster (``layers/rasters/landcover.yml``,
  CGLS-LC100 classes) with rasterio: the polygon is taken into the raster's CRS, a pixel counts
  when its centre is inside (GDAL's rasterisation rule, as rasterstats and QGIS zonal statistics
  count), and each pixel weighs its own area on the ellipsoid: in a geographic raster a 100 m
  pixel shrinks with cos(latitude) (~7% between Cà Mau and Hà Giang), so pixel counts are not
  areas.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer
from rasterio.features import geometry_mask
from rasterio.windows import Window
from shapely import wkt as shapely_wkt
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import Audience, published
from vbis_geo.analysis.inputs import place_crs, to_wgs84_from
from vbis_geo.analysis.places import in_force
from vbis_geo.analysis.species import species_of_records
from vbis_geo.analysis.taxa import TaxonFilter
from vbis_geo.db.base import EQUAL_AREA_SRID
from vbis_geo.errors import InvalidInput
from vbis_geo.geodesy import to_wgs84
from vbis_geo.ingest.rasters import raster_layers

#: the raster layer whose classes a report counts (layers/rasters/landcover.yml)
LANDCOVER = "landcover"
#: the largest polygon reported on (km², in the equal-area CRS): every province fits
MAX_AREA_KM2 = 25_000
#: the most vertices a polygon may have (all its rings)
MAX_VERTICES = 10_000
#: a report's SQL is cancelled after this many seconds (a safety net under the limits)
STATEMENT_TIMEOUT_S = 60
#: edges of a polygon given in another CRS are split to at most this length before the
#: transformation, so that a straight edge of a projected CRS keeps its course in WGS 84
_DENSIFY_METRES = 1_000.0
_DENSIFY_DEGREES = 0.01
#: an outline that densifying would split into more vertices than this is refused unread
_MAX_DENSIFIED_VERTICES = 200_000
_POLYGON_TYPES = ("Polygon", "MultiPolygon")
_WKT_HINT = "e.g. POLYGON((105.80 21.00, 105.90 21.00, 105.90 21.10, 105.80 21.00))"
_GEOJSON_HINT = (
    'e.g. {"type": "Polygon", "coordinates": [[[105.8, 21.0], [105.9, 21.0], [105.9, 21.1], '
    "[105.8, 21.0]]]}, a Feature with such a geometry, or WKT"
)


class LimitExceeded(InvalidInput):
    """A polygon too large or too complex to report on (the message names the limit)."""


def parse_geometry(value: object, field: str = "geometry") -> tuple[BaseGeometry, str | None]:
    """The polygon ``value`` holds: a GeoJSON Polygon/MultiPolygon (a dict), a Feature with one,
    or WKT/EWKT text; with the CRS it names itself (EWKT's ``SRID=``, old GeoJSON's ``crs``
    member), else None.

    Raises :class:`InvalidInput` naming ``field`` and the expected form, and
    :class:`LimitExceeded` for more than :data:`MAX_VERTICES` vertices.
    """
    named: str | None = None
    if isinstance(value, str):
        text = value.strip()
        if text.upper().startswith("SRID="):
            srid, _, text = text.partition(";")
            named = f"EPSG:{srid[5:].strip()}"
        try:
            geom = shapely_wkt.loads(text)
        except shapely.errors.ShapelyError as exc:
            raise InvalidInput(f"{field}: not WKT ({exc})", hint=_WKT_HINT) from None
        except NotImplementedError:  # curved geometries (CURVEPOLYGON, MULTISURFACE...)
            kind = text.split("(", 1)[0].strip().upper()
            raise InvalidInput(
                f"{field}: a {kind}; expected a Polygon or MultiPolygon (straight edges)",
                hint=_WKT_HINT,
            ) from None
    elif isinstance(value, dict):
        value, named = _geojson_geometry(value, field)
        try:
            geom = shape(value)
        except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise InvalidInput(
                f"{field}: malformed GeoJSON {value.get('type')} ({exc})", hint=_GEOJSON_HINT
            ) from None
    else:
        raise InvalidInput(
            f"{field}: expected a GeoJSON object or WKT text, not {type(value).__name__}",
            hint=_GEOJSON_HINT,
        )
    if geom.geom_type not in _POLYGON_TYPES:
        raise InvalidInput(
            f"{field}: a {geom.geom_type}; expected a Polygon or MultiPolygon", hint=_GEOJSON_HINT
        )
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > MAX_VERTICES:
        raise LimitExceeded(
            f"{field}: the polygon has {vertices:,} vertices; the limit is {MAX_VERTICES:,}",
            hint="simplify it first (QGIS: Vector > Geometry Tools > Simplify; "
            "PostGIS: ST_SimplifyPreserveTopology)",
        )
    if geom.is_empty:
        raise InvalidInput(f"{field}: the polygon is empty")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise InvalidInput(f"{field}: a coordinate is not a finite number")
    return geom, named


def _geojson_geometry(obj: dict[str, Any], field: str) -> tuple[dict[str, Any], str | None]:
    """The GeoJSON geometry object of ``obj`` (itself, or a Feature's), and the CRS its
    pre-RFC 7946 ``crs`` member names (QGIS still writes one for projected layers)."""
    named = None
    crs = obj.get("crs")
    if isinstance(crs, dict) and isinstance(crs.get("properties"), dict):
        named = crs["properties"].get("name")
        if named is not None and not isinstance(named, str):
            raise InvalidInput(
                f"{field}.crs.properties.name: expected a CRS name as text, such as "
                f"'urn:ogc:def:crs:EPSG::3405', not {named!r}",
                hint="or leave the crs member out and give crs=EPSG:3405",
            )
    kind = obj.get("type")
    if kind == "Feature":
        geometry = obj.get("geometry")
        if not isinstance(geometry, dict):
            raise InvalidInput(f"{field}: a Feature without a geometry", hint=_GEOJSON_HINT)
        inner, inner_named = _geojson_geometry(geometry, f"{field}.geometry")
        return inner, named or inner_named
    if kind in _POLYGON_TYPES:
        if not isinstance(obj.get("coordinates"), list):
            raise InvalidInput(
                f"{field}.coordinates: expected an array of linear rings of [x, y] positions",
                hint=_GEOJSON_HINT,
            )
        return obj, named
    if kind == "FeatureCollection":
        raise InvalidInput(
            f"{field}: a FeatureCollection; expected one Polygon or MultiPolygon (or a Feature "
            "with one)",
            hint="merge the features first, or ask for each",
        )
    if kind is None:
        raise InvalidInput(f'{field}: a JSON object without "type"', hint=_GEOJSON_HINT)
    raise InvalidInput(
        f"{field}: a GeoJSON {kind}; expected a Polygon or MultiPolygon", hint=_GEOJSON_HINT
    )


def polygon_crs(given: Sequence[tuple[str, object]], field: str = "crs") -> str:
    """The CRS of a polygon from the places that may give it, ``(where, spec)`` pairs in order
    of precedence (a request's body and query, the geometry's own: EWKT ``SRID=``, a GeoJSON
    ``crs`` member); those given must agree. EPSG:4326 when none is given.

    Raises :class:`InvalidInput` naming ``field`` for a spec that is not text, not a CRS of
    places (:func:`~vbis_geo.analysis.inputs.place_crs`), or that disagrees with another."""
    specs = []
    for where, spec in given:
        if spec is None or spec == "":
            continue
        if not isinstance(spec, str):
            raise InvalidInput(f"{field}: expected text such as 'EPSG:3405', not {spec!r}")
        if spec.strip():
            specs.append((where, spec.strip(), place_crs(spec.strip(), field)))
    for where, spec, crs in specs[1:]:
        first_where, first, first_crs = specs[0]
        if not crs.equals(first_crs, ignore_axis_order=True):
            raise InvalidInput(
                f"{field}: the {first_where} says {first!r}, the {where} {spec!r}",
                hint="give the CRS once (the geometry's own: EWKT SRID=, GeoJSON crs member)",
            )
    return specs[0][1] if specs else "EPSG:4326"


def landcover_source(raster_dir: Path, layers_dir: Path) -> tuple[Path, dict[int, str]] | None:
    """The land-cover raster (``<raster_dir>/landcover.tif``, as ``vbis-geo raster load``
    writes it) and its class names (``<layers_dir>/rasters/landcover.yml``); None when it is
    not loaded (a report without land cover)."""
    path = raster_dir / f"{LANDCOVER}.tif"
    if not path.is_file():
        return None
    layers = {r.id: r for r in raster_layers(layers_dir)}
    return path, dict(layers[LANDCOVER].classes) if LANDCOVER in layers else {}


def polygon_in_wgs84(
    geom: BaseGeometry, crs: str = "EPSG:4326", field: str = "geometry"
) -> BaseGeometry:
    """``geom`` (in ``crs``, GIS axis order) in WGS 84 longitude/latitude, checked: valid, on
    the globe, at most :data:`MAX_AREA_KM2`.

    Raises :class:`InvalidInput` for an invalid polygon (naming the reason and where, in the
    CRS given), a CRS that is not one of places (:func:`~vbis_geo.analysis.inputs.place_crs`:
    unreadable, geocentric, vertical, not of the Earth), or coordinates off the globe;
    :class:`LimitExceeded` for a polygon too large.
    """
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise InvalidInput(
            f"{field}: the polygon is not valid: {reason} (coordinates in {crs})",
            hint="rings must not cross themselves or each other; repair it first "
            "(QGIS: Vector > Geometry Tools > Fix Geometries; PostGIS: ST_MakeValid)",
        )
    source = place_crs(crs)
    if not _is_wgs84(source):
        if source.is_geographic:
            step = _DENSIFY_DEGREES
        else:  # 1 km in the CRS's unit (metres per unit: the axis's conversion factor)
            step = _DENSIFY_METRES / (source.axis_info[0].unit_conversion_factor or 1.0)
        if geom.length / step > _MAX_DENSIFIED_VERTICES:  # far beyond the area limit
            raise LimitExceeded(
                f"{field}: the polygon's outline is {geom.length:,.0f} units of {crs} long, "
                f"far more than a polygon of the limit, {MAX_AREA_KM2:,} km², can have",
                hint="are the coordinates in the CRS given?",
            )
        geom = _transformed(shapely.segmentize(geom, step), to_wgs84_from(source, crs))
    coords = shapely.get_coordinates(geom)
    if (
        not np.isfinite(coords).all()
        or (np.abs(coords[:, 0]) > 180).any()
        or (np.abs(coords[:, 1]) > 90).any()
    ):
        raise InvalidInput(
            f"{field}: coordinates off the globe in {crs} (are they in the CRS given, x before y?)",
            hint="coordinates are x, y: longitude then latitude, or easting then northing",
        )
    if not geom.is_valid:
        raise InvalidInput(
            f"{field}: the polygon is not valid once in WGS 84: {shapely.is_valid_reason(geom)}"
        )
    area_km2 = equal_area_m2(geom) / 1e6
    if area_km2 > MAX_AREA_KM2:
        raise LimitExceeded(
            f"{field}: the polygon covers {area_km2:,.0f} km²; the limit is {MAX_AREA_KM2:,} km²",
            hint="split it into parts and ask for each (every province fits in one)",
        )
    return geom


def equal_area_m2(geom: BaseGeometry) -> float:
    """The area (m²) of a WGS 84 polygon in the equal-area CRS, as PostGIS's
    ``ST_Area(ST_Transform(geom, 6933))`` computes it."""
    return float(_transformed(geom, _to_equal_area()).area)


def area_report(
    conn: Connection,
    polygon: BaseGeometry,
    *,
    audience: Audience,
    as_of: dt.date | None = None,
    taxa: TaxonFilter | None = None,
    landcover: tuple[Path, Mapping[int, str]] | None = None,
) -> dict[str, Any]:
    """The report of a WGS 84 ``polygon`` (checked by :func:`polygon_in_wgs84`): species with
    statuses and the summary of :func:`species_in_area` (threatened, endemic, invasive...), the
    protected areas and zones it touches with the overlap in hectares, and its land cover from
    ``landcover`` (the raster's path and class names; None: no land cover). Records are those
    ``audience`` sees, at the points it sees.

    ``as_of``: records made by then and the areas in force then; None: every record, and the
    areas in force today.

    Raises :class:`LimitExceeded` when the SQL takes longer than :data:`STATEMENT_TIMEOUT_S`.
    """
    taxa = taxa or TaxonFilter()
    areas_on = as_of or dt.date.today()
    wkb = shapely.to_wkb(polygon, output_dimension=2)
    polygon_sql = "ST_GeomFromWKB(CAST(:polygon AS bytea), 4326)"
    params: dict[str, object] = {"polygon": wkb}
    records = f"""
        SELECT o.id, o.taxon_id, o.event_date, o.coordinate_uncertainty_m, o.geom
        FROM {audience.relation} o WHERE ST_Intersects(o.geom, {polygon_sql})
    """  # noqa: S608 (fixed fragments; the polygon is bound)
    boundary = f"SELECT ST_Boundary({polygon_sql})::geography"
    area_ha = equal_area_m2(polygon) / 10_000
    conn.execute(sa.text(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT_S}s'"))
    try:
        species, summary = species_of_records(
            conn, records, boundary, params, as_of=as_of, taxa=taxa
        )
        protected = _overlaps(conn, "protected_areas", polygon_sql, params, areas_on, area_ha)
        zones = _overlaps(conn, "pa_zones", polygon_sql, params, areas_on, area_ha)
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            raise LimitExceeded(
                f"the report took longer than {STATEMENT_TIMEOUT_S} s and was stopped",
                hint="ask for a smaller or simpler polygon",
            ) from None
        raise
    minx, miny, maxx, maxy = polygon.bounds
    return {
        "polygon": {
            "area_ha": area_ha,
            "vertices": int(shapely.get_num_coordinates(polygon)),
            "bbox_4326": [minx, miny, maxx, maxy],
        },
        "audience": audience.value,
        "as_of": as_of.isoformat() if as_of else None,
        "areas_in_force_on": areas_on.isoformat(),
        "filters": taxa.as_dict(),
        "summary": summary,
        "species": species,
        "protected_areas": protected,
        "pa_zones": zones,
        "land_cover": land_cover(landcover[0], landcover[1], polygon) if landcover else None,
        "limits": {"max_area_km2": MAX_AREA_KM2, "max_vertices": MAX_VERTICES},
    }


def _overlaps(
    conn: Connection,
    layer: str,
    polygon_sql: str,
    params: dict[str, object],
    as_of: dt.date,
    polygon_ha: float,
) -> list[dict[str, Any]]:
    """The areas of ``layer`` (protected_areas or pa_zones) in force on ``as_of`` that the
    polygon touches, with the overlap in hectares (summed over the disjoint subdivided parts)
    and its shares of the polygon and of the area."""
    if layer == "protected_areas":
        columns = "a.legal_category, a.iucn_category, a.status, a.gis_area_ha AS area_ha"
        join, condition = "", f"{in_force('a')} AND {published('a', layer)}"
    else:
        columns = "a.zone_type, pa.code AS protected_area_code, a.area_ha"
        join = "JOIN protected_areas pa ON pa.id = a.protected_area_id"
        condition = (
            f"{in_force('a')} AND {in_force('pa')} AND {published('a', layer)} "
            f"AND {published('pa', 'protected_areas')}"
        )
    sql = f"""
        WITH q AS (SELECT {polygon_sql} AS geom), parts AS (
            SELECT p.area_id,
                   sum(ST_Area(ST_Transform(ST_Intersection(p.geom, q.geom), {EQUAL_AREA_SRID})))
                       / 10000.0 AS overlap_ha
            FROM analysis.area_parts p, q
            WHERE p.layer = :layer AND ST_Intersects(p.geom, q.geom)
            GROUP BY p.area_id
        )
        SELECT a.code, a.name_vi, a.name_en, {columns}, parts.overlap_ha
        FROM parts JOIN {layer} a ON a.id = parts.area_id {join}
        WHERE {condition}
        ORDER BY parts.overlap_ha DESC, a.code
    """  # noqa: S608 (layer and fragments fixed; values bound)
    rows = conn.execute(sa.text(sql), params | {"layer": layer, "as_of": as_of}).mappings()
    out = []
    for row in rows:
        item = dict(row)
        item["share_of_polygon"] = item["overlap_ha"] / polygon_ha if polygon_ha else None
        item["share_of_area"] = item["overlap_ha"] / item["area_ha"] if item["area_ha"] else None
        out.append(item)
    return out


def land_cover(path: Path, classes: Mapping[int, str], polygon: BaseGeometry) -> dict[str, Any]:
    """The land cover inside a WGS 84 ``polygon`` from the categorical raster at ``path``: per
    class its pixels, hectares and share of the classified area; ``covered_ha`` (the pixels
    with a class) and ``coverage`` (their share of the polygon: below 1 where the raster ends).

    A pixel counts when its centre is inside; its area is its own, on the ellipsoid
    (:func:`pixel_areas_m2`). Raises :class:`InvalidInput` when the raster cannot be read.
    """
    polygon_ha = equal_area_m2(polygon) / 10_000
    answer: dict[str, Any] = {
        "raster": path.stem,
        "rule": "a pixel counts when its centre is inside the polygon",
        "pixels": 0,
        "covered_ha": 0.0,
        "coverage": 0.0,
        "classes": [],
    }
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidInput(f"the land-cover raster cannot be read ({exc})") from None
    with src:
        outline = polygon
        if src.crs is None:
            raise InvalidInput(f"the land-cover raster {path.name} has no CRS")
        raster_crs = CRS.from_user_input(src.crs.to_wkt())
        if not _is_wgs84(raster_crs):
            # densified in degrees so that the outline keeps its course in the raster's CRS
            to_raster = to_wgs84(raster_crs)
            outline = shapely.transform(
                shapely.segmentize(polygon, _DENSIFY_DEGREES),
                lambda xy: np.column_stack(
                    to_raster.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
                ),
            )
        window = _window(src, outline)
        if window is None:  # the polygon is outside the raster
            return answer
        window_transform = src.window_transform(window)
        data = src.read(1, window=window, masked=True)
        inside = geometry_mask(
            [mapping(outline)], out_shape=data.shape, transform=window_transform, invert=True
        )
        counted = inside & ~np.ma.getmaskarray(data)
        areas = pixel_areas_m2(raster_crs, window_transform, data.shape)
        areas = np.broadcast_to(areas, data.shape)
        codes = np.asarray(data.data)[counted]
        weights = areas[counted]
    values, index = np.unique(codes, return_inverse=True)
    pixels = np.bincount(index, minlength=len(values))
    hectares = np.bincount(index, weights=weights, minlength=len(values)) / 10_000
    covered_ha = float(hectares.sum())
    answer["pixels"] = int(pixels.sum())
    answer["covered_ha"] = covered_ha
    answer["coverage"] = min(1.0, covered_ha / polygon_ha) if polygon_ha else 0.0
    answer["classes"] = sorted(
        (
            {
                "code": int(code),
                "name": classes.get(int(code)),
                "pixels": int(n),
                "area_ha": float(ha),
                "share": float(ha) / covered_ha if covered_ha else 0.0,
            }
            for code, n, ha in zip(values, pixels, hectares, strict=True)
        ),
        key=lambda c: (-c["area_ha"], c["code"]),
    )
    return answer


def pixel_areas_m2(crs: CRS, transform: Any, shape_: tuple[int, int]) -> np.ndarray:
    """The ellipsoidal area (m²) of each pixel of a grid, by its corners in the equal-area CRS.

    For a north-up WGS 84 grid a row's pixels are equal: the result is a column (rows x 1),
    each pixel a box of longitudes and latitudes, exact in the cylindrical equal-area CRS. For
    any other grid each pixel's corners are taken to WGS 84 (:func:`to_wgs84`: VN-2000 by the
    official Helmert) and then to the equal-area CRS, and its area is their quadrilateral's.
    """
    rows, cols = shape_
    to_area = _to_equal_area()
    if _is_wgs84(crs) and transform.b == 0 and transform.d == 0:
        lats = transform.f + transform.e * np.arange(rows + 1)
        lon0 = np.full(rows + 1, transform.c)
        x0, y = to_area.transform(lon0, lats)
        x1, _ = to_area.transform(lon0 + transform.a, lats)
        return (np.abs(np.diff(y)) * np.abs(x1 - x0)[:-1]).reshape(rows, 1)
    jj, ii = np.meshgrid(np.arange(cols + 1), np.arange(rows + 1))
    xs = transform.a * jj + transform.b * ii + transform.c
    ys = transform.d * jj + transform.e * ii + transform.f
    lon, lat = to_wgs84(crs).transform(xs, ys)
    x, y = to_area.transform(lon, lat)
    # shoelace over each pixel's four corners (top-left, top-right, bottom-right, bottom-left)
    corners = [(x[:-1, :-1], y[:-1, :-1]), (x[:-1, 1:], y[:-1, 1:]), (x[1:, 1:], y[1:, 1:])]
    corners.append((x[1:, :-1], y[1:, :-1]))
    twice = sum(
        cx * ny - nx * cy
        for (cx, cy), (nx, ny) in zip(corners, corners[1:] + corners[:1], strict=True)
    )
    return np.abs(twice) / 2


def _window(src: Any, outline: BaseGeometry) -> Window | None:
    """The raster's window around ``outline`` (in the raster's CRS): whole pixels, cut to the
    raster; None when they do not meet."""
    t = ~src.transform
    minx, miny, maxx, maxy = outline.bounds
    corners = [(minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)]
    cols = [t.a * x + t.b * y + t.c for x, y in corners]
    rows = [t.d * x + t.e * y + t.f for x, y in corners]
    col0, col1 = max(0, math.floor(min(cols))), min(src.width, math.ceil(max(cols)))
    row0, row1 = max(0, math.floor(min(rows))), min(src.height, math.ceil(max(rows)))
    if col0 >= col1 or row0 >= row1:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _transformed(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def _to_equal_area() -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"EPSG:{EQUAL_AREA_SRID}", always_xy=True)


def _is_wgs84(crs: CRS) -> bool:
    return crs.is_geographic and crs.equals("OGC:CRS84", ignore_axis_order=True)
