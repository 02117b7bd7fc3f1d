"""VN-2000: the TM-3 table, CRS resolution and the official shift to WGS 84 (no database)."""

from __future__ import annotations

import csv
import doctest
import math
import re
from collections import defaultdict
from importlib import resources

import numpy as np
import pytest
import yaml
from pyproj import CRS, Geod, Transformer
from pyproj.crs import CoordinateOperation
from pyproj.database import query_crs_info
from pyproj.enums import PJType

import vbis_geo.geodesy.vn2000
from vbis_geo.errors import InvalidInput
from vbis_geo.geodesy import (
    EPSG_TM3_ZONES,
    OFFICIAL_TOWGS84,
    TM3_FALSE_EASTING_M,
    TM3_FALSE_NORTHING_M,
    TM3_LATITUDE_OF_ORIGIN,
    TM3_SCALE_FACTOR,
    Helmert7,
    format_meridian,
    is_vn2000,
    province_meridian,
    provincial_units_2025,
    resolve_crs,
    tm3_crs,
    tm3_crs_candidates,
    tm3_provinces,
    to_wgs84,
)
from vbis_geo.names import fold_diacritics

GEOD = Geod(ellps="WGS84")
HOAN_KIEM = (105.8525, 21.0287)  # Hoàn Kiếm lake, Hà Nội (lon, lat)
TM3_EPSG_CODES = sorted(EPSG_TM3_ZONES.values())


