"""Review of contributions: the queue of drafts a reviewer may review, publishing, rejecting.

Contributions by experts go in as drafts (``review_status = 'draft'``, migration 0011; the
public sees published rows only). A reviewer publishes or rejects a draft:

* who reviews (vbis_geo/auth/SECURITY.md): a national administrator any draft; a provincial
  editor or a reserve board the drafts within its scope (the rows it could write); an expert
  the drafts of occurrences of its taxa, but never its own contribution;
* a rejection gives a reason (stored in ``review_reason``; the database requires it too), a
  publication may;
* the review is written under :func:`vbis_geo.auth.writer.writer`: the database checks the
  row is within the reviewer's scope, records ``reviewed_by`` and ``reviewed_at`` (migration
  0014's review rules), and the history keeps the draft as it was, with the reviewer and the
  reason (``review: rejected: <reason>``);
* only drafts are reviewed: a published or rejected row is not a draft any more (400).

The queue of an account without the right to exact locations shows sensitive records as the
public sees them (the centre of their grid cell, locality and remarks withheld): a reviewer
needs the exact point only with that right. The operator (``vbis-geo review list`` without
``--as``, no principal) sees every draft, exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.auth.principal import Principal, require_editing_role
from vbis_geo.auth.scope import REVIEWED, RULES, existing_row_refusal, table_refusal
from vbis_geo.auth.writer import writer
from vbis_geo.db.lookups import MAX_ID
from vbis_geo.errors import Forbidden, InvalidInput, NotFound

#: what an action sets
ACTIONS = {"publish": "published", "reject": "rejected"}
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000
MAX_REASON = 2000
#: the distance from a cell's centre to its corner per km of cell (as publish.public_occurrences)
_CORNER_M_PER_KM = 707.1068


@dataclass(frozen=True)
class Queue:
    """A page of the drafts of a layer a reviewer may review, oldest first."""

    layer: str
    features: list[dict[str, Any]]
    number_matched: int
    limit: int
    offset: int

    def as_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection with the paging counts (as OGC API Features)."""
        return {
            "type": "FeatureCollection",
            "layer": self.layer,
            "features": self.features,
            "numberMatched": self.number_matched,
            "numberReturned": len(self.features),
            "limit": self.limit,
            "offset": self.offset,
        }


@dataclass(frozen=True)
class Decision:
    """A row's review state after a review."""

    layer: str
    id: int
    review_status: str
    reviewed_by: str
    reviewed_at: dt.datetime
    review_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "id": self.id,
            "review_status": self.review_status,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at.isoformat(),
            "review_reason": self.review_reason,
        }


def reviewed_table(layer: str) -> str:
    """The table of a reviewed layer; :class:`NotFound` listing them for any other."""
    if layer not in REVIEWED:
        raise NotFound(f"no layer {layer!r} to review", hint="layers: " + ", ".join(REVIEWED))
    return layer


