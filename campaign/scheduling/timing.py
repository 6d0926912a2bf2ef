"""Local times of the calendars, turned into UTC one occurrence at a time.

The team writes "09:00" and means 09:00 in Paris on that day, whatever the season. So every
occurrence is converted on its own with :mod:`zoneinfo` (never "the previous one plus 24 hours",
which would slide to 08:00 or 10:00 across a change of time). A local time that does not exist
(clocks jump from 02:00 to 03:00 in spring) or exists twice (02:00–03:00 is lived twice on the
last Sunday of October) has no single meaning, so it is refused with a message saying so, unless
the calendar gives the UTC offset explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

Oddity = Literal["nonexistent", "ambiguous"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES = {
    **{name: index for index, name in enumerate(WEEKDAYS)},
    **{name[:3]: index for index, name in enumerate(WEEKDAYS)},
    **{
        name: index
        for index, name in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)$")


def oddity(naive: datetime, zone: tzinfo) -> Oddity | None:
    """Whether the wall-clock time ``naive`` does not exist, or exists twice, in ``zone``."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return "nonexistent" if back != naive else "ambiguous"


def explain(naive: datetime, zone: tzinfo, what: Oddity) -> str:
    """A sentence saying why ``naive`` cannot be used and what to write instead."""
    name = getattr(zone, "key", str(zone))
    when = f"{naive:%Y-%m-%d %H:%M}"
    if what == "nonexistent":
        return (
            f"{when} does not exist in {name} (the clocks jump forward an hour that night): "
            "choose another time"
        )
    summer = naive.replace(tzinfo=zone, fold=0).strftime("%z")
    winter = naive.replace(tzinfo=zone, fold=1).strftime("%z")
    return (
        f"{when} happens twice in {name} (the clocks go back an hour that night): choose "
        f"another time, or give the offset, {naive:%Y-%m-%dT%H:%M:%S}{_colon(summer)} (before "
        f"the change) or {naive:%Y-%m-%dT%H:%M:%S}{_colon(winter)} (after)"
    )


def _colon(offset: str) -> str:
    return f"{offset[:3]}:{offset[3:]}" if len(offset) == 5 else offset


class LocalTimeError(ValueError):
    """A local time that a change of time makes impossible or ambiguous."""


def to_utc(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` in UTC: an aware time as it is, a naive one read in ``zone``.

    Raises :class:`LocalTimeError` for a naive time that does not exist or exists twice.
    """
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    what = oddity(moment, zone)
    if what is not None:
        raise LocalTimeError(explain(moment, zone, what))
    return moment.replace(tzinfo=zone).astimezone(UTC)


def parse_clock(value: object) -> time | None:
    """``"09:00"``, ``"9h30"`` or a TOML local time as a :class:`time` (None if it is neither)."""
    if isinstance(value, time):
        return value.replace(tzinfo=None) if value.tzinfo is None else None
    if not isinstance(value, str):
        return None
    match = _CLOCK.match(value.strip())
    if not match:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def parse_weekday(value: object) -> int | None:
    """Monday = 0 … Sunday = 6, from an English or French name (or its first three letters)."""
    if not isinstance(value, str):
        return None
    return _DAY_NAMES.get(value.strip().lower().rstrip("."))


def days_between(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def occurrences(
    first: date, last: date, times: Iterable[time], weekdays: Iterable[int] | None = None
) -> Iterator[datetime]:
    """Every local (naive) occurrence of ``times`` on the chosen weekdays, in order."""
    allowed = set(weekdays) if weekdays is not None else set(range(7))
    clocks = sorted(times)
    for day in days_between(first, last):
        if day.weekday() in allowed:
            for clock in clocks:
                yield datetime.combine(day, clock)


def first_oddity(
    first: date,
    last: date,
    times: Iterable[time],
    zone: tzinfo,
    weekdays: Iterable[int] | None = None,
) -> tuple[datetime, Oddity] | None:
    """The first occurrence of a recurring rule that a change of time makes unusable."""
    for moment in occurrences(first, last, times, weekdays):
        what = oddity(moment, zone)
        if what is not None:
            return moment, what
    return None
