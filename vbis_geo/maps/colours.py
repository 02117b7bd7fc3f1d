"""Colour schemes of thematic maps, all readable by people with colour-vision deficiency.

Categorised symbols take a qualitative palette, graduated ones a sequential ramp:

* ``okabe_ito``: the eight colours of Okabe & Ito (2008), "Color Universal Design (CUD): how to
  make figures and presentations that are friendly to colorblind people"
  (https://jfly.uni-koeln.de/color/), black left out since it is the colour of outlines and
  labels.
* ``tol_muted``: Paul Tol's "muted" qualitative scheme (Tol 2021, "Colour schemes", SRON
  technical note SRON/EPS/TN/09-002, figure 4), for more than seven categories.
* ``viridis`` and ``cividis``: perceptually uniform sequential ramps, the first by van der Walt
  & Smith (2015, matplotlib's default), the second optimised for colour-vision deficiency
  (Nuñez, Anderton & Renslow 2018, PLOS ONE 13(7): e0199239). Sampled from matplotlib.
* ``ylgnbu`` and ``greens``: ColorBrewer sequential schemes marked "colorblind safe" (Brewer,
  colorbrewer2.org; the 9-class hex values).

``tests/unit/test_map_colours.py`` checks every scheme under simulated protanopia,
deuteranopia and tritanopia (Machado, Oliveira & Fernandes 2009): neighbouring classes stay
apart, and a sequential ramp stays ordered by lightness.
"""

from __future__ import annotations

from vbis_geo.errors import InvalidInput

QUALITATIVE: dict[str, tuple[str, ...]] = {
    "okabe_ito": (
        "#E69F00",  # orange
        "#56B4E9",  # sky blue
        "#009E73",  # bluish green
        "#F0E442",  # yellow
        "#0072B2",  # blue
        "#D55E00",  # vermillion
        "#CC79A7",  # reddish purple
    ),
    "tol_muted": (
        "#CC6677",  # rose
        "#332288",  # indigo
        "#DDCC77",  # sand
        "#117733",  # green
        "#88CCEE",  # cyan
        "#882255",  # wine
        "#44AA99",  # teal
        "#999933",  # olive
        "#AA4499",  # purple
    ),
}

#: ColorBrewer 9-class sequential schemes (light to dark)
_BREWER: dict[str, tuple[str, ...]] = {
    "ylgnbu": (
        "#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4",
        "#1d91c0", "#225ea8", "#253494", "#081d58",
    ),
    "greens": (
        "#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476",
        "#41ab5d", "#238b45", "#006d2c", "#00441b",
    ),
}  # fmt: skip
#: ramps sampled from matplotlib's colour maps
_MATPLOTLIB = ("viridis", "cividis")
SEQUENTIAL = (*_MATPLOTLIB, *_BREWER)


def qualitative(name: str, count: int) -> list[str]:
    """``count`` colours of the qualitative palette ``name``."""
    if name not in QUALITATIVE:
        raise InvalidInput(f"unknown palette {name!r}", hint=f"one of {', '.join(QUALITATIVE)}")
    palette = QUALITATIVE[name]
    if count > len(palette):
        raise InvalidInput(
            f"palette {name!r} has {len(palette)} colours, {count} categories asked",
            hint="group the rarer categories, or use tol_muted (9 colours)",
        )
    return list(palette[:count])


def sequential(name: str, count: int, *, reverse: bool = False) -> list[str]:
    """``count`` colours spread evenly along the sequential ramp ``name``, light to dark for
    the ColorBrewer ramps, dark to light for viridis and cividis (``reverse`` flips)."""
    if name not in SEQUENTIAL:
        raise InvalidInput(f"unknown ramp {name!r}", hint=f"one of {', '.join(SEQUENTIAL)}")
    if count < 1:
        raise InvalidInput(f"{count} colours: expected at least 1")
    positions = [0.5] if count == 1 else [i / (count - 1) for i in range(count)]
    if name in _BREWER:
        stops = _BREWER[name]
        # skip the palest stop, too close to the white of the page for a filled area
        colours = [stops[1 + round(p * (len(stops) - 2))] for p in positions]
    else:
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        cmap = colormaps[name]
        colours = [to_hex(cmap(0.1 + 0.85 * p)).upper() for p in positions]
    colours = [c.upper() for c in colours]
    return colours[::-1] if reverse else colours
