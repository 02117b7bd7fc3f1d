"""The demo dataset: generated deterministically from cited public facts, no downloads.

``reference/`` holds real facts (names, categories, titles, provinces, approximate centres and
reported areas, species and their statuses, with sources); ``shapes`` turns a centre and an area
into an approximate boundary; ``generate`` builds every layer from a seed; ``loader`` writes it.
Boundaries and occurrences are illustrative, not official, and every generated row says so.
"""
