"""Number cells: a column Arrow parses whole gives what the cell-by-cell patterns give.

A column whose every cell is a number is parsed by Arrow in one call; one bad cell sends the
column through the patterns (``_NUMBER``, ``_INTEGER``) cell by cell. Both ways must agree on
every value and every rejection, so each case is run alone (Arrow's way, where it parses) and
beside a bad cell (the patterns' way).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vbis_geo.ingest.values import _integer, _number

INT4 = (-(2**31), 2**31 - 1)


def _column(cells: list[str | None], storage: str) -> pd.Series:
    return pd.Series(cells, dtype="string[pyarrow]" if storage == "arrow" else object)


def _numbers(cells: list[str | None], storage: str) -> tuple[list[float | None], list[bool]]:
    raw = _column(cells, storage)
    values, bad = _number(raw, raw.notna().to_numpy())
    return [None if math.isnan(v) else v for v in values], list(bad)


@pytest.mark.parametrize("storage", ["arrow", "object"])
@pytest.mark.parametrize(
    ("cell", "value", "bad"),
    [
        ("1.5", 1.5, False),
        (" 2e3 ", 2000.0, False),
        ("-.5", -0.5, False),
        ("+3", 3.0, False),
        ("1.", 1.0, False),
        (None, None, False),
        ("inf", None, True),
        ("nan", None, True),
        ("1e400", None, True),  # beyond a double: infinite
    ],
)
def test_a_number_cell_reads_the_same_both_ways(storage: str, cell, value, bad) -> None:  # type: ignore[no-untyped-def]
    alone = _numbers([cell], storage)
    beside_a_bad_cell = _numbers([cell, "1,5"], storage)
    assert alone == ([value], [bad])
    assert beside_a_bad_cell == ([value, None], [bad, True])


@pytest.mark.parametrize(
    ("cells", "values", "bad", "outside"),
    [
        (["1", None, " 20 ", "+7", "-0"], [1, None, 20, 7, 0], [False] * 5, [False] * 5),
        (["2147483647", "2147483648"], [2**31 - 1, None], [False, False], [False, True]),
        (["-2147483649", "5"], [None, 5], [False, False], [True, False]),
        (["12.0", "x", "5"], [12, None, 5], [False, True, False], [False, False, False]),
        (["3000000000.0", "5"], [None, 5], [False, False], [True, False]),
    ],
)
def test_whole_numbers_and_the_column_range(cells, values, bad, outside) -> None:  # type: ignore[no-untyped-def]
    raw = _column(cells, "arrow")
    got, got_bad, got_outside = _integer(raw, raw.notna().to_numpy(), INT4)
    assert list(got) == values
    assert list(got_bad) == bad and list(got_outside) == outside
    assert np.asarray(got_bad & got_outside).sum() == 0  # one reason per cell
