"""``GET /api/search?q=``: protected areas and taxa by name, diacritics optional (the portal's
search box; vbis_geo/analysis/search.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from vbis_geo.analysis.search import search
from vbis_geo.errors import InvalidInput
from vbis_geo.web import db

bp = Blueprint("search", __name__)


@bp.get("/search")
def search_names() -> Response:
    raw_limit = request.args.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise InvalidInput(f"limit={raw_limit!r}: expected a whole number from 1 to 50") from None
    found = search(db.connection(), request.args.get("q") or "", limit)
    return current_app.json.response(found)
