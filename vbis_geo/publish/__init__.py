"""Publishing: render ``ogc_config/`` from the layer catalogue; vbis_geo's pygeoapi providers."""
