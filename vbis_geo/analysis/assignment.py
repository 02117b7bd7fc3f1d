"""The record-to-area assignment (``analysis.occurrence_areas``, migration 0006): current
before every question.

Statement triggers keep it current for edits and small loads; a bulk statement marks it stale,
and the first question after it rebuilds it here (about 35 s per million records on the
development machine), holding back writers, not readers, while it does. Two questions arriving
together rebuild it once: the second waits for the first's lock and then finds it current.

Each audience has its assignment (:func:`vbis_geo.analysis.access.area_assignment`): the exact
one places every record by its exact point; the public's places a sensitive record by its
generalised point instead (``analysis.occurrence_public_areas``, migration 0013, kept by
statement triggers with the generalised points themselves, so it is current whenever they
are). The per-area species counts (``analysis.area_species``) are kept per audience, of
published records.

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
#: what a read of the public relation of occurrences needs current: the generalised points and
#: the levels that place them (not the assignment, which a bulk load leaves to the questions)
PUBLIC_POINTS = frozenset({"taxon_species", "taxon_sensitivity", "occurrence_public"})


def stale_parts(conn: Connection) -> list[str]:
    """Which of ``occurrence_areas``, ``taxon_species``, ``area_species``,
    ``taxon_sensitivity`` and ``occurrence_public`` (migrations 0006, 0007, 0009, 0011) a change
    left stale. (``occurrence_public_areas``, migration 0013, has no flag: statement triggers
    keep it with the generalised points, whatever changes them.)"""
    return list(conn.execute(sa.text("SELECT name FROM analysis.state WHERE stale")).scalars())


def ensure_current(
    engine: Engine,
    *,
    counts: bool = False,
    conn: Connection | None = None,
    only: frozenset[str] | None = None,
) -> float | None:
    """Rebuild what a change left stale (the assignment after a bulk statement, the species of
    taxa after a change of taxa, the per-area species counts after any change); the seconds it
    took, or None when everything was current. The per-area counts only when ``counts`` (the
    questions that read them), so that an edit does not make every question recount them; the
    taxa's sensitivity levels and the public points of sensitive records always (milliseconds,
    or a fraction of a second after a bulk load), since every read for the public reads them.
    ``conn``: the question's own connection, to check on without taking another from the pool
    (read committed: the question's next statements see a rebuild made meanwhile). ``only``:
    rebuild no other parts than these (e.g. :data:`PUBLIC_POINTS`)."""
    if conn is not None:
        if not _needed(stale_parts(conn), counts, only):
            return None
    else:
        with engine.connect() as own:
            if not _needed(stale_parts(own), counts, only):
                return None
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})
        stale = _needed(stale_parts(conn), counts, only)  # another request may have rebuilt them
        if not stale:
            return None
        if "taxon_species" in stale:
            conn.execute(sa.text("SELECT analysis.recompute_taxon_species()"))
        if "taxon_sensitivity" in stale:
            conn.execute(sa.text("SELECT analysis.recompute_taxon_sensitivity()"))
        if "occurrence_public" in stale:  # placed by the levels above; its statement
            # triggers redo the areas of the generalised points (occurrence_public_areas, 0013)
            conn.execute(sa.text("SELECT publish.rebuild_occurrence_public()"))
        if "occurrence_areas" in stale:
            conn.execute(sa.text("SELECT analysis.rebuild_occurrence_areas()"))
        # counted from all of the above; asked again, since a new set of generalised points
        # makes the counts stale even where they were current before
        if "area_species" in _needed(stale_parts(conn), counts, only):
            conn.execute(sa.text("SELECT analysis.rebuild_area_species()"))
    return time.perf_counter() - started


def public_points_current(conn: Connection) -> None:
    """Bring the generalised points of sensitive records current on ``conn``, inside its own
    transaction, when a change left them stale: the safety net of a reader that holds one
    transaction for its whole read (an export) under :func:`ensure_current`, which its caller
    runs first. Nothing is done (one small query) when they are current."""
    stale = [part for part in stale_parts(conn) if part in PUBLIC_POINTS]
    if not stale:
        return
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": _LOCK})
    stale = [part for part in stale_parts(conn) if part in PUBLIC_POINTS]
    if "taxon_species" in stale:
        conn.execute(sa.text("SELECT analysis.recompute_taxon_species()"))
    if "taxon_sensitivity" in stale:
        conn.execute(sa.text("SELECT analysis.recompute_taxon_sensitivity()"))
    if "occurrence_public" in stale:
        conn.execute(sa.text("SELECT publish.rebuild_occurrence_public()"))


def _needed(stale: list[str], counts: bool, only: frozenset[str] | None = None) -> list[str]:
    return [
        part
        for part in stale
        if (counts or part != "area_species") and (only is None or part in only)
    ]
