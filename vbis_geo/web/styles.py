"""Map styles of the collections, beside pygeoapi under ``/ogc`` (paths of OGC API Styles):

* ``GET /ogc/collections/{id}/styles`` -- the styles of a collection (one: ``default``);
* ``GET /ogc/collections/{id}/styles/default`` -- its MapLibre style (``?lang=vi|en``).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from werkzeug.wrappers import Response

from vbis_geo.catalog import Layer
from vbis_geo.publish.styles import STYLE_MEDIA_TYPE, maplibre_style
from vbis_geo.web.ogc import published_layers

bp = Blueprint("styles", __name__)


def _layer(collection_id: str) -> Layer:
    layer = next((lay for lay in published_layers() if lay.id == collection_id), None)
    if layer is None or layer.tiles is None:
        abort(404, description=f"no styled collection {collection_id!r}")
    return layer


def _lang() -> str:
    asked = request.args.get("lang") or request.accept_languages.best_match(["vi", "en"]) or "vi"
    return "en" if asked.lower().startswith("en") else "vi"


@bp.get("/collections/<collection_id>/styles")
def styles(collection_id: str) -> Response:
    layer = _layer(collection_id)
    ogc_url = current_app.config["VBIS_SETTINGS"].ogc_url
    href = f"{ogc_url}/collections/{layer.id}/styles/default"
    body = {
        "styles": [
            {
                "id": "default",
                "title": layer.title[_lang()],
                "links": [
                    {"rel": "stylesheet", "type": STYLE_MEDIA_TYPE, "href": f"{href}?f=mapbox"}
                ],
            }
        ]
    }
    return current_app.json.response(body)


@bp.get("/collections/<collection_id>/styles/<style_id>")
def style(collection_id: str, style_id: str) -> Response:
    layer = _layer(collection_id)
    if style_id != "default":
        abort(404, description=f"no style {style_id!r} of {collection_id!r} (there is 'default')")
    ogc_url = current_app.config["VBIS_SETTINGS"].ogc_url
    response = current_app.json.response(maplibre_style(layer, ogc_url, _lang()))
    response.mimetype = STYLE_MEDIA_TYPE
    return response
