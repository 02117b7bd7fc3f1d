"""QGIS applies our SLD styles: run by tests/maps/test_qgis_style.py with the system Python and
PyQGIS (not collected by pytest). Usage: ``/usr/bin/python3 qgis_style_client.py SPEC RESULT``.

SPEC: ``{"base": url, "styles": [{"name": n, "collection": c | "geojson": path, "sld": path,
"key": field}]}``. For each, the collection is opened with QGIS's OAPIF provider (or the GeoJSON
the maps API makes, with GDAL), the SLD loaded onto it (``loadSldStyle``, what "Load Style"
does), and every feature is given to the renderer QGIS built from the SLD: the result lists, by
the feature's ``key`` (``code`` by default), the colours of the symbols QGIS would draw it with
(none: not drawn), with the renderer's type and the labelling QGIS read.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsMapSettings,
    QgsRenderContext,
    QgsVectorLayer,
)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    app = QgsApplication([], False, tempfile.mkdtemp(prefix="qgis-profile-"))
    app.initQgis()
    result: dict[str, Any] = {}
    for entry in spec["styles"]:
        if "geojson" in entry:  # a layer the maps API makes, read by GDAL from its URL
            layer = QgsVectorLayer(spec["base"] + entry["geojson"], entry["name"], "ogr")
        else:
            uri = f"url='{spec['base']}/ogc' typename='{entry['collection']}'"
            layer = QgsVectorLayer(uri, entry["collection"], "OAPIF")
        out: dict[str, Any] = {"valid": layer.isValid()}
        result[entry["name"]] = out
        if not layer.isValid():
            out["error"] = layer.error().summary()
            continue
        message, ok = layer.loadSldStyle(entry["sld"])
        out["loaded"] = bool(ok)
        out["message"] = message
        renderer = layer.renderer()
        out["renderer"] = renderer.type()
        out["labels"] = bool(layer.labelsEnabled())
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setExtent(layer.extent())
        context = QgsRenderContext.fromMapSettings(settings)
        renderer.startRender(context, layer.fields())
        colours: dict[str, list[str]] = {}
        for feature in layer.getFeatures():
            context.expressionContext().setFeature(feature)
            symbols = renderer.symbolsForFeature(feature, context)
            key = str(feature[entry.get("key", "code")])
            colours[key] = [s.color().name() for s in symbols]
        renderer.stopRender(context)
        out["colours"] = colours
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    status = main()
    # leave without Qt's teardown: QGIS 3.22 can crash destroying layers after their work is
    # done, and the result is already written
    os._exit(status)
