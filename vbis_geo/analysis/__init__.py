"""Spatial questions: which species live inside which area, and the questions that follow.

Every answer reads occurrences through :mod:`vbis_geo.analysis.access` (the one place the
access-control issue applies role visibility and the sensitivity rule) and the record-to-area
assignment of migration 0006, made current first by
:func:`vbis_geo.analysis.assignment.ensure_current`. SQL text here is assembled only from fixed
names and fragments of this package (never from a request); every value is a bound parameter.
"""