def raw_table() -> dict:
    path = resources.files("vbis_geo.geodesy").joinpath("tm3_meridians.yml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compact(name: str) -> str:
    """Lower-case ASCII letters and digits only, without a TP. prefix."""
    key = re.sub(r"[^a-z0-9]+", "", fold_diacritics(name).lower())
    return key.removeprefix("tp")


def ground_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def test_doctests():
    result = doctest.testmod(vbis_geo.geodesy.vn2000)
    assert result.attempted > 0
    assert result.failed == 0


# --- the table ------------------------------------------------------------------------------


def test_table_has_the_63_provinces_once_each():
    provinces = tm3_provinces()
    assert len(provinces) == 63
    assert len({p.name for p in provinces}) == 63
    assert len({p.iso_3166_2 for p in provinces}) == 63
    assert all(re.fullmatch(r"VN-(\d\d|[A-Z]{2})", p.iso_3166_2) for p in provinces)
    names = {p.name for p in provinces}
    for name in ("Hà Nội", "Thừa Thiên Huế", "Bà Rịa - Vũng Tàu", "TP. Hồ Chí Minh", "Đắk Nông"):
        assert name in names


def test_meridians_are_written_twice_the_same_way_and_have_an_epsg_zone():
    for row in raw_table()["provinces"]:
        assert format_meridian(row["meridian"]) == row["dms"], row["name"]
        assert row["meridian"] in EPSG_TM3_ZONES, row["name"]
        assert set(row["sources"]) <= {"epsg", "web", "code"} and row["sources"], row["name"]


def test_table_parameters_are_the_ones_the_code_uses():
    parameters = raw_table()["parameters"]
    assert parameters["scale_factor"] == TM3_SCALE_FACTOR
    assert parameters["false_easting_m"] == TM3_FALSE_EASTING_M
    assert parameters["false_northing_m"] == TM3_FALSE_NORTHING_M
    assert parameters["latitude_of_origin"] == TM3_LATITUDE_OF_ORIGIN


def test_known_meridians():
    # a few values as Circular 973/2001 writes them
    expected = {
        "Lai Châu": "103°00'",
        "Sơn La": "104°00'",
        "Kiên Giang": "104°30'",
        "Hà Nội": "105°00'",
        "Quảng Ngãi": "108°00'",
        "TP. Hồ Chí Minh": "105°45'",
        "Thừa Thiên Huế": "107°00'",
        "Lạng Sơn": "107°15'",
        "Kon Tum": "107°30'",
        "Bà Rịa - Vũng Tàu": "107°45'",
        "Khánh Hòa": "108°15'",
        "Đắk Nông": "108°30'",
    }
    assert {n: format_meridian(province_meridian(n)) for n in expected} == expected


def test_provinces_marked_epsg_are_named_in_the_area_of_use_of_their_epsg_zone():
    """EPSG's area-of-use texts, from Vietnam's Department of Survey and Mapping, confirm 53
    provinces; the 10 others are on 105°00' or 108°00', whose EPSG CRSs are bands."""
    marked = 0
    for row in raw_table()["provinces"]:
        area = CRS.from_epsg(EPSG_TM3_ZONES[row["meridian"]]).area_of_use.name
        if "epsg" in row["sources"]:
            marked += 1
            assert compact(row["name"]) in compact(area), (row["name"], area)
        else:
            assert row["meridian"] in (105.0, 108.0), row["name"]
    assert marked == 53


def test_units_2025_partition_the_63_provinces():
    units = provincial_units_2025()
    assert len(units) == 34
    members = [p.name for u in units for p in u.provinces]
    assert sorted(members) == sorted(p.name for p in tm3_provinces())
    sizes = sorted(len(u.provinces) for u in units)
    assert (sizes.count(1), sizes.count(2), sizes.count(3)) == (11, 17, 6)
    by_name = {u.name: {p.name for p in u.provinces} for u in units}
    assert by_name["Gia Lai"] == {"Gia Lai", "Bình Định"}
    assert by_name["Lâm Đồng"] == {"Lâm Đồng", "Đắk Nông", "Bình Thuận"}
    assert by_name["TP. Hồ Chí Minh"] == {"TP. Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"}


@pytest.mark.shared_data
def test_table_agrees_with_the_crosswalk(shared_data):
    path = shared_data / "vn-provinces-63-odv" / "vn_provinces_63_to_34_crosswalk.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    iso_by_name = {p.name: p.iso_3166_2 for p in tm3_provinces()}
    assert {compact(r["ten_tinh_chuan"]): r["iso_3166_2"] for r in rows} == {
        compact(n): iso for n, iso in iso_by_name.items()
    }
    groups: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        groups[row["ten_tinh_34"]].add(row["iso_3166_2"])
    assert {frozenset(g) for g in groups.values()} == {
        frozenset(p.iso_3166_2 for p in u.provinces) for u in provincial_units_2025()
    }
    # every post-2025 name of the crosswalk ("TP HCM", "Khánh Hoà") is understood
    meridian_by_iso = {p.iso_3166_2: p.meridian for p in tm3_provinces()}
    for name, isos in groups.items():
        meridians = {meridian_by_iso[i] for i in isos}
        if len(meridians) == 1:
            assert province_meridian(f"{name} (mới)") == meridians.pop()
        else:
            with pytest.raises(InvalidInput, match="post-2025 unit"):
                resolve_crs(f"vn2000-tm3:{name} (mới)")


# --- EPSG ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("meridian", "code"), sorted(EPSG_TM3_ZONES.items()))
def test_epsg_tm3_zones_have_the_circular_parameters(meridian, code):
    crs = CRS.from_epsg(code)
    assert crs.name.startswith("VN-2000 / TM-3")
    assert crs.datum.name == "Vietnam 2000"
    operation = crs.coordinate_operation
    assert operation.method_name == "Transverse Mercator"
    params = {p.name: p.value for p in operation.params}
    assert params == {
        "Latitude of natural origin": TM3_LATITUDE_OF_ORIGIN,
        "Longitude of natural origin": meridian,
        "Scale factor at natural origin": TM3_SCALE_FACTOR,
        "False easting": TM3_FALSE_EASTING_M,
        "False northing": TM3_FALSE_NORTHING_M,
    }
    assert [a.direction for a in crs.axis_info] == ["east", "north"]


def test_every_current_epsg_tm3_zone_is_known():
    listed = {
        int(info.code)
        for info in query_crs_info(auth_name="EPSG", pj_types=PJType.PROJECTED_CRS)
        if info.name.startswith("VN-2000 / TM-3") and not info.deprecated
    }
    assert listed == set(EPSG_TM3_ZONES.values())


def test_official_helmert_is_epsg_6960():
    operation = CoordinateOperation.from_epsg(OFFICIAL_TOWGS84.epsg_code)
    assert operation.name == OFFICIAL_TOWGS84.name == "VN-2000 to WGS 84 (2)"
    assert operation.method_code == "9607"  # Coordinate Frame rotation
    values = [p.value for p in operation.params]
    ours = [getattr(OFFICIAL_TOWGS84, f) for f in ("tx_m", "ty_m", "tz_m")]
    ours += [getattr(OFFICIAL_TOWGS84, f) for f in ("rx_arcsec", "ry_arcsec", "rz_arcsec")]
    assert values == [*ours, OFFICIAL_TOWGS84.ds_ppm]
    units = [p.unit_name for p in operation.params]
    assert units == ["metre"] * 3 + ["arc-second"] * 3 + ["parts per million"]


# --- the shift to WGS 84 ----------------------------------------------------------------------

A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)


