"""Publishing to Bluesky over XRPC (the AT Protocol's HTTP calls), with an app password.

Why plain HTTP and not the ``atproto`` SDK: we need only eight calls, and doing them ourselves
keeps the error policy (rate-limit reset, time-outs that may have created a post, expired
sessions) the same as the other transports', and every request visible to the test double.

- **Session**: opened with the app password, its tokens refreshed when they expire; the
  error policy is the session's too (:mod:`.bluesky_session`).
- **Posts** are ``app.bsky.feed.post`` records (``com.atproto.repo.createRecord``): the text,
  ``createdAt``, ``langs``, and *facets* for links, hashtags and mentions (mentions resolved to
  DIDs by ``com.atproto.identity.resolveHandle``), whose offsets are **bytes of the UTF-8
  text**, not characters: an accented letter before a link moves it by two
  (:mod:`.bluesky_facets`).
- **Images** are uploaded as blobs (``com.atproto.repo.uploadBlob``, the raw bytes) and embedded
  with their alt text (``app.bsky.embed.images``, four at most, 1,000,000 bytes each).
- **Link cards**: Bluesky does not build a card from a link (its apps do, client side), so a
  post announcing an event gets one from us (``app.bsky.embed.external``: the event's address,
  title, description and image as a ``thumb`` blob), unless it has images (one embed a post).
- **Threads**: each reply names its parent and the thread's root (``uri`` and ``cid`` both). The
  id we store is the post's ``at://`` URI; resuming a thread reads the parent record back to
  learn its ``cid`` and root.

A post is never created twice: after an attempt without a clear answer, the account's recent
records (``com.atproto.repo.listRecords``) are searched for the same text and parent first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from campaign.social import (
    AccountFigures,
    Image,
    LinkCard,
    Mentioned,
    Mentions,
    OnPublished,
    Outgoing,
    PostFigures,
    TransportError,
)
from campaign.social.bluesky_facets import facets
from campaign.social.bluesky_session import BSKY_SERVICE, BlueskyClient
from campaign.social.retrying import Transient

__all__ = ["BSKY_SERVICE", "BlueskyTransport", "Ref", "facets"]

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
EXTERNAL = "app.bsky.embed.external"
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images: maxSize of each image
LANGS = ["fr"]
CLOCK_SLACK = timedelta(minutes=2)
RECENT_RECORDS = 50
RECENT_PAGES = 3
MENTION_PAGES = 8
NOTIFIED = {"mention": "mention", "repost": "repost"}  # reason -> kind stored
PROFILES_AT_ONCE = 25  # app.bsky.actor.getProfiles: actors maxLength


@dataclass(frozen=True)
class Ref:
    """A strong reference to a record: where it is, and which version (``strongRef``)."""

    uri: str
    cid: str

    def as_json(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class BlueskyTransport(BlueskyClient):
    """One Bluesky account on its server (PDS), signed in with an app password."""

    dry_run = False

    # --- building a post ----------------------------------------------------------------------

    def _external(self, card: LinkCard) -> dict[str, Any]:
        """``app.bsky.embed.external``: the card of a link, its thumbnail uploaded as a blob."""
        external: dict[str, Any] = {
            "uri": card.uri,
            "title": card.title,
            "description": card.description,
        }
        if card.thumb is not None:
            external["thumb"] = self._upload(card.thumb)["image"]
        return {"$type": EXTERNAL, "external": external}

    def _upload(self, image: Image) -> dict[str, Any]:
        name = Path(image.path).name
        content = Path(image.path).read_bytes()
        if len(content) > MAX_IMAGE_BYTES:
            raise TransportError(
                f"{self.label}: {name} is {len(content) / 1_000_000:.1f} MB; Bluesky takes "
                "images of at most 1 MB: make it smaller.",
                permanent=True,
            )
        answer = self._call(
            "POST",
            "com.atproto.repo.uploadBlob",
            f"upload the image {name}",
            data=content,
            headers={"Content-Type": image.media_type},
        )
        return {"alt": image.alt, "image": answer["blob"]}

    def _record(
        self,
        text: str,
        reply: tuple[Ref, Ref] | None,
        images: list[dict[str, Any]],
        external: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": _iso(self.clock()),
            "langs": LANGS,
        }
        found = facets(text, self.resolve)
        if found:
            record["facets"] = found
        if reply is not None:
            root, parent = reply
            record["reply"] = {"root": root.as_json(), "parent": parent.as_json()}
        if images:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        elif external:
            record["embed"] = external  # one embed per post: images win over a card
        return record

    def _get_ref(self, uri: str) -> tuple[Ref, Ref]:
        """(root, itself) of the published post ``uri``, read back from its repository."""
        repo, collection, rkey = uri.removeprefix("at://").split("/", 2)
        answer = self._call(
            "GET",
            "com.atproto.repo.getRecord",
            "read the post replied to",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )
        itself = Ref(uri=answer["uri"], cid=answer["cid"])
        root = (answer.get("value") or {}).get("reply", {}).get("root")
        return (Ref(uri=root["uri"], cid=root["cid"]) if root else itself), itself

    def _find_published(self, text: str, parent: Ref | None, since: datetime) -> Ref | None:
        """A post of ours since ``since`` with this text and parent, if any."""
        try:
            return self._search_published(text, parent, since)
        except TransportError as exc:
            raise TransportError(
                f"{exc} The post may be on Bluesky already (an attempt got no clear answer), so "
                "it is not sent again until its absence is checked: the next attempt looks first.",
                permanent=exc.permanent,
                retry_at=exc.retry_at,
                uncertain=True,
            ) from None

    def _search_published(self, text: str, parent: Ref | None, since: datetime) -> Ref | None:
        """The account's recent records, a page at a time, back to ``since``."""
        cursor: str | None = None
        for _page in range(RECENT_PAGES):
            params: dict[str, Any] = {
                "repo": self._repo(),
                "collection": POST,
                "limit": RECENT_RECORDS,
            }
            if cursor:
                params["cursor"] = cursor
            answer = self._call(
                "GET",
                "com.atproto.repo.listRecords",
                "look for the post among the account's recent ones",
                params=params,
            )
            records = answer.get("records") or []
            found = _same_post(records, text, parent, since)
            if found is not None:
                return found
            oldest = _parse_time(((records or [{}])[-1].get("value") or {}).get("createdAt"))
            cursor = answer.get("cursor")
            if not records or not cursor or (oldest and oldest < since - CLOCK_SLACK):
                return None
        return None

    def _publish_part(
        self,
        text: str,
        reply: tuple[Ref, Ref] | None,
        images: Sequence[Image],
        check_since: datetime | None,
        card: LinkCard | None = None,
    ) -> Ref:
        """Create one post record, retrying without ever creating it twice."""
        parent = reply[1] if reply else None
        uploaded: list[dict[str, Any]] | None = None
        external: dict[str, Any] | None = None
        problem = ""
        what = "publish a reply" if reply else "publish a post"
        for attempt in range(self.retries + 1):
            if check_since is not None:
                found = self._find_published(text, parent, check_since)
                if found is not None:
                    log.info("%s: post %s had gone through; not sent again", self.label, found.uri)
                    return found
            if uploaded is None:
                uploaded, external = self._embeds(images, card)
            started = self.clock()
            try:
                return self._create(what, text, reply, uploaded, external)
            except Transient as failure:
                problem = failure.problem
                if failure.maybe_sent and check_since is None:
                    check_since = started
            except TransportError as exc:
                exc.uncertain = exc.uncertain or check_since is not None
                raise
            if attempt < self.retries:
                log.warning("%s: %s while publishing; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
            uncertain=check_since is not None,
        )

    def _embeds(
        self, images: Sequence[Image], card: LinkCard | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """The images uploaded, or else the link card (one embed per post)."""
        uploaded = [self._upload(image) for image in images]
        return uploaded, (self._external(card) if card is not None and not images else None)

    def _create(
        self,
        what: str,
        text: str,
        reply: tuple[Ref, Ref] | None,
        images: list[dict[str, Any]],
        external: dict[str, Any] | None,
    ) -> Ref:
        """One attempt at creating the post record (``createRecord``), not retried."""
        body = {
            "repo": self._repo(),
            "collection": POST,
            "record": self._record(text, reply, images, external),
        }
        answer = self._xrpc("POST", "com.atproto.repo.createRecord", what, json=body)
        return Ref(uri=answer["uri"], cid=answer["cid"])

    # --- the transport interface --------------------------------------------------------------

    def publish(self, post: Outgoing, *, on_published: OnPublished | None = None) -> list[str]:
        ids: list[str] = []
        reply = self._get_ref(post.reply_to) if post.reply_to else None
        check_since = post.check_since
        for index, text in enumerate(post.parts):
            images = post.images if index == 0 else ()
            card = post.card if index == 0 else None
            ref = self._publish_part(text, reply, images, check_since, card)
            check_since = None  # the uncertainty was about the first part still to publish
            ids.append(ref.uri)
            reply = (reply[0] if reply else ref, ref)
            if on_published is not None:
                on_published(index, ref.uri)
        return ids

    def fetch_metrics(
        self, remote_ids: Sequence[str], *, non_public: bool = True
    ) -> dict[str, PostFigures]:
        """Likes, reposts, replies and quotes of each post (Bluesky counts no impressions)."""
        figures: dict[str, PostFigures] = {}
        for start in range(0, len(remote_ids), 25):  # getPosts takes 25 URIs at most
            chunk = list(remote_ids[start : start + 25])
            answer = self._call(
                "GET", "app.bsky.feed.getPosts", "read post metrics", params={"uris": chunk}
            )
            for view in answer.get("posts") or []:
                figures[view["uri"]] = PostFigures(
                    remote_id=view["uri"],
                    impressions=None,
                    likes=int(view.get("likeCount") or 0),
                    reposts=int(view.get("repostCount") or 0),
                    replies=int(view.get("replyCount") or 0),
                    quotes=int(view.get("quoteCount") or 0),
                )
        return figures

    def account(self) -> AccountFigures:
        profile = self._call(
            "GET", "app.bsky.actor.getProfile", "read the account", params={"actor": self._repo()}
        )
        return AccountFigures(
            user_id=str(profile["did"]),
            username=str(profile.get("handle") or ""),
            followers=int(profile.get("followersCount") or 0),
            posts=int(profile.get("postsCount") or 0),
        )

    def mentions(self, since_id: str | None, *, since_time: datetime | None = None) -> Mentions:
        """Mentions of the account from its notifications (``reason`` mention), newest first;
        reposts of its posts (``repost``) come with them, as items only (not counted).

        Notifications have no sortable id, so a mention's "id" is the time Bluesky indexed it
        (``indexedAt``, short enough to be stored where X's ids are): the count runs back to the
        given one, or to ``since_time``. A notification's author comes without a follower
        count: those are read afterwards with ``getProfiles``.
        """
        scan = _MentionScan(_parse_time(since_id) if since_id else since_time)
        cursor: str | None = None
        complete = False
        for _page in range(MENTION_PAGES):
            params: dict[str, Any] = {"limit": 100, "reasons": list(NOTIFIED)}
            if cursor:
                params["cursor"] = cursor
            answer = self._call(
                "GET",
                "app.bsky.notification.listNotifications",
                "read the account's mentions",
                params=params,
            )
            done = scan.take(answer.get("notifications") or [])
            if scan.first_sync:
                return Mentions(count=0, newest_id=scan.newest)
            cursor = answer.get("cursor")
            if done or not cursor:
                complete = True
                break
        items = self._mentioned(scan.found)
        return Mentions(
            count=scan.count,
            newest_id=scan.newest or since_id,
            complete=complete,
            items=tuple(items),
        )

    def _mentioned(self, notifications: list[dict[str, Any]]) -> list[Mentioned]:
        """The notifications as who made them, with their follower counts (``getProfiles``)."""
        authors = [str((n.get("author") or {}).get("did") or "") for n in notifications]
        dids = [did for did in dict.fromkeys(authors) if did]
        followers: dict[str, int] = {}
        for start in range(0, len(dids), PROFILES_AT_ONCE):
            answer = self._call(
                "GET",
                "app.bsky.actor.getProfiles",
                "read the followers of the accounts that mentioned us",
                params={"actors": dids[start : start + PROFILES_AT_ONCE]},
            )
            for profile in answer.get("profiles") or []:
                followers[str(profile.get("did"))] = int(profile.get("followersCount") or 0)
        now = self.clock()
        return [
            Mentioned(
                remote_id=str(n.get("uri")),
                kind=NOTIFIED[n["reason"]],
                author=str((n.get("author") or {}).get("handle") or ""),
                followers=followers.get(str((n.get("author") or {}).get("did"))),
                at=_parse_time(n.get("indexedAt")) or now,
            )
            for n in notifications
        ]


@dataclass
class _MentionScan:
    """The notifications read so far, newest first, back to ``since``; with no ``since`` (a
    first sync) only the newest one's time is noted (``first_sync``)."""

    since: datetime | None
    count: int = 0
    newest: str | None = None
    found: list[dict[str, Any]] = field(default_factory=list)
    first_sync: bool = False

    def take(self, notifications: list[dict[str, Any]]) -> bool:
        """Take one page; True once one no newer than ``since`` (or the first sync's) is met."""
        for notification in notifications:
            if notification.get("reason") not in NOTIFIED:
                continue
            indexed = _parse_time(notification.get("indexedAt"))
            self.newest = self.newest or str(notification.get("indexedAt") or "") or None
            if self.since is None:
                self.first_sync = True
                return True
            if indexed is None or indexed <= self.since:
                return True
            self.found.append(notification)
            self.count += 1 if notification.get("reason") == "mention" else 0
        return False


def _same_post(
    records: list[dict[str, Any]], text: str, parent: Ref | None, since: datetime
) -> Ref | None:
    """The oldest of ``records`` (given newest first) with this text and parent since
    ``since``: the first copy is the real one."""
    for record in reversed(records):
        value = record.get("value") or {}
        created = _parse_time(value.get("createdAt"))
        replied = (value.get("reply") or {}).get("parent", {}).get("uri")
        if (
            value.get("text") == text
            and replied == (parent.uri if parent else None)
            and (created is None or created >= since - CLOCK_SLACK)
        ):
            return Ref(uri=record["uri"], cid=record["cid"])
    return None
