"""Writing one batch of an import: a handful of set-based statements for a thousand rows.

Rows arrive checked and cleaned (:mod:`campaign.audience.importer`); here their addresses are
matched with the file's earlier rows (a temporary table) and with the people already known, then
updates, inserts, memberships and consent log lines each go in one statement straight to the
driver: one ORM object per row would cost more than all the rest of the import.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from campaign.audience.import_columns import PROFILE_COLUMNS
from campaign.messages import message
from campaign.models import (
    SUPPRESSED,
    ConsentAction,
    ConsentEvent,
    Membership,
    Subscriber,
    SubscriberStatus,
)

if TYPE_CHECKING:
    from campaign.audience.importer import _Row, _Run

_subscriber = Subscriber.__table__  # type: ignore[attr-defined]
_membership = Membership.__table__  # type: ignore[attr-defined]
_consent = ConsentEvent.__table__  # type: ignore[attr-defined]


def driver_value(connection: Connection, column: Any, value: Any) -> Any:
    """``value`` converted by ``column``'s type as SQLAlchemy would before handing it over."""
    processor = column.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return processor(value) if processor is not None else value


def write_batch(run: _Run, batch: list[_Row]) -> None:
    """Add the new people, update the known ones, and log and join them all to the list."""
    connection = run.session.connection()
    batch = _drop_duplicates(run, connection, batch) if batch else batch
    if not batch:
        return
    existing = _existing(connection, [row.email for row in batch])
    new_rows = [row for row in batch if row.email not in existing]
    joined_ids = _members(run, connection, [s["id"] for s in existing.values()])
    updates, joining = _known_people(run, batch, existing, joined_ids)
    if updates:
        connection.execute(
            update(_subscriber)
            .where(_subscriber.c.id == bindparam("b_id"))
            .values({key: bindparam(f"b_{key}") for key in _UPDATED_COLUMNS})
            .values(updated_at=run.now),
            updates,
        )
    new_ids = _insert_new(run, connection, new_rows)
    run.summary.added += len(new_rows)
    _log_and_join(run, connection, new_ids, joining)


def _known_people(
    run: _Run, batch: list[_Row], existing: dict[str, dict[str, Any]], joined_ids: set[int]
) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """The updates of the people already known, and (id, row number) of those joining the list.

    Someone suppressed (unsubscribed, bounced, complained) may have their profile refreshed but
    never joins a list; they are counted for the summary's warning.
    """
    updates: list[dict[str, Any]] = []
    joining: list[tuple[int, int]] = []  # (subscriber id, row number)
    for row in batch:
        current = existing.get(row.email)
        if current is None:
            continue
        changes = _changes(current, row)
        suppressed = current["status"] in SUPPRESSED
        if suppressed:
            run.suppressed(row.number)
        joins = (
            run.mailing_list_id is not None and not suppressed and current["id"] not in joined_ids
        )
        if joins:
            joining.append((current["id"], row.number))
        if changes:
            updates.append({"b_id": current["id"], **_full_profile(current, changes)})
        if changes or joins:
            run.summary.updated += 1
        else:
            run.summary.unchanged += 1
    return updates, joining


def _drop_duplicates(run: _Run, connection: Connection, batch: list[_Row]) -> list[_Row]:
    """The rows whose address this file has not given before; the others go to the summary."""
    first_in_batch: dict[str, int] = {}
    kept: list[_Row] = []
    for row in batch:
        if row.email in first_in_batch:
            run.summary.skip(
                row.number, message("import.duplicate", row=first_in_batch[row.email]), row.email
            )
        else:
            first_in_batch[row.email] = row.number
            kept.append(row)
    emails = list(first_in_batch)
    seen: dict[str, int] = dict(
        connection.exec_driver_sql(
            f"SELECT email, row_number FROM {run.seen_table} "
            f"WHERE email IN ({_marks(connection, len(emails))})",
            tuple(emails),
        ).all()
    )
    if seen:
        for row in kept:
            if row.email in seen:
                run.summary.skip(
                    row.number, message("import.duplicate", row=seen[row.email]), row.email
                )
        kept = [row for row in kept if row.email not in seen]
    if kept:
        connection.exec_driver_sql(
            f"INSERT INTO {run.seen_table} (email, row_number) VALUES ({_marks(connection, 2)})",
            [(row.email, row.number) for row in kept],
        )
    return kept


def _existing(connection: Connection, emails: list[str]) -> dict[str, dict[str, Any]]:
    names = ("id", "email", "status", "created_at", "joined_at", *PROFILE_COLUMNS)
    columns = [_subscriber.c[name] for name in names]
    query = select(*columns, _subscriber.c.attributes).where(_subscriber.c.email.in_(emails))
    return {row.email: dict(row._mapping) for row in connection.execute(query)}


