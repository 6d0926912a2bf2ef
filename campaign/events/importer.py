"""Import the events website's export (CSV, XLSX or JSON) into the catalogue.

Organisers type their events into the website; the team exports them and should never retype
them. The export arrives as a spreadsheet with French headers or as JSON with English keys, with
dates written the French way and regions spelt a dozen ways, so this module accepts both
languages, canonicalises regions and daily themes with the taxonomy, and matches events by the
website's id so importing a newer export updates the catalogue instead of duplicating it.

The whole file is read and checked before anything is written: a malformed file changes
nothing, a bad row is skipped with its number and the reason, every other row goes through.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from campaign.errors import CampaignError
from campaign.importing import ImportReport
from campaign.messages import Message
from campaign.models.base import utcnow
from campaign.models.events import Event
from campaign.tabular import FileFormatError, match_headers, open_sheet
from campaign.taxonomy import Taxonomy, fold

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

LIST_FIELDS = ("publics", "co_organisers")
DATE_FIELDS = ("starts_at", "ends_at", "registered_at")
COMPARED_FIELDS = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "all_day",
    "venue",
    "address",
    "city",
    "postcode",
    "region",
    "event_type",
    "theme",
    "publics",
    "organiser_name",
    "organiser_family",
    "organiser_sector",
    "organiser_size",
    "co_organisers",
    "registered_at",
    "url",
    "image_url",
    "extra",
)
JSON_LIST_KEYS = ("events", "manifestations", "items", "data")
MAX_ROWS_NAMED = 10
PROGRESS_EVERY = 100  # rows between two progress calls

_FOLDED_ALIASES = {fold(alias): name for name, aliases in ALIASES.items() for alias in aliases}
_FRENCH_DATE = re.compile(
    r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:\s*(?:[ T,]|à)\s*(?P<H>\d{1,2})\s*[:hH]\s*(?P<M>\d{2})?(?::(?P<S>\d{2}))?)?",
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEPARATORS = re.compile(r"\s*[,;|]\s*")


class RowError(ValueError):
    """Why one row is left out: its message (``reason``) goes into the report."""

    def __init__(self, code: str, field: str = "", **values: Any) -> None:
        self.reason = Message(code, field, values)
        super().__init__(str(self.reason))


@dataclass
class _Warnings:
    """Warnings aggregated by message, so 300 rows with one odd region make one line."""

    rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, message: str, row: int) -> None:
        self.rows[message].append(row)

    def lines(self) -> list[str]:
        out = []
        for message, rows in self.rows.items():
            named = ", ".join(str(row) for row in rows[:MAX_ROWS_NAMED])
            more = f", … ({len(rows)} rows)" if len(rows) > MAX_ROWS_NAMED else ""
            noun = "row" if len(rows) == 1 else "rows"
            out.append(f"{message} ({noun} {named}{more}).")
        return out


# --- values ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell or JSON value as trimmed text (whole floats lose their '.0', lists are joined)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value if _text(item))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value).strip()


def split_list(value: Any) -> list[str]:
    """Publics or co-organisers: a JSON list, or text separated by ``,`` ``;`` or ``|``."""
    if isinstance(value, list | tuple):
        items = [_text(item) for item in value]
    else:
        text = _text(value)
        items = []
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                items = [_text(item) for item in parsed]
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
        text = _text(value)
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


def _max_length(name: str) -> int | None:
    column = Event.__table__.columns.get(name)  # type: ignore[attr-defined]
    return getattr(column.type, "length", None) if column is not None else None


# --- one row -----------------------------------------------------------------------------------


def _date_field(field: str, raw: Any, zone: ZoneInfo) -> tuple[datetime, bool] | None:
    """``field``: "starts_at" or "ends_at"."""
    if not _text(raw):
        return None
    try:
        return parse_when(raw, zone)
    except ValueError:
        raise RowError(f"import.bad_{field}", field, text=_text(raw)) from None


def _when(raw: dict[str, Any], zone: ZoneInfo) -> tuple[datetime, datetime | None, bool]:
    """Start, end and whether the event is all-day (given as days, without times).

    An all-day event ends at the midnight after its last day, in its zone: the instant it is
    over, which "events still to come" compares with now.
    """
    start = _date_field("starts_at", raw.get("starts_at"), zone)
    if start is None:
        raise RowError("import.no_start", "starts_at")
    starts_at, all_day = start
    end = _date_field("ends_at", raw.get("ends_at"), zone)
    backwards = {"start": _text(raw.get("starts_at")), "end": _text(raw.get("ends_at"))}
    if end is None:
        return starts_at, (_next_midnight(starts_at, zone) if all_day else None), all_day
    ends_at, end_all_day = end
    if all_day and end_all_day:
        if ends_at < starts_at:
            raise RowError("import.ends_before_start", "ends_at", **backwards)
        return starts_at, _next_midnight(ends_at, zone), True
    if end_all_day and ends_at.astimezone(zone).date() >= starts_at.astimezone(zone).date():
        return starts_at, max(starts_at, _next_midnight(ends_at, zone)), False  # "until that day"
    if ends_at < starts_at:
        raise RowError("import.ends_before_start", "ends_at", **backwards)
    return starts_at, ends_at, all_day and end_all_day


def _next_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start of the day after ``moment``'s local day, in UTC."""
    day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def normalise_row(
    raw: dict[str, Any],
    extra: dict[str, Any],
    *,
    row: int,
    taxonomy: Taxonomy,
    zone: ZoneInfo,
    warnings: _Warnings,
) -> dict[str, Any]:
    """The Event field values for one row (canonical field names), or RowError."""
    source_id = _text(raw.get("source_id"))
    if not source_id:
        raise RowError("import.no_event_id", "source_id")
    if len(source_id) > (_max_length("source_id") or 100):
        raise RowError("import.event_id_too_long", "source_id", limit=100)
    title = _text(raw.get("title"))
    if not title:
        raise RowError("import.no_title", "title")

    postcode = _text(raw.get("postcode")).replace(" ", "")
    if re.fullmatch(r"\d{4}", postcode):  # a spreadsheet ate the leading zero (01000 -> 1000)
        postcode = "0" + postcode

    region_text = _text(raw.get("region"))
    if region_text:
        region = taxonomy.region(region_text)
        if region is None:
            warnings.add(f"Unknown region {region_text!r} kept as written", row)
            region = region_text
    else:
        region = taxonomy.region_for_postcode(postcode) or ""

    # Local times are the region's own (18h in La Réunion is not 18h in Paris); an explicit
    # offset in the export wins.
    event_zone = taxonomy.zone(region, zone)
    starts_at, ends_at, all_day = _when(raw, event_zone)
    registered_at: datetime | None = None
    if _text(raw.get("registered_at")):
        try:
            # Written by the website's clock (the configured zone), not the event's.
            registered_at, _ = parse_when(raw.get("registered_at"), zone)
        except ValueError:
            # Not worth losing the event for: say so and leave it empty.
            warnings.add("Registration date unreadable, left empty", row)

    theme_text = _text(raw.get("theme"))
    theme = taxonomy.theme(theme_text) if theme_text else ""
    if theme is None:
        warnings.add(f"Unknown daily theme {theme_text!r} kept as written", row)
        theme = theme_text

    values: dict[str, Any] = {
        "source_id": source_id,
        "title": title,
        "description": _text(raw.get("description")),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": event_zone.key,
        "all_day": all_day,
        "venue": _text(raw.get("venue")),
        "address": _text(raw.get("address")),
        "city": _text(raw.get("city")),
        "postcode": postcode,
        "region": region,
        "event_type": _text(raw.get("event_type")),
        "theme": theme,
        "publics": split_list(raw.get("publics")),
        "organiser_name": _text(raw.get("organiser_name")),
        "organiser_family": _text(raw.get("organiser_family")),
        "organiser_sector": _text(raw.get("organiser_sector")),
        "organiser_size": _text(raw.get("organiser_size")),
        "co_organisers": split_list(raw.get("co_organisers")),
        "registered_at": registered_at,
        "url": _text(raw.get("url")),
        "image_url": _text(raw.get("image_url")),
        "extra": {key: value for key, value in extra.items() if _text(value)},
    }
    for name, value in values.items():
        limit = _max_length(name)
        if limit and isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
            warnings.add(f"{name} cut to {limit} characters", row)
    return values


