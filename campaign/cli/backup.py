"""``campaign backup FILE`` and ``campaign restore FILE``: the whole database, service running."""

from __future__ import annotations

from pathlib import Path

import typer

from campaign.cli import common
from campaign.cli.common import console, err_console


def backup(
    file: Path = typer.Argument(..., help="New file to write the backup to."),
) -> None:
    """Back up the whole database to FILE while the service runs (SQLite or pg_dump)."""
    from campaign.backup import backup as take_backup

    settings = common.settings()
    result = take_backup(settings.database.url, common.engine(), file)
    schema = ", ".join(sorted(result.revisions)) or "empty"
    console.print(f"Backup written to {result.path} ({result.size:,} bytes, schema {schema}).")


def restore(
    file: Path = typer.Argument(..., help="Backup file made by `campaign backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the database without asking."),
) -> None:
    """Replace the whole database with the backup FILE (the service may keep running)."""
    from campaign.backup import restore as put_back
    from campaign.db import describe

    settings = common.settings()
    where = describe(settings.database.url)
    if not yes and not typer.confirm(f"Replace every row of {where} with {file}?"):
        err_console.print("Nothing restored.")
        raise typer.Exit(1)
    revisions = put_back(settings.database.url, file)
    console.print(f"{where} restored from {file} (schema {', '.join(sorted(revisions))}).")
