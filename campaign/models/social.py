"""Social posts and what was measured about them and the accounts that publish them.

A post keeps its thread parts, the remote id of every part already published and its status, so
that publishing is resumable: a thread that failed half-way restarts from the first part with no
remote id, and a part that has an id is never sent again. Measurements are appended as rows
(snapshots), never overwritten, so reports can show how figures evolved over the Mois.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from campaign.models.base import UTCDateTime, utcnow


class PostStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    publishing = "publishing"
    published = "published"
    failed = "failed"
    cancelled = "cancelled"
    missed = "missed"  # its time passed while no scheduler could publish it (see last_error)


class Post(SQLModel, table=True):
    """One post (or thread) for one configured account.

    ``parts``: the texts actually sent, one per post of the thread (a single post has one part).
    ``images``: ``[{"path": "…", "alt": "…", "media_type": "image/png", "size": 1234}]``
    attached to the first part. ``remote_ids``: the X id of each part already published, in
    order. ``event_ids``: the events it announces.

    ``template``: the post template its text was generated from with those events (by the post
    planner, an "events of the day" rule or ``post create --template --event``); empty for a
    text a person wrote. ``generated_digest``: the SHA-256 of the text as generated. A generated
    post moved to another time is written again for it (see :mod:`campaign.social.moving`) only
    while its text is still exactly the generated one, so a person's words are never replaced.

    ``not_before``: X asked us to wait (rate limit) until then; the post stays ``scheduled`` and
    is not tried again earlier. ``uncertain_since``: an attempt made then got no clear answer
    (time-out), so the part may be on X already; the next attempt looks for it among the
    account's posts since that time before sending it again.
    """

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=100, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    parts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    images: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    status: str = Field(default=PostStatus.draft, max_length=20, index=True)
    remote_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    dry_run: bool = Field(default=False)
    last_error: str = Field(default="", max_length=2000)
    attempts: int = Field(default=0)
    event_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Set when the post comes from a campaign calendar: "<calendar>/<entry key>", or
    # "<calendar>/<rule key>/<local time>" for one post of a recurring rule.
    schedule_key: str | None = Field(default=None, max_length=300, unique=True, index=True)
    template: str = Field(
        default="", sa_column=Column(String(100), nullable=False, server_default="")
    )
    generated_digest: str = Field(
        default="", sa_column=Column(String(64), nullable=False, server_default="")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    uncertain_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountSnapshot(SQLModel, table=True):
    """Followers, post count and new mentions of one account at one moment.

    ``typed``: a follower count a person typed in for a day (``campaign social followers``, the
    reports page), for an account X charges to measure. It has no post count, no mentions and
    no mention id, so a sync never counts mentions from it (see :mod:`campaign.social.metrics`);
    the reports use its followers as a measured one's and say it was typed.
    """

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=100, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    followers: int = Field(default=0)
    posts: int = Field(default=0)
    mentions_since_last: int = Field(default=0)
    last_mention_id: str = Field(default="", max_length=40)
    typed: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )


class PostMetrics(SQLModel, table=True):
    """Public (and, for recent posts, non-public) metrics of one post at one moment."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    impressions: int | None = Field(default=None)
    likes: int = Field(default=0)
    reposts: int = Field(default=0)
    replies: int = Field(default=0)
    quotes: int = Field(default=0)


class SocialMention(SQLModel, table=True):
    """One post of someone else mentioning one of our accounts, or reposting one of its posts.

    Kept with its author's follower count as the network gave it with the mention, so the
    bilan can list who spoke of us, ranked by their audience (the 2016 bilan's "influenceurs").
    ``remote_id`` is the network's id of that post or notification, unique per account: a sync
    that reads the same mention again adds nothing. ``kind`` is ``mention`` or ``repost``.
    """

    __tablename__ = "social_mention"
    __table_args__ = (UniqueConstraint("account", "remote_id", name="uq_social_mention_remote"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=100, index=True)
    network: str = Field(max_length=20)
    remote_id: str = Field(max_length=300)
    kind: str = Field(max_length=10)
    author_handle: str = Field(max_length=300)
    author_followers: int = Field(default=0)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class AccountLimit(SQLModel, table=True):
    """The longest post an account's server takes (a Mastodon instance sets its own), read
    once from the server (``GET /api/v2/instance``) and kept for the length checks."""

    __tablename__ = "account_limit"

    account: str = Field(max_length=100, primary_key=True)
    max_characters: int
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
