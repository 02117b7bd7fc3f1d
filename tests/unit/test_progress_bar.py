"""The command line's progress: a load in slices checks the next slice while it writes, and
must still show one bar from the first row written to the last, not a bar per slice."""

from __future__ import annotations

import pytest

from vbis_geo.cli import _ProgressBar


def test_a_sliced_load_shows_one_bar(capsys: pytest.CaptureFixture[str]) -> None:
    bar = _ProgressBar()
    total = 300_000
    bar("reading", 0, 1)
    bar("validating", 0, total)
    bar("copying", 0, total)
    bar("writing", 100_000, total)
    first = bar._bar
    assert first is not None
    for done in (200_000, 300_000):
        bar("validating", done - 100_000, total)  # the next slice, checked while writing
        bar("reprojecting", 0, 1)
        assert bar._bar is first
        bar("writing", done, total)
        assert bar._bar is first and first.pos == done  # type: ignore[attr-defined]
    bar("indexing", 0, 1)
    assert bar._bar is None
    bar.close()
    assert capsys.readouterr().err.count("writing") <= 2  # one bar (click prints its label)
