"""``campaign posts publish``'s tries: when the network asks to wait, or failed and gave the
post a time to try again, the command line waits here (the library never waits)."""

from __future__ import annotations

import time as clock
from datetime import datetime

from sqlmodel import Session

from campaign.cli import common
from campaign.cli.common import err_console
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Post, utcnow
from campaign.social import TransportError
from campaign.social.posts import RetryLater, get_post, publish_post


def _wait_until(moment: datetime, reason: str, settings: Settings) -> None:
    """Wait in the foreground, saying so (only the command line waits; the library never)."""
    seconds = max(0, round((moment - utcnow()).total_seconds()))
    until = common.local(moment, settings, "%H:%M:%S")
    err_console.print(f"{reason}: waiting until {until} ({seconds} s), then trying again.")
    with err_console.status(f"Waiting until {until}…"):
        while (left := (moment - utcnow()).total_seconds()) > 0:
            clock.sleep(min(left, 1.0))


def publish_waiting(session: Session, post_id: int, max_wait: int, settings: Settings) -> Post:
    """Publish the post, waiting here (up to ``max_wait`` seconds each time, three tries) when
    the network asks to wait or failed and the post has a time to try again."""
    for _attempt in range(3):
        try:
            return publish_post(session, post_id, settings)
        except (TransportError, RetryLater) as exc:
            retry_at = exc.retry_at
            permanent = isinstance(exc, TransportError) and exc.permanent
            reason = "X asked to wait (rate limit)"
            if retry_at is None and not permanent:  # a server error: the service tries again
                retry_at = get_post(session, post_id).not_before
                reason = "The network failed"
            wait = (retry_at - utcnow()).total_seconds() if retry_at else None
            if permanent or wait is None or wait > max_wait:
                later = None if permanent else retry_at
                raise _not_published(post_id, exc, later, settings) from None
            assert retry_at is not None
            _wait_until(retry_at, reason, settings)
    raise CampaignError(f"Post {post_id} not published: the network kept asking to wait.")


def _not_published(
    post_id: int, exc: Exception, retry_at: datetime | None, settings: Settings
) -> CampaignError:
    later = ""
    if retry_at:
        later = (
            f" It stays scheduled; run this again after "
            f"{common.local(retry_at, settings, '%d/%m/%Y %H:%M:%S')} (or let "
            "the scheduler do it)."
        )
    return CampaignError(f"Post {post_id} not published: {exc}{later}")
