"""Spatial questions: which species live inside which area, and the questions that follow.

Every answer is for one audience (:mod:`vbis_geo.analysis.access`: exact locations, or the
public's): it reads that audience's relation of occurrences (published records only; the
public's puts sensitive records at the centre of their grid cell) and the record-to-area
assignment of the same points (migrations 0006 and 0013), made current first by
:func:`vbis_geo.analysis.assignment.ensure_current`. SQL text here is assembled only from fixed
names and fragments of this package (never from a request); every value is a bound parameter.
"""
