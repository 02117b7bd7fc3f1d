"""Approximate shapes: a plausible irregular boundary of a given area around a centre.

Shapes are built in a local Lambert azimuthal equal-area projection centred on the point, so
that the area asked for is the area obtained, then returned in lon/lat (EPSG:4326).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

N_VERTICES = 96


@lru_cache(maxsize=512)
def _laea(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    crs = f"+proj=laea +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    return (
        Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )


def to_local(geom: BaseGeometry, lon: float, lat: float) -> BaseGeometry:
    """``geom`` (lon/lat) in metres of the equal-area projection centred on (lon, lat)."""
    return _reproject(geom, _laea(lon, lat)[0])


def to_lonlat(geom: BaseGeometry, lon: float, lat: float) -> BaseGeometry:
    """Inverse of :func:`to_local`."""
    return _reproject(geom, _laea(lon, lat)[1])


def _reproject(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def coords(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, coords)


def blob(rng: np.random.Generator, area_m2: float, elongation: float = 1.6) -> Polygon:
    """An irregular star-shaped polygon of exactly ``area_m2`` centred on (0, 0), in metres.

    The radius varies with a few random harmonics; the whole is stretched along a random axis
    (protected areas follow ridges and valleys) and rescaled to the area.
    """
    theta = np.linspace(0.0, 2.0 * math.pi, N_VERTICES, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 7):
        radius += rng.uniform(0.02, 0.18) / k**0.6 * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    radius = np.clip(radius, 0.35, None)
    stretch = rng.uniform(1.0, elongation)
    x, y = radius * np.cos(theta) * stretch, radius * np.sin(theta) / stretch
    angle = rng.uniform(0, math.pi)
    xr = x * math.cos(angle) - y * math.sin(angle)
    yr = x * math.sin(angle) + y * math.cos(angle)
    shape = Polygon(np.column_stack([xr, yr]))
    return shapely.affinity.scale(shape, *(2 * [math.sqrt(area_m2 / shape.area)]), origin=(0, 0))


def area_around(
    rng: np.random.Generator, lon: float, lat: float, area_ha: float, elongation: float = 1.6
) -> Polygon:
    """An approximate boundary of ``area_ha`` hectares around (lon, lat), in lon/lat."""
    return to_lonlat(blob(rng, area_ha * 10_000.0, elongation), lon, lat)  # type: ignore[return-value]


def corridor(waypoints: list[tuple[float, float]], width_km: float) -> Polygon:
    """A corridor of ``width_km`` along the waypoints (lon/lat), as a lon/lat polygon."""
    lon, lat = np.mean(waypoints, axis=0)
    line = to_local(LineString(waypoints), lon, lat)
    return to_lonlat(line.buffer(width_km * 500.0, quad_segs=8), lon, lat)  # type: ignore[return-value]


def as_multipolygon(geom: BaseGeometry, min_area_fraction: float = 0.0) -> MultiPolygon | None:
    """The polygonal parts of ``geom`` as a valid MultiPolygon (None if nothing remains).

    Parts smaller than ``min_area_fraction`` of the largest part (slivers left by differences)
    are dropped.
    """
    parts = [p for p in _polygon_parts(shapely.make_valid(geom)) if not p.is_empty]
    if not parts:
        return None
    largest = max(p.area for p in parts)
    parts = [p for p in parts if p.area >= largest * min_area_fraction]
    result = MultiPolygon(parts)
    return result if result.is_valid else as_multipolygon(result.buffer(0))


def random_points_in(rng: np.random.Generator, polygon: BaseGeometry, n: int) -> np.ndarray:
    """``n`` points drawn uniformly inside ``polygon`` (lon/lat), as an (n, 2) array."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out = np.empty((0, 2))
    while len(out) < n:
        batch = max(64, 2 * (n - len(out)))
        xs = rng.uniform(minx, maxx, batch)
        ys = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(polygon, xs, ys)
        out = np.vstack([out, np.column_stack([xs[inside], ys[inside]])])
    return out[:n]


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    return [p for part in getattr(geom, "geoms", []) for p in _polygon_parts(part)]
