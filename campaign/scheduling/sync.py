"""`schedule sync`: make the database match the calendar files.

Each entry of a calendar owns one row found by its ``schedule_key`` (``<file stem>/<key>``;
``<file stem>/<rule key>/<local time>`` for each post of a recurring rule): a newsletter, a post
or a recurring job. An entry for several accounts (``accounts = [...]``) owns one post per
account: the first keeps the entry's key, the others get ``<key>@<account>`` (see
:meth:`_Sync.account_keys`), so each account publishes, retries and fails on its own.

Syncing creates the rows that are missing, updates the ones still waiting
(``scheduled``, or ``missed``: a new time brings it back), and cancels the waiting rows whose
entry left the file. Rows that already went out or started to (sending, paused, sent,
publishing, published, failed) and rows cancelled by a person are never touched: the report says
so. Running it twice changes nothing the second time.

The jobs follow the rows: the process leading the scheduler arms a job for every scheduled row
within ``[scheduler] poll_interval`` seconds (see :mod:`campaign.scheduling.jobs`).

A file with errors is not synced at all (nothing of it is created, changed or cancelled), so a
typo cannot cancel entries the file still means to hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, select

from campaign.audience.lists import require_list
from campaign.config import Settings
from campaign.models import (
    Event,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    RecurringJob,
    RecurringStatus,
    utcnow,
)
from campaign.scheduling.calendar import (
    Calendar,
    NewsletterEntry,
    PostEntry,
    RecurringEntry,
    calendar_files,
)
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.selection import fill_slots, rule_slots
from campaign.social.media import keep_image, keep_images
from campaign.social.moving import edited_by_hand, over_problem, text_digest

Action = Literal["create", "update", "cancel", "unchanged", "kept", "skipped"]
Kind = Literal["newsletter", "post", "recurring"]

REMOVED = "removed from the calendar"
NO_EVENT = "no event left to announce at this time"
SYNC_REASONS = (REMOVED, NO_EVENT)
"""Reasons of cancellations made by a sync; only those are undone by a later sync."""

WAITING_NEWSLETTER = (NewsletterStatus.draft, NewsletterStatus.scheduled, NewsletterStatus.missed)
WAITING_POST = (PostStatus.draft, PostStatus.scheduled, PostStatus.missed)


@dataclass
class Change:
    """What a sync did (or, with ``--dry-run``, would do) to one row."""

    action: Action
    kind: Kind
    key: str
    at: datetime | None = None
    detail: str = ""


@dataclass
class SyncReport:
    calendars: list[Calendar] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False

    @property
    def refused(self) -> list[Calendar]:
        return [calendar for calendar in self.calendars if calendar.errors]

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def changed(self) -> bool:
        return any(change.action in ("create", "update", "cancel") for change in self.changes)


def _stem(schedule_key: str) -> str:
    return schedule_key.split("/", 1)[0]


def _differences(row: Any, values: Mapping[str, Any]) -> list[str]:
    return [name for name, value in values.items() if getattr(row, name) != value]


class _Sync:
    """One sync run over one session; collects the changes."""

    def __init__(
        self, session: Session, settings: Settings, now: datetime, *, dry_run: bool = False
    ) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.dry_run = dry_run
        self.cutoff = now - timedelta(seconds=settings.scheduler.misfire_grace)
        self.changes: list[Change] = []

    def note(
        self, action: Action, kind: Kind, key: str, at: datetime | None, detail: str = ""
    ) -> None:
        self.changes.append(Change(action, kind, key, at, detail))

    # --- newsletters ---------------------------------------------------------------------------

    def newsletter(
        self, calendar: Calendar, entry: NewsletterEntry, row: Newsletter | None
    ) -> None:
        key = calendar.schedule_key(entry.key)
        for image in entry.block_images:  # the blocks name them by their copy's name
            keep_image(image, self.settings.dashboard.media_dir, copy=not self.dry_run)
        list_ids: list[int] = []
        for name in entry.lists:
            list_id = require_list(self.session, name).id
            if list_id is not None and list_id not in list_ids:
                list_ids.append(list_id)
        values: dict[str, Any] = {
            "title": entry.title,
            "subject": entry.subject,
            "preheader": entry.preheader,
            "from_name": entry.from_name,
            "from_address": entry.from_address,
            "template": entry.template,
            "list_ids": list_ids,
            "segment": entry.segment,
            "event_rule": entry.event_rule,
            "content": entry.content,
            "blocks": entry.blocks,
            "anonymous_tracking": entry.anonymous_tracking,
            "when_no_events": entry.when_no_events,
            "no_events_text": entry.no_events_text,
            "scheduled_at": entry.at,
        }
        if row is None:
            if entry.at < self.cutoff:
                self.note("skipped", "newsletter", key, entry.at, "its time has passed")
                return
            row = Newsletter(
                **values,
                status=NewsletterStatus.scheduled,
                schedule_key=key,
                created_by=f"calendar:{calendar.path.name}",
            )
            self.session.add(row)
            self.note("create", "newsletter", key, entry.at)
            return
        self._update(
            "newsletter",
            row,
            values,
            entry.at,
            waiting=WAITING_NEWSLETTER,
            scheduled=NewsletterStatus.scheduled,
            cancelled=NewsletterStatus.cancelled,
            reason_field="status_reason",
        )

    # --- posts ---------------------------------------------------------------------------------

    def post(self, key: str, values: dict[str, Any], at: datetime, row: Post | None) -> None:
        if values.get("template") and values["event_ids"] and self._untrue(key, values, at, row):
            return
        if row is None:
            if at < self.cutoff:
                self.note("skipped", "post", key, at, "its time has passed")
                return
            self.session.add(Post(**values, status=PostStatus.scheduled, schedule_key=key))
            self.note("create", "post", key, at)
            return
        self._update(
            "post",
            row,
            values,
            at,
            waiting=WAITING_POST,
            scheduled=PostStatus.scheduled,
            cancelled=PostStatus.cancelled,
            reason_field="last_error",
        )

    def _untrue(self, key: str, values: dict[str, Any], at: datetime, row: Post | None) -> bool:
        """Whether a post generated from events must be left as it is, and why (noted): its
        events are over at its new time, or a person edited its text (see social.moving)."""
        moved = row is None or row.scheduled_at != at
        waiting = row is not None and self._waiting(row, WAITING_POST, "last_error")
        if row is not None and not waiting:
            return False  # gone out, or cancelled by a person: _update says so
        if moved:
            events = [self.session.get(Event, event_id) for event_id in values["event_ids"]]
            known = [event for event in events if event is not None]
            over = over_problem(known, at, self.settings)
            if over is not None:
                event, ends_at = over
                local = ends_at.astimezone(self.settings.zone)
                reason = (
                    f"event {event.source_id} ({event.title!r}) is over by then (it ends "
                    f"{local:%d/%m/%Y %H:%M})"
                )
                if row is None:
                    self.note("skipped", "post", key, at, reason)
                else:
                    self.note("kept", "post", key, row.scheduled_at, f"{reason}: it keeps its time")
                return True
        if row is not None and edited_by_hand(row) and _differences(row, values):
            self.note(
                "kept",
                "post",
                key,
                row.scheduled_at,
                "its text was edited by hand: the calendar's text and time are not applied "
                "(edit its text and time on the dashboard, or cancel it)",
            )
            return True
        return False

    def one_off_post(
        self, calendar: Calendar, entry: PostEntry, rows: Mapping[str, Post]
    ) -> set[str]:
        """The entry's post on each of its accounts; the keys it declares."""
        generated = bool(entry.template and entry.event_ids)
        # Stored as their copies in the media folder (the dashboard shows nothing else);
        # named after their content, so an unchanged image is an unchanged path.
        images = keep_images(entry.images, self.settings.dashboard.media_dir, copy=not self.dry_run)
        keys = self.account_keys(calendar.schedule_key(entry.key), entry.accounts, rows)
        for account, text, parts in entry.targets():
            values = {
                "account": account,
                "text": text,
                "parts": parts,
                "images": images,
                "event_ids": list(entry.event_ids),
                "scheduled_at": entry.at,
                # Generated from events (a replayed "events of the day" post): remembered, so
                # that a move writes it again for its new time.
                "template": entry.template if generated else "",
                "generated_digest": text_digest(text) if generated else "",
            }
            self.post(keys[account], values, entry.at, rows.get(keys[account]))
        return set(keys.values())

    def account_keys(
        self, plain: str, accounts: Sequence[str], rows: Mapping[str, Post]
    ) -> dict[str, str]:
        """The schedule key of each account's post of one entry (or one slot of a rule).

        The entry's own key (``plain``) stays with the account whose row has it, so a calendar
        synced before an entry named several accounts keeps its rows; the other accounts get
        ``<key>@<account>``. Found from the rows, never from the order of the list, so that
        reordering or adding an account never makes a second post for an account that has one.
        """
        keys: dict[str, str] = {}
        owner = rows.get(plain)
        if owner is not None and owner.account in accounts:
            keys[owner.account] = plain
        for account in accounts:
            if account not in keys and f"{plain}@{account}" in rows:
                keys[account] = f"{plain}@{account}"
        free = (
            owner is None
            or len(accounts) == 1  # a single account changed: as before several were allowed
            or (owner.account not in accounts and self._waiting(owner, WAITING_POST, "last_error"))
        )
        for account in accounts:
            if account in keys:
                continue
            if free and plain not in keys.values():
                keys[account] = plain
            else:
                keys[account] = f"{plain}@{account}"
        return keys

    def event_posts(
        self, calendar: Calendar, rule: RecurringEntry, rows: Mapping[str, Post]
    ) -> tuple[set[str], set[str]]:
        """Plan the rule's posts: the keys it declares (past slots included), and the keys of
        slots left without an event. A slot announces the same events on each account."""
        assert rule.account is not None
        accounts = rule.accounts or [rule.account]
        declared: set[str] = set()
        empty: set[str] = set()
        used: list[int] = []
        to_plan = []
        slot_keys: dict[str, dict[str, str]] = {}
        for slot in rule_slots(rule, calendar.stem, self.settings.zone):
            keys = slot_keys[slot.key] = self.account_keys(slot.key, accounts, rows)
            declared |= set(keys.values())
            mine = [(key, rows[key]) for key in keys.values() if key in rows]
            if slot.at < self.cutoff:
                used.extend(event_id for _, row in mine for event_id in row.event_ids)
                continue
            gone = [row for _, row in mine if not self._waiting(row, WAITING_POST, "last_error")]
            if gone:  # out (on one account at least): its events stay those it announced
                used.extend(event_id for _, row in mine for event_id in row.event_ids)
                for key, row in mine:
                    self.note("kept", "post", key, row.scheduled_at, _kept(row, gone))
                continue
            to_plan.append(slot)
        for slot in fill_slots(self.session, self.settings, rule, to_plan, used):
            keys = slot_keys[slot.key]
            if not slot.events:
                declared -= set(keys.values())
                empty |= set(keys.values())
                for key in keys.values():
                    if key not in rows:
                        self.note("skipped", "post", key, slot.at, "no event to announce")
                continue
            texts = {accounts[0]: (slot.text, slot.parts), **slot.others}
            for account, (text, parts) in texts.items():
                values = {
                    "account": account,
                    "text": text,
                    "parts": parts,
                    "images": [],
                    "event_ids": slot.event_ids,
                    "scheduled_at": slot.at,
                    "template": rule.template,
                    "generated_digest": text_digest(text),
                }
                self.post(keys[account], values, slot.at, rows.get(keys[account]))
        return declared, empty

    # --- recurring jobs ------------------------------------------------------------------------

    def recurring_job(
        self, calendar: Calendar, rule: RecurringEntry, row: RecurringJob | None
    ) -> None:
        key = calendar.schedule_key(rule.key)
        values: dict[str, Any] = {"kind": rule.kind, "spec": rule.spec()}
        if row is None:
            self.session.add(RecurringJob(schedule_key=key, **values))
            self.note("create", "recurring", key, None, rule.kind)
            return
        changed = _differences(row, values)
        if row.status != RecurringStatus.active:
            changed.append("status")
        if not changed:
            self.note("unchanged", "recurring", key, None)
            return
        for name, value in values.items():
            setattr(row, name, value)
        row.status = RecurringStatus.active
        row.updated_at = self.now
        self.session.add(row)
        self.note("update", "recurring", key, None, ", ".join(changed))

    # --- shared --------------------------------------------------------------------------------

    def _waiting(self, row: Any, waiting: Sequence[str], reason_field: str) -> bool:
        """Still ours to change: waiting to go out, or cancelled by an earlier sync."""
        if row.status in waiting:
            return True
        return row.status == "cancelled" and getattr(row, reason_field) in SYNC_REASONS

    def _update(
        self,
        kind: Kind,
        row: Any,
        values: Mapping[str, Any],
        at: datetime,
        *,
        waiting: Sequence[str],
        scheduled: str,
        cancelled: str,
        reason_field: str,
    ) -> None:
        key = row.schedule_key
        changed = _differences(row, values)
        if not self._waiting(row, waiting, reason_field):
            who = "by a person" if row.status == cancelled else ""
            if changed:
                self.note(
                    "kept",
                    kind,
                    key,
                    row.scheduled_at,
                    f"already {row.status}{' ' + who if who else ''}: the calendar's changes "
                    f"({', '.join(changed)}) are not applied",
                )
            else:
                self.note(
                    "kept", kind, key, row.scheduled_at, f"already {row.status} {who}".strip()
                )
            return
        status = row.status
        if row.status in (cancelled, "missed", "draft") and at >= self.cutoff:
            status = scheduled  # back in the calendar, or given a time still to come
        elif row.status == cancelled:
            self.note("skipped", kind, key, at, "back in the calendar, but its time has passed")
            return
        if not changed and status == row.status:
            self.note("unchanged", kind, key, at)
            return
        for name, value in values.items():
            setattr(row, name, value)
        detail = ", ".join(changed)
        if status != row.status:
            detail = f"{detail}; {row.status} → {status}" if detail else f"{row.status} → {status}"
            row.status = status
            setattr(row, reason_field, "")
        row.updated_at = self.now
        self.session.add(row)
        self.note("update", kind, key, at, detail)

    def cancel(
        self, kind: Kind, row: Any, reason: str, waiting: Sequence[str], reason_field: str
    ) -> None:
        if row.status in waiting:
            row.status = "cancelled"
            setattr(row, reason_field, reason)
            row.updated_at = self.now
            self.session.add(row)
            self.note("cancel", kind, row.schedule_key, row.scheduled_at, reason)


