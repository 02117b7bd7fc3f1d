"""Species richness per protected area, per province or per grid cell, ready for a choropleth.

Each area (or cell) gets the number of distinct species recorded in it (records rolled up to
species as in :mod:`vbis_geo.analysis.species`: synonyms to their accepted name, lower ranks to
their species; records identified above the species rank are not counted), the number of those
species that are threatened (:data:`vbis_geo.analysis.taxa.THREATENED_CATEGORIES`), and the
number of their records.

*As of* a date ``d``: the areas in force on ``d`` (the 63 provinces until 2025-06-30, the 34 from
2025-07-01) and the records made on or before ``d``; without a date, the areas in force today and
every record.

Counts are of the records the audience asking sees (:mod:`vbis_geo.analysis.access`), placed by
the points it sees: for the public, a sensitive record counts in the area or cell of its
generalised point.

Grid cells are squares of ``cell_km`` in WGS 84 / NSIDC EASE-Grid 2.0 Global (EPSG:6933), the
equal-area CRS every ``area_ha`` of the database is computed in, aligned on its origin so that a
cell is the same cell in every answer; a point on a cell's edge (to the millimetre) is in the
cell east or north of it. The projection is cylindrical: a cell is a lon/lat
rectangle, returned exactly as a four-corner polygon. Its cells are equal in area, not in shape:
between 8.4 and 23.4 degrees north a "10 km" cell is about 11.4 x 8.8 to 10.6 x 9.4 km on the
ground, which richness (a count per equal area) does not mind.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import Audience, area_records, published
from vbis_geo.analysis.taxa import (
    THREATENED_CATEGORIES,
    THREATENED_LISTS,
    TaxonFilter,
    bind_lists,
)
from vbis_geo.db.base import EQUAL_AREA_SRID
from vbis_geo.errors import InvalidInput

#: what richness can be given per
BY = ("protected_area", "province", "grid")
#: the area tables of ``by`` (fixed names: they go into SQL text)
AREA_TABLES = {"protected_area": "protected_areas", "province": "admin_units"}
#: cell sizes accepted, in km: below 1 km a count pins records down better than the public may
#: see them (peers generalise sensitive records to 1-25 km cells), above 100 km Vietnam is a
#: handful of cells
CELL_KM_RANGE = (1.0, 100.0)
DEFAULT_CELL_KM = 10.0
#: most cells a grid answer may span (the bbox, or Vietnam, cut into cells): 10 km cells cover
#: the country in about 30,000; 1 km cells need a bbox of at most 250,000 km2
MAX_CELLS = 250_000
#: Vietnam with the Paracel and Spratly islands (lon/lat), the extent of a grid without bbox
VIETNAM_BBOX_4326 = (102.1, 6.9, 117.5, 23.5)

# EPSG:6933 (Lambert cylindrical equal-area on WGS 84, standard parallel 30 degrees) as
# formulas (EPSG Guidance Note 7-2, 1.3.5.2): the grid cell of a point is computed from its
# lon/lat without ST_Transform, twice as fast on a million points; a test checks them against
# PROJ.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_E = math.sqrt(_E2)
_K0 = math.cos(math.radians(30)) / math.sqrt(1 - _E2 * math.sin(math.radians(30)) ** 2)


def ease_x_m(lon: float) -> float:
    """Easting of ``lon`` (degrees) in EPSG:6933, metres."""
    return _A * _K0 * math.radians(lon)


def ease_y_m(lat: float) -> float:
    """Northing of ``lat`` (degrees) in EPSG:6933, metres."""
    s = math.sin(math.radians(lat))
    q = (1 - _E2) * (s / (1 - _E2 * s * s) - math.log((1 - _E * s) / (1 + _E * s)) / (2 * _E))
    return _A * q / (2 * _K0)


def _ease_x_sql(lon: str) -> str:
    return f"({_A * _K0!r} * radians({lon}))"


def _ease_y_sql(lat: str) -> str:
    s = f"sin(radians({lat}))"
    return (
        f"({_A * (1 - _E2) / (2 * _K0)!r} * ({s} / (1 - {_E2!r} * {s} ^ 2) "
        f"- ln((1 - {_E!r} * {s}) / (1 + {_E!r} * {s})) / {2 * _E!r}))"
    )


def in_force(alias: str, date_param: str = "d") -> str:
    """SQL condition: the row ``alias`` (with validity dates) is in force on ``:date_param``."""
    return (
        f"(({alias}.valid_from IS NULL OR {alias}.valid_from <= :{date_param}) "
        f"AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= :{date_param}))"
    )


def parse_by(raw: str | None) -> str:
    if raw not in BY:
        raise InvalidInput(
            f"by={raw!r}: expected one of {', '.join(BY)}"
            if raw
            else f"by is required: one of {', '.join(BY)}"
        )
    return raw


def parse_cell_km(raw: str | None) -> float:
    """The cell size in km (default 10); :class:`InvalidInput` outside :data:`CELL_KM_RANGE`."""
    if raw is None or raw == "":
        return DEFAULT_CELL_KM
    low, high = CELL_KM_RANGE
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise InvalidInput(f"cell_km={raw!r}: expected a number of km from {low:g} to {high:g}")
    return value


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` in WGS 84; :class:`InvalidInput` naming what is wrong."""
    if not raw:
        return None
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput(f"bbox={raw!r}: expected minlon,minlat,maxlon,maxlat in degrees")
    x0, y0, x1, y1 = values
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidInput(
            f"bbox={raw!r}: expected -180 <= minlon < maxlon <= 180 "
            "and -90 <= minlat < maxlat <= 90"
        )
    return x0, y0, x1, y1