def geodetic_to_ecef(lon: float, lat: float, h: float = 0.0) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    n = A / np.sqrt(1 - E2 * np.sin(phi) ** 2)
    return np.array(
        [
            (n + h) * np.cos(phi) * np.cos(lam),
            (n + h) * np.cos(phi) * np.sin(lam),
            (n * (1 - E2) + h) * np.sin(phi),
        ]
    )


def ecef_to_geodetic(xyz: np.ndarray) -> tuple[float, float]:
    x, y, z = xyz
    p = math.hypot(x, y)
    phi = math.atan2(z, p * (1 - E2))
    for _ in range(10):
        n = A / math.sqrt(1 - E2 * math.sin(phi) ** 2)
        h = p / math.cos(phi) - n
        phi = math.atan2(z, p * (1 - E2 * n / (n + h)))
    return math.degrees(math.atan2(y, x)), math.degrees(phi)


def helmert(xyz: np.ndarray, h: Helmert7, *, convention: str) -> np.ndarray:
    """EPSG Guidance Note 7-2, methods 9607 (coordinate frame) and 9606 (position vector)."""
    rx, ry, rz = (math.radians(v / 3600) for v in (h.rx_arcsec, h.ry_arcsec, h.rz_arcsec))
    frame = np.array([[1, rz, -ry], [-rz, 1, rx], [ry, -rx, 1]])
    rotation = frame if convention == "coordinate_frame" else frame.T
    return np.array([h.tx_m, h.ty_m, h.tz_m]) + (1 + h.ds_ppm * 1e-6) * rotation @ xyz


def vn2000_to_wgs84_by_hand(lon: float, lat: float, convention: str) -> tuple[float, float]:
    return ecef_to_geodetic(
        helmert(geodetic_to_ecef(lon, lat), OFFICIAL_TOWGS84, convention=convention)
    )


@pytest.mark.parametrize(
    "point",
    [HOAN_KIEM, (105.0, 23.3), (104.8, 8.6), (108.2, 16.05), (114.3, 10.0)],
    ids=["Hà Nội", "Hà Giang", "Cà Mau", "Đà Nẵng", "Trường Sa"],
)
def test_shift_is_the_official_helmert_computed_by_hand(point):
    by_pyproj = to_wgs84(CRS.from_epsg(4756)).transform(*point)
    by_hand = vn2000_to_wgs84_by_hand(*point, convention="coordinate_frame")
    assert ground_distance_m(by_pyproj, by_hand) < 0.001
    # the test can tell the conventions apart: swapping them moves the point by decimetres
    swapped = vn2000_to_wgs84_by_hand(*point, convention="position_vector")
    assert ground_distance_m(by_pyproj, swapped) > 0.1


