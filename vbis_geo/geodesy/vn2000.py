"""VN-2000, Vietnam's national datum: its CRSs, the provincial TM-3 zones, the shift to WGS 84.

VN-2000 (Decision 83/2000/QĐ-TTg) uses the WGS 84 ellipsoid but is not WGS 84: the same numbers
are about 200 m apart on the ground. The official shift is the 7-parameter Helmert of Decision
05/2007/QĐ-BTNMT (:data:`OFFICIAL_TOWGS84`, EPSG:6960). Provincial maps use 3° transverse
Mercator zones (k0 = 0.9999, false easting 500 km) whose central meridian depends on the
pre-2025 province (Circular 973/2001/TT-TCĐC; the table is ``tm3_meridians.yml`` next to this
module).

>>> resolve_crs("vn2000-tm3:Hà Nội").name
'VN-2000 / TM-3 zone 482'
>>> resolve_crs("vn2000-tm3:thua thien hue").to_epsg()
9214
>>> resolve_crs("vn2000-tm3:104-15").name
'VN-2000 / TM-3 104-15 (Circular 973/2001)'
>>> province_meridian("TP. Hồ Chí Minh")
105.75
>>> is_vn2000(resolve_crs("EPSG:3405")), is_vn2000(resolve_crs("EPSG:32648"))
(True, False)
>>> lon, lat = to_wgs84(resolve_crs("EPSG:4756")).transform(105.8525, 21.0287)
>>> round(lon, 6), round(lat, 6)
(105.854383, 21.027714)
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from pyproj import Transformer
from pyproj.crs import CRS, BoundCRS, CoordinateOperation, ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from pyproj.exceptions import CRSError

from vbis_geo.errors import InvalidInput
from vbis_geo.names import fold_diacritics

#: prefix of the specifications :func:`resolve_crs` reads as a VN-2000 TM-3 zone
TM3_SPEC_PREFIX = "vn2000-tm3:"

VN2000_GEOGRAPHIC_EPSG = 4756
WGS84_EPSG = 4326

#: parameters shared by every VN-2000 TM-3 zone (Circular 973/2001/TT-TCĐC)
TM3_SCALE_FACTOR = 0.9999
TM3_FALSE_EASTING_M = 500_000.0
TM3_FALSE_NORTHING_M = 0.0
TM3_LATITUDE_OF_ORIGIN = 0.0
#: central meridians accepted for a TM-3 zone: Vietnam's mainland and islands (102.1°E-117°E)
TM3_MERIDIAN_RANGE = (102.0, 117.0)

#: EPSG's VN-2000 TM-3 CRSs by central meridian; all are transverse Mercator on EPSG:4756 with
#: k0 0.9999, false easting 500000 m, false northing 0 and latitude of origin 0 (checked in the
#: tests against pyproj's database). 5896-5898 are named as bands ("TM-3 zone 481/482/491",
#: meridians 102°, 105°, 108°); the others after their meridian ("TM-3 105-45").
EPSG_TM3_ZONES: dict[float, int] = {
    102.0: 5896,
    103.0: 9205,
    104.0: 9206,
    104.5: 9207,
    104.75: 9208,
    105.0: 5897,
    105.5: 9209,
    105.75: 9210,
    106.0: 9211,
    106.25: 9212,
    106.5: 9213,
    107.0: 9214,
    107.25: 9215,
    107.5: 9216,
    107.75: 5899,
    108.0: 5898,
    108.25: 9217,
    108.5: 9218,
}

_TABLE_FILE = "tm3_meridians.yml"
_SPEC_HINT = (
    "expected 'EPSG:nnnn', WKT, a PROJ string, 'vn2000-tm3:<province>' (e.g. "
    "'vn2000-tm3:Hà Nội', 'vn2000-tm3:thua thien hue') or 'vn2000-tm3:<central meridian>' "
    "(e.g. 'vn2000-tm3:105-45' or 'vn2000-tm3:105.75')"
)
# a parenthesised suffix that says which era a province name is meant in
_PRE_2025 = {"cu", "old", "pre 2025", "63", "truoc 2025", "truoc sap nhap"}
_POST_2025 = {"moi", "new", "2025", "post 2025", "34", "sau 2025", "sau sap nhap"}
# a translation further than this from the official one is not taken as VN-2000's
_VN2000_SHIFT_TOLERANCE_M = 2.0


@dataclass(frozen=True)
class Helmert7:
    """A 7-parameter Helmert transformation in the *coordinate frame* convention (EPSG:9607).

    Rotations in arc-seconds, scale difference in parts per million. In the position-vector
    convention of PROJ's ``+towgs84`` and of WKT1's ``TOWGS84`` the rotations change sign: use
    :meth:`towgs84` for those, never the raw fields (a wrong sign is a ~0.5 m error).
    """

    name: str
    epsg_code: int
    tx_m: float
    ty_m: float
    tz_m: float
    rx_arcsec: float
    ry_arcsec: float
    rz_arcsec: float
    ds_ppm: float
    source: str

    def towgs84(self) -> tuple[float, float, float, float, float, float, float]:
        """Return the 7 values as PROJ ``+towgs84`` / WKT1 ``TOWGS84`` expect (position vector).

        >>> OFFICIAL_TOWGS84.towgs84()[3:6]
        (0.00928836, -0.01975479, 0.00427372)
        """
        return (
            self.tx_m,
            self.ty_m,
            self.tz_m,
            -self.rx_arcsec,
            -self.ry_arcsec,
            -self.rz_arcsec,
            self.ds_ppm,
        )

    def proj_params(self) -> dict[str, float]:
        """Return the parameters of a PROJ ``+proj=helmert +convention=coordinate_frame`` step."""
        return {
            "x": self.tx_m,
            "y": self.ty_m,
            "z": self.tz_m,
            "rx": self.rx_arcsec,
            "ry": self.ry_arcsec,
            "rz": self.rz_arcsec,
            "s": self.ds_ppm,
        }


#: The official VN-2000 -> WGS 84 transformation: Decision 05/2007/QĐ-BTNMT (Bộ Tài nguyên và Môi
#: trường, 27/02/2007), in EPSG as "VN-2000 to WGS 84 (2)", EPSG:6960 (Coordinate Frame rotation,
#: information source: Department of Survey and Mapping). EPSG:5194 "VN-2000 to WGS 84 (1)" is
#: a local set for the Mekong delta (HCMC University of Technology, used by Total) with the same
#: stated accuracy (1 m), which is why the choice between the two is not left to PROJ here.
#: (The EPSG dataset shipped with PROJ 9.5 gives both the scope "Academic research, not officially
#: adopted"; for 6960 the Decision says otherwise.)
OFFICIAL_TOWGS84 = Helmert7(
    name="VN-2000 to WGS 84 (2)",
    epsg_code=6960,
    tx_m=-191.90441429,
    ty_m=-39.30318279,
    tz_m=-111.45032835,
    rx_arcsec=-0.00928836,
    ry_arcsec=0.01975479,
    rz_arcsec=-0.00427372,
    ds_ppm=0.252906278,
    source="Quyết định 05/2007/QĐ-BTNMT; EPSG:6960",
)


@dataclass(frozen=True)
class Tm3Province:
    """A pre-2025 province and the central meridian of its TM-3 zone (decimal degrees)."""

    name: str
    iso_3166_2: str
    meridian: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProvincialUnit2025:
    """A provincial unit from 01/07/2025 (Resolution 202/2025/QH15) and its pre-2025 provinces."""

    name: str
    provinces: tuple[Tm3Province, ...]

    @property
    def meridians(self) -> list[float]:
        """The distinct TM-3 meridians of the constituent provinces, ascending."""
        return sorted({p.meridian for p in self.provinces})


@dataclass(frozen=True)
class _Table:
    provinces: tuple[Tm3Province, ...]
    units_2025: tuple[ProvincialUnit2025, ...]
    province_by_key: dict[str, Tm3Province]
    unit_by_key: dict[str, ProvincialUnit2025]


# ---------------------------------------------------------------------------------------------
# public API


def resolve_crs(spec: str) -> CRS:
    """Return the CRS a user or a configuration file means by ``spec``.

    ``spec`` is one of:

    - anything :meth:`pyproj.CRS.from_user_input` reads: ``"EPSG:3405"``, WKT, a PROJ string;
    - ``"vn2000-tm3:<province>"``: the TM-3 zone of a province, matched without regard to case,
      diacritics or a ``TP.`` / ``Thành phố`` / ``Tỉnh`` prefix (``"ha noi"``, ``"TP.HCM"``). A
      name of a post-2025 unit gives its meridian when all its pre-2025 provinces share one;
      otherwise the name is ambiguous (see below). ``"(cũ)"`` or ``"(old)"`` after a name
      selects the pre-2025 province of that name, ``"(mới)"`` / ``"(new)"`` the post-2025 unit;
    - ``"vn2000-tm3:<meridian>"``: ``"105.75"``, ``"105-45"`` or ``"105°45'"``.

    A TM-3 zone is returned as its EPSG CRS when EPSG has one for that meridian
    (:data:`EPSG_TM3_ZONES`), otherwise as the CRS :func:`tm3_crs` builds.

    Raises :class:`InvalidInput` when ``spec`` is none of these, names an unknown province or a
    meridian out of :data:`TM3_MERIDIAN_RANGE`, or names a post-2025 unit whose pre-2025
    provinces have different meridians (the message lists them: TM-3 data keep the meridian of
    the province they were made in, so the user must say which).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInput("empty CRS specification", hint=_SPEC_HINT)
    text = spec.strip()
    if text.lower().startswith(TM3_SPEC_PREFIX):
        argument = text[len(TM3_SPEC_PREFIX) :].strip()
        if not argument:
            raise InvalidInput(f"{text!r} names no province or meridian", hint=_SPEC_HINT)
        meridian = _parse_meridian(argument)
        if meridian is None:
            meridian = _meridian_of_name(argument, strict=True)
        return tm3_crs(meridian)
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise InvalidInput(f"not a CRS: {shown!r} ({exc})", hint=_SPEC_HINT) from None


