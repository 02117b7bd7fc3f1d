"""Read a file from the field into one shape: a table of text cells, a geometry per row (or
coordinate columns), the CRS it declares and the row numbers the user sees.

Formats: Shapefile (a .shp, its folder, or a .zip), GeoPackage (choose the layer), GeoJSON,
KML/KMZ, CSV/TSV, XLSX, and Darwin Core Archives (a .zip with meta.xml). Anything that cannot be
read raises :class:`InvalidInput` naming the file and what is wrong with it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from vbis_geo.errors import InvalidInput
from vbis_geo.ingest.encoding import EncodingGuess, declared_encoding, decode, detect_encoding

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
#: Largest total uncompressed size accepted from an archive (a zip bomb declares terabytes).
MAX_UNPACKED_BYTES = 2 * 1024**3 - 1
DWC_NS = "{http://rs.tdwg.org/dwc/text/}"
#: How much of a text file is read to decide its encoding and delimiter
HEAD_BYTES = 1 << 16


@dataclass
class SourceTable:
    """A file read into rows.

    ``frame`` holds the attribute cells as text (None when empty); ``geometry`` one shapely
    geometry per row (None for tables with coordinate columns); ``row_numbers`` the 1-based row
    numbers the user sees (feature number, or line number in a CSV).
    """

    name: str
    format: str
    sha256: str
    frame: pd.DataFrame
    row_numbers: np.ndarray
    geometry: np.ndarray | None = None
    crs: pyproj.CRS | None = None
    crs_origin: str = ""
    encoding: EncodingGuess | None = None
    notes: list[str] = field(default_factory=list)
    #: the ``datasets`` code when the source names it (a harvested URL); else from the checksum
    dataset_code: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_source(path: Path, *, layer: str | None = None) -> SourceTable:
    """Read ``path`` (any supported format); ``layer`` picks a layer of a GeoPackage.

    Raises :class:`InvalidInput` for a missing, unreadable, truncated or unsupported file.
    """
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or folder")
    # the checksum is computed while the file is parsed (hashlib lets go of the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(file_sha256 if path.is_file() else _folder_sha256, path)
        table = _read_any(path, layer)
        table.name, table.sha256 = path.name, digest.result()
    return table


def _read_any(path: Path, layer: str | None) -> SourceTable:
    if path.is_dir():
        # KBT.SHP as well as kbt.shp, as in a zip (GDAL finds the parts in either case)
        shapefiles = sorted(p for p in path.iterdir() if p.suffix.lower() == ".shp")
        if len(shapefiles) != 1:
            raise InvalidInput(
                f"{path}: a folder must hold exactly one .shp file, found {len(shapefiles)}",
                hint="give the .shp file itself",
            )
        return read_vector(shapefiles[0], layer=layer)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with unpacked(path) as folder:
            return _read_unpacked(path, folder, layer)
    if suffix in VECTOR_SUFFIXES:
        return read_vector(path, layer=layer)
    if suffix in TABLE_SUFFIXES:
        return read_table(path)
    raise InvalidInput(
        f"{path}: unsupported file type {suffix or '(no suffix)'!r}",
        hint="expected .shp (or its folder or .zip), .gpkg, .geojson, .kml, .kmz, .csv, .tsv, "
        ".xlsx or a Darwin Core Archive .zip",
    )


def _folder_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for part in sorted(p for p in path.iterdir() if p.is_file()):
        digest.update(part.name.encode())
        digest.update(file_sha256(part).encode())
    return digest.hexdigest()


def _read_unpacked(archive: Path, folder: Path, layer: str | None) -> SourceTable:
    if (folder / "meta.xml").exists():
        return read_dwca(folder, archive)
    members = [p for p in folder.rglob("*") if not _macos_metadata(p.relative_to(folder))]
    metas = [p for p in members if p.name == "meta.xml"]
    if len(metas) == 1:  # a Darwin Core Archive zipped with its folder
        return read_dwca(metas[0].parent, archive)
    candidates = [p for p in members if p.suffix.lower() in VECTOR_SUFFIXES | {".csv"}]
    shapefiles = [p for p in candidates if p.suffix.lower() == ".shp"]
    chosen = shapefiles or candidates
    if len(chosen) != 1:
        found = ", ".join(sorted(p.name for p in chosen)) or "none"
        raise InvalidInput(
            f"{archive}: expected one dataset in the archive (a .shp with its .dbf and .shx, a "
            f"GeoPackage, GeoJSON, KML or CSV, or meta.xml of a Darwin Core Archive); found {found}"
        )
    return (
        read_vector(chosen[0], layer=layer) if chosen[0].suffix != ".csv" else read_table(chosen[0])
    )


def _macos_metadata(member: PurePosixPath | Path) -> bool:
    """Whether an unpacked member is macOS Finder's, not data: ``__MACOSX/`` and the
    AppleDouble ``._name`` files beside each file (``._kbt.shp`` is no Shapefile)."""
    return "__MACOSX" in member.parts or member.name.startswith("._")


@contextmanager
def unpacked(archive: Path) -> Iterator[Path]:
    """Unpack a zip (or KMZ) into a temporary folder, refusing unsafe members.

    Raises :class:`InvalidInput` for a corrupt archive, a member with an absolute path or one
    that climbs out of the folder (``..``), a symbolic link, or a declared unpacked size above
    :data:`MAX_UNPACKED_BYTES`.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"{archive}: not a readable zip archive ({exc})") from None
    with zf, tempfile.TemporaryDirectory(prefix="vbis-ingest-") as tmp:
        total = 0
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                raise InvalidInput(f"{archive}: member {info.filename!r} has an unsafe path")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise InvalidInput(f"{archive}: member {info.filename!r} is a symbolic link")
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise InvalidInput(
                    f"{archive}: declares {total:,} bytes unpacked (member {info.filename!r} "
                    f"alone {info.file_size:,}), more than the {MAX_UNPACKED_BYTES:,} accepted",
                    hint="split the data into smaller archives",
                )
        try:
            zf.extractall(tmp)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InvalidInput(f"{archive}: the archive is damaged ({exc})") from None
        yield Path(tmp)


