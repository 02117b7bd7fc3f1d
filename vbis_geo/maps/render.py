"""A composed map as a PNG or a PDF for reports: title, map, legend, scale bar, north arrow,
attribution and date, drawn with matplotlib.

The map is drawn in longitude and latitude with the aspect of the map's middle latitude (an
equirectangular view: at Vietnam's latitudes a kilometre east and a kilometre north differ on
the page by under 8 % between its north and south ends), so that the scale bar, measured at that
latitude, holds across the map to that precision. Text is set in DejaVu Sans, which matplotlib
ships and which holds every Vietnamese letter with its tone marks; in a PDF the fonts are
embedded (TrueType, Type 42) so the text can be searched and copied.

Paper sizes are ISO 216 (A4 210 x 297 mm, A3 297 x 420 mm).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

from vbis_geo.errors import InvalidInput
from vbis_geo.maps.compose import ComposedLayer, ComposedMap

#: ISO 216 paper sizes, portrait, in millimetres
PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
MM_PER_INCH = 25.4
#: the largest PNG side in pixels
MAX_PIXELS = 6000
#: the islands official maps of Vietnam name (lon, lat of the label)
ISLAND_LABELS = {
    "vi": (("Quần đảo Hoàng Sa", 111.9, 16.85), ("Quần đảo Trường Sa", 114.2, 10.2)),
    "en": (
        ("Hoang Sa (Paracel) Islands", 111.9, 16.85),
        ("Truong Sa (Spratly) Islands", 114.2, 10.2),
    ),
}
FONT = "DejaVu Sans"


def page_size_inches(paper: str, orientation: str) -> tuple[float, float]:
    """Width and height of ``paper`` (A4, A3) in ``orientation`` (portrait, landscape)."""
    if paper not in PAPER_MM:
        raise InvalidInput(f"paper {paper!r}: expected {' or '.join(PAPER_MM)}")
    if orientation not in ("portrait", "landscape"):
        raise InvalidInput(f"orientation {orientation!r}: expected portrait or landscape")
    width, height = PAPER_MM[paper]
    if orientation == "landscape":
        width, height = height, width
    return width / MM_PER_INCH, height / MM_PER_INCH


def render_png(composed: ComposedMap, width_px: int, height_px: int, dpi: int = 150) -> bytes:
    """The map as a PNG of ``width_px`` x ``height_px`` pixels."""
    for name, value in (("width", width_px), ("height", height_px)):
        if not 200 <= value <= MAX_PIXELS:
            raise InvalidInput(f"{name}={value}: expected 200 to {MAX_PIXELS} pixels")
    figure = _draw(composed, width_px / dpi, height_px / dpi)
    return _save(figure, "png", dpi=dpi)


def render_pdf(composed: ComposedMap, paper: str = "A4", orientation: str = "landscape") -> bytes:
    """The map as a one-page PDF on ``paper`` in ``orientation``."""
    width, height = page_size_inches(paper, orientation)
    figure = _draw(composed, width, height)
    return _save(figure, "pdf", dpi=300)


def _save(figure: Any, fmt: str, dpi: int) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        metadata = {"Title": figure.get_label(), "Creator": "vbis-geo"} if fmt == "pdf" else None
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def _draw(composed: ComposedMap, width_in: float, height_in: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: the server draws to files
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": FONT,
            "pdf.fonttype": 42,
            "svg.fonttype": "none",
            "axes.unicode_minus": False,
        }
    )
    figure = plt.figure(figsize=(width_in, height_in), label=composed.title)
    short = min(width_in, height_in)
    text_pt = max(7.0, short * 1.4)
    figure.text(0.02, 0.975, composed.title, fontsize=text_pt * 1.6, weight="bold", va="top")
    if composed.subtitle:
        figure.text(0.02, 0.935, composed.subtitle, fontsize=text_pt * 1.1, va="top")
    legend_width = 0.27 if width_in >= height_in else 0.0
    map_box = (0.02, 0.08, 0.96 - legend_width - 0.01, 0.82)
    if legend_width == 0.0:  # portrait: the legend goes under the map
        map_box = (0.04, 0.3, 0.92, 0.6)
    ax = figure.add_axes(map_box)
    west, south, east, north = composed.definition.bbox
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    middle = math.radians((south + north) / 2)
    ax.set_aspect(1 / math.cos(middle))
    ax.set_facecolor("#dfeef5")
    ax.set_xticks([])
    ax.set_yticks([])
    placed: list[Any] = []  # the labels written so far, as boxes on the page
    for item in composed.layers:
        _draw_layer(ax, item, text_pt, placed)
    ax.set_xlabel("")  # geopandas names the axes after the CRS; a map needs no axis titles
    ax.set_ylabel("")
    for name, lon, lat in ISLAND_LABELS[composed.lang]:
        if west <= lon <= east and south <= lat <= north:
            ax.text(lon, lat, name, fontsize=text_pt * 0.8, style="italic", ha="center",
                    color="#37474f")  # fmt: skip
    _scale_bar(ax, middle, text_pt)
    _north_arrow(ax, text_pt)
    if legend_width:
        _legend(figure, composed, (0.97 - legend_width, 0.08, legend_width, 0.82), text_pt)
    else:
        _legend(figure, composed, (0.04, 0.06, 0.92, 0.22), text_pt)
    footer = f"{composed.attribution}. " + (
        f"Lập ngày {dt.date.today():%d/%m/%Y}" if composed.lang == "vi"
        else f"Made on {dt.date.today():%d %B %Y}"
    )  # fmt: skip
    figure.text(0.02, 0.015, footer, fontsize=text_pt * 0.75, color="#424242")
    return figure


def _draw_layer(ax: Any, item: ComposedLayer, text_pt: float, placed: list[Any]) -> None:
    import geopandas as gpd
    from shapely.geometry import shape

    if not item.features:
        return
    s = item.map_layer.symbology
    shapes, colours, sizes, ranks = [], [], [], []
    for feature in item.features:
        colour = item.rule.colour_of(feature["properties"])
        if colour is None:
            continue
        shapes.append(shape(feature["geometry"]))
        colours.append(colour)
        sizes.append(item.rule.radius_of(feature["properties"], s.radius))
        ranks.append(int(feature["properties"].get("rank", 0)))
    if not shapes:
        return
    frame = gpd.GeoDataFrame({"colour": colours}, geometry=shapes, crs="EPSG:4326")
    if item.points:
        # marker sizes in points squared; a title's dots sit side by side by their rank, a
        # dot's width apart
        width_pt = ax.get_window_extent().width * 72 / ax.figure.dpi
        step = (2 * s.radius + 1) * (ax.get_xlim()[1] - ax.get_xlim()[0]) / width_pt
        xs = [g.x + r * step for g, r in zip(frame.geometry, ranks, strict=True)]
        ys = [g.y for g in frame.geometry]
        ax.scatter(xs, ys, s=[(2 * r) ** 2 for r in sizes], c=colours, edgecolors=s.outline,
                   linewidths=0.5, alpha=s.opacity, zorder=3)  # fmt: skip
    else:
        edge = "none" if s.kind == "density" else s.outline
        frame.plot(ax=ax, color=frame["colour"], edgecolor=edge, linewidth=0.4, alpha=s.opacity)
    if item.map_layer.label_field:
        _labels(ax, item, shapes, text_pt, placed)


def _labels(
    ax: Any, item: ComposedLayer, shapes: list[Any], text_pt: float, placed: list[Any]
) -> None:
    """Label features, largest first, leaving out a label that would overlap one already
    written (the usual greedy placement: at a national scale most small areas go unlabelled
    rather than under each other's names)."""
    renderer = ax.figure.canvas.get_renderer()
    features = [f for f in item.features if item.rule.colour_of(f["properties"]) is not None]
    order = sorted(range(len(shapes)), key=lambda i: -shapes[i].area)
    for i in order:
        text = features[i]["properties"].get(item.map_layer.label_field)
        if not text:
            continue
        point = shapes[i].representative_point()
        label = ax.annotate(str(text), (point.x, point.y), fontsize=text_pt * 0.6,
                            color="#212121", ha="center", va="bottom", xytext=(0, 2),
                            textcoords="offset points")  # fmt: skip
        box = label.get_window_extent(renderer).expanded(1.05, 1.15)
        if any(box.overlaps(other) for other in placed) or not ax.bbox.contains(box.x0, box.y0):
            label.remove()
        else:
            placed.append(box)


def _scale_bar(ax: Any, middle_lat_rad: float, text_pt: float) -> None:
    """A bar of a round number of kilometres, about a fifth of the map's width, measured at
    the map's middle latitude."""
    west, east = ax.get_xlim()
    south, north = ax.get_ylim()
    km_per_degree = 111.32 * math.cos(middle_lat_rad)
    target_km = (east - west) * km_per_degree / 5
    length_km = max(
        (n * 10**e for e in range(0, 5) for n in (1, 2, 5) if n * 10**e <= target_km), default=1
    )
    length_deg = length_km / km_per_degree
    x0 = west + (east - west) * 0.04
    y0 = south + (north - south) * 0.04
    ax.plot([x0, x0 + length_deg], [y0, y0], color="#212121", linewidth=2.5, solid_capstyle="butt")
    for x in (x0, x0 + length_deg / 2, x0 + length_deg):
        ax.plot([x, x], [y0, y0 + (north - south) * 0.008], color="#212121", linewidth=1)
    ax.text(x0 + length_deg / 2, y0 + (north - south) * 0.015, f"{length_km:g} km",
            ha="center", va="bottom", fontsize=text_pt * 0.8)  # fmt: skip


def _north_arrow(ax: Any, text_pt: float) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=text_pt * 1.1,
        weight="bold",
        arrowprops={"facecolor": "#212121", "width": 3, "headwidth": 10, "headlength": 10},
    )


