"""Post texts from templates (``templates/posts/*.txt.j2``), and event posts that always fit.

The words of a post are French and live in the templates; this module only fills them. An event
post is shortened step by step until X accepts it — first the daily theme's hashtag, then the
region's, then the event's title cut at a word with "…" — and every step taken is reported, so
nothing is ever dropped or refused silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.events import when
from campaign.formatting import date_filters
from campaign.messages import Message
from campaign.models import Event, utcnow
from campaign.resources import TemplateTree, template_tree
from campaign.social.length import check_length, limit_for, split_thread
from campaign.social.networks import NETWORK_NAMES

EVENT_TEMPLATE = "evenement"


def posts_folder(templates_dir: Path | str | None = None, settings: Any = None) -> TemplateTree:
    """``templates/posts``: the user's templates first, file by file, then the shipped ones."""
    return template_tree(templates_dir, settings) / "posts"


def template_names(templates_dir: Path | str | None = None, settings: Any = None) -> list[str]:
    folder = posts_folder(templates_dir, settings)
    return sorted(path.name.removesuffix(".txt.j2") for path in folder.glob("*.txt.j2"))


def _local(value: datetime, zone: tzinfo) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)


@lru_cache(maxsize=8)
def _environment(folder: TemplateTree, zone_name: str) -> jinja2.Environment:
    """One environment per folder and zone: compiled templates are kept between posts (the
    planner and a calendar sync render hundreds)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder.search_path()),
        autoescape=False,  # plain text for social networks, never HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date_filters(ZoneInfo(zone_name), with_year=False))  # read within days
    env.filters["hashtag"] = hashtag
    return env


def _tidy(text: str) -> str:
    """Trailing spaces removed, at most one blank line in a row, no blank start or end."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class MissingValue(CampaignError):
    """A post template needs a value its caller did not give (``variable``): the CLI says to
    give it with ``--set``, a calendar in the entry's ``vars``."""

    def __init__(self, template: str, variable: str) -> None:
        super().__init__(
            Message("post.template_value_missing", "", {"name": template, "detail": variable})
        )
        self.template = template
        self.variable = variable


def has_template(name: str, templates_dir: Path | str | None = None, settings: Any = None) -> bool:
    """Whether ``name`` is a post template (a plain name, never a path)."""
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name)) and (
        name in template_names(templates_dir, settings)
    )


def render_post(
    name: str,
    context: Mapping[str, Any],
    settings: Settings,
    *,
    templates_dir: Path | str | None = None,
) -> str:
    """The text of template ``name`` filled with ``context``: the one renderer of post
    templates, for the CLI, the planner, the calendars and the dashboard."""
    folder = posts_folder(templates_dir, settings)
    known = template_names(templates_dir, settings)
    if name not in known:
        raise CampaignError(
            f"Unknown post template {name!r} (templates in {folder}: {', '.join(known) or 'none'})."
        )
    env = _environment(folder, settings.general.timezone)
    try:
        text = env.get_template(f"{name}.txt.j2").render(**context)
    except jinja2.UndefinedError as exc:
        raise MissingValue(name, exc.message or "") from None
    except jinja2.TemplateSyntaxError as exc:
        raise CampaignError(
            f"Post template {exc.filename or name}, line {exc.lineno}: {exc.message}."
        ) from None
    except jinja2.TemplateError as exc:
        raise CampaignError(f"Post template {name!r} cannot be filled: {exc}") from None
    return _tidy(text)


_ELIDED = re.compile(r"\b\w['’]", re.UNICODE)


def hashtag(name: str) -> str:
    """A readable hashtag for a region or theme name: "Île-de-France" → "#ÎleDeFrance".

    Words are joined in CamelCase; elisions are dropped ("Préserver l'environnement" →
    "#PréserverEnvironnement"), since X ends a hashtag at an apostrophe.
    """
    words = re.findall(r"[^\W_]+", _ELIDED.sub(" ", name))
    joined = "".join(word[:1].upper() + word[1:] for word in words)
    return f"#{joined}" if joined else ""


@dataclass
class EventText:
    """The text of an event post, and what had to be left out to make it fit."""

    text: str
    shortened: list[str] = field(default_factory=list)


