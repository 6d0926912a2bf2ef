"""Passwords: the rules a new one must follow, Argon2id hashing, and checking one given.

Checking costs the same for an unknown address as for a wrong password, so that the time of
an answer does not tell which addresses are users.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from campaign.errors import CampaignError
from campaign.models import User

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified when the address is unknown, so that a wrong address takes as long as a wrong
    password; made at the first such check, not on import (a hash costs 0.17 s of CPU, and
    most processes importing this module never check a password)."""
    return _hasher.hash("not a password of anyone")


def prepare_checks() -> None:
    """Make the stand-in hash now, where sign-ins will be checked (the dashboard's start), so
    that the first check of an unknown address is not the one slower answer."""
    _dummy_hash()


def check_password_strength(password: str) -> None:
    """Refuse a password too short or with spaces around it (as a message, field ``password``)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CampaignError.of("user.password_too_short", "password", min=MIN_PASSWORD_LENGTH)
    if password.strip() != password:
        raise CampaignError.of("user.password_spaces", "password")


def hash_password(password: str) -> str:
    """The stored form of a new password, once it follows the rules."""
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's; the same work is done for an unknown user."""
    try:
        return _hasher.verify(user.password_hash if user else _dummy_hash(), password) and (
            user is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(user: User) -> bool:
    """Whether the stored hash uses older parameters than today's (rehashed at sign-in)."""
    try:
        return _hasher.check_needs_rehash(user.password_hash)
    except InvalidHashError:
        return False


def rehash(user: User, password: str) -> None:
    """Store ``password`` again with today's parameters (it was just verified)."""
    user.password_hash = _hasher.hash(password)
