"""Dates, times and numbers as people read them, in French or English, through Babel.

One place for the forms the team writes, so that a newsletter, a post and a dashboard page
never show the same day two ways. Babel (CLDR) gives the words — day and month names, decimal
marks, digit grouping, the percent sign and its spacing — and this module only holds the few
patterns CLDR does not have:

- French long days are "jeudi 5 novembre 2026" (or without the year), with "1er" for the first
  of the month: "dimanche 1er novembre"; English ones are "Thursday 5 November 2026".
- French times are "14h30" and "9h" (never "9h00"); English ones are Babel's short time,
  "2:30 PM", with the minutes left out on the hour ("6 PM"), like the French.
- Event times (:func:`format_event_when`) are given in the event's own zone: a 23:30 event in
  Cayenne is on its own day, even if it is already the next day in Paris.

Stored times are UTC; a naive datetime is taken as UTC, as everywhere in the project.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

LOCALES = ("fr", "en")
"""The languages the project writes in."""


@dataclass(frozen=True)
class _Words:
    """The patterns and words of one language that CLDR has no ready-made form for."""

    day: str  # weekday, day, month
    first_day: str  # the same for the 1st of a month
    day_month: str  # day and month, no weekday (ranges over two months)
    first_day_month: str
    weekday_day: str  # weekday and day, no month (start of a range within one month)
    first_weekday_day: str
    year: str  # appended to the above
    all_day: str
    days: str  # "du {start} au {end}"
    at: str  # "{day}, {time}"
    until: str  # "{start} – {end}"
    zone: str  # "{when} ({label})"


_WORDS = {
    "fr": _Words(
        day="EEEE d MMMM",
        first_day="EEEE d'er' MMMM",
        day_month="d MMMM",
        first_day_month="d'er' MMMM",
        weekday_day="EEEE d",
        first_weekday_day="EEEE d'er'",
        year=" y",
        all_day="toute la journée",
        days="du {start} au {end}",
        at="{day}, {time}",
        until="{start} – {end}",
        zone="{when} ({label})",
    ),
    "en": _Words(
        day="EEEE d MMMM",
        first_day="EEEE d MMMM",
        day_month="d MMMM",
        first_day_month="d MMMM",
        weekday_day="EEEE d",
        first_weekday_day="EEEE d",
        year=" y",
        all_day="all day",
        days="from {start} to {end}",
        at="{day}, {time}",
        until="{start} – {end}",
        zone="{when} ({label})",
    ),
}


@cache
def _locale(locale: str) -> Locale:
    parsed = Locale.parse(locale, sep="-" if "-" in locale else "_")
    if parsed.language not in _WORDS:
        raise ValueError(f"Unsupported locale {locale!r}: use one of {', '.join(LOCALES)}.")
    return parsed


def _words(locale: str) -> _Words:
    return _WORDS[_locale(locale).language]


def in_zone(value: datetime, zone: tzinfo | None) -> datetime:
    """``value`` as a local time in ``zone`` (a naive datetime is UTC; no zone: left as is)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone) if zone is not None else value


def _day(value: date | datetime, zone: tzinfo | None) -> date:
    return in_zone(value, zone).date() if isinstance(value, datetime) else value


def _day_pattern(day: date, plain: str, first: str, words: _Words, with_year: bool) -> str:
    return (first if day.day == 1 else plain) + (words.year if with_year else "")


# --- days and times -----------------------------------------------------------------------------


def long_date(
    value: date | datetime,
    zone: tzinfo | None = None,
    *,
    locale: str = "fr",
    with_year: bool = True,
) -> str:
    """ "jeudi 5 novembre 2026", "dimanche 1er novembre"; "Thursday 5 November 2026".

    A datetime is taken in ``zone``; a date is used as it is.
    """
    day = _day(value, zone)
    words = _words(locale)
    pattern = _day_pattern(day, words.day, words.first_day, words, with_year)
    return babel_dates.format_date(day, pattern, locale=_locale(locale))


def time_of_day(value: datetime | time, zone: tzinfo | None = None, *, locale: str = "fr") -> str:
    """ "14h30", "9h", "0h"; "2:30 PM", "9 AM" (a datetime is taken in ``zone``)."""
    moment = in_zone(value, zone).time() if isinstance(value, datetime) else value
    babel_locale = _locale(locale)
    if babel_locale.language == "fr":
        pattern = "H'h'mm" if moment.minute else "H'h'"
    else:
        pattern = babel_locale.time_formats["short"].pattern
        if not moment.minute:
            pattern = re.sub(r"[:.]mm", "", pattern)
    return babel_dates.format_time(moment.replace(tzinfo=None), pattern, locale=babel_locale)


_SHORT_MOMENT = {"fr": "dd/MM/yyyy 'à' HH:mm", "en": "dd/MM/yyyy 'at' HH:mm"}