def grid_span(
    bbox: tuple[float, float, float, float] | None, cell_km: float
) -> tuple[int, int, int, int]:
    """The cells (ix0, iy0, ix1, iy1; ix1 and iy1 excluded) the bbox (or Vietnam) touches;
    :class:`InvalidInput` when they are more than :data:`MAX_CELLS`."""
    x0, y0, x1, y1 = bbox or VIETNAM_BBOX_4326
    cell_m = cell_km * 1000
    span = (
        math.floor(ease_x_m(x0) / cell_m),
        math.floor(ease_y_m(max(y0, -89.999)) / cell_m),
        math.ceil(ease_x_m(x1) / cell_m),
        math.ceil(ease_y_m(min(y1, 89.999)) / cell_m),
    )
    cells = (span[2] - span[0]) * (span[3] - span[1])
    if cells > MAX_CELLS:
        where = "the bbox" if bbox else "Vietnam"
        raise InvalidInput(
            f"cell_km={cell_km:g} cuts {where} into {cells:,} cells; at most {MAX_CELLS:,}",
            hint="choose larger cells or a smaller bbox",
        )
    return span


def _common_ctes(
    taxa: TaxonFilter, params: dict[str, object], audience: Audience | None = None
) -> str:
    """``kept`` (the species the filter keeps), ``threatened`` (threatened species) and, given
    an ``audience``, ``records`` (the records it sees of kept species, as of ``:as_of``: id,
    species_id, geom)."""
    params["rich_threatened_lists"] = list(THREATENED_LISTS)
    params["rich_threatened_categories"] = list(THREATENED_CATEGORIES)
    conditions = taxa.where("ts.species_id", params)
    return f"""
        kept AS (
            SELECT DISTINCT ts.species_id FROM analysis.taxon_species ts
            WHERE ts.species_id IS NOT NULL {"".join(f" AND {c}" for c in conditions)}
        ), threatened AS (
            SELECT DISTINCT st.taxon_id AS species_id FROM taxon_statuses st
            WHERE st.list = ANY(:rich_threatened_lists)
              AND st.category = ANY(:rich_threatened_categories)
        ){_records(audience) if audience else ""}
    """  # noqa: S608 (fixed names and fragments; values bound)


def _records(audience: Audience) -> str:
    return f"""
        , records AS (
            SELECT o.id, ts.species_id, o.geom
            FROM {audience.relation} o
            JOIN analysis.taxon_species ts ON ts.taxon_id = o.taxon_id
            WHERE ts.species_id IN (SELECT species_id FROM kept)
              AND (CAST(:as_of AS date) IS NULL OR o.event_date <= :as_of)
        )"""  # noqa: S608 (fixed names)


# (area, species, records) for the areas of ``areas``: without a date, from the stored counts
# of the audience (migrations 0007, 0013; one row per area and species: about 1.7 ms for every
# protected area where counting a million records took 0.5 s, bench/questions.py)
_AREA_SPECIES = """
            SELECT s.area_id, s.species_id, s.records AS n FROM analysis.area_species s
            WHERE s.audience = :audience AND s.layer = :layer
              AND s.area_id IN (SELECT id FROM areas)
              AND s.species_id IN (SELECT species_id FROM kept)"""


