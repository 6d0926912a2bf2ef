"""Publishing to X with tweepy (API v2, OAuth 1.0a user context), and choosing the transport.

tweepy's ``Client`` hard-codes ``https://api.twitter.com``; its ``session`` is a plain
``requests.Session``, so we give it one that rebases every URL on ``[social.x] api_base_url``
(``https://api.x.com`` by default, the server of X's specification; before the OAuth signature
is computed, so the signature matches the host really called) and that always sets a timeout.
Rate limits are reported, not slept on inside the call (that would block the scheduler); server
errors and timeouts are retried a bounded number of times.

A post is never created twice. When a create request gets no clear answer (a time-out, a
dropped connection, a server error), the post may be on X all the same, so before sending it
again we look for it among the account's posts since the attempt (``GET /2/users/:id/tweets``)
and take its id if it is there.

tweepy 4.17 has no client for the v2 media upload, so :func:`upload_media` makes those
requests itself on the same rebased session, signed the same way.

Two refusals have their own wording, because what to do about them differs: a 402 (the
developer account's prepaid credits are spent) leaves the post to be tried again an hour later,
and a 403 refusing a reply (since February 2026 X refuses API replies unless the author of the
post replied to mentioned or quoted the replying account) stops the thread with that reason.
X's newest specification renames some fields of its answers (``retweet_count`` to
``repost_count``, ``tweet_count`` to ``post_count``, ``referenced_tweets`` to
``referenced_posts``): both names are read; the query parameters keep their old names.
"""

from __future__ import annotations

import html
import logging
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import requests
import tweepy

from campaign.clock import utcnow
from campaign.config import Settings, SocialAccount
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
from campaign.social.xtext import find_urls

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"  # what tweepy calls; rebased on api_base_url
X_HOST = "https://api.x.com"  # the server of X's OpenAPI specification: the default
MEDIA_UPLOAD_PATH = "/2/media/upload"
MEDIA_METADATA_PATH = "/2/media/metadata"
CREDENTIAL_FIELDS = (
    "consumer_key_env",
    "consumer_secret_env",
    "access_token_env",
    "access_token_secret_env",
)
MEDIA_CHUNK = 4 * 1024 * 1024  # GIFs go in chunks (X's chunked upload); images in one request
# A multipart upload's fields, as requests reads them: (file name, content[, content type]).
_Multipart = dict[str, tuple[str | None, str | bytes] | tuple[str | None, str | bytes, str]]
MEDIA_PROCESSING_WAIT = 60.0  # seconds we wait for X to process an uploaded GIF
RECENT_POSTS = 20  # posts read per page when looking for a post that may have gone through
CLOCK_SLACK = timedelta(minutes=2)  # our clock and X's may differ a little
MENTION_PAGES = 8  # X's mentions timeline goes back 800 posts at most (8 pages of 100)
CREDITS_WAIT = timedelta(hours=1)  # after a 402, time for someone to top the credits up
PUBLISHING = ("publish a post", "publish a reply")
# X's words when it refuses an API reply (checked in 2026: "Reply to this conversation is not
# allowed because you have not been mentioned or otherwise engaged by the author of the post
# you are replying to."), and the older "restricted who can reply"; matched loosely, in case
# the wording moves a little.
REPLY_REFUSALS = ("not allowed", "not permitted", "mentioned or", "engaged by", "restricted")
# In our messages for these two refusals, which the dashboard words in French.
CREDITS_EXHAUSTED = "the account's API credits are exhausted (402)"
REPLY_REFUSED = "X refused this reply"


