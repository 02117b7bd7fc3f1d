"""Classification of numbers into classes for graduated symbols: equal interval, quantiles and
natural breaks (Fisher-Jenks).

Each method returns the *upper bounds* of the classes, ascending, the last one the maximum, as
QGIS's graduated renderer and mapclassify do: a value ``v`` is in class ``i`` when
``bounds[i-1] < v <= bounds[i]`` (the first class from the minimum). There may be fewer classes
than asked when the values do not allow as many (three distinct values make at most three).

>>> equal_interval([0, 10, 20, 40], 4)
[10.0, 20.0, 30.0, 40.0]
>>> quantiles([1, 2, 3, 4, 5, 6, 7, 8], 4)
[2.0, 4.0, 6.0, 8.0]
>>> natural_breaks([1, 2, 3, 10, 11, 12, 30, 31], 3)
[3.0, 12.0, 31.0]
>>> class_of(11, [3.0, 12.0, 31.0])
1
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

import numpy as np

from vbis_geo.errors import InvalidInput

#: above this many distinct values, natural breaks are computed on an evenly spaced sample of
#: the sorted values (the exact method takes time quadratic in their number)
NATURAL_BREAKS_SAMPLE = 2000


def _values(values: Sequence[float]) -> np.ndarray:
    array = np.asarray([v for v in values if v is not None], dtype=float)
    array = array[np.isfinite(array)]
    if array.size == 0:
        raise InvalidInput("no numbers to classify")
    return np.sort(array)


def _check_classes(classes: int) -> None:
    if not 1 <= classes <= 12:
        raise InvalidInput(f"{classes} classes: expected 1 to 12")


def equal_interval(values: Sequence[float], classes: int) -> list[float]:
    """Classes of equal width between the minimum and the maximum."""
    _check_classes(classes)
    array = _values(values)
    low, high = float(array[0]), float(array[-1])
    if low == high:
        return [high]
    width = (high - low) / classes
    return [low + width * i for i in range(1, classes)] + [high]


def quantiles(values: Sequence[float], classes: int) -> list[float]:
    """Classes holding (as nearly as ties allow) the same number of values."""
    _check_classes(classes)
    array = _values(values)
    bounds = [
        float(np.quantile(array, i / classes, method="inverted_cdf")) for i in range(1, classes)
    ]
    return _distinct([*bounds, float(array[-1])])


def natural_breaks(values: Sequence[float], classes: int) -> list[float]:
    """Classes that minimise the sum of squared deviations from their means (Fisher 1958,
    "On grouping for maximum homogeneity"; Jenks 1977): the exact optimum, by dynamic
    programming over the sorted values."""
    _check_classes(classes)
    array = _values(values)
    distinct = np.unique(array)
    if distinct.size <= classes:
        return [float(v) for v in distinct]
    if array.size > NATURAL_BREAKS_SAMPLE:
        picks = np.linspace(0, array.size - 1, NATURAL_BREAKS_SAMPLE).round().astype(int)
        array = array[np.unique(picks)]
    n = array.size
    prefix = np.concatenate([[0.0], np.cumsum(array)])
    prefix_sq = np.concatenate([[0.0], np.cumsum(array * array)])

    def sse(i: np.ndarray | int, j: int) -> np.ndarray | float:
        """Squared deviations of array[i:j] from its mean (i < j)."""
        count = j - i
        total = prefix[j] - prefix[i]
        return prefix_sq[j] - prefix_sq[i] - total * total / count

    # cost[k][j]: the least total for array[:j] in k + 1 classes; cut[k][j]: where its last
    # class starts
    cost = np.full((classes, n + 1), math.inf)
    cut = np.zeros((classes, n + 1), dtype=int)
    for j in range(1, n + 1):
        cost[0][j] = sse(0, j)
    for k in range(1, classes):
        for j in range(k + 1, n + 1):
            starts = np.arange(k, j)  # the last class is array[start:j]
            totals = cost[k - 1][starts] + sse(starts, j)
            best = int(np.argmin(totals))
            cost[k][j] = totals[best]
            cut[k][j] = starts[best]
    bounds = []
    end = n
    for k in range(classes - 1, -1, -1):
        bounds.append(float(array[end - 1]))
        end = cut[k][end]
    return _distinct(sorted(bounds))


METHODS: dict[str, Callable[[Sequence[float], int], list[float]]] = {
    "equal_interval": equal_interval,
    "quantiles": quantiles,
    "natural_breaks": natural_breaks,
}


def classify(values: Sequence[float], method: str, classes: int) -> list[float]:
    """The upper bounds of ``classes`` classes of ``values`` by ``method`` (a key of
    :data:`METHODS`)."""
    if method not in METHODS:
        raise InvalidInput(
            f"unknown classification method {method!r}", hint=f"one of {', '.join(METHODS)}"
        )
    return METHODS[method](values, classes)


def class_of(value: float, bounds: Sequence[float]) -> int:
    """The index of the class of ``value`` (values above the last bound go in the last class)."""
    return min(bisect.bisect_left(list(bounds), value), len(bounds) - 1)


def _distinct(bounds: list[float]) -> list[float]:
    out: list[float] = []
    for bound in bounds:
        if not out or bound > out[-1]:
            out.append(bound)
    return out
