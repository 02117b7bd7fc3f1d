"""Export a layer to GeoPackage, Shapefile, GeoJSON, CSV or a Darwin Core Archive, with filters.

Exports use the field names the loader reads (``layers/*.yml``), so an export loads back into
the same layer unchanged: a round trip loses no rows and no attributes. Shapefiles get unique
10-character names (:func:`vbis_geo.ingest.targets.shapefile_names`) and a UTF-8 ``.cpg``; lists
(``province_codes``) are written ``a;b``; CSV carries longitude/latitude for points and WKT for
other geometries. Protected areas can use WDPA field names instead (:mod:`.wdpa`).

**Whose export.** An export is made for one audience (:class:`~vbis_geo.analysis.access.Audience`)
and holds published rows only. Occurrences are read from the audience's relation: for the
public (the default, and what a publication should be) every sensitive record is at the centre
of its grid cell with its locality and remarks withheld, and says so in ``dataGeneralizations``
and ``informationWithheld`` (Darwin Core terms, in every format); the filters (bbox, province,
protected area) apply to those generalised points, so that a narrow filter cannot find an exact
spot. An export for the exact audience (an operator's, or an account with the right) holds the
exact points and loads back unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.analysis.access import Audience
from vbis_geo.analysis.assignment import public_points_current
from vbis_geo.db.base import EQUAL_AREA_SRID
from vbis_geo.errors import InvalidInput, NotFound
from vbis_geo.ingest.targets import Target, shapefile_names, target

FORMATS = ("gpkg", "shp", "geojson", "csv", "dwca")
#: Darwin Core term of each occurrence field (the DwC-A and CSV column names).
DWC_TERMS = {
    "occurrence_id": "occurrenceID",
    "basis_of_record": "basisOfRecord",
    "event_date": "eventDate",
    "scientific_name": "scientificName",
    "scientific_name_authorship": "scientificNameAuthorship",
    "taxon_rank": "taxonRank",
    "kingdom": "kingdom",
    "phylum": "phylum",
    "class": "class",
    "order": "order",
    "family": "family",
    "genus": "genus",
    "vernacular_name": "vernacularName",
    "recorded_by": "recordedBy",
    "individual_count": "individualCount",
    "coordinate_uncertainty_m": "coordinateUncertaintyInMeters",
    "locality": "locality",
    "occurrence_remarks": "occurrenceRemarks",
    "latitude": "decimalLatitude",
    "longitude": "decimalLongitude",
    "geodetic_datum": "geodeticDatum",
    "data_generalizations": "dataGeneralizations",
    "information_withheld": "informationWithheld",
}
#: what the public's relation withholds from a generalised record (Darwin Core term names)
WITHHELD = "locality and occurrenceRemarks withheld (sensitive species)"


def generalisation(km: int) -> str:
    """The ``dataGeneralizations`` of a record moved to the centre of its ``km`` km cell ('' for
    an exact one)."""
    if not km:
        return ""
    return (
        f"coordinates generalised to the centre of a {km} km cell of an equal-area grid "
        f"(EPSG:{EQUAL_AREA_SRID}); sensitive species"
    )


class FilterNotFound(NotFound):
    """A filter names nothing (no such province, protected area or taxon); ``field`` is the
    filter's name (``province``, ``protected_area``, ``taxon``)."""

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


@dataclass(frozen=True)
class ExportFilters:
    """Which rows: a bbox in EPSG:4326 (lon/lat), a province (code or name, either set), a
    protected area (code), a taxon (scientific name; with its lower ranks)."""

    bbox_4326: tuple[float, float, float, float] | None = None
    province: str | None = None
    protected_area: str | None = None
    taxon: str | None = None