class _RebasedSession(requests.Session):
    """A session that sends tweepy's requests to ``base_url`` and never waits forever."""

    def __init__(self, base_url: str, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class _Transient(Exception):
    """A failure worth another try; ``maybe_sent``: the request may have had its effect."""

    def __init__(self, problem: str, *, maybe_sent: bool) -> None:
        super().__init__(problem)
        self.problem = problem
        self.maybe_sent = maybe_sent


def _reset_time(response: Any, header: str) -> datetime | None:
    value = getattr(response, "headers", {}).get(header)
    try:
        return datetime.fromtimestamp(int(value), UTC) if value else None
    except (TypeError, ValueError):
        return None


def _is_duplicate(exc: tweepy.HTTPException) -> bool:
    return any("duplicate" in str(message).lower() for message in exc.api_messages)


def _is_reply_refusal(exc: tweepy.HTTPException) -> bool:
    """Whether X refused a reply as such (not the account's permission to post at all)."""
    for message in exc.api_messages:
        text = str(message).lower()
        if "repl" in text and any(marker in text for marker in REPLY_REFUSALS):
            return True
    return False


def problem_of(message: str) -> str:
    """Which known refusal a stored error message tells: ``credits`` (a 402), ``reply`` (X
    refused a reply of a thread), or "" (anything else); the dashboard words these two."""
    if CREDITS_EXHAUSTED in message:
        return "credits"
    if REPLY_REFUSED in message:
        return "reply"
    return ""


def _either(data: Any, new: str, old: str, default: Any = None) -> Any:
    """A field of X's answer under its newest name or its former one."""
    data = data or {}
    return data[new] if data.get(new) is not None else data.get(old, default)


def _maybe_sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached X before the failure (so may have had its effect)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    cause: BaseException | None = exc
    while cause is not None:  # "connection refused" is wrapped a few levels deep by urllib3
        reason = getattr(cause, "reason", None)
        if type(cause).__name__ == "NewConnectionError" or (
            reason is not None and type(reason).__name__ == "NewConnectionError"
        ):
            return False
        cause = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
    return True


def _raise_for_status(response: requests.Response) -> None:
    """The errors tweepy raises for its own requests, for the ones we make ourselves."""
    status = response.status_code
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset else None)
    errors: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    if not 200 <= status < 300:
        raise tweepy.HTTPException(response)


def _media_data(response: requests.Response) -> dict[str, Any]:
    _raise_for_status(response)
    try:
        data = response.json()["data"]
        str(data["id"])
    except (ValueError, KeyError, TypeError):
        raise TransportError(
            f"X answered the media upload without a media id: {response.text[:200]}",
            permanent=True,
        ) from None
    return data


def _upload_url(*parts: str) -> str:
    return "/".join([TWEEPY_HOST + MEDIA_UPLOAD_PATH, *parts])


