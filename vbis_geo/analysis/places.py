"""What is here: the areas that contain a point, and the nearest protected area.

A point is given in any CRS :func:`vbis_geo.geodesy.resolve_crs` reads, as ``x``/``y`` in the
GIS order (longitude/latitude for a geographic CRS, easting/northing for a projected one), even
where the CRS's own definition puts latitude first (EPSG:4326, EPSG:4756); VN-2000 CRSs are
shifted to WGS 84 by the official Helmert (:func:`vbis_geo.geodesy.to_wgs84`).

Containment reads ``analysis.area_parts`` (areas cut into parts of at most 128 vertices, so a
point test reads small polygons) and follows the boundary rule of
:mod:`vbis_geo.analysis.assignment`: a point on a boundary is inside (``ST_Intersects``), so a
point on the border of two provinces is in both. Only areas in force on the date asked are kept
(their validity dates include it): provinces are the 63 until 2025-06-30 and the 34 from
2025-07-01.

The distance to the nearest protected area is geodesic (``geography``, on the WGS 84
ellipsoid), 0 inside one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from pyproj import CRS
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import published
from vbis_geo.analysis.inputs import place_crs, to_wgs84_from
from vbis_geo.errors import InvalidInput

#: the layers of a what's-here answer: area table -> the key of its list in the answer
LAYERS = {
    "admin_units": "provinces",
    "protected_areas": "protected_areas",
    "pa_zones": "pa_zones",
    "wetlands": "wetlands",
    "ecosystems": "ecosystems",
    "planning_zones": "planning_zones",
}
#: the columns each layer shows besides code and names
_COLUMNS = {
    "admin_units": "a.level, a.iso_3166_2",
    "protected_areas": "a.legal_category, a.iucn_category, a.status, a.gis_area_ha",
    "pa_zones": "a.zone_type, pa.code AS protected_area_code, a.area_ha",
    "wetlands": "a.wetland_type, a.ramsar_year, a.area_ha",
    "ecosystems": "a.ecosystem_type, a.area_ha",
    "planning_zones": "a.zone_type, a.area_ha",
}
#: the shortest length of a degree of latitude and of longitude at the equator on the WGS 84
#: ellipsoid (metres): lower bounds that turn a distance into a safe search box in degrees
_M_PER_DEGREE_LAT_MIN = 110_574.0
_M_PER_DEGREE_LON_EQUATOR = 111_319.0

_WGS84_SPECS = {"EPSG:4326", "OGC:CRS84", "CRS84", "WGS84"}


@dataclasses.dataclass(frozen=True)
class Point:
    """A point as given (``x``, ``y`` in ``crs``) and in WGS 84 (``lon``, ``lat``)."""

    x: float
    y: float
    crs: str
    lon: float
    lat: float

    def as_dict(self) -> dict[str, Any]:
        return {"lon": self.lon, "lat": self.lat, "crs": self.crs, "x": self.x, "y": self.y}


def locate(x: float, y: float, crs: str = "EPSG:4326") -> Point:
    """The point ``x``, ``y`` of ``crs`` (GIS order) in WGS 84.

    Raises :class:`InvalidInput` for a CRS :func:`~vbis_geo.geodesy.resolve_crs` does not read
    or that is not one of places (:func:`~vbis_geo.analysis.inputs.place_crs`), a coordinate
    that is not finite, or a point that falls outside the CRS's domain or off the globe.
    """
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput(f"the point ({x}, {y}) has a coordinate that is not a finite number")
    spec = crs.strip()
    if spec.upper() in _WGS84_SPECS:
        lon, lat = x, y
    else:
        source: CRS = place_crs(spec)
        lon, lat = to_wgs84_from(source, spec).transform(x, y, errcheck=False)
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
        swapped = spec.upper() in _WGS84_SPECS and abs(x) <= 90 < abs(y) <= 180
        raise InvalidInput(
            f"the point ({x}, {y}) in {spec} is not a place on the globe",
            hint="longitude and latitude look swapped: give lon (x) first, then lat (y)"
            if swapped
            else "x is the easting (or longitude), y the northing (or latitude) of the CRS",
        )
    return Point(x=x, y=y, crs=spec, lon=float(lon), lat=float(lat))


def in_force(alias: str, date_param: str = "as_of") -> str:
    """SQL: the area ``alias`` is in force on the date ``:date_param`` (validity inclusive)."""
    return (
        f"(({alias}.valid_from IS NULL OR {alias}.valid_from <= :{date_param}) "
        f"AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= :{date_param}))"
    )


def whats_here(conn: Connection, point: Point, as_of: dt.date) -> dict[str, Any]:
    """The areas of every layer that contain ``point`` on ``as_of`` (lists, since areas can
    overlap and a boundary point is in the areas on both sides), and the nearest protected
    area in force then with its geodesic distance in metres (0 inside one; None when there is
    no protected area at all)."""
    params = {"lon": point.lon, "lat": point.lat, "as_of": as_of}
    hits = conn.execute(
        sa.text(
            "SELECT DISTINCT layer, area_id FROM analysis.area_parts "
            "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        ),
        params,
    ).all()
    ids: dict[str, list[int]] = {}
    for layer, area_id in hits:
        ids.setdefault(layer, []).append(area_id)
    answer: dict[str, Any] = {"point": point.as_dict(), "as_of": as_of.isoformat()}
    for layer, key in LAYERS.items():
        answer[key] = _areas(conn, layer, ids.get(layer, []), as_of) if layer in ids else []
    inside = answer["protected_areas"]
    if inside:
        nearest: dict[str, Any] | None = {
            **{k: inside[0][k] for k in ("code", "name_vi", "name_en")},
            "distance_m": 0.0,
        }
    else:
        nearest = _nearest_protected_area(conn, params)
    answer["nearest_protected_area"] = nearest
    return answer


def _areas(conn: Connection, layer: str, ids: list[int], as_of: dt.date) -> list[dict[str, Any]]:
    """The areas of ``layer`` among ``ids`` in force on ``as_of``, by code."""
    join, condition = "", f"{in_force('a')} AND {published('a', layer)}"
    if layer == "pa_zones":  # a zone is in force while its protected area is
        join = "JOIN protected_areas pa ON pa.id = a.protected_area_id"
        condition += f" AND {in_force('pa')} AND {published('pa', 'protected_areas')}"
    sql = f"""
        SELECT a.code, a.name_vi, a.name_en, {_COLUMNS[layer]}, a.valid_from, a.valid_to
        FROM {layer} a {join}
        WHERE a.id = ANY(:ids) AND {condition}
        ORDER BY a.code
    """  # noqa: S608 (layer and columns from fixed tables; values bound)
    rows = conn.execute(sa.text(sql), {"ids": ids, "as_of": as_of}).mappings()
    return [
        {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()} for row in rows
    ]


def _nearest_protected_area(conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
    """The protected area in force nearest to a point outside all of them, geodesically.

    The part nearest in degrees (the index's order) gives an upper bound ``d`` of the geodesic
    distance; every part closer than ``d`` lies in a box of ``d`` turned into degrees with the
    shortest degree lengths (a degree of latitude is at least 110,574 m, one of longitude at
    least 111,319 m x cos(latitude)), so the geodesic minimum over that box is the minimum.
    """
    point = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
    upper = conn.execute(
        sa.text(
            f"""
            SELECT ST_Distance(p.geom::geography, {point}::geography)
            FROM analysis.area_parts p JOIN protected_areas a ON a.id = p.area_id
            WHERE p.layer = 'protected_areas' AND {in_force("a")}
              AND {published("a", "protected_areas")}
            ORDER BY p.geom <-> {point} LIMIT 1
            """  # noqa: S608 (fixed fragments; values bound)
        ),
        params,
    ).scalar_one_or_none()
    if upper is None:
        return None
    lat = params["lat"]
    margin = 1.001  # for the rounding of the distances
    dlat = upper * margin / _M_PER_DEGREE_LAT_MIN
    far_lat = abs(lat) + dlat
    box = ""
    box_params: dict[str, Any] = {}
    if far_lat < 89.0:
        dlon = upper * margin / (_M_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(far_lat)))
        if abs(params["lon"]) + dlon < 180.0:  # a box across the antimeridian: no box
            box = "AND p.geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
            box_params = {
                "w": params["lon"] - dlon,
                "e": params["lon"] + dlon,
                "s": lat - dlat,
                "n": lat + dlat,
            }
    row = conn.execute(
        sa.text(
            f"""
            SELECT a.code, a.name_vi, a.name_en,
                   min(ST_Distance(p.geom::geography, {point}::geography)) AS distance_m
            FROM analysis.area_parts p JOIN protected_areas a ON a.id = p.area_id
            WHERE p.layer = 'protected_areas' AND {in_force("a")}
              AND {published("a", "protected_areas")} {box}
            GROUP BY a.code, a.name_vi, a.name_en
            ORDER BY distance_m, a.code LIMIT 1
            """  # noqa: S608 (fixed fragments; values bound)
        ),
        params | box_params,
    ).one()
    return dict(row._mapping)
