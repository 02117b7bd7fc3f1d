"""Spatial questions under ``/api`` (vbis_geo/analysis): JSON by default, CSV where tabular.

Paths are kept stable for clients and the portal:

* ``GET /api/protected-areas/{code}/species`` -- species in a protected area;
* ``GET /api/taxa/{id}/protected-areas`` -- protected areas where a taxon is recorded.

Every question is answered for the audience of the principal asking (:func:`asking`: the
public unless the account may see exact locations), from that audience's records at the points
it may see (:mod:`vbis_geo.analysis.access`). An answer to an account is marked
``Cache-Control: private`` (:func:`private_to_accounts`), so that no shared cache hands it to
anyone else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request

from vbis_geo.analysis import species as species_q
from vbis_geo.analysis.access import Audience, audience
from vbis_geo.analysis.assignment import ensure_current
from vbis_geo.analysis.inputs import plain_text
from vbis_geo.analysis.search import like_escape
from vbis_geo.analysis.taxa import TaxonFilter
from vbis_geo.errors import InvalidInput
from vbis_geo.web import db
from vbis_geo.web.accounts import principal

bp = Blueprint("questions", __name__)

FORMATS = ("json", "csv")


def asking() -> Audience:
    """The audience of the request's principal (the public without an account)."""
    return audience(principal())


def private_to_accounts(response: Response) -> Response:
    """An answer to an account depends on who asked: ``Cache-Control: private`` (an
    ``after_request`` hook of each blueprint of answers)."""
    if principal().is_authenticated:
        response.headers["Cache-Control"] = "private"
        response.vary.update(("Authorization", "Cookie"))
    return response


bp.after_request(private_to_accounts)


def as_of_arg(name: str = "as_of") -> dt.date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name}={raw!r}: expected a date as YYYY-MM-DD") from None


def output_format(allowed: tuple[str, ...] = FORMATS) -> str:
    fmt = (request.args.get("f") or "").lower()
    if not fmt:
        fmt = "csv" if request.accept_mimetypes.best == "text/csv" else "json"
    if fmt not in allowed:
        raise InvalidInput(f"f={fmt!r}: expected one of {', '.join(allowed)}")
    return fmt


def csv_response(rows: Iterable[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """Rows as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read Vietnamese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _current() -> None:
    """Make the record-to-area assignment current before a question reads it."""
    ensure_current(db.engine(), conn=db.connection())


SPECIES_COLUMNS = [
    "taxon_id", "scientific_name", "authorship", "vernacular_name_vi", "vernacular_name_en",
    "kingdom", "phylum", "class", "order", "family", "records", "first_record", "last_record",
    "uncertain_records",
]  # fmt: skip
STATUS_COLUMNS = [
    "iucn_red_list", "vn_red_data_book", "priority_protected", "forest_law_group", "cites",
    "endemic", "invasive_alien", "migratory",
]  # fmt: skip


@bp.get("/protected-areas/<code>/species")
def protected_area_species(code: str) -> Response:
    fmt = output_format()
    as_of = as_of_arg()
    taxa = TaxonFilter.from_args(request.args)
    _current()
    conn = db.connection()
    area = species_q.protected_area(conn, code, as_of)
    answer = species_q.species_in_area(
        conn,
        area,
        audience=asking(),
        zone_type=request.args.get("zone_type") or None,
        as_of=as_of,
        taxa=taxa,
    )
    if fmt == "csv":
        rows = [
            {**row, **{k: _cell(row["statuses"].get(k)) for k in STATUS_COLUMNS}}
            for row in answer["species"]
        ]
        return csv_response(rows, SPECIES_COLUMNS + STATUS_COLUMNS, f"{code}-species.csv")
    return current_app.json.response(answer)


@bp.get("/taxa")
def taxa_search() -> Response:
    """Taxa whose scientific or Vietnamese/English vernacular name contains ``q`` (case and
    diacritics as typed), closest spellings first; ``limit`` up to 100."""
    q = (request.args.get("q") or "").strip()
    if len(q) < 2:
        raise InvalidInput("q: expected at least 2 characters of a scientific or common name")
    plain_text("q", q, "a part of a scientific or common name")
    try:
        limit = int(request.args.get("limit", 20))
    except ValueError:
        raise InvalidInput("limit: expected a whole number from 1 to 100") from None
    if not 1 <= limit <= 100:
        raise InvalidInput("limit: expected a whole number from 1 to 100")
    rows = db.connection().execute(
        sa.text(
            "SELECT id, scientific_name, authorship, rank, taxonomic_status, accepted_id, "
            "vernacular_name_vi, vernacular_name_en FROM taxa "
            "WHERE scientific_name ILIKE :pattern OR vernacular_name_vi ILIKE :pattern "
            "OR vernacular_name_en ILIKE :pattern "
            "ORDER BY similarity(scientific_name, :q) DESC, scientific_name LIMIT :limit"
        ),
        {"pattern": f"%{like_escape(q)}%", "q": q, "limit": limit},
    )
    return current_app.json.response({"taxa": [dict(r._mapping) for r in rows]})


@bp.get("/taxa/<int:taxon_id>/protected-areas")
def taxon_protected_areas(taxon_id: int) -> Response:
    fmt = output_format()
    _current()
    answer = species_q.areas_of_taxon(db.connection(), taxon_id, audience=asking())
    if fmt == "csv":
        columns = ["code", "name_vi", "name_en", "records", "first_record", "last_record"]
        return csv_response(answer["areas"], columns, f"taxon-{taxon_id}-protected-areas.csv")
    return current_app.json.response(answer)


def _cell(value: object) -> str:
    if value is True:
        return "x"
    return "" if value is None else str(value)
