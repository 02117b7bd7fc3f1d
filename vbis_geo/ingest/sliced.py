"""Large loads of points into an empty table, checked and sent in slices.

A large file of occurrences loaded by the operator into an empty table is read, checked and
sent slice by slice: the server stores one slice (COPY) while Python reads and checks the next,
so reading and checking no longer come before the COPY but beside it. A CSV file is read as a
stream (:func:`load_streamed`); other sources are read whole, then sliced
(:func:`load_in_memory`).

Each slice goes through the checks a whole file goes through (:func:`~.load.map_columns`,
:func:`~.load.convert_fields`, :func:`~.load.build_geometries`, :func:`~.load.match_taxa`,
generalised rows), on the backbone's names and the outline of Vietnam read once before; a key
repeated anywhere is found by the build of the unique index. It is optimistic: the first
rejected row, file error, name missing from the backbone, repeated key or broken CHECK rule
undoes everything and hands over to the whole-file
path, which reads and checks the file as one and reports as it always does. A clean file gets
the report the whole-file path would give: the same row issues, and its file-level notes once.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.errors import InvalidInput
from vbis_geo.ingest import load
from vbis_geo.ingest.report import Report
from vbis_geo.ingest.sources import (
    HEAD_BYTES,
    SourceTable,
    file_sha256,
    sniff_delimiter,
    text_encoding,
)
from vbis_geo.ingest.targets import Target
from vbis_geo.ingest.taxa import backbone_names, canonical_name, match_names

#: A file read whole is sliced from this many rows; a CSV file is streamed from this size.
SLICED_MIN_ROWS = 400_000
STREAMED_MIN_BYTES = 64 * 1024**2
#: Rows per slice: small enough that the first COPY starts early, large enough that
#: vectorised checks pay off.
SLICE_ROWS = 100_000
#: Bytes the CSV stream reads at a time.
STREAM_BLOCK_BYTES = 8 * 1024**2


class Unclean(Exception):
    """A slice is not clean (or the stream cannot be read): the whole-file path takes over."""


def load_streamed(
    conn: Connection, tgt: Target, path: Path, options: load.IngestOptions
) -> Report | None:
    """Load a large UTF-8 CSV file read as a stream; its report, or None (nothing written) to
    read the file whole."""
    if (
        path.suffix.lower() not in (".csv", ".tsv", ".txt")
        or not path.is_file()
        or path.stat().st_size < STREAMED_MIN_BYTES
        or not _may_slice(tgt, options)
    ):
        return None
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    encoding = text_encoding(path, head)
    try:
        delimiter = sniff_delimiter(head.decode("latin1"), path)
    except InvalidInput:
        return None  # the whole-file read says what is wrong
    if encoding.name not in ("utf-8", "ascii") or delimiter == "|":
        return None  # read whole: other encodings are decoded cell by cell
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    names = [name.strip() for name in header]
    if not names or len(set(names)) != len(names):
        return None  # pandas renames repeated columns: the whole-file path says what it did
    report = Report(
        tgt.layer.id,
        path.name,
        encoding=encoding.name if encoding.name != "ascii" else None,
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(file_sha256, path)  # read beside the parsing
        meta = SourceTable(
            name=path.name,
            format="CSV",
            sha256="",
            frame=pd.DataFrame(),
            row_numbers=np.empty(0, dtype=np.int64),
            encoding=encoding,
        )
        pieces = _ahead(_csv_pieces(path, header, names, delimiter))
        # rows, for the progress bar: the file's size over the head's bytes per line
        estimate = path.stat().st_size * max(1, head.count(b"\n")) // max(1, len(head))
        written = load_slices(conn, tgt, meta, pieces, digest, report, options, estimate)
    return report if written else None


def load_in_memory(
    conn: Connection,
    tgt: Target,
    source: SourceTable,
    mapping: load.Mapping | None,
    report: Report,
    options: load.IngestOptions,
) -> bool:
    """Load a large source read whole, slice by slice; True when loaded, False (nothing
    written, ``report`` as it was) to check it whole."""
    n = len(source.row_numbers)
    if n < SLICED_MIN_ROWS or options.wdpa or not _may_slice(tgt, options):
        return False

    def pieces() -> Iterator[SourceTable]:
        for start in range(0, n, SLICE_ROWS):
            part = slice(start, start + SLICE_ROWS)
            yield replace(
                source,
                frame=source.frame.iloc[part].reset_index(drop=True),
                row_numbers=source.row_numbers[part],
                geometry=source.geometry[part] if source.geometry is not None else None,
            )

    return load_slices(conn, tgt, source, pieces(), None, report, options, n, mapping)


def load_slices(
    conn: Connection,
    tgt: Target,
    source: SourceTable,
    pieces: Iterator[SourceTable],
    digest: Future[str] | None,
    report: Report,
    options: load.IngestOptions,
    total: int,
    mapping: load.Mapping | None = None,
) -> bool:
    """Check and COPY ``pieces`` (slices of ``source``) one after the other into the empty
    table; True when loaded. ``digest`` is a future of the file's checksum (streams) or None.
    """
    if not load._empty_and_locked(conn, tgt.table.name):
        return False
    if mapping is None and options.mapping:
        mapping = load.Mapping.read(options.mapping, tgt)
    before = list(report.issues)
    region = load.vietnam_region(conn, options.province)
    backbone = backbone_names(conn)
    span = load.Span()  # the table was empty: the dataset will hold exactly these rows
    seen = 0

    def checked(piece: SourceTable) -> dict[str, pd.Series]:
        nonlocal seen
        load._progress(options, "validating", seen, total)
        seen += len(piece.row_numbers)
        rows = piece.row_numbers
        raw = load.map_columns(tgt, piece.frame, mapping, report)
        if "scientific_name" not in raw:
            raise Unclean()
        names = list(raw["scientific_name"].str.strip().dropna().unique())
        if any(canonical_name(name) not in backbone for name in names):
            raise Unclean()  # the whole-file path offers close spellings
        known = match_names(conn, names, accept_synonyms=options.accept_synonyms, backbone=backbone)
        columns = load.convert_fields(tgt, raw, rows, report)
        columns["geom"] = load.build_geometries(
            conn, tgt, piece, raw, rows, options, report, region=region
        )
        columns.update(load.match_taxa(conn, raw, rows, report, options, {}, known))
        # keys repeated in a slice, as across slices, stop the build of the unique index
        # (below): no pass over the keys here
        load._reject_generalised(raw, rows, report)
        if not report.ok:
            raise Unclean()
        span.add(columns["geom"], columns.get("event_date"), columns.get("event_date_end"))
        return columns

    def chunks(first: dict[str, pd.Series], dataset_id: int) -> Iterator[pa.Table]:
        columns: dict[str, pd.Series] | None = first
        while columns is not None:
            size = len(columns["geom"])
            yield from load._copy_chunks(
                tgt,
                columns,
                [c for c in columns if c in tgt.table.c and c not in ("id", "geom")] + ["geom"],
                np.ones(size, dtype=bool),
                {"dataset_id": np.full(size, dataset_id, dtype=np.int64)},
                points_as_xy=False,
            )
            piece = next(pieces, None)
            columns = checked(piece) if piece is not None else None

    def undo() -> bool:
        savepoint.rollback()
        report.issues = before
        report.source_crs = report.dataset_code = None
        report.n_inserted = 0
        return False

    savepoint = conn.begin_nested()
    try:
        first_piece = next(pieces, None)
        if first_piece is None:
            raise Unclean()
        first = checked(first_piece)
        if digest is not None:
            source = replace(source, sha256=digest.result())
        dataset_id = load.record_dataset(conn, tgt, source, options, report)
        rebuild = load._drop_for_bulk(conn, tgt.table.name, unique=True)
        report.n_inserted = load._copy(
            conn, tgt.table.name, chunks(first, dataset_id), total, options
        )
        load._restore(conn, rebuild, options)
    except (Unclean, psycopg.errors.CheckViolation):  # a broken CHECK rule stops the COPY
        return undo()
    except sa.exc.IntegrityError as exc:
        # a key repeated (in one slice or in two) stops the build of the unique index: the
        # whole-file path names both rows
        if not isinstance(exc.orig, psycopg.errors.UniqueViolation):
            raise
        return undo()
    report.n_read = seen
    conn.execute(sa.text(f"ANALYZE {load._quote(tgt.table.name)}"))
    load.finish_dataset(conn, tgt, dataset_id, report, span)
    savepoint.commit()
    # each slice noted what concerns the whole file (a CRS assumed, say): once is enough
    report.issues = list(dict.fromkeys(report.issues))
    report.written = True
    return True


def _may_slice(tgt: Target, options: load.IngestOptions) -> bool:
    """Whether a large load may go in slices: the operator loading points with names into a
    table of occurrences (no derived or referenced columns), nothing to add to the backbone
    and nothing to check only."""
    table = tgt.table
    return (
        not options.dry_run
        and options.principal is None
        and not options.add_taxa
        and tgt.is_point
        and "scientific_name" in tgt.fields
        and "dataset_id" in table.c
        and "province_codes" not in table.c
        and "protected_area_code" not in tgt.fields
        and all(k in tgt.fields for k in tgt.key)
    )


def _ahead(pieces: Iterator[SourceTable]) -> Iterator[SourceTable]:
    """``pieces``, each read by a worker thread while the one before is checked (Arrow's
    parser lets go of the GIL); an error of the reader is raised where the piece is taken."""
    ready: queue.Queue[SourceTable | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            for piece in pieces:
                while not stop.is_set():
                    try:
                        ready.put(piece, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(None)
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer)
            ready.put(exc)

    worker = threading.Thread(target=read, name="vbis-csv-reader", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _csv_pieces(
    path: Path, header: list[str], names: list[str], delimiter: str
) -> Iterator[SourceTable]:
    """Slices of :data:`SLICE_ROWS` rows of a CSV file, every cell as text (as
    :func:`~.sources.read_csv_text` reads it: empty cells are empty text). Raises
    :class:`Unclean` for what the stream cannot read (the whole-file read names it)."""
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=STREAM_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"'),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:
        raise Unclean() from None
    if len(reader.schema) != len(names) or any(f.type != pa.string() for f in reader.schema):
        raise Unclean()  # the header read otherwise than by the stream
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    pending: list[pa.RecordBatch] = []
    held = 0
    first_row = 2  # the header is line 1

    def piece(table: pa.Table) -> SourceTable:
        nonlocal first_row
        frame = table.to_pandas(types_mapper=lambda _: text)
        frame.columns = names
        rows = np.arange(first_row, first_row + len(frame))
        first_row += len(frame)
        return SourceTable(path.name, "CSV", "", frame, rows)

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowException:
            raise Unclean() from None
        pending.append(batch)
        held += batch.num_rows
        while held >= SLICE_ROWS:
            table = pa.Table.from_batches(pending)
            yield piece(table.slice(0, SLICE_ROWS))
            rest = table.slice(SLICE_ROWS)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield piece(pa.Table.from_batches(pending, schema=reader.schema))
