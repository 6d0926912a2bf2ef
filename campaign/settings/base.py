"""What the settings sections share: the base model, the signing key's variable, checks."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from campaign.addresses import InvalidEmail, sender_address

SECRET_KEY_ENV = "CAMPAIGN_SECRET_KEY"


def sender(value: str) -> str:
    """A sender address setting, checked as messages will need it (ValueError: the reason)."""
    try:
        return sender_address(value)
    except InvalidEmail as exc:
        raise ValueError(str(exc)) from None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
