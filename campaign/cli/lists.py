"""``campaign lists``: the mailing lists with their counts, and ``lists create``."""

from __future__ import annotations

import typer
from rich.table import Table

from campaign.audience.lists import create_list, list_counts
from campaign.cli import common
from campaign.cli.common import JsonOption, console
from campaign.models import SubscriberStatus

app = typer.Typer(
    help="Mailing lists. Without a subcommand: every list with its counts per status.",
    invoke_without_command=True,
)


@app.callback()
def show_lists(ctx: typer.Context, json_output: bool = JsonOption) -> None:
    """Every list with its number of subscribers per status."""
    if ctx.invoked_subcommand is None:
        print_lists(json_output)


def print_lists(json_output: bool = False) -> None:
    with common.session() as session:
        rows = list_counts(session)
    if json_output:
        common.print_json(rows)
        return
    statuses = [status.value for status in SubscriberStatus]
    table = Table("List", *statuses, "total")
    for row in rows:
        table.add_row(row["name"], *(str(row[s]) for s in statuses), str(row["total"]))
    console.print(table if rows else "No list yet: campaign lists create NAME")


@app.command()
def create(
    name: str = typer.Argument(..., help="Name of the new list."),
    description: str = typer.Option("", "--description", help="What the list is for."),
) -> None:
    """Create a mailing list."""
    with common.session() as session:
        create_list(session, name, description)
    console.print(f"List {name!r} created.")
