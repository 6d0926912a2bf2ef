"""Reading the events website's export: CSV, XLSX or JSON rows with canonical field names.

Headers in French or English, spelt a dozen ways, and JSON objects nested by the website, all come
out as the same canonical fields (``ALIASES``); the rest is kept as the event's ``extra``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign.errors import CampaignError
from campaign.events.values import as_text
from campaign.messages import Message
from campaign.tabular import FileFormatError, match_headers, open_sheet
from campaign.taxonomy import fold

Progress = Callable[[int, int], None]

# Canonical field -> the header spellings met in exports (compared folded: no case, accents or
# punctuation). The first spelling of each is the one the website uses.
ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": (
        "identifiant",
        "id",
        "source_id",
        "source id",
        "id manifestation",
        "identifiant manifestation",
        "id evenement",
        "event id",
    ),
    "title": ("titre", "title", "nom de la manifestation", "intitule", "name", "nom"),
    "description": ("description", "descriptif", "resume", "summary"),
    "starts_at": (
        "date de debut",
        "debut",
        "start",
        "starts at",
        "start date",
        "date debut",
        "date",
    ),
    "ends_at": ("date de fin", "fin", "end", "ends at", "end date", "date fin"),
    "venue": ("lieu", "venue", "nom du lieu", "place"),
    "address": ("adresse", "address"),
    "city": ("ville", "city", "commune"),
    "postcode": ("code postal", "cp", "postcode", "postal code", "zip", "zip code"),
    "region": ("region",),
    "event_type": ("type", "type de manifestation", "event type", "format"),
    "theme": ("theme du jour", "theme", "daily theme", "thematique"),
    "publics": ("publics", "public", "publics cibles", "public cible", "target publics"),
    "organiser_name": (
        "organisateur",
        "organiser",
        "organizer",
        "organisateur principal",
        "structure organisatrice",
        "organiser name",
        "organisateur nom",
    ),
    "organiser_family": (
        "famille",
        "family",
        "famille de l ess",
        "organiser family",
        "organisateur famille",
    ),
    "organiser_sector": (
        "secteur",
        "sector",
        "secteur d activite",
        "organiser sector",
        "organisateur secteur",
    ),
    "organiser_size": (
        "effectif",
        "size",
        "headcount",
        "tranche d effectif",
        "organiser size",
        "organisateur effectif",
    ),
    "co_organisers": (
        "co organisateurs",
        "coorganisateurs",
        "co organisers",
        "co organizers",
        "coorganisers",
    ),
    "registered_at": (
        "date d inscription",
        "inscription",
        "registered at",
        "registration date",
        "date de creation",
        "created at",
    ),
    "url": ("lien", "url", "link", "site web", "page"),
    "image_url": ("image", "image url", "visuel", "photo"),
}

JSON_LIST_KEYS = ("events", "manifestations", "items", "data")
PROGRESS_EVERY = 100  # rows between two progress calls

_FOLDED_ALIASES = {fold(alias): name for name, aliases in ALIASES.items() for alias in aliases}


@dataclass
class _Row:
    number: int
    raw: dict[str, Any]
    extra: dict[str, Any]
    problem: Message | None = (
        None  # set when the row is not an event at all (a JSON item that is no object)
    )


def _flatten(item: dict[str, Any]) -> dict[str, Any]:
    """Nested objects become "parent child" keys (``organiser: {name}`` -> ``organiser name``)."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                flat[f"{key} {sub_key}"] = sub_value
        else:
            flat[str(key)] = value
    return flat


def _read_json(path: Path, progress: Progress | None) -> Iterator[_Row]:
    data = _json_items(path)
    objects = [item for item in data if isinstance(item, dict)]
    if objects and not any(
        _FOLDED_ALIASES.get(fold(key)) == "source_id" for item in objects for key in item
    ):
        raise FileFormatError(
            f"{path}: no event has an id (id, identifiant or source_id); "
            "the id is what matches an event from one import to the next."
        )
    total = len(data)
    for index, item in enumerate(data, start=1):
        if progress is not None and (index % PROGRESS_EVERY == 0 or index == total):
            progress(index, total)
        if not isinstance(item, dict):
            yield _Row(
                index,
                {},
                {},
                problem=Message("import.not_an_event", "", {"text": as_text(item)[:60]}),
            )
            continue
        yield _json_row(index, item)


def _json_items(path: Path) -> list[Any]:
    """The file's list of events: the whole document, or the list under a known key."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: not UTF-8 text; export the JSON again as UTF-8.") from None
    except ValueError as exc:
        raise FileFormatError(f"{path}: invalid JSON ({exc}).") from None
    if isinstance(data, dict):
        key = next((key for key in JSON_LIST_KEYS if isinstance(data.get(key), list)), None)
        data = data[key] if key is not None else None
    if not isinstance(data, list):
        raise FileFormatError(
            f'{path}: expected a list of events or an object {{"events": [...]}}.'
        )
    return data


def _json_row(index: int, item: dict[str, Any]) -> _Row:
    """One event object: known keys (the first spelling met wins) apart from the rest."""
    raw: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in _flatten(item).items():
        name = _FOLDED_ALIASES.get(fold(key))
        if name is not None and name not in raw:
            raw[name] = value
        else:
            extra[key] = value
    return _Row(index, raw, extra)


def _read_sheet(path: Path, progress: Progress | None) -> Iterator[_Row]:
    with open_sheet(path) as sheet:
        mapping = match_headers(sheet.headers, ALIASES)
        if "source_id" not in mapping:
            raise FileFormatError(
                f"{path}: no id column (Identifiant, id or source_id); the id is what matches "
                f"an event from one import to the next. Columns found: {', '.join(sheet.headers)}."
            )
        by_header = {header: name for name, header in mapping.items()}
        for count, (number, cells) in enumerate(sheet.rows):
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(sheet.bytes_read(), sheet.total_bytes)
            raw: dict[str, Any] = {}
            extra: dict[str, Any] = {}
            for header, value in cells.items():
                name = by_header.get(header)
                if name is not None:
                    raw[name] = value
                elif header:
                    extra[header] = value
            yield _Row(number, raw, extra)
        if progress is not None:
            progress(sheet.total_bytes, sheet.total_bytes)


def read_rows(path: Path, progress: Progress | None = None) -> Iterator[_Row]:
    """The rows of an export, whatever its format, with field names already canonical."""
    if not path.is_file():
        raise CampaignError(f"{path}: no such file.")
    if path.suffix.lower() == ".json":
        return _read_json(path, progress)
    return _read_sheet(path, progress)