# --- reading files -----------------------------------------------------------------------------


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
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: not UTF-8 text; export the JSON again as UTF-8.") from None
    except ValueError as exc:
        raise FileFormatError(f"{path}: invalid JSON ({exc}).") from None
    if isinstance(data, dict):
        key = next((key for key in JSON_LIST_KEYS if isinstance(data.get(key), list)), None)
        if key is None:
            raise FileFormatError(
                f'{path}: expected a list of events or an object {{"events": [...]}}.'
            )
        data = data[key]
    if not isinstance(data, list):
        raise FileFormatError(
            f'{path}: expected a list of events or an object {{"events": [...]}}.'
        )
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
                problem=Message("import.not_an_event", "", {"text": _text(item)[:60]}),
            )
            continue
        raw: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in _flatten(item).items():
            name = _FOLDED_ALIASES.get(fold(key))
            if name is not None and name not in raw:
                raw[name] = value
            else:
                extra[key] = value
        yield _Row(index, raw, extra)


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


# --- the import --------------------------------------------------------------------------------


def _same(event: Event, values: dict[str, Any]) -> bool:
    return all(getattr(event, name) == values[name] for name in COMPARED_FIELDS)


def _existing(session: Session, ids: Iterable[str]) -> dict[str, Event]:
    wanted = list(ids)
    if not wanted:
        return {}
    found = session.exec(select(Event).where(Event.source_id.in_(wanted))).all()  # type: ignore[attr-defined]
    return {event.source_id: event for event in found}


