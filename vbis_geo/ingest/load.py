"""read -> map -> validate -> reproject -> load: the one write path for files into layers.

A load runs inside the caller's transaction (``with engine.begin() as conn``): rows go to a
temporary staging table by COPY, then into the layer by one upsert on the layer's key, and a
``datasets`` entry records the lineage. By default a single rejected row stops the load and
nothing is written (the report says why); ``skip_rejected`` loads the rest and counts them.

**Who writes.** A load for an account (an upload: ``IngestOptions.principal``) checks the
staged rows against the account's scope in one statement
(:func:`vbis_geo.auth.scope.staged_refusals`: each row, and the existing row it would
replace), reporting those out of scope as rejected rows, and writes under
:func:`vbis_geo.auth.writer.writer`, where the database checks every row again; an expert's rows
go in as drafts. It therefore takes the staging path always: a COPY straight into the table,
dropping its indexes for a bulk load, and ANALYZE need the table's owner. The operator's load
(``vbis-geo ingest``, no principal) is maintenance: unrestricted, with those fast paths.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
import yaml
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Connection

from vbis_geo.errors import Forbidden, InvalidInput
from vbis_geo.ingest import coordinates as coords
from vbis_geo.ingest import pgcopy
from vbis_geo.ingest.report import REJECTED, REPAIRED, WARNING, Report
from vbis_geo.ingest.sources import SourceTable, blank_to_none, read_source
from vbis_geo.ingest.targets import Target, column_kind, normalise_name, target
from vbis_geo.ingest.taxa import CLASSIFICATION, NameMatch, add_taxon, match_names
from vbis_geo.ingest.values import (
    convert_column,
    is_arrow_text,
    numbers,
    parse_dates,
    reject_cells,
)

if TYPE_CHECKING:
    import pyproj

    from vbis_geo.auth.principal import Principal

#: ISO 3166-2 codes of the 63 provinces (valid until 2025-06-30) are the stable province codes
#: of every layer's ``province_codes``; the 34 units of 2025 are reached through the lineage.
PROVINCE_SET_VALID_TO = "2025-06-30"
COPY_CHUNK_ROWS = 100_000

Progress = Callable[[str, int, int], None]


@dataclass
class IngestOptions:
    """What the user asked for (``vbis-geo ingest`` options, or the upload form)."""

    crs: str | None = None
    province: str | None = None
    mapping: Path | None = None
    source_layer: str | None = None
    dry_run: bool = False
    skip_rejected: bool = False
    add_taxa: bool = False
    accept_synonyms: bool = False
    #: the file has WDPA field names (protected areas; see vbis_geo.export.wdpa)
    wdpa: bool = False
    #: harvests: a remote property with the time a row last changed (incremental harvests)
    since_field: str | None = None
    loaded_by: str | None = None
    #: the account writing (an upload): its scope is checked on the rows, which are written
    #: under vbis_geo.auth.writer.writer() (an expert's as drafts); None: the operator
    principal: Principal | None = field(default=None, repr=False)
    #: why, for the history of the rows the load replaces (with ``principal``)
    reason: str | None = None
    progress: Progress | None = field(default=None, repr=False)

    def parameters(self) -> dict[str, object]:
        """The options worth keeping in the dataset's lineage."""
        return {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in self.__dict__.items()
            if k not in ("progress", "loaded_by", "dry_run", "principal", "reason")
            and v not in (None, False)
        }


@dataclass(frozen=True)
class Mapping:
    """A mapping file: which source column feeds which field, extra value spellings, constants."""

    fields: dict[str, str]
    values: dict[str, dict[str, str]]
    constants: dict[str, str]

    @classmethod
    def read(cls, path: Path, tgt: Target) -> Mapping:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{path}: the mapping file is not UTF-8 text ({exc})",
                hint="a mapping file is YAML, saved as UTF-8",
            ) from None
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"{path}: cannot read the mapping file ({exc})") from None
        if not isinstance(raw, dict) or set(raw) - {"fields", "values", "constants"}:
            raise InvalidInput(
                f"{path}: a mapping file has the keys fields, values and constants",
                hint="fields: {name_vi: TEN_KBT}, values: {legal_category: {VQG: national_park}}",
            )
        hint = "fields: {name_vi: TEN_KBT}, values: {legal_category: {VQG: national_park}}"
        for key, value in raw.items():
            if not isinstance(value, dict | None):
                raise InvalidInput(
                    f"{path}: {key} is a {type(value).__name__}; expected a mapping", hint=hint
                )
        for name, spellings in (raw.get("values") or {}).items():
            if not isinstance(spellings, dict | None):
                raise InvalidInput(
                    f"{path}: values.{name} is a {type(spellings).__name__}; expected a mapping "
                    "of source value -> stored value",
                    hint=hint,
                )
        mapping = cls(
            fields={str(k): str(v) for k, v in (raw.get("fields") or {}).items()},
            values={
                str(f): {str(a): str(b) for a, b in (v or {}).items()}
                for f, v in (raw.get("values") or {}).items()
            },
            constants={str(k): str(v) for k, v in (raw.get("constants") or {}).items()},
        )
        unknown = (set(mapping.fields) | set(mapping.values) | set(mapping.constants)) - set(
            tgt.fields
        )
        if unknown:
            raise InvalidInput(
                f"{path}: {sorted(unknown)} are not fields of {tgt.layer.id}",
                hint="fields: " + ", ".join(tgt.fields),
            )
        return mapping


def ingest_file(
    conn: Connection, layer_id: str, path: Path | str, options: IngestOptions
) -> Report:
    """Load the file at ``path`` (or harvest the remote layer at a URL) into ``layer_id``;
    returns the report.

    Raises :class:`InvalidInput` when the source cannot be read at all.
    """
    from vbis_geo.ingest import harvest, sliced

    tgt = target(layer_id)
    _progress(options, "reading", 0, 1)
    if isinstance(path, str) and harvest.is_remote(path):
        since = harvest.previous_harvest(conn, layer_id, path) if options.since_field else None
        source = harvest.read_remote(path, since_field=options.since_field, since=since)
        source.dataset_code = f"harvest:{layer_id}:{harvest.source_code(path)}"
        if options.since_field and path.startswith("WFS:"):
            source.notes.append(
                "a WFS layer is read whole (--since-field filters OGC API Features only): "
                "unchanged rows are found by comparing them"
            )
        if since is not None and source.frame.empty:
            if not options.dry_run:
                require_write_access(tgt.table.name, options)
            report = Report(layer_id, path, dry_run=options.dry_run)
            report.add(
                None,
                "source",
                WARNING,
                f"nothing changed since the previous harvest ({since:%Y-%m-%d %H:%M:%S %Z}): "
                "nothing to write",
            )
            return report
    else:
        streamed = sliced.load_streamed(conn, tgt, Path(path), options)
        if streamed is not None:
            return streamed
        source = read_source(Path(path), layer=options.source_layer)
    return ingest_table(conn, tgt, source, options)