def tm3_crs(meridian: float, *, prefer_epsg: bool = True) -> CRS:
    """Return the VN-2000 TM-3 CRS whose central meridian is ``meridian`` (decimal degrees).

    With ``prefer_epsg`` (the default) the EPSG CRS of :data:`EPSG_TM3_ZONES` when there is one;
    otherwise, or with ``prefer_epsg=False``, a projected CRS on the VN-2000 datum (EPSG:4756)
    named like ``"VN-2000 / TM-3 105-45 (Circular 973/2001)"``, bound to WGS 84 by the official
    Helmert (so its WKT1 carries ``TOWGS84`` and other software shifts it correctly).

    Raises :class:`InvalidInput` when ``meridian`` is outside :data:`TM3_MERIDIAN_RANGE` or not
    a whole number of arc-minutes.

    >>> tm3_crs(105.75).to_epsg()
    9210
    >>> tm3_crs(105.75, prefer_epsg=False).name
    'VN-2000 / TM-3 105-45 (Circular 973/2001)'
    """
    meridian = _checked_meridian(meridian)
    if prefer_epsg and meridian in EPSG_TM3_ZONES:
        return CRS.from_epsg(EPSG_TM3_ZONES[meridian])
    return _custom_tm3_crs(meridian)


def to_wgs84(crs: CRS) -> Transformer:
    """Return a transformer from ``crs`` to WGS 84 geographic (EPSG:4326), in x/y order.

    Input is (easting, northing) or (longitude, latitude) whatever the axis order of ``crs``;
    output is (longitude, latitude) in degrees; ``direction="INVERSE"`` goes back.

    For a CRS on the VN-2000 datum (:func:`is_vn2000`: EPSG:4756, 3405, 3406, the TM-3 zones,
    the CRSs of :func:`tm3_crs`, a ``.prj`` naming the datum, a PROJ string with VN-2000's
    ``+towgs84``) the shift is always the official Helmert :data:`OFFICIAL_TOWGS84`: the CRS is
    bound to WGS 84 by it, so PROJ has no operation to choose from. Left alone, PROJ ranks the
    Mekong-delta set EPSG:5194 as accurate (1 m) as the official one, and applies whatever
    ``TOWGS84`` a ``.prj`` carries (often rounded, or with the rotations' signs wrong); here a
    ``TOWGS84`` the CRS carries is replaced. The pipeline PROJ builds is checked to hold exactly
    the official Helmert step, forward, once; :class:`RuntimeError` if it does not.

    For any other CRS, PROJ's best operation to EPSG:4326.

    >>> t = to_wgs84(tm3_crs(105.0))
    >>> [round(v, 6) for v in t.transform(585_000.0, 2_326_000.0)]
    [105.819629, 21.025551]
    """
    wgs84 = CRS.from_epsg(WGS84_EPSG)
    base = _vn2000_base(crs)
    if base is None:
        return Transformer.from_crs(crs, wgs84, always_xy=True)
    bound = BoundCRS(source_crs=base, target_crs=wgs84, transformation=_official_operation())
    transformer = Transformer.from_crs(bound, wgs84, always_xy=True)
    _check_official_helmert(transformer.definition)
    return transformer


