"""A QGIS analyst's session, run by tests/web/test_qgis.py with the system Python and PyQGIS.

Not part of the test suite (pytest does not collect it: it imports ``qgis``, which only the
system Python has). Usage: ``/usr/bin/python3 qgis_client.py SPEC.json RESULT.json``.

SPEC holds the server's base URL and what to open:

* ``features``: collections opened with QGIS's OAPIF provider
  (``QgsVectorLayer("url='<base>/ogc' typename='<c>'", name, "OAPIF")``, plus ``uri_extra``),
  each read in full through the provider's paging (or, with ``bbox``, only the features of that
  box, as when an analyst pans there); ``key`` names the fields whose values are listed for
  every feature read, ``sample`` the keys whose features are returned with every attribute;
* ``tiles``: collections opened as vector-tile layers
  (``QgsVectorTileLayer("type=xyz&url=<base>/ogc/collections/<c>/tiles/...", name)``), each
  drawn at a few map views (one extent, one zoom each) by QGIS's own renderer. Every feature
  QGIS decodes from the tiles goes through a style's filter, which calls :func:`tile_probe`;
  so the result lists what QGIS really decoded: MVT layer, feature id, attributes, geometry.

The result (JSON) is compared with the database by the test.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from typing import Any

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsError,
    QgsFeatureRequest,
    QgsGeometry,
    QgsMapRendererCustomPainterJob,
    QgsMapSettings,
    QgsProviderRegistry,
    QgsRectangle,
    QgsSettings,
    QgsSymbol,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
    qgsfunction,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QSize, Qt, QTime
from qgis.PyQt.QtGui import QColor, QImage, QPainter

#: messages QGIS logged (tag, level, text): the provider and network errors an analyst would see
LOG: list[dict[str, Any]] = []
#: features decoded from vector tiles during the current drawing (filled by tile_probe)
DECODED: list[dict[str, Any]] = []


def plain(value: Any) -> Any:
    """A QGIS attribute value as JSON (NULL, dates and lists as ISO strings and lists)."""
    if value is None or (hasattr(value, "isNull") and value.isNull()):
        return None
    if isinstance(value, QDateTime):
        return {
            "iso": value.toString(Qt.ISODateWithMs),
            "utc": value.toUTC().toString(Qt.ISODateWithMs),
            "time_spec": int(value.timeSpec()),
        }
    if isinstance(value, (QDate, QTime)):
        return value.toString(Qt.ISODate)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def error_text(error: QgsError) -> str:
    """A layer's or provider's error (QgsError.summary() of an empty error crashes QGIS 3.22)."""
    return "" if error.isEmpty() else error.summary()


def on_message(message: str, tag: str, level: Qgis.MessageLevel) -> None:
    LOG.append({"tag": tag, "level": int(level), "message": message})


def errors_since(start: int) -> list[str]:
    """Warnings and errors logged since ``start`` (an index into LOG)."""
    return [
        f"[{m['tag']}] {m['message']}"
        for m in LOG[start:]
        if m["level"] >= int(Qgis.Warning) and m["tag"] not in ("Qt", "Python warning")
    ]


# -- OGC API Features through the OAPIF provider ----------------------------------------------
def open_features(base: str, spec: dict[str, Any]) -> dict[str, Any]:
    collection = spec["collection"]
    started, log_start = time.monotonic(), len(LOG)
    uri = f"url='{base}/ogc' typename='{collection}'"
    uri += spec.get("uri_extra", "")
    if spec.get("page_size"):
        uri += f" pageSize='{int(spec['page_size'])}'"
    layer = QgsVectorLayer(uri, collection, "OAPIF")
    out: dict[str, Any] = {
        "uri": uri,
        "valid": layer.isValid(),
        "error": error_text(layer.error()),
    }
    if not layer.isValid():
        out["log"] = errors_since(log_start)
        return out
    provider = layer.dataProvider()
    out.update(
        crs=layer.crs().authid(),
        crs_is_geographic=layer.crs().isGeographic(),
        wkb_type=QgsWkbTypes.displayString(layer.wkbType()),
        fields=[{"name": f.name(), "type": f.typeName()} for f in layer.fields()],
        feature_count=layer.featureCount(),
    )
    request = QgsFeatureRequest()
    if spec.get("bbox"):
        request.setFilterRect(QgsRectangle(*spec["bbox"]))
    key = list(spec["key"])  # the fields that identify a row
    sample = set(spec.get("sample", []))
    keys: list[list[Any]] = []
    samples: dict[str, dict[str, Any]] = {}
    empty_geometries = 0
    extent = QgsRectangle()
    extent.setMinimal()
    names = layer.fields().names()
    for feature in layer.getFeatures(request):
        value = [plain(feature[k]) if k in names else None for k in key]
        keys.append(value)
        geometry = feature.geometry()
        if geometry.isEmpty():
            empty_geometries += 1
        else:
            extent.combineExtentWith(geometry.boundingBox())
        if json.dumps(value, ensure_ascii=False) in sample:
            point = geometry.pointOnSurface().asPoint()
            samples[json.dumps(value, ensure_ascii=False)] = {
                "attributes": {n: plain(feature[n]) for n in names},
                "geometry_type": QgsWkbTypes.displayString(geometry.wkbType()),
                "point": [point.x(), point.y()],
            }
    out.update(
        features_read=len(keys),
        keys=keys,
        samples=samples,
        empty_geometries=empty_geometries,
        extent=None
        if extent.isEmpty()
        else [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
        provider_error=error_text(provider.error()),
        log=errors_since(log_start),
        seconds=round(time.monotonic() - started, 2),
    )
    return out


# -- OGC API Tiles (MVT) as a vector-tile layer --------------------------------------------------
@qgsfunction(args="auto", group="vbis", usesgeometry=True, referenced_columns=[])
def tile_probe(zoom: Any, fields: Any, feature: Any, parent: Any) -> bool:  # type: ignore[misc]
    """Called by the style filter for each feature QGIS decodes; records it, then says 'draw'."""
    geometry: QgsGeometry = feature.geometry()
    point = geometry.pointOnSurface().asPoint() if not geometry.isEmpty() else None
    names = feature.fields().names()
    DECODED.append(
        {
            "zoom": int(zoom),
            "id": int(feature.id()),
            "attributes": {n: plain(feature[n]) for n in names},
            "geometry_type": QgsWkbTypes.geometryDisplayString(geometry.type()),
            "point": [point.x(), point.y()] if point else None,
        }
    )
    return True


def open_tiles(base: str, spec: dict[str, Any]) -> dict[str, Any]:
    collection = spec["collection"]
    started, log_start = time.monotonic(), len(LOG)
    template = f"{base}/ogc/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=mvt"

    def source(zmin: int, zmax: int) -> str:
        return f"type=xyz&url={template}&zmin={zmin}&zmax={zmax}"

    layer = QgsVectorTileLayer(source(spec["zmin"], spec["zmax"]), collection)
    out: dict[str, Any] = {
        "valid": layer.isValid(),
        "error": error_text(layer.error()),
        "crs": layer.crs().authid(),
        "source_type": layer.sourceType(),
        "source_path": layer.sourcePath(),
        "min_zoom": layer.sourceMinZoom(),
        "max_zoom": layer.sourceMaxZoom(),
        "views": [],
    }
    fields = list(spec["fields"])
    for view in spec["views"]:
        z = int(view["zoom"])
        # one zoom: QGIS picks the tile zoom from the map scale, clamped to the source's zooms
        probe = QgsVectorTileLayer(source(z, z), collection)
        geometry_type = {
            "point": QgsWkbTypes.PointGeometry,
            "polygon": QgsWkbTypes.PolygonGeometry,
        }[view["geometry"]]
        style = QgsVectorTileBasicRendererStyle(
            f"{collection} {view['geometry']}",
            view["layer"],  # the MVT layer the style draws: the server must name it so
            geometry_type,
        )
        symbol = QgsSymbol.defaultSymbol(geometry_type)
        symbol.setColor(QColor(200, 30, 30))
        style.setSymbol(symbol)
        # referencing the fields makes QGIS decode them (it decodes only the fields in use)
        style.setFilterExpression(
            "tile_probe(@zoom_level, array({}))".format(",".join(f'"{f}"' for f in fields))
            if fields
            else "tile_probe(@zoom_level, array())"
        )
        style.setEnabled(True)
        style.setMinZoomLevel(-1)
        style.setMaxZoomLevel(-1)
        renderer = QgsVectorTileBasicRenderer()
        renderer.setStyles([style])
        probe.setRenderer(renderer)
        probe.setLabeling(None)

        settings = QgsMapSettings()
        settings.setLayers([probe])
        settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
        settings.setExtent(QgsRectangle(*view["extent"]))
        settings.setOutputSize(QSize(*view["size"]))
        settings.setBackgroundColor(QColor(255, 255, 255, 0))
        settings.setOutputDpi(96)
        image = QImage(QSize(*view["size"]), QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        view_log = len(LOG)
        DECODED.clear()
        job = QgsMapRendererCustomPainterJob(settings, painter)
        job.renderSynchronously()
        painter.end()
        drawn = sum(
            1
            for x in range(0, image.width(), 4)
            for y in range(0, image.height(), 4)
            if image.pixelColor(x, y).alpha() > 0
        )
        out["views"].append(
            {
                **view,
                "valid": probe.isValid(),
                "scale": settings.scale(),
                "errors": [str(e) for e in job.errors()] if hasattr(job, "errors") else [],
                "features": list(DECODED),
                "drawn_pixels": drawn,
                "log": errors_since(view_log),
            }
        )
    out["log"] = errors_since(log_start)
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    profile = tempfile.mkdtemp(prefix="qgis-profile-")
    app = QgsApplication([], False, profile)
    app.initQgis()
    QgsApplication.messageLog().messageReceived.connect(on_message)
    # a hung request fails the run instead of waiting for QGIS's default of one minute
    QgsSettings().setValue(
        "qgis/networkAndProxy/networkTimeout", int(spec.get("timeout_ms", 30000))
    )
    result: dict[str, Any] = {
        "qgis_version": Qgis.QGIS_VERSION,
        "providers": QgsProviderRegistry.instance().providerList(),
        "features": {},
        "tiles": {},
    }
    for item in spec.get("features", []):
        result["features"][item["id"]] = open_features(spec["base"], item)
    for item in spec.get("tiles", []):
        result["tiles"][item["collection"]] = open_tiles(spec["base"], item)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