def short_moment(value: datetime, zone: tzinfo | None = None, *, locale: str = "fr") -> str:
    """ "10/12/2026 à 10:00", "10/12/2026 at 10:00": a moment on a confirmation page, where the
    day's number matters more than its name (a datetime is taken in ``zone``)."""
    babel_locale = _locale(locale)
    pattern = _SHORT_MOMENT.get(babel_locale.language, _SHORT_MOMENT["en"])
    moment = in_zone(value, zone).replace(tzinfo=None)
    return babel_dates.format_datetime(moment, pattern, locale=babel_locale)


def month_names(locale: str = "fr") -> tuple[str, ...]:
    """January to December as a day is written ("novembre", "November")."""
    names = babel_dates.get_month_names("wide", "format", locale=_locale(locale))
    return tuple(names[month] for month in range(1, 13))


def weekday_names(locale: str = "fr") -> tuple[str, ...]:
    """Monday to Sunday ("lundi", "Monday"), in ``date.weekday()`` order."""
    names = babel_dates.get_day_names("wide", "format", locale=_locale(locale))
    return tuple(names[day] for day in range(7))


def date_filters(
    zone: tzinfo, *, with_year: bool, zone_label: Callable[[str], str] | None = None
) -> dict[str, Callable[..., Any]]:
    """The Jinja filters of the French templates, read by someone in ``zone``.

    ``date_fr`` and ``time_fr`` write a moment in ``zone``. ``event_when`` writes when an event
    takes place in the event's own zone (:func:`event_when`; ``with_day=False`` under a heading
    that already names the day, ``with_end=False`` for its start alone), and ``event_day`` is
    the day it starts there. ``zone_label`` names a zone ("heure de La Réunion"; the built-in
    taxonomy's labels by default).

    ``with_year`` is the caller's default: newsletters write the year, posts do not; a template
    may still say ``date_fr(with_year=…)`` or ``event_when(with_year=…)``.
    """

    def date_fr(value: date | datetime, with_year: bool = with_year) -> str:
        return long_date(value, zone, locale="fr", with_year=with_year)

    def time_fr(value: datetime) -> str:
        return time_of_day(value, zone, locale="fr")

    def when(
        event: Any, with_year: bool = with_year, with_day: bool = True, with_end: bool = True
    ) -> str:
        return event_when(
            event,
            zone,
            zone_label=zone_label,
            with_year=with_year,
            with_day=with_day,
            with_end=with_end,
        )

    def day(event: Any) -> date:
        return event_day(event, zone)

    return {"date_fr": date_fr, "time_fr": time_fr, "event_when": when, "event_day": day}


@cache
def _builtin_zone_label() -> Callable[[str], str]:
    from campaign.taxonomy import Taxonomy  # imported here: the taxonomy reads the settings

    return Taxonomy.from_settings().zone_label