def is_vn2000(crs: CRS) -> bool:
    """Return whether ``crs`` is on the VN-2000 datum.

    True for a CRS whose datum is "Vietnam 2000" (EPSG:6756, also as ESRI's ``D_Vietnam_2000``),
    and for a CRS bound to WGS 84 by a shift within 2 m of VN-2000's translation on the WGS 84
    ellipsoid (a PROJ string or ``.prj`` with VN-2000's ``+towgs84``, whatever its rotations).
    A compound CRS is judged by its horizontal part. A CRS on the bare WGS 84 ellipsoid with
    neither datum name nor ``TOWGS84`` cannot be told from WGS 84 and gives False: such a file
    needs its CRS stated, e.g. ``resolve_crs("vn2000-tm3:Hà Nội")``.

    >>> is_vn2000(CRS.from_epsg(4756)), is_vn2000(CRS.from_epsg(4326))
    (True, False)
    """
    return _vn2000_base(crs) is not None


def tm3_crs_candidates() -> list[CRS]:
    """Return one TM-3 CRS per distinct central meridian of the province table, west to east.

    For finding the zone of a file whose ``.prj`` is missing or wrong: the right candidate is the
    one that puts the data inside the province it comes from.
    """
    meridians = sorted({p.meridian for p in _table().provinces})
    return [tm3_crs(m) for m in meridians]


