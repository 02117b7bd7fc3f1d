"""Points fed by coordinate columns are checked on their coordinates alone
(:func:`check_point_location`, no Point object per row): the verdicts and the report must be
those :func:`check_location` gives for the same points as geometries."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import box

from vbis_geo.ingest import coordinates as coords
from vbis_geo.ingest.report import Report

VIETNAM = box(102.0, 8.5, 109.5, 23.4)  # a stand-in outline: the tests need no database
PROVINCE = box(105.3, 20.5, 106.0, 21.4)  # about Hà Nội


def both_ways(
    x: np.ndarray, y: np.ndarray, region: coords.Region, crs: pyproj.CRS = coords.WGS84
) -> tuple[tuple[np.ndarray, Counter], tuple[np.ndarray, Counter]]:
    rows = np.arange(2, len(x) + 2)
    missing = np.isnan(x) | np.isnan(y)
    geoms = np.empty(len(x), dtype=object)
    geoms[~missing] = shapely.points(x[~missing], y[~missing])
    out = []
    for as_points in (True, False):
        report = Report("occurrences", "test.csv")
        if as_points:
            good = coords.check_point_location(
                x, y, rows, region, report, crs=crs, raw_x=x, raw_y=y
            )
        else:
            good = coords.check_location(geoms, rows, region, report, crs=crs, raw_geoms=geoms)
        out.append((good, Counter(tuple(i.as_dict().values()) for i in report.issues)))
    return out[0], out[1]


@pytest.mark.parametrize(
    "case", ["mixed", "swapped", "outside", "province", "wrong province", "projected"]
)
def test_coordinates_and_geometries_get_the_same_verdicts(case: str) -> None:
    rng = np.random.default_rng(7)
    n = 2000
    x, y = rng.uniform(103, 109, n), rng.uniform(10, 23, n)
    region = coords.Region(VIETNAM)
    crs = coords.WGS84
    if case == "mixed":
        x[:50], y[:50] = rng.uniform(-20, 40, 50), rng.uniform(-30, 5, 50)  # Africa, at sea
        x[50:60], y[50:60] = y[50:60].copy(), x[50:60].copy()  # a few swapped
        x[60:70] = np.nan  # no coordinates
        x[70:80], y[70:80] = 109.6, 15.0  # off the outline, within its waters
    elif case == "swapped":
        x, y = y, x
    elif case == "outside":
        x, y = x + 60, y
    elif case in ("province", "wrong province"):
        x, y = rng.uniform(105.4, 105.9, n), rng.uniform(20.6, 21.3, n)
        if case == "wrong province":
            x = x + 1.5
        region = coords.Region(VIETNAM, PROVINCE, "Hà Nội")
    else:  # UTM metres, most of them far outside Vietnam under the CRS the file declares
        crs = pyproj.CRS.from_epsg(3405)
        x, y = rng.uniform(100_000, 900_000, n), rng.uniform(100_000, 900_000, n)
    (good_points, report_points), (good_geoms, report_geoms) = both_ways(x, y, region, crs)
    assert np.array_equal(good_points, good_geoms)
    assert report_points == report_geoms
    if case in ("swapped", "wrong province", "projected"):
        assert not good_points.any() and any(row is None for row, *_ in report_points)
    if case == "mixed":
        assert 0 < int((~good_points).sum()) < 100 and good_points[70:80].all()
