"""Which accounts are configured, and whether their network accepts their credentials.

Finding out that a token was revoked on the morning of the Mois's opening is too late: this
check asks each network who the credentials belong to (one cheap read per account) and says
plainly which variable is missing, or why the network refused them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from campaign.clock import utcnow
from campaign.config import Settings, SocialAccount
from campaign.messages import Message, message
from campaign.social import SocialTransport, TransportError
from campaign.social.networks import NETWORK_NAMES, missing_credentials, transport_for
from campaign.social.tokens import token_message, token_state


@dataclass
class AccountCheck:
    """One configured account. ``ok`` is None when not checked (dry run, or offline)."""

    name: str
    network: str
    handle: str
    mode: str  # "live" or "dry run"
    server: str = ""  # the instance (Mastodon), the PDS (Bluesky) or the API (X) asked
    missing: list[str] = field(default_factory=list)
    ok: bool | None = None
    # What the check found, as a message each door words (a network's refusal: its own text).
    detail: Message | str = ""
    followers: int | None = None
    token_expires: str | None = None  # the day the access token ends, when it is known
    token: str = ""  # "soon" (in 7 days or less), "expired", or "" (fine or unknown)
    warning: str = ""  # what to do about the token, in the CLI's words


def server_of(settings: Settings, account: SocialAccount) -> str:
    """The address the account's requests go to."""
    if account.network == "mastodon":
        return account.instance_url
    if account.network == "bluesky":
        return account.service_url
    if account.network == "linkedin":
        return settings.social.linkedin.api_base_url
    return settings.social.x.api_base_url


def token_warning(account: SocialAccount, today: date) -> tuple[str, str]:
    """``(state, sentence)`` about the account's token end: ``soon``/``expired`` or ``""``."""
    state = token_state(getattr(account, "token_expires", None), today)
    said = token_message(account.handle, NETWORK_NAMES[account.network], state)
    return (state.state, str(said)) if said is not None else ("", "")


def check_accounts(
    settings: Settings,
    *,
    offline: bool = False,
    transports: Mapping[str, SocialTransport] | None = None,
    today: date | None = None,
) -> list[AccountCheck]:
    """Every configured account, checked with its network unless ``offline`` (one read per
    live one), with a warning when its token ends within 7 days (LinkedIn's ``token_expires``)."""
    today = today or utcnow().date()
    checks = []
    for name, account in sorted(settings.social.accounts.items()):
        missing = missing_credentials(settings, account)
        check = AccountCheck(
            name=name,
            network=account.network,
            handle=account.handle,
            mode="dry run" if missing else "live",
            server=server_of(settings, account),
            missing=missing,
        )
        expires = getattr(account, "token_expires", None)
        check.token_expires = expires.isoformat() if expires else None
        check.token, check.warning = token_warning(account, today)
        if missing:
            check.detail = message("account.missing", "credentials", variables=missing)
        elif offline:
            check.detail = message("account.not_checked")
        else:
            transport = (transports or {}).get(name) or transport_for(settings, name, retries=1)
            try:
                figures = transport.account()
            except TransportError as exc:
                check.ok = False
                check.detail = str(exc)
            else:
                check.followers = figures.followers
                network = NETWORK_NAMES[account.network]
                if figures.username.lower() == account.handle.lower().lstrip("@"):
                    check.ok = True
                    check.detail = message(
                        "account.accepted", network=network, username=figures.username
                    )
                else:
                    check.ok = False
                    check.detail = message(
                        "account.other_user",
                        "credentials",
                        username=figures.username,
                        handle=account.handle,
                    )
        checks.append(check)
    return checks
