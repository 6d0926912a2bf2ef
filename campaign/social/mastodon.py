"""Publishing to a Mastodon instance with Mastodon.py (any instance: ``instance_url``).

A post is a status with the account's visibility; a thread is statuses replying to each other
(``in_reply_to_id``). Images go through ``POST /api/v2/media`` with their description; the
instance may answer 202 and process the file in the background, in which case we ask
``GET /api/v1/media/:id`` (206 while processing, 200 once done) until its ``url`` is there,
for at most ``MEDIA_PROCESSING_WAIT`` seconds, before attaching it: an attachment still
processing is refused by the instance.

A status is never created twice. Every create request carries an ``Idempotency-Key`` derived
from the stored post, the part and its parent, so the same attempt made again (after a
time-out, a dropped connection, a server error) gives back the status already created instead
of a second one: Mastodon keeps these keys for an hour. Past that hour (a post whose last
attempt got no answer long ago) we look for the status among the account's recent ones first.

Rate limits are reported with the instance's reset time (``X-RateLimit-Reset``), never slept on
inside the call; server errors and time-outs are retried a bounded number of times.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from campaign.clock import utcnow
from campaign.social import (
    AccountFigures,
    Image,
    Mentioned,
    Mentions,
    OnPublished,
    Outgoing,
    PostFigures,
    TransportError,
    Usage,
)
from campaign.social.retrying import Transient, epoch_time, maybe_sent
from campaign.social.xtext import find_urls

log = logging.getLogger(__name__)

# Mastodon.py picks the media endpoint by the server's version; naming one (instead of asking
# the instance on every start) makes it use /api/v2/media, there since Mastodon 3.1.4.
ASSUMED_VERSION = "4.0.0"
MEDIA_PROCESSING_WAIT = 60.0  # seconds we wait for the instance to process an image
MEDIA_POLL = 1.0  # seconds between two looks at an image being processed
IDEMPOTENCY_WINDOW = timedelta(minutes=55)  # Mastodon keeps a key for an hour
CLOCK_SLACK = timedelta(minutes=2)
RECENT_PAGES = 3  # pages of 40 statuses read when looking for one that may have gone through
MENTION_PAGES = 8
NOTIFIED = ["mention", "reblog"]  # the notifications read: mentions, and boosts of ours
_MENTION = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?", re.I)


class _PlainText(HTMLParser):
    """The text of a status's HTML ``content``: paragraphs as blank lines, ``<br>`` as newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "br":
            self.pieces.append("\n")
        elif tag == "p" and self.pieces:
            self.pieces.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)


def plain_text(content: str) -> str:
    parser = _PlainText()
    parser.feed(content or "")
    parser.close()
    return "".join(parser.pieces)


def _comparable(text: str) -> str:
    """Text made comparable with the instance's rendering: links one placeholder, remote
    mentions their local part (the instance shows ``@name``), spaces collapsed."""
    text = html.unescape(text)
    pieces, last = [], 0
    for start, end in find_urls(text):
        pieces.extend([text[last:start], "\x00"])
        last = end
    pieces.append(text[last:])
    text = _MENTION.sub(lambda match: "@" + match.group(1).lower(), "".join(pieces))
    return " ".join(text.split())


def idempotency_key(key: str, reply_to: str | None, text: str) -> str:
    """The same for every attempt at one part of one stored post, different for any other."""
    material = "\x1f".join([key, reply_to or "", text])
    return hashlib.sha256(material.encode()).hexdigest()[:40]


