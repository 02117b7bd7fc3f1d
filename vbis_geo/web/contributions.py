"""``POST /api/contributions``: a sighting sent by anyone, with or without an account.

The national system takes contributions from the public, reviewed before publication
(../shared/DOMAIN.md). The body is a JSON object: ``scientific_name`` (a taxon of the checklist,
any status), ``lon`` and ``lat`` (WGS 84, within Vietnam and its waters), ``event_date``
(YYYY-MM-DD, not in the future), and optionally ``individual_count``, ``recorded_by`` and
``occurrence_remarks``. The record goes in as a draft, invisible to every public answer until a
reviewer publishes it (``/api/review/occurrences``); the answer is 201 with its id.

Without an account it is written by the database's writer role with no account, which may
insert draft occurrences and nothing else (migration 0015); an account's contribution goes
through the same rules as its other writes (``writer``), so an expert's is a draft too, and an
editor outside its scope is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request

from vbis_geo.analysis.inputs import plain_text
from vbis_geo.db.lookups import find_taxon
from vbis_geo.errors import InvalidInput
from vbis_geo.publish.config import VIETNAM_BBOX
from vbis_geo.web import db
from vbis_geo.web.accounts import principal

bp = Blueprint("contributions", __name__)

FIELDS = {
    "scientific_name", "lon", "lat", "event_date", "individual_count", "recorded_by",
    "occurrence_remarks",
}  # fmt: skip
MAX_TEXT = 2000


def _number(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name}: expected a number (WGS 84 degrees)")
    return float(value)


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidInput(f"{name}: expected a text of 1 to {MAX_TEXT} characters")
    plain_text(name, value, "a text")
    return value.strip()


@bp.post("/contributions")
def contribute() -> tuple[Response, int]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object: scientific_name, lon, lat, event_date")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InvalidInput(f"unknown fields {unknown}", hint=f"fields: {', '.join(sorted(FIELDS))}")
    lon, lat = _number(body, "lon"), _number(body, "lat")
    west, south, east, north = VIETNAM_BBOX
    if not (west <= lon <= east and south <= lat <= north):
        raise InvalidInput(f"lon={lon}, lat={lat}: outside Vietnam and its waters")
    raw_date = _text(body, "event_date", required=True) or ""
    try:
        event_date = dt.date.fromisoformat(raw_date)
    except ValueError:
        raise InvalidInput(f"event_date={raw_date!r}: expected a date as YYYY-MM-DD") from None
    if event_date > dt.date.today():
        raise InvalidInput(f"event_date={raw_date}: in the future")
    count = body.get("individual_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 0 <= count <= 1_000_000):  # fmt: skip
        raise InvalidInput("individual_count: expected a whole number from 0")
    conn = db.connection()
    taxon_id = find_taxon(conn, _text(body, "scientific_name", required=True) or "")
    values = {
        "oid": f"contribution:{uuid.uuid4()}",
        "taxon": taxon_id,
        "date": event_date,
        "count": count,
        "by": _text(body, "recorded_by"),
        "remarks": _text(body, "occurrence_remarks"),
        "lon": lon,
        "lat": lat,
    }
    who = principal()
    insert = sa.text(
        "INSERT INTO occurrences (occurrence_id, taxon_id, basis_of_record, event_date, "
        "individual_count, recorded_by, occurrence_remarks, geom, review_status) VALUES "
        "(:oid, :taxon, 'HumanObservation', :date, :count, :by, :remarks, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'draft') RETURNING id"
    )
    with db.engine().connect() as own, own.begin():
        if who.is_authenticated:
            from vbis_geo.auth.writer import writer

            with writer(own, who, "contribution through the portal", row="a contribution"):
                new_id = own.execute(insert, values).scalar_one()
        else:
            from vbis_geo.auth.writer import public_contribution

            with public_contribution(own, "contribution from the public"):
                new_id = own.execute(insert, values).scalar_one()
    answer = {"id": new_id, "occurrence_id": values["oid"], "review_status": "draft"}
    return current_app.json.response(answer), 201
