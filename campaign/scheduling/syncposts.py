"""`schedule sync` for posts: one-off entries and the slots of "events of the day" rules.

An entry for several accounts owns one post per account: the first keeps the entry's key, the
others get ``<key>@<account>`` (see :func:`account_keys`), so each account publishes, retries
and fails on its own.

What a sync may change is asked of the post rule (:mod:`campaign.social.allowed`), the one
every door asks; see :data:`POSTS` for where a sync differs from a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from campaign.models import Event, Post, PostStatus
from campaign.scheduling.calendar import Calendar, PostEntry, RecurringEntry
from campaign.scheduling.selection import Slot, fill_slots, rule_slots
from campaign.scheduling.syncrun import RowRule, SyncRun, differences
from campaign.social import allowed
from campaign.social.media import keep_images
from campaign.social.moving import edited_by_hand, over_problem, text_digest

WAITING_POST = tuple(
    status for status in allowed.ALLOWED[allowed.EDIT] if status != PostStatus.failed
)
"""The statuses of the posts a sync may still change: those a person may edit, but a failed one.

A failed post is left to a person (publish it again, or cancel it): a sync reports it "already
failed" rather than scheduling it again behind their back.
"""


def _refusal(post: Post, changed: Sequence[str]) -> str:
    """Why a waiting post may not be given the calendar's ``changed`` fields ("" if it may).

    Asked of the post rule like any door: a new time alone is a *move* (a thread that stopped
    half-way resumes at it), anything else an *edit* (refused once a part went out, so that a
    thread partly published never gets a text its published parts do not match). One
    difference: a post cancelled by an earlier sync is the calendar's again (the rule, which
    knows nothing of who cancelled it, refuses both).
    """
    if post.status == PostStatus.cancelled:
        return ""
    action = allowed.MOVE if list(changed) == ["scheduled_at"] else allowed.EDIT
    if allowed.may(post, action) is None:
        return ""
    return f"partly published ({post.status})"


POSTS = RowRule(
    "post",
    WAITING_POST,
    scheduled=PostStatus.scheduled,
    cancelled=PostStatus.cancelled,
    reason_field="last_error",
    refusal=_refusal,
)


def sync_post(
    run: SyncRun, key: str, values: dict[str, Any], at: datetime, row: Post | None
) -> None:
    """Create, update or keep the post of ``key`` (``values``: its fields from the calendar)."""
    if values.get("template") and values["event_ids"] and _untrue(run, key, values, at, row):
        return
    if row is None:
        if at < run.cutoff:
            run.note("skipped", "post", key, at, "its time has passed")
            return
        run.session.add(Post(**values, status=PostStatus.scheduled, schedule_key=key))
        run.note("create", "post", key, at)
        return
    run.update(row, values, at, POSTS)


def _untrue(run: SyncRun, key: str, values: dict[str, Any], at: datetime, row: Post | None) -> bool:
    """Whether a post generated from events must be left as it is, and why (noted): its
    events are over at its new time, or a person edited its text (see social.moving)."""
    if row is not None and not run.waiting(row, POSTS):
        return False  # gone out, or cancelled by a person: update says so
    if (row is None or row.scheduled_at != at) and _over(run, key, values, at, row):
        return True
    if row is not None and edited_by_hand(row) and differences(row, values):
        run.note(
            "kept",
            "post",
            key,
            row.scheduled_at,
            "its text was edited by hand: the calendar's text and time are not applied "
            "(edit its text and time on the dashboard, or cancel it)",
        )
        return True
    return False


def _over(run: SyncRun, key: str, values: dict[str, Any], at: datetime, row: Post | None) -> bool:
    """Whether the events of a moved post are over at its new time ``at`` (noted if so)."""
    events = [run.session.get(Event, event_id) for event_id in values["event_ids"]]
    known = [event for event in events if event is not None]
    over = over_problem(known, at, run.settings)
    if over is None:
        return False
    event, ends_at = over
    local = ends_at.astimezone(run.settings.zone)
    reason = (
        f"event {event.source_id} ({event.title!r}) is over by then (it ends "
        f"{local:%d/%m/%Y %H:%M})"
    )
    if row is None:
        run.note("skipped", "post", key, at, reason)
    else:
        run.note("kept", "post", key, row.scheduled_at, f"{reason}: it keeps its time")
    return True


def one_off_post(
    run: SyncRun, calendar: Calendar, entry: PostEntry, rows: Mapping[str, Post]
) -> set[str]:
    """The entry's post on each of its accounts; the keys it declares."""
    generated = bool(entry.template and entry.event_ids)
    # Stored as their copies in the media folder (the dashboard shows nothing else);
    # named after their content, so an unchanged image is an unchanged path.
    images = keep_images(entry.images, run.settings.dashboard.media_dir, copy=not run.dry_run)
    keys = account_keys(run, calendar.schedule_key(entry.key), entry.accounts, rows)
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
        sync_post(run, keys[account], values, entry.at, rows.get(keys[account]))
    return set(keys.values())