def ingest_table(
    conn: Connection, tgt: Target, source: SourceTable, options: IngestOptions
) -> Report:
    """Validate ``source`` for ``tgt`` and (unless a dry run or rejected) write it.

    Raises :class:`Forbidden` when ``options.principal`` may not write the layer at all.
    """
    if not options.dry_run:
        require_write_access(tgt.table.name, options)
    report = Report(
        tgt.layer.id,
        source.name,
        n_read=len(source.frame),
        dry_run=options.dry_run,
        encoding=source.encoding.name
        if source.encoding and source.encoding.name != "ascii"
        else None,
    )
    for note in source.notes:
        report.add(None, "file", WARNING, note)
    if options.wdpa:
        from vbis_geo.export.wdpa import from_wdpa

        if tgt.layer.id != "protected_areas":
            raise InvalidInput("WDPA field names are for protected areas only")
        source.frame = from_wdpa(source.frame)
    mapping = Mapping.read(options.mapping, tgt) if options.mapping else None
    from vbis_geo.ingest import sliced

    if sliced.load_in_memory(conn, tgt, source, mapping, report, options):
        return report
    raw = map_columns(tgt, source.frame, mapping, report)
    rows = source.row_numbers
    _progress(options, "validating", 0, 1)
    columns = convert_fields(tgt, raw, rows, report)
    if tgt.layer.id == "taxa":
        return _ingest_checklist(conn, tgt, source, raw, columns, rows, report, options)
    if tgt.spatial:
        geoms = build_geometries(conn, tgt, source, raw, rows, options, report)
        if report.file_errors:
            return report
        columns["geom"] = geoms
    if "protected_area_code" in tgt.fields:
        columns["protected_area_id"] = resolve_protected_areas(conn, raw, rows, report)
    new_taxa: dict[str, NewTaxon] = {}
    if "scientific_name" in tgt.fields:
        columns.update(match_taxa(conn, raw, rows, report, options, new_taxa))
    _reject_duplicate_keys(tgt, columns, rows, report)
    _reject_generalised(raw, rows, report)
    if options.dry_run and not report.file_errors:
        _check_as_written(conn, tgt, columns, rows, report, options)
    rejected = _row_mask(report, rows, REJECTED)
    if rejected.all() and len(rows):
        report.add(None, "file", REJECTED, "every row was rejected")
    if report.file_errors or (rejected.any() and not options.skip_rejected) or options.dry_run:
        return report
    savepoint = conn.begin_nested()
    try:
        _write(conn, tgt, source, raw, columns, rows, rejected, new_taxa, report, options)
    except RowsBrokeRules:
        savepoint.rollback()
        report.written = False
        return report
    savepoint.commit()
    return report


def _write(
    conn: Connection,
    tgt: Target,
    source: SourceTable,
    raw: dict[str, pd.Series],
    columns: dict[str, pd.Series],
    rows: np.ndarray,
    rejected: np.ndarray,
    new_taxa: dict[str, NewTaxon],
    report: Report,
    options: IngestOptions,
) -> None:
    dataset_id = record_dataset(conn, tgt, source, options, report)
    with writing(conn, options):
        if new_taxa:
            created = {
                name: add_taxon(conn, name, t.classification, t.rank, t.authorship, dataset_id)
                for name, t in new_taxa.items()
            }
            names = raw["scientific_name"].str.strip()
            columns["taxon_id"] = columns["taxon_id"].where(
                columns["taxon_id"].notna(), names.map(created, na_action="ignore")
            )
        keep = ~rejected
        write_rows(conn, tgt, columns, keep, dataset_id, report, options, rows=rows)
    finish_dataset(conn, tgt, dataset_id, report)
    report.written = True


def _ingest_checklist(
    conn: Connection,
    tgt: Target,
    source: SourceTable,
    raw: dict[str, pd.Series],
    columns: dict[str, pd.Series],
    rows: np.ndarray,
    report: Report,
    options: IngestOptions,
) -> Report:
    """The rest of :func:`ingest_table` for the taxonomy backbone (see :mod:`.checklist`)."""
    from vbis_geo.ingest import checklist

    statuses = checklist.status_values(raw, rows, report)
    checklist.check_synonyms(columns, raw, rows, report)
    _reject_duplicate_keys(tgt, columns, rows, report)
    if options.dry_run:
        _report_write_refusal(tgt, report, options)
    rejected = _row_mask(report, rows, REJECTED)
    if report.file_errors or (rejected.any() and not options.skip_rejected) or options.dry_run:
        return report
    savepoint = conn.begin_nested()
    try:
        dataset_id = record_dataset(conn, tgt, source, options, report)
        with writing(conn, options):
            checklist.write_checklist(
                conn,
                tgt,
                raw,
                columns,
                statuses,
                rows,
                ~rejected,
                dataset_id,
                report,
                write_rows,
                options,
            )
        finish_dataset(conn, tgt, dataset_id, report)
    except RowsBrokeRules:
        savepoint.rollback()
        return report
    savepoint.commit()
    report.written = True
    return report


def require_write_access(table: str, options: IngestOptions) -> None:
    """Raise :class:`Forbidden` when the account writing may not write ``table`` at all, or
    asks to add taxa (the backbone is the national administrators'); the operator may."""
    refusal = _write_refusal(table, options)
    if refusal is not None:
        raise Forbidden(refusal[0], hint=refusal[1])


def _write_refusal(table: str, options: IngestOptions) -> tuple[str, str] | None:
    """Why the account of ``options`` may not write ``table`` at all, and a hint; None if it
    may (or is the operator)."""
    from vbis_geo.auth.scope import table_refusal

    principal = options.principal
    if principal is None:
        return None
    refusal = table_refusal(principal, table)
    if refusal is not None:
        return refusal, "send dry_run=true to validate the file"
    if options.add_taxa and not principal.is_admin:
        return (
            "add_taxa adds names to the taxonomy backbone, which national administrators write",
            "load without add_taxa: the report lists the names missing from the backbone",
        )
    return None


def _report_write_refusal(tgt: Target, report: Report, options: IngestOptions) -> bool:
    """On a dry run, report (and say) whether the account may not write the layer at all."""
    refusal = _write_refusal(tgt.table.name, options)
    if refusal is not None:
        report.add(None, "file", REJECTED, f"a write would be refused: {refusal[0]}", refusal[1])
    return refusal is not None


def _check_as_written(
    conn: Connection,
    tgt: Target,
    columns: dict[str, pd.Series],
    rows: np.ndarray,
    report: Report,
    options: IngestOptions,
) -> None:
    """On a dry run, what the write would check besides the file: whether the account may
    write the layer, the table's CHECK rules and the account's scope, row by row, on the rows
    staged in a savepoint that is rolled back; each refusal goes into the report as the write
    would put it. The operator's dry run checks the rules (it has no scope)."""
    if _report_write_refusal(tgt, report, options):
        return
    keep = ~_row_mask(report, rows, REJECTED)
    if not keep.any():
        return
    names = _written(tgt, columns)
    every = replace(options, skip_rejected=True)  # report them all, raise none
    savepoint = conn.begin_nested()
    try:
        staging = _stage(conn, tgt, columns, names, keep, rows, options)
        _check_rules(conn, tgt, staging, names, report, every)
        _check_scope(conn, tgt, staging, report, every)
    finally:
        savepoint.rollback()


def writing(conn: Connection, options: IngestOptions) -> AbstractContextManager[None]:
    """Where the rows of a load are written: under :func:`vbis_geo.auth.writer.writer` for an
    account, as the connection's user for the operator."""
    if options.principal is None:
        return nullcontext()
    from vbis_geo.auth.writer import writer

    return writer(conn, options.principal, options.reason)


def _progress(options: IngestOptions, stage: str, done: int, total: int) -> None:
    if options.progress:
        options.progress(stage, done, total)


def _row_mask(report: Report, rows: np.ndarray, action: str) -> np.ndarray:
    return np.isin(rows, np.fromiter(report.rows_with(action), dtype=np.int64))


# -- mapping ------------------------------------------------------------------------------------
def map_columns(
    tgt: Target, frame: pd.DataFrame, mapping: Mapping | None, report: Report
) -> dict[str, pd.Series]:
    """Source columns by the field they feed, from the mapping file and the layer's names."""
    lookup = tgt.lookup()
    chosen: dict[str, str] = {}
    if mapping:
        for field_name, column in mapping.fields.items():
            if column not in frame.columns:
                raise InvalidInput(
                    f"{report.source}: the mapping names column {column!r} for {field_name}, "
                    "which the file does not have",
                    hint="columns: " + ", ".join(map(str, frame.columns)),
                )
            chosen[field_name] = column
    for column in frame.columns:
        field_name = lookup.get(normalise_name(column))
        if field_name is None:
            if column not in chosen.values():
                report.add(
                    None,
                    str(column),
                    WARNING,
                    f"column not loaded: no field of {tgt.layer.id} is called so",
                )
            continue
        if field_name in chosen:
            if chosen[field_name] != column:
                report.add(
                    None,
                    str(column),
                    WARNING,
                    f"column not loaded: {field_name} comes from column {chosen[field_name]!r}",
                )
            continue
        chosen[field_name] = column
    out = {name: blank_to_none(frame[column]) for name, column in chosen.items()}
    report.columns = {name: str(column) for name, column in chosen.items()}
    if mapping:
        for name, value in mapping.constants.items():
            out[name] = pd.Series([value] * len(frame), dtype=object, index=frame.index)
        for name, spellings in mapping.values.items():
            if name in out:
                out[name] = out[name].map(lambda v, s=spellings: s.get(v, v), na_action="ignore")
    return out