def _kept(row: Post, gone: Sequence[Post]) -> str:
    """Why a post of a slot already out (on one of its accounts at least) is left as it is."""
    if row in gone:
        return f"already {row.status}"
    other = gone[0]
    return f"its post on {other.account} is already {other.status}: the slot keeps its events"


def _rows(session: Session, model: Any, stems: set[str] | None) -> dict[str, Any]:
    """Rows with a schedule key, by key (``stems``: only those calendars; None: every one)."""
    statement = select(model).where(col(model.schedule_key).is_not(None))
    rows = {row.schedule_key: row for row in session.exec(statement)}
    if stems is None:
        return rows
    return {key: row for key, row in rows.items() if _stem(key) in stems}


def sync_calendars(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SyncReport:
    """Make the database match the calendar(s) at ``path`` (a file, or a folder of them).

    Given a folder, the folder is the whole truth: rows of a calendar file that is no longer
    there are cancelled too. Given one file, only that calendar's rows are looked at.
    The session is committed, or rolled back with ``dry_run``.
    """
    now = now or utcnow()
    files = calendar_files(path)
    calendars = [check_calendar(file, settings, session, now=now) for file in files]
    scope = {calendar.stem for calendar in calendars if not calendar.errors}
    if path.is_dir():
        file_stems = {file.stem for file in files}
        refused = {calendar.stem for calendar in calendars if calendar.errors}
        gone = {
            _stem(key)
            for model in (Newsletter, Post, RecurringJob)
            for key in _rows(session, model, None)
            if _stem(key) not in file_stems
        }
        scope |= gone - refused
    return apply_calendars(session, settings, calendars, scope, dry_run=dry_run, now=now)


def apply_calendars(
    session: Session,
    settings: Settings,
    calendars: Sequence[Calendar],
    scope: set[str],
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SyncReport:
    """Make the rows of the calendars named in ``scope`` match ``calendars`` (checked already;
    those with errors are left alone). Committed, or rolled back with ``dry_run``."""
    now = now or utcnow()
    report = SyncReport(calendars=list(calendars), dry_run=dry_run)
    accepted = [calendar for calendar in calendars if not calendar.errors]
    newsletters = _rows(session, Newsletter, scope)
    posts = _rows(session, Post, scope)
    recurring = _rows(session, RecurringJob, scope)
    run = _Sync(session, settings, now, dry_run=dry_run)
    declared: set[str] = set()
    empty: set[str] = set()
    for calendar in accepted:
        for entry in calendar.newsletters:
            key = calendar.schedule_key(entry.key)
            declared.add(key)
            run.newsletter(calendar, entry, newsletters.get(key))
        for one_off in calendar.posts:
            prefix = calendar.schedule_key(one_off.key)
            mine = {
                key: row
                for key, row in posts.items()
                if key == prefix or key.startswith(prefix + "@")
            }
            declared |= run.one_off_post(calendar, one_off, mine)
        for rule in calendar.recurring:
            if rule.kind == "event-posts":
                prefix = calendar.schedule_key(rule.key) + "/"
                mine = {key: row for key, row in posts.items() if key.startswith(prefix)}
                rule_declared, rule_empty = run.event_posts(calendar, rule, mine)
                declared |= rule_declared
                empty |= rule_empty
            else:
                key = calendar.schedule_key(rule.key)
                declared.add(key)
                run.recurring_job(calendar, rule, recurring.get(key))
    for key, newsletter in newsletters.items():
        if key not in declared:
            run.cancel("newsletter", newsletter, REMOVED, WAITING_NEWSLETTER, "status_reason")
    for key, post in posts.items():
        if key not in declared:
            reason = NO_EVENT if key in empty else REMOVED
            run.cancel("post", post, reason, WAITING_POST, "last_error")
    for key, job in recurring.items():
        if key not in declared and job.status == RecurringStatus.active:
            job.status = RecurringStatus.cancelled
            job.updated_at = now
            session.add(job)
            run.note("cancel", "recurring", key, None, REMOVED)
    report.changes = run.changes
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report
