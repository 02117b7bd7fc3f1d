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

One address may send :data:`PUBLIC_LIMIT` contributions an hour without an account (429 with
``Retry-After`` beyond); the count keeps a keyed digest of the address, never the address.
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from sqlalchemy.engine import Connection

from vbis_geo.analysis.inputs import plain_text
from vbis_geo.auth.limits import Limit
from vbis_geo.db.lookups import find_taxon
from vbis_geo.errors import InvalidInput
from vbis_geo.publish.config import VIETNAM_BBOX
from vbis_geo.web import db
from vbis_geo.web.accounts import principal

bp = Blueprint("contributions", __name__)

#: Contributions without an account accepted from one client address per window; an account's
#: are not counted (it answers for them, and its scope applies)
PUBLIC_LIMIT = 30
PUBLIC_WINDOW = dt.timedelta(hours=1)

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


def count_public_contribution(conn: Connection, client_address: str) -> None:
    """Count one contribution without an account from ``client_address`` in the transaction
    that writes it; raises :class:`TooManyAttempts` (nothing counted) past :data:`PUBLIC_LIMIT`
    in :data:`PUBLIC_WINDOW`. The address is kept only as a keyed digest."""
    key = str(current_app.secret_key or "").encode()
    subject = hmac.new(key, f"contribution\x00{client_address}".encode(), "sha256").digest()
    # one count at a time per address: two requests at once cannot both take the last place
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:s AS text), 0))"),
        {"s": subject.hex()},
    )
    sent = Limit("public_contributions", "sent_at", PUBLIC_LIMIT, PUBLIC_WINDOW)
    sent.check(
        conn,
        subject,
        f"too many contributions from this address: {PUBLIC_LIMIT} an hour without an account",
        "wait, or log in: an account's contributions are not limited",
    )
    sent.count(conn, subject)


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
        if not who.is_authenticated:
            count_public_contribution(own, request.remote_addr or "")
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
