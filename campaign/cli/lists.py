"""``campaign lists``: the mailing lists with their counts; create, rename, merge, delete."""

from __future__ import annotations

import typer
from rich.table import Table

from campaign.audience import lists as audience_lists
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
        created = create_list(session, name, description)
    console.print(f"List {created.name!r} created.")


def _named_elsewhere(uses: list[str], name: str) -> None:
    for use in uses:
        console.print(f"Note: {use} still names {name!r}: change it there.")


@app.command()
def rename(
    old: str = typer.Argument(..., help="The list's current name."),
    new: str = typer.Argument(..., help="Its new name."),
) -> None:
    """Rename a list (members, consent log and newsletters follow)."""
    with common.session() as session:
        mailing_list = audience_lists.require_list(session, old)
        before = mailing_list.name
        use = audience_lists.list_use(session, mailing_list, common.settings())
        audience_lists.rename_list(session, old, new)
        after = mailing_list.name
    console.print(f"List {before!r} renamed {after!r}.")
    if audience_lists.fold_name(before) != audience_lists.fold_name(after):
        _named_elsewhere(use.by_name, before)


@app.command()
def merge(
    source: str = typer.Argument(..., help="The list merged away (deleted afterwards)."),
    target: str = typer.Argument(..., help="The list that stays."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Move every member, consent line and newsletter of one list to another, then delete it.

    People on both lists end up once, with their more recent decision (joined or left).
    """
    with common.session() as session:
        from_list = audience_lists.require_list(session, source)
        into_list = audience_lists.require_list(session, target)
        use = audience_lists.list_use(session, from_list, common.settings())
    if not yes:
        typer.confirm(
            f"Merge {from_list.name!r} ({use.members} member(s), {use.former} former) into "
            f"{into_list.name!r} and delete {from_list.name!r}? This cannot be undone",
            abort=True,
        )
    with common.session() as session:
        outcome = audience_lists.merge_lists(
            session, source, target, actor=common.actor(), method="manual"
        )
    console.print(
        f"List {outcome.source!r} merged into {outcome.target!r}: {outcome.moved} person(s) "
        f"moved, {outcome.both} already on both, {outcome.newsletters} newsletter(s) updated; "
        f"{outcome.source!r} deleted."
    )
    if audience_lists.fold_name(outcome.source) != audience_lists.fold_name(outcome.target):
        _named_elsewhere(use.by_name, outcome.source)


@app.command()
def delete(name: str = typer.Argument(..., help="Name of the list.")) -> None:
    """Delete a list nobody is or was on and nothing uses (else refused, saying why)."""
    with common.session() as session:
        deleted = audience_lists.delete_list(session, name, common.settings())
    console.print(f"List {deleted!r} deleted.")