def province_meridian(name: str) -> float:
    """Return the TM-3 central meridian (decimal degrees) of the pre-2025 province ``name``.

    Matching ignores case, diacritics and a ``TP.`` / ``Thành phố`` / ``Tỉnh`` prefix, and knows
    common other spellings (``"Bắc Cạn"``, ``"TP.HCM"``). A name is read as the pre-2025 province
    of that name; a post-2025 unit's name with ``"(mới)"`` / ``"(new)"``, or one that is no
    pre-2025 name, gives the unit's meridian when its provinces share one.

    Raises :class:`InvalidInput` for an unknown name, or a post-2025 unit whose pre-2025
    provinces have different meridians.

    >>> province_meridian("ha noi"), province_meridian("Bà Rịa-Vũng Tàu")
    (105.0, 107.75)
    """
    return _meridian_of_name(name, strict=False)


def tm3_provinces() -> list[Tm3Province]:
    """Return the 63 pre-2025 provinces with their TM-3 meridians, in the table's order."""
    return list(_table().provinces)


def provincial_units_2025() -> list[ProvincialUnit2025]:
    """Return the 34 provincial units from 01/07/2025 with their pre-2025 provinces."""
    return list(_table().units_2025)


def format_meridian(meridian: float) -> str:
    """Return ``meridian`` in degrees and minutes as the circulars write it.

    >>> format_meridian(105.75), format_meridian(103.0)
    ("105°45'", "103°00'")
    """
    degrees, minutes = divmod(round(meridian * 60), 60)
    return f"{degrees}°{minutes:02d}'"


# ---------------------------------------------------------------------------------------------
# TM-3 zones


def _meridian_label(meridian: float) -> str:
    degrees, minutes = divmod(round(meridian * 60), 60)
    return f"{degrees}-{minutes:02d}"