def import_events(
    session: Session,
    path: Path,
    *,
    dry_run: bool,
    taxonomy: Taxonomy,
    zone: ZoneInfo,
    progress: Progress | None = None,
) -> ImportReport:
    """Add or update events from the website's export, matched by the website's id.

    Nothing is written when ``dry_run`` is true or when the file cannot be read at all; the
    report counts added, updated (some value changed), unchanged and skipped rows.
    """
    path = Path(path)
    report = ImportReport(file=path.name, dry_run=dry_run)
    warnings = _Warnings()
    valid: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for row in read_rows(path, progress):
        if row.problem:
            report.skip(row.number, row.problem)
            continue
        try:
            values = normalise_row(
                row.raw, row.extra, row=row.number, taxonomy=taxonomy, zone=zone, warnings=warnings
            )
        except RowError as exc:
            report.skip(row.number, exc.reason, _text(row.raw.get("source_id")))
            continue
        source_id = values["source_id"]
        if source_id in valid:
            report.skip(
                row.number,
                Message("import.same_event_id", values={"row": first_row[source_id]}),
                source_id,
            )
            continue
        valid[source_id] = values
        first_row[source_id] = row.number

    existing = _existing(session, valid)
    now = utcnow()
    for source_id, values in valid.items():
        event = existing.get(source_id)
        if event is None:
            report.added += 1
            if not dry_run:
                session.add(Event(**values, created_at=now, updated_at=now))
        elif _same(event, values):
            report.unchanged += 1
        else:
            report.updated += 1
            if not dry_run:
                for name in COMPARED_FIELDS:
                    setattr(event, name, values[name])
                event.updated_at = now
                session.add(event)
    if not dry_run:
        session.flush()
    report.skipped.sort(key=lambda skipped: skipped.row)
    report.warnings.extend(warnings.lines())
    return report
