"""Email address checks: syntax only (no DNS: imports must work offline and stay fast)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from campaign.errors import CampaignError


class InvalidEmail(CampaignError):
    """An address that cannot be mailed; the message says why, in plain words."""


def normalise_email(text: str) -> str:
    """The address as stored: trimmed, validated, lower-cased (compared case-insensitively)."""
    candidate = (text or "").strip().strip("<>").strip()
    if not candidate:
        raise InvalidEmail("empty email address")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"invalid email address {candidate!r}: {exc}") from None
    return result.normalized.lower()
