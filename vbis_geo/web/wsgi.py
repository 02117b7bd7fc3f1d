"""Run the application under gunicorn (``vbis-geo serve``).

Containers run ``gunicorn 'vbis_geo.web:create_app()'`` directly (see the Dockerfile).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from vbis_geo.settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from vbis_geo.web import create_app

        return create_app(self.settings)


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted. Each worker builds the app."""
    _Gunicorn(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            # each worker builds its own app: pygeoapi caches engines that must not cross a fork
            "preload_app": False,
            "timeout": 120,
            "accesslog": "-",
        },
    ).run()
