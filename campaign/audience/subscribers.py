"""Subscribers: add, find, list, unsubscribe, export, and what RGPD asks for (show, erase).

Every change of status writes a line in the consent log, and nothing here silently turns someone
who unsubscribed, bounced or complained back into an active subscriber: their own confirmed
request may (the subscribe form of the tracking stage), or an administrator through
:func:`resubscribe`, which must be told that the person gave their consent again when they had
unsubscribed themselves, and forced for an address that bounced or complained.

The building blocks (finding a person, the consent log, joining a list, changing a status) are in
:mod:`.consent`, undoing an unsubscription in :mod:`.resubscribing`; their names are re-exported
here so that callers see one module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_
from sqlmodel import Session, col, select, update

from campaign.addresses import normalise_email
from campaign.audience.consent import (
    ADMIN_METHODS,
    PROFILE_FIELDS,
    PROFILE_LIMITS,
    change_status,
    clean_profile,
    find_subscriber,
    join_list,
    log_consent,
    require_subscriber,
)
from campaign.audience.lists import get_or_create_list, require_list
from campaign.audience.resubscribing import (
    CONSENT_NEEDED,
    FORCE_NEEDED,
    ResubscribeRefused,
    Resubscription,
    membership_of,
    resubscribe,
    resubscription,
)
from campaign.cells import csv_writer, protect_xlsx_cell
from campaign.errors import CampaignError
from campaign.files import open_private
from campaign.models import (
    SUPPRESSED,
    Bounce,
    ConsentAction,
    ConsentEvent,
    Delivery,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
    SubscriberStatus,
    utcnow,
)

_Statement = TypeVar("_Statement", bound=Select[Any])  # a SELECT over subscribers

__all__ = [
    "ADMIN_METHODS",
    "CONSENT_NEEDED",
    "EXPORT_COLUMNS",
    "FORCE_NEEDED",
    "PROFILE_FIELDS",
    "PROFILE_LIMITS",
    "ResubscribeRefused",
    "Resubscription",
    "add_subscriber",
    "change_status",
    "clean_profile",
    "describe_subscriber",
    "erase_subscriber",
    "export_subscribers",
    "find_subscriber",
    "iter_subscribers",
    "join_list",
    "log_consent",
    "matching_text",
    "membership_of",
    "require_subscriber",
    "resubscribe",
    "resubscription",
    "subscriber_json",
    "unsubscribe",
    "update_profile",
]

EXPORT_COLUMNS = (
    "email",
    *PROFILE_FIELDS,
    "status",
    "lists",
    "source",
    "created_at",
    "updated_at",
)


def add_subscriber(
    session: Session,
    email: str,
    *,
    list_names: Iterable[str] = (),
    profile: dict[str, str] | None = None,
    status: SubscriberStatus = SubscriberStatus.active,
    actor: str,
    method: str = "manual",
    source: str = "",
) -> tuple[Subscriber, str]:
    """Add or update one person. Returns the subscriber and "added", "updated" or "unchanged"."""
    address = normalise_email(email)
    profile = clean_profile(profile or {})
    subscriber = session.exec(select(Subscriber).where(Subscriber.email == address)).first()
    outcome = "unchanged"
    if subscriber is None:
        subscriber = Subscriber(email=address, status=status, source=source or method)
        for key, value in profile.items():  # known fields only (clean_profile)
            setattr(subscriber, key, value)
        session.add(subscriber)
        session.flush()
        log_consent(
            session, subscriber, ConsentAction.subscribed, method=method, actor=actor, source=source
        )
        outcome = "added"
    else:
        changed = {k: v for k, v in profile.items() if v and getattr(subscriber, k) != v}
        for key, value in changed.items():
            setattr(subscriber, key, value)
        if changed:
            subscriber.updated_at = utcnow()
            outcome = "updated"
    for name in list_names:
        mailing_list = get_or_create_list(session, name)
        if join_list(session, subscriber, mailing_list, method=method, actor=actor, source=source):
            outcome = "updated" if outcome == "unchanged" else outcome
    session.flush()
    return subscriber, outcome


def unsubscribe(
    session: Session,
    email: str,
    *,
    actor: str,
    method: str = "manual",
    list_name: str | None = None,
    source: str = "",
) -> bool:
    """Unsubscribe from everything, or only from one list. True if anything changed."""
    subscriber = require_subscriber(session, email)
    if list_name is None:
        return change_status(
            session,
            subscriber,
            SubscriberStatus.unsubscribed,
            ConsentAction.unsubscribed,
            method=method,
            actor=actor,
            source=source,
        )
    mailing_list = require_list(session, list_name)
    membership = session.exec(
        select(Membership).where(
            Membership.subscriber_id == subscriber.id, Membership.list_id == mailing_list.id
        )
    ).first()
    if membership is None or membership.unsubscribed_at is not None:
        return False
    membership.unsubscribed_at = utcnow()
    log_consent(
        session,
        subscriber,
        ConsentAction.unsubscribed,
        method=method,
        actor=actor,
        source=source,
        mailing_list=mailing_list,
    )
    return True


def update_profile(
    session: Session,
    subscriber: Subscriber,
    profile: Mapping[str, str | None],
    *,
    actor: str,
    method: str = "manual",
) -> dict[str, tuple[str, str]]:
    """Set the given fields (an empty text empties a field; the address is not a field: a new
    address is a new person with their own consent). Logs one ``updated`` line naming the
    changes; returns them as ``{field: (before, after)}``."""
    if "email" in profile:
        raise CampaignError(
            "The address cannot be changed: add the new address as a new person (with their "
            "consent) and unsubscribe or erase the old one."
        )
    cleaned = clean_profile(profile)
    changes = {
        key: (getattr(subscriber, key), value)
        for key, value in cleaned.items()
        if getattr(subscriber, key) != value
    }
    if not changes:
        return changes
    for key, (_before, after) in changes.items():
        setattr(subscriber, key, after)
    subscriber.updated_at = utcnow()
    session.add(subscriber)
    log_consent(
        session,
        subscriber,
        ConsentAction.updated,
        method=method,
        actor=actor,
        detail="; ".join(
            f"{key}: {before!r} → {after!r}" for key, (before, after) in changes.items()
        ),
    )
    session.flush()
    return changes


def _list_names(session: Session, subscriber_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for start in range(0, len(subscriber_ids), 900):  # stay under SQLite's parameter limit
        chunk = subscriber_ids[start : start + 900]
        rows = session.exec(
            select(Membership.subscriber_id, MailingList.name)
            .join(MailingList, col(MailingList.id) == col(Membership.list_id))
            .where(
                col(Membership.subscriber_id).in_(chunk), col(Membership.unsubscribed_at).is_(None)
            )
            .order_by(col(MailingList.name))
        )
        for subscriber_id, name in rows:
            names.setdefault(subscriber_id, []).append(name)
    return names


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def subscriber_json(subscriber: Subscriber, lists: list[str]) -> dict[str, Any]:
    """The stable JSON shape of a subscriber (``subscribers list --json``)."""
    return {
        "email": subscriber.email,
        **{key: getattr(subscriber, key) for key in PROFILE_FIELDS},
        "status": subscriber.status,
        "lists": lists,
        "attributes": subscriber.attributes,
        "source": subscriber.source,
        "created_at": _iso(subscriber.created_at),
        "updated_at": _iso(subscriber.updated_at),
        # When they joined, as an imported file said; null: when created (created_at).
        "joined_at": _iso(subscriber.joined_at),
    }


def matching_text(statement: _Statement, text: str) -> _Statement:
    """``statement`` narrowed to people whose address, names or organisation contain ``text``
    (case-insensitively): the dashboard's search, and the export of what it found."""
    if not text.strip():
        return statement
    pattern = f"%{text.strip().lower()}%"
    return statement.where(
        or_(
            col(Subscriber.email).like(pattern),
            func.lower(col(Subscriber.first_name)).like(pattern),
            func.lower(col(Subscriber.last_name)).like(pattern),
            func.lower(col(Subscriber.organisation)).like(pattern),
        )
    )


