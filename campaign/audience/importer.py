"""Importing a spreadsheet of subscribers, as the CRESS and partners really send them.

The files come from many hands (a regional chamber's Excel, a back-office export, a sign-up sheet
typed at an event), so columns are recognised by name in French or English, addresses are
checked one by one and every row left out is reported with its row number and the reason.

Three promises hold whatever the file says:

* nobody is duplicated: an address already known updates that person (non-empty cells overwrite,
  empty cells never erase), and an address repeated in the file is imported once — the later row
  is skipped as "duplicate of row N" so the person sees which of their rows was kept;
* nobody who unsubscribed, bounced or complained is made active again, nor put on a list: their
  profile may be refreshed, their status never changes, and the summary warns about them;
* every new subscriber and every list they join gets a line in the consent log naming the file,
  the row and who imported it (the proof of consent RGPD asks for).

A file whose columns are not all recognised can say what each one is (``columns``: the header
and the field it holds, or :data:`KEEP` / :data:`SKIP`); a file with no recognisable email
column is refused with :class:`MissingEmailColumn`, whose code and columns let each door ask
which one it is. A "Date d'inscription" column (French ``dd/mm/yyyy``, ISO, or an Excel date)
becomes the person's join date, which the list growth report counts from. The consent origin,
given for the whole file, is written on every consent log line of the import.

The import runs in batches of :data:`BATCH_SIZE` rows with a handful of set-based queries per
batch, never one ORM object per row, so 100,000 rows take seconds and memory does not grow with
the file: even the addresses already seen (to spot duplicates) are kept in a temporary table,
not in Python.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session

from campaign.addresses import InvalidEmail, normalise_email
from campaign.audience.import_columns import (
    FIELDS,
    KEEP,
    PROFILE_COLUMNS,
    SKIP,
    ColumnError,
    ColumnPlan,
    MissingEmailColumn,
    read_columns,
    resolve_columns,
)
from campaign.audience.import_writes import driver_value, write_batch
from campaign.audience.lists import find_list
from campaign.importing import ImportSummary
from campaign.messages import Message, message
from campaign.models import (
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    utcnow,
)
from campaign.tabular import Sheet, open_sheet
from campaign.taxonomy import Taxonomy

__all__ = [
    "FIELDS",
    "KEEP",
    "SKIP",
    "ColumnError",
    "ColumnPlan",
    "MissingEmailColumn",
    "import_subscribers",
    "parse_join_date",
    "read_columns",
]

BATCH_SIZE = 1000
MAX_ROWS_NAMED = 20  # rows listed in one warning before "…"
MAX_REGION_SPELLINGS = 100  # distinct unknown regions counted one by one; the rest together
SEEN_TABLE = "campaign_import_seen"
CACHE_LIMIT = 10_000

_LANGUAGES = {"francais": "fr", "french": "fr", "anglais": "en", "english": "en"}

_FRENCH_DATE = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T](\d{1,2})[:h](\d{2})(?::(\d{2}))?)?"
)
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
)
EARLIEST_JOIN = date(1990, 1, 1)  # before any mailing list of the network: a typing error

_subscriber = Subscriber.__table__  # type: ignore[attr-defined]
_membership = Membership.__table__  # type: ignore[attr-defined]
_consent = ConsentEvent.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class _Row:
    number: int
    email: str
    profile: dict[str, str]  # only the non-empty cells: empty ones never overwrite
    attributes: dict[str, str]
    joined_at: datetime | None = None


@dataclass
class _Run:
    """What one import carries from batch to batch (all of it bounded in size)."""

    session: Session
    summary: ImportSummary
    source: str  # file name, as written in the consent log
    actor: str
    taxonomy: Taxonomy
    mailing_list_id: int | None
    list_is_new: bool
    seen_table: str
    consent_origin: str = ""
    zone: tzinfo = UTC
    now: datetime = field(default_factory=utcnow)
    # The same instant and the JSON conversion as the driver takes them (see _insert_many).
    now_db: Any = None
    json_processor: Callable[[Any], Any] = field(default=lambda value: value)
    unknown_regions: Counter[str] = field(default_factory=Counter)
    suppressed_rows: list[int] = field(default_factory=list)
    suppressed_count: int = 0
    other_unknown_regions: int = 0
    bad_dates: list[tuple[int, str]] = field(default_factory=list)
    bad_date_count: int = 0
    _regions: dict[str, str | None] = field(default_factory=dict)
    _postcodes: dict[str, str | None] = field(default_factory=dict)

    def suppressed(self, number: int) -> None:
        """Count a suppressed person met in the file (the first rows named in the warning)."""
        self.suppressed_count += 1
        if len(self.suppressed_rows) < MAX_ROWS_NAMED:
            self.suppressed_rows.append(number)

    # Folding a region name costs more than everything else done to a row but the email check;
    # files repeat a few dozen spellings, so each is looked up once (the caches stay bounded).
    def region(self, text: str) -> str | None:
        if text in self._regions:
            return self._regions[text]
        found = self.taxonomy.region(text)
        if len(self._regions) < CACHE_LIMIT:
            self._regions[text] = found
        return found

    def region_of_postcode(self, postcode: str) -> str | None:
        if postcode in self._postcodes:
            return self._postcodes[postcode]
        found = self.taxonomy.region_for_postcode(postcode)
        if len(self._postcodes) < CACHE_LIMIT:
            self._postcodes[postcode] = found
        return found


def import_subscribers(
    session: Session,
    path: Path,
    *,
    list_name: str | None,
    dry_run: bool,
    actor: str,
    taxonomy: Taxonomy,
    progress: Callable[[int, int], None] | None = None,
    columns: Mapping[str, str] | None = None,
    consent_origin: str = "",
    zone: tzinfo = UTC,
) -> ImportSummary:
    """Import the subscribers of a CSV or XLSX file; returns what was added, updated, skipped.

    ``list_name``: the list every imported person joins (created when missing). ``dry_run``:
    everything is computed exactly as for a real import, then rolled back — so the summary is the
    real one and nothing is saved. (The rollback undoes the whole session transaction: call it
    on a session with nothing else pending, as the command line does.) ``progress`` is called
    with ``(bytes_read, total_bytes)`` about every thousand rows. ``columns``: what the person
    said some columns hold (see :func:`resolve_columns`). ``consent_origin``: how these people
    gave their consent, written on each of their consent log lines. ``zone``: where the dates
    of a join date column are read (a date alone is that day's midnight there).

    Raises :class:`~campaign.tabular.FileFormatError` before changing anything when the file is
    not a table, and :class:`ColumnError` (:class:`MissingEmailColumn`) when its columns do not
    say which holds the addresses.
    """
    path = Path(path)
    summary = ImportSummary(file=path.name, dry_run=dry_run)
    with open_sheet(path) as sheet:
        fields, extra = resolve_columns(path, sheet.headers, columns)
        connection = session.connection()
        seen_table = _create_seen_table(connection)
        mailing_list_id, list_is_new = _mailing_list(session, list_name, summary)
        run = _Run(
            session=session,
            summary=summary,
            source=path.name,
            actor=actor,
            taxonomy=taxonomy,
            mailing_list_id=mailing_list_id,
            list_is_new=list_is_new,
            seen_table=seen_table,
            consent_origin=" ".join(consent_origin.split())[:1000],
            zone=zone,
        )
        run.now_db = driver_value(connection, _subscriber.c.created_at, run.now)
        json_type = _subscriber.c.attributes.type.dialect_impl(connection.dialect)
        json_processor = json_type.bind_processor(connection.dialect)
        if json_processor is not None:
            run.json_processor = json_processor
        try:
            for batch in _batches(sheet, fields, extra, run):
                for number, reason, value in batch.skipped:
                    summary.skip(number, reason, value)
                write_batch(run, batch.rows)
                if progress is not None:
                    progress(batch.bytes_read, sheet.total_bytes)
            if progress is not None:
                progress(sheet.total_bytes, sheet.total_bytes)
        finally:
            _drop_seen_table(connection, seen_table)
    _finish_report(run)
    if dry_run:
        session.rollback()
    else:
        session.flush()
    return summary


def _mailing_list(
    session: Session, list_name: str | None, summary: ImportSummary
) -> tuple[int | None, bool]:
    if list_name is None or not list_name.strip():
        return None, False
    existing = find_list(session, list_name)
    if existing is not None:
        if existing.name != list_name.strip():
            summary.warnings.append(
                f"The list {list_name.strip()!r} is the existing list {existing.name!r} "
                "(list names are compared without case or accents): people joined it."
            )
        return existing.id, False
    created = MailingList(name=list_name.strip())
    session.add(created)
    session.flush()
    return created.id, True


# --- the addresses already seen in this file ---------------------------------------------------


def _create_seen_table(connection: Connection) -> str:
    """A temporary table of (address, row) for this import: duplicates found without memory.

    Temporary tables belong to one connection, so imports never see each other's. PostgreSQL
    drops it with the transaction; SQLite when :func:`_drop_seen_table` runs — and should a
    rollback undo that drop, the next import on the connection empties and reuses it.
    """
    # WITHOUT ROWID: SQLite then keeps one b-tree (the key) instead of two per row.
    tail = " ON COMMIT DROP" if connection.dialect.name == "postgresql" else " WITHOUT ROWID"
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {SEEN_TABLE} "
            f"(email VARCHAR(320) PRIMARY KEY, row_number INTEGER NOT NULL){tail}"
        )
    )
    connection.execute(text(f"DELETE FROM {SEEN_TABLE}"))
    return SEEN_TABLE


def _drop_seen_table(connection: Connection, name: str) -> None:
    if connection.dialect.name == "postgresql":
        return  # ON COMMIT DROP; an explicit DROP would fail in an aborted transaction
    connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))


# --- reading and checking rows -----------------------------------------------------------------


@dataclass(slots=True)
class _Batch:
    rows: list[_Row]  # valid rows, in file order
    skipped: list[tuple[int, Message, str]]  # (row, reason, value) of the invalid addresses
    bytes_read: int


def _batches(
    sheet: Sheet, columns: dict[str, str], extra: list[str], run: _Run
) -> Iterator[_Batch]:
    """The file's rows checked and cleaned, about BATCH_SIZE rows at a time."""
    email_header = columns["email"]
    profile_headers = [(key, columns[key]) for key in PROFILE_COLUMNS if key in columns]
    joined_header = columns.get("joined_at")
    batch = _Batch([], [], 0)
    for number, cells in sheet.rows:
        raw = cells.get(email_header, "")
        try:
            email = normalise_email(raw)
        except InvalidEmail as exc:
            batch.skipped.append((number, _reason(exc, raw), raw))
        else:
            profile = {key: cells[header] for key, header in profile_headers if cells[header]}
            attributes = {header: cells[header] for header in extra if cells.get(header)}
            joined = _joined_at(cells[joined_header], number, run) if joined_header else None
            batch.rows.append(_Row(number, email, _clean_profile(profile, run), attributes, joined))
        if len(batch.rows) + len(batch.skipped) >= BATCH_SIZE:
            batch.bytes_read = sheet.bytes_read()
            yield batch
            batch = _Batch([], [], 0)
    if batch.rows or batch.skipped:
        batch.bytes_read = sheet.bytes_read()
        yield batch


def _reason(exc: InvalidEmail, raw: str) -> Message:
    if not raw.strip():
        return message("import.no_email", "email")
    # normalise_email repeats the address; the summary shows it in its own column already.
    prefix = f"invalid email address {raw.strip().strip('<>').strip()!r}: "
    return message("import.invalid_email", "email", reason=str(exc).removeprefix(prefix))


def parse_join_date(text: str, zone: tzinfo) -> datetime | None:
    """The moment a "Date d'inscription" cell names, in UTC; None when it names none.

    French ``dd/mm/yyyy`` (also with ``-`` or ``.``, a two-digit year, a time), ISO
    ``yyyy-mm-dd`` (how Excel dates are read, see :mod:`campaign.tabular`), read in ``zone``.
    """
    value = text.strip()
    match = _ISO_DATE.fullmatch(value)
    if match:
        year, month, day = (int(part) for part in match.group(1, 2, 3))
    else:
        match = _FRENCH_DATE.fullmatch(value)
        if not match:
            return None
        day, month, year = (int(part) for part in match.group(1, 2, 3))
        if year < 100:
            year += 2000
    hour, minute, second = (int(part or 0) for part in match.group(4, 5, 6))
    try:
        moment = datetime.combine(date(year, month, day), time(hour, minute, second))
    except ValueError:
        return None
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _joined_at(text: str, number: int, run: _Run) -> datetime | None:
    """The row's join date, or None (no date, or one reported as unusable: the row goes in)."""
    if not text:
        return None
    moment = parse_join_date(text, run.zone)
    if moment is None or moment > run.now or moment.date() < EARLIEST_JOIN:
        run.bad_date_count += 1
        if len(run.bad_dates) < MAX_ROWS_NAMED:
            run.bad_dates.append((number, text[:40]))
        return None
    return moment


def _clean_profile(profile: dict[str, str], run: _Run) -> dict[str, str]:
    postcode = profile.get("postcode")
    if postcode and postcode.isdigit() and len(postcode) == 4:
        # A spreadsheet read the postcode as a number and dropped its leading zero (01000).
        profile["postcode"] = postcode = "0" + postcode
    region_text = profile.get("region")
    if region_text:
        canonical = run.region(region_text)
        if canonical is None:
            # Kept as typed and reported once in total; the tally stays bounded.
            if (
                region_text in run.unknown_regions
                or len(run.unknown_regions) < MAX_REGION_SPELLINGS
            ):
                run.unknown_regions[region_text] += 1
            else:
                run.other_unknown_regions += 1
        else:
            profile["region"] = canonical
    elif postcode:
        from_postcode = run.region_of_postcode(postcode)
        if from_postcode:
            profile["region"] = from_postcode
    language = profile.get("language")
    if language:
        folded = language.strip().lower()
        profile["language"] = _LANGUAGES.get(folded.replace("ç", "c"), folded)[:10]
    return profile


# --- the summary -------------------------------------------------------------------------------


def _finish_report(run: _Run) -> None:
    summary = run.summary
    summary.skipped.sort(key=lambda skipped: skipped.row)  # duplicates are found batch by batch
    if run.suppressed_count:
        more = "…" if run.suppressed_count > len(run.suppressed_rows) else ""
        summary.warnings.append(
            message(
                "import.suppressed",
                count=run.suppressed_count,
                rows=list(run.suppressed_rows),
                more=more,
            )
        )
    if run.bad_date_count:
        more = "…" if run.bad_date_count > len(run.bad_dates) else ""
        summary.warnings.append(
            message(
                "import.bad_join_dates",
                count=run.bad_date_count,
                shown=list(run.bad_dates),
                earliest=f"{EARLIEST_JOIN:%Y}",
                more=more,
            )
        )
    if run.unknown_regions:
        shown = run.unknown_regions.most_common(10)
        others = sum(run.unknown_regions.values()) - sum(
            count for _name, count in run.unknown_regions.most_common(10)
        )
        others += run.other_unknown_regions
        total = sum(run.unknown_regions.values()) + run.other_unknown_regions
        summary.warnings.append(
            message("import.unknown_regions", "region", rows=total, shown=shown, others=others)
        )
