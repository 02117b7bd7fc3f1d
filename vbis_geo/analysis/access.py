"""The one place spatial questions read occurrences from.

Every question's SQL takes its records from :func:`visible_occurrences`, so that the
access-control issue can put role visibility (published rows only for the public) and the
sensitivity rule (generalised locations of sensitive taxa without the right to exact ones) here
once, and every answer follows.

Two derived tables are counted in the database from ``public.occurrences`` itself:
``analysis.occurrence_areas`` (which area each record's point is in) and ``analysis.area_species``
(records per area and species; migrations 0006-0007). With generalised locations for the public,
both must be counted from the locations each audience sees (one set per visibility level), and
the functions that rebuild them (``analysis.rebuild_occurrence_areas``,
``analysis.rebuild_area_species``) changed with this module.
"""

from __future__ import annotations


def visible_occurrences() -> str:
    """The SQL relation of the occurrences a question may read (today: all of them)."""
    return "public.occurrences"
