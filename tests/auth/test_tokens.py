"""The API token format: recognisable, 256 random bits, stored as a digest."""

from __future__ import annotations

import hashlib

from vbis_geo.auth.tokens import (
    LISTED_CHARS,
    TOKEN_PREFIX,
    is_well_formed,
    new_token,
    token_digest,
)


def test_new_tokens_are_random_recognisable_and_digested() -> None:
    tokens = {new_token().secret for _ in range(100)}
    assert len(tokens) == 100
    token = new_token()
    assert token.secret.startswith(TOKEN_PREFIX) and len(token.secret) == 48
    assert is_well_formed(token.secret)
    assert token.prefix == token.secret[:LISTED_CHARS] == token.secret[:11]
    assert (
        token.digest == hashlib.sha256(token.secret.encode()).digest() == token_digest(token.secret)
    )


def test_malformed_tokens_are_recognised() -> None:
    good = new_token().secret
    for bad in ["", good[:-1], good + "A", "VBIS_" + good[5:], good[:-1] + "!", good + "\n",
                "ghp_" + good[5:]]:  # fmt: skip
        assert not is_well_formed(bad), bad
