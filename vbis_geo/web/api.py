"""The spatial API blueprint (``/api``). Spatial questions arrive with the query issue."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from vbis_geo import __version__
from vbis_geo.db.engine import server_info
from vbis_geo.web import db

bp = Blueprint("api", __name__)


@bp.get("/health")
def health() -> Response:
    """Versions of the app, PostgreSQL and PostGIS; 503 when the database is unreachable."""
    info = server_info(db.engine())
    return jsonify(
        {
            "status": "ok",
            "version": __version__,
            "postgresql": info.postgresql,
            "postgis": info.postgis,
        }
    )
