"""`schedule sync`: make the database match the calendar files.

Each entry of a calendar owns one row found by its ``schedule_key`` (``<file stem>/<key>``;
``<file stem>/<rule key>/<local time>`` for each post of a recurring rule): a newsletter, a post
or a recurring job. An entry for several accounts (``accounts = [...]``) owns one post per
account: the first keeps the entry's key, the others get ``<key>@<account>`` (see
:func:`.syncposts.account_keys`), so each account publishes, retries and fails on its own.

Syncing creates the rows that are missing, updates the ones still waiting
(``scheduled``, or ``missed``: a new time brings it back), and cancels the waiting rows whose
entry left the file. Rows that already went out or started to (sending, paused, sent,
publishing, published, failed) and rows cancelled by a person are never touched: the summary says
so. Which rows are still waiting is asked of each kind's rule (:mod:`campaign.newsletters.allowed`,
:mod:`campaign.social.allowed`; see :data:`WAITING_NEWSLETTER` and :mod:`.syncposts` for where a
sync differs from a person): a thread partly published never takes the calendar's text. Running
it twice changes nothing the second time.

The steps shared by every kind live in :mod:`.syncrun`, the posts' in :mod:`.syncposts`.

The jobs follow the rows: the process leading the scheduler arms a job for every scheduled row
within ``[scheduler] poll_interval`` seconds (see :mod:`campaign.scheduling.jobs`).

A file with errors is not synced at all (nothing of it is created, changed or cancelled), so a
typo cannot cancel entries the file still means to hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from campaign.audience.lists import require_list
from campaign.config import Settings
from campaign.models import (
    Newsletter,
    NewsletterStatus,
    Post,
    RecurringJob,
    RecurringStatus,
    utcnow,
)
from campaign.newsletters import allowed as newsletter_allowed
from campaign.scheduling.calendar import (
    Calendar,
    NewsletterEntry,
    RecurringEntry,
    calendar_files,
)
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.syncposts import POSTS, WAITING_POST, event_posts, one_off_post
from campaign.scheduling.syncrun import (
    NO_EVENT,
    REMOVED,
    SYNC_REASONS,
    Action,
    Change,
    Kind,
    RowRule,
    SyncRun,
    SyncSummary,
    differences,
    stem,
)
from campaign.social.media import keep_image

__all__ = [
    "NO_EVENT",
    "REMOVED",
    "SYNC_REASONS",
    "WAITING_NEWSLETTER",
    "WAITING_POST",
    "Action",
    "Change",
    "Kind",
    "SyncSummary",
    "apply_calendars",
    "sync_calendars",
]

WAITING_NEWSLETTER = newsletter_allowed.ALLOWED[newsletter_allowed.MOVE]
"""The statuses of the newsletters a sync may still change: those that may be given a time.