def test_vn2000_and_wgs84_differ_by_about_200_m_in_hanoi():
    lon, lat = to_wgs84(CRS.from_epsg(4756)).transform(*HOAN_KIEM)
    assert 150 < ground_distance_m(HOAN_KIEM, (lon, lat)) < 300
    # WGS 84 numbers are east (≈ 6.8") and south (≈ 3.5") of the VN-2000 numbers there
    assert 6.0 < (lon - HOAN_KIEM[0]) * 3600 < 7.5
    assert -4.0 < (lat - HOAN_KIEM[1]) * 3600 < -3.0


def dms(degrees: int, minutes: int, seconds: float) -> float:
    return degrees + minutes / 60 + seconds / 3600


# Port-water boundary points published in both systems (WGS 84 ; VN-2000 geographic):
# Circular 20/2019/TT-BGTVT, Khánh Hòa (VP1, NT1), and 37/2019/TT-BGTVT, Lý Sơn (LS1, LS3), as
# quoted at http://118.69.84.240:801/hoi-dap-phap-luat/487AB-hd-toa-do-cac-diem-gioi-han-ranh-gioi-vung-nuoc-cang-bien-khanh-hoa.html
# and https://nganhangphapluat.lawnet.vn/tu-van-phap-luat/giao-thong--van-tai/pham-vi-vung-nuoc-cang-bien-quang-ngai-tai-khu-vuc-dao-ly-son-theo-he-toa-do-wgs84-va-vn-2000-307733
PUBLISHED_POINTS = {
    "VP1": ((dms(109, 26, 0.0), dms(12, 33, 36.0)), (dms(109, 25, 53.6), dms(12, 33, 39.7))),
    "NT1": ((dms(109, 16, 0.0), dms(12, 14, 14.0)), (dms(109, 15, 53.6), dms(12, 14, 17.7))),
    "LS1": ((dms(109, 6, 7.0), dms(15, 22, 29.0)), (dms(109, 6, 0.5), dms(15, 22, 32.7))),
    "LS3": ((dms(109, 7, 6.0), dms(15, 20, 10.0)), (dms(109, 6, 59.5), dms(15, 20, 13.7))),
}


@pytest.mark.parametrize("point", PUBLISHED_POINTS)
def test_shift_agrees_with_coordinates_published_in_both_systems(point):
    wgs84, vn2000 = PUBLISHED_POINTS[point]
    lon, lat = to_wgs84(CRS.from_epsg(4756)).transform(*wgs84, direction="INVERSE")
    # published to 0.1"; the shift itself is about 6.5" in longitude and 3.7" in latitude
    assert abs(lon - vn2000[0]) * 3600 < 0.06
    assert abs(lat - vn2000[1]) * 3600 < 0.06


@pytest.mark.parametrize(
    ("crs", "point"),
    [
        (CRS.from_epsg(5897), HOAN_KIEM),
        (tm3_crs(105.0, prefer_epsg=False), HOAN_KIEM),
        (CRS.from_epsg(9210), (106.7009, 10.7769)),
        (tm3_crs(107.75), (107.0843, 10.3460)),
        (CRS.from_epsg(3405), HOAN_KIEM),
    ],
    ids=["5897", "custom-105", "9210", "5899", "3405"],
)
def test_round_trip_wgs84_tm3_wgs84_within_a_centimetre(crs, point):
    transformer = to_wgs84(crs)
    easting, northing = transformer.transform(*point, direction="INVERSE")
    assert 100_000 < easting < 900_000 and 900_000 < northing < 2_700_000
    back = transformer.transform(easting, northing)
    assert ground_distance_m(point, back) < 0.01


@pytest.mark.parametrize("meridian", sorted(EPSG_TM3_ZONES))
def test_epsg_and_custom_zones_agree(meridian):
    epsg, custom = tm3_crs(meridian), tm3_crs(meridian, prefer_epsg=False)
    assert epsg.to_epsg() == EPSG_TM3_ZONES[meridian]
    assert custom.to_epsg() is None and custom.is_bound
    point = (meridian + 0.6, 16.0)
    e1, n1 = to_wgs84(epsg).transform(*point, direction="INVERSE")
    e2, n2 = to_wgs84(custom).transform(*point, direction="INVERSE")
    assert math.hypot(e1 - e2, n1 - n2) < 0.001
    # and PROJ itself sees no difference between the two projections
    assert (
        math.dist(
            Transformer.from_crs(4756, epsg, always_xy=True).transform(*point),
            Transformer.from_crs(4756, custom.source_crs, always_xy=True).transform(*point),
        )
        < 0.001
    )


