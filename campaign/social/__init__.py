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
from campaign.messages import Message

OnPublished = Callable[[int, str], None]
"""Called with (index of the part in ``Outgoing.parts``, its remote id)."""


class TransportError(CampaignError):
    """Publishing or reading failed.

    ``permanent``: trying again will not help (bad credentials, duplicate content, text
    refused); otherwise a later attempt may succeed, not before ``retry_at`` when it is known.
    ``uncertain``: the network may have published the part although we got no answer, so the
    next attempt must look for it before sending it again. ``message``: a sentence, or a
    :class:`~campaign.messages.Message` the doors word (as LinkedIn's refusals are).
    """

    def __init__(
        self,
        message: str | Message,
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
class Image:
    """An image file to attach, already checked (type sniffed from its bytes, size, alt text)."""

    path: str
    alt: str
    media_type: str


@dataclass(frozen=True)
class LinkCard:
    """A link shown as a card under a post (Bluesky's ``app.bsky.embed.external``), built from
    what we know of the page (an event's own title, description and image): networks that
    build cards themselves from the link (Mastodon, X) ignore it."""

    uri: str
    title: str
    description: str
    thumb: Image | None = None


@dataclass(frozen=True)
class Outgoing:
    """What to publish now, independent of how posts are stored.

    ``parts``: the parts not yet on the network, in order, each replying to the previous one
    and the first to ``reply_to`` (the last part already published, if any). ``images`` go with
    the first of ``parts``. ``check_since``: an earlier attempt got no clear answer at about that
    time, so the transport first looks for the first part among the account's recent posts and
    sends it only if it is not there. ``key``: names the stored post, the same on every attempt,
    for networks that take an idempotency key (Mastodon). ``card``: the link card of the first
    part, for networks that take one from the client.
    """

    parts: tuple[str, ...]
    reply_to: str | None = None
    images: tuple[Image, ...] = ()
    check_since: datetime | None = None
    key: str = ""
    card: LinkCard | None = None  # with the first of ``parts``, when it has no images


@dataclass
class Usage:
    """Billable requests made (X bills per request written and per resource read)."""

    posts: int = 0
    posts_with_url: int = 0
    media_uploads: int = 0
    media_metadata: int = 0
    posts_read: int = 0
    users_read: int = 0

    def add(self, other: Usage) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


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


@dataclass(frozen=True)
class Mentioned:
    """One post of someone else mentioning the account (``kind`` ``mention``) or one repost of
    its posts (``repost``), with its author as the network gave them: their handle and
    follower count (``None`` when the network did not say), for the bilan's influencers."""

    remote_id: str
    kind: str
    author: str
    followers: int | None
    at: datetime


@dataclass(frozen=True)
class Mentions:
    """Posts mentioning the account newer than a given one: how many, and the newest id.

    ``items``: those mentions (and the reposts read with them, which ``count`` leaves out), with
    their authors, where the network gives them with the mentions; none on a first sync.
    """

    count: int
    newest_id: str | None
    complete: bool = True  # False when X stopped paging before reaching the given id
    items: tuple[Mentioned, ...] = ()


class SocialTransport(Protocol):
    """One account on one network."""

    dry_run: bool
    usage: Usage

    def publish(self, post: Outgoing, *, on_published: OnPublished | None = None) -> list[str]:
        """Publish ``post.parts`` as a thread; report each id through ``on_published``."""
        ...

    def fetch_metrics(
        self, remote_ids: Sequence[str], *, non_public: bool = True
    ) -> dict[str, PostFigures]:
        """Current figures of published posts, by remote id (unknown ids are left out).

        ``non_public``: also ask for the figures only the author sees (impressions), which X
        gives for posts of the last 30 days only.
        """
        ...

    def account(self) -> AccountFigures:
        """The account the credentials belong to."""
        ...

    def mentions(self, since_id: str | None, *, since_time: datetime | None = None) -> Mentions:
        """Posts mentioning the account after post ``since_id`` (else after ``since_time``).

        With neither, nothing is counted: only the newest mention's id is returned, as the
        starting point of the next count.
        """
        ...
