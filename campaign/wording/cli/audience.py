"""The command line's words for the messages of the audience: lists and imports of subscribers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign.wording import CliShape

SENTENCES: dict[str, str] = {
    # lists
    "list.unknown": (
        "No list named {name!r} (existing lists: {names}). Create it with: campaign lists "
        "create {name!r}"
    ),
    "list.ambiguous": (
        "Several lists are called {name!r} when case and accents are ignored ({quoted}): merge "
        "them with: campaign lists merge {second!r} {first!r}"
    ),
    "list.no_name": "A list needs a name.",
    "list.name_too_long": "A list's name has at most {max} characters.",
    "list.exists": (
        "A list named {name!r} already exists (names are compared without case or "
        "accents): use it, or choose another name than {typed!r}."
    ),
    "list.gone": "The list {name!r} no longer exists.",
    # people added by hand
    "person.no_email": "Give the person's email address.",
    "person.no_consent_source": (
        "Say how the person gave their consent (the proof of their consent, noted in the log)."
    ),
    "person.known": (
        "The address {email} is already known (person {id}): correct their record with: "
        "campaign subscribers edit {email!r}"
    ),
    # imports
    "import.no_email": "no email address",
    "import.invalid_email": "invalid email address: {reason}",
    "import.duplicate": "duplicate of row {row}",
    "import.no_email_column": (
        "{file} has no email column (columns found: {found}). Say which column holds "
        "the addresses, or name it 'email' (or 'courriel', 'e-mail', 'adresse mail'), and "
        "import it again; nothing was imported."
    ),
    "import.no_header_row": (
        "{file} has no email column (columns found: {found}). Say which column holds "
        "the addresses, or name it 'email' (or 'courriel', 'e-mail', 'adresse mail'), and "
        "import it again; nothing was imported. Its first row looks like data: add a row of "
        "column names above it."
    ),
    "import.no_event_id": "no id",
    "import.event_id_too_long": "id longer than {limit} characters",
    "import.no_title": "no title",
    "import.no_start": "no start date",
    "import.bad_starts_at": (
        "start date {text!r} is not a date (write 05/11/2026 14:30 or 2026-11-05T14:30)"
    ),
    "import.bad_ends_at": (
        "end date {text!r} is not a date (write 05/11/2026 14:30 or 2026-11-05T14:30)"
    ),
    "import.ends_before_start": "ends ({end}) before it starts ({start})",
    "import.not_an_event": "not an event object: {text!r}",
    "import.same_event_id": "same id as row {row}",
    "import.suppressed": (
        "{count} {people} in the file had unsubscribed, bounced or complained: they stay so and "
        "were not added to any list (rows {rows}{more})."
    ),
    "import.bad_join_dates": (
        "{rows} have a join date that is not a date, or is in the future or before {earliest}: "
        "{shown}{more}. They were imported without it (write dates as 31/12/2025 or 2025-12-31)."
    ),
    "import.unknown_regions": (
        "{rows} name a region that is not in the list of regions, kept as written: {shown}{more}. "
        "Correct them in the file, or add the region to [events] regions."
    ),
}


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _bad_join_dates(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["rows"] = _rows(given["count"])
    values["shown"] = ", ".join(f"row {number} ({text!r})" for number, text in given["shown"])


def _unknown_regions(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["rows"] = _rows(values["rows"])
    values["shown"] = ", ".join(f"{name!r} ({_rows(count)})" for name, count in given["shown"])
    others = given.get("others", 0)
    values["more"] = f" and {_rows(others)} with other spellings" if others else ""


def _found(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    found = given["found"]
    values["found"] = ", ".join(repr(h) for h in found) if isinstance(found, list) else found


def _people(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    values["people"] = "person" if given["count"] == 1 else "people"


def _ambiguous(given: Mapping[str, Any], values: dict[str, Any]) -> None:
    names = given["names"]
    values.update(quoted=", ".join(repr(n) for n in names), first=names[0], second=names[1])


SHAPES: dict[str, CliShape] = {
    "import.bad_join_dates": _bad_join_dates,
    "import.unknown_regions": _unknown_regions,
    "import.no_email_column": _found,
    "import.no_header_row": _found,
    "import.suppressed": _people,
    "list.ambiguous": _ambiguous,
}