def read_layer(
    conn: Connection,
    layer_id: str,
    filters: ExportFilters,
    *,
    audience: Audience = Audience.PUBLIC,
) -> gpd.GeoDataFrame:
    """The layer's published rows as the loader's fields, filtered; geometry in EPSG:4326.

    Occurrences are those ``audience`` sees, with ``generalised_km`` (0: exact) and, for the
    public, ``data_generalizations`` and ``information_withheld`` saying what was changed."""
    tgt = target(layer_id)
    if tgt.table.name == "occurrences" and audience is Audience.PUBLIC:
        public_points_current(conn)
    sql, params = _select(conn, tgt, filters, audience)
    frame = gpd.read_postgis(sa.text(sql), conn, params=params, geom_col="geom", crs=4326)
    for name, spec in tgt.fields.items():
        if spec.kind == "integer" and name in frame:
            frame[name] = frame[name].astype("Int64")
    if "_taxon_id" in frame:
        frame = frame.join(classification(conn, frame.pop("_taxon_id")))
    if "generalised_km" in frame and audience is Audience.PUBLIC:
        moved = frame["generalised_km"] > 0
        frame["data_generalizations"] = [generalisation(int(km)) for km in frame.generalised_km]
        frame["information_withheld"] = [WITHHELD if m else "" for m in moved]
    return frame.rename_geometry("geometry")


def count_rows(
    conn: Connection,
    layer_id: str,
    filters: ExportFilters,
    *,
    audience: Audience = Audience.PUBLIC,
) -> int:
    """How many rows :func:`read_layer` would give (one count, nothing read)."""
    tgt = target(layer_id)
    if tgt.table.name == "occurrences" and audience is Audience.PUBLIC:
        public_points_current(conn)
    sql, params = _select(conn, tgt, filters, audience)
    return int(
        conn.execute(sa.text(f"SELECT count(*) FROM ({sql}) AS rows"), params).scalar_one()  # noqa: S608 (our own SELECT)
    )


CLASSIFICATION_RANKS = ("kingdom", "phylum", "class", "order", "family", "genus")


def classification(conn: Connection, taxon_ids: pd.Series) -> pd.DataFrame:
    """kingdom ... genus of each row's taxon (one recursive query for the distinct taxa)."""
    rows = conn.execute(
        sa.text(
            "WITH RECURSIVE up AS (SELECT id AS taxon_id, id, parent_id, rank, scientific_name "
            "FROM taxa WHERE id = ANY(:ids) UNION ALL SELECT up.taxon_id, p.id, p.parent_id, "
            "p.rank, p.scientific_name FROM taxa p JOIN up ON p.id = up.parent_id) "
            "SELECT taxon_id, rank, scientific_name FROM up WHERE rank = ANY(:ranks)"
        ),
        {"ids": sorted({int(t) for t in taxon_ids}), "ranks": list(CLASSIFICATION_RANKS)},
    ).all()
    by_taxon: dict[int, dict[str, str]] = {}
    for taxon_id, rank, name in rows:
        by_taxon.setdefault(taxon_id, {})[rank] = name
    return pd.DataFrame(
        [by_taxon.get(int(t), {}) for t in taxon_ids],
        columns=list(CLASSIFICATION_RANKS),
        index=taxon_ids.index,
    )


