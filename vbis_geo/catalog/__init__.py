"""The layer catalogue: ``layers/*.yml`` read into typed definitions (the single source of truth
for what is published, and how)."""

from vbis_geo.catalog.layers import Layer, load_layers, load_tables

__all__ = ["Layer", "load_layers", "load_tables"]