def test_custom_zone_carries_the_official_towgs84_for_other_software():
    crs = tm3_crs(104.25)
    assert crs.name == "VN-2000 / TM-3 104-15 (Circular 973/2001)"
    assert crs.source_crs.coordinate_operation.name == "Vietnam TM-3 104-15"
    assert crs.source_crs.datum.name == "Vietnam 2000"
    match = re.search(r"TOWGS84\[([^\]]*)\]", crs.to_wkt("WKT1_GDAL"))
    values = [float(v) for v in match.group(1).split(",")]
    assert values == pytest.approx(OFFICIAL_TOWGS84.towgs84(), abs=1e-12)


VN2000_SPECS = [
    "EPSG:4756",
    "EPSG:3405",
    "EPSG:3406",
    *(f"EPSG:{code}" for code in TM3_EPSG_CODES),
    "vn2000-tm3:104-15",
    # an ESRI .prj of VN-2000 / UTM 48N
    'PROJCS["VN_2000_UTM_Zone_48N",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
    # PROJ strings met in the wild: rounded translations only; and EPSG:5194's parameters
    "+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    "+towgs84=-191.904,-39.303,-111.450,0,0,0,0 +units=m +no_defs",
    "+proj=utm +zone=48 +ellps=WGS84 "
    "+towgs84=-192.873,-39.382,-111.202,0.00205,0.0005,-0.00335,0.0188 +units=m +no_defs",
]
NOT_VN2000_SPECS = [
    "EPSG:4326",
    "EPSG:32648",
    "EPSG:3857",
    "EPSG:4147",  # Hanoi 1972, the datum VN-2000 replaced
    "EPSG:2093",  # Hanoi 1972 / GK 106 NE
    "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    "+towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
]


@pytest.mark.parametrize("spec", VN2000_SPECS)
def test_is_vn2000(spec):
    assert is_vn2000(resolve_crs(spec))


@pytest.mark.parametrize("spec", NOT_VN2000_SPECS)
def test_is_not_vn2000(spec):
    assert not is_vn2000(resolve_crs(spec))


def test_compound_crs_is_judged_by_its_horizontal_part():
    assert is_vn2000(CRS("EPSG:3405+5773"))
    assert not is_vn2000(CRS("EPSG:32648+5773"))


@pytest.mark.parametrize("spec", VN2000_SPECS)
def test_every_vn2000_crs_is_shifted_by_the_official_helmert(spec):
    crs = resolve_crs(spec)
    transformer = to_wgs84(crs)
    assert "proj=helmert" in transformer.definition
    to_vn2000_geographic = Transformer.from_crs(4756, crs, always_xy=True)
    if crs.is_bound:  # the projection alone, without the CRS's own towgs84
        to_vn2000_geographic = Transformer.from_crs(4756, crs.source_crs, always_xy=True)
    x, y = to_vn2000_geographic.transform(*HOAN_KIEM)
    by_hand = vn2000_to_wgs84_by_hand(*HOAN_KIEM, convention="coordinate_frame")
    assert ground_distance_m(transformer.transform(x, y), by_hand) < 0.001


def test_proj_left_alone_could_use_another_shift():
    """Why to_wgs84 binds the official Helmert: a PROJ string's own towgs84 (here EPSG:5194's
    Mekong-delta set) would move the point by about a metre."""
    crs = resolve_crs(VN2000_SPECS[-1])
    x, y = Transformer.from_crs(4756, crs.source_crs, always_xy=True).transform(*HOAN_KIEM)
    own = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    official = to_wgs84(crs).transform(x, y)
    assert ground_distance_m(own, official) > 0.3


