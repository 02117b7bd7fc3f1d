"""Accounts, roles, scopes, API tokens, passwords and login; scoped writes.

``passwords`` (argon2id), ``tokens`` (the API token format), ``principal`` (who is asking),
``store`` (accounts, scopes and tokens in the database) and ``authenticate`` (from a request's
credentials to a principal, and login): the web layer (``vbis_geo.web.accounts``) and the
``vbis-geo users`` command are their only callers. ``writer`` (every write made for a user
runs inside :func:`writer`, as the database role ``vbis_writer``, under row-level security) and
``scope`` (whether an account may write a row, and why not, with the database's own rules) serve
every write path: uploads, the review, and the OGC API's editing. SECURITY.md has the design.
"""

from vbis_geo.auth.authenticate import attempt_login, authenticate, session_data
from vbis_geo.auth.principal import (
    PUBLIC,
    Principal,
    Scopes,
    require_authenticated,
    require_editing_role,
)
from vbis_geo.auth.writer import writer

__all__ = [
    "PUBLIC",
    "Principal",
    "Scopes",
    "attempt_login",
    "authenticate",
    "require_authenticated",
    "require_editing_role",
    "session_data",
    "writer",
]