def iter_subscribers(
    session: Session,
    *,
    status: SubscriberStatus | str | None = None,
    list_name: str | None = None,
    region: str | None = None,
    text: str = "",
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Subscribers as JSON-ready dicts, oldest first, read in batches (exports of any size)."""
    query = (
        select(Subscriber).where(col(Subscriber.erased_at).is_(None)).order_by(col(Subscriber.id))
    )
    if status:
        query = query.where(Subscriber.status == status)
    if region:
        query = query.where(Subscriber.region == region)
    query = matching_text(query, text)
    if list_name is not None:
        mailing_list = require_list(session, list_name)
        query = query.join(Membership, col(Membership.subscriber_id) == col(Subscriber.id)).where(
            col(Membership.list_id) == mailing_list.id, col(Membership.unsubscribed_at).is_(None)
        )
    last_id = 0
    while True:
        page = session.exec(query.where(col(Subscriber.id) > last_id).limit(batch)).all()
        if not page:
            return
        ids = [s.id for s in page if s.id is not None]  # saved rows: never None
        names = _list_names(session, ids)
        for subscriber in page:
            yield subscriber_json(subscriber, names.get(subscriber.id or 0, []))
        last_id = ids[-1]


def export_subscribers(
    session: Session,
    path: Path,
    *,
    status: SubscriberStatus | str | None = None,
    list_name: str | None = None,
    region: str | None = None,
    text: str = "",
    delimiter: str = ";",
) -> int:
    """Write a CSV that French Excel opens as it is (UTF-8 with BOM, ';'), or an XLSX workbook
    when ``path`` ends in ``.xlsx``. Returns the rows.

    The file is owner-only, and text that Excel would run as a formula (a first name typed in
    the public form as ``=HYPERLINK(…)``) starts with ``'`` in a CSV and is a text cell in a
    workbook (:mod:`campaign.cells`).
    """
    rows = iter_subscribers(session, status=status, list_name=list_name, region=region, text=text)
    if Path(path).suffix.lower() == ".xlsx":
        return _export_xlsx(rows, Path(path))
    count = 0
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv_writer(handle, delimiter=delimiter)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(_export_cells(row))
            count += 1
    return count


def _export_cells(row: dict[str, Any]) -> list[Any]:
    row = {**row, "lists": ", ".join(row["lists"])}
    return [row[column] or "" for column in EXPORT_COLUMNS]


def _export_xlsx(rows: Iterator[dict[str, Any]], path: Path) -> int:
    """The same columns as the CSV in a workbook written row by row (memory stays flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Abonnés")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        cells = []
        for value in _export_cells(row):
            cell = WriteOnlyCell(sheet, value=value)
            protect_xlsx_cell(cell)
            cells.append(cell)
        sheet.append(cells)
        count += 1
    with open_private(path, "wb") as handle:
        workbook.save(handle)
    return count


def describe_subscriber(session: Session, email: str) -> dict[str, Any]:
    """Everything held about one person (RGPD right of access)."""
    subscriber = require_subscriber(session, email)
    memberships = session.exec(
        select(Membership, MailingList)
        .join(MailingList, col(MailingList.id) == col(Membership.list_id))
        .where(Membership.subscriber_id == subscriber.id)
        .order_by(col(MailingList.name))
    ).all()
    consent = session.exec(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(col(ConsentEvent.at), col(ConsentEvent.id))
    ).all()
    deliveries = session.exec(
        select(Delivery, Newsletter)
        .join(Newsletter, col(Newsletter.id) == col(Delivery.newsletter_id))
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(col(Delivery.created_at), col(Delivery.id))
    ).all()
    # Every list a line names, the ones the person is no longer a member of included.
    event_lists = {event.list_id for event in consent if event.list_id is not None}
    list_names = (
        dict(
            session.exec(
                select(MailingList.id, MailingList.name).where(col(MailingList.id).in_(event_lists))
            ).all()
        )
        if event_lists
        else {}
    )
    current = [ml.name for m, ml in memberships if m.unsubscribed_at is None]
    return {
        **subscriber_json(subscriber, current),
        "status_changed_at": _iso(subscriber.status_changed_at),
        "memberships": [
            {
                "list": ml.name,
                "subscribed_at": _iso(m.subscribed_at),
                "unsubscribed_at": _iso(m.unsubscribed_at),
            }
            for m, ml in memberships
        ],
        "consent_log": [
            {
                "at": _iso(event.at),
                "action": event.action,
                "method": event.method,
                "source": event.source,
                "actor": event.actor,
                "list": list_names.get(event.list_id) if event.list_id else None,
                "detail": event.detail,
            }
            for event in consent
        ],
        "deliveries": [
            {
                "newsletter": newsletter.title,
                "newsletter_id": newsletter.id,
                "address": delivery.email,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "last_reply": delivery.last_reply,
                "sent_at": _iso(delivery.sent_at),
            }
            for delivery, newsletter in deliveries
        ],
    }


def erase_subscriber(session: Session, email: str, *, actor: str) -> None:
    """Delete a person's personal data (RGPD right to erasure) and keep the anonymous counts.

    The row stays, stripped of every personal field, so that list sizes over time, per-region
    counts and past newsletter figures do not change; it no longer counts as a member of any
    list and can never be mailed (it has no address). Its consent log keeps the dates and
    actions (no personal data) and ends with an "erased" line; its deliveries keep their status
    but lose the address and the server's reply (which often quotes the address).
    """
    subscriber = require_subscriber(session, email)
    address = subscriber.email
    subscriber.email = None
    subscriber.first_name = subscriber.last_name = subscriber.organisation = ""
    subscriber.postcode = ""
    subscriber.attributes = {}
    if subscriber.status not in SUPPRESSED:
        subscriber.status = SubscriberStatus.unsubscribed
        subscriber.status_changed_at = utcnow()
    subscriber.erased_at = subscriber.updated_at = utcnow()
    for event in session.exec(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
    ):
        event.detail = ""
    # Deliveries keep their status (the newsletter's figures) but not the address.
    session.exec(
        update(Delivery)
        .where(col(Delivery.subscriber_id) == subscriber.id)
        .values(email="", last_reply="")
    )
    # Bounce and complaint notices about them keep their kind and date, not the address.
    session.exec(
        update(Bounce)
        .where(or_(col(Bounce.subscriber_id) == subscriber.id, col(Bounce.email) == address))
        .values(email="", diagnostic="")
    )
    log_consent(session, subscriber, ConsentAction.erased, method="manual", actor=actor)
    session.flush()
