"""Which accounts are configured, and whether their network accepts their credentials.

Finding out that a token was revoked on the morning of the Mois's opening is too late: this
check asks each network who the credentials belong to (one cheap read per account) and says
plainly which variable is missing, or why the network refused them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from campaign.config import Settings, SocialAccount
from campaign.messages import Message, message
from campaign.social import SocialTransport, TransportError
from campaign.social.networks import NETWORK_NAMES, missing_credentials, transport_for


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


def server_of(settings: Settings, account: SocialAccount) -> str:
    """The address the account's requests go to."""
    if account.network == "mastodon":
        return account.instance_url
    if account.network == "bluesky":
        return account.service_url
    return settings.social.x.api_base_url


def check_accounts(
    settings: Settings,
    *,
    offline: bool = False,
    transports: Mapping[str, SocialTransport] | None = None,
) -> list[AccountCheck]:
    """Every configured account, checked with its network unless ``offline`` (one read per
    live one)."""
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
