"""The public address of a configured account's profile, for links to it (newsletter footers).

Light on purpose: the newsletters link to the accounts without loading any network's client.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "linkedin": "LinkedIn"}


def profile_url(account: Any) -> str:
    """Where a reader finds ``account`` ("" for a network whose profile address is unknown)."""
    handle = account.handle.lstrip("@")
    network = account.network
    if network == "x":
        return f"https://x.com/{quote(handle)}"
    if network == "bluesky":
        return f"https://bsky.app/profile/{quote(handle)}"
    if network == "linkedin":
        return f"https://www.linkedin.com/company/{quote(handle)}"
    if network == "mastodon":
        instance = str(getattr(account, "instance_url", "") or "").rstrip("/")
        return f"{instance}/@{quote(handle)}" if instance else ""
    return ""


def profile_links(settings: Any, names: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """The configured accounts (``names``, or all of them), each as network, handle and URL,
    in the order given (or by name)."""
    accounts = settings.social.accounts
    chosen = names if names is not None else tuple(sorted(accounts))
    links = []
    for name in chosen:
        account = accounts.get(name)
        if account is None:
            continue
        url = profile_url(account)
        if url:
            links.append(
                {
                    "network": NETWORK_NAMES.get(account.network, account.network),
                    "handle": "@" + account.handle.lstrip("@"),
                    "url": url,
                }
            )
    return links
