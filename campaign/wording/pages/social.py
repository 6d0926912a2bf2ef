"""The pages' words for the messages of the social posts: their images, texts, life, LinkedIn
and the accounts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from campaign.i18n import N_, gettext_in
from campaign.wording import PageShape

SENTENCES: dict[str, str] = {
    # images of posts
    "image.missing": N_("The image {name} cannot be found: choose the file again."),
    "image.not_a_picture": N_(
        "{name} is not a JPEG, PNG, WEBP or GIF image (X takes only those): convert it, for "
        "example to JPEG."
    ),
    "image.too_big": N_(
        "{name} weighs {size}; X takes at most {limit} for a {kind} image: make it smaller."
    ),
    "image.upload_too_big": N_(
        "The image {name} weighs more than {limit}, the most {network_name} takes for a {kind} "
        "image: make it smaller."
    ),
    "image.no_alt": N_(
        "Describe the image {name} for people who cannot see it (the description field)."
    ),
    "image.alt_too_long": N_(
        "The description of {name} has {length} characters; X takes at most {limit}: shorten "
        "it by {over}."
    ),
    "image.not_kept": N_(
        "The image {name} could not be saved ({reason}): ask an administrator to check the "
        "media folder."
    ),
    # the event a post features
    "event.unknown": N_("There is no event “{ident}”."),
    "post.template_value_missing": N_(
        "The post template “{name}” needs a value it was not given ({detail})."
    ),
    "post.cannot_move": N_("This post is {status}: it can no longer be given a new time."),
    "post.cannot_edit": N_("This post is {status}: only a post not yet published can be changed."),
    "post.cannot_schedule": N_(
        "This post is {status}: only a draft can be scheduled; give it a new time instead, or "
        "cancel it."
    ),
    "post.cannot_publish": N_("This post is {status}: it cannot be published."),
    "post.cannot_cancel": N_(
        "This post is {status}: it cannot be cancelled (delete it on the network if it must go)."
    ),
    "post.partly_published": N_("This post is partly published: its text can no longer change."),
    "post.waiting_for_network": N_(
        "This post is partly published and waits for the network: it goes on by itself after "
        "the wait the network asked for (cancel it to stop it)."
    ),
    # LinkedIn
    "linkedin.token_refused": N_(
        "{label}: LinkedIn refused the access token ({reason}). LinkedIn tokens last 60 days: ask"
        " the administrator to make a new one and set it."
    ),
    "linkedin.token_expired": N_(
        "{label}: the LinkedIn access token expired on {date}: ask the administrator to make a "
        "new one and set it."
    ),
    "linkedin.forbidden": N_(
        "{label}: LinkedIn refused the post ({reason}): the access token lacks the permission to "
        "publish for the page (w_organization_social), or was made by someone who is not one of "
        "its administrators."
    ),
    "linkedin.rate_limited": N_(
        "{label}: LinkedIn's limit of posts was reached; the post is tried again after {at}."
    ),
    "linkedin.too_large": N_("{label}: LinkedIn refused a file too large: make the image smaller."),
    "linkedin.refused": N_("{label}: LinkedIn refused the post ({status}: {reason})."),
    "account.token_expires_soon": N_(
        "@{handle} ({network}): the access token expires on {date}, in {days} days: ask the "
        "administrator to renew it."
    ),
    "account.token_expired": N_(
        "@{handle} ({network}): the access token expired on {date}: nothing is published until "
        "the administrator renews it."
    ),
    # posts
    "post.too_long": N_(
        "The text is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): shorten it, or tick “publish as a thread”."
    ),
    "post.part_too_long": N_(
        "Part {part} of the thread is {length} characters long as {network} counts them, "
        "{over} too many (at most {limit}; {note}): shorten it, or tick “publish as a thread”."
    ),
    "post.too_long_one_post": N_(
        "The text is {length} characters long as {network} counts them, {over} too many (at "
        "most {limit}; {note}): {network} has no threads, so shorten it."
    ),
    "post.empty": N_("The text is empty: write the post."),
    "post.not_draft": N_("it is no longer a draft"),
    "post.no_time": N_("it has no time: give it one on its page"),
    "post.time_past": N_(
        "its time is already past: give it a new one on its page, or publish it now"
    ),
    "post.create_time_past": N_(
        "{at} is already past: choose a time to come, or save the post without a time and "
        "publish it now."
    ),
    "post.nothing_to_schedule": N_("Tick the drafts to schedule."),
    # posts: their life (created, edited, published, cancelled)
    "post.time_without_zone": N_("The publication time must carry a time zone."),
    "post.no_account": N_("Choose at least one account for the post."),
    "post.unknown": N_("There is no post number {post_id}."),
    "post.being_published": N_("This post is being published right now: try again in a moment."),
    "post.waiting": N_(
        "This post waits before being published again: it stays scheduled and is tried "
        "again after {at} ({error})."
    ),
    "post.credentials_missing": N_(
        "This post is partly published, but the credentials of the account {account} are "
        "missing now: ask an administrator to set them to finish it."
    ),
    "post.claimed": N_(
        "This post is being published by another process (status “{status}”): try again "
        "in a moment."
    ),
    # social accounts
    "account.missing": N_(
        "Credentials missing ({variables}): the account publishes in test mode, nothing is sent."
    ),
    "account.not_checked": N_("Not checked with the network."),
    "account.accepted": N_("Accepted by {network}: @{username}"),
    "account.other_user": N_(
        "These credentials are those of @{username}, not @{handle}: posts would go to "
        "@{username}. Ask an administrator to generate the access token while logged in "
        "as @{handle}."
    ),
}


# How each network counts, in the sentence refusing a text too long for it.
COUNTING = {
    "x": ("X", N_("a link counts 23, an emoji 2")),
    "mastodon": ("Mastodon", N_("a link counts 23, an emoji 1")),
    "bluesky": ("Bluesky", N_("a link counts in full, an emoji 1")),
    "linkedin": ("LinkedIn", N_("a link counts in full, an emoji 1 or 2")),
}


def _counting(
    given: Mapping[str, Any], values: dict[str, Any], language: str, zone: tzinfo | None
) -> None:
    name, note = COUNTING.get(given.get("network", "x"), COUNTING["x"])
    values.update(network=name, note=gettext_in(language, note))


SHAPES: dict[str, PageShape] = {
    "post.too_long": _counting,
    "post.part_too_long": _counting,
    "post.too_long_one_post": _counting,
}
