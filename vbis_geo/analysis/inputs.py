"""Checks of the inputs the questions share: text bound into SQL, and the CRS of a place.

Each raises :class:`~vbis_geo.errors.InvalidInput` naming the field and the form expected, so
that a bad value is a 400 of the API (and a ``ProcessInputError`` of a process), never a
database or PROJ error.
"""

from __future__ import annotations

from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from vbis_geo.errors import InvalidInput
from vbis_geo.geodesy import resolve_crs, to_wgs84

_CRS_HINT = "e.g. crs=EPSG:4326 (the default), EPSG:3405, EPSG:4756 or vn2000-tm3:Hà Nội"


def plain_text(field: str, value: str, expected: str) -> str:
    """``value``, refused when it holds a NUL character (PostgreSQL text cannot hold one, so
    it can match nothing): ``expected`` says what the field takes."""
    if "\x00" in value:
        raise InvalidInput(f"{field}={value!r}: a NUL character (\\x00); expected {expected}")
    return value


def place_crs(spec: str, field: str = "crs") -> CRS:
    """The CRS ``spec`` names (:func:`resolve_crs`), checked to be one a place can be given in:
    a geographic or projected CRS (a compound CRS by its horizontal part). A geocentric,
    vertical or engineering CRS is an :class:`InvalidInput` naming ``field``."""
    try:
        crs = resolve_crs(spec)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.message}", hint=exc.hint or _CRS_HINT) from None
    if not (crs.is_geographic or crs.is_projected):
        raise InvalidInput(
            f"{field}: {spec!r} is a {crs.type_name}; expected a geographic (longitude, "
            "latitude) or projected (easting, northing) CRS",
            hint=_CRS_HINT,
        )
    return crs


def to_wgs84_from(crs: CRS, spec: str, field: str = "crs") -> Transformer:
    """:func:`to_wgs84` of ``crs`` (which ``spec`` names); a CRS PROJ cannot take to WGS 84
    (of another celestial body: the Moon, a sphere of radius 1) is an :class:`InvalidInput`
    naming ``field``."""
    try:
        return to_wgs84(crs)
    except ProjError as exc:
        raise InvalidInput(
            f"{field}: {spec!r} cannot be taken to WGS 84 ({exc}); expected a CRS of the Earth",
            hint=_CRS_HINT,
        ) from None
