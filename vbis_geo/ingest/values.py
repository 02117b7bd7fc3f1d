"""Convert text cells to typed values, column at a time, reporting every cell that does not fit.

Accepted forms (documented for contributors in the README):

* numbers with a decimal point (``12.5``); a decimal comma is rejected, not guessed;
* dates as ISO 8601 ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (a month or year stands for its first
  day and ``event_date_end`` gets its last), intervals ``start/end``, date-times (the date is
  kept), and the Vietnamese ``DD/MM/YYYY``;
* booleans ``true/false``, ``yes/no``, ``1/0``, ``có/không``, ``x``/empty;
* lists of codes separated by ``;`` or ``,``.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vbis_geo.ingest.report import REJECTED, Report
from vbis_geo.ingest.targets import FieldSpec, Target

_INTEGER = r"^[+-]?\d+(?:\.0*)?$"
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_ISO_DATE = r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$"
_VN_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4})$"
_TRUE = {"true", "t", "yes", "y", "1", "co", "có", "x", "dung", "đúng"}
_FALSE = {"false", "f", "no", "n", "0", "khong", "không", "sai"}


def convert_column(
    spec: FieldSpec, raw: pd.Series, rows: np.ndarray, report: Report, target: Target
) -> pd.Series:
    """Typed values of ``raw`` (None where empty or rejected); rejected cells go to ``report``."""
    present = raw.notna().to_numpy()
    if spec.kind == "text":
        values, bad = _text(spec, raw, present, target)
    elif spec.kind == "integer":
        values, bad, outside = _integer(raw, present, spec.int_range)
        reject_cells(
            report, rows, outside, spec.name, raw, "out of the range of the field", spec.expected
        )
    elif spec.kind == "number":
        values, bad = _number(raw, present)
    elif spec.kind == "date":
        start, _end, bad = parse_dates(raw, present)
        values = start
    elif spec.kind == "boolean":
        values, bad = _boolean(raw, present)
    else:
        values = raw.map(_split_list, na_action="ignore")
        bad = np.zeros(len(raw), dtype=bool)
    reject_cells(report, rows, bad, spec.name, raw, "not " + _article(spec), spec.expected)
    return values


def reject_cells(
    report: Report,
    rows: np.ndarray,
    bad: np.ndarray,
    field: str,
    raw: pd.Series,
    problem: str,
    expected: str,
) -> None:
    for i in np.flatnonzero(bad):
        report.add(int(rows[i]), field, REJECTED, problem, expected, raw.iloc[i])


def _article(spec: FieldSpec) -> str:
    if spec.choices:
        return "an allowed value"
    return {
        "text": "text of the allowed length",
        "integer": "a whole number",
        "number": "a number",
        "date": "a date",
        "boolean": "yes or no",
    }.get(spec.kind, spec.kind)


def _text(
    spec: FieldSpec, raw: pd.Series, present: np.ndarray, target: Target
) -> tuple[pd.Series, np.ndarray]:
    values = raw.str.strip() if present.any() else raw
    bad = np.zeros(len(raw), dtype=bool)
    if spec.choices:
        canonical = {v: target.canonical_value(spec.name, v) for v in values.dropna().unique()}
        values = values.map(canonical, na_action="ignore")
        bad = present & values.isna().to_numpy()
    elif spec.max_length:
        bad = present & (values.str.len().fillna(0).to_numpy() > spec.max_length)
    kept = values.where(~bad, None)
    # Arrow-backed text (a CSV) stays so: no Python object per cell, and it goes to the COPY
    # as it is; other sources' cells are Python strings
    return (kept if is_arrow_text(kept) else kept.astype(object)), bad


def is_arrow_text(values: pd.Series) -> bool:
    """True for pandas' Arrow-backed text (missing cells are NaN, never None)."""
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _integer(
    raw: pd.Series, present: np.ndarray, limits: tuple[int, int] | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Whole numbers (Python ints), the mask of cells that are not one, and the mask of those
    outside ``limits`` (the range of the column's type)."""
    text = raw.str.strip()
    low, high = limits or (-(2**63), 2**63 - 1)
    values = pd.Series([None] * len(raw), dtype=object, index=raw.index)
    every = _cast_all(text, pa.int64())
    if every is not None:  # every cell a whole number: Arrow parsed them all
        numbers, ok = every
        outside = ok & ((numbers < low) | (numbers > high))
        values[ok & ~outside] = numbers[ok & ~outside].tolist()
        return values, np.zeros(len(raw), dtype=bool), outside
    ok = text.str.match(_INTEGER).fillna(False).to_numpy(dtype=bool)
    if ok.any():
        try:
            numbers = _arrow_cast(text[ok], pa.int64())
            whole: list[int] = numbers.tolist()
            inside = (numbers >= low) & (numbers <= high)
        except (pa.ArrowException, TypeError):  # "12.0", or beyond 64 bits
            whole = [int(v.split(".")[0]) for v in text[ok]]
            inside = np.array([low <= v <= high for v in whole], dtype=bool)
        values[ok] = whole
        outside = ok.copy()
        outside[ok] = ~inside
        values[outside] = None
        return values, present & ~ok, outside
    return values, present & ~ok, np.zeros(len(raw), dtype=bool)


def _number(raw: pd.Series, present: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    text = raw.str.strip()
    every = _cast_all(text, pa.float64())
    if every is not None:  # every cell a number (inf and nan are not: not finite)
        numbers, given = every
        bad = given & ~np.isfinite(numbers)
        return pd.Series(np.where(given & ~bad, numbers, np.nan), index=raw.index), bad
    ok = text.str.match(_NUMBER).fillna(False).to_numpy(dtype=bool)
    values = pd.Series(np.nan, index=raw.index, dtype=float)
    if ok.any():
        try:
            values[ok] = _arrow_cast(text[ok], pa.float64())
        except (pa.ArrowException, TypeError):
            values[ok] = pd.to_numeric(text[ok], errors="coerce")
    bad = present & (~ok | ~np.isfinite(values.to_numpy()))
    return values.where(~bad, np.nan), bad


def _cast_all(text: pd.Series, to: pa.DataType) -> tuple[np.ndarray, np.ndarray] | None:
    """Every cell of ``text`` parsed by Arrow as ``to`` (0 where missing) and the mask of the
    cells present; None when a cell is not such a number (the cells are then matched one by
    one). Arrow reads what the patterns accept, and inf and nan, which are not finite."""
    array = pa.array(text, type=pa.string(), from_pandas=True)
    try:
        parsed = pc.cast(array, to)
    except (pa.ArrowException, TypeError):
        return None
    present = parsed.is_valid().to_numpy(zero_copy_only=False)
    return parsed.fill_null(0).to_numpy(zero_copy_only=False), present


def _arrow_cast(text: pd.Series, to: pa.DataType) -> np.ndarray:
    """``text`` (cells already matched as numbers) parsed by Arrow: no Python object per cell,
    twenty times faster than ``pd.to_numeric`` on a million cells. Raises
    :class:`pyarrow.ArrowException` for a cell Arrow does not read as ``to``."""
    return pc.cast(pa.array(text, type=pa.string()), to).to_numpy(zero_copy_only=False)


def numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Float values of ``raw`` (NaN where empty or bad) and the mask of bad cells."""
    present = raw.notna().to_numpy()
    values, bad = _number(raw, present)
    return values.to_numpy(dtype=float), bad


def _boolean(raw: pd.Series, present: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    folded = raw.str.strip().str.lower()
    values = folded.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
    bad = present & values.isna().to_numpy()
    return values.astype(object), bad


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


def parse_dates(raw: pd.Series, present: np.ndarray) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Start dates, end dates (for months, years and intervals) and the mask of bad cells."""
    if raw.isna().all():
        empty = pd.Series([None] * len(raw), dtype=object, index=raw.index)
        return empty, empty.copy(), np.zeros(len(raw), dtype=bool)
    if not raw.str.contains("/", regex=False).fillna(False).any():
        # no intervals and no DD/MM/YYYY: one vectorised pass, plain dates kept as datetime64
        start, end, bad = _one_date(raw.str.strip(), native=True)
        return start, end, present & bad
    text = raw.astype(object).where(raw.notna(), None).str.strip()
    parts = text.str.split("/", n=1, regex=False)
    # a DD/MM/YYYY value has two slashes: not an interval
    is_interval = (text.str.count("/") == 1).fillna(False).to_numpy(dtype=bool)
    first = text.where(~is_interval, parts.str[0])
    second = pd.Series([None] * len(raw), dtype=object, index=raw.index).where(
        ~is_interval, parts.str[1]
    )
    start_a, end_a, bad_a = _one_date(first)
    start_b, end_b, bad_b = _one_date(second)
    start = start_a
    end = end_b.where(pd.Series(is_interval, index=raw.index), end_a)
    bad = present & (bad_a | (is_interval & bad_b))
    order_bad = present & ~bad & _later(start, end)
    bad |= order_bad
    start = start.where(~bad, None)
    end = end.where(~bad, None)
    return start.astype(object), end.astype(object), bad


def _later(start: pd.Series, end: pd.Series) -> np.ndarray:
    both = start.notna() & end.notna()
    out = np.zeros(len(start), dtype=bool)
    out[both.to_numpy()] = [s > e for s, e in zip(start[both], end[both], strict=True)]
    return out


def _one_date(text: pd.Series, native: bool = False) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Start dates, end dates and the mask of bad cells of ``text`` (no intervals): Python
    dates (None where missing), or, when ``native`` and every cell is a plain day, datetime64
    (NaT where missing): no Python object per cell, and Arrow takes them as they are."""
    present = text.notna().to_numpy()
    # fast path: plain YYYY-MM-DD, parsed in one vectorised call
    day = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    plain = day.notna().to_numpy()
    if plain.all() or (plain | ~present).all():
        years = day.dt.year.fillna(1900).to_numpy()
        bad = present & ((years < 1700) | (years > 2100))
        keep = plain & ~bad
        if native:
            days = day.where(keep)
            return days, days.copy(), bad
        values = np.where(keep, day.dt.date.to_numpy(dtype=object), None)
        dates = pd.Series(values, index=text.index, dtype=object)
        return dates, dates.copy(), bad
    iso = text.str.extract(_ISO_DATE)
    vn = text.str.extract(_VN_DATE)
    # a key "Y|M|D" per cell, parsed once per distinct value: dates repeat in occurrence files
    key = (iso[0] + "|" + iso[1].fillna("") + "|" + iso[2].fillna("")).fillna(
        vn[2] + "|" + vn[1] + "|" + vn[0]
    )
    ranges = {k: _date_range(*k.split("|")) for k in key.dropna().unique()}
    got = key.map(ranges, na_action="ignore")
    bad = present & got.isna().to_numpy()
    start = got.map(lambda r: r[0], na_action="ignore").astype(object)
    end = got.map(lambda r: r[1], na_action="ignore").astype(object)
    return start.where(~bad, None), end.where(~bad, None), bad


def _date_range(year: str, month: str, day: str) -> tuple[dt.date, dt.date] | None:
    try:
        y = int(year)
        if not 1700 <= y <= 2100:
            return None
        if not month:
            return dt.date(y, 1, 1), dt.date(y, 12, 31)
        mo = int(month)
        if not day:
            return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
        d = dt.date(y, mo, int(day))
        return d, d
    except ValueError:
        return None
