"""``campaign events …``: import the events website's export, list and filter the catalogue."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from campaign.cli import common
from campaign.cli.common import JsonOption, console
from campaign.cli.import_summary import print_import_summary, progress_bar
from campaign.events.catalogue import EventQuery, event_json, find_events
from campaign.events.importer import import_events
from campaign.events.zones import rezone_events
from campaign.formatting import event_when
from campaign.taxonomy import Taxonomy

app = typer.Typer(help="The events (manifestations) of the Mois: import and browse.")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The events website's export: CSV, XLSX or JSON."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file, save nothing."),
    json_output: bool = JsonOption,
) -> None:
    """Import (or update) events from the events website's export, matched by their id."""
    settings = common.settings()
    with common.session() as session, progress_bar(f"Importing {file.name}") as update:
        summary = import_events(
            session,
            file,
            dry_run=dry_run,
            taxonomy=Taxonomy.from_settings(settings),
            zone=settings.zone,
            progress=None if json_output else update,
        )
    if json_output:
        common.print_json(summary.to_json())
    else:
        print_import_summary(summary, "events")


@app.command("list")
def list_(
    date_from: str | None = typer.Option(None, "--from", help="First day (2026-11-05)."),
    date_to: str | None = typer.Option(None, "--to", help="Last day, included."),
    region: list[str] = typer.Option([], "--region", help="Only this region (repeatable)."),
    theme: list[str] = typer.Option([], "--theme", help="Only this daily theme (repeatable)."),
    event_type: list[str] = typer.Option([], "--type", help="Only this type (repeatable)."),
    limit: int = typer.Option(100, "--limit", help="Show at most this many (0: all)."),
    json_output: bool = JsonOption,
) -> None:
    """List events in date order, filtered by day, region, theme or type."""
    settings = common.settings()
    taxonomy = Taxonomy.from_settings(settings)
    query = EventQuery.from_cli(
        date_from=common.parse_day(date_from, "--from"),
        date_to=common.parse_day(date_to, "--to"),
        regions=region,
        themes=theme,
        types=event_type,
        limit=limit or None,
        taxonomy=taxonomy,
        zone=settings.zone,
    )
    with common.session() as session:
        events = find_events(session, query)
    if json_output:
        common.print_json([event_json(event, settings.zone) for event in events])
        return
    table = Table("Date", "Title", "City", "Region", "Theme", "Type")
    for event in events:
        table.add_row(
            # As everywhere: in the event's own zone, named when not [general] timezone's.
            event_when(event, settings.zone, zone_label=taxonomy.zone_label, with_year=True),
            event.title,
            event.city,
            event.region,
            event.theme,
            event.event_type,
        )
    console.print(table if events else "No event matches.")


@app.command("rezone")
def rezone(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change, save nothing."),
    json_output: bool = JsonOption,
) -> None:
    """Read events imported before regions had time zones in their own region's zone.

    Their times were read as Paris times: an 18:00 event in La Réunion was stored three hours
    late. Run with --dry-run first to see each event that moves. Rows already read in their
    zone are never touched, so running it again changes nothing.
    """
    settings = common.settings()
    with common.session() as session:
        changes = rezone_events(
            session, taxonomy=Taxonomy.from_settings(settings), zone=settings.zone, dry_run=dry_run
        )
    if json_output:
        common.print_json([change.as_json() for change in changes])
        return
    moved = [change for change in changes if change.moved]
    for change in moved:
        zone = ZoneInfo(change.zone)
        console.print(
            f"{change.source_id} {change.title} ({change.region}): "
            f"{change.old_start.astimezone(zone):%d/%m/%Y %H:%M} becomes "
            f"{change.new_start.astimezone(zone):%d/%m/%Y %H:%M} {change.zone}"
            + (" (all day)" if change.all_day else ""),
            highlight=False,
            markup=False,
        )
    verb = "would be" if dry_run else "were"
    console.print(
        f"{len(changes)} event(s) imported before time zones; {len(moved)} {verb} moved to "
        f"their region's time, {len([c for c in changes if c.all_day])} all-day."
        + (" Nothing was saved (dry run)." if dry_run else ""),
        highlight=False,
    )