def _status(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _reason(exc: MastodonError) -> str:
    detail = exc.args[3] if len(exc.args) > 3 and exc.args[3] else None
    return str(detail or (exc.args[2] if len(exc.args) > 2 else exc)).strip().rstrip(".")


class MastodonTransport:
    """One Mastodon account, authenticated with its access token (``Authorization: Bearer``)."""

    dry_run = False

    def __init__(
        self,
        handle: str,
        instance_url: str,
        access_token: str,
        *,
        visibility: str = "public",
        retries: int = 3,
        backoff: float = 2.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        processing_wait: float = MEDIA_PROCESSING_WAIT,
    ) -> None:
        self.handle = handle.lstrip("@")
        self.instance_url = instance_url.rstrip("/")
        self.client = Mastodon(
            access_token=access_token,
            api_base_url=self.instance_url,
            request_timeout=timeout,
            ratelimit_method="throw",
            mastodon_version=ASSUMED_VERSION,
            version_check_mode="created",
            user_agent="campaign",
        )
        self.visibility = visibility
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.processing_wait = processing_wait
        self.usage = Usage()  # Mastodon bills nothing; kept at zero
        self._account_id: str | None = None

    @property
    def label(self) -> str:
        return f"@{self.handle} ({self.instance_url})"

    # --- one call, with the error policy ------------------------------------------------------

    def _attempt(self, what: str, call: Callable[[], Any]) -> Any:
        """Run ``call`` once; a failure worth retrying is a ``Transient``, others final."""
        try:
            return call()
        except MastodonRatelimitError:
            retry_at = epoch_time(self.client.ratelimit_reset)
            when = f"; try again after {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else ""
            raise TransportError(
                f"{self.label}: the instance's rate limit was reached while trying to "
                f"{what}{when}.",
                permanent=False,
                retry_at=retry_at or self.clock() + timedelta(minutes=5),
            ) from None
        except MastodonUnauthorizedError as exc:
            raise TransportError(
                f"{self.label}: the instance refused the access token (401: {_reason(exc)}) "
                f"while trying to {what}. Create a new token in Preferences > Development and "
                "set it again.",
                permanent=True,
            ) from None
        except MastodonServerError as exc:
            raise Transient(f"the instance failed ({_status(exc)})", maybe_sent=True) from None
        except MastodonNetworkError as exc:
            raise Transient(
                f"no answer from the instance ({exc})", maybe_sent=maybe_sent(exc)
            ) from None
        except MastodonNotFoundError as exc:
            raise TransportError(
                f"{self.label}: the instance found nothing to {what} (404: {_reason(exc)}); "
                "a status replied to may have been deleted.",
                permanent=True,
            ) from None
        except MastodonAPIError as exc:
            status = _status(exc)
            hint = ""
            if status == 403:
                hint = (
                    " The token may lack the write:statuses or write:media scope: create one "
                    "with both in Preferences > Development."
                )
            elif status == 413:
                hint = " The file is larger than the instance takes: make it smaller."
            raise TransportError(
                f"{self.label}: the instance refused to {what} ({status}: {_reason(exc)}).{hint}",
                permanent=True,
            ) from None

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """``call`` with bounded retries for server errors and time-outs (reads, uploads)."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(what, call)
            except Transient as failure:
                problem = failure.problem
            if attempt < self.retries:
                log.warning("%s: %s; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
        )

    # --- publishing ---------------------------------------------------------------------------

    def _upload(self, image: Image) -> str:
        name = Path(image.path).name
        what = f"upload the image {name}"
        media = self._call(
            what,
            lambda: self.client.media_post(
                image.path, mime_type=image.media_type, description=image.alt or None
            ),
        )
        waited = 0.0
        while media.get("url") is None:  # 202: the instance processes it in the background
            if waited >= self.processing_wait:
                raise TransportError(
                    f"{self.label}: the instance was still processing {name} after {waited:.0f} s.",
                    permanent=False,
                )
            delay = min(MEDIA_POLL, self.processing_wait - waited)
            self.sleep(delay)
            waited += delay
            media = self._call(
                f"check the processing of {name}",
                partial(self.client.media, str(media["id"])),
            )
        return str(media["id"])

    def _me(self) -> str:
        if self._account_id is None:
            self._account_id = self.account().user_id
        return self._account_id

    def _find_published(self, text: str, reply_to: str | None, since: datetime) -> str | None:
        """The id of a status of ours since ``since`` with this text (and parent), if any."""
        wanted = _comparable(text)
        try:
            account_id = self._me()
            max_id: str | None = None
            for _page in range(RECENT_PAGES):
                statuses = self._call(
                    "look for the status among the account's recent ones",
                    partial(
                        self.client.account_statuses,
                        account_id,
                        max_id=max_id,
                        limit=40,
                        exclude_reblogs=True,
                    ),
                )
                if not statuses:
                    return None
                for status in reversed(statuses):  # oldest first: the first copy is the real one
                    if status.get("created_at") and status["created_at"] < since - CLOCK_SLACK:
                        continue
                    parent = status.get("in_reply_to_id")
                    if _comparable(plain_text(status.get("content", ""))) == wanted and (
                        reply_to is None or str(parent) == reply_to
                    ):
                        return str(status["id"])
                oldest = statuses[-1]
                if oldest.get("created_at") and oldest["created_at"] < since - CLOCK_SLACK:
                    return None
                max_id = str(oldest["id"])
            return None
        except TransportError as exc:
            raise TransportError(
                f"{exc} The status may be on the instance already (an attempt got no clear "
                "answer), so it is not sent again until its absence is checked: the next attempt "
                "looks first.",
                permanent=exc.permanent,
                retry_at=exc.retry_at,
                uncertain=True,
            ) from None

    def _publish_part(
        self,
        text: str,
        reply_to: str | None,
        images: Sequence[Image],
        check_since: datetime | None,
        key: str,
    ) -> str:
        """Create one status, retrying with the same idempotency key."""
        if check_since is not None and self.clock() - check_since > IDEMPOTENCY_WINDOW:
            # The instance has forgotten the key of that attempt: look for the status itself.
            found = self._find_published(text, reply_to, check_since)
            if found is not None:
                log.info("%s: status %s had gone through; not sent again", self.label, found)
                return found
        media_ids = [self._upload(image) for image in images]
        idempotency = idempotency_key(key, reply_to, text)
        what = "publish a reply" if reply_to else "publish a post"
        problem = ""
        uncertain = check_since is not None
        for attempt in range(self.retries + 1):
            try:
                status = self._attempt(
                    what,
                    lambda: self.client.status_post(
                        text,
                        in_reply_to_id=reply_to,
                        media_ids=media_ids or None,
                        visibility=self.visibility,
                        idempotency_key=idempotency,
                    ),
                )
            except Transient as failure:
                problem = failure.problem
                uncertain = uncertain or failure.maybe_sent
            except TransportError as exc:
                exc.uncertain = exc.uncertain or uncertain
                raise
            else:
                return str(status["id"])
            if attempt < self.retries:
                log.warning("%s: %s while publishing; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
            uncertain=uncertain,
        )

    # --- the transport interface --------------------------------------------------------------

    def publish(self, post: Outgoing, *, on_published: OnPublished | None = None) -> list[str]:
        ids: list[str] = []
        reply_to = post.reply_to
        check_since = post.check_since
        key = post.key or "\x1f".join(post.parts)
        for index, text in enumerate(post.parts):
            images = post.images if index == 0 else ()
            remote_id = self._publish_part(text, reply_to, images, check_since, key)
            check_since = None  # the uncertainty was about the first part still to publish
            ids.append(remote_id)
            reply_to = remote_id
            if on_published is not None:
                on_published(index, remote_id)
        return ids

    def fetch_metrics(
        self, remote_ids: Sequence[str], *, non_public: bool = True
    ) -> dict[str, PostFigures]:
        """Favourites, boosts and replies of each status (Mastodon counts no impressions)."""
        figures: dict[str, PostFigures] = {}
        for remote_id in remote_ids:
            try:
                status = self._call("read a status", partial(self.client.status, remote_id))
            except TransportError as exc:
                if "404" in str(exc):
                    continue  # deleted since: left out, as the interface says
                raise
            figures[str(remote_id)] = PostFigures(
                remote_id=str(remote_id),
                impressions=None,
                likes=int(status.get("favourites_count") or 0),
                reposts=int(status.get("reblogs_count") or 0),
                replies=int(status.get("replies_count") or 0),
                quotes=int(status.get("quotes_count") or 0),
            )
        return figures

    def account(self) -> AccountFigures:
        me = self._call("read the account", self.client.account_verify_credentials)
        self._account_id = str(me["id"])
        return AccountFigures(
            user_id=str(me["id"]),
            username=str(me.get("username") or me.get("acct") or ""),
            followers=int(me.get("followers_count") or 0),
            posts=int(me.get("statuses_count") or 0),
        )

    def mentions(self, since_id: str | None, *, since_time: datetime | None = None) -> Mentions:
        """Mentions of the account, read from its notifications of type ``mention``; its
        boosted statuses (``reblog``) come with them, as items only (not counted)."""
        if since_id is None and since_time is None:
            page = self._call(
                "read the account's mentions",
                lambda: self.client.notifications(types=NOTIFIED, limit=1),
            )
            return Mentions(count=0, newest_id=str(page[0]["id"]) if page else None)
        count = 0
        newest: str | None = None
        max_id: str | None = None
        items: list[Mentioned] = []
        for _page in range(MENTION_PAGES):
            page = self._call(
                "read the account's mentions",
                partial(
                    self.client.notifications,
                    types=NOTIFIED,
                    since_id=since_id,
                    max_id=max_id,
                    limit=40,
                ),
            )
            if not page:
                return Mentions(count=count, newest_id=newest or since_id, items=tuple(items))
            newest = newest or str(page[0]["id"])
            for notification in page:
                created = notification.get("created_at")
                if since_id is None and since_time and created and created < since_time:
                    return Mentions(count=count, newest_id=newest, items=tuple(items))
                items.append(_mentioned(notification, self.clock()))
                count += 1 if notification.get("type") == "mention" else 0
            max_id = str(page[-1]["id"])
        return Mentions(
            count=count, newest_id=newest or since_id, complete=False, items=tuple(items)
        )

    def max_characters(self) -> int | None:
        """The longest status the instance takes (``configuration.statuses.max_characters``
        of ``GET /api/v2/instance``), or None when it does not say."""
        instance = self._call("read the instance's limits", self.client.instance_v2)
        statuses = ((instance or {}).get("configuration") or {}).get("statuses") or {}
        limit = statuses.get("max_characters")
        return int(limit) if isinstance(limit, int) and limit > 0 else None


def _mentioned(notification: Any, now: datetime) -> Mentioned:
    """A mention or boost notification as who made it, with their follower count."""
    account = notification.get("account") or {}
    followers = account.get("followers_count")
    return Mentioned(
        remote_id=str(notification["id"]),
        kind="repost" if notification.get("type") == "reblog" else "mention",
        author=str(account.get("acct") or account.get("username") or ""),
        followers=int(followers) if followers is not None else None,
        at=notification.get("created_at") or now,
    )