def _parse_meridian(text: str) -> float | None:
    """Return the meridian ``text`` writes (``105.75``, ``105-45``, ``105°45'``), else None."""
    text = text.strip()
    if re.fullmatch(r"\d{2,3}(\.\d+)?", text):
        return float(text)
    match = re.fullmatch(r"(\d{2,3})\s*(?:-|°|:|d|\s)\s*(\d{1,2}(?:\.\d+)?)\s*['′]?", text)
    if match is None:
        return None
    minutes = float(match.group(2))
    if minutes >= 60:
        raise InvalidInput(f"{text!r}: {minutes:g} minutes is not an angle", hint=_SPEC_HINT)
    return int(match.group(1)) + minutes / 60


def _checked_meridian(meridian: float) -> float:
    low, high = TM3_MERIDIAN_RANGE
    if not isinstance(meridian, int | float) or not math.isfinite(meridian):
        raise InvalidInput(f"central meridian {meridian!r} is not a number", hint=_SPEC_HINT)
    if not low <= meridian <= high:
        raise InvalidInput(
            f"central meridian {meridian:g}° is outside Vietnam's TM-3 zones ({low:g}°-{high:g}°E)",
            hint=_SPEC_HINT,
        )
    minutes = meridian * 60
    if abs(minutes - round(minutes)) > 1e-6:
        raise InvalidInput(
            f"central meridian {meridian:g}° is not a whole number of arc-minutes",
            hint="the provincial meridians are multiples of 15' (e.g. 105.75 = 105°45')",
        )
    return round(minutes) / 60


def _custom_tm3_crs(meridian: float) -> CRS:
    label = _meridian_label(meridian)
    conversion = TransverseMercatorConversion(
        latitude_natural_origin=TM3_LATITUDE_OF_ORIGIN,
        longitude_natural_origin=meridian,
        false_easting=TM3_FALSE_EASTING_M,
        false_northing=TM3_FALSE_NORTHING_M,
        scale_factor_natural_origin=TM3_SCALE_FACTOR,
    )
    projected = ProjectedCRS(
        conversion=conversion,
        name=f"VN-2000 / TM-3 {label} (Circular 973/2001)",
        geodetic_crs=CRS.from_epsg(VN2000_GEOGRAPHIC_EPSG),
    )
    as_json = projected.to_json_dict()
    as_json["conversion"]["name"] = f"Vietnam TM-3 {label}"
    return BoundCRS(
        source_crs=CRS.from_json_dict(as_json),
        target_crs=CRS.from_epsg(WGS84_EPSG),
        transformation=_official_operation(),
    )


# ---------------------------------------------------------------------------------------------
# the datum and its shift


def _official_operation() -> CoordinateOperation:
    """The official Helmert as a PROJ operation, built from :data:`OFFICIAL_TOWGS84`."""
    h = OFFICIAL_TOWGS84

    def parameter(name: str, code: int, value: float, unit: Any) -> dict[str, Any]:
        return {
            "name": name,
            "value": value,
            "unit": unit,
            "id": {"authority": "EPSG", "code": code},
        }

    arcsec = {"type": "AngularUnit", "name": "arc-second", "conversion_factor": math.pi / 648000}
    ppm = {"type": "ScaleUnit", "name": "parts per million", "conversion_factor": 1e-6}
    return CoordinateOperation.from_json_dict(
        {
            "type": "Transformation",
            "name": h.name,
            "source_crs": CRS.from_epsg(VN2000_GEOGRAPHIC_EPSG).to_json_dict(),
            "target_crs": CRS.from_epsg(WGS84_EPSG).to_json_dict(),
            "method": {
                "name": "Coordinate Frame rotation (geog2D domain)",
                "id": {"authority": "EPSG", "code": 9607},
            },
            "parameters": [
                parameter("X-axis translation", 8605, h.tx_m, "metre"),
                parameter("Y-axis translation", 8606, h.ty_m, "metre"),
                parameter("Z-axis translation", 8607, h.tz_m, "metre"),
                parameter("X-axis rotation", 8608, h.rx_arcsec, arcsec),
                parameter("Y-axis rotation", 8609, h.ry_arcsec, arcsec),
                parameter("Z-axis rotation", 8610, h.rz_arcsec, arcsec),
                parameter("Scale difference", 8611, h.ds_ppm, ppm),
            ],
            "id": {"authority": "EPSG", "code": h.epsg_code},
        }
    )


