"""Reading and checking a campaign calendar (``schedules/NAME.toml``).

A calendar declares the newsletters (``[[newsletter]]``), posts (``[[post]]``) and recurring
rules (``[[recurring]]``) of a campaign, each with a stable ``key``. Times are TOML local
date-times read in ``[general] timezone`` (or offset date-times, taken as they are).

Every problem names the file, the line and the entry: the fields each entry takes are declared
in :mod:`~campaign.scheduling.calendar.schema`, and :class:`~campaign.scheduling.calendar.fields.
Entry` places each refusal at its line. Checking never writes anything; :func:`read_calendar`
with a session also checks what only the database knows (lists), and given ``limits`` the posts'
lengths against each account's own limit (a Mastodon instance's, read by a metrics sync).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from campaign.config import Settings
from campaign.models import utcnow
from campaign.scheduling.calendar.entries import Calendar, Problem
from campaign.scheduling.calendar.fields import Entry, check_key
from campaign.scheduling.calendar.newsletters import read_newsletter
from campaign.scheduling.calendar.posts import read_post
from campaign.scheduling.calendar.rules import read_rule
from campaign.scheduling.calendar.schema import ENTRIES, KINDS, CalendarFields, field_names
from campaign.scheduling.tomlsource import SourceMap
from campaign.taxonomy import Taxonomy

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_calendar(
    path: Path,
    settings: Settings,
    *,
    session: Session | None = None,
    now: datetime | None = None,
    limits: Mapping[str, int] | None = None,
) -> Calendar:
    """Read and check ``path``; problems are collected on the result, nothing is written.

    ``limits``: the longest post of each account whose server sets its own (account → limit,
    :func:`~campaign.social.limits.account_limits`), as a caller with a database knows them;
    an account missing from it is checked against its network's default (500 on Mastodon)."""
    now = now or utcnow()
    calendar = Calendar(path=path)
    data = _load(calendar)
    if data is None:
        return calendar
    _check_sections(calendar, data)
    taxonomy = Taxonomy.from_settings(settings)
    seen: dict[tuple[str, str], int] = {}
    for kind, entry in _entries(calendar, data, taxonomy):
        check_key(entry, seen)
        if kind == "newsletter":
            newsletter = read_newsletter(entry, settings, session, now, path.parent)
            if newsletter:
                calendar.newsletters.append(newsletter)
        elif kind == "post":
            post = read_post(entry, settings, now, path.parent, limits)
            if post:
                calendar.posts.append(post)
        else:
            rule = read_rule(entry, settings, now)
            if rule:
                calendar.recurring.append(rule)
    calendar.problems.sort(key=lambda problem: (problem.line, problem.level))
    return calendar


def _load(calendar: Calendar) -> dict[str, Any] | None:
    """The file's TOML data (None when it cannot be read or parsed: the problem recorded)."""
    path = calendar.path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        calendar.problems.append(Problem("error", path, 1, "", f"not UTF-8 text ({exc})"))
        return None
    except OSError as exc:
        calendar.problems.append(Problem("error", path, 1, "", f"cannot be read ({exc})"))
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        line = int(position.group(1)) if position else 1
        message = _TOML_POSITION.sub("", str(exc)).strip()
        column = f", column {position.group(2)}" if position else ""
        calendar.problems.append(
            Problem("error", path, line, "", f"not valid TOML{column}: {message}")
        )
        return None
    calendar.source = SourceMap(text)
    return data


def _check_sections(calendar: Calendar, data: Mapping[str, Any]) -> None:
    """The file's top level: ``[calendar]`` and arrays of entries of the known kinds."""
    assert calendar.source is not None
    for name, value in data.items():
        message = _section_problem(name, value)
        if message:
            line = calendar.source.key_line(name)
            calendar.problems.append(Problem("error", calendar.path, line, "", message))


def _section_problem(name: str, value: Any) -> str | None:
    if name == "calendar":
        known = field_names(CalendarFields)
        if not isinstance(value, dict):
            return "'calendar' must be a table: [calendar]"
        if unknown := sorted(set(value) - set(known)):
            return f"[calendar] takes {', '.join(known)}; unknown: {', '.join(unknown)}"
        return None
    if name not in KINDS:
        close = difflib.get_close_matches(name, KINDS, n=1)
        hint = f" (did you mean [[{close[0]}]]?)" if close else ""
        return (
            f"unknown section '{name}'{hint}; a calendar holds [[newsletter]], [[post]] "
            "and [[recurring]] entries"
        )
    if not isinstance(value, list):
        return f"write [[{name}]] (two brackets) before each {name}"
    return None


def _entries(
    calendar: Calendar, data: Mapping[str, Any], taxonomy: Taxonomy
) -> Iterator[tuple[str, Entry]]:
    """Every entry that is a table, kind by kind in file order; the others refused."""
    assert calendar.source is not None
    for kind in KINDS:
        items = data.get(kind)
        if not isinstance(items, list):
            continue
        spans = calendar.source.entries(kind)
        fallback = calendar.source.key_line(kind)
        for index, item in enumerate(items):
            span = spans[index] if index < len(spans) else (fallback, fallback)
            if not isinstance(item, dict):
                where = f"{kind} #{index + 1}"
                calendar.problems.append(
                    Problem("error", calendar.path, span[0], where, "must be a table")
                )
                continue
            yield kind, Entry(calendar, kind, item, span, index + 1, ENTRIES[kind], taxonomy)