# --- events -------------------------------------------------------------------------------------


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone ("Indian/Reunion"); another tzinfo as it writes itself."""
    return getattr(zone, "key", None) or str(zone)


def _shows_zone(moment: datetime, event_zone: tzinfo, reader_zone: tzinfo) -> bool:
    """Whether a reader in ``reader_zone`` would misread the event's local times.

    Two names for one clock (Europe/Paris and Europe/Brussels) are not worth a word, nor is
    the same zone; a zone whose offset differs at that instant is.
    """
    if zone_name(event_zone) == zone_name(reader_zone):
        return False
    return moment.astimezone(event_zone).utcoffset() != moment.astimezone(reader_zone).utcoffset()


def _day_range(first: date, last: date, locale: str, with_year: bool) -> str:
    """ "du jeudi 5 au samedi 7 novembre", "du 30 novembre au 2 décembre"."""
    words, babel_locale = _words(locale), _locale(locale)
    same_year = first.year == last.year
    if same_year and first.month == last.month:
        start = _day_pattern(first, words.weekday_day, words.first_weekday_day, words, False)
        end = _day_pattern(last, words.day, words.first_day, words, with_year)
    else:
        # Over New Year, both years: "du 30 décembre 2026 au 2 janvier 2027".
        start = _day_pattern(first, words.day_month, words.first_day_month, words, not same_year)
        end = _day_pattern(
            last, words.day_month, words.first_day_month, words, with_year or not same_year
        )
    return words.days.format(
        start=babel_dates.format_date(first, start, locale=babel_locale),
        end=babel_dates.format_date(last, end, locale=babel_locale),
    )


def format_event_when(
    start: datetime,
    end: datetime | None,
    *,
    all_day: bool,
    event_zone: tzinfo,
    reader_zone: tzinfo,
    zone_label: str = "",
    locale: str = "fr",
    with_year: bool = False,
    with_day: bool = True,
    with_end: bool = True,
) -> str:
    """When an event takes place, in the event's own zone.

    "jeudi 5 novembre, 18h – 20h", "jeudi 5 novembre, 18h" (no end), "jeudi 5 novembre, toute
    la journée", "du jeudi 5 au samedi 7 novembre", "du 30 novembre au 2 décembre", and for a
    timed event whose zone differs from the reader's (another zone AND another UTC offset at its
    start), ``zone_label`` in brackets: "jeudi 5 novembre, 18h – 20h (heure de La Réunion)".

    The end of an all-day event is the instant it is over, the midnight after its last day (as
    the importer stores it); an all-day event never shows a time, so never "0h", and needs no
    zone label: its days are the event's calendar days wherever one reads them.

    ``with_day=False`` is for a line under a heading that already names the event's first day:
    "18h – 20h (heure de La Réunion)", "toute la journée"; what the heading does not say (the
    days of an event over several, the day a night event ends) is still written.
    ``with_end=False`` gives a timed event's start alone: "18h (heure de La Réunion)".
    """
    words = _words(locale)
    local_start = in_zone(start, event_zone)
    local_end = in_zone(end, event_zone) if end is not None else None
    if all_day:
        first = local_start.date()
        # Over at the midnight after its last day: the last day is the one before that instant.
        last = (local_end - timedelta(microseconds=1)).date() if local_end is not None else first
        if last <= first:
            if not with_day:
                return words.all_day
            day = long_date(first, locale=locale, with_year=with_year)
            return words.at.format(day=day, time=words.all_day)
        return _day_range(first, last, locale, with_year)

    text = time_of_day(local_start, locale=locale)
    if with_day:
        day = long_date(local_start, locale=locale, with_year=with_year)
        text = words.at.format(day=day, time=text)
    if with_end and local_end is not None and local_end > local_start:
        end_time = time_of_day(local_end, locale=locale)
        if local_end.date() != local_start.date():
            end_day = long_date(local_end, locale=locale, with_year=with_year)
            end_time = words.at.format(day=end_day, time=end_time)
        text = words.until.format(start=text, end=end_time)
    if zone_label and _shows_zone(local_start, event_zone, reader_zone):
        text = words.zone.format(when=text, label=zone_label)
    return text


def _field(event: Any, name: str, default: Any = None) -> Any:
    # An Event, or the mapping of its fields a post template is given.
    if isinstance(event, Mapping):
        return event.get(name, default)
    return getattr(event, name, default)


def event_zone(event: Any, default: tzinfo) -> tzinfo:
    """The zone an event's local times are read and shown in: its own (``timezone``), or
    ``default`` ([general] timezone) for an event stored before events had zones."""
    name = _field(event, "timezone", "")
    return ZoneInfo(name) if name else default


def event_day(event: Any, default: tzinfo) -> date:
    """The day an event starts, in its own zone: 23:30 in Cayenne is that day, not the next."""
    return in_zone(_field(event, "starts_at"), event_zone(event, default)).date()


def event_when(
    event: Any,
    zone: tzinfo,
    *,
    zone_label: Callable[[str], str] | None = None,
    locale: str = "fr",
    with_year: bool = False,
    with_day: bool = True,
    with_end: bool = True,
) -> str:
    """:func:`format_event_when` for an event (an Event or a mapping of its fields).

    ``zone`` is [general] timezone: the reader's, and the zone of events stored without one.
    ``zone_label`` names an IANA zone as the reader is told it (``Taxonomy.zone_label``; the
    built-in taxonomy's labels by default).
    """
    own_zone = event_zone(event, zone)
    label = zone_label or _builtin_zone_label()
    return format_event_when(
        _field(event, "starts_at"),
        _field(event, "ends_at"),
        all_day=bool(_field(event, "all_day", False)),
        event_zone=own_zone,
        reader_zone=zone,
        zone_label=label(zone_name(own_zone)),
        locale=locale,
        with_year=with_year,
        with_day=with_day,
        with_end=with_end,
    )


# --- numbers ------------------------------------------------------------------------------------


@cache
def _fixed_pattern(locale: str, kind: str, digits: int) -> babel_numbers.NumberPattern:
    """The locale's own decimal or percent pattern, with exactly ``digits`` decimals."""
    formats = getattr(_locale(locale), f"{kind}_formats")
    pattern = copy.copy(babel_numbers.parse_pattern(formats[None].pattern))
    pattern.frac_prec = (digits, digits)
    return pattern


def format_number(value: Any, locale: str = "fr", *, digits: int | None = None) -> str:
    """ "1 713" (narrow no-break space, as CLDR groups French digits), "1,713"; "0,015".

    Without ``digits``, up to three decimals as needed; with it, exactly that many.
    """
    if digits is None:
        return babel_numbers.format_decimal(value, locale=_locale(locale))
    return babel_numbers.format_decimal(
        value, _fixed_pattern(locale, "decimal", digits), locale=_locale(locale)
    )


def format_percent(value: Any, locale: str = "fr", digits: int = 1) -> str:
    """A fraction as a percentage: 0.125 is "12,5 %" (no-break space) or "12.5%"."""
    return babel_numbers.format_percent(
        value, _fixed_pattern(locale, "percent", digits), locale=_locale(locale)
    )
