"""Publishing to X with tweepy (API v2, OAuth 1.0a user context), and choosing the transport.

tweepy's ``Client`` hard-codes ``https://api.twitter.com``; its ``session`` is a plain
``requests.Session``, so we give it one that rebases every URL on ``[social.x] api_base_url``
(before the OAuth signature is computed, so the signature matches the host really called) and
that always sets a timeout. Rate limits are reported, not slept on inside the call (that would
block the scheduler); server errors and timeouts are retried a bounded number of times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy

from campaign.config import Settings, SocialAccount
from campaign.errors import CampaignError
from campaign.social import (
    AccountFigures,
    OnPublished,
    PostFigures,
    SocialTransport,
    TransportError,
)
from campaign.social.dryrun import DryRunTransport

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
CREDENTIAL_FIELDS = (
    "consumer_key_env",
    "consumer_secret_env",
    "access_token_env",
    "access_token_secret_env",
)


class _RebasedSession(requests.Session):
    """A session that sends tweepy's requests to ``base_url`` and never waits forever."""

    def __init__(self, base_url: str, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def _reset_time(response: Any, header: str) -> datetime | None:
    value = getattr(response, "headers", {}).get(header)
    try:
        return datetime.fromtimestamp(int(value), UTC) if value else None
    except (TypeError, ValueError):
        return None


def _is_duplicate(exc: tweepy.HTTPException) -> bool:
    return any("duplicate" in str(message).lower() for message in exc.api_messages)


class XTransport:
    """One X account, authenticated with its four OAuth 1.0a user-context credentials."""

    dry_run = False

    def __init__(
        self,
        handle: str,
        credentials: tuple[str, str, str, str],
        *,
        api_base_url: str = TWEEPY_HOST,
        retries: int = 3,
        backoff: float = 2.0,
        timeout: tuple[float, float] = (10.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
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
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    # --- one call, with the error policy ------------------------------------------------------

    def _call(self, what: str, call: Callable[[], Any], *, creates: bool = False) -> Any:
        """Run ``call``; retry server errors and timeouts; turn failures into TransportError.

        ``creates``: the call creates something, so a timeout or server error leaves the outcome
        uncertain; a later "duplicate content" answer then most likely means the first attempt
        went through.
        """
        uncertain = False
        for attempt in range(self.retries + 1):
            try:
                return call()
            except tweepy.TooManyRequests as exc:
                raise self._rate_limited(what, exc) from None
            except tweepy.Unauthorized:
                raise TransportError(
                    f"@{self.handle}: X refused the credentials (401) while trying to {what}. "
                    "Check the four credential variables of this account (`campaign social "
                    "accounts`) and that the access token was generated for this account.",
                    permanent=True,
                ) from None
            except tweepy.Forbidden as exc:
                raise self._forbidden(what, exc, uncertain) from None
            except tweepy.TwitterServerError as exc:
                status = getattr(exc.response, "status_code", "5xx")
                problem = f"X answered {status} (server error)"
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem = f"no answer from X ({type(exc).__name__})"
                # A request refused before connecting cannot have created anything.
                if isinstance(exc, requests.ConnectTimeout):
                    problem = "could not connect to X (timeout)"
                elif creates:
                    uncertain = True
            except tweepy.HTTPException as exc:
                raise TransportError(
                    f"@{self.handle}: X refused to {what}: {exc}", permanent=True
                ) from None
            if creates and problem.startswith("X answered"):
                uncertain = True
            if attempt < self.retries:
                delay = self.backoff * (2**attempt)
                log.warning("@%s: %s while trying to %s; retrying", self.handle, problem, what)
                self.sleep(delay)
        raise TransportError(
            f"@{self.handle}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
            uncertain=uncertain,
        )

    def _rate_limited(self, what: str, exc: tweepy.TooManyRequests) -> TransportError:
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
        detail = "; ".join(str(m) for m in exc.api_messages) or str(exc)
        return TransportError(
            f"@{self.handle}: X forbade to {what} (403): {detail}. The app may lack write "
            "permission (regenerate the access token after enabling 'Read and write').",
            permanent=True,
        )

    # --- the transport interface --------------------------------------------------------------

    def publish(
        self,
        parts: Sequence[str],
        *,
        reply_to: str | None = None,
        on_published: OnPublished | None = None,
    ) -> list[str]:
        ids: list[str] = []
        for index, text in enumerate(parts):
            previous = reply_to

            def create(text: str = text, previous: str | None = previous) -> Any:
                return self.client.create_tweet(
                    text=text, in_reply_to_tweet_id=previous, user_auth=True
                )

            response = self._call("publish a post", create, creates=True)
            remote_id = str(response.data["id"])
            ids.append(remote_id)
            reply_to = remote_id
            if on_published is not None:
                on_published(index, remote_id)
        return ids

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, PostFigures]:
        figures: dict[str, PostFigures] = {}
        for start in range(0, len(remote_ids), 100):
            chunk = list(remote_ids[start : start + 100])
            response = self._call(
                "read post metrics",
                lambda chunk=chunk: self.client.get_tweets(
                    chunk, tweet_fields=["public_metrics", "non_public_metrics"], user_auth=True
                ),
            )
            for tweet in response.data or []:
                public = tweet.public_metrics or {}
                private = tweet.non_public_metrics or {}
                impressions = private.get("impression_count", public.get("impression_count"))
                figures[str(tweet.id)] = PostFigures(
                    remote_id=str(tweet.id),
                    impressions=impressions,
                    likes=public.get("like_count", 0),
                    reposts=public.get("retweet_count", 0),
                    replies=public.get("reply_count", 0),
                    quotes=public.get("quote_count", 0),
                )
        return figures

    def account(self) -> AccountFigures:
        response = self._call(
            "read the account",
            lambda: self.client.get_me(user_fields=["public_metrics"], user_auth=True),
        )
        user = response.data
        metrics = user.public_metrics or {}
        return AccountFigures(
            user_id=str(user.id),
            username=user.username,
            followers=metrics.get("followers_count", 0),
            posts=metrics.get("tweet_count", 0),
        )


# --- which transport for which account ---------------------------------------------------------


def account_settings(settings: Settings, name: str) -> SocialAccount:
    """The ``[social.accounts.NAME]`` section, or a message listing the configured names."""
    accounts = settings.social.accounts
    if name not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise CampaignError(
            f"Unknown social account {name!r}. Configured accounts: {known} "
            "(sections [social.accounts.NAME] of the configuration file)."
        )
    return accounts[name]


def missing_credentials(settings: Settings, account: SocialAccount) -> list[str]:
    """Names of the credential variables of ``account`` that are unset (or not named at all)."""
    missing = []
    for field in CREDENTIAL_FIELDS:
        env = getattr(account, field)
        if not env:
            missing.append(f"({field} not set in the configuration)")
        elif settings.secret(env) is None:
            missing.append(env)
    return missing


def transport_for(settings: Settings, name: str, **options: Any) -> SocialTransport:
    """The X transport of account ``name``, or a dry-run one while credentials are missing."""
    account = account_settings(settings, name)
    if missing_credentials(settings, account):
        return DryRunTransport(handle=account.handle)
    key, key_secret, token, token_secret = (
        settings.secret(getattr(account, field)) or "" for field in CREDENTIAL_FIELDS
    )
    return XTransport(
        account.handle,
        (key, key_secret, token, token_secret),
        api_base_url=settings.social.x.api_base_url,
        **options,
    )