def convert_fields(
    tgt: Target, raw: dict[str, pd.Series], rows: np.ndarray, report: Report
) -> dict[str, pd.Series]:
    """Typed column values; missing required fields and bad cells are rejected in ``report``."""
    out: dict[str, pd.Series] = {}
    for name, spec in tgt.fields.items():
        if not spec.column or name not in raw or name == "event_date":
            continue
        out[name] = convert_column(spec, raw[name], rows, report, tgt)
    if "event_date" in tgt.fields:
        _event_dates(tgt, raw, out, rows, report)
    for name, source_field in tgt.rules.defaults.items():
        if source_field in out:
            out[name] = out.get(name, pd.Series([None] * len(rows), dtype=object)).where(
                lambda s: s.notna(), out[source_field]
            )
    for name, spec in tgt.fields.items():
        if not spec.required:
            continue
        if name not in out:
            report.add(
                None,
                name,
                REJECTED,
                f"no column for the required field {name}",
                "a column named "
                + " or ".join(dict.fromkeys([name, *tgt.rules.fields[name][:3]]))
                + " (or a --mapping file)",
            )
            continue
        missing = out[name].isna().to_numpy() & ~np.isin(rows, list(report.rows_with(REJECTED)))
        reject_cells(
            report, rows, missing, name, out[name], "required value missing", spec.expected
        )
    return out


def _event_dates(
    tgt: Target,
    raw: dict[str, pd.Series],
    out: dict[str, pd.Series],
    rows: np.ndarray,
    report: Report,
) -> None:
    """dwc:eventDate (a date or an interval), else year/month/day."""
    if "event_date" in raw:
        present = raw["event_date"].notna().to_numpy()
        start, end, bad = parse_dates(raw["event_date"], present)
        spec = tgt.fields["event_date"]
        reject_cells(
            report, rows, bad, "event_date", raw["event_date"], "not a date", spec.expected
        )
        out["event_date"], out["event_date_end"] = start, end.where(start != end, None)
        return
    if "year" not in raw:
        return
    parts = [
        raw[p].astype(object) if p in raw else pd.Series([None] * len(rows), dtype=object)
        for p in ("year", "month", "day")
    ]
    text = parts[0].where(parts[0].isna(), parts[0].str.strip())
    for part in parts[1:]:
        padded = part.where(part.isna(), part.str.strip().str.zfill(2))
        text = text.where(part.isna() | text.isna(), text + "-" + padded)
    start, end, bad = parse_dates(text, text.notna().to_numpy())
    reject_cells(report, rows, bad, "year", text, "not a date (year, month, day)", "a valid date")
    out["event_date"], out["event_date_end"] = start, end.where(start != end, None)


# -- geometry -----------------------------------------------------------------------------------
def build_geometries(
    conn: Connection,
    tgt: Target,
    source: SourceTable,
    raw: dict[str, pd.Series],
    rows: np.ndarray,
    options: IngestOptions,
    report: Report,
    region: coords.Region | None = None,
) -> np.ndarray:
    """Geometries in EPSG:4326, checked and repaired; None for rejected rows. ``region``, when
    given, is :func:`vietnam_region` read before (no query then)."""
    datum_values = (
        set(raw["geodetic_datum"].dropna().unique()) if "geodetic_datum" in raw else set()
    )
    xy: tuple[np.ndarray, np.ndarray] | None = None
    if source.geometry is not None and any(g is not None for g in source.geometry):
        geoms = source.geometry
        declared = source.crs
    elif "wkt" in raw:
        geoms = _from_wkt(raw["wkt"], rows, report)
        declared = source.crs
        if declared is None and not options.crs:
            declared = coords.WGS84
            report.add(None, "crs", WARNING, "no CRS given: WKT in WGS 84 (EPSG:4326) assumed")
    elif "longitude" in raw and "latitude" in raw:
        x, bad_x = numbers(raw["longitude"])
        y, bad_y = numbers(raw["latitude"])
        reject_cells(
            report,
            rows,
            bad_x,
            "longitude",
            raw["longitude"],
            "not a number",
            "a number (decimal point '.')",
        )
        reject_cells(
            report,
            rows,
            bad_y,
            "latitude",
            raw["latitude"],
            "not a number",
            "a number (decimal point '.')",
        )
        missing = np.isnan(x) | np.isnan(y)
        reject_cells(
            report,
            rows,
            missing & ~bad_x & ~bad_y,
            "longitude",
            raw["longitude"],
            "no coordinates",
            "longitude and latitude",
        )
        geoms = np.empty(len(rows), dtype=object)
        if tgt.is_point:
            # points of a point layer stay coordinates: no geometry object per row
            xy = (np.where(missing, np.nan, x), np.where(missing, np.nan, y))
        else:
            geoms[~missing] = shapely.points(x[~missing], y[~missing])
        declared = source.crs
        if declared is None and not datum_values and not options.crs:
            # Darwin Core: decimalLongitude/decimalLatitude are degrees, WGS 84 unless a
            # geodeticDatum says otherwise; the unit check below still catches metres
            declared = coords.WGS84
            report.add(
                None,
                "crs",
                WARNING,
                "no CRS given: longitude/latitude in WGS 84 (EPSG:4326) assumed, as in Darwin Core",
            )
    else:
        report.add(
            None,
            "geometry",
            REJECTED,
            "no geometry and no coordinate columns",
            "a geometry, or longitude/latitude columns (decimalLongitude, decimalLatitude, lon, "
            "lat, kinh_do, vi_do, x, y)",
        )
        return np.empty(len(rows), dtype=object)
    crs = coords.choose_crs(declared, options.crs, datum_values, report)
    if crs is None:
        return np.empty(len(rows), dtype=object)
    report.source_crs = coords.crs_label(crs)
    if xy is not None:
        _progress(options, "reprojecting", 0, 1)
        region = region or vietnam_region(conn, options.province)
        return _points(*xy, crs, rows, region, report)
    raw_x, raw_y = coords.probe_points(geoms)
    if not coords.check_units(crs, raw_x, raw_y, report):
        return np.empty(len(rows), dtype=object)
    _progress(options, "reprojecting", 0, 1)
    lonlat = coords.transform_geometries(geoms, crs)
    region = region or vietnam_region(conn, options.province)
    good = coords.check_location(lonlat, rows, region, report, crs=crs, raw_geoms=geoms)
    if report.file_errors:
        return np.empty(len(rows), dtype=object)
    out = np.empty(len(rows), dtype=object)
    if good.any():
        out[good] = coords.repair_geometries(lonlat[good], rows[good], tgt.geometry_type, report)
    return out


def _points(
    x: np.ndarray,
    y: np.ndarray,
    crs: pyproj.CRS,
    rows: np.ndarray,
    region: coords.Region,
    report: Report,
) -> np.ndarray:
    """:func:`build_geometries` for a point layer fed by coordinate columns (x, y: NaN where
    missing), on the coordinates alone: the same checks, and a (rows, 2) array of longitude
    and latitude (NaN for rejected rows) instead of a million Point objects."""
    if not coords.check_units(crs, x, y, report):
        return np.empty(len(rows), dtype=object)
    lon, lat = coords.transform_points(x, y, crs)
    good = coords.check_point_location(lon, lat, rows, region, report, crs=crs, raw_x=x, raw_y=y)
    if report.file_errors:
        return np.empty(len(rows), dtype=object)
    out = np.full((len(rows), 2), np.nan)
    # the good points are finite and 2D: valid points, nothing to repair
    out[good, 0], out[good, 1] = lon[good], lat[good]
    return out


