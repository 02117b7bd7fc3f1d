"""Exports: layers to files (GeoPackage, Shapefile, GeoJSON, CSV) and Darwin Core Archives, for
an audience (:mod:`vbis_geo.analysis.access`): the public's by default."""

from vbis_geo.export.files import (
    FORMATS,
    ExportFilters,
    FilterNotFound,
    count_rows,
    export_layer,
    read_layer,
)

__all__ = ["FORMATS", "ExportFilters", "FilterNotFound", "count_rows", "export_layer", "read_layer"]