# -- vector files ---------------------------------------------------------------------------------
def read_vector(path: Path, *, layer: str | None = None) -> SourceTable:
    """Read a Shapefile, GeoPackage, GeoJSON or KML/KMZ file with GDAL (through fiona)."""
    import fiona
    from fiona.errors import FionaError

    suffix = path.suffix.lower()
    if suffix == ".kmz":
        with unpacked(path) as folder:
            kmls = sorted(
                p for p in folder.rglob("*.kml") if not _macos_metadata(p.relative_to(folder))
            )
            if not kmls:
                raise InvalidInput(f"{path}: the KMZ holds no .kml document")
            table = read_vector(kmls[0], layer=layer)
            table.format = "KMZ"
            return table
    encoding = None
    open_kwargs: dict[str, object] = {}
    if suffix == ".shp":
        _check_shapefile_parts(path)
        # Read text as Latin-1, which maps every byte to one character, to get the raw bytes back
        # and decide the encoding ourselves (provinces send UTF-8, Windows-1258, TCVN3 or VNI).
        open_kwargs["encoding"] = "latin1"
    if suffix == ".kml":
        return read_kml(path)
    layers = _layers(path)
    if layer is None and len(layers) > 1 and suffix == ".gpkg":
        raise InvalidInput(
            f"{path}: the GeoPackage has {len(layers)} layers: {', '.join(layers)}",
            hint="choose one with --source-layer",
        )
    if layer is not None and layer not in layers:
        raise InvalidInput(f"{path}: no layer {layer!r}; layers: {', '.join(layers)}")
    records: list[dict[str, object]] = []
    geometries: list[BaseGeometry | None] = []
    try:
        with fiona.open(path, layer=layer or (layers[0] if layers else None), **open_kwargs) as src:
            crs = pyproj.CRS.from_user_input(src.crs_wkt) if src.crs_wkt else None
            driver = src.driver
            for feature in src:
                records.append(dict(feature.properties or {}))
                geometries.append(shape(feature.geometry) if feature.geometry else None)
    except FionaError as exc:
        raise InvalidInput(f"{path}: cannot be read as {suffix[1:]} ({exc})") from None
    except (ValueError, RuntimeError) as exc:
        raise InvalidInput(f"{path}: damaged or truncated ({exc})") from None
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    notes: list[str] = []
    if suffix == ".shp":
        encoding, frame, notes = _decode_dbf_text(path, frame)
    frame = _as_text(frame)
    origin = "from the file" if crs else "none in the file"
    if suffix == ".shp":
        origin = "from the .prj" if crs else "no .prj"
    return SourceTable(
        name=path.name,
        format=driver,
        sha256="",
        frame=frame,
        row_numbers=np.arange(1, len(records) + 1),
        geometry=np.array(geometries, dtype=object),
        crs=crs,
        crs_origin=origin,
        encoding=encoding,
        notes=notes,
    )