def _select(
    conn: Connection, tgt: Target, filters: ExportFilters, audience: Audience
) -> tuple[str, dict[str, object]]:
    """The SELECT of the rows an export writes, and its bound values.

    Occurrences come from ``audience``'s relation (published rows only; for the public, at the
    generalised points, which every spatial filter then applies to); other layers from their
    table, published rows only where the table is reviewed."""
    table = tgt.table
    columns = [
        f"t.{_q(name)}" for name, spec in tgt.fields.items() if spec.column and name in table.c
    ]
    if "event_date_end" in table.c:
        columns.append("t.event_date_end")
    where, params = ["TRUE"], {}
    if table.name == "occurrences":
        source = audience.relation  # published only, at the points the audience sees
        columns.append("t.generalised_km")
    else:
        source = _q(table.name)
        if "review_status" in table.c:
            where.append("t.review_status = 'published'")
    joins = []
    if "protected_area_code" in tgt.fields:
        joins.append("JOIN protected_areas pa ON pa.id = t.protected_area_id")
        columns.append("pa.code AS protected_area_code")
    if "scientific_name" in tgt.fields:
        joins.append("JOIN taxa tx ON tx.id = t.taxon_id")
        columns += [
            "t.taxon_id AS _taxon_id",
            "tx.scientific_name",
            "tx.authorship AS scientific_name_authorship",
            "tx.rank AS taxon_rank",
            "tx.vernacular_name_vi AS vernacular_name",
        ]
    if filters.bbox_4326:
        where.append("t.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        where.append("ST_Intersects(t.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))")
        params.update(dict(zip(("x0", "y0", "x1", "y1"), filters.bbox_4326, strict=True)))
    if filters.province:
        where.append(
            "EXISTS (SELECT 1 FROM admin_units u WHERE u.id = :province_id "
            "AND ST_Intersects(u.geom, t.geom))"
        )
        params["province_id"] = _province_id(conn, filters.province)
    if filters.protected_area:
        pa_id = conn.execute(
            sa.text(
                "SELECT id FROM protected_areas WHERE code = :c AND review_status = 'published' "
                "ORDER BY valid_from DESC NULLS LAST LIMIT 1"
            ),
            {"c": filters.protected_area},
        ).scalar()
        if pa_id is None:
            raise FilterNotFound(
                "protected_area", f"no protected area with code {filters.protected_area!r}"
            )
        if "protected_area_id" in table.c:
            where.append("t.protected_area_id = :pa_id")
        elif table.name == "protected_areas":
            where.append("t.id = :pa_id")
        else:
            where.append(
                "EXISTS (SELECT 1 FROM protected_areas p WHERE p.id = :pa_id "
                "AND ST_Intersects(p.geom, t.geom))"
            )
        params["pa_id"] = pa_id
    if filters.taxon:
        if "taxon_id" not in table.c:
            raise InvalidInput(f"{tgt.layer.id} has no taxa: the taxon filter is for occurrences")
        ids = (
            conn.execute(
                sa.text("SELECT id FROM taxa WHERE scientific_name = :n"), {"n": filters.taxon}
            )
            .scalars()
            .all()
        )
        if not ids:
            raise FilterNotFound(
                "taxon", f"no taxon named {filters.taxon!r}", hint="taxa are searched at /api/taxa"
            )
        where.append(
            "t.taxon_id IN (WITH RECURSIVE sub AS (SELECT id FROM taxa WHERE id = ANY(:taxon_ids) "
            "UNION SELECT c.id FROM taxa c JOIN sub ON c.parent_id = sub.id OR c.accepted_id = "
            "sub.id) SELECT id FROM sub)"
        )
        params["taxon_ids"] = list(ids)
    key = ", ".join(f"t.{_q(k)}" for k in tgt.key)
    sql = (
        f"SELECT {', '.join(columns)}, t.geom FROM {source} t {' '.join(joins)} "  # noqa: S608 (schema identifiers)
        f"WHERE {' AND '.join(where)} ORDER BY {key}"
    )
    return sql, params


