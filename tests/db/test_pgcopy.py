"""The loader's COPY sends the same values in PostgreSQL's binary format as in CSV.

Rows are sent by :func:`vbis_geo.ingest.load._copy` into two temporary tables of the same
columns: one whose every type has a binary encoder (binary COPY), one with an extra text[]
column (CSV, geometries as hex WKB); the stored rows must be equal, NULLs, extremes and
Vietnamese text included.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
import shapely
import sqlalchemy as sa

from vbis_geo.ingest import pgcopy
from vbis_geo.ingest.load import IngestOptions, _copy, _hex, _wkb_points

pytestmark = pytest.mark.db

COLUMNS = (
    "a int2, b int4, c int8, d float4, e float8, f date, g bool, h text, i varchar(20), "
    "j geometry(Point, 4326), k geometry(Geometry, 4326)"
)


def _rows() -> pa.Table:
    return pa.table(
        {
            "a": pa.array([1, None, -32768, 32767]),
            "b": pa.array([2**31 - 1, -(2**31), None, 0]),
            "c": pa.array([None, 2**40, 0, -(2**63)]),
            "d": pa.array([1.5, None, float("inf"), -2.25]),
            "e": pa.array([np.pi, -0.0, None, 1e-300]),
            "f": pa.array([dt.date(2000, 1, 1), dt.date(1969, 12, 31), None, dt.date(2026, 2, 28)]),
            "g": pa.array([True, None, False, True]),
            "h": pa.array(["Vườn quốc gia Cúc Phương", "", None, 'a "quoted", line\nbreak']),
            "i": pa.array(["Pù Mát", None, "x", ""]),
            "j": _wkb_points(np.array([105.5, 106, 107, 0]), np.array([21, 20.5, 10.0, 0])),
            "k": pa.array(
                shapely.to_wkb(
                    [shapely.box(105, 20, 106, 21), None, shapely.Point(1, 2), None],
                    include_srid=False,
                ),
                type=pa.binary(),
            ),
        }
    )


def _stored(conn, table: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return conn.execute(
        sa.text(
            "SELECT a, b, c, d, e, f, g, h, i, ST_AsEWKB(j), ST_AsEWKB(k) "  # noqa: S608
            f"FROM {table} ORDER BY b NULLS LAST"
        )
    ).all()


def test_binary_and_csv_copies_store_the_same_rows(conn) -> None:
    rows = _rows()
    conn.execute(sa.text(f"CREATE TEMP TABLE copy_binary ({COLUMNS})"))
    conn.execute(sa.text(f"CREATE TEMP TABLE copy_csv ({COLUMNS}, l text[])"))
    types = pgcopy.column_types(conn, "copy_csv")
    assert pgcopy.encoders([types[n] for n in rows.column_names]) is not None
    assert pgcopy.encoders([types["l"]]) is None  # no binary encoder for arrays: CSV
    # two chunks, the second a slice, as the loader sends them
    assert (
        _copy(conn, "copy_binary", iter([rows.slice(0, 2), rows.slice(2)]), 4, IngestOptions()) == 4
    )
    with_list = rows.append_column("l", pa.array([None] * 4, type=pa.string()))
    assert (
        _copy(
            conn, "copy_csv", iter([with_list.slice(0, 3), with_list.slice(3)]), 4, IngestOptions()
        )
        == 4
    )
    binary, text = _stored(conn, "copy_binary"), _stored(conn, "copy_csv")
    assert binary == text
    # in the order of b: rows 1, 3, 0, 2
    assert [r[:9] for r in binary] == [
        (None, -(2**31), 2**40, None, -0.0, dt.date(1969, 12, 31), None, "", None),
        (
            32767,
            0,
            -(2**63),
            -2.25,
            1e-300,
            dt.date(2026, 2, 28),
            True,
            'a "quoted", line\nbreak',
            "",
        ),
        (
            1,
            2**31 - 1,
            None,
            1.5,
            np.pi,
            dt.date(2000, 1, 1),
            True,
            "Vườn quốc gia Cúc Phương",
            "Pù Mát",
        ),
        (-32768, None, 0, float("inf"), None, None, False, None, "x"),
    ]
    geometries = conn.execute(
        sa.text("SELECT ST_AsEWKT(j), ST_AsEWKT(k) FROM copy_binary ORDER BY b NULLS LAST")
    ).all()
    assert geometries == [
        ("SRID=4326;POINT(106 20.5)", None),
        ("SRID=4326;POINT(0 0)", None),
        ("SRID=4326;POINT(105.5 21)", "SRID=4326;POLYGON((106 20,106 21,105 21,105 20,106 20))"),
        ("SRID=4326;POINT(107 10)", "SRID=4326;POINT(1 2)"),
    ]


def test_a_value_beyond_its_column_type_is_refused_before_sending() -> None:
    with pytest.raises(pa.ArrowInvalid, match="not in range"):
        pgcopy.encode_rows(pa.table({"b": pa.array([2**31])}), pgcopy.encoders(["int4"]))
    with pytest.raises(TypeError, match="double values for a integer column"):
        pgcopy.encode_rows(pa.table({"b": pa.array([1.5])}), pgcopy.encoders(["int4"]))


def test_hex_of_a_sliced_array_with_nulls() -> None:
    wkb = pa.array([b"\x01\x02", None, b"\xff", b""], type=pa.binary())
    assert _hex(wkb).to_pylist() == ["0102", None, "FF", ""]
    assert _hex(wkb.slice(1)).to_pylist() == [None, "FF", ""]
