"""The one place spatial questions read occurrences from.

Every question's SQL takes its records from :func:`visible_occurrences`, so that the
access-control issue can put role visibility (published rows only for the public) and the
sensitivity rule (generalised locations of sensitive taxa without the right to exact ones) here
once, and every answer follows.
"""

from __future__ import annotations


def visible_occurrences() -> str:
    """The SQL relation of the occurrences a question may read (today: all of them)."""
    return "public.occurrences"