def _province_id(conn: Connection, province: str) -> int:
    from vbis_geo.ingest.load import _province_key

    rows = conn.execute(
        sa.text("SELECT id, code, name_vi, iso_3166_2 FROM admin_units ORDER BY valid_from DESC")
    ).all()
    for row in rows:
        if province in (row.code, row.iso_3166_2) or _province_key(row.name_vi) == _province_key(
            province
        ):
            return int(row.id)
    raise FilterNotFound(
        "province", f"no province {province!r}", hint="give an ISO 3166-2 code or a name"
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_layer(
    conn: Connection,
    layer_id: str,
    fmt: str,
    out: Path,
    filters: ExportFilters | None = None,
    *,
    wdpa: bool = False,
    audience: Audience = Audience.PUBLIC,
) -> int:
    """Write the published rows of ``layer_id`` that ``audience`` sees to ``out`` in ``fmt``
    (occurrences of the public: sensitive records generalised, and saying so); returns the
    number of rows written.

    Raises :class:`InvalidInput` for an unknown format, or a format that does not fit the layer.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}", hint="one of " + ", ".join(FORMATS))
    if fmt == "dwca" and layer_id != "occurrences":
        raise InvalidInput("a Darwin Core Archive holds occurrences only")
    frame = read_layer(conn, layer_id, filters or ExportFilters(), audience=audience)
    if fmt == "dwca":
        from vbis_geo.export.dwca import write_dwca

        write_dwca(conn, frame, out, filters or ExportFilters(), audience=audience)
        return len(frame)
    frame = frame.drop(columns="generalised_km", errors="ignore")
    if wdpa:
        if layer_id != "protected_areas":
            raise InvalidInput("WDPA field names are for protected areas only")
        from vbis_geo.export.wdpa import to_wdpa

        frame = to_wdpa(conn, frame)
    else:
        frame = _flatten(frame)
        if layer_id == "occurrences" and fmt != "shp":
            # Darwin Core names, except in Shapefiles, whose 10-character names are made from
            # the field names (the loader knows them by those)
            frame = _occurrence_columns(frame)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        _to_csv(frame, out, points=target(layer_id).is_point)
    elif fmt == "shp":
        _check_dbf_lengths(frame, layer_id)
        names = shapefile_names([c for c in frame.columns if c != "geometry"])
        frame.rename(columns=names).to_file(out, driver="ESRI Shapefile", encoding="utf-8")
    elif fmt == "gpkg":
        frame.to_file(out, driver="GPKG", layer=layer_id)
    else:
        frame.to_file(out, driver="GeoJSON")
    return len(frame)


#: A .dbf text field holds at most 254 bytes.
DBF_MAX_BYTES = 254


def _check_dbf_lengths(frame: gpd.GeoDataFrame, layer_id: str) -> None:
    """Refuse a Shapefile export that would cut text (rather than lose it silently)."""
    key = target(layer_id).key[0]
    for column in frame.columns:
        lengths = frame[column].map(lambda v: len(v.encode()) if isinstance(v, str) else 0)
        if len(lengths) and lengths.max() > DBF_MAX_BYTES:
            i = int(lengths.to_numpy().argmax())
            raise InvalidInput(
                f"{layer_id}: {column} of {frame[key].iloc[i]!r} is {lengths.iloc[i]} bytes; a "
                f"Shapefile text field holds at most {DBF_MAX_BYTES}",
                hint="export as gpkg or geojson, which keep the whole text",
            )


def _flatten(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lists as ``a;b``, dates as ISO text (so every format keeps them the same)."""
    frame = frame.copy()
    for column in frame.columns:
        if column == "geometry":
            continue
        values = frame[column]
        if values.map(lambda v: isinstance(v, list)).any():
            frame[column] = values.map(lambda v: ";".join(v) if isinstance(v, list) else v)
        elif values.map(lambda v: isinstance(v, dt.date)).any():
            frame[column] = values.map(lambda v: v.isoformat() if isinstance(v, dt.date) else None)
    return frame


def _occurrence_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Darwin Core names; eventDate as an interval where the record has an end date."""
    frame = frame.copy()
    end = frame.pop("event_date_end") if "event_date_end" in frame else None
    if end is not None:
        frame["event_date"] = [
            f"{s}/{e}" if e and s and e != s else s
            for s, e in zip(frame.event_date, end, strict=True)
        ]
    return frame.rename(columns=DWC_TERMS)


def _to_csv(frame: gpd.GeoDataFrame, out: Path, *, points: bool) -> None:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    if points:
        table["decimalLongitude"] = shapely.get_x(frame.geometry.values)
        table["decimalLatitude"] = shapely.get_y(frame.geometry.values)
    else:
        table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=-1)
    table.to_csv(out, index=False, encoding="utf-8")
