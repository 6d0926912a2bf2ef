"""The longest post each account's server takes, when the server sets its own.

Mastodon instances choose their limit (500 by default, often 1,000 or more); the instance says
it in ``configuration.statuses.max_characters`` of ``GET /api/v2/instance``. A metrics sync
reads it once per account and keeps it (:class:`~campaign.models.AccountLimit`); the length
checks then use it for that account, and the network's default until it is known. X and
Bluesky have one limit for everybody: nothing is stored for them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from campaign.config import Settings
from campaign.models import AccountLimit, utcnow
from campaign.social.networks import network_of

SET_BY_SERVER = ("mastodon",)  # the networks whose servers each choose their limit

MAX_KNOWN = 100_000  # past this an instance's answer is taken as a mistake, not a limit


def known_limit(session: Session, account: str) -> int | None:
    """The limit stored for ``account``, or None while none was read."""
    row = session.get(AccountLimit, account)
    return row.max_characters if row is not None else None


def store_limit(
    session: Session, account: str, max_characters: int, now: datetime | None = None
) -> None:
    """Keep what ``account``'s server said its limit is (replacing an older answer)."""
    row = session.get(AccountLimit, account) or AccountLimit(account=account, max_characters=0)
    row.max_characters = min(max_characters, MAX_KNOWN)
    row.read_at = now or utcnow()
    session.add(row)


def account_limit(session: Session, settings: Settings, account: str) -> int | None:
    """The limit the length checks use for ``account``: its server's, once read, on a network
    whose servers choose it; None (the network's own) otherwise."""
    if network_of(settings, account) not in SET_BY_SERVER:
        return None
    return known_limit(session, account)


def account_limits(session: Session, settings: Settings) -> dict[str, int]:
    """The limit of each configured account whose server set its own and said it (account →
    limit): what a check without a session of its own (a calendar read) is given."""
    found: dict[str, int] = {}
    for account in settings.social.accounts:
        limit = account_limit(session, settings, account)
        if limit is not None:
            found[account] = limit
    return found
