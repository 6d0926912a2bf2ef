"""The group pass's Jinja: what a newsletter template sees once per audience group.

Values are escaped (HTML) and their "[" neutralised so that data never reaches the recipient
pass as syntax; ``track(url)`` collects the links to follow; filters group events by day and
theme; the brand and sender contexts come from the template's manifest and the settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from campaign.formatting import date_filters, event_day
from campaign.newsletters.manifest import Brand
from campaign.newsletters.recipient_pass import BRACKET_SENTINEL, LITERAL_BRACKET
from campaign.resources import TemplateTree
from campaign.social.profiles import profile_links

if TYPE_CHECKING:
    from campaign.config import Settings


def as_local(moment: datetime, zone: tzinfo) -> datetime:
    # Stored times are UTC; a naive datetime is taken as UTC as well.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


@dataclass
class ThemeGroup:
    theme: str
    events: list[Any]


@dataclass
class DayGroup:
    day: date
    themes: list[ThemeGroup]


def _by_day(events: Iterable[Any], zone: tzinfo) -> list[DayGroup]:
    """Events grouped by day, then by daily theme, both in chronological order.

    An event's day is the one it starts on in its own zone (``zone``, [general] timezone, for
    events stored without one): 23:30 in Cayenne is on its own evening, not the next Paris day.
    """
    days: dict[date, dict[str, list[Any]]] = {}
    dated = [(event_day(event, zone), as_local(event.starts_at, UTC), event) for event in events]
    for day, _, event in sorted(dated, key=lambda item: item[:2]):
        days.setdefault(day, {}).setdefault(event.theme or "", []).append(event)
    return [
        DayGroup(day, [ThemeGroup(theme, items) for theme, items in themes.items()])
        for day, themes in days.items()
    ]


def _finalize_html(value: Any) -> Any:
    """Group pass, HTML: escape data and hide its "[" from the recipient pass."""
    if isinstance(value, Markup):  # template text or already finalised output (includes, macros)
        return value
    if value is None:
        value = ""
    text = str(value).replace(BRACKET_SENTINEL, "")
    return Markup(str(escape(text)).replace("[", BRACKET_SENTINEL))


def finalize_text(value: Any) -> Any:
    """Group pass, plain text: data's "[" becomes a recipient-pass literal."""
    if isinstance(value, Markup):  # track() placeholders
        return str(value)
    if value is None:
        return ""
    return str(value).replace("[", LITERAL_BRACKET)


# "[[ first_name ]]" in a greeting a person wrote (the only recipient value a greeting takes),
# with the spaces before it: they go with the name when there is none.
_FIRST_NAME = re.compile(r"\s*\[\[\s*(?:recipient\.)?first_name\s*\]\]")


def greeting(text: Any, *, html: bool) -> Markup:
    """The greeting a person wrote, for the group pass: ``[[ first_name ]]`` becomes the
    reader's first name, and when a reader has none the greeting goes without it
    ("Bonjour [[ first_name ]]," → "Bonjour,"). Everything else is the person's text, escaped
    once (HTML) and with its "[" neutralised for the recipient pass."""
    finalize = _finalize_html if html else finalize_text
    text = str(text or "").strip()
    if not text:
        return Markup("")
    pieces = _FIRST_NAME.split(text)
    if len(pieces) == 1:
        return Markup(finalize(text))
    spaces = [match.group(0)[: match.group(0).index("[")] for match in _FIRST_NAME.finditer(text)]
    named = str(finalize(pieces[0]))
    for space, piece in zip(spaces, pieces[1:], strict=True):
        named += str(finalize(space)) + "[[ recipient.first_name ]]" + str(finalize(piece))
    bare = "".join(str(finalize(piece)) for piece in pieces)
    return Markup(f"[% if recipient.first_name %]{named}[% else %]{bare}[% endif %]")


class LinkTable:
    """Collects the URLs a template asks to track and hands out their placeholders."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._index: dict[str, int] = {}

    def track(self, url: Any) -> Markup:
        url = str(url).strip()
        index = self._index.get(url)
        if index is None:
            index = self._index[url] = len(self.urls)
            self.urls.append(url)
        return Markup(f"[[ link({index}) ]]")


@lru_cache(maxsize=16)
def group_environment(folder: TemplateTree, zone_name: str, html: bool) -> jinja2.Environment:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder.search_path()),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize_html if html else finalize_text,
        keep_trailing_newline=True,
        trim_blocks=not html,
        lstrip_blocks=not html,
    )
    env.filters.update(date_filters(zone, with_year=True))
    env.filters["by_day"] = lambda events: _by_day(events, zone)
    return env


# --- what the templates know of the campaign ---------------------------------------------------


ASSET_ROUTE = "/assets/newsletters"
"""Where the web service serves the images of a template folder (its logo): mail clients load
them from ``[web] public_url`` + this + ``/TEMPLATE/FILE``."""


def brand_context(brand: Brand, template_name: str, settings: Settings) -> dict[str, Any]:
    """The template's logo (absolute URL and alt text), colour and social account links."""
    public_url = settings.web.public_url.rstrip("/")
    logo = f"{public_url}{ASSET_ROUTE}/{template_name}/{brand.logo}" if brand.logo else ""
    return {
        "logo_url": logo,
        "logo_alt": brand.logo_alt or settings.mail.from_name,
        "color": brand.color,
        "tint": _tint(brand.color),
        "accounts": profile_links(settings, brand.accounts),
    }


def _tint(color: str, keep: float = 0.08) -> str:
    """``color`` mixed with white (8% of it): a call-out's background in the campaign's colour,
    as a plain #rrggbb every mail client reads (Outlook ignores transparency)."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - part) * keep) for part in (red, green, blue))
    return "#" + "".join(f"{part:02x}" for part in mixed)


def sender_context(settings: Settings) -> dict[str, str]:
    """What the legal footer needs, from the settings."""
    return {
        "name": settings.mail.from_name,
        "postal_address": settings.mail.postal_address,
        "public_url": settings.web.public_url,
    }
