"""``campaign subscribers …``: import, add, edit, list, export, unsubscribe, resubscribe, show,
erase."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from campaign.audience import subscribers as audience
from campaign.audience.importer import (
    FIELDS,
    KEEP,
    SKIP,
    ColumnError,
    MissingEmailColumn,
    import_subscribers,
)
from campaign.audience.people import person_region
from campaign.cli import common
from campaign.cli.common import JsonOption, console
from campaign.cli.import_summary import print_import_summary, progress_bar
from campaign.errors import CampaignError
from campaign.models import SubscriberStatus
from campaign.taxonomy import Taxonomy

app = typer.Typer(help="People who receive the newsletters: import, add, list, export, RGPD.")

ListOption = typer.Option(
    None, "--list", "-l", help="Name of a list (e.g. 'Newsletter nationale')."
)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV (comma, semicolon or tab) or XLSX file."),
    list_name: str | None = ListOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file, save nothing."),
    column: list[str] = typer.Option(
        [],
        "--column",
        "-c",
        help=(
            "What a column holds, as 'HEADER=FIELD' (e.g. 'Courriel pro=email'); FIELD is one of "
            f"{', '.join(FIELDS)}, or {KEEP} (kept as an attribute), or {SKIP}. Repeatable."
        ),
    ),
    consent_origin: str = typer.Option(
        "",
        "--consent-origin",
        help="How these people gave their consent (e.g. 'formulaire papier Mois de l'ESS "
        "2025'), written on each of their consent log lines.",
    ),
    json_output: bool = JsonOption,
) -> None:
    """Import a spreadsheet of subscribers as people really export them.

    Headers in French or English (email, courriel, prénom, nom, structure, région, code postal,
    date d'inscription…); say what other columns hold with --column. Existing people are
    updated, never duplicated; someone who unsubscribed, bounced or complained is never made
    active again. Bad rows are skipped and listed with their row number. A join date column
    (31/12/2025 or 2025-12-31) is the date the list growth report counts people from.
    """
    settings = common.settings()
    columns = _column_choices(column)
    with (
        _column_option(),
        common.session() as session,
        progress_bar(f"Importing {file.name}") as update,
    ):
        summary = import_subscribers(
            session,
            file,
            list_name=list_name,
            dry_run=dry_run,
            actor=common.actor(),
            taxonomy=Taxonomy.from_settings(settings),
            progress=None if json_output else update,
            columns=columns,
            consent_origin=consent_origin,
            zone=settings.zone,
        )
    if json_output:
        common.print_json(summary.to_json())
    else:
        print_import_summary(summary, "subscribers")


def _column_choices(values: list[str]) -> dict[str, str]:
    choices: dict[str, str] = {}
    for value in values:
        header, equals, field = value.rpartition("=")
        if not equals or not header.strip() or not field.strip():
            raise CampaignError(
                f"--column {value!r}: write it as 'HEADER=FIELD', e.g. 'Courriel pro=email'."
            )
        choices[header.strip()] = field.strip()
    return choices


@contextmanager
def _column_option() -> Iterator[None]:
    """The stage says which column or field is wrong; the CLI says what to write."""
    try:
        yield
    except MissingEmailColumn as exc:
        raise CampaignError(
            f"{exc} With --column 'HEADER=email', say which column holds the addresses."
        ) from None
    except ColumnError as exc:
        raise CampaignError(f"--column {exc.field!r}: {exc}") from None


@app.command()
def add(
    email: str = typer.Argument(..., help="Email address."),
    list_names: list[str] = typer.Option([], "--list", "-l", help="List(s) to add the person to."),
    first_name: str = typer.Option("", "--first-name", help="First name (prénom)."),
    last_name: str = typer.Option("", "--last-name", help="Last name (nom)."),
    organisation: str = typer.Option("", "--organisation", help="Organisation (structure)."),
    region: str = typer.Option("", "--region", help="Region."),
    postcode: str = typer.Option("", "--postcode", help="Postcode (code postal)."),
    json_output: bool = JsonOption,
) -> None:
    """Add one person (or update them if the address is already known)."""
    taxonomy = Taxonomy.from_settings(common.settings())
    region = person_region(taxonomy, region, postcode)
    profile = {
        "first_name": first_name,
        "last_name": last_name,
        "organisation": organisation,
        "region": region,
        "postcode": postcode,
    }
    with common.session() as session:
        subscriber, outcome = audience.add_subscriber(
            session, email, list_names=list_names, profile=profile, actor=common.actor()
        )
        shown = audience.describe_subscriber(session, subscriber.email or "")
    if json_output:
        common.print_json({"outcome": outcome, "subscriber": shown})
    else:
        console.print(f"{shown['email']}: {outcome} (status {shown['status']}).")


@app.command()
def edit(
    email: str = typer.Argument(..., help="Email address (it cannot change: see below)."),
    first_name: str | None = typer.Option(None, "--first-name", help="First name (prénom)."),
    last_name: str | None = typer.Option(None, "--last-name", help="Last name (nom)."),
    organisation: str | None = typer.Option(
        None, "--organisation", help="Organisation (structure)."
    ),
    region: str | None = typer.Option(None, "--region", help="Region (checked against the list)."),
    postcode: str | None = typer.Option(None, "--postcode", help="Postcode (code postal)."),
) -> None:
    """Correct a person's fields; only the options given change ('' empties a field).

    The address is not a field: a new address is a new person with their own consent (add it
    with `subscribers add`, then unsubscribe or erase the old one).
    """
    if region:
        taxonomy = Taxonomy.from_settings(common.settings())
        region = taxonomy.region(region) or region
    profile = {
        "first_name": first_name,
        "last_name": last_name,
        "organisation": organisation,
        "region": region,
        "postcode": postcode,
    }
    with common.session() as session:
        subscriber = audience.require_subscriber(session, email)
        changes = audience.update_profile(session, subscriber, profile, actor=common.actor())
    if not changes:
        console.print(f"{subscriber.email}: nothing to change.")
        return
    for key, (before, after) in changes.items():
        console.print(f"{subscriber.email}: {key} {before!r} → {after!r}")


@app.command("list")
def list_(
    status: SubscriberStatus | None = typer.Option(None, "--status", help="Only this status."),
    list_name: str | None = ListOption,
    limit: int = typer.Option(100, "--limit", help="Show at most this many (0: all)."),
    json_output: bool = JsonOption,
) -> None:
    """List subscribers, oldest first."""
    with common.session() as session:
        rows = []
        for row in audience.iter_subscribers(session, status=status, list_name=list_name):
            rows.append(row)
            if limit and len(rows) >= limit:
                break
    if json_output:
        common.print_json(rows)
        return
    table = Table("Email", "Name", "Organisation", "Region", "Status", "Lists")
    for row in rows:
        name = f"{row['first_name']} {row['last_name']}".strip()
        table.add_row(
            row["email"],
            name,
            row["organisation"],
            row["region"],
            row["status"],
            ", ".join(row["lists"]),
        )
    console.print(table)
    if limit and len(rows) >= limit:
        console.print(f"First {limit} shown; use --limit 0 for all.")


@app.command()
def export(
    file: Path = typer.Argument(..., help="File to write: .csv, or .xlsx for a workbook."),
    status: SubscriberStatus | None = typer.Option(None, "--status", help="Only this status."),
    list_name: str | None = ListOption,
) -> None:
    """Export subscribers to a CSV that Excel opens directly (UTF-8, semicolons), or XLSX."""
    with common.session() as session:
        count = audience.export_subscribers(session, file, status=status, list_name=list_name)
    console.print(f"{count} subscribers written to {file}.")


@app.command()
def unsubscribe(
    email: str = typer.Argument(..., help="Email address."),
    list_name: str | None = typer.Option(
        None, "--list", "-l", help="Only leave this list (default: unsubscribe from everything)."
    ),
) -> None:
    """Unsubscribe someone (recorded in the consent log)."""
    with common.session() as session:
        changed = audience.unsubscribe(session, email, actor=common.actor(), list_name=list_name)
    where = f"the list {list_name!r}" if list_name else "all newsletters"
    state = "unsubscribed from" if changed else "was already unsubscribed from"
    console.print(f"{email.strip()} {state} {where}.")


@app.command()
def resubscribe(
    email: str = typer.Argument(..., help="Email address."),
    list_name: str | None = typer.Option(
        None, "--list", "-l", help="Put them back on this list only (default: every newsletter)."
    ),
    consent: bool = typer.Option(
        False,
        "--consent",
        help="The person unsubscribed themselves and asked to come back (RGPD: only then).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Also for a bounced or complained address (you know it works)."
    ),
) -> None:
    """Undo an unsubscription (recorded in the consent log).

    Someone who unsubscribed themselves (a newsletter's link) comes back only with their new
    consent: the command asks for it, or takes --consent. A bounced or complained address is
    refused unless --force.
    """
    with common.session() as session:
        check = audience.resubscription(
            session, audience.require_subscriber(session, email), list_name
        )
    if check.self_at is not None and check.undo and not consent and (force or not check.blocked):
        local = check.self_at.astimezone(common.settings().zone)
        consent = typer.confirm(
            f"{check.email} unsubscribed themselves on {local:%Y-%m-%d at %H:%M}. "
            "Did they give their consent again?",
            default=False,
        )
    try:
        with common.session() as session:
            changed = audience.resubscribe(
                session,
                email,
                actor=common.actor(),
                list_name=list_name,
                consent=consent,
                force=force,
            )
            status = audience.require_subscriber(session, email).status
    except audience.ResubscribeRefused as exc:
        how = "--force" if exc.reason == audience.FORCE_NEEDED else "--consent"
        raise CampaignError(f"{exc} Give {how} to do it.") from None
    where = f"the list {check.list_name!r}" if check.list_name else "every newsletter"
    if not changed:
        console.print(f"{check.email} already receives {where}.")
        return
    console.print(f"{check.email} resubscribed to {where}.")
    if status != "active":
        console.print(
            f"Their status is still {status}: they receive nothing until it is active "
            "(run without --list)."
        )


@app.command()
def show(
    email: str = typer.Argument(..., help="Email address."),
    json_output: bool = JsonOption,
) -> None:
    """Everything held about one person: fields, lists, consent log (RGPD right of access)."""
    with common.session() as session:
        data = audience.describe_subscriber(session, email)
    if json_output:
        common.print_json(data)
    else:
        console.print_json(data=data)


@app.command()
def erase(
    email: str = typer.Argument(..., help="Email address."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a person's personal data (RGPD right to erasure); anonymous counts are kept."""
    if not yes:
        typer.confirm(
            f"Erase every personal data of {email.strip()}? This cannot be undone", abort=True
        )
    with common.session() as session:
        audience.erase_subscriber(session, email, actor=common.actor())
    console.print(f"{email.strip()}: personal data erased; anonymous counts kept.")