def _from_wkt(text: pd.Series, rows: np.ndarray, report: Report) -> np.ndarray:
    geoms = np.empty(len(text), dtype=object)
    for i, value in enumerate(text):
        if value is None:
            continue
        try:
            geoms[i] = shapely.from_wkt(value)
        except shapely.errors.GEOSException:
            report.add(
                int(rows[i]),
                "wkt",
                REJECTED,
                "not a WKT geometry",
                "WKT, e.g. POINT (105.8 21.0)",
                value[:80],
            )
    return geoms


#: Vietnam and its waters (provinces + margin), prepared, by database and provinces' state
_OUTLINES: dict[tuple[object, ...], BaseGeometry] = {}


def vietnam_region(conn: Connection, province: str | None) -> coords.Region:
    """Vietnam's outline from the loaded provinces (the 63, which reach the island districts),
    and the stated province; a generous box when no provinces are loaded.
    """
    stamp = conn.execute(
        sa.text(
            "SELECT count(*), max(updated_at) FROM admin_units "
            "WHERE valid_to = CAST(:valid_to AS date)"
        ),
        {"valid_to": PROVINCE_SET_VALID_TO},
    ).one()
    key = (str(conn.engine.url), stamp[0], stamp[1])
    if key not in _OUTLINES:
        wkb = conn.execute(
            sa.text(
                "SELECT ST_AsBinary(ST_Union(ST_SimplifyPreserveTopology(geom, 0.005))) "
                "FROM admin_units WHERE valid_to = CAST(:valid_to AS date)"
            ),
            {"valid_to": PROVINCE_SET_VALID_TO},
        ).scalar()
        land = shapely.from_wkb(bytes(wkb)) if wkb else None
        # a margin test (dwithin) on the few points outside the provinces replaces a costly
        # buffer of the whole outline
        outline = land if land is not None else coords.VIETNAM_BBOX
        shapely.prepare(outline)
        _OUTLINES.clear()
        _OUTLINES[key] = outline
    vietnam = _OUTLINES[key]
    margin = coords.WATERS_MARGIN_DEG if key[1] else 0.0
    if province is None:
        return coords.Region(vietnam, margin_deg=margin)
    candidates = conn.execute(
        sa.text("SELECT name_vi, ST_AsBinary(geom) FROM admin_units ORDER BY valid_from DESC")
    ).all()
    wanted = _province_key(province)
    for name, geom in candidates:
        if _province_key(name) == wanted:
            return coords.Region(vietnam, shapely.from_wkb(bytes(geom)), name, margin)
    raise InvalidInput(
        f"--province {province!r}: no such province",
        hint="one of " + ", ".join(sorted({n for n, _ in candidates}))
        if candidates
        else "load the provinces first (vbis-geo admin-units load)",
    )


def _province_key(name: str) -> str:
    key = normalise_name(name)
    for prefix in ("thanhpho", "tp"):
        if key.startswith(prefix) and len(key) > len(prefix) + 2:
            key = key[len(prefix) :]
    return key


# -- references -----------------------------------------------------------------------------
def resolve_protected_areas(
    conn: Connection, raw: dict[str, pd.Series], rows: np.ndarray, report: Report
) -> pd.Series:
    """``protected_area_id`` from a protected area's code (or its Vietnamese name)."""
    if "protected_area_code" not in raw:
        report.add(
            None,
            "protected_area_code",
            REJECTED,
            "no column naming the protected area",
            "a column protected_area_code (code or name of the protected area)",
        )
        return pd.Series([None] * len(rows), dtype=object)
    known = conn.execute(sa.text("SELECT code, name_vi, id FROM protected_areas")).all()
    by_key = {normalise_name(code): pid for code, _, pid in known}
    by_key.update({normalise_name(name): pid for _, name, pid in known})
    values = raw["protected_area_code"].map(
        lambda v: by_key.get(normalise_name(v)), na_action="ignore"
    )
    bad = values.isna().to_numpy()
    reject_cells(
        report,
        rows,
        bad,
        "protected_area_code",
        raw["protected_area_code"],
        "no such protected area",
        "the code or Vietnamese name of a loaded protected area",
    )
    return values.astype(object)


@dataclass(frozen=True)
class NewTaxon:
    """A name to add to the backbone (``add_taxa``), with the classification the file gives."""

    classification: dict[str, str | None]
    rank: str
    authorship: str | None


def match_taxa(
    conn: Connection,
    raw: dict[str, pd.Series],
    rows: np.ndarray,
    report: Report,
    options: IngestOptions,
    new_taxa: dict[str, NewTaxon],
    known: dict[str, NameMatch] | None = None,
) -> dict[str, pd.Series]:
    """``taxon_id`` per row from the names (read only), and ``verbatim_scientific_name``: the
    name as the file wrote it where it was recorded under another (a synonym under its
    accepted name), else None. Unmatched names are rejected with suggestions, or, with
    ``add_taxa``, collected in ``new_taxa`` to be added when writing. ``known`` holds the
    matches of the names, when read before (no query then).
    """
    if "scientific_name" not in raw:
        report.add(
            None,
            "scientific_name",
            REJECTED,
            "no column with the scientific name",
            "a column scientificName (or ten_khoa_hoc)",
        )
        nothing = pd.Series([None] * len(rows), dtype=object)
        return {"taxon_id": nothing, "verbatim_scientific_name": nothing}
    names = raw["scientific_name"].str.strip()
    distinct = list(names.dropna().unique())
    matches = (
        {name: known[name] for name in distinct}
        if known is not None
        else match_names(conn, distinct, accept_synonyms=options.accept_synonyms)
    )
    ids: dict[str, int | None] = {}
    verbatim: dict[str, str] = {}
    for name, match in matches.items():
        ids[name] = match.taxon_id
        if match.how == "synonym" and match.taxon_id is not None:
            verbatim[name] = name
        if match.how == "unmatched" and options.add_taxa:
            first = int(np.flatnonzero((names == name).to_numpy())[0])
            new_taxa[name] = NewTaxon(
                classification={
                    level: raw[level].iloc[first] if level in raw else None
                    for level in CLASSIFICATION
                },
                rank=_rank(raw, first),
                authorship=raw["scientific_name_authorship"].iloc[first]
                if "scientific_name_authorship" in raw
                else None,
            )
            report.add(
                None,
                "scientific_name",
                WARNING,
                f"{name!r} is not in the taxonomy backbone: added as a new "
                f"{new_taxa[name].rank} with the file's classification (--add-taxa)",
            )
            continue
        if match.how == "exact":
            continue
        for i in np.flatnonzero((names == name).to_numpy()):
            row = int(rows[i])
            if match.how == "synonym" and match.taxon_id is not None:
                report.add(
                    row,
                    "scientific_name",
                    REPAIRED,
                    f"synonym recorded under the accepted name {match.accepted_name}",
                    value=name,
                )
            elif match.how == "synonym":
                report.add(
                    row,
                    "scientific_name",
                    REJECTED,
                    f"a synonym of {match.accepted_name}",
                    f"the accepted name {match.accepted_name} (or --accept-synonyms)",
                    name,
                )
            else:
                hint = (
                    "did you mean " + " or ".join(match.suggestions) + "?"
                    if match.suggestions
                    else "a name in the taxonomy backbone (or --add-taxa)"
                )
                report.add(
                    row,
                    "scientific_name",
                    REJECTED,
                    "name not in the taxonomy backbone",
                    hint,
                    name,
                )
    missing = names.isna().to_numpy()
    reject_cells(
        report,
        rows,
        missing,
        "scientific_name",
        names,
        "required value missing",
        "a scientific name",
    )
    return {
        "taxon_id": _lookup(names, ids),
        "verbatim_scientific_name": _lookup(names, verbatim)
        if verbatim
        else pd.Series([None] * len(rows), dtype=object, index=names.index),
    }


def _lookup(values: pd.Series, table: dict[str, int | None] | dict[str, str]) -> pd.Series:
    """``table[value]`` per cell (None where missing), looked up by Arrow for Arrow text."""
    if not is_arrow_text(values) or not table:
        return values.map(table, na_action="ignore").astype(object)
    keys = list(table)
    text = pa.array(values)
    found = pc.index_in(text, value_set=pa.array(keys, type=text.type))
    ids = np.array([table[k] for k in keys] + [None], dtype=object)
    return pd.Series(ids[found.fill_null(len(keys)).to_numpy()], index=values.index)


