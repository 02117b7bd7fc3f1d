"""Passwords: argon2id hashes (RFC 9106), verified in constant time, rehashed when the
parameters change.

The parameters are argon2-cffi's defaults (RFC 9106's second recommended option: 64 MiB of
memory, 3 passes, 4 lanes), about 50 ms per hash on a server core. A stored hash keeps the
parameters it was made with, so raising them later needs no migration: the next successful
login stores a new hash (:func:`verify_password` returns it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vbis_geo.errors import InvalidInput

HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
#: longer passwords are refused before hashing (argon2 reads them whole)
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class Verified:
    """Whether a password matched, and the hash to store instead when it did and the stored
    one was made with other parameters (``None`` otherwise)."""

    ok: bool
    new_hash: str | None = None


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise :class:`InvalidInput` unless ``password`` is acceptable (the message never
    repeats the password)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password is shorter than {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    if username and password.strip().lower() == username.lower():
        raise InvalidInput("the password is the username")
    if not password.strip():
        raise InvalidInput("the password is blank")


def hash_password(password: str, *, hasher: PasswordHasher = HASHER) -> str:
    """The argon2id hash (a PHC string, ``$argon2id$v=19$m=...``) of an acceptable password."""
    check_password_policy(password)
    return hasher.hash(password)


def verify_password(
    stored: str | None, password: str, *, hasher: PasswordHasher = HASHER
) -> Verified:
    """Check ``password`` against the ``stored`` hash.

    A missing hash (a token-only account), a malformed one and an over-long password fail like a
    wrong password, after the same work, so that timing does not tell them apart.
    """
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        password = ""
    if not stored:
        _burn(password, hasher)
        return Verified(False)
    try:
        hasher.verify(stored, password)
    except VerifyMismatchError:
        return Verified(False)
    except (InvalidHashError, VerificationError):
        _burn(password, hasher)
        return Verified(False)
    if hasher.check_needs_rehash(stored):
        return Verified(True, hasher.hash(password))
    return Verified(True)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not the password of anyone")


def _burn(password: str, hasher: PasswordHasher) -> None:
    """Spend the time of a verification (unknown users cost as much as known ones)."""
    try:
        hasher.verify(_dummy_hash(hasher), password)
    except VerificationError:
        pass