def upload_media(
    session: requests.Session,
    auth: Any,
    image: Image,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Upload one image to X's v2 media endpoints; returns its media id.

    The one place that knows the shape of X's media upload, so that a change at X is a change
    here. JPEG, PNG and WEBP go in one multipart ``POST /2/media/upload`` (``media`` and
    ``media_category=tweet_image``). Animated GIFs go in chunks, as X requires for
    ``tweet_gif``: ``POST /2/media/upload/initialize`` (JSON: type, size, category), one
    ``POST /2/media/upload/{id}/append`` per chunk (multipart: ``media``, ``segment_index``),
    ``POST /2/media/upload/{id}/finalize``, then ``GET /2/media/upload?command=STATUS`` while X
    processes it, for at most ``MEDIA_PROCESSING_WAIT`` seconds. (The older
    ``command=INIT/APPEND/FINALIZE`` form of ``POST /2/media/upload`` is retired.) ``session``
    is the transport's rebased session and ``auth`` its OAuth 1.0a signer, so the requests go
    where the others go and are signed the same way.
    """
    content = Path(image.path).read_bytes()
    name = Path(image.path).name
    if image.media_type != "image/gif":
        fields: _Multipart = {
            "media": (name, content, image.media_type),
            "media_category": (None, "tweet_image"),
        }
        return str(_media_data(session.post(_upload_url(), files=fields, auth=auth))["id"])

    init: dict[str, str | int] = {
        "media_type": image.media_type,
        "total_bytes": len(content),
        "media_category": "tweet_gif",
    }
    response = session.post(_upload_url("initialize"), json=init, auth=auth)
    media_id = str(_media_data(response)["id"])
    for index, start in enumerate(range(0, len(content), MEDIA_CHUNK)):
        chunk: _Multipart = {
            "media": (name, content[start : start + MEDIA_CHUNK], "application/octet-stream"),
            "segment_index": (None, str(index)),
        }
        _raise_for_status(session.post(_upload_url(media_id, "append"), files=chunk, auth=auth))
    data = _media_data(session.post(_upload_url(media_id, "finalize"), auth=auth))
    waited = 0.0
    while (info := data.get("processing_info")) and info.get("state") != "succeeded":
        if info.get("state") == "failed":
            reason = (info.get("error") or {}).get("message", "no reason given")
            raise TransportError(f"X could not process {name}: {reason}.", permanent=True)
        if waited >= MEDIA_PROCESSING_WAIT:
            raise TransportError(
                f"X was still processing {name} after {waited:.0f} s.", permanent=False
            )
        # X's "check after" delay, but no wait past the deadline.
        delay = min(float(info.get("check_after_secs") or 1), MEDIA_PROCESSING_WAIT - waited)
        sleep(delay)
        waited += delay
        params = {"command": "STATUS", "media_id": media_id}
        data = _media_data(session.get(_upload_url(), params=params, auth=auth))
    return media_id


def set_alt_text(session: requests.Session, auth: Any, media_id: str, alt: str) -> None:
    """Describe an uploaded image for people who cannot see it (``POST /2/media/metadata``)."""
    body: dict[str, str | dict[str, dict[str, str]]] = {
        "id": media_id,
        "metadata": {"alt_text": {"text": alt}},
    }
    _raise_for_status(session.post(TWEEPY_HOST + MEDIA_METADATA_PATH, json=body, auth=auth))


def _comparable(text: str) -> str:
    """A post's text as X gives it back, made comparable with what we sent.

    X returns ``&``, ``<`` and ``>`` HTML-escaped and every link rewritten to a t.co address;
    links become one placeholder and spaces are collapsed on both sides.
    """
    text = unicodedata.normalize("NFC", html.unescape(text))
    pieces, last = [], 0
    for start, end in find_urls(text):
        pieces.extend([text[last:start], "\x00"])
        last = end
    pieces.append(text[last:])
    return " ".join("".join(pieces).split())


def _same_text(sent: str, remote: str, *, with_media: bool) -> bool:
    mine, theirs = _comparable(sent), _comparable(remote)
    if theirs == mine:
        return True
    # X appends a link to the attached images at the end of the text it gives back.
    return with_media and theirs.startswith(mine) and not theirs[len(mine) :].strip(" \x00")


def _replies_to(tweet: Any, remote_id: str) -> bool:
    references = _either(getattr(tweet, "data", None), "referenced_posts", "referenced_tweets")
    return any(
        isinstance(reference, dict)
        and reference.get("type") == "replied_to"
        and str(reference.get("id")) == remote_id
        for reference in references or []
    )


def _has_url(text: str) -> bool:
    return bool(find_urls(text))


class XTransport:
    """One X account, authenticated with its four OAuth 1.0a user-context credentials."""

    dry_run = False

    def __init__(
        self,
        handle: str,
        credentials: tuple[str, str, str, str],
        *,
        api_base_url: str = X_HOST,
        retries: int = 3,
        backoff: float = 2.0,
        timeout: tuple[float, float] = (10.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        consumer_key, consumer_secret, access_token, access_token_secret = credentials
        self.handle = handle
        self.client = tweepy.Client(
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
        )
        self.client.session = _RebasedSession(api_base_url, timeout)
        self._signer = tweepy.OAuth1UserHandler(
            consumer_key, consumer_secret, access_token, access_token_secret
        )
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.usage = Usage()
        self._user_id: str | None = None

    # --- one call, with the error policy ------------------------------------------------------

    def _attempt(self, what: str, call: Callable[[], Any], *, uncertain: bool = False) -> Any:
        """Run ``call`` once; a failure worth retrying is a ``_Transient``, others final.

        ``uncertain``: an earlier attempt at the same creation got no clear answer, which
        changes what a "duplicate content" refusal most likely means.
        """
        try:
            return call()
        except tweepy.TooManyRequests as exc:
            raise self._rate_limited(what, exc, uncertain) from None
        except tweepy.Unauthorized as exc:
            detail = "; ".join(str(m) for m in exc.api_messages) or "no reason given"
            raise TransportError(
                f"@{self.handle}: X refused the credentials (401: {detail}) while trying to "
                f"{what}. Check the four credential variables of this account (`campaign "
                "social accounts`) and that the access token was generated for this account.",
                permanent=True,
                uncertain=uncertain,
            ) from None
        except tweepy.Forbidden as exc:
            raise self._forbidden(what, exc, uncertain) from None
        except tweepy.TwitterServerError as exc:
            status = getattr(exc.response, "status_code", "5xx")
            raise _Transient(f"X answered {status} (server error)", maybe_sent=True) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            maybe_sent = _maybe_sent(exc)
            if isinstance(exc, requests.ConnectTimeout):
                problem = "could not connect to X (timeout)"
            elif isinstance(exc, requests.Timeout):
                problem = "no answer from X in time (timeout)"
            elif not maybe_sent:
                problem = "could not connect to X (connection refused or no route)"
            else:
                problem = f"connection to X lost before its answer ({type(exc).__name__})"
            raise _Transient(problem, maybe_sent=maybe_sent) from None
        except tweepy.HTTPException as exc:
            if getattr(exc.response, "status_code", None) == 402:
                raise self._out_of_credits(what, uncertain) from None
            raise TransportError(
                f"@{self.handle}: X refused to {what}: {exc}".replace("\n", " "),
                permanent=True,
                uncertain=uncertain,
            ) from None

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """Run a call that creates nothing, retrying server errors and timeouts with backoff."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(what, call)
            except _Transient as failure:
                problem = failure.problem
            if attempt < self.retries:
                log.warning("@%s: %s while trying to %s; retrying", self.handle, problem, what)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"@{self.handle}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
        )

    def _rate_limited(
        self, what: str, exc: tweepy.TooManyRequests, uncertain: bool
    ) -> TransportError:
        headers = getattr(exc.response, "headers", {}) or {}
        retry_at = datetime.fromtimestamp(exc.reset_time, UTC) if exc.reset_time else None
        scope = "rate limit"
        for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
            if headers.get(f"{prefix}-remaining") == "0":
                scope = "daily cap (" + ("user" if "user" in prefix else "app") + ")"
                retry_at = _reset_time(exc.response, f"{prefix}-reset") or retry_at
        when = f"; try again after {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else ""
        return TransportError(
            f"@{self.handle}: X {scope} reached while trying to {what}{when}.",
            permanent=False,
            retry_at=retry_at,
            uncertain=uncertain,
        )

    def _out_of_credits(self, what: str, uncertain: bool) -> TransportError:
        """A 402: the developer account's prepaid credits are spent; worth trying later."""
        retry_at = (self.clock() + CREDITS_WAIT).replace(microsecond=0)
        refused = "the post" if what in PUBLISHING else f"to {what}"
        # Images are uploaded while publishing: the post is retried then too.
        posting = what in PUBLISHING or what.startswith(("upload the image", "set the descr"))
        then = "the post will be retried" if posting else "try again"
        return TransportError(
            f"@{self.handle}: X refused {refused}: {CREDITS_EXHAUSTED}; top up the developer "
            f"account, {then} after {retry_at:%Y-%m-%d %H:%M} UTC.",
            permanent=False,
            retry_at=retry_at,
            uncertain=uncertain,
        )

    def _forbidden(self, what: str, exc: tweepy.Forbidden, uncertain: bool) -> TransportError:
        if _is_duplicate(exc):
            message = (
                f"@{self.handle}: X refused the post as duplicate content (403): the same text "
                "was already published recently by this account. Change the text to post again."
            )
            if uncertain:
                message += (
                    " An earlier attempt got no clear answer, so it was most likely published "
                    "then: check the account before changing anything."
                )
            return TransportError(message, permanent=True, uncertain=uncertain)
        detail = "; ".join(str(m).strip() for m in exc.api_messages).rstrip(".")
        if _is_reply_refusal(exc):
            return TransportError(
                f"@{self.handle}: {REPLY_REFUSED}: {detail} (403). Since February 2026 X "
                "refuses some replies made through its API; the parts already published stay "
                "on X, the rest of the thread is not published: post it by hand on X, or "
                "publish it as separate posts.",
                permanent=True,
                uncertain=uncertain,
            )
        request = getattr(exc.response, "request", None)
        if str(getattr(request, "method", "")).upper() == "GET":
            hint = (
                "X lets only some access levels read this: check the app's plan in the X "
                "developer portal."
            )
        else:
            hint = (
                "Most often the X app has only the Read permission: in the X developer portal, "
                "set the app's permissions to \"Read and write\", then regenerate this account's "
                "access token and secret (a token keeps the permissions it was created with) and "
                "set them again (`campaign social accounts` names the variables)."
            )
        return TransportError(
            f"@{self.handle}: X forbade this account to {what} (403 Forbidden: "
            f"{detail or 'no reason given'}). {hint}",
            permanent=True,
        )

    # --- publishing ---------------------------------------------------------------------------

    def _user(self) -> str:
        if self._user_id is None:
            self._user_id = self.account().user_id
        return self._user_id

    def _find_published(
        self, text: str, reply_to: str | None, *, since: datetime, with_media: bool
    ) -> str | None:
        """The id of a post of ours since ``since`` with this text (and parent), if any."""
        try:
            user_id = self._user()
            token: str | None = None
            for _page in range(3):
                params: dict[str, Any] = {
                    "start_time": since - CLOCK_SLACK,
                    "max_results": RECENT_POSTS,
                    "tweet_fields": ["created_at", "referenced_tweets"],
                }
                if token:
                    params["pagination_token"] = token
                response = self._call(
                    "look for the post among the account's recent posts",
                    partial(self.client.get_users_tweets, user_id, user_auth=True, **params),
                )
                tweets = list(response.data or [])
                self.usage.posts_read += len(tweets)
                for tweet in reversed(tweets):  # oldest first: the first copy is the real one
                    if _same_text(text, tweet.text, with_media=with_media) and (
                        reply_to is None or _replies_to(tweet, reply_to)
                    ):
                        return str(tweet.id)
                token = (response.meta or {}).get("next_token")
                if not token:
                    return None
            return None
        except TransportError as exc:
            raise TransportError(
                f"{exc} The post may be on X already (an attempt got no clear answer), so it "
                "is not sent again until its absence is checked: the next attempt looks first.",
                permanent=exc.permanent,
                retry_at=exc.retry_at,
                uncertain=True,
            ) from None

    def _upload(self, image: Image) -> str:
        name = Path(image.path).name
        media_id = self._call(
            f"upload the image {name}",
            lambda: upload_media(
                self.client.session, self._signer.apply_auth(), image, sleep=self.sleep
            ),
        )
        self.usage.media_uploads += 1
        if image.alt:
            self._call(
                f"set the description of {name}",
                lambda: set_alt_text(
                    self.client.session, self._signer.apply_auth(), media_id, image.alt
                ),
            )
            self.usage.media_metadata += 1
        return str(media_id)

    def _publish_part(
        self,
        text: str,
        reply_to: str | None,
        images: Sequence[Image],
        check_since: datetime | None,
    ) -> str:
        """Create one post, retrying without ever creating it twice."""
        media_ids: list[str] | None = None
        problem = ""
        for attempt in range(self.retries + 1):
            if check_since is not None:
                found = self._find_published(
                    text, reply_to, since=check_since, with_media=bool(images)
                )
                if found is not None:
                    log.info("@%s: post %s had gone through; not sent again", self.handle, found)
                    self._count_post(text)
                    return found
            if images and media_ids is None:
                media_ids = [self._upload(image) for image in images]
            started = self.clock()

            def create(media_ids: list[str] | None = media_ids) -> Any:
                return self.client.create_tweet(
                    text=text,
                    in_reply_to_tweet_id=reply_to,
                    media_ids=media_ids or None,
                    user_auth=True,
                )

            what = PUBLISHING[1] if reply_to else PUBLISHING[0]
            try:
                response = self._attempt(what, create, uncertain=bool(check_since))
            except _Transient as failure:
                problem = failure.problem
                if failure.maybe_sent and check_since is None:
                    check_since = started
            else:
                self._count_post(text)
                return str(response.data["id"])
            if attempt < self.retries:
                log.warning("@%s: %s while publishing; retrying", self.handle, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"@{self.handle}: {problem} while trying to publish a post, "
            f"{self.retries + 1} attempts.",
            permanent=False,
            uncertain=check_since is not None,
        )

    def _count_post(self, text: str) -> None:
        if _has_url(text):
            self.usage.posts_with_url += 1
        else:
            self.usage.posts += 1

    # --- the transport interface --------------------------------------------------------------

    def publish(self, post: Outgoing, *, on_published: OnPublished | None = None) -> list[str]:
        ids: list[str] = []
        reply_to = post.reply_to
        check_since = post.check_since
        for index, text in enumerate(post.parts):
            images = post.images if index == 0 else ()
            remote_id = self._publish_part(text, reply_to, images, check_since)
            check_since = None  # the uncertainty was about the first part still to publish
            ids.append(remote_id)
            reply_to = remote_id
            if on_published is not None:
                on_published(index, remote_id)
        return ids

    def fetch_metrics(
        self, remote_ids: Sequence[str], *, non_public: bool = True
    ) -> dict[str, PostFigures]:
        fields = ["public_metrics", "non_public_metrics"] if non_public else ["public_metrics"]
        figures: dict[str, PostFigures] = {}
        for start in range(0, len(remote_ids), 100):
            chunk = list(remote_ids[start : start + 100])
            response = self._call(
                "read post metrics",
                partial(self.client.get_tweets, chunk, tweet_fields=fields, user_auth=True),
            )
            tweets = list(response.data or [])
            self.usage.posts_read += len(tweets)
            for tweet in tweets:
                public = tweet.public_metrics or {}
                private = tweet.non_public_metrics or {}
                impressions = private.get("impression_count", public.get("impression_count"))
                figures[str(tweet.id)] = PostFigures(
                    remote_id=str(tweet.id),
                    impressions=impressions,
                    likes=public.get("like_count", 0),
                    reposts=_either(public, "repost_count", "retweet_count", 0),
                    replies=public.get("reply_count", 0),
                    quotes=public.get("quote_count", 0),
                )
        return figures

    def account(self) -> AccountFigures:
        response = self._call(
            "read the account",
            lambda: self.client.get_me(user_fields=["public_metrics"], user_auth=True),
        )
        self.usage.users_read += 1
        user = response.data
        metrics = user.public_metrics or {}
        self._user_id = str(user.id)
        return AccountFigures(
            user_id=str(user.id),
            username=user.username,
            followers=metrics.get("followers_count", 0),
            posts=_either(metrics, "post_count", "tweet_count", 0),
        )

    def mentions(self, since_id: str | None, *, since_time: datetime | None = None) -> Mentions:
        user_id = self._user()
        if since_id is None and since_time is None:
            # First sync: only note where the count starts (reading old mentions costs money).
            response = self._call(
                "read the account's mentions",
                lambda: self.client.get_users_mentions(user_id, max_results=5, user_auth=True),
            )
            self.usage.posts_read += len(response.data or [])
            return Mentions(count=0, newest_id=(response.meta or {}).get("newest_id"))
        count = 0
        newest: str | None = None
        token: str | None = None
        items: list[Mentioned] = []
        for _page in range(MENTION_PAGES):
            # Each mention's author and their public counts come in the same request.
            params: dict[str, Any] = {
                "max_results": 100,
                "expansions": ["author_id"],
                "user_fields": ["public_metrics"],
                "tweet_fields": ["created_at"],
            }
            if since_id:
                params["since_id"] = since_id
            else:
                params["start_time"] = since_time
            if token:
                params["pagination_token"] = token
            response = self._call(
                "read the account's mentions",
                partial(self.client.get_users_mentions, user_id, user_auth=True, **params),
            )
            meta = response.meta or {}
            page = list(response.data or [])
            self.usage.posts_read += len(page)
            items.extend(_mentioned(page, response.includes or {}, self.usage, self.clock()))
            count += int(meta.get("result_count", len(page)))
            newest = newest or meta.get("newest_id")
            token = meta.get("next_token")
            if not token:
                return Mentions(count=count, newest_id=newest or since_id, items=tuple(items))
        return Mentions(
            count=count, newest_id=newest or since_id, complete=False, items=tuple(items)
        )


