"""Output CRSs of the OGC API (CRS Part 2): how a stored geometry (EPSG:4326, lon/lat) is
written in each, in SQL.

VN-2000 CRSs use the official 7-parameter Helmert (EPSG:6960) as a PROJ string given to
PostGIS's ``ST_Transform(geom, to_proj)``: left to itself, PROJ (and so PostGIS's SRID path)
picks another operation, up to 0.8 m off in the south (see PROVIDERS.md, 1.8). EPSG:4326 and
EPSG:4756 are latitude-first by their definitions, so their coordinates are flipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vbis_geo.geodesy import OFFICIAL_TOWGS84

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_TOWGS84 = ",".join(repr(v) for v in OFFICIAL_TOWGS84.towgs84())
_VN2000 = f"+ellps=WGS84 +towgs84={_TOWGS84} +no_defs"


@dataclass(frozen=True)
class OutputCrs:
    """How to write geometries in one CRS: a PROJ target (None: as stored, or an SRID), whether
    axes are flipped, and the GeoJSON decimals (1 mm, or the shortest exact text for degrees)."""

    uri: str
    srid: int | None = None
    proj: str | None = None
    flip: bool = False
    decimals: int = 15

    def sql(self, geom: sa.ColumnElement) -> sa.ColumnElement:  # type: ignore[type-arg]
        out = geom
        if self.proj:
            out = sa.func.ST_Transform(out, self.proj)
        elif self.srid:
            out = sa.func.ST_Transform(out, self.srid)
        return sa.func.ST_FlipCoordinates(out) if self.flip else out


def _epsg(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


#: The CRSs offered, in the order the collections list them (CRS84, the storage CRS, first)
OUTPUT_CRS = {
    c.uri: c
    for c in (
        OutputCrs(CRS84),
        OutputCrs(_epsg(4326), flip=True),
        OutputCrs(_epsg(3857), srid=3857, decimals=3),
        OutputCrs(_epsg(4756), proj=f"+proj=longlat {_VN2000}", flip=True),
        OutputCrs(_epsg(3405), proj=f"+proj=utm +zone=48 {_VN2000} +units=m", decimals=3),
        OutputCrs(_epsg(3406), proj=f"+proj=utm +zone=49 {_VN2000} +units=m", decimals=3),
    )
}


def output_crs(spec: object) -> OutputCrs:
    """The output CRS a pygeoapi ``crs_transform_spec`` asks for (None: CRS84)."""
    if spec is None:
        return OUTPUT_CRS[CRS84]
    uri = str(getattr(spec, "target_crs_uri", ""))
    return OUTPUT_CRS.get(uri) or OUTPUT_CRS[_epsg(int(uri.rsplit("/", 1)[-1]))]


def bbox_polygon(coords: list[float], crs: OutputCrs) -> sa.ColumnElement:  # type: ignore[type-arg]
    """The area of a bbox given in ``crs`` (its own axis order), in EPSG:4326, as a polygon:
    the box's edges densified before the transformation, so that a projected box keeps its
    shape (pygeoapi transforms the two corners only, ~1 km off for a 200 km UTM box)."""
    x0, y0, x1, y1 = coords[0], coords[1], coords[-3 if len(coords) == 6 else 2], coords[-1]
    box = sa.func.ST_MakeEnvelope(x0, y0, x1, y1)
    if crs.flip:
        box = sa.func.ST_FlipCoordinates(box)
    step = max(abs(x1 - x0), abs(y1 - y0)) / 64 or 1
    box = sa.func.ST_Segmentize(box, step)
    if crs.proj:
        return sa.func.ST_Transform(box, crs.proj, 4326)
    if crs.srid:
        return sa.func.ST_Transform(sa.func.ST_SetSRID(box, crs.srid), 4326)
    return sa.func.ST_SetSRID(box, 4326)
