"""Accounts, roles, scopes, API tokens, passwords and login.

``passwords`` (argon2id), ``tokens`` (the API token format), ``principal`` (who is asking),
``store`` (accounts, scopes and tokens in the database) and ``authenticate`` (from a request's
credentials to a principal, and login). The web layer (``vbis_geo.web.accounts``) and the
``vbis-geo users`` command are their only callers.
"""

from vbis_geo.auth.authenticate import attempt_login, authenticate, session_data
from vbis_geo.auth.principal import (
    PUBLIC,
    Principal,
    Scopes,
    require_authenticated,
    require_editing_role,
)

__all__ = [
    "PUBLIC",
    "Principal",
    "Scopes",
    "attempt_login",
    "authenticate",
    "require_authenticated",
    "require_editing_role",
    "session_data",
]
