"""Coordinates: which CRS a file is in, whether its coordinates are plausible for Vietnam, and
their transformation to storage (EPSG:4326) with the official VN-2000 parameters.

Detected and reported rather than loaded: latitude and longitude swapped, projected coordinates
declared as degrees (and the reverse), a TM-3 file declared with the wrong central meridian
(features far outside their stated province), points outside Vietnam and its waters.

Invalid geometries are repaired only when the repair is unambiguous: GEOS's two repair methods
(``linework`` and ``structure``) must agree to within :data:`REPAIR_TOLERANCE` of the area.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Point, box
from shapely.geometry.base import BaseGeometry

from vbis_geo.geodesy import is_vn2000, resolve_crs, tm3_crs_candidates, to_wgs84
from vbis_geo.ingest.report import REJECTED, REPAIRED, WARNING, Report

WGS84 = pyproj.CRS.from_epsg(4326)
#: Fallback outline when no provinces are loaded: mainland, islands and waters, generously.
VIETNAM_BBOX = box(102.0, 6.5, 117.5, 23.5)
#: How far outside the provinces a record may lie and still be "in Vietnam or its waters":
#: 0.25 degrees (about 25 km) covers the 12-nautical-mile territorial sea (22.2 km).
WATERS_MARGIN_DEG = 0.25
#: How far outside its stated province a feature may lie before the file is said to be wrong.
PROVINCE_MARGIN_DEG = 0.05
#: Largest relative disagreement between GEOS's two repairs for a repair to count as unambiguous.
REPAIR_TOLERANCE = 1e-6
#: Share of features that must fit a hypothesis (swapped, another CRS) for the file to be blamed.
MAJORITY = 0.8


@dataclass(frozen=True)
class Region:
    """Where features may lie: Vietnam (its provinces, prepared) and its waters (within
    ``margin_deg`` of them), and optionally the stated province."""

    vietnam: BaseGeometry
    province: BaseGeometry | None = None
    province_name: str | None = None
    margin_deg: float = WATERS_MARGIN_DEG

    def contains_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where (x, y) lies in Vietnam or its waters (points inside first: cheap)."""
        inside = shapely.contains_xy(self.vietnam, x, y)
        rest = ~inside & np.isfinite(x) & np.isfinite(y)
        if rest.any():
            inside[rest] = shapely.dwithin(
                self.vietnam, shapely.points(x[rest], y[rest]), self.margin_deg
            )
        return inside


def crs_label(crs: pyproj.CRS) -> str:
    """A short name for reports: "EPSG:3405 VN-2000 / UTM zone 48N" or the CRS name."""
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code} {crs.name}" if code else crs.name


def choose_crs(
    declared: pyproj.CRS | None, override: str | None, datum_column: set[str], report: Report
) -> pyproj.CRS | None:
    """The CRS to read the file with: ``--crs`` over the file's own over a geodeticDatum column.

    Returns None (and a file rejection in ``report``) when there is none.
    """
    if override:
        crs = resolve_crs(override)
        if declared is not None and not declared.equals(crs, ignore_axis_order=True):
            report.add(
                None, "crs", WARNING, f"--crs {override} overrides the file's {crs_label(declared)}"
            )
        return crs
    if declared is not None:
        return declared
    datums = {d.strip().upper().replace(" ", "") for d in datum_column if d}
    if datums:
        crss = {_datum_crs(d) for d in datums}
        if None in crss or len(crss) > 1:
            report.add(
                None,
                "geodetic_datum",
                REJECTED,
                f"geodeticDatum values {sorted(datums)} do not name one known CRS",
                "one of WGS84, EPSG:4326, VN-2000, EPSG:4756 for the whole file (or --crs)",
            )
            return None
        return crss.pop()
    report.add(
        None,
        "crs",
        REJECTED,
        "the file declares no coordinate reference system",
        "a CRS in the file (.prj) or --crs (EPSG:4326, EPSG:4756, EPSG:3405, EPSG:3406, "
        "vn2000-tm3:<province>, ...)",
    )
    return None


def _datum_crs(datum: str) -> pyproj.CRS | None:
    if datum in ("WGS84", "EPSG:4326", "WGS1984", "4326"):
        return WGS84
    if datum in ("VN-2000", "VN2000", "EPSG:4756", "4756"):
        return pyproj.CRS.from_epsg(4756)
    return None


