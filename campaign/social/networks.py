"""Which network each configured account is on, what it needs, and which transport serves it.

The one place that knows the list of networks: a new network is a module beside this one and a
line in each table here. Everything else asks for an account's transport (or its length rule,
through :mod:`campaign.social.length`) by the account's name.
"""

from __future__ import annotations

from typing import Any

from campaign.config import Settings, SocialAccount
from campaign.errors import CampaignError
from campaign.social import SocialTransport
from campaign.social.dryrun import DryRunTransport

NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "linkedin": "LinkedIn"}
# The settings naming each network's secrets: without all of them, the account runs dry.
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "x": ("consumer_key_env", "consumer_secret_env", "access_token_env", "access_token_secret_env"),
    "mastodon": ("access_token_env",),
    "bluesky": ("app_password_env",),
    "linkedin": ("access_token_env",),
}


def account_settings(settings: Settings, name: str) -> SocialAccount:
    """The ``[social.accounts.NAME]`` section, or a message listing the configured names."""
    accounts = settings.social.accounts
    if name not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise CampaignError(
            f"Unknown social account {name!r}. Configured accounts: {known} "
            "(sections [social.accounts.NAME] of the configuration file)."
        )
    return accounts[name]


def network_of(settings: Settings, name: str) -> str:
    """The network of account ``name`` (``x`` for an unknown one, whose use fails later)."""
    account = settings.social.accounts.get(name)
    return account.network if account is not None else "x"


def missing_credentials(settings: Settings, account: SocialAccount) -> list[str]:
    """Names of the credential variables of ``account`` that are unset (or not named at all)."""
    missing = []
    for field in CREDENTIAL_FIELDS[account.network]:
        env = getattr(account, field)
        if not env:
            missing.append(f"({field} not set in the configuration)")
        elif settings.secret(env) is None:
            missing.append(env)
    return missing


def transport_for(settings: Settings, name: str, **options: Any) -> SocialTransport:
    """The transport of account ``name``, or a dry-run one while credentials are missing.

    ``options`` override the transport's defaults (``retries``, ``timeout``, ``backoff``,
    ``sleep``, ``clock``); the defaults come from the network's settings section.
    """
    account = account_settings(settings, name)
    if missing_credentials(settings, account):
        return DryRunTransport(handle=account.handle)
    # Each network's client library is imported only when one of its accounts is live, so a
    # command for X alone never loads Mastodon.py (nor tweepy for a Bluesky-only setup).
    if account.network == "mastodon":
        from campaign.social.mastodon import MastodonTransport

        chosen: dict[str, Any] = {
            "retries": settings.social.mastodon.retries,
            "timeout": settings.social.mastodon.timeout,
        }
        chosen.update(options)
        return MastodonTransport(
            account.handle,
            account.instance_url,
            settings.secret(account.access_token_env) or "",
            visibility=account.visibility,
            **chosen,
        )
    if account.network == "bluesky":
        from campaign.social.bluesky import BlueskyTransport

        chosen = {
            "retries": settings.social.bluesky.retries,
            "timeout": settings.social.bluesky.timeout,
        }
        chosen.update(options)
        return BlueskyTransport(
            account.handle,
            settings.secret(account.app_password_env) or "",
            service_url=account.service_url,
            **chosen,
        )
    if account.network == "linkedin":
        from campaign.social.linkedin import LinkedInTransport

        network = settings.social.linkedin
        chosen = {"retries": network.retries, "timeout": network.timeout}
        chosen.update(options)
        return LinkedInTransport(
            account.handle,
            account.organization_id,
            settings.secret(account.access_token_env) or "",
            token_env=account.access_token_env,
            token_expires=account.token_expires,
            api_base_url=network.api_base_url,
            version=network.version,
            **chosen,
        )
    from campaign.social.x import transport_of

    return transport_of(settings, account, **options)