def read_kml(path: Path) -> SourceTable:
    """Read every folder (layer) of a KML document, with its ExtendedData fields.

    Through pyogrio, whose GDAL has the LIBKML driver: GDAL's plain KML driver (all fiona's
    GDAL offers) reads only names and descriptions, and drops SchemaData/Data fields.
    """
    import pyogrio

    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
        frames = [pyogrio.read_dataframe(path, layer=name) for name in layers]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"{path}: cannot be read as KML ({exc})") from None
    frames = [f for f in frames if len(f)]
    if not frames:
        raise InvalidInput(f"{path}: the KML document holds no placemarks")
    frame = pd.concat(frames, ignore_index=True)
    geometry = np.array(list(frame.geometry.values), dtype=object)
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    # LIBKML adds its own styling columns; empty ones are noise
    attributes = attributes.dropna(axis=1, how="all")
    return SourceTable(
        name=path.name,
        format="KML",
        sha256="",
        frame=_as_text(attributes),
        row_numbers=np.arange(1, len(frame) + 1),
        geometry=geometry,
        crs=pyproj.CRS.from_epsg(4326),
        crs_origin="KML is always WGS 84",
    )


def _layers(path: Path) -> list[str]:
    import fiona
    from fiona.errors import FionaError

    try:
        return list(fiona.listlayers(path))
    except (FionaError, ValueError, RuntimeError) as exc:
        raise InvalidInput(f"{path}: cannot be opened ({exc})") from None


def _check_shapefile_parts(path: Path) -> None:
    for part in SHAPEFILE_PARTS:
        siblings = [path.with_suffix(part), path.with_suffix(part.upper())]
        if not any(s.exists() for s in siblings):
            raise InvalidInput(
                f"{path}: the Shapefile has no {path.with_suffix(part).name}",
                hint="a Shapefile is at least .shp, .shx and .dbf (and .prj, .cpg); send them "
                "together, e.g. zipped",
            )
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or int.from_bytes(header[:4], "big") != 9994:
        raise InvalidInput(f"{path}: not a Shapefile (bad header)")
    declared = int.from_bytes(header[24:28], "big") * 2
    if declared != size:
        raise InvalidInput(
            f"{path}: truncated or damaged: the header declares {declared:,} bytes, the file "
            f"has {size:,}",
            hint="send the file again",
        )