def _area_records(audience: Audience) -> str:
    """As of a date, from the records made by then: counted per taxon first, then rolled up to
    species, so that the roll-up joins run on thousands of (area, taxon) rows instead of a row
    per record (about 16% less time on a million records, bench/questions.py)."""
    return f"""
            SELECT t.area_id, ts.species_id, sum(t.n) AS n
            FROM (
                SELECT o.area_id, o.taxon_id, count(*) AS n
                FROM {area_records(audience)} o
                WHERE o.layer = :layer AND o.area_id IN (SELECT id FROM areas)
                  AND o.event_date <= :as_of
                GROUP BY o.area_id, o.taxon_id
            ) t JOIN analysis.taxon_species ts ON ts.taxon_id = t.taxon_id
            WHERE ts.species_id IN (SELECT species_id FROM kept)
            GROUP BY t.area_id, ts.species_id"""  # noqa: S608 (fixed names)


def _counts(keys: str) -> str:
    """Counts per area or cell from ``pairs`` (``keys``, species_id, n): records, species and
    threatened species."""
    return f"""
        SELECT {keys}, sum(n)::bigint AS records, count(*) AS species,
               count(*) FILTER (WHERE species_id IN (SELECT species_id FROM threatened))
                   AS threatened_species
        FROM pairs GROUP BY {keys}
    """  # noqa: S608 (fixed names)


def richness(
    conn: Connection,
    by: str,
    *,
    audience: Audience,
    as_of: dt.date | None = None,
    cell_km: float = DEFAULT_CELL_KM,
    bbox: tuple[float, float, float, float] | None = None,
    taxa: TaxonFilter | None = None,
    geometry: bool = True,
    geojson_text: bool = False,
) -> dict[str, Any]:
    """Richness per area of ``by`` as a GeoJSON FeatureCollection (features without geometry
    when ``geometry`` is false; with ``geojson_text``, each geometry is the GeoJSON text
    PostGIS wrote, not parsed, for a caller that writes it out as it is). Every area in force
    appears, with zeros when it has no record; grid cells appear when they hold a record.
    Counts are of the records ``audience`` sees, placed by the points it sees.
    Raises :class:`InvalidInput` for an unknown ``by`` or a grid of too many cells."""
    parse_by(by)
    taxa = taxa or TaxonFilter()
    params: dict[str, object] = {
        "as_of": as_of,
        "d": as_of or dt.date.today(),
        "audience": audience.value,
    }
    if by == "grid":
        features = _grid(conn, audience, cell_km, bbox, taxa, params, geometry, geojson_text)
    else:
        table = AREA_TABLES[by]
        features = _areas(conn, audience, table, bbox, taxa, params, geometry, geojson_text)
    records = sum(f["properties"]["records"] for f in features)
    return {
        "type": "FeatureCollection",
        "by": by,
        "audience": audience.value,
        "as_of": as_of.isoformat() if as_of else None,
        "areas_as_of": None if by == "grid" else params["d"].isoformat(),  # type: ignore[attr-defined]
        "cell_km": cell_km if by == "grid" else None,
        "equal_area_crs": f"EPSG:{EQUAL_AREA_SRID}" if by == "grid" else None,
        "bbox_filter": list(bbox) if bbox else None,
        "filters": taxa.as_dict(),
        "summary": {
            "features": len(features),
            "records": records,
            "max_species": max((f["properties"]["species"] for f in features), default=0),
        },
        "features": features,
    }


