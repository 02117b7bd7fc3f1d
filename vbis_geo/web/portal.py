"""The portal page (``/``). The full map portal comes with the thematic-maps issue."""

from __future__ import annotations

from flask import Blueprint, render_template

from vbis_geo import __version__
from vbis_geo.web.ogc import published_layers

bp = Blueprint("portal", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    return render_template("index.html", layers=published_layers(), version=__version__)