def _check_official_helmert(definition: str) -> None:
    """Raise RuntimeError unless the PROJ pipeline ``definition`` applies exactly the official
    Helmert, forward, once."""
    steps = [step.split() for step in definition.split(" step ") if "proj=helmert" in step]
    if len(steps) == 1 and "inv" not in steps[0]:
        params = dict(token.split("=", 1) for token in steps[0] if "=" in token)
        expected = OFFICIAL_TOWGS84.proj_params()
        if params.get("convention") == "coordinate_frame" and all(
            key in params and math.isclose(float(params[key]), value, rel_tol=0, abs_tol=1e-12)
            for key, value in expected.items()
        ):
            return
    raise RuntimeError(f"PROJ did not use the official VN-2000 Helmert: {definition}")


def _vn2000_base(crs: CRS) -> CRS | None:
    """The CRS without its binding to WGS 84, when it is on the VN-2000 datum; else None."""
    base = crs.source_crs if crs.is_bound else crs
    if base is None:
        return None
    if base.is_compound and base.sub_crs_list:
        base = base.sub_crs_list[0]
    if _has_vn2000_datum(base):
        return base
    if crs.is_bound and _has_vn2000_shift(crs):
        return base
    return None


def _has_vn2000_datum(crs: CRS) -> bool:
    datum = crs.datum
    if datum is None:
        return False
    name = re.sub(r"[^a-z0-9]", "", datum.name.lower())
    return name in {"vietnam2000", "dvietnam2000", "vn2000"}


def _has_vn2000_shift(bound: CRS) -> bool:
    ellipsoid = bound.source_crs.ellipsoid if bound.source_crs is not None else None
    operation = bound.coordinate_operation
    if ellipsoid is None or operation is None:
        return False
    if not math.isclose(ellipsoid.semi_major_metre, 6378137.0, abs_tol=1e-3):
        return False
    if not math.isclose(ellipsoid.inverse_flattening, 298.257223563, rel_tol=1e-9):
        return False
    values = {p.name: p.value for p in operation.params}
    try:
        translation = tuple(float(values[f"{axis}-axis translation"]) for axis in "XYZ")
    except (KeyError, TypeError, ValueError):
        return False
    official = (OFFICIAL_TOWGS84.tx_m, OFFICIAL_TOWGS84.ty_m, OFFICIAL_TOWGS84.tz_m)
    return math.dist(translation, official) <= _VN2000_SHIFT_TOLERANCE_M


# ---------------------------------------------------------------------------------------------
# province names


def _name_key(text: str) -> str:
    """``text`` folded for matching: lower case, no diacritics or punctuation, no TP./Tỉnh."""
    key = re.sub(r"[^a-z0-9]+", " ", fold_diacritics(text).lower()).strip()
    return re.sub(r"^(?:(?:tp|thanh pho|tinh)\s+)+", "", key)


def _split_era(text: str) -> tuple[str, str | None]:
    """Split a trailing ``(cũ)`` / ``(mới)`` off a name: (name, "pre-2025" | "post-2025" | None)."""
    match = re.search(r"\(([^()]*)\)\s*$", text)
    if match is None:
        return text, None
    qualifier = _name_key(match.group(1))
    if qualifier in _PRE_2025:
        return text[: match.start()], "pre-2025"
    if qualifier in _POST_2025:
        return text[: match.start()], "post-2025"
    raise InvalidInput(
        f"{text!r}: unknown qualifier {match.group(0).strip()!r}",
        hint="use '(cũ)' or '(old)' for the pre-2025 province, '(mới)' or '(new)' for the "
        "post-2025 unit",
    )


def _meridian_of_name(text: str, *, strict: bool) -> float:
    """The meridian of a province name. ``strict``: a name that is both a pre-2025 province and a
    post-2025 unit is read as the unit (what a name means since 2025), else as the province."""
    name, era = _split_era(text)
    key = _name_key(name)
    table = _table()
    province = table.province_by_key.get(key)
    unit = table.unit_by_key.get(key)
    if era == "pre-2025":
        unit = None
    elif era == "post-2025":
        province = None
    if province is not None and (unit is None or not strict):
        return province.meridian
    if unit is not None:
        return _unit_meridian(unit, text, same_name=province)
    raise _unknown_name(text, era)


