"""Printing an import: a progress bar while it runs, then its summary and every skipped row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from campaign.cli.common import console, err_console, styled
from campaign.importing import ImportSummary

MAX_SKIPPED_SHOWN = 50


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error; yields ``update(done, total)`` for the importer."""
    with Progress(
        TextColumn("{task.description}", markup=False),  # the label names a user's file
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        yield update


def print_import_summary(
    summary: ImportSummary, noun: str, max_shown: int = MAX_SKIPPED_SHOWN
) -> None:
    prefix = "Dry run, nothing saved — " if summary.dry_run else ""
    console.print(
        styled(
            f"{prefix}{summary.file}: {summary.rows} rows read — ",
            (f"{summary.added} added", "green"),
            f", {summary.updated} updated, {summary.unchanged} unchanged, ",
            (f"{len(summary.skipped)} skipped", "yellow"),
            f" ({noun}).",
        )
    )
    for warning in summary.warnings:
        console.print(styled(("Warning:", "yellow"), f" {warning}"))
    if not summary.skipped:
        return
    table = Table("Row", "Value", "Why it was skipped", title="Skipped rows")
    for skipped in summary.skipped[:max_shown]:
        table.add_row(str(skipped.row), skipped.value, str(skipped.reason))
    console.print(table)
    hidden = len(summary.skipped) - max_shown
    if hidden > 0:
        console.print(f"… and {hidden} more skipped rows (use --json to see them all).")
