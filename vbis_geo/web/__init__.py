"""The web layer: the only importer of Flask. ``create_app`` is the application factory."""

from vbis_geo.web.app import create_app

__all__ = ["create_app"]
