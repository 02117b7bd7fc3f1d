"""Raster layers: a GeoTIFF (or any raster GDAL reads) stored as a Cloud-Optimised GeoTIFF
under the data directory, with its ``datasets`` entry, ready for OGC API Coverages.

Categorical rasters (land cover) are copied without resampling: the overviews use the mode of
the classes, never an average (an average of class codes is a class that does not exist).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import orjson
import rasterio
import rasterio.shutil
import sqlalchemy as sa
import yaml
from rasterio.warp import transform_bounds
from sqlalchemy.engine import Connection

from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.settings import Settings


@dataclass(frozen=True)
class RasterLayer:
    """One raster layer of ``layers/rasters/*.yml``."""

    id: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, list[str]]
    licence: str | None
    demo_source: str | None
    classes: dict[int, str]


def raster_layers(layers_dir: Path) -> list[RasterLayer]:
    """The raster layers defined in ``layers_dir/rasters``."""
    out = []
    for path in sorted((layers_dir / "rasters").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if raw.get("id") != path.stem:
            raise InvalidInput(f"{path}: id {raw.get('id')!r} differs from the file name")
        out.append(
            RasterLayer(
                id=raw["id"],
                title=raw["title"],
                description=raw["description"],
                keywords=raw["keywords"],
                licence=raw.get("licence"),
                demo_source=raw.get("demo_source"),
                classes={int(k): str(v) for k, v in (raw.get("classes") or {}).items()},
            )
        )
    return out


def raster_path(settings: Settings, raster_id: str) -> Path:
    """Where the COG of ``raster_id`` lives."""
    return settings.var_dir / "rasters" / f"{raster_id}.tif"


def load_raster(conn: Connection, settings: Settings, raster_id: str, source: Path) -> Path:
    """Write ``source`` as the COG of ``raster_id`` and record its ``datasets`` entry; returns
    the COG's path. Raises :class:`InvalidInput` for a file GDAL cannot read as a raster."""
    from vbis_geo.settings import PROJECT_DIR

    layers = {r.id: r for r in raster_layers(PROJECT_DIR / "layers")}
    if raster_id not in layers:
        raise NotFound(f"no raster layer {raster_id!r}", hint="layers: " + ", ".join(layers))
    layer = layers[raster_id]
    try:
        with rasterio.open(source) as src:
            crs, bounds, count = src.crs, src.bounds, src.count
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidInput(f"{source}: not a raster GDAL can read ({exc})") from None
    if crs is None:
        raise InvalidInput(f"{source}: the raster has no CRS")
    target = raster_path(settings, raster_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.tif")
    rasterio.shutil.copy(
        source,
        tmp,
        driver="COG",
        COMPRESS="DEFLATE",
        RESAMPLING="MODE" if layer.classes else "AVERAGE",
        OVERVIEW_RESAMPLING="MODE" if layer.classes else "AVERAGE",
    )
    tmp.replace(target)
    west, south, east, north = transform_bounds(crs, "EPSG:4326", *bounds)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    conn.execute(
        sa.text(
            "INSERT INTO datasets (code, title_vi, title_en, abstract_vi, abstract_en, keywords, "
            "licence, target_layer, extent, source_name, source_sha256, source_crs, lineage, "
            "parameters, loaded_at) VALUES (:code, :tvi, :ten, :avi, :aen, :kw, :licence, :layer, "
            "ST_MakeEnvelope(:w, :s, :e, :n, 4326), :name, :sha, :crs, :lineage, "
            "CAST(:params AS jsonb), now()) ON CONFLICT (code) DO UPDATE SET "
            "source_name = EXCLUDED.source_name, source_sha256 = EXCLUDED.source_sha256, "
            "extent = EXCLUDED.extent, lineage = EXCLUDED.lineage, loaded_at = now()"
        ),
        {
            "code": f"raster:{raster_id}",
            "tvi": layer.title["vi"],
            "ten": layer.title["en"],
            "avi": layer.description["vi"],
            "aen": layer.description["en"],
            "kw": layer.keywords["vi"] + layer.keywords["en"],
            "licence": layer.licence,
            "layer": raster_id,
            "w": west,
            "s": south,
            "e": east,
            "n": north,
            "name": source.name,
            "sha": digest,
            "crs": crs.to_string(),
            "lineage": f"{source.name} ({count} band(s)) written as a Cloud-Optimised GeoTIFF by "
            "vbis-geo raster load",
            "params": orjson.dumps(
                {"classes": {str(k): v for k, v in layer.classes.items()}}
            ).decode(),
        },
    )
    return target