def _rank(raw: dict[str, pd.Series], i: int) -> str:
    value = raw["taxon_rank"].iloc[i] if "taxon_rank" in raw else None
    value = (value or "species").strip().lower()
    return value if value in ("species", "subspecies", "variety", "form", "genus") else "species"


def _reject_generalised(raw: dict[str, pd.Series], rows: np.ndarray, report: Report) -> None:
    """Rows whose coordinates were generalised (``dataGeneralizations`` filled in, as the public
    exports of vbis-geo and of GBIF write it) are refused: an upsert would replace the exact
    location held here by the centre of a grid cell."""
    if "data_generalizations" not in raw:
        return
    values = raw["data_generalizations"].fillna("").astype(str).str.strip()
    for i in np.flatnonzero(values.to_numpy() != ""):
        report.add(
            int(rows[i]),
            "dataGeneralizations",
            REJECTED,
            "the coordinates were generalised (a public export): loading them would replace "
            "an exact location by a grid cell's centre",
            "records with their exact coordinates and no dataGeneralizations",
            values.iloc[i][:80],
        )


def _reject_duplicate_keys(
    tgt: Target, columns: dict[str, pd.Series], rows: np.ndarray, report: Report
) -> None:
    keys = [k for k in tgt.key if k in columns]
    if len(keys) != len(tgt.key):
        return
    frame = pd.DataFrame(
        {k: columns[k] if is_arrow_text(columns[k]) else columns[k].astype(object) for k in keys}
    )
    present = frame.notna().all(axis=1).to_numpy()
    if not _any_repeated(frame[present]):
        return
    dup = present & frame.duplicated(keep=False).to_numpy()
    first_row: dict[tuple[object, ...], int] = {}
    for i in np.flatnonzero(dup):
        key = tuple(frame.iloc[i])
        first_row.setdefault(key, int(rows[i]))
        report.add(
            int(rows[i]),
            "/".join(keys),
            REJECTED,
            f"duplicate {'/'.join(keys)} (also on row {first_row[key]})"
            if first_row[key] != rows[i]
            else f"duplicate {'/'.join(keys)} (repeated further down)",
            f"a unique {'/'.join(keys)} per row",
            "/".join(map(str, key)),
        )


def _any_repeated(keys: pd.DataFrame) -> bool:
    """Whether a row of ``keys`` (no missing values) comes more than once."""
    if keys.shape[1] == 1 and is_arrow_text(keys.iloc[:, 0]):
        # Arrow's hash count: a tenth of the time of pandas' duplicated() on a million keys
        values = pa.array(keys.iloc[:, 0])
        return pc.count_distinct(values, mode="all").as_py() < len(values)
    return bool(keys.duplicated().any())


# -- writing ------------------------------------------------------------------------------------
def record_dataset(
    conn: Connection, tgt: Target, source: SourceTable, options: IngestOptions, report: Report
) -> int:
    """Insert or refresh the ``datasets`` entry of this file (one per layer and file content)."""
    code = source.dataset_code or f"ingest:{tgt.layer.id}:{source.sha256[:16]}"
    report.dataset_code = code
    lineage = (
        f"Loaded from {source.name} ({source.format}, sha256 {source.sha256}) into "
        f"{tgt.layer.id} by vbis-geo ingest; coordinates "
        + (coords.as_vn2000_note(_crs_of(report)) if report.source_crs else "none")
        + (f"; text encoding {report.encoding}" if report.encoding else "")
    )
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO datasets (code, title_vi, title_en, target_layer, source_name, "
                "source_sha256, source_crs, lineage, parameters, loaded_by, loaded_at) VALUES "
                "(:code, :title_vi, :title_en, :layer, :name, :sha, :crs, :lineage, "
                "CAST(:parameters AS jsonb), :by, now()) ON CONFLICT (code) DO UPDATE SET "
                "source_crs = EXCLUDED.source_crs, lineage = EXCLUDED.lineage, "
                "parameters = EXCLUDED.parameters, loaded_by = EXCLUDED.loaded_by, "
                "loaded_at = now() RETURNING id"
            ),
            {
                "code": code,
                "title_vi": f"{source.name} ({tgt.layer.title['vi']})",
                "title_en": f"{source.name} ({tgt.layer.title['en']})",
                "layer": tgt.layer.id,
                "name": source.name,
                "sha": source.sha256,
                "crs": report.source_crs,
                "lineage": lineage,
                "parameters": orjson.dumps(options.parameters()).decode(),
                "by": options.loaded_by or getpass.getuser(),
            },
        ).scalar_one()
    )


def _crs_of(report: Report):  # type: ignore[no-untyped-def]
    import pyproj

    label = report.source_crs or "EPSG:4326"
    code = label.split()[0]
    return (
        pyproj.CRS.from_user_input(code)
        if code.startswith("EPSG:")
        else pyproj.CRS.from_user_input(label)
    )


def write_rows(
    conn: Connection,
    tgt: Target,
    columns: dict[str, pd.Series],
    keep: np.ndarray,
    dataset_id: int,
    report: Report,
    options: IngestOptions,
    rows: np.ndarray | None = None,
) -> None:
    """COPY the kept rows into a staging table, check the table's rules (and, for an account,
    its scope) on them, derive what is missing, upsert into the layer; for the operator, into an
    empty table, COPY them straight in.

    Raises :class:`RowsBrokeRules` when a row breaks a CHECK constraint of the table or is out
    of the account's scope (and ``skip_rejected`` is off); the caller rolls the load back.
    """
    table = tgt.table
    names = _written(tgt, columns)
    row_numbers = rows if rows is not None else np.arange(1, len(keep) + 1)
    derived = "province_codes" in table.c and "province_codes" not in columns
    # an account's load runs as vbis_writer: no COPY into a table under row-level security,
    # no DDL on a table it does not own
    owner = options.principal is None
    if owner and not derived and _empty_and_locked(conn, table.name):
        inserted = _copy_into_empty(conn, tgt, columns, names, keep, dataset_id, options)
        if inserted is not None:
            report.n_inserted += inserted
            conn.execute(sa.text(f"ANALYZE {_quote(table.name)}"))
            return
    staging = _stage(conn, tgt, columns, names, keep, row_numbers, options)
    n_kept = int(keep.sum()) - _check_rules(conn, tgt, staging, names, report, options)
    n_kept -= _check_scope(conn, tgt, staging, report, options)
    _progress(options, "upserting", 0, 1)
    bulk = owner and n_kept >= BULK_MIN_ROWS and n_kept >= _estimated_rows(conn, table.name)
    if derived:
        conn.execute(sa.text(f"ALTER TABLE {staging} ADD COLUMN province_codes varchar(40)[]"))
        conn.execute(
            sa.text(
                f"UPDATE {staging} s SET province_codes = (SELECT coalesce(array_agg("  # noqa: S608
                "a.iso_3166_2 ORDER BY a.iso_3166_2), '{}') FROM admin_units a "
                "WHERE a.valid_to = CAST(:valid_to AS date) AND ST_Intersects(a.geom, s.geom) "
                "AND (ST_Dimension(s.geom) = 0 OR ST_Area(ST_Intersection(a.geom, s.geom)) "
                "> 0.01 * ST_Area(s.geom)))"
            ),
            {"valid_to": PROVINCE_SET_VALID_TO},
        )
        names.append("province_codes")
    key = ", ".join(_quote(k) for k in tgt.key)
    updates = [n for n in names if n not in tgt.key]
    attributes = [n for n in updates if n != "geom"] or list(tgt.key)
    target_cols = ", ".join(_quote(n) for n in names)
    # lineage and change time where the table keeps them
    lineage_col = ", dataset_id" if "dataset_id" in table.c else ""
    lineage_val = ", :dataset_id" if "dataset_id" in table.c else ""
    touched = (", dataset_id = EXCLUDED.dataset_id" if "dataset_id" in table.c else "") + (
        ", updated_at = now()" if "updated_at" in table.c else ""
    )
    review_status = None
    if options.principal is not None and "review_status" in table.c:
        # an expert's rows (new or changed) are drafts, the others' published (0014 checks it)
        from vbis_geo.auth.scope import review_status_of

        review_status = review_status_of(options.principal)
        lineage_col += ", review_status"
        lineage_val += ", CAST(:review_status AS varchar)"
        touched += ", review_status = EXCLUDED.review_status"
    overlap = conn.execute(
        sa.text(
            f"SELECT EXISTS (SELECT 1 FROM {staging} s JOIN {_quote(table.name)} t "  # noqa: S608 (identifiers from the schema, quoted)
            f"USING ({key}))"
        )
    ).scalar_one()
    rebuild = _drop_for_bulk(conn, table.name, unique=not overlap) if bulk else []
    if not overlap:
        # nothing to update: a plain INSERT spares the speculative insertion of ON CONFLICT
        inserted = conn.execute(
            sa.text(
                f"INSERT INTO {_quote(table.name)} ({target_cols}{lineage_col}) "  # noqa: S608 (identifiers from the schema, quoted)
                f"SELECT {target_cols}{lineage_val} FROM {staging}"
            ),
            {"dataset_id": dataset_id, "review_status": review_status},
        ).rowcount
        result = (inserted, 0)
    else:
        result = conn.execute(
            sa.text(
                f"WITH up AS (INSERT INTO {_quote(table.name)} ({target_cols}{lineage_col}) "  # noqa: S608 (identifiers from the schema, quoted)
                f"SELECT {target_cols}{lineage_val} FROM {staging} "
                f"ON CONFLICT ({key}) DO UPDATE SET "
                + ", ".join(f"{_quote(n)} = EXCLUDED.{_quote(n)}" for n in updates)
                + touched
                + " WHERE ("
                + ", ".join(f"{_quote(table.name)}.{_quote(n)}" for n in attributes)
                + ") IS DISTINCT FROM ("
                + ", ".join(f"EXCLUDED.{_quote(n)}" for n in attributes)
                # the same shape is not a change, whatever the ring orientation or first vertex
                + (
                    f") OR NOT ST_Equals({_quote(table.name)}.geom, EXCLUDED.geom) "
                    if tgt.spatial
                    else ") "
                )
                + "RETURNING (xmax = 0) AS inserted) "
                "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
                "FROM up"
            ),
            {"dataset_id": dataset_id, "review_status": review_status},
        ).one()
    report.n_inserted += int(result[0])
    report.n_updated += int(result[1])
    report.n_unchanged += n_kept - int(result[0]) - int(result[1])
    _restore(conn, rebuild, options)
    if owner and (
        bulk
        or report.n_inserted + report.n_updated > 0.2 * max(1, _estimated_rows(conn, table.name))
    ):
        conn.execute(sa.text(f"ANALYZE {_quote(table.name)}"))


