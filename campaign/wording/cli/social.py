"""The command line's words for the messages of the social posts: their images, texts, life,
LinkedIn and the accounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign.wording import CliShape

SENTENCES: dict[str, str] = {
    # images of posts
    "image.missing": "{label}: {path} does not exist (or is not a file).",
    "image.not_a_picture": (
        "{label}: {name} is not a JPEG, PNG, WEBP or GIF image (X takes only those): convert "
        "it, e.g. to JPEG."
    ),
    "image.too_big": (
        "{label}: {name} is {size}; X takes at most {limit} for a {kind} image: make it smaller."
    ),
    "image.upload_too_big": (
        "Image {name!r}: over {limit}, the most {network_name} takes for a {kind} image: make it "
        "smaller."
    ),
    "image.no_alt": ("{label}: give a description of {name} (--alt) for people who cannot see it."),
    "image.alt_too_long": (
        "{label}: the description of {name} is {length} characters long; X takes at most "
        "{limit}: shorten it by {over}."
    ),
    "image.not_kept": (
        "Cannot copy {name} into the media folder {folder} ([dashboard] media_dir): {reason}."
    ),
    # the event a post features
    "event.unknown": "No event {ident!r} (see `campaign events list`).",
    "post.template_value_missing": (
        "Post template {name!r} needs a value it was not given ({detail})."
    ),
    "post.cannot_move": "{post} is {status}: it can no longer be given a new time.",
    "post.cannot_edit": "{post} is {status}: only posts not yet published can be edited.",
    "post.cannot_schedule": (
        "{post} is {status}: only a draft can be scheduled (give it a new time with "
        "`campaign posts edit {post_id} --at …`, or cancel it)."
    ),
    "post.cannot_publish": "{post} is {status}: it cannot be published.",
    "post.cannot_cancel": (
        "{post} is {status}: it cannot be cancelled (delete it on the network if it must go)."
    ),
    "post.partly_published": (
        "{post} is {status} (partly published): only posts not yet published can be edited."
    ),
    "post.waiting_for_network": (
        "{post} is partly published and waits for the network's reset: it goes on by itself "
        "then (cancel it to stop it)."
    ),
    # LinkedIn
    "linkedin.token_refused": (
        "{label}: LinkedIn refused the LinkedIn access token (401: {reason}). Tokens last 60 "
        "days: make a new one (docs/admin/networks.md), put it in {env} and set the account's "
        "token_expires to its new end day."
    ),
    "linkedin.token_expired": (
        "{label}: the LinkedIn access token expired on {date}. Make a new one "
        "(docs/admin/networks.md), put it in {env} and set the account's token_expires to its "
        "new end day."
    ),
    "linkedin.forbidden": (
        "{label}: LinkedIn refused to {what} (403: {reason}). The token needs the "
        "w_organization_social permission, made by an administrator of the page: make a new one "
        "with it (docs/admin/networks.md)."
    ),
    "linkedin.rate_limited": (
        "{label}: LinkedIn's rate limit was reached while trying to {what}; try again after "
        "{at} UTC."
    ),
    "linkedin.too_large": (
        "{label}: LinkedIn refused to {what} (413): the file is too large; make it smaller."
    ),
    "linkedin.refused": "{label}: LinkedIn refused to {what} ({status}: {reason}).",
    "account.token_expires_soon": (
        "@{handle} ({network}): the access token expires on {date}, in {days} days: make a new "
        "one and set token_expires (docs/admin/networks.md)."
    ),
    "account.token_expired": (
        "@{handle} ({network}): the access token expired on {date}: posts fail until a new one "
        "is set, with token_expires (docs/admin/networks.md)."
    ),
    # posts
    "post.too_long": (
        "{post} is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): shorten it, or use --split to publish it as a thread."
    ),
    "post.part_too_long": (
        "{post}, part {part} of the thread, is {length} characters long as {network} counts "
        "them, {over} too many (at most {limit}; {note}): shorten it, or use --split to "
        "publish it as a thread."
    ),
    "post.too_long_one_post": (
        "{post} is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): {network} has no threads, so shorten it (the parts of a thread "
        "are one post there)."
    ),
    "post.empty": "{post} is empty: give its text.",
    "post.not_draft": "it is {status}, not a draft",
    "post.no_time": "it has no time: give one with `campaign posts edit {post_id} --at …`",
    "post.time_past": (
        "its time is already past: give it a new one with `campaign posts edit {post_id} --at …`, "
        "or publish it now"
    ),
    "post.create_time_past": (
        "{at} is already past: give a time to come, or create the post without a time and "
        "publish it now (`campaign posts publish ID`)."
    ),
    "post.nothing_to_schedule": "Name the posts to schedule, or pass --all-drafts.",
    # posts: their life (created, edited, published, cancelled)
    "post.time_without_zone": "The publication time must carry a time zone.",
    "post.no_account": "Name at least one account for the post.",
    "post.unknown": "No post number {post_id} (see `campaign posts list`).",
    "post.being_published": "Post {post_id} is being published right now; try again shortly.",
    "post.waiting": (
        "Post {post_id}: waiting before publishing again; it stays scheduled and is "
        "tried again after {at} ({error})"
    ),
    "post.credentials_missing": (
        "Post {post_id} is partly published on X, but the credentials of account "
        "{account!r} are missing now: set them (`campaign social accounts`) to finish."
    ),
    "post.claimed": "Post {post_id} is being published by another process (status {status}).",
    # social accounts
    "account.missing": "missing: {variables}",
    "account.not_checked": "not checked (--offline)",
    "account.accepted": "accepted by {network}: @{username}",
    "account.other_user": (
        "these credentials are those of @{username}, not @{handle}: posts would go to "
        "@{username}. Generate the access token while logged in as @{handle}."
    ),
}


# How each network counts, in the message refusing a text too long for it.
_COUNTING = {
    "x": ("X", "a link counts 23, an emoji 2"),
    "mastodon": ("Mastodon", "a link counts 23, an emoji 1"),
    "bluesky": ("Bluesky", "a link counts in full, an emoji 1"),
    "linkedin": ("LinkedIn", "a link counts in full, an emoji 1 or 2"),
}


def _counting(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    name, note = _COUNTING.get(given.get("network", "x"), _COUNTING["x"])
    values.update(network=name, note=note)


def _partly(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["partly"] = " (partly published)" if given.get("partly") else ""


def _waiting(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["at"] = f"{given['at']:%d/%m/%Y %H:%M:%S}"


SHAPES: dict[str, CliShape] = {
    "post.too_long": _counting,
    "post.part_too_long": _counting,
    "post.too_long_one_post": _counting,
    "post.not_editable": _partly,
    "post.waiting": _waiting,
}
