"""API tokens: ``vbis_`` and 43 URL-safe characters (256 random bits), for QGIS and scripts.

A token is shown once, when created; the database keeps its SHA-256 digest (a fast digest is
right here: the secret is random, not guessable like a password) and its first characters
(:data:`LISTED_CHARS`), which identify it in a listing without being usable. Tokens expire:
after :data:`~vbis_geo.db.models.accounts.DEFAULT_TOKEN_DAYS` days unless asked otherwise, at
most :data:`~vbis_geo.db.models.accounts.MAX_TOKEN_DAYS` (the database checks it too).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "vbis_"
_RANDOM_BYTES = 32
#: what a token looks like; anything else is refused before the database is asked
TOKEN_PATTERN = re.compile(r"vbis_[A-Za-z0-9_-]{43}")
#: the characters kept for listings: the prefix and 6 random ones (36 of 256 bits)
LISTED_CHARS = len(TOKEN_PREFIX) + 6


@dataclass(frozen=True)
class NewToken:
    secret: str
    prefix: str
    digest: bytes


def new_token() -> NewToken:
    """A fresh token: the secret to show once, the prefix to list, the digest to store."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    return NewToken(secret, secret[:LISTED_CHARS], token_digest(secret))


def token_digest(secret: str) -> bytes:
    """SHA-256 of the token's text."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def is_well_formed(secret: str) -> bool:
    """Whether ``secret`` has the shape of a token (not whether it is one)."""
    return TOKEN_PATTERN.fullmatch(secret) is not None


def same_digest(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)