def _copy_into_empty(
    conn: Connection,
    tgt: Target,
    columns: dict[str, pd.Series],
    names: list[str],
    keep: np.ndarray,
    dataset_id: int,
    options: IngestOptions,
) -> int | None:
    """COPY the kept rows straight into the (empty) layer table; returns how many.

    Nothing can conflict with an empty table, so the staging table, its second write and the
    upsert are not needed, and COPY inserts in batches where INSERT ... SELECT goes row by row.
    Returns None, having undone everything, when a row breaks a CHECK constraint: the caller
    then takes the staging path, which names the rows and rules.
    """

    table = tgt.table.name
    n_kept = int(keep.sum())
    extra = (
        {"dataset_id": np.full(len(keep), dataset_id, dtype=np.int64)}
        if "dataset_id" in tgt.table.c
        else {}
    )
    attempt = conn.begin_nested()
    rebuild = _drop_for_bulk(conn, table, unique=True) if n_kept >= BULK_MIN_ROWS else []
    try:
        chunks = _copy_chunks(tgt, columns, names, keep, extra, points_as_xy=False)
        inserted = _copy(conn, table, chunks, n_kept, options)
    except psycopg.errors.CheckViolation:
        attempt.rollback()
        return None
    _restore(conn, rebuild, options)
    attempt.commit()
    return inserted


def _empty_and_locked(conn: Connection, table: str) -> bool:
    """True when ``table`` has no rows; it then stays so for others until the load ends (a lock
    that lets readers on and holds writers back), so no row can come to conflict with the COPY.
    """
    has_rows = sa.text(f"SELECT EXISTS (SELECT 1 FROM {_quote(table)})")  # noqa: S608 (a schema name, quoted)
    if conn.execute(has_rows).scalar_one():
        return False
    conn.execute(sa.text(f"LOCK TABLE {_quote(table)} IN SHARE ROW EXCLUSIVE MODE"))
    return not conn.execute(has_rows).scalar_one()


def _restore(conn: Connection, rebuild: list[str], options: IngestOptions) -> None:
    """Restore what :func:`_drop_for_bulk` dropped."""
    if not rebuild:
        return
    _progress(options, "indexing", 0, 1)
    conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
    for definition in rebuild:
        conn.execute(sa.text(definition))


class RowsBrokeRules(Exception):
    """Rows broke a CHECK constraint of the table (the report names them): roll back."""


def _written(tgt: Target, columns: dict[str, pd.Series]) -> list[str]:
    """The columns of the layer's table a load writes, the geometry last."""
    names = [n for n in columns if n in tgt.table.c and n not in ("id", "geom")]
    return names + (["geom"] if tgt.spatial else [])


def _stage(
    conn: Connection,
    tgt: Target,
    columns: dict[str, pd.Series],
    names: list[str],
    keep: np.ndarray,
    row_numbers: np.ndarray,
    options: IngestOptions,
) -> str:
    """COPY the kept rows, with their row numbers (``_row``), into a temporary table with the
    layer's columns; its name."""
    staging = "_vbis_ingest"
    attributes_of = [n for n in names if n != "geom"]
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {staging}"))
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT "  # noqa: S608 (identifiers from the schema, quoted)
            + ", ".join(_quote(n) for n in attributes_of or ["id"])
            + f" FROM {_quote(tgt.table.name)} WITH NO DATA"
        )
    )
    if not tgt.spatial:
        pass
    elif tgt.is_point:
        conn.execute(
            sa.text(
                f"ALTER TABLE {staging} ADD COLUMN _x float8, ADD COLUMN _y float8, "
                "ADD COLUMN geom geometry(Point, 4326) "
                "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(_x, _y), 4326)) STORED"
            )
        )
    else:
        conn.execute(sa.text(f"ALTER TABLE {staging} ADD COLUMN geom geometry(Geometry, 4326)"))
    conn.execute(sa.text(f"ALTER TABLE {staging} ADD COLUMN _row integer"))
    chunks = _copy_chunks(tgt, columns, names, keep, {"_row": row_numbers}, points_as_xy=True)
    _copy(conn, staging, chunks, int(keep.sum()), options)
    return staging


def _check_rules(
    conn: Connection,
    tgt: Target,
    staging: str,
    names: list[str],
    report: Report,
    options: IngestOptions,
) -> int:
    """Run the table's CHECK constraints on the staged rows, so that a row breaking one is
    reported by its row number and rule, not as a database error; returns how many rows were
    dropped (``skip_rejected``), else raises :class:`RowsBrokeRules` if any row breaks a rule.
    The rules are the database's own: one definition, in the model.
    """
    checks = []
    for constraint in tgt.table.constraints:
        if not isinstance(constraint, sa.CheckConstraint) or constraint.name is None:
            continue
        expression = str(constraint.sqltext)
        used = {c for c in tgt.table.c.keys() if re.search(rf"\b{re.escape(c)}\b", expression)}
        if used and used <= set(names) and "geom" not in used:
            checks.append((str(constraint.name), expression, sorted(used)))
    if not checks:
        return 0
    broken = conn.execute(
        sa.text(
            "SELECT _row, ARRAY_REMOVE(ARRAY["  # noqa: S608 (the schema's own CHECK expressions)
            + ", ".join(f"CASE WHEN NOT ({e}) THEN {i} END" for i, (_, e, _) in enumerate(checks))
            + f"], NULL) FROM {staging} WHERE "
            + " OR ".join(f"NOT ({e})" for _, e, _ in checks)
        )
    ).all()
    for row, failed in broken:
        for i in failed:
            name, expression, used = checks[i]
            rule = name.removeprefix(f"ck_{tgt.table.name}_")
            report.add(int(row), "/".join(used), REJECTED, f"breaks the rule {rule}", expression)
    if not broken:
        return 0
    if not options.skip_rejected:
        raise RowsBrokeRules()
    conn.execute(
        sa.text(f"DELETE FROM {staging} WHERE _row = ANY(:rows)"),  # noqa: S608
        {"rows": [int(r) for r, _ in broken]},
    )
    return len(broken)


