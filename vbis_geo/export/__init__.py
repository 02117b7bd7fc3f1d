"""Exports: layers to files (GeoPackage, Shapefile, GeoJSON, CSV) and Darwin Core Archives."""

from vbis_geo.export.files import FORMATS, ExportFilters, export_layer, read_layer

__all__ = ["FORMATS", "ExportFilters", "export_layer", "read_layer"]