def account_keys(
    run: SyncRun, plain: str, accounts: Sequence[str], rows: Mapping[str, Post]
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
        or (owner.account not in accounts and run.waiting(owner, POSTS))
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
    run: SyncRun, calendar: Calendar, rule: RecurringEntry, rows: Mapping[str, Post]
) -> tuple[set[str], set[str]]:
    """Plan the rule's posts: the keys it declares (past slots included), and the keys of
    slots left without an event. A slot announces the same events on each account."""
    assert rule.account is not None
    accounts = rule.accounts or [rule.account]
    used: list[int] = []
    to_plan = []
    slot_keys: dict[str, dict[str, str]] = {}
    for slot in rule_slots(rule, calendar.stem, run.settings.zone):
        keys = slot_keys[slot.key] = account_keys(run, slot.key, accounts, rows)
        if _settled(run, slot, keys, rows, used):
            continue
        to_plan.append(slot)
    declared = {key for keys in slot_keys.values() for key in keys.values()}
    empty: set[str] = set()
    for slot in fill_slots(run.session, run.settings, rule, to_plan, used):
        keys = slot_keys[slot.key]
        if not slot.events:
            declared -= set(keys.values())
            empty |= set(keys.values())
            for key in keys.values():
                if key not in rows:
                    run.note("skipped", "post", key, slot.at, "no event to announce")
            continue
        _slot_posts(run, rule, slot, accounts, keys, rows)
    return declared, empty


def _settled(
    run: SyncRun, slot: Slot, keys: Mapping[str, str], rows: Mapping[str, Post], used: list[int]
) -> bool:
    """Whether a slot is left as it is: its time has passed, or it went out on one account at
    least (noted). Its events then stay those it announced (added to ``used``)."""
    mine = [(key, rows[key]) for key in keys.values() if key in rows]
    if slot.at < run.cutoff:
        used.extend(event_id for _, row in mine for event_id in row.event_ids)
        return True
    gone = [row for _, row in mine if not run.waiting(row, POSTS)]
    if not gone:
        return False
    used.extend(event_id for _, row in mine for event_id in row.event_ids)
    for key, row in mine:
        run.note("kept", "post", key, row.scheduled_at, _kept(row, gone))
    return True


def _slot_posts(
    run: SyncRun,
    rule: RecurringEntry,
    slot: Slot,
    accounts: Sequence[str],
    keys: Mapping[str, str],
    rows: Mapping[str, Post],
) -> None:
    """The posts of one planned slot, one per account, announcing its events."""
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
        sync_post(run, keys[account], values, slot.at, rows.get(keys[account]))


def _kept(row: Post, gone: Sequence[Post]) -> str:
    """Why a post of a slot already out (on one of its accounts at least) is left as it is."""
    if row in gone:
        return f"already {row.status}"
    other = gone[0]
    return f"its post on {other.account} is already {other.status}: the slot keeps its events"