def timing_context(events: list[Event], post_at: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """When the post speaks, seen from where the (first) event takes place.

    ``event_day``: the event's own local day; ``today``: the post goes out on one of its days
    there; ``tomorrow``: on the day before it; ``ongoing``: after a timed event started (an
    all-day event is never "en ce moment", it is on all day); ``all_day``: given as days, so
    no time of day is shown. ``when`` sums it up: "ongoing", "today", "tomorrow" or "later".
    """
    first = events[0]
    post_day = when.local_day_of(post_at, first, zone)
    all_day = when.is_all_day(first, zone)
    today = when.is_on_day(first, post_day, zone)
    tomorrow = when.first_day(first, zone) == post_day + timedelta(days=1)
    started = when.has_started(first, post_at)
    ongoing = not all_day and started and not when.is_over(first, post_at)
    return {
        "event_day": when.first_day(first, zone),
        "all_day": all_day,
        "today": today,
        "tomorrow": tomorrow,
        "ongoing": ongoing,
        "when": (
            "ongoing" if ongoing else "today" if today else "tomorrow" if tomorrow else "later"
        ),
    }


def event_context(event: Event, post_at: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """What an event template sees: the event, the day's hashtags, and when the post goes out.

    ``events``, ``day`` and ``slot`` are what the recurring "events of the day" rule gives its
    templates (the event as stored, the local day and time of the post), so that a template
    written for it (``evenements-du-jour``) also works one event per post. ``today``,
    ``tomorrow``, ``ongoing``, ``all_day``, ``event_day`` and ``when``: see
    :func:`timing_context`.
    """
    local_post = _local(post_at, zone)
    return {
        "event": {
            "title": event.title,
            "city": event.city,
            "venue": event.venue,
            "postcode": event.postcode,
            "region": event.region,
            "theme": event.theme,
            "type": event.event_type,
            "url": event.url,
            "organiser": event.organiser_name,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "timezone": event.timezone,
            "all_day": when.is_all_day(event, zone),
        },
        "title": event.title,
        "hashtags": [tag for tag in (hashtag(event.theme), hashtag(event.region)) if tag],
        "post_at": post_at,
        "events": [event],
        "day": local_post.date(),
        "slot": local_post.time(),
        **timing_context([event], post_at, zone),
    }


def featured_context(
    event: Event | None, scheduled_at: datetime | None, zone: ZoneInfo
) -> dict[str, Any]:
    """What a template sees of the event a post features (:func:`event_context`), as of when
    the post goes out: ``scheduled_at``, or now for a draft without a time. Nothing without an
    event."""
    if event is None:
        return {}
    return event_context(event, scheduled_at or utcnow(), zone)


def _cut_title(title: str, keep: int) -> str:
    """The first ``keep`` characters of ``title``, cut at a word when possible, with "…"."""
    if keep >= len(title):
        return title
    head = title[:keep].rstrip()
    if " " in head and not title[keep : keep + 1].isspace():
        head = head.rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return f"{head}…"


def event_post_text(
    event: Event,
    post_at: datetime,
    settings: Settings,
    *,
    template: str = EVENT_TEMPLATE,
    templates_dir: Path | str | None = None,
    network: str = "x",
    limit: int | None = None,
) -> EventText:
    """The post announcing ``event`` at ``post_at``, shortened until ``network`` accepts it
    (``limit``: the account's server's own, a Mastodon instance's)."""
    context = event_context(event, post_at, settings.zone)

    def render() -> tuple[str, bool]:
        text = render_post(template, context, settings, templates_dir=templates_dir)
        return text, check_length(text, network, limit)[1]

    text, fits = render()
    shortened: list[str] = []
    tags = list(context["hashtags"])
    while not fits and tags:
        dropped = tags.pop(0)
        context["hashtags"] = list(tags)
        shortened.append(f"hashtag {dropped} dropped")
        text, fits = render()
    if not fits:
        title = event.title
        low, high = 0, len(title)
        while low < high:  # the longest title that fits
            middle = (low + high + 1) // 2
            context["title"] = _cut_title(title, middle)
            if render()[1]:
                low = middle
            else:
                high = middle - 1
        context["title"] = _cut_title(title, low)
        text, fits = render()
        if fits:
            shortened.append(f"title cut to {context['title']!r}")
    if not fits:
        raise CampaignError.of(
            "planner.template_too_long",
            "template",
            event=event.source_id,
            title=event.title,
            template=template,
            length=check_length(text, network, limit)[0],
            network_name=NETWORK_NAMES.get(network, "X"),
            limit=limit_for(network, limit),
        )
    return EventText(text=text, shortened=shortened)


def rule_post_text(
    template: str,
    events: Sequence[Event],
    at: datetime,
    settings: Settings,
    handle: str = "",
    network: str = "x",
    limit: int | None = None,
) -> tuple[str, list[str]]:
    """The text (and thread parts) of a post of an "events of the day" rule going out at
    ``at``: its template sees the events, the post's local day and time, the account's handle
    and when the post goes out compared with the events' day (see ``timing_context``); cut
    into a thread past ``limit``, the account's server's own when known (else the network's)."""
    zone = settings.zone
    local = at.astimezone(zone)
    context = {
        "events": list(events),
        "day": local.date(),
        "slot": local.time().replace(tzinfo=None),
        "account": handle,
        **timing_context(list(events), at, zone),
    }
    text = render_post(template, context, settings)
    if check_length(text, network, limit)[1]:
        return text, [text]
    return text, split_thread(text, network, limit)
