"""Mount pygeoapi at ``/ogc`` inside the vbis-geo Flask application.

pygeoapi reads its configuration and OpenAPI document from files named by the environment
variables ``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` when ``pygeoapi.flask_app`` is first
imported. This module is the one bridge: it sets those variables (and the ``VBIS_OGC_*`` ones the
checked-in configuration and OpenAPI document refer to) from vbis-geo's settings, then registers
pygeoapi's blueprint. Both files are rendered into ``ogc_config/`` by ``vbis-geo publish``; only
when a coverage's raster has not been loaded is a served copy of each, less that collection,
written under ``var/ogc/``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import yaml
from flask import Flask

from vbis_geo.catalog import Layer, load_layers
from vbis_geo.errors import ConfigError
from vbis_geo.settings import PROJECT_DIR, Settings

_mounted_environment: dict[str, str] | None = None
#: the resources of the served configuration (variables substituted), once mounted
_SERVED: dict[str, dict] = {}  # type: ignore[type-arg]


def served_resources() -> dict[str, dict]:  # type: ignore[type-arg]
    """The resources pygeoapi serves in this process (empty until it is mounted)."""
    return _SERVED


def layers_dir() -> Path:
    return PROJECT_DIR / "layers"


@functools.cache
def published_layers() -> tuple[Layer, ...]:
    """The layers of ``layers/*.yml``, read once per process (as pygeoapi reads its
    configuration once): requests look them up here instead of parsing the files again."""
    return tuple(load_layers(layers_dir()))


def config_path(settings: Settings) -> Path:
    return settings.project_dir / "ogc_config" / "pygeoapi-config.yml"


def openapi_path(settings: Settings) -> Path:
    return settings.project_dir / "ogc_config" / "openapi.yml"


def ogc_environment(settings: Settings) -> dict[str, str]:
    """The ``VBIS_OGC_*`` variables the pygeoapi configuration is rendered with."""
    url = settings.database_url
    return {
        "VBIS_OGC_URL": settings.ogc_url,
        "VBIS_OGC_DB_HOST": url.host or "127.0.0.1",
        "VBIS_OGC_DB_PORT": str(url.port or 5432),
        "VBIS_OGC_DB_NAME": url.database or "",
        "VBIS_OGC_DB_USER": url.username or "",
        "VBIS_OGC_DB_PASSWORD": url.password or "",
        "VBIS_OGC_RASTER_DIR": str(settings.var_dir / "rasters"),
        # the compiled translations of pygeoapi's HTML pages (vbis_geo/publish/locale.py)
        "VBIS_OGC_LOCALE_DIR": str(settings.var_dir / "ogc" / "locale"),
    }


def init_app(app: Flask, settings: Settings) -> None:
    """Register pygeoapi's routes under ``/ogc``."""
    global _mounted_environment
    env = ogc_environment(settings)
    if _mounted_environment is not None and _mounted_environment != env:
        raise ConfigError(
            "pygeoapi is already mounted in this process with another database or URL",
            hint="pygeoapi reads its configuration once per process; start a new process",
        )
    cfg_path, oas_path = config_path(settings), openapi_path(settings)
    for path in (cfg_path, oas_path):
        if not path.exists():
            raise ConfigError(f"{path} is missing", hint="run `vbis-geo publish`")
    os.environ.update(env)
    from vbis_geo.publish.locale import compile_catalogues

    compile_catalogues(Path(env["VBIS_OGC_LOCALE_DIR"]))  # server.locale_dir
    cfg_path, oas_path = _without_missing_rasters(cfg_path, oas_path, settings)
    os.environ["PYGEOAPI_CONFIG"] = str(cfg_path)
    os.environ["PYGEOAPI_OPENAPI"] = str(oas_path)

    from pygeoapi import flask_app  # import reads the files named above

    from vbis_geo.publish import cql
    from vbis_geo.web import ogc_guards

    cql.install(app)
    _real_headers(app)
    served = _served_config(cfg_path)
    _SERVED.clear()
    _SERVED.update(served.get("resources", {}))
    ogc_guards.install(app, served)
    _mark_coverages(app, cfg_path)
    _title_queryables(app)
    app.register_blueprint(flask_app.BLUEPRINT, url_prefix="/ogc")
    _mounted_environment = env


def _served_config(cfg_path: Path) -> dict:  # type: ignore[type-arg]
    """The configuration as pygeoapi reads it (``${VBIS_OGC_*}`` substituted)."""
    from pygeoapi.util import yaml_load

    with cfg_path.open(encoding="utf-8") as fh:
        return dict(yaml_load(fh))


def _real_headers(app: Flask) -> None:
    """pygeoapi's Flask views replace a response's headers by a plain dict
    (``response.headers = headers``, flask_app.py). Flask then fails to add ``Vary: Cookie``
    when the request read the session (a logged-in portal user): every /ogc answer was a 500.
    Give such responses real headers again, before the session is saved."""
    from werkzeug.datastructures import Headers
    from werkzeug.wrappers import Response

    @app.after_request
    def _headers(response: Response) -> Response:
        if not isinstance(response.headers, Headers):
            response.headers = Headers(response.headers)
        return response


def _mark_coverages(app: Flask, cfg_path: Path) -> None:
    """Give coverage collections ``itemType: coverage`` in ``/ogc/collections``: pygeoapi leaves
    it out, and clients that read a collection without one as features (GDAL's OAPIF driver,
    hence QGIS) would ask a raster for items and fail."""
    import orjson
    from flask import Response, request

    config = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    coverages = {
        name
        for name, resource in config.get("resources", {}).items()
        if any(p.get("type") == "coverage" for p in resource.get("providers", []))
    }
    if not coverages:
        return

    @app.after_request
    def _item_type(response: Response) -> Response:
        if request.path.rstrip("/") == "/ogc/collections" and response.status_code == 200:
            try:  # JSON (pygeoapi sets its Content-Type after this hook); HTML is left alone
                body = orjson.loads(response.get_data())
            except orjson.JSONDecodeError:
                return response
            if not isinstance(body, dict):
                return response
            for collection in body.get("collections", []):
                if collection.get("id") in coverages and not collection.get("itemType"):
                    collection["itemType"] = "coverage"
            response.set_data(orjson.dumps(body))
        return response


def _title_queryables(app: Flask) -> None:
    """Give each queryable its title from ``layers/*.yml`` (``fields:`` and
    ``layers/common/field_titles.yml``) in the request's language (``lang``, else
    Accept-Language, else Vietnamese): pygeoapi titles them with their names."""
    import orjson
    from flask import Response, request

    titles = {layer.id: layer.field_titles for layer in published_layers()}

    @app.after_request
    def _titles(response: Response) -> Response:
        parts = request.path.strip("/").split("/")
        if (
            len(parts) != 4
            or parts[:2] != ["ogc", "collections"]
            or parts[3] != "queryables"
            or parts[2] not in titles
            or response.status_code != 200
        ):
            return response
        try:  # JSON only; the HTML page is pygeoapi's
            body = orjson.loads(response.get_data())
        except orjson.JSONDecodeError:
            return response
        asked = request.args.get("lang") or request.accept_languages.best_match(["vi", "en"])
        lang = "en" if (asked or "vi").lower().startswith("en") else "vi"
        for name, queryable in (body.get("properties") or {}).items():
            title = titles[parts[2]].get(name, {}).get(lang)
            if title and isinstance(queryable, dict):
                queryable["title"] = title
        response.set_data(orjson.dumps(body))
        return response


def _without_missing_rasters(
    cfg_path: Path, oas_path: Path, settings: Settings
) -> tuple[Path, Path]:
    """The configuration and OpenAPI document to serve: the checked-in ones, less coverage
    collections whose COG has not been loaded (``vbis-geo raster load``), which pygeoapi could
    not open. Copies under ``var/ogc/`` are written only then, named by a digest of what they
    were made from, and atomically, so workers starting together never read half a file."""
    config = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    missing = {
        name
        for name, resource in config.get("resources", {}).items()
        for provider in resource.get("providers", [])
        if provider.get("type") == "coverage"
        and not Path(
            str(provider["data"]).replace(
                "${VBIS_OGC_RASTER_DIR}", str(settings.var_dir / "rasters")
            )
        ).exists()
    }
    if not missing:
        return cfg_path, oas_path
    from vbis_geo.publish.config import dump_config
    from vbis_geo.publish.openapi import dump_openapi, without_collections

    for name in missing:
        del config["resources"][name]
    document = yaml.safe_load(oas_path.read_text(encoding="utf-8"))
    texts = {
        "pygeoapi-config": dump_config(config),
        "openapi": dump_openapi(without_collections(document, missing)),
    }
    digest = hashlib.sha256("\n".join(texts.values()).encode()).hexdigest()[:16]
    out_dir = settings.var_dir / "ogc"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, text in texts.items():
        target = out_dir / f"{stem}.served-{digest}.yml"
        if not target.exists():
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        paths.append(target)
    return paths[0], paths[1]