def _mentioned(
    page: list[Any], includes: dict[str, Any], usage: Usage, now: datetime
) -> list[Mentioned]:
    """The posts of one page of mentions with their authors (from ``includes.users``)."""
    users = {str(user.id): user for user in includes.get("users") or []}
    usage.users_read += len(users)
    found = []
    for tweet in page:
        user = users.get(str(getattr(tweet, "author_id", "") or ""))
        metrics = (user.public_metrics or {}) if user is not None else {}
        followers = metrics.get("followers_count")
        found.append(
            Mentioned(
                remote_id=str(tweet.id),
                kind="mention",
                author=user.username if user is not None else "",
                followers=int(followers) if followers is not None else None,
                at=tweet.created_at or now,
            )
        )
    return found


# --- the transport of an account ----------------------------------------------------------------


def transport_of(settings: Settings, account: SocialAccount, **options: Any) -> XTransport:
    """The X transport of ``account``, whose credentials are all set.

    ``options`` override the transport's defaults (``retries``, ``timeout``, ``backoff``,
    ``sleep``, ``clock``); the defaults come from ``[social.x]``.
    """
    key, key_secret, token, token_secret = (
        settings.secret(getattr(account, field)) or "" for field in CREDENTIAL_FIELDS
    )
    read_timeout = settings.social.x.timeout
    chosen: dict[str, Any] = {
        "retries": settings.social.x.retries,
        "timeout": (min(10.0, read_timeout), read_timeout),
    }
    chosen.update(options)
    return XTransport(
        account.handle,
        (key, key_secret, token, token_secret),
        api_base_url=settings.social.x.api_base_url,
        **chosen,
    )
