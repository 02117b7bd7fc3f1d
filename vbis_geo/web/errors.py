"""The one table mapping domain errors to HTTP responses."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.wrappers import Response

from vbis_geo.errors import (
    ClusterError,
    ConfigError,
    DatabaseUnavailable,
    Forbidden,
    InvalidInput,
    NotAuthorized,
    NotFound,
    PostGISMissing,
    TooManyAttempts,
    VbisError,
)

HTTP_STATUS: dict[type[VbisError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    NotAuthorized: 401,
    Forbidden: 403,
    TooManyAttempts: 429,
    DatabaseUnavailable: 503,
    PostGISMissing: 503,
    ClusterError: 503,
    ConfigError: 500,
}


def status_for(exc: VbisError) -> int:
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]  # type: ignore[index]
    return 500


def init_app(app: Flask) -> None:
    @app.errorhandler(VbisError)
    def _domain_error(exc: VbisError) -> tuple[Response, int]:
        status = status_for(exc)
        body = {"code": type(exc).__name__, "description": exc.message}
        if exc.hint:
            body["hint"] = exc.hint
        response = jsonify(body)
        if isinstance(exc, NotAuthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="vbis-geo"'
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response, status

    @app.errorhandler(413)
    def _too_large(exc: Exception) -> tuple[Response, int]:
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        body = {
            "code": "PayloadTooLarge",
            "description": f"the request is larger than the {limit:,} bytes accepted",
            "hint": "split the data into smaller files, or load it with the vbis-geo command",
        }
        return jsonify(body), 413