def _check_scope(
    conn: Connection, tgt: Target, staging: str, report: Report, options: IngestOptions
) -> int:
    """Check the staged rows against the account's scope in one statement (nothing to check
    for the operator); rows out of scope, or replacing a row out of scope, are rejected in the
    report. Returns how many rows were dropped (``skip_rejected``), else raises
    :class:`RowsBrokeRules` if any is out of scope."""
    from vbis_geo.auth.scope import staged_refusals

    if options.principal is None:
        return 0
    refusals = staged_refusals(conn, options.principal, tgt.table.name, staging, tgt.key)
    for refusal in refusals:
        report.add(
            refusal.row,
            refusal.field,
            REJECTED,
            refusal.problem,
            "a row within your scope (GET /api/me lists it)",
            refusal.value,
        )
    if not refusals:
        return 0
    if not options.skip_rejected:
        raise RowsBrokeRules()
    conn.execute(
        sa.text(f"DELETE FROM {staging} WHERE _row = ANY(:rows)"),  # noqa: S608
        {"rows": [r.row for r in refusals]},
    )
    return len(refusals)


#: A load at least this large, and at least as large as the table, drops the table's foreign
#: keys and secondary indexes (and, when it only inserts, its unique constraints) and restores
#: them afterwards: sorted index builds and one-join checks beat a million single insertions.
#: It holds the table's lock until the load commits: readers wait for a bulk load.
BULK_MIN_ROWS = 100_000


def _drop_for_bulk(conn: Connection, table: str, *, unique: bool) -> list[str]:
    """Drop ``table``'s foreign keys, non-unique indexes and (with ``unique``) its primary key
    and unique constraints, unless something depends on them; returns the statements that
    restore them. Restoring validates every row at
    once (a foreign key is checked by one join, uniqueness by the sorted index build), which is
    what makes a bulk load fast; all of it inside the load's transaction.
    """
    restore: list[str] = []
    kinds = ("p", "u", "f") if unique else ("f",)
    constraints = conn.execute(
        sa.text(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = ANY(:kinds) "
            # a key that a foreign key or a view (GROUP BY on the key) depends on stays
            "AND (c.contype = 'f' OR NOT EXISTS (SELECT 1 FROM pg_depend d "
            "WHERE d.deptype = 'n' AND ((d.refclassid = 'pg_constraint'::regclass "
            "AND d.refobjid = c.oid) OR (d.refclassid = 'pg_class'::regclass "
            "AND d.refobjid = c.conindid)))) "
            # the primary key first, then unique constraints, then foreign keys
            "ORDER BY array_position(ARRAY['p', 'u', 'f'], c.contype::text)"
        ),
        {"t": table, "kinds": list(kinds)},
    ).all()
    for name, definition in constraints:
        conn.execute(sa.text(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}"))
        restore.append(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")
    indexes = conn.execute(
        sa.text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisunique AND NOT x.indisprimary"
        ),
        {"t": table},
    ).all()
    for name, definition in indexes:
        conn.execute(sa.text(f"DROP INDEX {_quote(name)}"))
        restore.append(definition)
    return restore


def _estimated_rows(conn: Connection, table: str) -> int:
    return int(
        conn.execute(
            # live rows as the statistics collector counts them (reltuples goes stale after an
            # aborted bulk load)
            sa.text(
                "SELECT coalesce((SELECT n_live_tup FROM pg_stat_user_tables "
                "WHERE relid = CAST(:t AS regclass)), 0)"
            ),
            {"t": table},
        ).scalar_one()
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_chunks(
    tgt: Target,
    columns: dict[str, pd.Series],
    names: list[str],
    keep: np.ndarray,
    extra: dict[str, np.ndarray],
    *,
    points_as_xy: bool,
) -> Iterator[pa.Table]:
    """The kept rows as Arrow tables of :data:`COPY_CHUNK_ROWS` rows, converted one at a time:
    each is converted while the server stores the one before (see :func:`_copy`).

    Points travel as two doubles ``_x``/``_y`` (``points_as_xy``, for the staging table, which
    builds the geometry) or as hex WKB; other geometries as hex WKB. ``extra`` holds more
    columns, one value per row of ``keep``.
    """
    kept = np.flatnonzero(keep)
    values: dict[str, np.ndarray | pa.Array] = {}
    for name in names:
        if name == "geom":
            # geometries, or for points from coordinate columns a (rows, 2) array (_points)
            values[name] = np.asarray(columns[name])
        elif is_arrow_text(columns[name]) and _kind(tgt, name) == "text":
            text = pa.array(columns[name])  # Arrow already: taken as it is
            values[name] = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        elif pd.api.types.is_datetime64_dtype(columns[name].dtype):  # days (NaT: missing)
            values[name] = pa.array(columns[name], type=pa.date32(), from_pandas=True)
        else:
            values[name] = columns[name].to_numpy(dtype=object)
    for start in range(0, max(len(kept), 1), COPY_CHUNK_ROWS):
        part = kept[start : start + COPY_CHUNK_ROWS]
        arrays = {}
        for name in names:
            if name == "geom":
                geoms = values["geom"][part]
                if tgt.is_point:
                    xs, ys = (
                        (geoms[:, 0], geoms[:, 1])
                        if geoms.ndim == 2
                        else (shapely.get_x(geoms), shapely.get_y(geoms))
                    )
                if tgt.is_point and points_as_xy:
                    arrays["_x"] = pa.array(xs, type=pa.float64())
                    arrays["_y"] = pa.array(ys, type=pa.float64())
                elif tgt.is_point:
                    arrays["geom"] = _wkb_points(xs, ys)
                else:
                    wkb = shapely.to_wkb(geoms, include_srid=True, output_dimension=2)
                    arrays["geom"] = pa.array(wkb if len(geoms) else [], type=pa.binary())
                continue
            column = values[name]
            if isinstance(column, pa.Array):
                arrays[name] = column.take(part)
            else:
                arrays[name] = _arrow(column[part], _kind(tgt, name))
        for name, column in extra.items():
            arrays[name] = pa.array(column[part])
        yield pa.table(arrays)


def _kind(tgt: Target, name: str) -> str:
    """The value kind of column ``name``: its field's, else its column type's (a derived id,
    date or name)."""
    if name in tgt.fields:
        return tgt.fields[name].kind
    return column_kind(tgt.table.c[name].type) if name in tgt.table.c else "integer"


def _wkb_points(x: np.ndarray, y: np.ndarray) -> pa.Array:
    """2D points as WKB (little endian), built by numpy: shapely's writer takes 15 times longer
    for a million points. The column's SRID applies."""
    words = np.empty((len(x), 3), dtype="<f8")
    words[:, 1], words[:, 2] = x, y
    wkb = words.view(np.uint8)[:, 3:]  # 21 bytes: byte order, type, x, y
    wkb[:, :5] = (1, 1, 0, 0, 0)
    offsets = np.arange(0, 21 * len(x) + 1, 21, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), len(x), [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(wkb))]
    )


#: the hex digits of each byte value, as two ASCII bytes in one little-endian uint16
_HEX_DIGITS = np.array(
    [int.from_bytes(f"{i:02X}".encode(), "little") for i in range(256)], dtype=np.uint16
)


