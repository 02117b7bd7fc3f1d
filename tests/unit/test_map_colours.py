"""The colour schemes of thematic maps stay readable with colour-vision deficiency (simulated by
Machado et al. 2009, tests/unit/cvd.py), and the classifications are those their definitions
give, checked by exhaustive search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.unit.cvd import delta_e, lab
from vbis_geo.errors import InvalidInput
from vbis_geo.maps.classify import class_of, classify, equal_interval, natural_breaks, quantiles
from vbis_geo.maps.colours import QUALITATIVE, SEQUENTIAL, qualitative, sequential

VISIONS = (None, "protanopia", "deuteranopia", "tritanopia")


@pytest.mark.parametrize("name", QUALITATIVE)
@pytest.mark.parametrize("vision", VISIONS)
def test_categories_stay_apart_for_every_vision(name, vision):
    colours = qualitative(name, len(QUALITATIVE[name]))
    closest = min(delta_e(a, b, vision) for a, b in itertools.combinations(colours, 2))
    # a CIELAB difference of 15 is plainly visible side by side on a map
    assert closest >= 15, (name, vision, closest)


@pytest.mark.parametrize("name", SEQUENTIAL)
@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("count", range(2, 8))
def test_ramps_stay_ordered_by_lightness_for_every_vision(name, vision, count):
    lightness = [lab(c, vision)[0] for c in sequential(name, count)]
    steps = np.diff(lightness)
    assert (steps > 0).all() or (steps < 0).all(), (name, vision, lightness)
    assert np.abs(steps).min() >= 5, (name, vision, lightness)


def test_too_many_categories_for_a_palette_are_refused():
    with pytest.raises(InvalidInput, match="has 7 colours, 8 categories"):
        qualitative("okabe_ito", 8)
    with pytest.raises(InvalidInput, match="unknown ramp 'rainbow'"):
        sequential("rainbow", 5)


def _sse(groups: list[list[float]]) -> float:
    return sum(float(((np.array(g) - np.mean(g)) ** 2).sum()) for g in groups)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("classes", [2, 3, 4])
def test_natural_breaks_are_the_optimum_of_every_partition(seed, classes):
    values = sorted(np.random.default_rng(seed).gamma(2.0, 10.0, size=11).round(2).tolist())
    best = min(
        _sse([values[a:b] for a, b in zip((0, *cuts), (*cuts, len(values)), strict=True)])
        for cuts in itertools.combinations(range(1, len(values)), classes - 1)
    )
    bounds = natural_breaks(values, classes)
    groups: list[list[float]] = [[] for _ in bounds]
    for v in values:
        groups[class_of(v, bounds)].append(v)
    assert _sse(groups) == pytest.approx(best)
    assert bounds[-1] == max(values)


def test_equal_interval_and_quantiles_by_their_definitions():
    values = [3.0, 7.0, 1.0, 9.0, 5.0, 2.0, 8.0, 4.0, 6.0, 10.0]
    assert equal_interval(values, 3) == pytest.approx([4.0, 7.0, 10.0])
    bounds = quantiles(values, 5)
    counts = np.bincount([class_of(v, bounds) for v in values], minlength=len(bounds))
    assert counts.tolist() == [2, 2, 2, 2, 2]


def test_fewer_classes_when_the_values_allow_no_more():
    assert natural_breaks([1, 1, 2, 2, 3], 5) == [1.0, 2.0, 3.0]
    assert quantiles([4, 4, 4, 4, 9], 4) == [4.0, 9.0]
    assert equal_interval([6, 6, 6], 4) == [6.0]


def test_bad_classifications_name_the_problem():
    with pytest.raises(InvalidInput, match="unknown classification method 'jenks'"):
        classify([1, 2, 3], "jenks", 3)
    with pytest.raises(InvalidInput, match="13 classes: expected 1 to 12"):
        classify([1, 2, 3], "quantiles", 13)
    with pytest.raises(InvalidInput, match="no numbers to classify"):
        classify([None, float("nan")], "quantiles", 3)  # type: ignore[list-item]


@pytest.mark.parametrize("module", ["vbis_geo.maps.classify", "vbis_geo.maps.compose"])
def test_the_examples_in_the_docstrings_hold(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
