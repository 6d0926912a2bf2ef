"""What the posts' pages share: a post or 404, the configured accounts' handles and networks."""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlmodel import Session

from campaign.dashboard import pagekit
from campaign.errors import CampaignError
from campaign.models import Post
from campaign.social.networks import network_of
from campaign.social.posts import get_post


def get_or_404(session: Session, post_id: int) -> Post:
    try:
        return get_post(session, post_id)
    except CampaignError:
        raise HTTPException(404) from None


def handles_by_account(request: Request) -> dict[str, str]:
    return {
        name: account.handle
        for name, account in pagekit.dashboard(request).settings.social.accounts.items()
    }


def networks_by_account(request: Request) -> dict[str, str]:
    """The network of each configured account."""
    accounts = pagekit.dashboard(request).settings.social.accounts
    return {name: account.network for name, account in accounts.items()}


def network_of_account(request: Request, account: str) -> str:
    """The network of ``account`` (X's rules for an unknown or empty one)."""
    return network_of(pagekit.dashboard(request).settings, account)
