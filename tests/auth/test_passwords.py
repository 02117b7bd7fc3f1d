"""Passwords: argon2id, constant work for every failure, rehash when parameters change."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from vbis_geo.auth.passwords import (
    HASHER,
    Verified,
    check_password_policy,
    hash_password,
    verify_password,
)
from vbis_geo.errors import InvalidInput

PASSWORD = "rừng Cúc Phương 1962"
#: cheaper parameters than the current ones: a hash made with them is rehashed on login
OLD = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def test_hash_is_argon2id_salted_and_verifies() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$")
    assert PASSWORD not in stored
    assert hash_password(PASSWORD) != stored  # a salt of its own
    assert verify_password(stored, PASSWORD) == Verified(True)
    assert not verify_password(stored, PASSWORD + " ").ok
    assert not verify_password(stored, "").ok


def test_a_hash_with_old_parameters_is_replaced_on_success() -> None:
    stored = OLD.hash(PASSWORD)
    assert not verify_password(stored, "wrong password!").ok
    result = verify_password(stored, PASSWORD)
    assert result.ok and result.new_hash is not None
    assert not HASHER.check_needs_rehash(result.new_hash)
    assert verify_password(result.new_hash, PASSWORD) == Verified(True)


@pytest.mark.parametrize("stored", [None, "", "$argon2id$garbage", "plain text"])
def test_no_or_malformed_hash_fails_like_a_wrong_password(stored) -> None:  # type: ignore[no-untyped-def]
    assert verify_password(stored, PASSWORD).ok is False


def test_overlong_and_non_text_passwords_fail() -> None:
    stored = hash_password(PASSWORD)
    assert not verify_password(stored, "x" * 5000).ok
    assert not verify_password(stored, None).ok  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("tiny", "shorter than 12"),
        ("x" * 1025, "longer than 1024"),
        ("            ", "blank"),
        ("Nguyen.Van.A", "is the username"),
    ],
)
def test_policy_names_the_problem_without_the_password(password: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as info:
        check_password_policy(password, username="nguyen.van.a")
    assert not password.strip() or password.strip() not in str(info.value)