def probe_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One coordinate per geometry (its first vertex; NaN where none), for plausibility tests."""
    xs = np.full(len(geoms), np.nan)
    ys = np.full(len(geoms), np.nan)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if present.all() and (shapely.get_type_id(geoms) == 0).all():  # points: vectorised
        return shapely.get_x(geoms), shapely.get_y(geoms)
    if present.any():
        coords = [shapely.get_coordinates(g)[0] for g in geoms[present]]
        xy = np.array(coords)
        xs[present], ys[present] = xy[:, 0], xy[:, 1]
    return xs, ys


def sample_vertices(geoms: np.ndarray, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` vertices spread evenly over all of ``geoms`` (for whole-file tests)."""
    present = [g for g in geoms if g is not None]
    if not present:
        return np.array([]), np.array([])
    xy = shapely.get_coordinates(np.array(present, dtype=object))
    if len(xy) > n:
        xy = xy[np.linspace(0, len(xy) - 1, n).astype(int)]
    return xy[:, 0], xy[:, 1]


def check_units(crs: pyproj.CRS, xs: np.ndarray, ys: np.ndarray, report: Report) -> bool:
    """Reject the file when its coordinates are in the wrong unit for ``crs``; True if fine."""
    ok = ~np.isnan(xs)
    if not ok.any():
        return True
    x, y = np.abs(xs[ok]), np.abs(ys[ok])
    # swapped latitude/longitude are still degrees: check_location reports the swap
    degrees_like = ((x <= 180) & (y <= 90)) | ((x <= 90) & (y <= 180))
    if crs.is_geographic and degrees_like.mean() < MAJORITY:
        example = f"x={xs[ok][~degrees_like][0]:,.1f}, y={ys[ok][~degrees_like][0]:,.1f}"
        report.add(
            None,
            "crs",
            REJECTED,
            f"coordinates look projected ({example}, metres?) but {crs_label(crs)} is in degrees",
            "--crs with the projected CRS the file is in" + _suggest(xs[ok], ys[ok], None),
        )
        return False
    if crs.is_projected and degrees_like.all():
        report.add(
            None,
            "crs",
            REJECTED,
            f"coordinates look like degrees (x={xs[ok][0]}, y={ys[ok][0]}) but "
            f"{crs_label(crs)} is projected (metres)",
            "--crs EPSG:4326 (or EPSG:4756 for VN-2000 degrees)",
        )
        return False
    return True


def _suggest(xs: np.ndarray, ys: np.ndarray, region: Region | None) -> str:
    """'; e.g. EPSG:3405 ...' naming the CRSs that put most probe points inside the region."""
    fits = [crs for crs in candidate_crss() if _share_inside(crs, xs, ys, region) >= MAJORITY]
    if not fits:
        return ""
    return "; these put the features in place: " + ", ".join(crs_label(c) for c in fits[:4])


def candidate_crss() -> list[pyproj.CRS]:
    """CRSs provincial files are commonly in: VN-2000 UTM 48N/49N and every TM-3 zone."""
    return [pyproj.CRS.from_epsg(3405), pyproj.CRS.from_epsg(3406), *tm3_crs_candidates()]


def _share_inside(crs: pyproj.CRS, xs: np.ndarray, ys: np.ndarray, region: Region | None) -> float:
    if not len(xs):
        return 0.0
    lon, lat = to_wgs84(crs).transform(xs, ys)
    if region is None:
        area = VIETNAM_BBOX
    elif region.province is not None:
        area = region.province.buffer(PROVINCE_MARGIN_DEG)
    else:
        return float(region.contains_xy(np.asarray(lon), np.asarray(lat)).mean())
    return float(shapely.contains_xy(area, lon, lat).mean())


