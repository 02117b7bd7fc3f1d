"""An independent computation of the spatial questions with geopandas, shapely and pyproj, to
check the SQL answers against: reads the tables, never the analysis schema's assignment, counts
or the publish schema's generalised points and views.

What each audience sees is computed here too (:func:`occurrences`): published records only, and
for the public each record of a sensitive taxon moved to the centre of its cell of the
equal-area grid (EPSG:6933, by pyproj). The level of a record is its taxon's (the rule's output,
``analysis.taxon_sensitivity``, tested on its own in tests/db/test_sensitivity.py), unless an
override for its taxon or that taxon's species in a province its point lies in says otherwise
(the highest such override wins).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from pyproj import Transformer

AUDIENCES = ("exact", "public")
_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
_FROM_EQUAL_AREA = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)


def occurrences(engine: sa.Engine, audience: str) -> gpd.GeoDataFrame:
    """The published records (id, taxon_id, event_date, coordinate_uncertainty_m, geom) as
    ``audience`` (``exact`` or ``public``) sees them; ``level_km`` says how far each was moved
    (0: not at all)."""
    assert audience in AUDIENCES, audience
    points = gpd.read_postgis(
        "SELECT id, taxon_id, event_date, coordinate_uncertainty_m, geom FROM occurrences "
        "WHERE review_status = 'published'",
        engine,
        geom_col="geom",
    )
    points["level_km"] = levels(engine, points) if len(points) else 0
    if audience == "exact":
        points["level_km"] = 0
        return points
    return generalised(points)


def levels(engine: sa.Engine, points: gpd.GeoDataFrame) -> np.ndarray:
    """Each record's sensitivity level in km (0: none)."""
    from vbis_geo.analysis.assignment import ensure_current

    ensure_current(engine)  # the rule's levels after the last change of taxa or statuses
    national = pd.read_sql("SELECT taxon_id, level_km FROM analysis.taxon_sensitivity", engine)
    level = points["taxon_id"].map(national.set_index("taxon_id")["level_km"]).fillna(0)
    overrides = pd.read_sql(
        "SELECT taxon_id, province_code, level_km FROM sensitivity_overrides "
        "WHERE province_code IS NOT NULL",
        engine,
    )
    if len(overrides):
        species = species_of(engine)
        provinces = areas(engine, "admin_units").set_index("code")
        for row in overrides.itertuples():
            of_taxon = points["taxon_id"].map(
                lambda t, o=row.taxon_id: t == o or species.get(int(t)) == o
            )
            within = points.intersects(provinces.loc[row.province_code, "geom"])
            local = of_taxon & within
            # the province's override, the highest where several apply; else the national level
            level = level.where(~local, np.nan)
            overridden = points.index[local]
            level.loc[overridden] = np.fmax(level.loc[overridden], row.level_km)
        level = level.fillna(0)
    return level.astype(int).to_numpy()


def generalised(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``points`` (with ``level_km``) with each sensitive one at the centre of its cell and its
    uncertainty at least the cell's half diagonal."""
    points = points.copy()
    moved = points["level_km"] > 0
    if not moved.any():
        return points
    x, y = _TO_EQUAL_AREA.transform(points.geometry.x[moved], points.geometry.y[moved])
    size = points.loc[moved, "level_km"].to_numpy() * 1000.0
    cx, cy = (np.floor(x / size) + 0.5) * size, (np.floor(y / size) + 0.5) * size
    lon, lat = _FROM_EQUAL_AREA.transform(cx, cy)
    points.loc[moved, "geom"] = gpd.points_from_xy(lon, lat, crs=points.crs)
    half_diagonal = np.ceil(points.loc[moved, "level_km"] * 1000 * math.sqrt(2) / 2)
    points.loc[moved, "coordinate_uncertainty_m"] = np.fmax(
        points.loc[moved, "coordinate_uncertainty_m"], half_diagonal
    )
    return points


def areas(engine: sa.Engine, table: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(f"SELECT * FROM {table}", engine, geom_col="geom")  # noqa: S608


def species_of(engine: sa.Engine) -> dict[int, int | None]:
    """taxon id -> the species it counts as: accepted name first, then up the parents to the
    species rank (None above it)."""
    taxa = pd.read_sql("SELECT id, rank, parent_id, accepted_id FROM taxa", engine).set_index("id")

    def species(taxon_id: int) -> int | None:
        current = taxa.at[taxon_id, "accepted_id"]
        current = taxon_id if pd.isna(current) else int(current)
        for _ in range(40):
            if taxa.at[current, "rank"] == "species":
                return current
            parent = taxa.at[current, "parent_id"]
            if pd.isna(parent):
                return None
            current = int(parent)
        return None

    return {int(t): species(int(t)) for t in taxa.index}


def inside(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> pd.DataFrame:
    """(point index, polygon index) pairs where the polygon covers the point (boundary in)."""
    joined = gpd.sjoin(points, polygons[["geom"]], predicate="intersects", how="inner")
    return joined.reset_index()[["index", "index_right"]].rename(
        columns={"index": "point", "index_right": "polygon"}
    )