def queue(
    conn: Connection,
    principal: Principal | None,
    layer: str,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Queue:
    """The drafts of ``layer`` that ``principal`` may review (None: the operator, every draft),
    oldest first, ``limit`` from ``offset``. Raises :class:`NotFound` for a layer that is not
    reviewed, :class:`InvalidInput` for bad paging, :class:`Forbidden` for a role that does
    not write the layer."""
    table = reviewed_table(layer)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit={limit}: between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset={offset}: between 0 and {MAX_OFFSET:,}")
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    conditions = ["t.review_status = 'draft'"]
    # the reviewer's scope, computed once (auth.account_scope of migration 0014)
    scope = ""
    if principal is not None:
        require_editing_role(principal, "the review queue")
        refusal = table_refusal(principal, table)
        if refusal is not None:
            raise Forbidden(f"you review no {table}: {refusal}")
        params["account"] = principal.account_id
        if not principal.is_admin:
            function, columns = RULES[table]
            # OFFSET 0: computed once, not once per row (a subquery the planner cannot pull up)
            scope = "CROSS JOIN (SELECT auth.account_scope(:account) AS scope OFFSET 0) x "
            conditions.append(
                f"auth.{function}({', '.join(['x.scope', *(f't.{c}' for c in columns)])})"
            )
        if principal.role == "expert":
            conditions.append("t.submitted_by IS DISTINCT FROM :account")
    where = " AND ".join(conditions)
    matched = conn.execute(
        sa.text(f"SELECT count(*) FROM public.{table} t {scope}WHERE {where}"),  # noqa: S608 (a table of REVIEWED, conditions written here)
        params,
    ).scalar_one()
    generalised = table == "occurrences" and not (
        principal is None or principal.sees_exact_locations
    )
    if generalised:
        from vbis_geo.analysis.assignment import ensure_current

        ensure_current(conn.engine, conn=conn)  # the public points of sensitive records
        source = f"public.{table} t LEFT JOIN publish.occurrence_public p ON p.id = t.id"
        properties = (
            "CASE WHEN p.id IS NULL THEN to_jsonb(t) - 'geom' || '{\"generalised_km\": 0}' "
            "ELSE to_jsonb(t) - 'geom' || jsonb_build_object('locality', NULL, "
            "'occurrence_remarks', NULL, 'generalised_km', p.level_km, "
            "'coordinate_uncertainty_m', greatest(t.coordinate_uncertainty_m, "
            f"ceil(p.level_km * {_CORNER_M_PER_KM}))) END"
        )
        geometry = "coalesce(p.geom, t.geom)"
    else:
        source = f"public.{table} t"
        properties = "to_jsonb(t) - 'geom'"
        if table == "occurrences":
            properties += " || '{\"generalised_km\": 0}'"
        geometry = "t.geom"
    rows = conn.execute(
        sa.text(
            f"SELECT t.id, {properties} AS properties, "  # noqa: S608 (written here)
            f"CAST(ST_AsGeoJSON({geometry}, 7) AS json) AS geometry, "
            "a.username AS submitted_by_username "
            f"FROM {source} {scope}LEFT JOIN auth.accounts a ON a.id = t.submitted_by "
            f"WHERE {where} ORDER BY t.id LIMIT :limit OFFSET :offset"
        ),
        params,
    ).all()
    features = [
        {
            "type": "Feature",
            "id": row.id,
            "geometry": row.geometry,
            "properties": {**row.properties, "submitted_by_username": row.submitted_by_username},
        }
        for row in rows
    ]
    return Queue(layer, features, int(matched), limit, offset)


def decide(
    conn: Connection,
    principal: Principal,
    layer: str,
    row_id: int,
    action: str,
    reason: str | None = None,
) -> Decision:
    """Publish or reject draft ``row_id`` of ``layer`` as ``principal``, in the caller's
    transaction; returns the row's review state.

    Raises :class:`InvalidInput` for an unknown action, a rejection without a reason, or a row
    that is not a draft; :class:`NotFound` for an unknown layer or row; :class:`Forbidden` when
    the principal may not review it (out of scope, or its own contribution as an expert).
    """
    table = reviewed_table(layer)
    require_editing_role(principal, "reviewing")
    status = ACTIONS.get(action)  # type: ignore[arg-type]
    if status is None:
        raise InvalidInput(
            f"action {action!r}: expected publish or reject",
            hint='{"action": "reject", "reason": "..."}',
        )
    reason = reason.strip() if isinstance(reason, str) else None
    if status == "rejected" and not reason:
        raise InvalidInput(
            "a rejection needs a reason: the contributor reads it",
            hint='{"action": "reject", "reason": "the coordinates fall in the sea"}',
        )
    if reason and len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason is at most {MAX_REASON} characters, not {len(reason)}")
    name = f"{table} {row_id}"
    if not 1 <= row_id <= MAX_ID:
        raise NotFound(f"no {name}")
    refusal = table_refusal(principal, table)
    if refusal is not None:
        raise Forbidden(f"you review no {table}: {refusal}")
    current = conn.execute(
        sa.text(
            f"SELECT review_status, submitted_by FROM public.{table} WHERE id = :id FOR UPDATE"  # noqa: S608 (a table of REVIEWED)
        ),
        {"id": row_id},
    ).one_or_none()
    if current is None:
        raise NotFound(f"no {name}")
    if current.review_status != "draft":
        raise InvalidInput(f"{name} is {current.review_status}, not a draft: drafts are reviewed")
    refusal = existing_row_refusal(conn, principal, table, row_id)
    if refusal is not None:
        raise Forbidden(f"{name}: {refusal}")
    if principal.role == "expert" and current.submitted_by == principal.account_id:
        raise Forbidden(f"{name}: you submitted it; another reviewer publishes or rejects it")
    with writer(conn, principal, f"review: {status}" + (f": {reason}" if reason else ""), row=name):
        row = conn.execute(
            sa.text(
                f"UPDATE public.{table} SET review_status = :status, review_reason = :reason "  # noqa: S608 (a table of REVIEWED)
                "WHERE id = :id AND review_status = 'draft' "
                "RETURNING review_status, reviewed_at, review_reason"
            ),
            {"status": status, "reason": reason, "id": row_id},
        ).one_or_none()
    if row is None:  # the row is locked: only the database's policy hides it from the writer
        raise Forbidden(f"{name}: outside your scope (the database refused the review)")
    return Decision(
        layer,
        row_id,
        row.review_status,
        str(principal.username),
        row.reviewed_at,
        row.review_reason,
    )


def reviewer(conn: Connection, username: str) -> Principal:
    """The principal of the account ``username`` (the operator acting as a reviewer:
    ``vbis-geo review ... --as USERNAME``); :class:`InvalidInput` when it is deactivated."""
    from vbis_geo.auth.store import get_account, principal_for_account

    account = get_account(conn, username)
    who = principal_for_account(conn, account.id, via="cli")
    if who is None:
        raise InvalidInput(f"the account {account.username} is deactivated")
    return who
