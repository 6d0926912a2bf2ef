"""The columns of a subscribers file: which field each holds, recognised or chosen by a person.

Columns are recognised by name in French or English (:data:`COLUMN_ALIASES`); a file whose
columns are not all recognised can say what each one is (a field, :data:`KEEP` or :data:`SKIP`),
and :func:`read_columns` shows a door what the import would make of them before it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign.messages import Message
from campaign.tabular import FileFormatError, match_headers, open_sheet

# Canonical field -> the column names people use for it (compared without accents/case).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "e-mail",
        "mail",
        "courriel",
        "adresse mail",
        "adresse e-mail",
        "adresse email",
        "adresse électronique",
        "adresse courriel",
        "email address",
        "e-mail address",
        "mél",
    ),
    "first_name": ("prénom", "first name", "firstname", "given name"),
    "last_name": ("nom", "last name", "lastname", "nom de famille", "surname", "family name"),
    "organisation": (
        "structure",
        "organisation",
        "organization",
        "organisme",
        "entreprise",
        "company",
    ),
    "region": ("région", "region"),
    "postcode": ("code postal", "cp", "postcode", "postal code", "zip", "zip code"),
    "language": ("langue", "language", "lang"),
    "joined_at": (
        "date d'inscription",
        "date inscription",
        "inscrit le",
        "inscrite le",
        "inscription",
        "date d'abonnement",
        "date abonnement",
        "abonné depuis",
        "subscribed at",
        "subscription date",
        "signup date",
        "sign-up date",
        "join date",
        "joined",
        "joined at",
    ),
}
FIELDS = tuple(COLUMN_ALIASES)
KEEP = "attribute"  # a column kept as it is among the person's attributes (the default)
SKIP = "ignore"  # a column left out of the import
PROFILE_COLUMNS = ("first_name", "last_name", "organisation", "region", "postcode", "language")


class ColumnError(FileFormatError):
    """A column choice the file cannot take; ``code`` and ``field`` say which, for each door
    to word (``values``: what the message names)."""

    def __init__(self, message: str | Message, *, code: str, field: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.values = values


class MissingEmailColumn(ColumnError):
    """No column holds the addresses, recognised or chosen: the door asks which one does.

    ``values["columns"]``: the file's column names; ``values["looks_like_data"]``: the first
    row holds an address, so the file probably has no header row at all.
    """


@dataclass(frozen=True)
class ColumnPlan:
    """How a file's columns would be read: what each recognised column holds, the others, and
    an example value of each column (the first non-empty one) to help choosing."""

    file: str
    headers: list[str]
    recognised: dict[str, str]  # field -> header
    unrecognised: list[str]
    examples: dict[str, str]

    @property
    def has_email(self) -> bool:
        return "email" in self.recognised


EXAMPLE_ROWS = 20  # rows read for the example values of the columns


def read_columns(path: Path) -> ColumnPlan:
    """The columns of ``path`` and what the import would make of each, reading a few rows."""
    path = Path(path)
    with open_sheet(path) as sheet:
        recognised = match_headers(sheet.headers, COLUMN_ALIASES)
        headers = [h for h in sheet.headers if h]
        examples: dict[str, str] = {}
        for count, (_number, cells) in enumerate(sheet.rows):
            for header in headers:
                if header not in examples and cells.get(header):
                    examples[header] = cells[header][:80]
            if count + 1 >= EXAMPLE_ROWS or len(examples) == len(headers):
                break
    taken = set(recognised.values())
    return ColumnPlan(
        path.name, headers, recognised, [h for h in headers if h not in taken], examples
    )


def resolve_columns(
    path: Path, headers: list[str], chosen: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """The field -> header map and the headers kept as attributes, after the person's choices.

    A choice names a header of the file and a field (or :data:`KEEP`, :data:`SKIP`); it wins
    over the recognised name, the header recognised for that field then being kept as an
    attribute. Raises :class:`ColumnError` for a header the file lacks, an unknown field, or
    two columns chosen for one field; :class:`MissingEmailColumn` when no column is the email.
    """
    columns = match_headers(headers, COLUMN_ALIASES)
    present = [h for h in headers if h]
    skipped: set[str] = set()
    by_choice: dict[str, str] = {}
    for header, choice in (chosen or {}).items():
        _check_choice(path, present, header, choice, by_choice)
        if choice in FIELDS:
            by_choice[choice] = header
        for key in [key for key, value in columns.items() if value == header]:
            del columns[key]
        if choice == SKIP:
            skipped.add(header)
    columns.update(by_choice)
    if "email" not in columns:
        raise MissingEmailColumn(
            _no_email_column(path, headers),
            code="no_email_column",
            field="email",
            file=path.name,
            columns=present,
            looks_like_data=any("@" in h for h in headers),
        )
    taken = set(columns.values())
    extra = [h for h in present if h not in taken and h not in skipped]
    return columns, extra


def _check_choice(
    path: Path, present: list[str], header: str, choice: str, by_choice: dict[str, str]
) -> None:
    """Raise :class:`ColumnError` for a choice the file cannot take (see resolve_columns)."""
    if header not in present:
        raise ColumnError(
            f"{path.name} has no column {header!r} (columns: "
            f"{', '.join(repr(h) for h in present)}).",
            code="unknown_column",
            field=header,
            file=path.name,
            columns=present,
        )
    if choice not in (*FIELDS, KEEP, SKIP):
        raise ColumnError(
            f"{choice!r} is not a field a column can hold (fields: {', '.join(FIELDS)}, "
            f"or {KEEP!r}, {SKIP!r}).",
            code="unknown_field",
            field=header,
            choice=choice,
        )
    if choice in FIELDS and choice in by_choice:
        raise ColumnError(
            f"Two columns were chosen as {choice}: {by_choice[choice]!r} and {header!r}; "
            "choose one.",
            code="field_taken",
            field=header,
            choice=choice,
            other=by_choice[choice],
        )


def _no_email_column(path: Path, headers: list[str]) -> Message:
    found = [header for header in headers if header]
    code = "import.no_email_column"
    if any("@" in h for h in headers):
        code = "import.no_header_row"
    return Message(code, "file", {"file": path.name, "found": found or "none"})
