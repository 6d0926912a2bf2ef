"""``campaign schedule …``: check and sync the campaign calendars, list what is planned."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from campaign.cli import common
from campaign.cli.common import JsonOption, console, err_console, styled
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.scheduling.calendar import Calendar, calendar_files
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.listing import planned_items
from campaign.scheduling.sync import SyncSummary, sync_calendars

app = typer.Typer(help="Campaign calendars (schedules/*.toml): check, sync, list what is planned.")

PathArgument = typer.Argument(
    None,
    help="A calendar file or a folder of them (default: [scheduler] calendars, schedules/).",
    show_default=False,
)


def _path(path: Path | None) -> Path:
    return path or Path(common.settings().scheduler.calendars)


def _print_problems(calendar: Calendar) -> None:
    for problem in calendar.problems:
        colour = "red" if problem.level == "error" else "yellow"
        err_console.print(styled((problem.level, colour), f" {problem}"), highlight=False)


def _summary(calendar: Calendar) -> str:
    return (
        f"{len(calendar.newsletters)} newsletters, {len(calendar.posts)} posts, "
        f"{len(calendar.recurring)} recurring rules"
    )


@app.command()
def check(path: Path | None = PathArgument, json_output: bool = JsonOption) -> None:
    """Check calendars without changing anything: every problem names file, line and entry."""
    settings = common.settings()
    files = calendar_files(_path(path))
    with common.session() as session:
        calendars = [check_calendar(file, settings, session) for file in files]
        session.rollback()
    if json_output:
        common.print_json(
            [
                {
                    "file": str(calendar.path),
                    "newsletters": len(calendar.newsletters),
                    "posts": len(calendar.posts),
                    "recurring": len(calendar.recurring),
                    "problems": [
                        {
                            "level": problem.level,
                            "line": problem.line,
                            "entry": problem.where,
                            "message": problem.message,
                        }
                        for problem in calendar.problems
                    ],
                }
                for calendar in calendars
            ]
        )
    else:
        for calendar in calendars:
            _print_problems(calendar)
            verdict = (
                (f"{len(calendar.errors)} error(s)", "red") if calendar.errors else ("OK", "green")
            )
            warnings = f", {len(calendar.warnings)} warning(s)" if calendar.warnings else ""
            console.print(
                styled(f"{calendar.path}: ", verdict, f"{warnings} — {_summary(calendar)}"),
                highlight=False,
            )
    if any(calendar.errors for calendar in calendars):
        raise typer.Exit(1)


_ACTIONS = {
    "create": "created",
    "update": "updated",
    "cancel": "cancelled",
    "kept": "kept (already under way or done, or cancelled by a person)",
    "skipped": "skipped",
    "unchanged": "unchanged",
}


def _sync_json(summary: SyncSummary, dry_run: bool) -> None:
    common.print_json(
        {
            "dry_run": dry_run,
            "refused": [str(calendar.path) for calendar in summary.refused],
            "changes": [
                {
                    "action": change.action,
                    "kind": change.kind,
                    "key": change.key,
                    "at": change.at.isoformat() if change.at else None,
                    "detail": change.detail,
                }
                for change in summary.changes
            ],
        }
    )


def _print_refused(summary: SyncSummary) -> None:
    for calendar in summary.refused:
        _print_problems(calendar)
        err_console.print(
            styled(
                (f"{calendar.path}: not synced", "red"),
                f" ({len(calendar.errors)} error(s)); nothing of it was changed. Fix it "
                "(`campaign schedule check`) and sync again.",
            ),
            highlight=False,
        )


def _print_changes(summary: SyncSummary, settings: Settings) -> None:
    """The table of what changed (or was kept, or skipped): unchanged rows are left out."""
    shown = [change for change in summary.changes if change.action != "unchanged"]
    if not shown:
        return
    table = Table("Action", "Kind", "Key", "When", "Detail")
    for change in shown:
        table.add_row(
            change.action,
            change.kind,
            change.key,
            common.local(change.at, settings),
            change.detail,
        )
    console.print(table)


def _print_sync(summary: SyncSummary, settings: Settings, dry_run: bool) -> None:
    _print_refused(summary)
    _print_changes(summary, settings)
    counts: Counter[str] = Counter(change.action for change in summary.changes)
    parts = [f"{counts[action]} {label}" for action, label in _ACTIONS.items() if counts[action]]
    prefix = "Dry run, nothing written: would have " if dry_run else ""
    console.print(prefix + ("; ".join(parts) or "nothing to do") + ".", highlight=False)
    if summary.changed and not dry_run:
        console.print(
            "The running service (`campaign serve`) arms the new times within "
            f"{settings.scheduler.poll_interval:g} s.",
            highlight=False,
        )


@app.command()
def sync(
    path: Path | None = PathArgument,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change, change nothing."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Make newsletters, posts and recurring jobs match the calendars (safe to run again).

    An edited entry updates what is still waiting; a removed entry is cancelled; what already
    went out is never touched. A calendar with errors is not synced at all.
    """
    settings = common.settings()
    with common.session() as session:
        summary = sync_calendars(session, settings, _path(path), dry_run=dry_run)
    if json_output:
        _sync_json(summary, dry_run)
    else:
        _print_sync(summary, settings, dry_run)
    if summary.refused:
        raise typer.Exit(1)


_STATUS_STYLE = {
    "missed": "bold red",
    "failed": "red",
    "cancelled": "dim",
    "sent": "green",
    "published": "green",
}


@app.command("list")
def list_(
    date_from: str | None = typer.Option(
        None, "--from", help="First day (2026-11-05 or 05/11/2026; default: today)."
    ),
    date_to: str | None = typer.Option(None, "--to", help="Last day, included."),
    status: str | None = typer.Option(None, "--status", help="Only this status (e.g. missed)."),
    json_output: bool = JsonOption,
) -> None:
    """What will happen when (local time), with status; missed items are always shown."""
    settings = common.settings()
    first = common.parse_day(date_from, "--from")
    last = common.parse_day(date_to, "--to")
    if first and last and last < first:
        raise CampaignError(f"--to ({last:%d/%m/%Y}) is before --from ({first:%d/%m/%Y}).")
    today = datetime.now(settings.zone).date()
    start = datetime.combine(first or today, time.min, tzinfo=settings.zone)
    end = (
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=settings.zone) if last else None
    )
    with common.session() as session:
        items = planned_items(
            session, settings, start=start, end=end, status=status, missed_always=first is None
        )
    if json_output:
        common.print_json([item.to_json(settings) for item in items])
        return
    table = Table("When", "Kind", "N°", "Status", "What", "Key", "Note")
    for item in items:
        style = _STATUS_STYLE.get(item.status, "")
        status_text = Text(item.status, style=style)
        table.add_row(
            common.local(item.at, settings, "%a %d/%m/%Y %H:%M"),
            item.kind,
            str(item.id or ""),
            status_text,
            item.what,
            item.key or "(by hand)",
            item.note if len(item.note) <= 90 else item.note[:89] + "…",
        )
    console.print(table)
    missed = sum(1 for item in items if item.status == "missed")
    if missed:
        console.print(
            styled(
                (f"{missed} missed", "bold red"),
                ": their time passed while the service was not running. Give them a new time in "
                "the calendar and sync, or send/publish them by hand.",
            ),
            highlight=False,
        )
