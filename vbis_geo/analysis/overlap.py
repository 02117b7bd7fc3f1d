"""How much of each wetland, ecosystem or planning zone lies inside protected areas.

Areas are computed in the equal-area CRS of every ``area_ha`` of the database (EPSG:6933,
:data:`vbis_geo.db.base.EQUAL_AREA_SRID`): a feature's ``area_ha`` here is its stored
``area_ha``. *Inside* is the part of the feature covered by the union of the protected areas, so
that overlapping protected areas are not counted twice; *outside* is the rest.

*As of* a date: the features and protected areas in force on that date (today without one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import published
from vbis_geo.analysis.richness import in_force
from vbis_geo.db.base import EQUAL_AREA_SRID
from vbis_geo.errors import InvalidInput

#: layer -> its type column (fixed names: they go into SQL text)
OVERLAP_LAYERS = {
    "wetlands": "wetland_type",
    "ecosystems": "ecosystem_type",
    "planning_zones": "zone_type",
}


def parse_layer(raw: str | None) -> str:
    if raw not in OVERLAP_LAYERS:
        allowed = ", ".join(OVERLAP_LAYERS)
        raise InvalidInput(
            f"layer={raw!r}: expected one of {allowed}"
            if raw
            else f"layer is required: one of {allowed}"
        )
    return raw


def overlap(conn: Connection, layer: str, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Each feature of ``layer`` with its area, the part inside protected areas and the part
    outside, in hectares, and the codes of the protected areas it overlaps; with totals.
    Raises :class:`InvalidInput` for a layer other than :data:`OVERLAP_LAYERS`."""
    type_column = OVERLAP_LAYERS[parse_layer(layer)]
    params = {"d": as_of or dt.date.today()}
    ea = EQUAL_AREA_SRID
    sql = f"""
        SELECT f.code, f.name_vi, f.name_en, f.{type_column} AS type,
               ST_Area(f.ea) / 10000.0 AS area_ha,
               coalesce(ST_Area(ST_Intersection(f.ea, u.ea)), 0) / 10000.0 AS inside_ha,
               coalesce(u.codes, '{{}}') AS protected_areas
        FROM (SELECT x.*, ST_Transform(x.geom, {ea}) AS ea FROM {layer} x
              WHERE {in_force("x")} AND {published("x", layer)}) f
        LEFT JOIN LATERAL (
            SELECT ST_Union(ST_Transform(p.geom, {ea})) AS ea,
                   array_agg(p.code ORDER BY p.code) AS codes
            FROM protected_areas p
            WHERE ST_Intersects(p.geom, f.geom) AND {in_force("p")}
              AND {published("p", "protected_areas")}
        ) u ON true
        ORDER BY f.code
    """  # noqa: S608 (layer and column from OVERLAP_LAYERS; values bound)
    features = []
    for row in conn.execute(sa.text(sql), params):
        item = dict(row._mapping)
        area, inside = item["area_ha"], min(item["inside_ha"], item["area_ha"])
        item.update(
            area_ha=round(area, 4),
            inside_ha=round(inside, 4),
            outside_ha=round(area - inside, 4),
            share_inside=round(inside / area, 6) if area else None,
            protected_areas=list(item["protected_areas"]),
        )
        features.append(item)
    area = sum(f["area_ha"] for f in features)
    inside = sum(f["inside_ha"] for f in features)
    return {
        "layer": layer,
        "as_of": as_of.isoformat() if as_of else None,
        "equal_area_crs": f"EPSG:{ea}",
        "summary": {
            "features": len(features),
            # features of a layer may overlap one another: these sums count such parts twice
            "area_ha": round(area, 4),
            "inside_ha": round(inside, 4),
            "outside_ha": round(area - inside, 4),
            "share_inside": round(inside / area, 6) if area else None,
            "inside_none": [f["code"] for f in features if f["inside_ha"] == 0],
        },
        "features": features,
    }