def _areas(
    conn: Connection,
    audience: Audience,
    table: str,
    bbox: tuple[float, float, float, float] | None,
    taxa: TaxonFilter,
    params: dict[str, object],
    geometry: bool,
    geojson_text: bool = False,
) -> list[dict[str, Any]]:
    params["layer"] = table
    in_bbox = ""
    if bbox:
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
        in_bbox = "AND ST_Intersects(ar.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"
    area_ha = "gis_area_ha" if table == "protected_areas" else "area_ha"
    geojson = f"ST_AsGeoJSON(ar.geom, 6){'' if geojson_text else '::json'}" if geometry else "NULL"
    sql = f"""
        WITH {_common_ctes(taxa, params)}, areas AS (
            SELECT ar.id, ar.code, ar.name_vi, ar.name_en, ar.{area_ha} AS area_ha, ar.geom
            FROM {table} ar WHERE {in_force("ar")} AND {published("ar", table)} {in_bbox}
        ), pairs AS ({_AREA_SPECIES if params["as_of"] is None else _area_records(audience)}
        ), counts AS ({_counts("area_id")})
        SELECT ar.code, ar.name_vi, ar.name_en, round(ar.area_ha::numeric, 2) AS area_ha,
               coalesce(c.species, 0) AS species,
               coalesce(c.threatened_species, 0) AS threatened_species,
               coalesce(c.records, 0) AS records, {geojson} AS geometry
        FROM areas ar LEFT JOIN counts c ON c.area_id = ar.id
        ORDER BY ar.code
    """  # noqa: S608 (table and columns from fixed sets; values bound)
    features = []
    for row in conn.execute(bind_lists(sa.text(sql), params), params):
        props = dict(row._mapping)
        geom = props.pop("geometry")
        props["area_ha"] = float(props["area_ha"]) if props["area_ha"] is not None else None
        features.append(
            {"type": "Feature", "id": props["code"], "geometry": geom, "properties": props}
        )
    return features


def _grid(
    conn: Connection,
    audience: Audience,
    cell_km: float,
    bbox: tuple[float, float, float, float] | None,
    taxa: TaxonFilter,
    params: dict[str, object],
    geometry: bool,
    geojson_text: bool = False,
) -> list[dict[str, Any]]:
    ix0, iy0, ix1, iy1 = grid_span(bbox, cell_km)
    params["cell_m"] = float(cell_km * 1000)  # float8: ix * cell_m must not be smallint
    # a point is placed to the millimetre, so that one on a cell's edge -- the generalised point
    # of a sensitive record is the centre of a 1, 10 or 25 km cell, on the edge of smaller
    # cells -- is in the cell east (north) of it, whatever the rounding of its lon/lat
    params["cell_mm"] = float(cell_km * 1_000_000)
    in_span = ""
    if bbox:
        # the whole cells the bbox touches: records are prefiltered to their lon/lat rectangle
        # (a little wider, against rounding) and kept by their cell
        params.update({"ix0": ix0, "iy0": iy0, "ix1": ix1, "iy1": iy1})
        in_span = f"""
            WHERE r.geom && ST_Expand(ST_Transform(ST_MakeEnvelope(
                :ix0 * :cell_m, :iy0 * :cell_m, :ix1 * :cell_m, :iy1 * :cell_m, {EQUAL_AREA_SRID}),
                4326), 1e-7)
        """
    cell_filter = "WHERE ix >= :ix0 AND ix < :ix1 AND iy >= :iy0 AND iy < :iy1" if bbox else ""
    envelope = (
        f"ST_Transform(ST_MakeEnvelope(ix * :cell_m, iy * :cell_m, (ix + 1) * :cell_m, "
        f"(iy + 1) * :cell_m, {EQUAL_AREA_SRID}), 4326)"
    )
    cast = "" if geojson_text else "::json"
    geojson = f"ST_AsGeoJSON({envelope}, 9){cast}" if geometry else "NULL"
    sql = f"""
        WITH {_common_ctes(taxa, params, audience)}, located AS (
            SELECT floor(round({_ease_x_sql("ST_X(r.geom)")} * 1000) / :cell_mm)::bigint AS ix,
                   floor(round({_ease_y_sql("ST_Y(r.geom)")} * 1000) / :cell_mm)::bigint AS iy,
                   r.species_id
            FROM records r {in_span}
        ), pairs AS (
            SELECT ix, iy, species_id, count(*) AS n
            FROM located {cell_filter} GROUP BY ix, iy, species_id
        ), counts AS ({_counts("ix, iy")})
        SELECT ix, iy, species, threatened_species, records, {geojson} AS geometry
        FROM counts ORDER BY iy DESC, ix
    """  # noqa: S608 (fixed fragments; values bound)
    features = []
    for row in conn.execute(bind_lists(sa.text(sql), params), params):
        cell = f"{cell_km:g}kmE{row.ix}N{row.iy}"
        features.append(
            {
                "type": "Feature",
                "id": cell,
                "geometry": row.geometry,
                "properties": {
                    "cell": cell,
                    "ix": row.ix,
                    "iy": row.iy,
                    "species": row.species,
                    "threatened_species": row.threatened_species,
                    "records": row.records,
                },
            }
        )
    return features
