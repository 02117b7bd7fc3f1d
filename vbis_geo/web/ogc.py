"""Mount pygeoapi at ``/ogc`` inside the vbis-geo Flask application.

pygeoapi reads its configuration and OpenAPI document from files named by the environment
variables ``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` when ``pygeoapi.flask_app`` is first
imported. This module is the one bridge: it sets those variables (and the ``VBIS_OGC_*`` ones the
checked-in configuration refers to) from vbis-geo's settings, generates the OpenAPI document into
``var/ogc/`` when the configuration or the schema changed, then registers pygeoapi's blueprint.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml
from flask import Flask

from vbis_geo.errors import ConfigError
from vbis_geo.settings import PROJECT_DIR, Settings

_mounted_environment: dict[str, str] | None = None


def layers_dir() -> Path:
    return PROJECT_DIR / "layers"


def config_path(settings: Settings) -> Path:
    return settings.project_dir / "ogc_config" / "pygeoapi-config.yml"


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
    cfg_path = config_path(settings)
    if not cfg_path.exists():
        raise ConfigError(f"{cfg_path} is missing", hint="run `vbis-geo publish`")
    os.environ.update(env)
    cfg_path = _without_missing_rasters(cfg_path, settings)
    os.environ["PYGEOAPI_CONFIG"] = str(cfg_path)
    os.environ["PYGEOAPI_OPENAPI"] = str(ensure_openapi(settings, cfg_path))

    from pygeoapi import flask_app  # import reads the files named above

    from vbis_geo.publish import cql

    cql.install(app)
    _mark_coverages(app, cfg_path)
    app.register_blueprint(flask_app.BLUEPRINT, url_prefix="/ogc")
    _mounted_environment = env


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


def _without_missing_rasters(cfg_path: Path, settings: Settings) -> Path:
    """The configuration to serve: the checked-in one, less coverage collections whose COG
    has not been loaded (``vbis-geo raster load``), which pygeoapi could not open."""
    config = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    missing = [
        name
        for name, resource in config.get("resources", {}).items()
        for provider in resource.get("providers", [])
        if provider.get("type") == "coverage"
        and not Path(
            str(provider["data"]).replace(
                "${VBIS_OGC_RASTER_DIR}", str(settings.var_dir / "rasters")
            )
        ).exists()
    ]
    if not missing:
        return cfg_path
    for name in missing:
        del config["resources"][name]
    out = settings.var_dir / "ogc" / "pygeoapi-config.served.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    from vbis_geo.publish.config import dump_config

    out.write_text(dump_config(config), encoding="utf-8")
    return out


def ensure_openapi(settings: Settings, cfg_path: Path) -> Path:
    """Return the path of the OpenAPI document for this configuration, generating it if needed.

    The document depends on the configuration, the public URL and the database schema (pygeoapi
    describes each collection's fields), so its file name carries a digest of all three.
    """
    from pygeoapi.openapi import get_oas
    from pygeoapi.util import yaml_load

    from vbis_geo.db.engine import make_engine
    from vbis_geo.db.migrate import current_revision

    engine = make_engine(settings)
    try:
        revision = current_revision(engine) or "empty"
    finally:
        engine.dispose()
    digest = hashlib.sha256(
        "\n".join(
            [
                cfg_path.read_text(encoding="utf-8"),
                settings.ogc_url,
                revision,
                settings.database_url.render_as_string(hide_password=True),
            ]
        ).encode()
    ).hexdigest()[:16]
    out_dir = settings.var_dir / "ogc"
    target = out_dir / f"openapi-{digest}.yml"
    if target.exists():
        return target
    with cfg_path.open(encoding="utf-8") as fh:
        config = yaml_load(fh)
    document = get_oas(config, fail_on_invalid_collection=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(target)  # atomic: workers starting together never read half a file
    return target