def _decode_dbf_text(
    path: Path, frame: pd.DataFrame
) -> tuple[EncodingGuess, pd.DataFrame, list[str]]:
    cpgs = (path.with_suffix(".cpg"), path.with_suffix(".CPG"))
    cpg = next((p for p in cpgs if p.exists()), None)
    declared = declared_encoding(cpg.read_text(errors="replace")) if cpg else None
    text_columns = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, str)).any()]
    raw = {
        c: frame[c].map(lambda v: v.encode("latin1") if isinstance(v, str) else v)
        for c in text_columns
    }
    samples = [v for c in text_columns for v in raw[c] if isinstance(v, bytes) and v]
    guess = detect_encoding(samples, declared=declared)
    notes = []
    if guess.conflict:
        notes.append(
            f"the .cpg declares {declared} but the text is {guess.name} ({guess.evidence}); "
            f"read as {guess.name}"
        )
    if guess.legacy:
        notes.append(f"legacy Vietnamese encoding {guess.name} detected ({guess.evidence})")
    frame = frame.copy()
    for c in text_columns:
        frame[c] = raw[c].map(
            lambda v: decode(v, guess.name) if isinstance(v, bytes) else v  # noqa: B023
        )
    return guess, frame, notes


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text (numbers as written), empty cells as None."""

    def cell(value: object) -> str | None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, list | tuple):
            return ";".join(str(v) for v in value) or None
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = str(value).strip()
        return text or None

    return pd.DataFrame({c: frame[c].map(cell).astype(object) for c in frame.columns})


# -- tables -----------------------------------------------------------------------------------
def read_table(path: Path) -> SourceTable:
    """Read a CSV/TSV/TXT (delimiter sniffed) or XLSX sheet; every cell as text."""
    if path.suffix.lower() == ".xlsx":
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        except Exception as exc:  # openpyxl raises many kinds for a bad workbook
            raise InvalidInput(f"{path}: cannot be read as an Excel workbook ({exc})") from None
        return SourceTable(
            name=path.name,
            format="XLSX",
            sha256="",
            frame=frame,
            row_numbers=np.arange(2, len(frame) + 2),
        )
    with path.open("rb") as fh:
        raw_head = fh.read(HEAD_BYTES)
    encoding = text_encoding(path, raw_head)
    delimiter = sniff_delimiter(raw_head.decode("latin1"), path)
    frame = read_csv_text(path, delimiter=delimiter, encoding=encoding.name)
    return SourceTable(
        name=path.name,
        format="CSV",
        sha256="",
        frame=frame,
        row_numbers=np.arange(2, len(frame) + 2),
        encoding=encoding,
    )


def read_csv_text(
    path: Path | io.BytesIO,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quote: str = '"',
    header: bool = True,
) -> pd.DataFrame:
    """Read a delimited text file fast (pyarrow), every cell as text (blank cells are made
    missing by :func:`blank_to_none` when a column is used)."""
    utf8 = encoding in ("utf-8", "ascii")
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            # other encodings are read byte for byte (Latin-1) and decoded per cell below
            encoding="utf-8-sig" if utf8 else "latin1",
            quotechar=quote or '"',
            quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
            header=0 if header else None,
            engine="pyarrow" if utf8 and quote and delimiter != "|" else "c",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        name = getattr(path, "name", path)
        raise InvalidInput(f"{name}: cannot be read as delimited text ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if not utf8 and encoding not in ("latin-1", "latin1"):
        for c in frame.columns:
            frame[c] = frame[c].map(
                lambda v: decode(v.encode("latin1"), encoding) if v else v  # noqa: B023
            )
    return frame


def blank_to_none(values: pd.Series) -> pd.Series:
    """``values`` with empty and blank cells missing (None, or NA for Arrow-backed text)."""
    if values.isna().all():
        return pd.Series([None] * len(values), dtype=object, index=values.index)
    if not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        values = values.astype(object)
        blank = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
        values = values.where(~blank, None)
    else:
        # pandas' Arrow-backed strings: Arrow's kernels on the cells as they are (no stripped
        # copy; the byte length from the offsets alone), missing cells become NA; blank is
        # empty or whitespace only. A quarter of the time of pandas' str accessors.
        cells = pa.array(values.array)
        blank = pc.or_kleene(pc.equal(pc.binary_length(cells), 0), pc.utf8_is_space(cells))
        mask = pc.fill_null(blank, False).to_numpy(zero_copy_only=False)
        if mask.any():
            values = values.mask(mask)
    if values.isna().all():
        return pd.Series([None] * len(values), dtype=object, index=values.index)
    return values


def text_encoding(path: Path, head: bytes) -> EncodingGuess:
    lines = head.splitlines()
    if len(head) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the read may have cut the last line inside a character
    return detect_encoding([line for line in lines if line])


def sniff_delimiter(head: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    first = head.splitlines()[0] if head else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise InvalidInput(
            f"{path}: the first line has no column separator (comma, semicolon, tab or |)"
        )
    return best


# -- Darwin Core Archives -------------------------------------------------------------------------
def read_dwca(folder: Path, archive: Path) -> SourceTable:
    """Read the core of a Darwin Core Archive (https://dwc.tdwg.org/text/): meta.xml says which
    file, how it is delimited and which term each column holds; default values are applied.
    """
    try:
        root = ElementTree.parse(folder / "meta.xml").getroot()
    except ElementTree.ParseError as exc:
        raise InvalidInput(f"{archive}: meta.xml is not well-formed XML ({exc})") from None
    core = root.find(f"{DWC_NS}core")
    if core is None:
        raise InvalidInput(f"{archive}: meta.xml has no <core> element")
    row_type = core.get("rowType", "")
    if not row_type.endswith("/Occurrence"):
        raise InvalidInput(
            f"{archive}: the core is {row_type or 'undeclared'}; expected an Occurrence core "
            "(http://rs.tdwg.org/dwc/terms/Occurrence)"
        )
    location = core.find(f"{DWC_NS}files/{DWC_NS}location")
    if location is None or not (location.text or "").strip():
        raise InvalidInput(f"{archive}: meta.xml names no core data file (<files><location>)")
    data_file = folder / location.text.strip()
    if not data_file.resolve().is_relative_to(folder.resolve()) or not data_file.exists():
        raise InvalidInput(f"{archive}: the core file {location.text.strip()!r} is not there")
    delimiter = _unescape(core.get("fieldsTerminatedBy", ","))
    quote = _unescape(core.get("fieldsEnclosedBy", '"'))
    skip = int(core.get("ignoreHeaderLines", "0") or 0)
    encoding = (core.get("encoding") or "UTF-8").lower().replace("utf8", "utf-8")
    columns: dict[int, str] = {}
    defaults: dict[str, str] = {}
    fields = core.findall(f"{DWC_NS}field")
    terms = {f.get("term", "").rsplit("/", 1)[-1] for f in fields}
    # the core's id is the record's identifier: its occurrenceID when no column is named so
    core_id = "id" if "occurrenceID" in terms else "occurrenceID"
    for element in fields + core.findall(f"{DWC_NS}id"):
        term = element.get("term", "")
        name = term.rsplit("/", 1)[-1] if term else core_id
        index = element.get("index")
        if index is not None:
            columns.setdefault(int(index), name)
        if element.get("default") is not None:
            defaults[name] = element.get("default", "")
    if not columns:
        raise InvalidInput(f"{archive}: meta.xml maps no column of the core to a term")
    width = max(columns) + 1
    names = [columns.get(i, f"_column_{i}") for i in range(width)]
    frame = read_csv_text(
        data_file, delimiter=delimiter, encoding=encoding, quote=quote, header=False
    )
    if skip:
        frame = frame.iloc[skip:].reset_index(drop=True)
    if frame.shape[1] < width:
        raise InvalidInput(
            f"{archive}: {location.text.strip()} has {frame.shape[1]} columns; meta.xml maps "
            f"column {width - 1}"
        )
    frame = frame.iloc[:, :width]
    frame.columns = names
    frame = frame.drop(columns=[n for n in names if n.startswith("_column_")])
    for name, value in defaults.items():
        # a default stands for the value of every record that gives none (a blank cell too)
        if name not in frame.columns:
            frame[name] = value
        else:
            blank = frame[name].isna() | (frame[name].astype(str).str.strip() == "")
            frame[name] = frame[name].where(~blank, value)
    notes = []
    extensions = [e.get("rowType", "") for e in root.findall(f"{DWC_NS}extension")]
    if extensions:
        notes.append("extensions not read: " + ", ".join(extensions))
    return SourceTable(
        name=archive.name,
        format="DwC-A",
        sha256="",
        frame=frame,
        row_numbers=np.arange(1 + skip, len(frame) + 1 + skip),
        notes=notes,
    )


def _unescape(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
