"""Cell and JSON values of the events export as text, lists and instants.

The export writes dates the French way or in ISO 8601, lists as JSON or separated text, and
spreadsheets turn ids into floats: each helper here reads one of those the same for every format.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

_FRENCH_DATE = re.compile(
    r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:\s*(?:[ T,]|à)\s*(?P<H>\d{1,2})\s*[:hH]\s*(?P<M>\d{2})?(?::(?P<S>\d{2}))?)?",
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEPARATORS = re.compile(r"\s*[,;|]\s*")


def as_text(value: Any) -> str:
    """A cell or JSON value as trimmed text (whole floats lose their '.0', lists are joined)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(as_text(item) for item in value if as_text(item))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value).strip()


def split_list(value: Any) -> list[str]:
    """Publics or co-organisers: a JSON list, or text separated by ``,`` ``;`` or ``|``."""
    if isinstance(value, list | tuple):
        items = [as_text(item) for item in value]
    else:
        text = as_text(value)
        items = []
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                items = [as_text(item) for item in parsed]
        if not items:
            items = _SEPARATORS.split(text)
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item and item not in seen:
            seen[item] = None
    return list(seen)


def parse_when(value: Any, zone: ZoneInfo) -> tuple[datetime, bool]:
    """An aware UTC datetime and whether only a day was given (an all-day date).

    Accepts ISO 8601 (with or without offset) and the French ``05/11/2026 14:30`` (also
    ``14h30``) or ``05/11/2026``. Times without an offset are local times in ``zone``; a day alone
    is local midnight.
    """
    if isinstance(value, datetime):
        parsed, all_day = value, False
    elif isinstance(value, date):
        parsed, all_day = datetime.combine(value, time.min), True
    else:
        text = as_text(value)
        match = _FRENCH_DATE.fullmatch(text)
        try:
            if match:
                parsed = datetime(
                    int(match["y"]),
                    int(match["m"]),
                    int(match["d"]),
                    int(match["H"] or 0),
                    int(match["M"] or 0),
                    int(match["S"] or 0),
                )
                all_day = match["H"] is None
            else:
                parsed = datetime.fromisoformat(text)
                all_day = bool(_ISO_DAY.fullmatch(text))
        except ValueError:
            raise ValueError(text) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC), all_day
