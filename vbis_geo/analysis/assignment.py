"""The record-to-area assignment (``analysis.occurrence_areas``, migration 0006): current
before every question.

Statement triggers keep it current for edits and small loads; a bulk statement marks it stale,
and the first question after it rebuilds it here (about 35 s per million records on the
development machine), holding back writers, not readers, while it does. Two questions arriving
together rebuild it once: the second waits for the first's lock and then finds it current.

Boundary rules, decided once for every answer:

* a record belongs to an area when its point intersects the area: a point exactly on the
  boundary is inside (PostGIS ``ST_Intersects``, as GBIF and ALA count area searches);
* a record whose coordinate uncertainty reaches across the boundary is still placed by its
  point; answers count such records separately (``uncertain_records``) so that a reader can
  judge them. Records without an uncertainty are taken as exact.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: the key of the rebuild's advisory lock
_LOCK = "analysis.occurrence_areas"


def stale_parts(conn: Connection) -> list[str]:
    """Which of ``occurrence_areas`` and ``taxon_species`` a bulk change left stale."""
    return list(conn.execute(sa.text("SELECT name FROM analysis.state WHERE stale")).scalars())


def ensure_current(engine: Engine) -> float | None:
    """Rebuild what a bulk statement (or a change of taxa) left stale; the seconds it took, or
    None when everything was current."""
    with engine.connect() as conn:
        if not stale_parts(conn):
            return None
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})
        stale = stale_parts(conn)  # another request may have rebuilt while this one waited
        if "taxon_species" in stale:
            conn.execute(sa.text("SELECT analysis.recompute_taxon_species()"))
        if "occurrence_areas" in stale:
            conn.execute(sa.text("SELECT analysis.rebuild_occurrence_areas()"))
        if not stale:
            return None
    return time.perf_counter() - started
