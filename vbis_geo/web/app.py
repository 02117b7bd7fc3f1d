"""The Flask application factory: portal ``/``, spatial API ``/api``, pygeoapi ``/ogc``."""

from __future__ import annotations

from flask import Flask

from vbis_geo.settings import Settings
from vbis_geo.web import (
    accounts,
    api,
    api_openapi,
    contributions,
    db,
    errors,
    exports,
    maps,
    ogc,
    ogc_edit,
    portal,
    questions,
    questions_area,
    questions_stats,
    review,
    search,
    styles,
    uploads,
)


def create_app(settings: Settings | None = None, *, mount_ogc: bool = True) -> Flask:
    """Build the vbis-geo WSGI application.

    ``settings`` defaults to ``Settings.from_env()``. pygeoapi reads its configuration once per
    process, so only the first application of a process can mount it with a given database.
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["VBIS_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app, settings)
    errors.init_app(app)
    # first of the before_request hooks: every later one (and /ogc) can read g.principal
    accounts.init_app(app, settings)
    app.register_blueprint(portal.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(accounts.bp, url_prefix="/api")
    app.register_blueprint(uploads.bp, url_prefix="/api")
    app.register_blueprint(review.bp, url_prefix="/api")
    app.register_blueprint(questions.bp, url_prefix="/api")
    app.register_blueprint(questions_area.bp, url_prefix="/api")
    app.register_blueprint(questions_stats.bp, url_prefix="/api")
    app.register_blueprint(exports.bp, url_prefix="/api")
    app.register_blueprint(api_openapi.bp, url_prefix="/api")
    app.register_blueprint(search.bp, url_prefix="/api")
    app.register_blueprint(contributions.bp, url_prefix="/api")
    app.register_blueprint(maps.bp, url_prefix="/maps")
    if mount_ogc:
        ogc.init_app(app, settings)
        app.register_blueprint(styles.bp, url_prefix="/ogc")
        app.register_blueprint(ogc_edit.bp, url_prefix="/ogc")
    return app