def _unit_meridian(unit: ProvincialUnit2025, text: str, same_name: Tm3Province | None) -> float:
    if len(unit.meridians) == 1:
        return unit.meridians[0]
    listing = ", ".join(
        f"{p.name} {format_meridian(p.meridian)} (EPSG:{EPSG_TM3_ZONES[p.meridian]})"
        for p in unit.provinces
    )
    # suggest a province on another meridian than the one that shares the unit's name
    other = next(p for p in unit.provinces if same_name is None or p.meridian != same_name.meridian)
    examples = [f"'{TM3_SPEC_PREFIX}{other.name}'"]
    if same_name is not None:
        examples.append(f"'{TM3_SPEC_PREFIX}{same_name.name} (cũ)' (the pre-2025 province)")
    examples.append(f"'{TM3_SPEC_PREFIX}{_meridian_label(other.meridian)}'")
    raise InvalidInput(
        f"{text!r} is the post-2025 unit {unit.name} (Resolution 202/2025/QH15), made of "
        f"pre-2025 provinces on different TM-3 meridians: {listing}",
        hint="TM-3 data keep the meridian of the pre-2025 province they were made in: name that "
        f"province or its meridian, e.g. {', '.join(examples)}",
    )


def _unknown_name(text: str, era: str | None) -> InvalidInput:
    table = _table()
    names: dict[str, str] = {}
    if era != "post-2025":
        for province in table.provinces:
            for spelling in (province.name, *province.aliases):
                names[_name_key(spelling)] = province.name
    if era != "pre-2025":
        for unit in table.units_2025:
            names.setdefault(_name_key(unit.name), unit.name)
    close = difflib.get_close_matches(_name_key(_split_era(text)[0]), list(names), n=3)
    suggestion = f"did you mean {', '.join(repr(names[k]) for k in close)}? " if close else ""
    kind = {"pre-2025": "pre-2025 province", "post-2025": "post-2025 unit"}.get(
        era or "", "province"
    )
    return InvalidInput(
        f"unknown {kind} {text!r} for a VN-2000 TM-3 zone",
        hint=f"{suggestion}{_SPEC_HINT}",
    )


# ---------------------------------------------------------------------------------------------
# the table


@functools.cache
def _table() -> _Table:
    """Read ``tm3_meridians.yml`` once. ValueError if the packaged file is inconsistent."""
    text = resources.files(__package__).joinpath(_TABLE_FILE).read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    provinces = tuple(
        Tm3Province(
            name=str(row["name"]),
            iso_3166_2=str(row["iso"]),
            meridian=float(row["meridian"]),
            aliases=tuple(str(a) for a in row.get("aliases", ())),
        )
        for row in raw["provinces"]
    )
    province_by_key: dict[str, Tm3Province] = {}
    for province in provinces:
        for spelling in (province.name, *province.aliases):
            key = _name_key(spelling)
            if province_by_key.setdefault(key, province) is not province:
                raise ValueError(f"{_TABLE_FILE}: {spelling!r} names two provinces")
    by_name = {p.name: p for p in provinces}
    units = []
    for row in raw["units_2025"]:
        missing = [n for n in row["provinces"] if n not in by_name]
        if missing:
            raise ValueError(f"{_TABLE_FILE}: unit {row['name']!r}: unknown province(s) {missing}")
        units.append(
            ProvincialUnit2025(
                name=str(row["name"]), provinces=tuple(by_name[n] for n in row["provinces"])
            )
        )
    # a unit answers to its name and to every spelling of the province it is named after
    # ("TPHCM", "Hà Tây"), so that no spelling of such a name escapes the ambiguity check
    unit_by_key: dict[str, ProvincialUnit2025] = {}
    for unit in units:
        keys = {_name_key(unit.name)}
        for province in unit.provinces:
            spellings = {_name_key(s) for s in (province.name, *province.aliases)}
            if keys & spellings:
                keys |= spellings
        for key in keys:
            if unit_by_key.setdefault(key, unit) is not unit:
                raise ValueError(f"{_TABLE_FILE}: {key!r} names two units")
    return _Table(
        provinces=provinces,
        units_2025=tuple(units),
        province_by_key=province_by_key,
        unit_by_key=unit_by_key,
    )