def _legend(figure: Any, composed: ComposedMap, box: tuple[float, ...], text_pt: float) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax = figure.add_axes(box)
    ax.axis("off")
    handles: list[Any] = []
    labels: list[str] = []
    for item in reversed(composed.layers):  # the top layer first, as the map shows it
        if item.rule.kind != "single":  # a single symbol's entry is the layer's title itself
            handles.append(Patch(visible=False))
            labels.append(item.map_layer.title[composed.lang])
        for entry in item.legend:
            if entry.shape == "circle":
                handles.append(Line2D([], [], marker="o", linestyle="none",
                                      markerfacecolor=entry.colour, markeredgecolor="#424242",
                                      markersize=min(2 * entry.radius, 18)))  # fmt: skip
            else:
                handles.append(Patch(facecolor=entry.colour, edgecolor="#616161", linewidth=0.5))
            labels.append(entry.label)
    legend = ax.legend(
        handles,
        labels,
        loc="upper left",
        frameon=False,
        fontsize=text_pt * 0.8,
        title="Chú giải" if composed.lang == "vi" else "Legend",
        title_fontsize=text_pt,
        alignment="left",
        ncols=1 if box[2] < 0.5 else 3,
    )
    for text, handle in zip(legend.get_texts(), handles, strict=True):
        if isinstance(handle, Patch) and not handle.get_visible():
            text.set_fontweight("bold")