def _members(run: _Run, connection: Connection, subscriber_ids: list[int]) -> set[int]:
    """Which of these subscribers already have a membership (current or left) of the list."""
    if run.mailing_list_id is None or run.list_is_new or not subscriber_ids:
        return set()
    query = select(_membership.c.subscriber_id).where(
        _membership.c.list_id == run.mailing_list_id,
        _membership.c.subscriber_id.in_(subscriber_ids),
    )
    return set(connection.execute(query).scalars())


def _changes(current: dict[str, Any], row: _Row) -> dict[str, Any]:
    changes: dict[str, Any] = {
        key: value for key, value in row.profile.items() if current[key] != value
    }
    if row.joined_at is not None and row.joined_at < (
        current["joined_at"] or current["created_at"]
    ):
        # The earliest date known is when the person joined; a later one changes nothing.
        changes["joined_at"] = row.joined_at
    if row.attributes:
        attributes = dict(current["attributes"] or {})
        if any(attributes.get(key) != value for key, value in row.attributes.items()):
            attributes.update(row.attributes)
            changes["attributes"] = attributes
    return changes


def _full_profile(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Every updatable column (one UPDATE statement for the whole batch needs the same keys)."""
    merged = {key: changes.get(key, current[key]) for key in _UPDATED_COLUMNS}
    return {f"b_{key}": value for key, value in merged.items()}


def _insert_new(run: _Run, connection: Connection, rows: list[_Row]) -> list[tuple[int, int]]:
    """Insert the new subscribers, active; returns (subscriber id, row number) for each."""
    if not rows:
        return []
    now, source, to_json = run.now_db, f"import:{run.source}"[:300], run.json_processor
    no_attributes = to_json({})
    column = _subscriber.c.joined_at

    def joined(moment: datetime | None) -> Any:
        return None if moment is None else driver_value(connection, column, moment)

    _insert_many(
        connection,
        _subscriber,
        _NEW_SUBSCRIBER_COLUMNS,
        [
            (
                row.email,
                row.profile.get("first_name", ""),
                row.profile.get("last_name", ""),
                row.profile.get("organisation", ""),
                row.profile.get("region", ""),
                row.profile.get("postcode", ""),
                row.profile.get("language", "fr"),
                to_json(row.attributes) if row.attributes else no_attributes,
                _ACTIVE,
                source,
                now,
                now,
                now,
                joined(row.joined_at),
            )
            for row in rows
        ],
    )
    # The driver's executemany returns no ids; one query per batch fetches them all.
    emails = tuple(row.email for row in rows)
    ids: dict[str, int] = dict(
        connection.exec_driver_sql(
            f"SELECT email, id FROM {_subscriber.name} "
            f"WHERE email IN ({_marks(connection, len(emails))})",
            emails,
        ).all()
    )
    return [(ids[row.email], row.number) for row in rows]


_UPDATED_COLUMNS = (*PROFILE_COLUMNS, "attributes", "joined_at")
_NEW_SUBSCRIBER_COLUMNS = (
    "email",
    *PROFILE_COLUMNS,
    "attributes",
    "status",
    "source",
    "created_at",
    "updated_at",
    "status_changed_at",
    "joined_at",
)
_ACTIVE = SubscriberStatus.active.value
_CONSENT_COLUMNS = ("subscriber_id", "list_id", "at", "action", "method", "source", "actor")


def _insert_many(
    connection: Connection, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany straight to the driver, values already in the form the driver takes.

    SQLAlchemy's own executemany converts every value of every row through the column types;
    at hundreds of thousands of values that cost more than everything else together. The
    conversions that matter (dates, JSON) are done once per import instead: see :class:`_Run`.
    """
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    marks = _marks(connection, len(columns))
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows)


def _marks(connection: Connection, count: int) -> str:
    """``count`` positional placeholders in the driver's own style (SQLite ?, psycopg %s)."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def _log_and_join(
    run: _Run,
    connection: Connection,
    new_ids: list[tuple[int, int]],
    joining: list[tuple[int, int]],
) -> None:
    """Consent log lines for the new subscribers, memberships (and their log lines) for all."""
    now, list_id = run.now_db, run.mailing_list_id
    events = [_consent_line(run, subscriber_id, number, None) for subscriber_id, number in new_ids]
    if list_id is not None:
        members = [*new_ids, *joining]
        if members:
            _insert_many(
                connection,
                _membership,
                ("subscriber_id", "list_id", "subscribed_at"),
                [(subscriber_id, list_id, now) for subscriber_id, _number in members],
            )
            events.extend(
                _consent_line(run, subscriber_id, number, list_id)
                for subscriber_id, number in members
            )
    if events:
        _insert_many(connection, _consent, (*_CONSENT_COLUMNS, "detail"), events)


def _consent_line(
    run: _Run, subscriber_id: int, number: int, list_id: int | None
) -> tuple[Any, ...]:
    """One consent log line, in the order of ``_CONSENT_COLUMNS`` then ``detail``."""
    return (
        subscriber_id,
        list_id,
        run.now_db,
        ConsentAction.subscribed.value,
        "import",
        f"{run.source} row {number}"[:300],
        run.actor[:200],
        run.consent_origin,
    )
