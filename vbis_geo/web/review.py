"""``/api/review``: the review queue and review decisions (vbis_geo/review.py).

* ``GET /api/review/<layer>?limit=&offset=``: the drafts of the layer the caller may review,
  oldest first, as a GeoJSON FeatureCollection with ``numberMatched``;
* ``POST /api/review/<layer>/<id>`` with JSON ``{"action": "publish"|"reject", "reason":
  "..."}``: publishes or rejects a draft (a rejection needs a reason); answers the row's review
  state.

Both need an account (401 for the public); who may review what is :mod:`vbis_geo.review`'s
rule, checked by the database too (403 beyond it).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from vbis_geo import review
from vbis_geo.auth import require_editing_role
from vbis_geo.errors import InvalidInput
from vbis_geo.web import db
from vbis_geo.web.accounts import principal

bp = Blueprint("review", __name__)


@bp.get("/review/<layer>")
def review_queue(layer: str) -> Response:
    who = principal()
    require_editing_role(who, "the review queue")
    limit = _whole_number("limit", review.DEFAULT_LIMIT)
    offset = _whole_number("offset", 0)
    page = review.queue(db.connection(), who, layer, limit=limit, offset=offset)
    return jsonify(page.as_geojson())


@bp.post("/review/<layer>/<row_id>")
def review_row(layer: str, row_id: str) -> Response:
    who = principal()
    require_editing_role(who, "reviewing")
    review.reviewed_table(layer)
    if not row_id.isascii() or not row_id.isdigit():
        raise InvalidInput(f"id {row_id!r}: expected a whole number (the row's id)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(
            "expected a JSON object",
            hint='{"action": "publish"} or {"action": "reject", "reason": "..."}',
        )
    action, reason = body.get("action"), body.get("reason")
    if not isinstance(action, str):
        raise InvalidInput("action: expected publish or reject")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason: expected text")
    with db.engine().begin() as conn:
        decision = review.decide(conn, who, layer, int(row_id), action, reason)
    return jsonify(decision.as_dict())


def _whole_number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(f"{name}={raw!r}: expected a whole number")
    return int(raw)
