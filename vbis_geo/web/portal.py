"""The portal (``/``): one page with a MapLibre map of our own tiles, a layer switcher with
legends, search, click for information, the species of a reserve, what is here, the richness
choropleth, Vietnamese and English, a permalink, and login for editors (static/portal.js).

Everything it draws comes from this server: MapLibre from ``static/node_modules`` (installed
from npm at set-up), tiles and styles from ``/ogc``, the choropleth from ``/maps``, answers from
``/api``.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from vbis_geo import __version__
from vbis_geo.web.ogc import published_layers

bp = Blueprint("portal", __name__, template_folder="templates")

#: the layers the portal offers, bottom to top, and those shown at first
PORTAL_LAYERS = ("admin_units", "ecosystems", "wetlands", "planning_zones", "protected_areas",
                 "pa_zones", "conservation_facilities", "occurrences")  # fmt: skip
SHOWN = ("admin_units", "protected_areas", "occurrences")
TITLE = {
    "vi": "Hệ thống thông tin đa dạng sinh học quốc gia",
    "en": "National Biodiversity Information System of Vietnam",
}


@bp.get("/")
def index() -> str:
    lang = request.args.get("lang") or request.accept_languages.best_match(["vi", "en"]) or "vi"
    lang = "en" if lang == "en" else "vi"
    by_id = {layer.id: layer for layer in published_layers()}
    config = {
        "lang": lang,
        "version": __version__,
        "layers": [
            {"id": i, "title": by_id[i].title, "shown": i in SHOWN}
            for i in PORTAL_LAYERS
            if i in by_id and by_id[i].tiles
        ],
        # Vietnam with the Hoàng Sa and Trường Sa islands
        "bounds": [102.0, 6.8, 117.2, 23.6],
        "choropleth": "species_richness_by_province",
    }
    return render_template(
        "index.html", lang=lang, title=TITLE[lang], version=__version__, config=config
    )
