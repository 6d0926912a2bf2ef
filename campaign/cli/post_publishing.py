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
from campaign.social.posts import RetryLater, publish_post
from campaign.social.publishing import TRIES_WHILE_WAITING, next_try


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
    for _attempt in range(TRIES_WHILE_WAITING):
        try:
            return publish_post(session, post_id, settings)
        except (TransportError, RetryLater) as exc:
            again = next_try(session, post_id, exc)
            if again.at is None or (again.at - utcnow()).total_seconds() > max_wait:
                raise _not_published(post_id, exc, again.at, settings) from None
            reason = "X asked to wait (rate limit)" if again.asked else "The network failed"
            _wait_until(again.at, reason, settings)
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
