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

tweepy 4.17 has no client for the v2 media upload: :mod:`.x_media` makes those requests on the
same rebased session, signed the same way. What X's refusals mean, and what to do about them
(a 402 when the credits are spent, a 403 refusing a reply), is worded in :mod:`.x_refusals`.
X's newest specification renames some fields of its answers (``retweet_count`` to
``repost_count``, ``tweet_count`` to ``post_count``, ``referenced_tweets`` to
``referenced_posts``): both names are read; the query parameters keep their old names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
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
from campaign.social.retrying import Transient, maybe_sent
from campaign.social.x_media import TWEEPY_HOST, set_alt_text, upload_media
from campaign.social.x_refusals import (
    CREDITS_WAIT,
    PUBLISHING,
    REPLY_REFUSED,
    forbidden,
    out_of_credits,
    problem_of,
    rate_limited,
    unauthorized,
)
from campaign.social.xtext import find_urls, same_text

__all__ = ["CREDITS_WAIT", "REPLY_REFUSED", "XTransport", "problem_of", "transport_of"]

log = logging.getLogger(__name__)

X_HOST = "https://api.x.com"  # the server of X's OpenAPI specification: the default
CREDENTIAL_FIELDS = (
    "consumer_key_env",
    "consumer_secret_env",
    "access_token_env",
    "access_token_secret_env",
)
RECENT_POSTS = 20  # posts read per page when looking for a post that may have gone through
CLOCK_SLACK = timedelta(minutes=2)  # our clock and X's may differ a little
MENTION_PAGES = 8  # X's mentions timeline goes back 800 posts at most (8 pages of 100)


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


def _either(data: Any, new: str, old: str, default: Any = None) -> Any:
    """A field of X's answer under its newest name or its former one."""
    data = data or {}
    return data[new] if data.get(new) is not None else data.get(old, default)


def _connection_failure(exc: requests.RequestException) -> Transient:
    """A time-out or a lost connection, worded, and whether the request may have reached X."""
    reached = maybe_sent(exc)
    if isinstance(exc, requests.ConnectTimeout):
        problem = "could not connect to X (timeout)"
    elif isinstance(exc, requests.Timeout):
        problem = "no answer from X in time (timeout)"
    elif not reached:
        problem = "could not connect to X (connection refused or no route)"
    else:
        problem = f"connection to X lost before its answer ({type(exc).__name__})"
    return Transient(problem, maybe_sent=reached)


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
        """Run ``call`` once; a failure worth retrying is a ``Transient``, others final.

        ``uncertain``: an earlier attempt at the same creation got no clear answer, which
        changes what a "duplicate content" refusal most likely means.
        """
        try:
            return call()
        except tweepy.TooManyRequests as exc:
            raise rate_limited(self.handle, what, exc, uncertain) from None
        except tweepy.Unauthorized as exc:
            raise unauthorized(self.handle, what, exc, uncertain) from None
        except tweepy.Forbidden as exc:
            raise forbidden(self.handle, what, exc, uncertain) from None
        except tweepy.TwitterServerError as exc:
            status = getattr(exc.response, "status_code", "5xx")
            raise Transient(f"X answered {status} (server error)", maybe_sent=True) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise _connection_failure(exc) from None
        except tweepy.HTTPException as exc:
            if getattr(exc.response, "status_code", None) == 402:
                raise out_of_credits(self.handle, what, uncertain, self.clock()) from None
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
            except Transient as failure:
                problem = failure.problem
            if attempt < self.retries:
                log.warning("@%s: %s while trying to %s; retrying", self.handle, problem, what)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"@{self.handle}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
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
                    if same_text(text, tweet.text, with_media=with_media) and (
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
            except Transient as failure:
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
