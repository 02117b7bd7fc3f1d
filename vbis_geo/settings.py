"""Settings: the only reader of the environment.

``Settings.from_env()`` is called once at the edge (the CLI, the WSGI entry point, the test
session) and the result is passed explicitly to whatever needs it. Nothing here runs at import.

Environment variables
---------------------
``VBIS_DATABASE_URL``
    SQLAlchemy URL of a real deployment's database (``postgresql://user:pw@host:5432/db``).
    When unset, vbis-geo uses its embedded development cluster (see ``vbis_geo.db.cluster``).
``VBIS_DB_PORT``
    TCP port of the embedded cluster on 127.0.0.1 (default 54329).
``VBIS_VAR_DIR``
    Where the embedded cluster and generated run-time files live (default ``<project>/var``).
``VBIS_PG_BINDIR``
    Directory of the PostgreSQL server binaries for the embedded cluster (default: the newest
    ``/usr/lib/postgresql/<version>/bin`` whose server has PostGIS installed).
``VBIS_SHARED_DATA``
    Folder of real public geodata used by tests, benchmarks and the demo's province layers
    (default ``<project>/../shared/data``).
``VBIS_PUBLIC_URL``
    Public base URL of the server, used in OGC API links (default ``http://127.0.0.1:5000``).
``VBIS_MAX_UPLOAD_MB``
    Largest upload the API accepts, in MiB (default 512); larger requests get 413 unread.
``VBIS_SECRET_KEY``
    Key that signs the portal's session cookies (at least 32 characters). When unset, one is
    generated once into ``<var dir>/secret_key`` (mode 0600) and reused: set it explicitly when
    several hosts serve the same site, so that a session signed by one is valid on the others.
    Changing it logs every portal user out.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from vbis_geo.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
EMBEDDED_DB_NAME = "vbis"
EMBEDDED_DB_USER = "vbis"
DEFAULT_EMBEDDED_PORT = 54329
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Settings:
    """Validated settings of one vbis-geo process."""

    database_url: URL
    embedded_database: bool
    embedded_db_port: int
    project_dir: Path
    var_dir: Path
    pg_bindir: Path | None
    shared_data_dir: Path
    public_url: str
    max_upload_bytes: int = 512 * 1024**2
    secret_key: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings from ``environ`` (default: ``os.environ``).

        Raises :class:`ConfigError` naming the variable when a value is malformed.
        """
        env = os.environ if environ is None else environ
        project_dir = Path(env.get("VBIS_HOME", PROJECT_DIR)).resolve()
        var_dir = Path(env.get("VBIS_VAR_DIR", project_dir / "var")).resolve()
        port = _port(env.get("VBIS_DB_PORT", str(DEFAULT_EMBEDDED_PORT)))
        raw_url = env.get("VBIS_DATABASE_URL", "").strip()
        if raw_url:
            url = parse_database_url(raw_url)
            embedded = False
        else:
            url = URL.create(
                "postgresql+psycopg",
                username=EMBEDDED_DB_USER,
                host="127.0.0.1",
                port=port,
                database=EMBEDDED_DB_NAME,
            )
            embedded = True
        bindir = env.get("VBIS_PG_BINDIR")
        public_url = env.get("VBIS_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/")
        if not public_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"VBIS_PUBLIC_URL={public_url!r} is not an http(s) URL",
                hint="set it to the address clients use, e.g. https://geo.example.vn",
            )
        return cls(
            database_url=url,
            embedded_database=embedded,
            embedded_db_port=port,
            project_dir=project_dir,
            var_dir=var_dir,
            pg_bindir=Path(bindir) if bindir else None,
            shared_data_dir=Path(
                env.get("VBIS_SHARED_DATA", project_dir.parent / "shared" / "data")
            ).resolve(),
            public_url=public_url,
            max_upload_bytes=_megabytes(env.get("VBIS_MAX_UPLOAD_MB", "512")) * 1024**2,
            secret_key=_secret_key(env.get("VBIS_SECRET_KEY", "")),
        )

    @property
    def ogc_url(self) -> str:
        """Base URL of the OGC API (pygeoapi mounted at ``/ogc``)."""
        return f"{self.public_url}/ogc"

    def session_secret(self) -> str:
        """The key signing session cookies: ``VBIS_SECRET_KEY``, or the one generated into the
        var directory on first use (and read from there afterwards)."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / SECRET_KEY_FILE
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: of two processes starting at once, one writes and both read its key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_urlsafe(48) + "\n")
        key = path.read_text(encoding="ascii").strip()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"{path} holds no usable secret key", hint="delete it: a new one is generated"
            )
        return key


def _secret_key(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    if len(raw) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"VBIS_SECRET_KEY is {len(raw)} characters long; it needs "
            f"{MIN_SECRET_KEY_LENGTH} or more",
            hint="generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    return raw


def _megabytes(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"VBIS_MAX_UPLOAD_MB={raw!r} is not a positive whole number of MiB")
    return value


def parse_database_url(raw: str) -> URL:
    """Parse a PostgreSQL URL and force the psycopg 3 driver.

    >>> parse_database_url("postgresql://u@db:5433/vbis").render_as_string()
    'postgresql+psycopg://u@db:5433/vbis'

    Raises :class:`ConfigError` when ``raw`` is not a PostgreSQL URL.
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"VBIS_DATABASE_URL={_masked(raw)!r} is not a database URL",
            hint="expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME",
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(
            f"VBIS_DATABASE_URL uses {url.get_backend_name()!r}; vbis-geo needs PostgreSQL",
            hint="expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME",
        )
    if not url.database:
        raise ConfigError(
            "VBIS_DATABASE_URL names no database",
            hint="expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME",
        )
    return url.set(drivername="postgresql+psycopg")


def _masked(raw: str) -> str:
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except ArgumentError:
        return raw.split("@")[-1]


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1024 <= port <= 65535:
        raise ConfigError(f"VBIS_DB_PORT={raw!r} is not a TCP port between 1024 and 65535")
    return port