def test_other_crs_get_proj_best_operation():
    crs = CRS.from_epsg(32648)
    ours = to_wgs84(crs).transform(585_000.0, 2_326_000.0)
    theirs = Transformer.from_crs(crs, 4326, always_xy=True).transform(585_000.0, 2_326_000.0)
    assert ours == theirs


# --- resolving specifications ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "meridian"),
    [
        ("Hà Nội", 105.0),
        ("ha noi", 105.0),
        ("HA NOI", 105.0),
        ("Thành phố Hà Nội", 105.0),
        ("Ha\u0300 No\u0323i", 105.0),  # decomposed (NFD) input
        ("TP. Hồ Chí Minh", 105.75),
        ("tp ho chi minh", 105.75),
        ("TP.HCM", 105.75),
        ("Thừa Thiên Huế", 107.0),
        ("thua thien hue", 107.0),
        ("Thừa Thiên - Huế", 107.0),
        ("Bà Rịa–Vũng Tàu", 107.75),
        ("ba ria vung tau", 107.75),
        ("Tỉnh Đắk Nông", 108.5),
        ("Đăk Nông", 108.5),
        ("Bắc Cạn", 106.5),
        ("Khánh Hoà", 108.25),
        ("Hậu Giang", 105.0),
        ("Điện Biên", 103.0),
    ],
)
def test_province_names_are_matched_loosely(name, meridian):
    assert province_meridian(name) == meridian


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("vn2000-tm3:ha noi", 5897),
        ("vn2000-tm3:Hà Nội", 5897),
        ("VN2000-TM3: thua thien hue", 9214),
        ("vn2000-tm3:TP. Huế", 9214),  # the post-2025 name of the same territory
        ("vn2000-tm3:Bà Rịa - Vũng Tàu", 5899),
        ("vn2000-tm3:Bình Dương", 9210),
        ("vn2000-tm3:TP. Hồ Chí Minh (cũ)", 9210),
        ("vn2000-tm3:tp hcm (old)", 9210),
        ("vn2000-tm3:Gia Lai (cũ)", 9218),
        ("vn2000-tm3:Quảng Ngãi (pre-2025)", 5898),
        # post-2025 units whose provinces share one meridian
        ("vn2000-tm3:Đắk Lắk", 9218),
        ("vn2000-tm3:Khánh Hòa", 9217),
        ("vn2000-tm3:TP. Đà Nẵng", 5899),
        ("vn2000-tm3:Lào Cai (mới)", 9208),
        # by meridian
        ("vn2000-tm3:105.75", 9210),
        ("vn2000-tm3:105-45", 9210),
        ("vn2000-tm3:105°45'", 9210),
        ("vn2000-tm3:105", 5897),
        ("vn2000-tm3:102", 5896),
        ("vn2000-tm3:108-00", 5898),
        # anything pyproj reads
        ("EPSG:9210", 9210),
        ("epsg:3405", 3405),
        (CRS.from_epsg(9212).to_wkt(), 9212),
        ("VN-2000", 4756),
    ],
)
def test_resolve_crs(spec, code):
    assert resolve_crs(spec).to_epsg() == code


