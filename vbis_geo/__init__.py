"""vbis-geo: the GIS core of Vietnam's National Biodiversity Information System."""

__version__ = "0.1.0"
