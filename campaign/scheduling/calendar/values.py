"""The types a calendar's fields can have, each with the words of its refusal.

Each type is an ``Annotated`` pydantic type whose validator takes the value as ``tomllib`` read
it and returns the value kept (stripped, made a list, made canonical) or refuses it with the
message the user reads; :mod:`~campaign.scheduling.calendar.schema` declares the entries with
them. A validator learns the field's name as the file spells it (``events.from``) and whether
the entry requires it from the validation context (``field``, ``required``); the names of
regions and themes are checked against the taxonomy found there too (``taxonomy``). A type may
refuse a value several times at once (every bad time of a list), each refusal at a location
inside the field (a key of a table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, NoReturn

from pydantic import BaseModel, PlainValidator, ValidationError, ValidationInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from campaign.errors import CampaignError
from campaign.newsletters.records import WHEN_NO_EVENTS, normalise_segment
from campaign.scheduling import timing
from campaign.taxonomy import Taxonomy

MAX_IMAGES = 4
MAX_ALT = 1000
MAX_PER_POST = 4
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

Location = tuple[str, ...]


# --- refusals ----------------------------------------------------------------------------------


def refuse(*problems: tuple[Location, str], value: Any = None) -> NoReturn:
    """Refuse a value with one message or several, each at a location inside the field."""
    raise ValidationError.from_exception_data(
        "calendar",
        [
            InitErrorDetails(
                type=PydanticCustomError("calendar", "{message}", {"message": message}),
                loc=location,
                input=value,
            )
            for location, message in problems
        ],
    )


def _refuse(message: str) -> NoReturn:
    refuse(((), message))


@dataclass(frozen=True)
class Missing:
    """The message for a required field that is absent (``{field}``: its name)."""

    message: str


@dataclass(frozen=True)
class Table:
    """A sub-table whose own fields are declared by ``model`` (``events = { from = … }``)."""

    model: type[BaseModel]
    refusal: str  # when the value is not a table


Check = Callable[[Any, ValidationInfo], Any]  # (value as read, context) -> the value kept


def _rule(check: Check) -> PlainValidator:
    return PlainValidator(check)


def _field(info: ValidationInfo) -> str:
    """The field's name as the file spells it (pydantic's name outside a calendar's reader)."""
    return str((info.context or {}).get("field") or info.field_name)


def _taxonomy(info: ValidationInfo) -> Taxonomy:
    """The regions and themes names are checked against (the reader gives it)."""
    taxonomy = (info.context or {}).get("taxonomy")
    if not isinstance(taxonomy, Taxonomy):
        raise TypeError("validate with context={'taxonomy': Taxonomy(...)}")
    return taxonomy


def _required(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("required"))


