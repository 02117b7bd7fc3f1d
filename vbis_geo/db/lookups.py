"""Finding a taxon from what a person typed: its id, or its scientific name."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.errors import InvalidInput, NotFound

#: the largest id an integer column holds (a larger one is unknown, not an error of the database)
MAX_ID = 2**31 - 1


def find_taxon(conn: Connection, raw: str | int, *, accepted_only: bool = False) -> int:
    """The id of the taxon ``raw`` names: an id, or a scientific name (case-insensitive; of an
    accepted taxon only when ``accepted_only``). :class:`NotFound` for an unknown one,
    :class:`InvalidInput` for a name several taxa share (the message lists their ids)."""
    text = str(raw).strip()
    if text.isdigit():
        taxon_id = int(text)
        if (
            taxon_id <= MAX_ID
            and conn.execute(
                sa.text("SELECT 1 FROM taxa WHERE id = :id"), {"id": taxon_id}
            ).scalar()
        ):
            return taxon_id
        raise NotFound(f"unknown taxon id {text}")
    rows = conn.execute(
        sa.text(
            "SELECT id, rank, taxonomic_status FROM taxa WHERE lower(scientific_name) = "
            "lower(:name) AND (NOT :accepted_only OR taxonomic_status = 'accepted') ORDER BY id"
        ),
        {"name": text, "accepted_only": accepted_only},
    ).all()
    if not rows:
        kind = "an accepted scientific name" if accepted_only else "a scientific name"
        raise NotFound(f"unknown taxon {text!r}", hint=f"give {kind} or a taxon id")
    if len(rows) > 1:
        choices = ", ".join(f"{r.id} ({r.rank}, {r.taxonomic_status})" for r in rows)
        raise InvalidInput(f"the name {text!r} is several taxa: give the id", hint=choices)
    return int(rows[0].id)