Asked of the newsletter rule (:mod:`campaign.newsletters.allowed`), with one difference: a sync
moves an entry's content along with its time, so a missed newsletter (which a person may move
but not edit) takes the calendar's text too, while a paused one (which a person may edit) has
started going out and is left alone.
"""

NEWSLETTERS = RowRule(
    "newsletter",
    WAITING_NEWSLETTER,
    scheduled=NewsletterStatus.scheduled,
    cancelled=NewsletterStatus.cancelled,
    reason_field="status_reason",
)


def _newsletter_values(run: SyncRun, entry: NewsletterEntry) -> dict[str, Any]:
    """The fields of an entry's newsletter, its lists found by name (their images kept)."""
    for image in entry.block_images:  # the blocks name them by their copy's name
        keep_image(image, run.settings.dashboard.media_dir, copy=not run.dry_run)
    list_ids: list[int] = []
    for name in entry.lists:
        list_id = require_list(run.session, name).id
        if list_id is not None and list_id not in list_ids:
            list_ids.append(list_id)
    return {
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


def _newsletter(
    run: SyncRun, calendar: Calendar, entry: NewsletterEntry, row: Newsletter | None
) -> None:
    key = calendar.schedule_key(entry.key)
    values = _newsletter_values(run, entry)
    if row is not None:
        run.update(row, values, entry.at, NEWSLETTERS)
        return
    if entry.at < run.cutoff:
        run.note("skipped", "newsletter", key, entry.at, "its time has passed")
        return
    row = Newsletter(
        **values,
        status=NewsletterStatus.scheduled,
        schedule_key=key,
        created_by=f"calendar:{calendar.path.name}",
    )
    run.session.add(row)
    run.note("create", "newsletter", key, entry.at)


def _recurring_job(
    run: SyncRun, calendar: Calendar, rule: RecurringEntry, row: RecurringJob | None
) -> None:
    key = calendar.schedule_key(rule.key)
    values: dict[str, Any] = {"kind": rule.kind, "spec": rule.spec()}
    if row is None:
        run.session.add(RecurringJob(schedule_key=key, **values))
        run.note("create", "recurring", key, None, rule.kind)
        return
    changed = differences(row, values)
    if row.status != RecurringStatus.active:
        changed.append("status")
    if not changed:
        run.note("unchanged", "recurring", key, None)
        return
    for name, value in values.items():
        setattr(row, name, value)
    row.status = RecurringStatus.active
    row.updated_at = run.now
    run.session.add(row)
    run.note("update", "recurring", key, None, ", ".join(changed))


def _rows(session: Session, model: Any, stems: set[str] | None) -> dict[str, Any]:
    """Rows with a schedule key, by key (``stems``: only those calendars; None: every one)."""
    statement = select(model).where(col(model.schedule_key).is_not(None))
    rows = {row.schedule_key: row for row in session.exec(statement)}
    if stems is None:
        return rows
    return {key: row for key, row in rows.items() if stem(key) in stems}


@dataclass
class _Rows:
    """The rows of the calendars in scope, by schedule key, and what the calendars declare."""

    newsletters: dict[str, Newsletter]
    posts: dict[str, Post]
    recurring: dict[str, RecurringJob]
    declared: set[str] = field(default_factory=set)
    empty: set[str] = field(default_factory=set)  # slots left without an event

    def posts_of(self, prefix: str, *, own: bool = False) -> dict[str, Post]:
        """The posts under ``prefix`` (``own``: the key itself or its ``@<account>`` twins)."""
        if own:
            return {
                key: row
                for key, row in self.posts.items()
                if key == prefix or key.startswith(prefix + "@")
            }
        return {key: row for key, row in self.posts.items() if key.startswith(prefix)}


def _apply_calendar(run: SyncRun, calendar: Calendar, rows: _Rows) -> None:
    """Create or update the rows of one calendar's entries; note the keys it declares."""
    for entry in calendar.newsletters:
        key = calendar.schedule_key(entry.key)
        rows.declared.add(key)
        _newsletter(run, calendar, entry, rows.newsletters.get(key))
    for one_off in calendar.posts:
        mine = rows.posts_of(calendar.schedule_key(one_off.key), own=True)
        rows.declared |= one_off_post(run, calendar, one_off, mine)
    for rule in calendar.recurring:
        if rule.kind == "event-posts":
            mine = rows.posts_of(calendar.schedule_key(rule.key) + "/")
            rule_declared, rule_empty = event_posts(run, calendar, rule, mine)
            rows.declared |= rule_declared
            rows.empty |= rule_empty
        else:
            key = calendar.schedule_key(rule.key)
            rows.declared.add(key)
            _recurring_job(run, calendar, rule, rows.recurring.get(key))


def _cancel_undeclared(run: SyncRun, rows: _Rows) -> None:
    """Cancel the waiting rows no calendar declares any more."""
    for key, newsletter in rows.newsletters.items():
        if key not in rows.declared:
            run.cancel(newsletter, REMOVED, NEWSLETTERS)
    for key, post in rows.posts.items():
        if key not in rows.declared:
            run.cancel(post, NO_EVENT if key in rows.empty else REMOVED, POSTS)
    for key, job in rows.recurring.items():
        if key not in rows.declared and job.status == RecurringStatus.active:
            job.status = RecurringStatus.cancelled
            job.updated_at = run.now
            run.session.add(job)
            run.note("cancel", "recurring", key, None, REMOVED)


def sync_calendars(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SyncSummary:
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
            stem(key)
            for model in (Newsletter, Post, RecurringJob)
            for key in _rows(session, model, None)
            if stem(key) not in file_stems
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
) -> SyncSummary:
    """Make the rows of the calendars named in ``scope`` match ``calendars`` (checked already;
    those with errors are left alone). Committed, or rolled back with ``dry_run``."""
    now = now or utcnow()
    rows = _Rows(
        _rows(session, Newsletter, scope),
        _rows(session, Post, scope),
        _rows(session, RecurringJob, scope),
    )
    run = SyncRun(session, settings, now, dry_run=dry_run)
    for calendar in calendars:
        if not calendar.errors:
            _apply_calendar(run, calendar, rows)
    _cancel_undeclared(run, rows)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return SyncSummary(calendars=list(calendars), changes=run.changes, dry_run=dry_run)