def json_value(value: Any) -> bool:
    """Whether ``value`` is text, a number, true/false, or a list or table of those."""
    if isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(json_value(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and json_value(item) for key, item in value.items())
    return False


# --- field types -------------------------------------------------------------------------------


def _key(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        _refuse("'key' must be letters, digits, '-', '_' or '.' (at most 100), e.g. \"ouverture\"")
    return value


def _text(value: Any, info: ValidationInfo, limit: int | None = None) -> str:
    name = _field(info)
    if not isinstance(value, str):
        _refuse(f"'{name}' must be text, in quotes")
    value = value.strip()
    if _required(info) and not value:
        _refuse(f"'{name}' is empty")
    if limit and len(value) > limit:
        _refuse(f"'{name}' is {len(value)} characters long (at most {limit})")
    return value


def quoted_text(limit: int | None = None) -> PlainValidator:
    """Text in quotes, stripped; refused empty when the entry requires it, or over ``limit``."""

    def check(value: Any, info: ValidationInfo) -> str:
        return _text(value, info, limit)

    return _rule(check)


def _names(value: Any, info: ValidationInfo) -> list[str]:
    """A name or a list of names, stripped, the empty ones dropped."""
    name = _field(info)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _refuse(f"'{name}' must be a name or a list of names, in quotes")
    names = [item.strip() for item in value if item.strip()]
    if _required(info) and not names:
        _refuse(f"'{name}' is empty")
    return names


def _moment(value: Any, info: ValidationInfo) -> datetime:
    """A TOML date and time, local or with an offset (made UTC by the reader, which knows the
    zone and the time of the check)."""
    name = _field(info)
    if isinstance(value, str):
        _refuse(
            f"'{name}' must be a TOML date and time without quotes, e.g. "
            f"{name} = 2026-11-05 09:30:00 (got the text {value!r})"
        )
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        _refuse(f"'{name}' needs a time too, e.g. {name} = {value} 09:30:00")
    _refuse(f"'{name}' must be a date and time, e.g. 2026-11-05 09:30:00")


def _day(value: Any, info: ValidationInfo) -> date:
    name = _field(info)
    if isinstance(value, datetime) or not isinstance(value, date):
        _refuse(f"'{name}' must be a date without quotes, e.g. {name} = 2026-11-02")
    return value


def _bound(value: Any, info: ValidationInfo) -> date:
    """A bound of an event rule: the same as a day, worded for an inline table."""
    if isinstance(value, datetime) or not isinstance(value, date):
        _refuse(f"'{_field(info)}' must be a date without quotes, e.g. 2026-11-02")
    return value


def _flag(value: Any, info: ValidationInfo) -> bool:
    if not isinstance(value, bool):
        _refuse(f"'{_field(info)}' must be true or false")
    return value


def whole_number(low: int, high: int | None, refusal: str) -> PlainValidator:
    def check(value: Any, info: ValidationInfo) -> int:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            _refuse(refusal)
        return value

    return _rule(check)


def one_of(choices: Iterable[str], refusal: str) -> PlainValidator:
    known = tuple(choices)

    def check(value: Any, info: ValidationInfo) -> str:
        if value not in known:
            _refuse(refusal)
        return str(value)

    return _rule(check)


def _when_no_events(value: Any, info: ValidationInfo) -> str:
    choice = _text(value, info) or "national"
    if choice not in WHEN_NO_EVENTS:
        _refuse(
            f"'when_no_events' must be one of {', '.join(repr(c) for c in WHEN_NO_EVENTS)} "
            f"(got {choice!r})"
        )
    return choice


def _name_list(value: Any, info: ValidationInfo) -> list[str]:
    """A name or a list of names, as written (an event rule's regions, themes, types)."""
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _refuse(f"'{_field(info)}' must be a list of names")
    return value


def _known_names(kind: str, lookup: Callable[[Taxonomy], Callable[[str], str | None]]) -> Check:
    """Names of the taxonomy (regions, themes), each made canonical; every unknown one refused."""

    def check(value: Any, info: ValidationInfo) -> list[str]:
        taxonomy = _taxonomy(info)
        known = taxonomy.regions if kind == "region" else taxonomy.themes
        found: list[str] = []
        unknown: list[tuple[Location, str]] = []
        for name in _names(value, info):
            canonical = lookup(taxonomy)(name)
            if canonical is None:
                unknown.append(((), f"unknown {kind} {name!r} (known: {', '.join(known)})"))
            else:
                found.append(canonical)
        if unknown:
            refuse(*unknown, value=value)
        return found

    return check


def _times(value: Any, info: ValidationInfo) -> list[time]:
    """Times of day (``"09:00"``, ``"9h30"``), each once, in order."""
    raw = value if isinstance(value, list) else [value]
    times: list[time] = []
    problems: list[tuple[Location, str]] = []
    for item in raw:
        clock = timing.parse_clock(item)
        if clock is None:
            problems.append(((), f"'times': {item!r} is not a time of day such as \"09:00\""))
        elif clock in times:
            problems.append(((), f"'times': {clock:%H:%M} is given twice"))
        else:
            times.append(clock)
    if not raw:
        problems.append(((), "'times' is empty"))
    if problems:
        refuse(*problems, value=value)
    return sorted(times)


def _days(value: Any, info: ValidationInfo) -> list[int]:
    """Days of the week (``monday``, ``lundi``, ``mon``…), Monday = 0, each once, in order."""
    days: list[int] = []
    problems: list[tuple[Location, str]] = []
    for item in value if isinstance(value, list) else [value]:
        day = timing.parse_weekday(item)
        if day is None:
            problems.append(
                ((), f"'days': {item!r} is not a day of the week (monday, lundi, mon…)")
            )
        elif day not in days:
            days.append(day)
    if problems:
        refuse(*problems, value=value)
    return sorted(days)


def _segment(value: Any, info: ValidationInfo) -> dict[str, Any]:
    """``segment = { region = "Bretagne" }``: who among the lists gets the newsletter."""
    if not isinstance(value, dict):
        _refuse("'segment' must be a table, e.g. segment = { region = \"Bretagne\" }")
    values: dict[str, list[str]] = {}
    problems: list[tuple[Location, str]] = []
    for name, item in value.items():
        items = [item] if isinstance(item, str) else item
        if not isinstance(items, list) or not all(isinstance(one, str) for one in items):
            problems.append(((name,), f"'segment.{name}' must be a name or a list of names"))
            continue
        values[name] = items
    try:
        segment = normalise_segment(values, _taxonomy(info))
    except CampaignError as exc:
        problems.append(((), str(exc)))
    if problems:
        refuse(*problems, value=value)
    return segment


def _content(value: Any, info: ValidationInfo) -> dict[str, Any]:
    """``set = { action_url = "…" }``: the template's own texts, checked by its manifest later."""
    if not isinstance(value, dict):
        _refuse("'set' must be a table of template texts, e.g. set = { action_url = \"…\" }")
    problems = [
        (
            (name,),
            f"'set.{name}' must be text, a number, true/false or a list or table of those "
            "(write dates as text)",
        )
        for name, item in value.items()
        if not json_value(item)
    ]
    if problems:
        refuse(*problems, value=value)
    return dict(value)


def _variables(value: Any, info: ValidationInfo) -> dict[str, Any]:
    if not isinstance(value, dict) or not json_value(value):
        _refuse("'vars' must be a table of texts, numbers or lists")
    return value


def _accounts(value: Any, info: ValidationInfo) -> list[str]:
    """Account names (each checked against the configuration by the post's reader)."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(name, str) and name.strip() for name in value)
    ):
        _refuse(
            "'accounts' must be a list of account names, e.g. accounts = [\"mois_ess\", "
            '"mois_ess_bsky"]'
        )
    return [name.strip() for name in value]


def _words_table(value: Any, info: ValidationInfo) -> dict[str, Any]:
    if not isinstance(value, dict):
        _refuse(
            "'texts' must be a table of words per account, e.g. texts = { mois_ess_bsky = \"…\" }"
        )
    return value


def _thread(value: Any, info: ValidationInfo) -> list[str]:
    """The parts of a thread written by hand, one post each."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(part, str) and part.strip() for part in value)
    ):
        _refuse(f"'{_field(info)}' must be a list of non-empty texts, one per post")
    return [part.strip() for part in value]


def _images(value: Any, info: ValidationInfo) -> list[dict[str, Any]]:
    """A list of tables ``{ path, alt }`` (each image checked against its file by the reader)."""
    if not isinstance(value, list) or not all(isinstance(image, dict) for image in value):
        _refuse(
            "'images' must be a list of tables, e.g. images = [{ path = \"affiche.png\", "
            'alt = "…" }]'
        )
    return value


def _anything(value: Any, info: ValidationInfo) -> Any:
    return value


Key = Annotated[
    str,
    _rule(_key),
    Missing("'key' is missing: give every entry a stable key, e.g. key = \"ouverture\""),
]
Text = Annotated[str, quoted_text()]
Names = Annotated[list[str], _rule(_names)]
Moment = Annotated[
    datetime, _rule(_moment), Missing("'{field}' is missing (e.g. {field} = 2026-11-05 09:30:00)")
]
Day = Annotated[date, _rule(_day), Missing("'{field}' is missing (e.g. {field} = 2026-11-02)")]
Flag = Annotated[bool, _rule(_flag)]
Times = Annotated[
    list[time], _rule(_times), Missing('\'times\' is missing, e.g. times = ["09:00", "12:30"]')
]
Days = Annotated[list[int], _rule(_days)]
Thread = Annotated[list[str], _rule(_thread)]
Raw = Annotated[Any, _rule(_anything)]
OptionalText = Annotated[str | None, quoted_text()]
OptionalDay = Annotated[date | None, _rule(_day)]
Bound = Annotated[date | None, _rule(_bound)]
NameList = Annotated[list[str], _rule(_name_list)]
Segment = Annotated[dict[str, Any] | None, _rule(_segment)]
Content = Annotated[dict[str, Any], _rule(_content)]
WhenNoEvents = Annotated[str | None, _rule(_when_no_events)]
Accounts = Annotated[list[str], _rule(_accounts)]
WordsTable = Annotated[dict[str, Any], _rule(_words_table)]
Variables = Annotated[dict[str, Any], _rule(_variables)]
Images = Annotated[list[dict[str, Any]], _rule(_images)]
Regions = Annotated[list[str], _rule(_known_names("region", lambda t: t.region))]
Themes = Annotated[list[str], _rule(_known_names("theme", lambda t: t.theme))]
