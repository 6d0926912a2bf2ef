"""One event as an iCalendar file (RFC 5545): the newsletters' "Ajouter à mon agenda" link.

Written here rather than with a library: one VEVENT only needs its TEXT values escaped, its
lines folded at 75 octets and CRLF line ends, and the web service gains no dependency for it
(the tests read the output back with the ``icalendar`` package, an independent parser).

Times are written in UTC (``…Z``): every calendar shows them in its own zone, and there is no
VTIMEZONE to get wrong. An all-day event is written as days (``VALUE=DATE``), its days being
those of the event's own zone (an event in La Réunion is on La Réunion's calendar days), its end
exclusive: the day after its last day, as the catalogue stores it (the midnight after its last
day, see :func:`campaign.events.importer._when`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaign.models.events import DEFAULT_DURATION, Event

ICS_PATH = "/e/{event_id}.ics"
"""The public route of an event's .ics file (:mod:`campaign.web.ics_routes`)."""

PRODID = "-//campaign//Mois de l'ESS//FR"
DESCRIPTION_LENGTH = 300  # characters of the event's description: the web page has the rest
FOLD_OCTETS = 75

# TEXT may hold no control character but HTAB (RFC 5545 §3.3.11); line breaks are escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def ics_url(public_url: str, event_id: int) -> str:
    """The absolute URL of the event's .ics file, as emails carry it."""
    return public_url.rstrip("/") + ICS_PATH.format(event_id=event_id)


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped, controls dropped."""
    value = _CONTROL.sub("", _NEWLINE.sub("\n", value))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """``line`` cut into lines of at most 75 octets (UTF-8), never inside a character; each
    continuation starts with a space, which counts in its 75 (RFC 5545 §3.1)."""
    pieces: list[str] = []
    current: list[str] = []
    size, limit = 0, FOLD_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, FOLD_OCTETS - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def event_zone(event: Event, default: ZoneInfo) -> ZoneInfo:
    """The zone the event's days are counted in: its own, else ``default`` ([general])."""
    if event.timezone:
        try:
            return ZoneInfo(event.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default


def web_url(url: str) -> str:
    """``url`` when it is an http(s) link fit for a URI value (non-ASCII percent-encoded),
    else ""."""
    url = url.strip()
    if not url or any(char.isspace() or unicodedata.category(char) == "Cc" for char in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def filename(event: Event) -> str:
    """An ASCII file name from the title (``forum-de-l-ess-a-rennes.ics``), safe in a header."""
    bare = unicodedata.normalize("NFKD", event.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
    if len(slug) > 60:  # cut between words when there is one to cut at
        slug = slug[:61].rsplit("-", 1)[0] if "-" in slug[:61] else slug[:60]
    return f"{slug or 'evenement'}.ics"


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def _days(event: Event, zone: ZoneInfo) -> tuple[date, date]:
    """First day and the day after the last one, in the event's zone."""
    first = _utc(event.starts_at).astimezone(zone).date()
    after = first + timedelta(days=1)
    if event.ends_at is not None:
        end = _utc(event.ends_at).astimezone(zone)
        # Stored as the midnight after the last day; a later time still means that day.
        last_after = end.date() if end.time() == time.min else end.date() + timedelta(days=1)
        after = max(after, last_after)
    return first, after


def _short(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    spaces = [index for index, char in enumerate(head) if char.isspace()]
    cut = head[: spaces[-1]] if spaces else text[:limit]  # never half a word
    return cut.rstrip(" ,;:.") + "…"


def _location(event: Event) -> str:
    town = " ".join(part for part in (event.postcode.strip(), event.city.strip()) if part)
    parts: list[str] = []
    for part in (event.venue.strip(), event.address.strip(), town):
        if part and part not in parts:
            parts.append(part)
    return ", ".join(parts)


def event_ics(event: Event, *, public_url: str, default_zone: ZoneInfo) -> str:
    """The .ics file of ``event``: one VEVENT, CRLF line ends, folded, escaped.

    The same event always gives the same text (DTSTAMP is when it last changed, which RFC 5545
    makes the meaning of DTSTAMP in a file without METHOD), so the text can be its own ETag.
    """
    host = urlsplit(public_url).hostname or "localhost"
    link = web_url(event.url)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(PRODID)}",
        "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT",
        f"UID:event-{quote(event.source_id, safe='-._~')}@{host}",
        f"DTSTAMP:{_stamp(event.updated_at or event.created_at)}",
    ]
    if event.all_day:
        first, after = _days(event, event_zone(event, default_zone))
        lines += [f"DTSTART;VALUE=DATE:{_day(first)}", f"DTEND;VALUE=DATE:{_day(after)}"]
    else:
        start = _utc(event.starts_at)
        end = _utc(event.ends_at) if event.ends_at is not None else None
        if end is None or end <= start:  # no end given (or none that is later): DEFAULT_DURATION
            end = start + DEFAULT_DURATION
        lines += [f"DTSTART:{_stamp(start)}", f"DTEND:{_stamp(end)}"]
    lines.append(f"SUMMARY:{escape_text(event.title.strip())}")
    description = "\n\n".join(part for part in (_short(event.description), link) if part)
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    location = _location(event)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if link:
        lines.append(f"URL:{link}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
