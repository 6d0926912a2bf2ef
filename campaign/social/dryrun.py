"""The transport used while an account has no credentials: records, never touches the network.

This is the embedded default: a fresh install can plan and "publish" posts, see them marked
as dry-run in the database, and go live by setting four environment variables.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from campaign.social import (
    AccountFigures,
    Mentions,
    OnPublished,
    Outgoing,
    PostFigures,
    Usage,
)


@dataclass
class DryRunTransport:
    """Keeps what would have been published in ``published`` (text, reply_to, fake id)."""

    handle: str = "dry-run"
    dry_run: bool = True
    published: list[tuple[str, str | None, str]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)  # stays at zero: nothing is billed

    def publish(self, post: Outgoing, *, on_published: OnPublished | None = None) -> list[str]:
        ids: list[str] = []
        reply_to = post.reply_to
        for index, text in enumerate(post.parts):
            remote_id = f"dry-run-{uuid.uuid4().hex[:16]}"
            self.published.append((text, reply_to, remote_id))
            ids.append(remote_id)
            reply_to = remote_id
            if on_published is not None:
                on_published(index, remote_id)
        return ids

    def fetch_metrics(
        self, remote_ids: Sequence[str], *, non_public: bool = True
    ) -> dict[str, PostFigures]:
        return {}

    def account(self) -> AccountFigures:
        return AccountFigures(user_id="", username=self.handle, followers=0, posts=0)

    def mentions(self, since_id: str | None, *, since_time: datetime | None = None) -> Mentions:
        return Mentions(count=0, newest_id=since_id)
