"""The embedded development cluster: vbis-geo's own PostgreSQL under ``var/``.

When ``VBIS_DATABASE_URL`` is unset, vbis-geo runs its own PostgreSQL cluster, created with the
server binaries of the machine (Debian's ``postgresql-<v>`` and ``postgresql-<v>-postgis-3``),
listening on 127.0.0.1 only, on a port of its own, so that nothing depends on a server that
happens to run on the developer's machine.

PostgreSQL refuses to run as root. When vbis-geo runs as root, the cluster runs as the
``postgres`` system user, which must be able to reach the data directory; when the project lives
under a directory that user cannot enter (``mktemp -d`` makes such directories), the cluster is
placed under ``/var/lib/vbis-geo/clusters/`` and ``var/postgres`` is a symbolic link to it.

The cluster trusts connections from 127.0.0.1: it is a development database. A deployment sets
``VBIS_DATABASE_URL`` instead.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from vbis_geo.errors import ClusterError
from vbis_geo.settings import EMBEDDED_DB_NAME, EMBEDDED_DB_USER, Settings

SERVER_USER = "postgres"
FALLBACK_ROOT = Path("/var/lib/vbis-geo/clusters")
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_buffers": "'512MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'512MB'",
    "max_wal_size": "'2GB'",
    # a development database: losing the last transactions on a crash is acceptable
    "synchronous_commit": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


@dataclass(frozen=True)
class ClusterStatus:
    """What ``vbis-geo db status`` reports about the embedded cluster."""

    data_dir: Path
    initialised: bool
    running: bool
    port: int


class EmbeddedCluster:
    """The PostgreSQL cluster under ``<var>/postgres``, managed with ``pg_ctl``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.embedded_db_port
        self.link = settings.var_dir / "postgres"

    # -- locations ------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """Directory holding ``data/`` and ``server.log`` (may be a symlink target)."""
        return self.link.resolve() if self.link.is_symlink() else self.link

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def bindir(self) -> Path:
        """Return the PostgreSQL server binary directory to use.

        Raises :class:`ClusterError` when no PostgreSQL server with PostGIS is installed.
        """
        if self.settings.pg_bindir:
            if not (self.settings.pg_bindir / "pg_ctl").exists():
                raise ClusterError(
                    f"VBIS_PG_BINDIR={self.settings.pg_bindir} holds no pg_ctl",
                    hint="point it at a PostgreSQL server's bin directory",
                )
            return self.settings.pg_bindir
        candidates = []
        for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
            version = bindir.parent.name
            postgis = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
            if (bindir / "pg_ctl").exists() and postgis.exists() and version.isdigit():
                candidates.append((int(version), bindir))
        if not candidates:
            raise ClusterError(
                "no PostgreSQL server with PostGIS is installed on this machine",
                hint="run `make system` as root (it installs postgresql-15-postgis-3), "
                "or set VBIS_DATABASE_URL to an existing PostGIS database",
            )
        return max(candidates)[1]

    # -- state ----------------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        initialised = (self.data_dir / "PG_VERSION").exists()
        running = initialised and self._pg_ctl_ok("status")
        return ClusterStatus(self.data_dir, initialised, running, self.port)

    # -- actions --------------------------------------------------------------------------
    def start(self) -> bool:
        """Create the cluster if needed, start it if stopped, create the database.

        Returns True if the server was started by this call, False if it already ran.
        Raises :class:`ClusterError` naming the cause (binaries missing, port taken, start
        failure with the tail of the server log).
        """
        self._ensure_initialised()
        if self.status().running:
            self._ensure_database()
            return False
        if _port_in_use(self.port):
            raise ClusterError(
                f"port {self.port} on 127.0.0.1 is already in use by another program",
                hint="stop it (`make stop` in another checkout), or choose another port with "
                "VBIS_DB_PORT=<port>",
            )
        result = self._run(
            [
                str(self.bindir() / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port}",
            ]
        )
        if result.returncode != 0:
            raise ClusterError(
                f"the embedded PostgreSQL did not start: {result.stderr.strip() or result.stdout}"
                f"\n{self._log_tail()}",
                hint=f"see {self.log_file}",
            )
        self._ensure_database()
        return True

    def stop(self) -> bool:
        """Stop the cluster; returns False if it was not running."""
        if not self.status().running:
            return False
        result = self._run(
            [str(self.bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)]
        )
        if result.returncode != 0:
            raise ClusterError(f"could not stop the embedded PostgreSQL: {result.stderr.strip()}")
        return True

    def destroy(self) -> None:
        """Stop the cluster and delete its files (``make clean-db``)."""
        self.stop()
        root = self.root
        if self.link.is_symlink():
            self.link.unlink()
        if root.exists():
            shutil.rmtree(root)

    # -- internals ------------------------------------------------------------------------
    def _ensure_initialised(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            self._check_version()
            return
        self._prepare_root()
        result = self._run(
            [
                str(self.bindir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                EMBEDDED_DB_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
        if result.returncode != 0:
            raise ClusterError(
                f"initdb failed for {self.data_dir}: {result.stderr.strip()}",
                hint="remove var/postgres and retry, or set VBIS_DATABASE_URL",
            )
        settings = "\n".join(f"{k} = {v}" for k, v in SERVER_SETTINGS.items())
        conf = self.data_dir / "postgresql.conf"
        # written in place, so the file keeps its owner (the server user) when we are root
        conf.write_text(conf.read_text() + "\n# vbis-geo embedded cluster\n" + settings + "\n")

    def _check_version(self) -> None:
        cluster_version = (self.data_dir / "PG_VERSION").read_text().strip()
        binary_version = self.bindir().parent.name
        if cluster_version != binary_version:
            raise ClusterError(
                f"the cluster in {self.data_dir} is PostgreSQL {cluster_version} but the "
                f"server binaries found are {binary_version}",
                hint=f"set VBIS_PG_BINDIR=/usr/lib/postgresql/{cluster_version}/bin, or remove "
                "var/postgres (`make clean-db`) to create a new cluster",
            )

    def _prepare_root(self) -> None:
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            self.link.mkdir(exist_ok=True)
            return
        user = _server_user()
        if not self.link.is_symlink():
            self.link.mkdir(exist_ok=True)
            os.chown(self.link, user.pw_uid, user.pw_gid)
            if self._server_user_can_write(self.link):
                return
            # the server user cannot reach the project: keep the cluster where it can
            self.link.rmdir()
            digest = hashlib.sha1(str(self.settings.var_dir).encode()).hexdigest()[:12]
            target = FALLBACK_ROOT / digest
            target.mkdir(parents=True, exist_ok=True)
            os.chown(target, user.pw_uid, user.pw_gid)
            self.link.symlink_to(target)

    def _server_user_can_write(self, path: Path) -> bool:
        probe = subprocess.run(
            ["runuser", "-u", SERVER_USER, "--", "test", "-w", str(path)], check=False
        )
        return probe.returncode == 0

    def _ensure_database(self) -> None:
        admin = sa.create_engine(
            self.settings.database_url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": EMBEDDED_DB_NAME},
                ).scalar()
                if not exists:
                    conn.execute(sa.text(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"'))
        finally:
            admin.dispose()

    def _pg_ctl_ok(self, action: str) -> bool:
        result = self._run([str(self.bindir() / "pg_ctl"), action, "-D", str(self.data_dir)])
        return result.returncode == 0

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            _server_user()
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")

    def _log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, but there is no {SERVER_USER!r} system user to run PostgreSQL",
            hint="install PostgreSQL from Debian's packages (`make system`) or run as a "
            "normal user",
        ) from None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
