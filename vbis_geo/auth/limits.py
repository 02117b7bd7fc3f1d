"""Rate limits: events counted per subject (a digest, never what it is made of) in a sliding
window, in a table of ``auth`` with ``subject_sha256`` and a time column. Failed logins
(per username and address) and contributions without an account (per address) are counted so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vbis_geo.errors import TooManyAttempts


@dataclass(frozen=True)
class Limit:
    """At most ``most`` events per subject in ``window``, counted in ``auth.<table>`` by the
    time column ``at``. Table and column are the schema's names, never input."""

    table: str
    at: str
    most: int
    window: dt.timedelta

    def check(self, conn: Connection, subject: bytes, problem: str, hint: str) -> None:
        """Raise :class:`TooManyAttempts` (``problem``, ``hint``, the seconds to wait) when
        ``subject`` has had ``most`` events in the window."""
        seconds = int(self.window.total_seconds())
        seen = conn.execute(
            sa.text(
                f"SELECT count(*) AS n, extract(epoch FROM min({self.at}) + "  # noqa: S608 (schema names)
                f"make_interval(secs => :window) - now()) AS wait FROM auth.{self.table} "
                f"WHERE subject_sha256 = :subject AND {self.at} > now() - "
                "make_interval(secs => :window)"
            ),
            {"subject": subject, "window": seconds},
        ).one()
        if seen.n >= self.most:
            raise TooManyAttempts(
                problem, retry_after_s=max(1, int(seen.wait or seconds) + 1), hint=hint
            )

    def count(self, conn: Connection, subject: bytes) -> None:
        """Count one event of ``subject`` (and forget every event older than the window)."""
        conn.execute(
            sa.text(
                f"DELETE FROM auth.{self.table} WHERE {self.at} < now() - "  # noqa: S608 (schema names)
                "make_interval(secs => :window)"
            ),
            {"window": int(self.window.total_seconds())},
        )
        conn.execute(
            sa.text(f"INSERT INTO auth.{self.table} (subject_sha256) VALUES (:subject)"),  # noqa: S608
            {"subject": subject},
        )
