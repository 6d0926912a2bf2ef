"""Email address checks: syntax only (no DNS: imports must work offline and stay fast).

``email-validator`` is the reference, but it spends most of its time on the domain, and a
subscriber file repeats the same few domains thousands of times. So the common shape (a plain
ASCII dot-atom local part) takes a fast path: the local part is checked by a pattern that accepts
a strict subset of what the validator accepts, and the domain is validated once and cached. Any
other address, and any address the fast path doubts, goes through the full validator.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType

from campaign.errors import CampaignError

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*\Z")
_MAX_LOCAL = 64
_MAX_ADDRESS = 254


class InvalidEmail(CampaignError):
    """An address that cannot be mailed; the message says why, in plain words."""


def _validator() -> ModuleType:
    """email-validator, imported at the first address checked: its import compiles large
    patterns, which commands that check no address (``--version``, the bounce pipe) skip."""
    import email_validator

    return email_validator


@lru_cache(maxsize=4096)
def _normalised_domain(domain: str) -> str | None:
    """The domain as email-validator normalises it, or None when it doubts it."""
    validator = _validator()
    try:
        return validator.validate_email(f"a@{domain}", check_deliverability=False).domain
    except validator.EmailNotValidError:
        return None


def _full_check(candidate: str) -> str:
    validator = _validator()
    try:
        result = validator.validate_email(candidate, check_deliverability=False)
    except validator.EmailNotValidError as exc:
        raise InvalidEmail(f"invalid email address {candidate!r}: {exc}") from None
    return result.normalized.lower()


def normalise_email(text: str) -> str:
    """The address as stored: trimmed, validated, lower-cased (compared case-insensitively)."""
    candidate = (text or "").strip().strip("<>").strip()
    if not candidate:
        raise InvalidEmail("empty email address")
    local, at, domain = candidate.rpartition("@")
    if at and len(local) <= _MAX_LOCAL and _DOT_ATOM.match(local):
        normalised = _normalised_domain(domain)
        if normalised is not None:
            address = f"{local}@{normalised}"
            if len(address) <= _MAX_ADDRESS:
                return address.lower()
    return _full_check(candidate)


def sender_address(text: str) -> str:
    """An address to send from (From, Reply-To), lower-cased, in the form messages carry.

    Stricter than :func:`normalise_email`: messages are sent without SMTPUTF8, so the part
    before the @ must be plain ASCII, and the domain is given in its ASCII (``xn--``) form. A
    sender address that fails here would fail every message of a send, not one recipient.
    """
    candidate = (text or "").strip().strip("<>").strip()
    if not candidate:
        raise InvalidEmail("empty email address")
    validator = _validator()
    try:
        result = validator.validate_email(candidate, check_deliverability=False)
    except validator.EmailNotValidError as exc:
        raise InvalidEmail(f"invalid email address {candidate!r}: {exc}") from None
    if result.ascii_email is None:
        raise InvalidEmail(
            f"invalid sender address {candidate!r}: the part before the @ must be plain ASCII "
            "(messages are sent without SMTPUTF8)"
        )
    return result.ascii_email.lower()