def test_meridians_without_an_epsg_zone_get_a_custom_crs():
    crs = resolve_crs("vn2000-tm3:104-15")
    assert crs.to_epsg() is None
    assert crs.name == "VN-2000 / TM-3 104-15 (Circular 973/2001)"
    params = {p.name: p.value for p in crs.source_crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 104.25
    assert params["Scale factor at natural origin"] == TM3_SCALE_FACTOR
    assert params["False easting"] == TM3_FALSE_EASTING_M
    assert resolve_crs("vn2000-tm3:104.25") == crs


@pytest.mark.parametrize("unit", provincial_units_2025(), ids=lambda u: u.name)
def test_post_2025_units_give_one_meridian_or_say_which_provinces_differ(unit):
    spec = f"vn2000-tm3:{unit.name}"
    if len(unit.meridians) == 1:
        assert resolve_crs(spec) == tm3_crs(unit.meridians[0])
        return
    with pytest.raises(InvalidInput) as caught:
        resolve_crs(spec)
    message = caught.value.message
    for province in unit.provinces:
        assert f"{province.name} {format_meridian(province.meridian)}" in message
    assert caught.value.hint


def test_ambiguity_error_for_lam_dong_lists_the_constituents():
    with pytest.raises(InvalidInput) as caught:
        resolve_crs("vn2000-tm3:Lâm Đồng")
    error = caught.value
    assert "Resolution 202/2025/QH15" in error.message
    assert "Lâm Đồng 107°45'" in error.message
    assert "Đắk Nông 108°30'" in error.message
    assert "Bình Thuận 108°30'" in error.message
    assert "vn2000-tm3:Lâm Đồng (cũ)" in error.hint
    assert resolve_crs("vn2000-tm3:Lâm Đồng (cũ)").to_epsg() == 5899
    assert resolve_crs("vn2000-tm3:Đắk Nông").to_epsg() == 9218


def test_every_spelling_of_an_ambiguous_name_is_ambiguous():
    for spelling in ("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh", "TPHCM", "Sài Gòn"):
        with pytest.raises(InvalidInput, match="Bà Rịa - Vũng Tàu 107°45'"):
            resolve_crs(f"vn2000-tm3:{spelling}")


def test_province_meridian_reads_a_name_as_the_pre_2025_province():
    assert province_meridian("Gia Lai") == 108.5
    with pytest.raises(InvalidInput, match="Bình Định 108°15'"):
        province_meridian("Gia Lai (mới)")


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "nonsense",
        "EPSG:999999",
        "vn2000-tm3:",
        "vn2000-tm3:Atlantis",
        "vn2000-tm3:Bình Định (mới)",
        "vn2000-tm3:Gia Lai (xyz)",
        "vn2000-tm3:99",
        "vn2000-tm3:120-00",
        "vn2000-tm3:105-75",
        "vn2000-tm3:105.123",
    ],
)
def test_bad_specifications_are_invalid_input(spec):
    with pytest.raises(InvalidInput) as caught:
        resolve_crs(spec)
    assert caught.value.message and caught.value.hint


def test_unknown_province_suggests_close_names():
    with pytest.raises(InvalidInput) as caught:
        resolve_crs("vn2000-tm3:Gia Lay")
    assert "'Gia Lai'" in caught.value.hint


def test_tm3_crs_rejects_meridians_outside_vietnam():
    with pytest.raises(InvalidInput):
        tm3_crs(99.0)
    with pytest.raises(InvalidInput):
        tm3_crs(float("nan"))


def test_candidates_are_one_per_meridian_of_the_table():
    candidates = tm3_crs_candidates()
    meridians = [
        {p.name: p.value for p in c.coordinate_operation.params}["Longitude of natural origin"]
        for c in candidates
    ]
    assert meridians == sorted({p.meridian for p in tm3_provinces()})
    assert len(candidates) == 17
    assert all(c.to_epsg() == EPSG_TM3_ZONES[m] for c, m in zip(candidates, meridians, strict=True))


def test_candidates_find_the_meridian_of_a_file_in_the_wrong_zone():
    """A point of Vũng Tàu written in 107°45' but read in its neighbours' 105°45' lands ~220 km
    away; among the candidates only 107°45' puts it back on the peninsula."""
    vung_tau = (107.0843, 10.3460)
    easting, northing = to_wgs84(tm3_crs(107.75)).transform(*vung_tau, direction="INVERSE")
    wrong = to_wgs84(tm3_crs(105.75)).transform(easting, northing)
    assert ground_distance_m(vung_tau, wrong) > 100_000
    near = [
        c.name
        for c in tm3_crs_candidates()
        if ground_distance_m(vung_tau, to_wgs84(c).transform(easting, northing)) < 1_000
    ]
    assert near == ["VN-2000 / TM-3 107-45"]
