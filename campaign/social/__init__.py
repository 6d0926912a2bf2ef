"""Social networks behind one small interface, so that adding a network is adding one module.

A transport publishes the parts of one post (a thread is several parts, each replying to the
previous one) and reads figures back. It reports each remote id as soon as the network gives
it, through ``on_published``, so the caller can store it before the next part is sent: a crash
half-way through a thread then never leads to a part being published twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from campaign.errors import CampaignError

OnPublished = Callable[[int, str], None]
"""Called with (index of the part in the list given to ``publish``, its remote id)."""


class TransportError(CampaignError):
    """Publishing or reading failed.

    ``permanent``: trying again will not help (bad credentials, duplicate content, text
    refused); otherwise a later attempt may succeed, not before ``retry_at`` when it is known.
    ``uncertain``: the network may have published the part although we got no answer.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_at: datetime | None = None,
        uncertain: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_at = retry_at
        self.uncertain = uncertain


@dataclass(frozen=True)
class PostFigures:
    """What a network says about one published post at one moment."""

    remote_id: str
    impressions: int | None
    likes: int
    reposts: int
    replies: int
    quotes: int


@dataclass(frozen=True)
class AccountFigures:
    """Who the credentials belong to, and their public counts."""

    user_id: str
    username: str
    followers: int
    posts: int


class SocialTransport(Protocol):
    """One account on one network."""

    dry_run: bool

    def publish(
        self,
        parts: Sequence[str],
        *,
        reply_to: str | None = None,
        on_published: OnPublished | None = None,
    ) -> list[str]:
        """Publish ``parts`` as a thread (the first replying to ``reply_to`` if given)."""
        ...

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, PostFigures]:
        """Current figures of published posts, by remote id (unknown ids are left out)."""
        ...

    def account(self) -> AccountFigures:
        """The account the credentials belong to."""
        ...
