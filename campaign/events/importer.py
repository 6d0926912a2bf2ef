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

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from campaign.events.exports import Progress, read_rows
from campaign.events.values import as_text, parse_when, split_list
from campaign.importing import ImportSummary
from campaign.messages import Message
from campaign.models.base import utcnow
from campaign.models.events import Event
from campaign.taxonomy import Taxonomy

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
MAX_ROWS_NAMED = 10


class RowError(ValueError):
    """Why one row is left out: its message (``reason``) goes into the summary."""

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


def _max_length(name: str) -> int | None:
    column = Event.__table__.columns.get(name)  # type: ignore[attr-defined]
    return getattr(column.type, "length", None) if column is not None else None


# --- one row -----------------------------------------------------------------------------------


def _date_field(field: str, raw: Any, zone: ZoneInfo) -> tuple[datetime, bool] | None:
    """``field``: "starts_at" or "ends_at"."""
    if not as_text(raw):
        return None
    try:
        return parse_when(raw, zone)
    except ValueError:
        raise RowError(f"import.bad_{field}", field, text=as_text(raw)) from None


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
    backwards = {"start": as_text(raw.get("starts_at")), "end": as_text(raw.get("ends_at"))}
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
    source_id, title = _identity(raw)
    postcode = as_text(raw.get("postcode")).replace(" ", "")
    if re.fullmatch(r"\d{4}", postcode):  # a spreadsheet ate the leading zero (01000 -> 1000)
        postcode = "0" + postcode
    region = _region(as_text(raw.get("region")), postcode, taxonomy, lambda m: warnings.add(m, row))

    # Local times are the region's own (18h in La Réunion is not 18h in Paris); an explicit
    # offset in the export wins.
    event_zone = taxonomy.zone(region, zone)
    starts_at, ends_at, all_day = _when(raw, event_zone)
    registered_at: datetime | None = None
    if as_text(raw.get("registered_at")):
        try:
            # Written by the website's clock (the configured zone), not the event's.
            registered_at, _ = parse_when(raw.get("registered_at"), zone)
        except ValueError:
            # Not worth losing the event for: say so and leave it empty.
            warnings.add("Registration date unreadable, left empty", row)

    theme_text = as_text(raw.get("theme"))
    theme = taxonomy.theme(theme_text) if theme_text else ""
    if theme is None:
        warnings.add(f"Unknown daily theme {theme_text!r} kept as written", row)
        theme = theme_text

    values: dict[str, Any] = {
        "source_id": source_id,
        "title": title,
        "description": as_text(raw.get("description")),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": event_zone.key,
        "all_day": all_day,
        "venue": as_text(raw.get("venue")),
        "address": as_text(raw.get("address")),
        "city": as_text(raw.get("city")),
        "postcode": postcode,
        "region": region,
        "event_type": as_text(raw.get("event_type")),
        "theme": theme,
        "publics": split_list(raw.get("publics")),
        "organiser_name": as_text(raw.get("organiser_name")),
        "organiser_family": as_text(raw.get("organiser_family")),
        "organiser_sector": as_text(raw.get("organiser_sector")),
        "organiser_size": as_text(raw.get("organiser_size")),
        "co_organisers": split_list(raw.get("co_organisers")),
        "registered_at": registered_at,
        "url": as_text(raw.get("url")),
        "image_url": as_text(raw.get("image_url")),
        "extra": {key: value for key, value in extra.items() if as_text(value)},
    }
    _cut_to_columns(values, lambda message: warnings.add(message, row))
    return values


def _identity(raw: dict[str, Any]) -> tuple[str, str]:
    """The website's id and the title, which no event goes without."""
    source_id = as_text(raw.get("source_id"))
    if not source_id:
        raise RowError("import.no_event_id", "source_id")
    if len(source_id) > (_max_length("source_id") or 100):
        raise RowError("import.event_id_too_long", "source_id", limit=100)
    title = as_text(raw.get("title"))
    if not title:
        raise RowError("import.no_title", "title")
    return source_id, title


def _region(
    region_text: str, postcode: str, taxonomy: Taxonomy, warn: Callable[[str], None]
) -> str:
    """The canonical region: as written (kept with a warning if unknown), else the postcode's."""
    if not region_text:
        return taxonomy.region_for_postcode(postcode) or ""
    region = taxonomy.region(region_text)
    if region is None:
        warn(f"Unknown region {region_text!r} kept as written")
        return region_text
    return region


def _cut_to_columns(values: dict[str, Any], warn: Callable[[str], None]) -> None:
    """Text longer than its column is cut to fit, with a warning, rather than lose the event."""
    for name, value in values.items():
        limit = _max_length(name)
        if limit and isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
            warn(f"{name} cut to {limit} characters")


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
) -> ImportSummary:
    """Add or update events from the website's export, matched by the website's id.

    Nothing is written when ``dry_run`` is true or when the file cannot be read at all; the
    summary counts added, updated (some value changed), unchanged and skipped rows.
    """
    path = Path(path)
    summary = ImportSummary(file=path.name, dry_run=dry_run)
    warnings = _Warnings()
    valid: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for row in read_rows(path, progress):
        if row.problem:
            summary.skip(row.number, row.problem)
            continue
        try:
            values = normalise_row(
                row.raw, row.extra, row=row.number, taxonomy=taxonomy, zone=zone, warnings=warnings
            )
        except RowError as exc:
            summary.skip(row.number, exc.reason, as_text(row.raw.get("source_id")))
            continue
        source_id = values["source_id"]
        if source_id in valid:
            summary.skip(
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
            summary.added += 1
            if not dry_run:
                session.add(Event(**values, created_at=now, updated_at=now))
        elif _same(event, values):
            summary.unchanged += 1
        else:
            summary.updated += 1
            if not dry_run:
                for name in COMPARED_FIELDS:
                    setattr(event, name, values[name])
                event.updated_at = now
                session.add(event)
    if not dry_run:
        session.flush()
    summary.skipped.sort(key=lambda skipped: skipped.row)
    summary.warnings.extend(warnings.lines())
    return summary
