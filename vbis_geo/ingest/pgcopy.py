"""PostgreSQL's binary COPY format, built a column at a time by Arrow and numpy.

The server reads binary fields with each type's receive function: four bytes for an integer,
eight for a double, the days since 2000 for a date, the WKB of a geometry, and no parsing of
text into numbers, dates or hex. On a million occurrences that is about a sixth less of the
server's work in the COPY than the same rows as CSV (``bench/README.md``).

A row is its field count (int16), then for each field its length (int32, -1 for NULL) and its
bytes, all in network byte order (PostgreSQL's documentation, "COPY", "Binary Format"). Each
field's pieces are built for all rows at once and joined row by row by Arrow's
``binary_join_element_wise``, so there is no Python object per cell.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: the file header: signature, flags (no OIDs), no header extension
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
#: the end of the data: a field count of -1
TRAILER = b"\xff\xff"
#: days from 1970-01-01 (Arrow's date32) to 2000-01-01 (PostgreSQL's date)
_PG_EPOCH_DAYS = 10_957
_NULL = pa.scalar(b"\xff\xff\xff\xff", type=pa.binary())

#: an encoder: a column's values -> the pieces of its field in each row, joined in order
Encode = Callable[[pa.Array], list[pa.Array]]


def column_types(conn: Connection, table: str) -> dict[str, str]:
    """Column name -> type name (``pg_type.typname``: int4, text, geometry...) of ``table``."""
    return {
        str(name): str(typname)
        for name, typname in conn.execute(
            sa.text(
                "SELECT a.attname, t.typname FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"
            ),
            {"t": table},
        )
    }


def encoders(types: list[str]) -> list[Encode] | None:
    """One encoder per column of these types, or None if one type has no binary encoder here
    (arrays, numeric, timestamps: the caller sends CSV)."""
    found = [_ENCODERS.get(name) for name in types]
    return None if any(e is None for e in found) else found  # type: ignore[return-value]


def encode_rows(table: pa.Table, encode: list[Encode]) -> pa.Buffer:
    """The rows of ``table`` in the binary COPY format (without header or trailer)."""
    n = table.num_rows
    pieces = [_fixed(np.full(n, table.num_columns, dtype=">i2"))]
    for column, encoder in zip(table.columns, encode, strict=True):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        pieces.extend(encoder(array))
    rows = pc.binary_join_element_wise(*pieces, pa.scalar(b"", type=pa.binary()))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=n + 1, offset=rows.offset * 4)
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])]


def _fixed(values: np.ndarray) -> pa.Array:
    """Each element of ``values`` as one binary value of its itemsize (no copy)."""
    width = values.dtype.itemsize
    offsets = np.arange(0, width * len(values) + 1, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(),
        len(values),
        [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(values))],
    )


def _numeric(pg: str, arrow: pa.DataType) -> Encode:
    """A fixed-width number: its length and its big-endian value; NULL where missing."""
    big = np.dtype(arrow.to_pandas_dtype()).newbyteorder(">")

    def encode(array: pa.Array) -> list[pa.Array]:
        if pa.types.is_floating(array.type) and pa.types.is_integer(arrow):
            raise TypeError(f"{array.type} values for a {pg} column")
        typed = pc.cast(array, arrow)  # a value beyond the type's range raises
        values = typed.fill_null(0).to_numpy(zero_copy_only=False)
        return _with_nulls(values.astype(big), typed)

    return encode


def _with_nulls(values: np.ndarray, array: pa.Array) -> list[pa.Array]:
    """Fixed-width ``values`` prefixed by their length, and -1 (NULL) where ``array`` is null."""
    row = np.empty(len(values), dtype=[("n", ">i4"), ("v", values.dtype)])
    row["n"] = values.dtype.itemsize
    row["v"] = values
    pieces = _fixed(row)
    if array.null_count:
        pieces = pc.if_else(array.is_valid(), pieces, _NULL)
    return [pieces]


def _date(array: pa.Array) -> list[pa.Array]:
    days = pc.cast(array, pa.date32()).cast(pa.int32())
    values = days.fill_null(0).to_numpy(zero_copy_only=False) - _PG_EPOCH_DAYS
    return _with_nulls(values.astype(">i4"), days)


def _boolean(array: pa.Array) -> list[pa.Array]:
    values = pc.cast(array, pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False)
    return _with_nulls(values.astype(np.uint8), array)


def _varlena(array: pa.Array) -> list[pa.Array]:
    """Text or WKB: the byte length, then the bytes; -1 where null."""
    data = array.cast(pa.binary()) if not pa.types.is_binary(array.type) else array
    lengths = pc.binary_length(data).fill_null(-1).to_numpy(zero_copy_only=False)
    return [_fixed(lengths.astype(">i4")), data.fill_null(b"") if data.null_count else data]


def _text(array: pa.Array) -> list[pa.Array]:
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        if array.null_count < len(array):
            raise TypeError(f"{array.type} values for a text column")
        array = array.cast(pa.string())
    return _varlena(array)


def _geometry(array: pa.Array) -> list[pa.Array]:
    if not pa.types.is_binary(array.type):
        raise TypeError(f"{array.type} values for a geometry column: WKB expected")
    return _varlena(array)


_ENCODERS: dict[str, Encode] = {
    "int2": _numeric("smallint", pa.int16()),
    "int4": _numeric("integer", pa.int32()),
    "int8": _numeric("bigint", pa.int64()),
    "float4": _numeric("real", pa.float32()),
    "float8": _numeric("double precision", pa.float64()),
    "date": _date,
    "bool": _boolean,
    "text": _text,
    "varchar": _text,
    "geometry": _geometry,
}
