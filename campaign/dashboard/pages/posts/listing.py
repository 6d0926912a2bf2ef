"""The posts' list, with those the composer just created first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from campaign.dashboard import pagekit
from campaign.dashboard.pages.posts.shared import handles_by_account, networks_by_account
from campaign.models import Post, PostStatus
from campaign.social.networks import NETWORK_NAMES
from campaign.social.posts import list_posts

router = APIRouter()


@router.get("/posts")
def index(request: Request, account: str = "", status: str = "", created: str = "") -> Response:
    """The posts, with those the composer just created (``created``: their ids) listed first."""
    board = pagekit.dashboard(request)
    pagekit.check_choice(status, [item.value for item in PostStatus], "status")
    ids = [
        int(item)
        for item in created.split(",")[:20]
        if item.strip().isdigit() and 0 < int(item) < 2**31  # an id the database can hold
    ]
    with board.session() as session:
        posts = list_posts(session, account=account or None, status=status or None)
        new_posts = [post for post in (session.get(Post, i) for i in ids) if post is not None]
    return pagekit.render(
        request,
        "posts/list.html",
        created=new_posts,
        networks=networks_by_account(request),
        network_names=NETWORK_NAMES,
        posts=posts,
        account=account,
        status=status,
        handles=handles_by_account(request),
        statuses=[item.value for item in PostStatus],
    )
