"""An independent computation of the spatial questions with geopandas and shapely, to check the
SQL answers against: reads the tables, never the analysis schema."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa


def occurrences(engine: sa.Engine) -> gpd.GeoDataFrame:
    return gpd.read_postgis(
        "SELECT id, taxon_id, event_date, coordinate_uncertainty_m, geom FROM occurrences",
        engine,
        geom_col="geom",
    )


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
