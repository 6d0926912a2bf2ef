"""When an account's access token stops working, and what to say before it does.

LinkedIn's tokens last 60 days and most apps get no refresh token: a page admin makes a new one
by hand. The account's ``token_expires`` says when; from :data:`WARN_DAYS` days before, the
accounts list, ``campaign doctor`` and the dashboard say so, and once the day has come the
transport refuses to post with the message saying how to renew it. Light on purpose (no HTTP
client): the dashboard and the doctor ask without loading any network's transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from campaign.messages import Message, message

WARN_DAYS = 7  # warnings about the token's end start this many days before
TOKEN_MARK = "LinkedIn access token"  # in the English sentence of both token refusals


@dataclass(frozen=True)
class TokenState:
    """Where an account's token stands on a day: ``state`` is ``ok``, ``soon`` or ``expired``."""

    state: str
    expires: date | None
    days: int | None = None  # days left (0 on the day it expires)


def token_state(expires: date | None, today: date) -> TokenState:
    """The state of a token ending on ``expires`` (unknown end: ``ok``) on ``today``."""
    if expires is None:
        return TokenState("ok", None)
    days = (expires - today).days
    if days <= 0:
        return TokenState("expired", expires, days)
    return TokenState("soon" if days <= WARN_DAYS else "ok", expires, days)


def problem_of(text: str) -> str:
    """``linkedin_token`` when a stored error says the LinkedIn token was refused or expired."""
    return "linkedin_token" if TOKEN_MARK in text else ""


def token_message(handle: str, network: str, state: TokenState) -> Message | None:
    """The warning about an account's token (None when nothing to say)."""
    if state.state == "soon":
        return message(
            "account.token_expires_soon",
            "token_expires",
            handle=handle,
            network=network,
            date=state.expires,
            days=state.days,
        )
    if state.state == "expired":
        return message(
            "account.token_expired", "token_expires", handle=handle, network=network,
            date=state.expires,
        )  # fmt: skip
    return None
