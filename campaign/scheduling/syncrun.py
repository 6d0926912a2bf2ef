"""One `schedule sync` run: what it did (:class:`Change`, :class:`SyncSummary`) and the steps
shared by every kind of row (update what is still the calendar's, keep the rest, cancel).

Which rows are still the calendar's to change is asked of each kind's rule (a :class:`RowRule`,
built in :mod:`.sync` for newsletters and :mod:`.syncposts` for posts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session

from campaign.config import Settings
from campaign.scheduling.calendar import Calendar

Action = Literal["create", "update", "cancel", "unchanged", "kept", "skipped"]
Kind = Literal["newsletter", "post", "recurring"]

REMOVED = "removed from the calendar"
NO_EVENT = "no event left to announce at this time"
SYNC_REASONS = (REMOVED, NO_EVENT)
"""Reasons of cancellations made by a sync; only those are undone by a later sync."""


@dataclass
class Change:
    """What a sync did (or, with ``--dry-run``, would do) to one row."""

    action: Action
    kind: Kind
    key: str
    at: datetime | None = None
    detail: str = ""


@dataclass
class SyncSummary:
    """What one sync did: the calendars it read (refused ones included) and each row's change."""

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


def stem(schedule_key: str) -> str:
    """The calendar file a schedule key belongs to (``<file stem>/…``)."""
    return schedule_key.split("/", 1)[0]


def differences(row: Any, values: Mapping[str, Any]) -> list[str]:
    """The names of ``values`` that ``row`` holds otherwise."""
    return [name for name, value in values.items() if getattr(row, name) != value]


@dataclass(frozen=True)
class RowRule:
    """What a sync may do to the rows of one kind, and where their statuses live.

    ``waiting``: the statuses a sync may change (update, or cancel when the entry left the file);
    a row cancelled by an earlier sync (its ``reason_field`` one of :data:`SYNC_REASONS`) is the
    calendar's too. ``refusal``, when given, is asked before changes are applied to such a row
    (``changed``: the names of the fields that differ) and says why not, or "" to go ahead.
    """

    kind: Kind
    waiting: tuple[str, ...]
    scheduled: str
    cancelled: str
    reason_field: str
    refusal: Callable[[Any, Sequence[str]], str] | None = None


class SyncRun:
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

    def waiting(self, row: Any, rule: RowRule) -> bool:
        """Still ours to change: waiting to go out, or cancelled by an earlier sync."""
        if row.status in rule.waiting:
            return True
        return row.status == "cancelled" and getattr(row, rule.reason_field) in SYNC_REASONS

    def update(self, row: Any, values: Mapping[str, Any], at: datetime, rule: RowRule) -> None:
        """Apply an entry's ``values`` (its time ``at``) to its row, when still ours; else say
        why it is kept."""
        changed = differences(row, values)
        if not self.waiting(row, rule):
            self._keep(row, changed, rule)
            return
        refused = rule.refusal(row, changed) if rule.refusal and changed else ""
        if refused:
            self.note(
                "kept",
                rule.kind,
                row.schedule_key,
                row.scheduled_at,
                f"{refused}: the calendar's changes ({', '.join(changed)}) are not applied",
            )
            return
        status = row.status
        if row.status in (rule.cancelled, "missed", "draft") and at >= self.cutoff:
            status = rule.scheduled  # back in the calendar, or given a time still to come
        elif row.status == rule.cancelled:
            self.note(
                "skipped",
                rule.kind,
                row.schedule_key,
                at,
                "back in the calendar, but its time has passed",
            )
            return
        if not changed and status == row.status:
            self.note("unchanged", rule.kind, row.schedule_key, at)
            return
        self._apply(row, values, changed, status, at, rule)

    def _keep(self, row: Any, changed: Sequence[str], rule: RowRule) -> None:
        """Note a row no longer ours (gone out, or cancelled by a person) as kept."""
        who = "by a person" if row.status == rule.cancelled else ""
        if changed:
            detail = (
                f"already {row.status}{' ' + who if who else ''}: the calendar's changes "
                f"({', '.join(changed)}) are not applied"
            )
        else:
            detail = f"already {row.status} {who}".strip()
        self.note("kept", rule.kind, row.schedule_key, row.scheduled_at, detail)

    def _apply(
        self,
        row: Any,
        values: Mapping[str, Any],
        changed: Sequence[str],
        status: str,
        at: datetime,
        rule: RowRule,
    ) -> None:
        for name, value in values.items():
            setattr(row, name, value)
        detail = ", ".join(changed)
        if status != row.status:
            detail = f"{detail}; {row.status} → {status}" if detail else f"{row.status} → {status}"
            row.status = status
            setattr(row, rule.reason_field, "")
        row.updated_at = self.now
        self.session.add(row)
        self.note("update", rule.kind, row.schedule_key, at, detail)

    def cancel(self, row: Any, reason: str, rule: RowRule) -> None:
        """Cancel a waiting row whose entry left the calendar (``reason`` says how)."""
        if row.status in rule.waiting:
            row.status = "cancelled"
            setattr(row, rule.reason_field, reason)
            row.updated_at = self.now
            self.session.add(row)
            self.note("cancel", rule.kind, row.schedule_key, row.scheduled_at, reason)