def transform_points(
    x: np.ndarray, y: np.ndarray, crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in EPSG:4326 lon/lat (NaN stays NaN), as :func:`transform_geometries`."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return x, y
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    present = ~np.isnan(x) & ~np.isnan(y)
    lon[present], lat[present] = to_wgs84(crs).transform(x[present], y[present])
    return lon, lat


def transform_geometries(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """``geoms`` in EPSG:4326 lon/lat, transformed with :func:`vbis_geo.geodesy.to_wgs84`."""
    if crs.equals(WGS84, ignore_axis_order=True):
        return geoms
    transformer = to_wgs84(crs)

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out = np.empty(len(geoms), dtype=object)
    present = np.array([g is not None for g in geoms], dtype=bool)
    out[present] = shapely.transform(geoms[present], apply)
    return out


def check_location(
    geoms: np.ndarray,
    rows: np.ndarray,
    region: Region,
    report: Report,
    *,
    crs: pyproj.CRS,
    raw_geoms: np.ndarray,
) -> np.ndarray:
    """Reject features outside Vietnam (or the stated province); returns the mask of good rows.

    A whole file is rejected (one issue without a row) when its features sit swapped or under
    another CRS: the file, not each row, is wrong.
    """
    present = ~shapely.is_missing(geoms)
    probe_x, probe_y = probe_points(geoms)
    inside = np.zeros(len(geoms), dtype=bool)
    inside[present] = region.contains_xy(probe_x[present], probe_y[present])
    # lines and areas count as in Vietnam when any part of them is (coastal and marine areas)
    extended = present & ~inside & (shapely.get_type_id(geoms) > 0)
    if extended.any():
        inside[extended] = shapely.dwithin(region.vietnam, geoms[extended], region.margin_deg)
    return _located(
        probe_x,
        probe_y,
        present,
        inside,
        rows,
        region,
        report,
        crs=crs,
        vertices=lambda mask: sample_vertices(geoms[mask]),
        raw_vertices=lambda mask: sample_vertices(raw_geoms[mask]),
    )


def check_point_location(
    lon: np.ndarray,
    lat: np.ndarray,
    rows: np.ndarray,
    region: Region,
    report: Report,
    *,
    crs: pyproj.CRS,
    raw_x: np.ndarray,
    raw_y: np.ndarray,
) -> np.ndarray:
    """:func:`check_location` for points given as coordinates (NaN where none): the same
    checks and report, with no geometry object per point."""
    present = ~np.isnan(lon) & ~np.isnan(lat)
    inside = np.zeros(len(lon), dtype=bool)
    inside[present] = region.contains_xy(lon[present], lat[present])
    return _located(
        lon,
        lat,
        present,
        inside,
        rows,
        region,
        report,
        crs=crs,
        vertices=lambda mask: _spread(lon[mask], lat[mask]),
        raw_vertices=lambda mask: _spread(raw_x[mask], raw_y[mask]),
    )


def _spread(x: np.ndarray, y: np.ndarray, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` of the points spread evenly (:func:`sample_vertices` for points)."""
    if len(x) > n:
        pick = np.linspace(0, len(x) - 1, n).astype(int)
        return x[pick], y[pick]
    return x, y


def _located(
    probe_x: np.ndarray,
    probe_y: np.ndarray,
    present: np.ndarray,
    inside: np.ndarray,
    rows: np.ndarray,
    region: Region,
    report: Report,
    *,
    crs: pyproj.CRS,
    vertices: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    raw_vertices: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """The verdicts of :func:`check_location` from one probe coordinate per feature and which
    are inside; ``vertices``/``raw_vertices`` sample the (raw) vertices of the masked rows."""
    swapped = np.zeros(len(present), dtype=bool)
    outside_now = present & ~inside
    swapped[outside_now] = region.contains_xy(probe_y[outside_now], probe_x[outside_now])
    outside = present & ~inside
    n_present = int(present.sum())
    if n_present and (outside & swapped).sum() >= MAJORITY * n_present:
        report.add(
            None,
            "geometry",
            REJECTED,
            f"{int((outside & swapped).sum()):,} of {n_present:,} features fall in Vietnam only "
            "with latitude and longitude (or X and Y) exchanged: the columns are swapped",
            "longitude (easting) first, latitude (northing) second; in Vietnamese survey "
            "tables X is the northing; fix the mapping (--mapping) or the columns",
        )
        return np.zeros(len(present), dtype=bool)
    if n_present and outside.sum() >= MAJORITY * n_present and crs.is_projected:
        raw_x, raw_y = raw_vertices(present)
        report.add(
            None,
            "crs",
            REJECTED,
            f"{int(outside.sum()):,} of {n_present:,} features fall outside Vietnam under "
            f"{crs_label(crs)}",
            "the CRS the file is really in" + _suggest(raw_x, raw_y, region),
        )
        return np.zeros(len(present), dtype=bool)
    for i in np.flatnonzero(outside):
        hint = " (latitude and longitude swapped?)" if swapped[i] else ""
        report.add(
            int(rows[i]),
            "geometry",
            REJECTED,
            f"outside Vietnam and its waters{hint}",
            "a location in Vietnam (lon 102-117.5, lat 6.5-23.5)",
            f"{probe_x[i]:.6f} {probe_y[i]:.6f}",
        )
    good = present & inside
    if region.province is not None and good.any():
        area = region.province.buffer(PROVINCE_MARGIN_DEG)
        sample_x, sample_y = vertices(good)
        in_province = shapely.contains_xy(area, sample_x, sample_y)
        if in_province.mean() < MAJORITY:
            raw_x, raw_y = raw_vertices(good)
            report.add(
                None,
                "crs",
                REJECTED,
                f"{100 * (1 - in_province.mean()):.0f}% of the features' vertices fall outside "
                f"{region.province_name} under {crs_label(crs)}",
                "the CRS the file is really in (a TM-3 file with the wrong central meridian?)"
                + _suggest(raw_x, raw_y, region),
            )
            return np.zeros(len(present), dtype=bool)
    return good


def repair_geometries(
    geoms: np.ndarray, rows: np.ndarray, geometry_type: str, report: Report
) -> np.ndarray:
    """Geometries of the target's type, repaired where unambiguous; None where rejected."""
    if geometry_type == "Point" and len(geoms):
        kinds = shapely.get_type_id(geoms)
        if (kinds == 0).all() and not shapely.has_z(geoms).any():
            # 2D points: valid whenever their coordinates are finite (checked vectorised)
            finite = np.isfinite(shapely.get_x(geoms)) & np.isfinite(shapely.get_y(geoms))
            if finite.all():
                return geoms
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        row = int(rows[i])
        if geom is None or geom.is_empty:
            report.add(row, "geometry", REJECTED, "no geometry", f"a {geometry_type}")
            continue
        if shapely.has_z(geom):
            geom = shapely.force_2d(geom)
        geom = _coerce_type(geom, geometry_type)
        if geom is None:
            report.add(
                row,
                "geometry",
                REJECTED,
                f"geometry is a {geoms[i].geom_type}",
                f"a {geometry_type}",
            )
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            repaired = unambiguous_repair(geom, geometry_type)
            if repaired is None:
                report.add(
                    row,
                    "geometry",
                    REJECTED,
                    f"invalid geometry ({reason}) with no unambiguous repair",
                    "a valid geometry (OGC simple features)",
                )
                continue
            report.add(row, "geometry", REPAIRED, f"invalid geometry ({reason}) repaired")
            geom = repaired
        out[i] = geom
    return out


def unambiguous_repair(geom: BaseGeometry, geometry_type: str) -> BaseGeometry | None:
    """The repaired geometry when GEOS's two methods agree, else None."""
    a = _coerce_type(shapely.make_valid(geom, method="linework"), geometry_type)
    b = _coerce_type(
        shapely.make_valid(geom, method="structure", keep_collapsed=False), geometry_type
    )
    if a is None or b is None or not a.is_valid or not b.is_valid:
        return None
    if geometry_type.endswith("Polygon"):
        scale = max(a.area, b.area)
        if scale == 0 or a.symmetric_difference(b).area > REPAIR_TOLERANCE * scale:
            return None
    return b


def _coerce_type(geom: BaseGeometry, geometry_type: str) -> BaseGeometry | None:
    kind = geom.geom_type
    if geometry_type == "MultiPolygon":
        if kind == "Polygon":
            return MultiPolygon([geom])
        if kind == "MultiPolygon":
            return geom
        if kind == "GeometryCollection":
            polygons = [
                p
                for part in geom.geoms
                for p in (part.geoms if part.geom_type == "MultiPolygon" else [part])
                if p.geom_type == "Polygon" and not p.is_empty
            ]
            return MultiPolygon(polygons) if polygons else None
        return None
    if geometry_type == "Point":
        if kind == "Point":
            return geom
        if kind == "MultiPoint" and len(geom.geoms) == 1:
            return Point(geom.geoms[0])
        return None
    return geom if kind == geometry_type else None


def as_vn2000_note(crs: pyproj.CRS) -> str:
    """How coordinates in ``crs`` were transformed, for the dataset's lineage."""
    if is_vn2000(crs):
        return f"{crs_label(crs)} -> EPSG:4326 with the official VN-2000 7-parameter Helmert"
    return f"{crs_label(crs)} -> EPSG:4326 (PROJ)"


ProgressCallback = Callable[[int], None]