def _hex(array: pa.Array) -> pa.Array:
    """Binary values (WKB) as hex text, as the text COPY format reads a geometry."""
    if array.offset:  # a slice: its validity bitmap starts mid-byte
        array = pa.concat_arrays([array.slice(0, 0), array])
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array) + 1)
    data = np.frombuffer(array.buffers()[2] or b"", dtype=np.uint8)[offsets[0] : offsets[-1]]
    return pa.Array.from_buffers(
        pa.string(),
        len(array),
        [
            array.buffers()[0],
            pa.py_buffer((offsets - offsets[0]) * 2),
            pa.py_buffer(np.ascontiguousarray(_HEX_DIGITS[data])),
        ],
        null_count=array.null_count,
    )


_ARROW_TYPES = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
}


def _arrow(values: np.ndarray, kind: str) -> pa.Array:
    if kind == "text_list":
        return pa.array(
            [
                None
                if v is None or not isinstance(v, list)
                else "{" + ",".join('"' + s.replace('"', '\\"') + '"' for s in v) + "}"
                for v in values
            ],
            type=pa.string(),
        )
    # from_pandas: None and NaN are both nulls
    return pa.array(values, type=_ARROW_TYPES.get(kind, pa.string()), from_pandas=True)


def _copy(
    conn: Connection,
    table: str,
    chunks: Iterator[pa.Table],
    total: int,
    options: IngestOptions,
) -> int:
    """COPY ``chunks`` into ``table``; returns the number of rows.

    The rows go in PostgreSQL's binary format (:mod:`.pgcopy`) when every column's type has a
    binary encoder there, else as CSV (geometries as hex WKB). A worker thread sends the data
    while the next chunk is converted and encoded, so the server stores chunk k while Python
    prepares chunk k+1 (Arrow's kernels and the socket wait release the GIL).
    """
    from psycopg.copy import QueuedLibpqWriter

    raw = conn.connection.driver_connection
    first = next(chunks)
    types = pgcopy.column_types(conn, table)
    binary = pgcopy.encoders([types[n] for n in first.column_names])
    sql = (
        f"COPY {_quote(table)} ({', '.join(_quote(n) for n in first.column_names)}) "
        f"FROM STDIN (FORMAT {'binary' if binary else 'csv'})"
    )
    _progress(options, "copying", 0, total)
    done = 0
    with raw.cursor() as cur:  # type: ignore[union-attr]
        with cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
            if binary:
                copy.write(pgcopy.HEADER)
            for chunk in itertools.chain([first], chunks):
                copy.write(pgcopy.encode_rows(chunk, binary) if binary else _csv(chunk))
                done += chunk.num_rows
                _progress(options, "writing", done, total)
            if binary:
                copy.write(pgcopy.TRAILER)
        return int(cur.rowcount)


def _csv(chunk: pa.Table) -> memoryview:
    """``chunk`` as CSV for COPY, binary columns (WKB) as hex."""
    for i, column in enumerate(chunk.columns):
        if pa.types.is_binary(column.type):
            chunk = chunk.set_column(i, chunk.field(i).name, _hex(column.combine_chunks()))
    buffer = io.BytesIO()
    pacsv.write_csv(chunk, buffer, _CSV_OPTIONS)
    return buffer.getbuffer()


_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed")


#: the cell an occurrence dataset's extent is widened to, in metres (the 25 km sensitivity level)
EXTENT_CELL_M = 25_000


@dataclass
class Span:
    """The bounding box and time span of the rows a load wrote (:func:`finish_dataset`),
    gathered while they were sent."""

    box: tuple[float, float, float, float] = (np.inf, np.inf, -np.inf, -np.inf)
    start: dt.date | None = None
    end: dt.date | None = None

    def add(self, geom: np.ndarray, start: pd.Series | None, end: pd.Series | None) -> None:
        """Widen to the rows of ``geom`` (a (rows, 2) array of coordinates, NaN where none, or
        geometries) and their dates (``end`` None where a single day)."""
        if geom.ndim == 2:
            low, high = np.nanmin(geom, axis=0), np.nanmax(geom, axis=0)
            bounds = (low[0], low[1], high[0], high[1])
        else:
            bounds = tuple(shapely.total_bounds(geom))
        x0, y0, x1, y1 = self.box
        self.box = (min(x0, bounds[0]), min(y0, bounds[1]), max(x1, bounds[2]), max(y1, bounds[3]))
        if start is None:
            return
        last = start if end is None else end.where(end.notna(), start)
        for value, keep in ((start.dropna().min(), min), (last.dropna().max(), max)):
            if pd.isna(value):
                continue
            if isinstance(value, pd.Timestamp):  # a slice of plain days (datetime64)
                value = value.date()
            if keep is min:
                self.start = value if self.start is None else min(self.start, value)
            else:
                self.end = value if self.end is None else max(self.end, value)


def finish_dataset(
    conn: Connection, tgt: Target, dataset_id: int, report: Report, span: Span | None = None
) -> None:
    """Counts, spatial extent and time span of what the dataset holds now: read from the table,
    or, when ``span`` is given (the dataset holds exactly the rows it gathered), from it."""
    params: dict[str, object] = {}
    if "event_date" in tgt.table.c and span is None:
        temporal = "min(event_date) AS t0, max(coalesce(event_date_end, event_date)) AS t1"
    elif "event_date" in tgt.table.c:
        temporal = "CAST(:t0 AS date) AS t0, CAST(:t1 AS date) AS t1"
        params.update(t0=span.start, t1=span.end)
    else:
        temporal = "NULL::date AS t0, NULL::date AS t1"
    box = "ST_SetSRID(ST_Extent(geom)::geometry, 4326)"
    if span is not None:
        box = "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
        params.update(zip(("x0", "y0", "x1", "y1"), map(float, span.box), strict=True))
    extent = f"ST_Envelope({box})" if tgt.spatial else "NULL::geometry"
    if tgt.table.name == "occurrences":
        # the catalogue's extent is public (OGC API Records): a dataset of a few records of a
        # sensitive species would show where they are. So it is the box of the 25 km cells
        # (EPSG:6933, the coarsest sensitivity level) that hold its records, never finer
        extent = (
            f"(SELECT ST_Transform(ST_MakeEnvelope("  # noqa: S608 (a constant; no input)
            f"floor(ST_XMin(b) / {EXTENT_CELL_M}) * {EXTENT_CELL_M}, "
            f"floor(ST_YMin(b) / {EXTENT_CELL_M}) * {EXTENT_CELL_M}, "
            f"(floor(ST_XMax(b) / {EXTENT_CELL_M}) + 1) * {EXTENT_CELL_M}, "
            f"(floor(ST_YMax(b) / {EXTENT_CELL_M}) + 1) * {EXTENT_CELL_M}, 6933), 4326) "
            # EPSG:6933 is cylindrical: x follows longitude and y latitude, each monotonically,
            # so the box of the transformed points is the transformed box of the points (one
            # transformation, not one per point)
            f"FROM (SELECT ST_Transform({box}, 6933) AS b) AS e)"
        )
    if "dataset_id" not in tgt.table.c:
        conn.execute(
            sa.text(
                "UPDATE datasets SET n_loaded = :loaded, n_repaired = :repaired, "
                "n_rejected = :rejected WHERE id = :id"
            ),
            {
                "id": dataset_id,
                "loaded": report.n_loaded,
                "repaired": report.n_repaired,
                "rejected": report.n_rejected,
            },
        )
        return
    conn.execute(
        sa.text(
            f"WITH s AS (SELECT {extent} AS extent, {temporal} "  # noqa: S608 (identifiers from the schema, quoted)
            + (f"FROM {_quote(tgt.table.name)} WHERE dataset_id = :id" if span is None else "")
            + ") UPDATE datasets d SET n_loaded = :loaded, n_repaired = :repaired, "
            "n_rejected = :rejected, temporal_start = s.t0, temporal_end = s.t1, "
            "extent = CASE WHEN ST_GeometryType(s.extent) = 'ST_Polygon' "
            "THEN ST_SetSRID(s.extent, 4326) END FROM s WHERE d.id = :id"
        ),
        {
            "id": dataset_id,
            "loaded": report.n_loaded,
            "repaired": report.n_repaired,
            "rejected": report.n_rejected,
            **params,
        },
    )
