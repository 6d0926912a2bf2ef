"""X's refusals, worded: what a 401, a 402, a 403 or a 429 from X means for the account and
what to do about it.

Two refusals have their own wording, because what to do about them differs: a 402 (the
developer account's prepaid credits are spent) leaves the post to be tried again an hour later,
and a 403 refusing a reply (since February 2026 X refuses API replies unless the author of the
post replied to mentioned or quoted the replying account) stops the thread with that reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import tweepy

from campaign.social import TransportError

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


def unauthorized(
    handle: str, what: str, exc: tweepy.Unauthorized, uncertain: bool
) -> TransportError:
    """A 401: X refused the account's credentials."""
    detail = "; ".join(str(m) for m in exc.api_messages) or "no reason given"
    return TransportError(
        f"@{handle}: X refused the credentials (401: {detail}) while trying to "
        f"{what}. Check the four credential variables of this account (`campaign "
        "social accounts`) and that the access token was generated for this account.",
        permanent=True,
        uncertain=uncertain,
    )


def rate_limited(
    handle: str, what: str, exc: tweepy.TooManyRequests, uncertain: bool
) -> TransportError:
    """A 429: X's rate limit, or a daily cap of the user or the app; worth trying later."""
    headers = getattr(exc.response, "headers", {}) or {}
    retry_at = datetime.fromtimestamp(exc.reset_time, UTC) if exc.reset_time else None
    scope = "rate limit"
    for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if headers.get(f"{prefix}-remaining") == "0":
            scope = "daily cap (" + ("user" if "user" in prefix else "app") + ")"
            retry_at = _reset_time(exc.response, f"{prefix}-reset") or retry_at
    when = f"; try again after {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else ""
    return TransportError(
        f"@{handle}: X {scope} reached while trying to {what}{when}.",
        permanent=False,
        retry_at=retry_at,
        uncertain=uncertain,
    )


def out_of_credits(handle: str, what: str, uncertain: bool, now: datetime) -> TransportError:
    """A 402: the developer account's prepaid credits are spent; worth trying later."""
    retry_at = (now + CREDITS_WAIT).replace(microsecond=0)
    refused = "the post" if what in PUBLISHING else f"to {what}"
    # Images are uploaded while publishing: the post is retried then too.
    posting = what in PUBLISHING or what.startswith(("upload the image", "set the descr"))
    then = "the post will be retried" if posting else "try again"
    return TransportError(
        f"@{handle}: X refused {refused}: {CREDITS_EXHAUSTED}; top up the developer "
        f"account, {then} after {retry_at:%Y-%m-%d %H:%M} UTC.",
        permanent=False,
        retry_at=retry_at,
        uncertain=uncertain,
    )


def forbidden(handle: str, what: str, exc: tweepy.Forbidden, uncertain: bool) -> TransportError:
    """A 403: duplicate content, a reply X refuses, or a permission the app lacks."""
    if _is_duplicate(exc):
        message = (
            f"@{handle}: X refused the post as duplicate content (403): the same text "
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
            f"@{handle}: {REPLY_REFUSED}: {detail} (403). Since February 2026 X "
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
        f"@{handle}: X forbade this account to {what} (403 Forbidden: "
        f"{detail or 'no reason given'}). {hint}",
        permanent=True,
    )
