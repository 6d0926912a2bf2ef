"""Publishing to Bluesky over XRPC (the AT Protocol's HTTP calls), with an app password.

Why plain HTTP and not the ``atproto`` SDK: we need only eight calls, and doing them ourselves
keeps the error policy (rate-limit reset, time-outs that may have created a post, expired
sessions) the same as the other transports', and every request visible to the test double.

- **Session**: ``com.atproto.server.createSession`` with the handle and the app password (read
  from the environment, never written anywhere); the access token goes in ``Authorization:
  Bearer``. When the server says ``ExpiredToken``, ``com.atproto.server.refreshSession`` (with
  the refresh token) gives a new pair, and a refused refresh opens a new session.
- **Posts** are ``app.bsky.feed.post`` records (``com.atproto.repo.createRecord``): the text,
  ``createdAt``, ``langs``, and *facets* for links, hashtags and mentions (mentions resolved to
  DIDs by ``com.atproto.identity.resolveHandle``), whose offsets are **bytes of the UTF-8
  text**, not characters: an accented letter before a link moves it by two.
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
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from campaign.clock import utcnow
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
    Usage,
)
from campaign.social.length import graphemes
from campaign.social.retrying import Transient, epoch_time, maybe_sent
from campaign.social.xtext import find_urls

log = logging.getLogger(__name__)

BSKY_SERVICE = "https://bsky.social"
POST = "app.bsky.feed.post"
EXTERNAL = "app.bsky.embed.external"
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images: maxSize of each image
MAX_TAG_GRAPHEMES = 64
LANGS = ["fr"]
CLOCK_SLACK = timedelta(minutes=2)
RECENT_RECORDS = 50
RECENT_PAGES = 3
MENTION_PAGES = 8
NOTIFIED = {"mention": "mention", "repost": "repost"}  # reason -> kind stored
PROFILES_AT_ONCE = 25  # app.bsky.actor.getProfiles: actors maxLength
# A handle as the Bluesky docs match it: labels separated by dots, the last one a letter first.
_MENTION = re.compile(
    r"(?:^|(?<=[\s(]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_HASHTAG = re.compile(r"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D]+)")
_TRAILING_PUNCTUATION = re.compile(r"[.,;:!?…'\")\]»]+$")  # "#MoisESS." tags MoisESS


@dataclass(frozen=True)
class Ref:
    """A strong reference to a record: where it is, and which version (``strongRef``)."""

    uri: str
    cid: str

    def as_json(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """The rich-text facets of ``text``: links, hashtags, and mentions ``resolve`` finds a DID
    for (a handle nobody holds stays plain text). Offsets count UTF-8 bytes."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    for start, end in find_urls(text):
        url = text[start:end]
        if url.lower().startswith(("http://", "https://")):
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": url}
            found.append((start, end, feature))
    taken = [(start, end) for start, end, _ in found]

    def free(start: int, end: int) -> bool:
        return not any(start < other_end and other_start < end for other_start, other_end in taken)

    for match in _MENTION.finditer(text):
        start, end = match.start(), match.end()
        if not free(start, end):
            continue
        did = resolve(match.group(1).lower())
        if did:
            found.append((start, end, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
    for match in _HASHTAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group(1))
        start = match.start()
        end = match.start(1) + len(tag)
        if not tag or tag.isdigit() or graphemes(tag) > MAX_TAG_GRAPHEMES or not free(start, end):
            continue
        found.append((start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    return [
        {
            "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
            "features": [feature],
        }
        for start, end, feature in sorted(found, key=lambda item: item[0])
    ]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class BlueskyTransport:
    """One Bluesky account on its server (PDS), signed in with an app password."""

    dry_run = False

    def __init__(
        self,
        handle: str,
        app_password: str,
        *,
        service_url: str = BSKY_SERVICE,
        retries: int = 3,
        backoff: float = 2.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.handle = handle.lstrip("@")
        self.service_url = service_url.rstrip("/")
        self._password = app_password
        self.retries = retries
        self.backoff = backoff
        self.timeout = (min(10.0, timeout), timeout)
        self.sleep = sleep
        self.clock = clock
        self.usage = Usage()  # Bluesky bills nothing; kept at zero
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "campaign"
        self._access: str | None = None
        self._refresh: str | None = None
        self.did: str | None = None
        self._dids: dict[str, str | None] = {}

    @property
    def label(self) -> str:
        return f"@{self.handle} (Bluesky)"

    # --- requests -----------------------------------------------------------------------------

    def _send(
        self, method: str, nsid: str, *, token: str | None, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self.http.request(
                method,
                f"{self.service_url}/xrpc/{nsid}",
                headers=headers,
                timeout=self.timeout,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise Transient(
                f"no answer from the server ({type(exc).__name__})", maybe_sent=maybe_sent(exc)
            ) from None

    @staticmethod
    def _error(response: requests.Response) -> tuple[str, str]:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return str(body.get("error") or ""), str(body.get("message") or response.reason or "")

    def _login(self) -> None:
        """Open a session (``createSession``): the app password is used here only."""
        response = self._send(
            "POST",
            "com.atproto.server.createSession",
            token=None,
            json={"identifier": self.handle, "password": self._password},
        )
        if response.status_code in (400, 401):
            code, message = self._error(response)
            raise TransportError(
                f"{self.label}: Bluesky refused the app password ({response.status_code} "
                f"{code}: {message}). Create a new app password in Settings > Privacy and "
                "security > App passwords and set it again.",
                permanent=True,
            )
        self._check(response, "open a session")
        self._keep(response.json())

    def _keep(self, session: dict[str, Any]) -> None:
        self._access = session["accessJwt"]
        self._refresh = session["refreshJwt"]
        self.did = session["did"]

    def _refresh_session(self) -> None:
        """New tokens from the refresh token; a new session when that is refused too."""
        response = self._send("POST", "com.atproto.server.refreshSession", token=self._refresh)
        if response.status_code in (400, 401):
            self._login()
            return
        self._check(response, "refresh the session")
        self._keep(response.json())

    def _check(self, response: requests.Response, what: str) -> None:
        """Raise for a failed response: 429 and refusals final, 5xx a ``Transient``."""
        status = response.status_code
        if 200 <= status < 300:
            return
        code, message = self._error(response)
        if status == 429:
            retry_at = epoch_time(response.headers.get("ratelimit-reset"))
            when = f"; try again after {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else ""
            raise TransportError(
                f"{self.label}: Bluesky's rate limit was reached while trying to {what}{when}.",
                permanent=False,
                retry_at=retry_at or self.clock() + timedelta(minutes=5),
            )
        if status >= 500:
            raise Transient(f"the server failed ({status} {code})".strip(), maybe_sent=True)
        hint = ""
        if status == 413 or code == "BlobTooLarge":
            hint = " Bluesky takes images of at most 1 MB: make it smaller."
        raise TransportError(
            f"{self.label}: Bluesky refused to {what} ({status} {code}: {message}).{hint}",
            permanent=True,
        )

    def _xrpc(self, method: str, nsid: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """One authenticated call, signing in or refreshing the session as needed."""
        if self._access is None:
            self._login()
        response = self._send(method, nsid, token=self._access, **kwargs)
        if response.status_code in (400, 401) and self._error(response)[0] in (
            "ExpiredToken",
            "InvalidToken",
        ):
            self._refresh_session()
            response = self._send(method, nsid, token=self._access, **kwargs)
        self._check(response, what)
        return response.json() if response.content else {}

    def _call(self, method: str, nsid: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """:meth:`_xrpc` with bounded retries for server errors and time-outs (not creations)."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return self._xrpc(method, nsid, what, **kwargs)
            except Transient as failure:
                problem = failure.problem
            if attempt < self.retries:
                log.warning("%s: %s; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
        )

    def _repo(self) -> str:
        if self.did is None:
            self._login()
        assert self.did is not None
        return self.did

    # --- building a post ----------------------------------------------------------------------

    def resolve(self, handle: str) -> str | None:
        """The DID of ``handle``, or None when no account holds it (cached per transport)."""
        if handle not in self._dids:
            try:
                answer = self._call(
                    "GET",
                    "com.atproto.identity.resolveHandle",
                    f"find the account @{handle}",
                    params={"handle": handle},
                )
                self._dids[handle] = answer.get("did")
            except TransportError as exc:
                if not exc.permanent:
                    raise
                self._dids[handle] = None  # unknown handle: the mention stays plain text
        return self._dids[handle]

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
        cursor: str | None = None
        try:
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
                for record in reversed(records):  # oldest first: the first copy is the real one
                    value = record.get("value") or {}
                    created = _parse_time(value.get("createdAt"))
                    replied = (value.get("reply") or {}).get("parent", {}).get("uri")
                    if (
                        value.get("text") == text
                        and replied == (parent.uri if parent else None)
                        and (created is None or created >= since - CLOCK_SLACK)
                    ):
                        return Ref(uri=record["uri"], cid=record["cid"])
                oldest = _parse_time(((records or [{}])[-1].get("value") or {}).get("createdAt"))
                cursor = answer.get("cursor")
                if not records or not cursor or (oldest and oldest < since - CLOCK_SLACK):
                    return None
            return None
        except TransportError as exc:
            raise TransportError(
                f"{exc} The post may be on Bluesky already (an attempt got no clear answer), so "
                "it is not sent again until its absence is checked: the next attempt looks first.",
                permanent=exc.permanent,
                retry_at=exc.retry_at,
                uncertain=True,
            ) from None

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
                uploaded = [self._upload(image) for image in images]
                external = self._external(card) if card is not None and not images else None
            started = self.clock()
            try:
                body = {
                    "repo": self._repo(),
                    "collection": POST,
                    "record": self._record(text, reply, uploaded, external),
                }
                answer = self._xrpc("POST", "com.atproto.repo.createRecord", what, json=body)
            except Transient as failure:
                problem = failure.problem
                if failure.maybe_sent and check_since is None:
                    check_since = started
            except TransportError as exc:
                exc.uncertain = exc.uncertain or check_since is not None
                raise
            else:
                return Ref(uri=answer["uri"], cid=answer["cid"])
            if attempt < self.retries:
                log.warning("%s: %s while publishing; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
            uncertain=check_since is not None,
        )

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
        since = _parse_time(since_id) if since_id else since_time
        count = 0
        newest: str | None = None
        cursor: str | None = None
        found: list[dict[str, Any]] = []
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
            done = False
            for notification in answer.get("notifications") or []:
                if notification.get("reason") not in NOTIFIED:
                    continue
                indexed = _parse_time(notification.get("indexedAt"))
                newest = newest or str(notification.get("indexedAt") or "") or None
                if since is None:
                    return Mentions(count=0, newest_id=newest)
                if indexed is None or indexed <= since:
                    done = True
                    break
                found.append(notification)
                count += 1 if notification.get("reason") == "mention" else 0
            cursor = answer.get("cursor")
            if done or not cursor:
                complete = True
                break
        items = self._mentioned(found)
        return Mentions(
            count=count, newest_id=newest or since_id, complete=complete, items=tuple(items)
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
