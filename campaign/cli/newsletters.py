"""``campaign newsletters …``: write, preview, test, then send, pause, resume or cancel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from campaign.cli import common
from campaign.cli import newsletter_sending as sending
from campaign.cli.common import JsonOption, console, err_console, styled
from campaign.errors import CampaignError
from campaign.files import write_private
from campaign.mail import open_transport
from campaign.models import NewsletterStatus
from campaign.newsletters import allowed, queue, records
from campaign.newsletters.blocks import check_blocks, read_blocks_file
from campaign.newsletters.checks import Issue
from campaign.newsletters.coverage import coverage, coverage_issues
from campaign.newsletters.manifest import ManifestError
from campaign.newsletters.preview import addressed_to, preview
from campaign.resources import configured_templates
from campaign.taxonomy import Taxonomy

app = typer.Typer(help="Newsletters: write, preview, test, then send (pause, resume, cancel).")

TitleHelp = "Title, shown at the top of the email and in reports."
SegmentHelp = (
    "Narrow the audience: KEY=VALUE, repeatable (region=Bretagne, language=fr, "
    "organisation=…, or any imported column such as famille=Coopérative)."
)
ContentHelp = "A template text: KEY=VALUE, repeatable (e.g. more_url=https://…, action_url=…)."
EventsRegionHelp = "Events of this region (repeatable), or 'subscriber': each reader's own region."
WhenNoEventsHelp = (
    "What readers the rule finds no event for get: national (events of every region), nearest "
    "(the nearest regions' events), text (--no-events-text instead of events) or skip (no letter)."
)
NoEventsTextHelp = "The text readers without events get with --when-no-events text."
BlocksHelp = (
    "The body: a TOML file of [[block]] tables, each with a type (text, heading, image, button, "
    "events, callout, divider) and its fields; replaces the blocks."
)


def _blocks(path: Path | None, settings: Any) -> list[dict[str, Any]] | None:
    """The blocks of ``--blocks FILE``, checked (images copied into the media folder)."""
    if path is None:
        return None
    raw = read_blocks_file(path)
    try:
        return check_blocks(
            raw,
            taxonomy=Taxonomy.from_settings(settings),
            media_dir=settings.dashboard.media_dir,
            base_dir=path.parent,
        )
    except CampaignError as exc:
        raise CampaignError(f"--blocks {path}: {exc}") from None


@contextmanager
def _set_option() -> Iterator[None]:
    """The stage names the template field; the CLI names its option."""
    try:
        yield
    except ManifestError as exc:
        raise CampaignError(f"--set: {exc}") from None


def _content(intro: str | None, pairs: list[str]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for key, values in records.parse_pairs(pairs, "content").items():
        content[key] = values if len(values) > 1 else values[0]
    if intro is not None:
        content["intro"] = intro
    return content


def _show(session: Any, newsletter: Any) -> dict[str, Any]:
    data = records.newsletter_json(session, newsletter, common.settings())
    data["audience"] = records.count_audience(session, newsletter)
    return data


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{key}={_cell(item)}" for key, item in value.items() if item not in (None, [], "")
        )
    return str(value)


def _print_newsletter(data: dict[str, Any]) -> None:
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(key, _cell(value))
    console.print(table)


@contextmanager
def _from_address_option() -> Iterator[None]:
    """The stage says what is wrong with the from address; the CLI names its option."""
    try:
        yield
    except records.InvalidFromAddress as exc:
        raise CampaignError(f"--from-address: {exc}") from None


@app.command()
def create(
    title: str = typer.Option(..., "--title", help=TitleHelp),
    subject: str = typer.Option(..., "--subject", help="Email subject line."),
    template: str = typer.Option(..., "--template", help="Template name (mois-ess, prix-ess)."),
    list_names: list[str] = typer.Option(..., "--list", "-l", help="List(s) it goes to."),
    preheader: str = typer.Option("", "--preheader", help="Preview text shown by mail clients."),
    from_name: str = typer.Option("", "--from-name", help="Sender name (default: settings)."),
    from_address: str = typer.Option(
        "", "--from-address", help="Sender address (default: settings)."
    ),
    segment: list[str] = typer.Option([], "--segment", help=SegmentHelp),
    events_from: str | None = typer.Option(None, "--events-from", help="First day of events."),
    events_to: str | None = typer.Option(None, "--events-to", help="Last day of events."),
    events_region: list[str] = typer.Option([], "--events-region", help=EventsRegionHelp),
    events_theme: list[str] = typer.Option([], "--events-theme", help="Daily theme (repeatable)."),
    events_type: list[str] = typer.Option([], "--events-type", help="Event type (repeatable)."),
    events_max: int | None = typer.Option(None, "--events-max", help="At most N events."),
    events_order: str = typer.Option("date", "--events-order", help="date, registered or title."),
    intro: str | None = typer.Option(None, "--intro", help="Opening paragraph."),
    content: list[str] = typer.Option([], "--set", help=ContentHelp),
    blocks: Path | None = typer.Option(None, "--blocks", help=BlocksHelp),
    when_no_events: str = typer.Option("national", "--when-no-events", help=WhenNoEventsHelp),
    no_events_text: str = typer.Option("", "--no-events-text", help=NoEventsTextHelp),
    anonymous_tracking: bool = typer.Option(False, "--anonymous-tracking", help="Anonymous hits."),
    json_output: bool = JsonOption,
) -> None:
    """Create a draft newsletter and print its number."""
    settings = common.settings()
    rule = records.EventRule(
        date_from=common.parse_day(events_from, "--events-from"),
        date_to=common.parse_day(events_to, "--events-to"),
        regions=events_region,
        themes=events_theme,
        types=events_type,
        limit=events_max,
        order=events_order,
    )
    body = _blocks(blocks, settings)
    with _from_address_option(), _set_option(), common.session() as session:
        newsletter = records.create_newsletter(
            session,
            title=title,
            subject=subject,
            template=template,
            list_names=list_names,
            taxonomy=Taxonomy.from_settings(settings),
            templates_dir=configured_templates(settings),
            preheader=preheader,
            from_name=from_name,
            from_address=from_address,
            segment=records.parse_pairs(segment, "segment"),
            event_rule=rule,
            content=_content(intro, content),
            blocks=body,
            when_no_events=when_no_events,
            no_events_text=no_events_text,
            anonymous_tracking=anonymous_tracking,
            actor=common.actor(),
        )
        data = _show(session, newsletter)
    if json_output:
        common.print_json(data)
    else:
        typer.echo(data["id"])


@app.command("list")
def list_(
    status: NewsletterStatus | None = typer.Option(None, "--status", help="Only this status."),
    json_output: bool = JsonOption,
) -> None:
    """Every newsletter, oldest first."""
    settings = common.settings()
    with common.session() as session:
        rows = [
            records.newsletter_json(session, newsletter, settings)
            for newsletter in records.list_newsletters(session, status)
        ]
    if json_output:
        common.print_json(rows)
        return
    table = Table("Id", "Title", "Template", "Lists", "Status", "Scheduled")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["title"],
            row["template"],
            ", ".join(row["lists"]),
            row["status"],
            row["scheduled_at"] or "",
        )
    console.print(table)


@app.command()
def show(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    json_output: bool = JsonOption,
) -> None:
    """Everything about one newsletter, with the size of its audience today."""
    with common.session() as session:
        data = _show(session, records.get_newsletter(session, newsletter_id))
    if json_output:
        common.print_json(data)
    else:
        _print_newsletter(data)


def _event_changes(
    events_from: str | None,
    events_to: str | None,
    regions: list[str],
    themes: list[str],
    types: list[str],
    events_max: int | None,
    events_order: str | None,
) -> dict[str, Any]:
    """The changes to the event rule ``edit`` was given: options not given are left out."""
    changes: dict[str, Any] = {}
    if events_from is not None:
        changes["date_from"] = common.parse_day(events_from, "--events-from")
    if events_to is not None:
        changes["date_to"] = common.parse_day(events_to, "--events-to")
    for key, value in (("regions", regions), ("themes", themes), ("types", types)):
        if value:
            changes[key] = value
    if events_max is not None:
        changes["limit"] = events_max or None  # 0: no maximum
    if events_order is not None:
        changes["order"] = events_order
    return changes


def _segment(pairs: list[str]) -> dict[str, list[str]] | None:
    """The segment of ``--segment`` options, or None when none was given (it stays)."""
    return records.parse_pairs(pairs, "segment") if pairs else None


@app.command()
def edit(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    title: str | None = typer.Option(None, "--title", help=TitleHelp),
    subject: str | None = typer.Option(None, "--subject", help="Email subject line."),
    template: str | None = typer.Option(None, "--template", help="Template name."),
    list_names: list[str] = typer.Option([], "--list", "-l", help="Replace the lists."),
    preheader: str | None = typer.Option(None, "--preheader", help="Preview text."),
    from_name: str | None = typer.Option(None, "--from-name", help="Sender name ('': settings)."),
    from_address: str | None = typer.Option(
        None, "--from-address", help="Sender address ('': settings)."
    ),
    segment: list[str] = typer.Option([], "--segment", help="Replace the segment. " + SegmentHelp),
    clear_segment: bool = typer.Option(False, "--clear-segment", help="Whole lists again."),
    events_from: str | None = typer.Option(None, "--events-from", help="First day of events."),
    events_to: str | None = typer.Option(None, "--events-to", help="Last day of events."),
    events_region: list[str] = typer.Option([], "--events-region", help=EventsRegionHelp),
    events_theme: list[str] = typer.Option([], "--events-theme", help="Daily theme (repeatable)."),
    events_type: list[str] = typer.Option([], "--events-type", help="Event type (repeatable)."),
    events_max: int | None = typer.Option(None, "--events-max", help="At most N events."),
    events_order: str | None = typer.Option(
        None, "--events-order", help="date, registered, title."
    ),
    intro: str | None = typer.Option(None, "--intro", help="Opening paragraph ('' removes it)."),
    content: list[str] = typer.Option([], "--set", help=ContentHelp + " KEY= removes it."),
    blocks: Path | None = typer.Option(None, "--blocks", help=BlocksHelp),
    when_no_events: str | None = typer.Option(None, "--when-no-events", help=WhenNoEventsHelp),
    no_events_text: str | None = typer.Option(None, "--no-events-text", help=NoEventsTextHelp),
    anonymous_tracking: bool | None = typer.Option(
        None, "--anonymous-tracking/--named-tracking", help="Anonymous counts, or per person."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Change a draft, scheduled or paused newsletter; options not given stay as they are."""
    settings = common.settings()
    changes = _event_changes(
        events_from, events_to, events_region, events_theme, events_type, events_max, events_order
    )
    segment_value = {} if clear_segment else _segment(segment)
    body = _blocks(blocks, settings)
    with _from_address_option(), _set_option(), common.session() as session:
        newsletter = records.edit_newsletter(
            session,
            newsletter_id,
            taxonomy=Taxonomy.from_settings(settings),
            templates_dir=configured_templates(settings),
            title=title,
            subject=subject,
            template=template,
            list_names=list_names or None,
            preheader=preheader,
            from_name=from_name,
            from_address=from_address,
            segment=segment_value,
            event_changes=changes,
            content=_content(intro, content),
            blocks=body,
            when_no_events=when_no_events,
            no_events_text=no_events_text,
            anonymous_tracking=anonymous_tracking,
        )
        data = _show(session, newsletter)
    if json_output:
        common.print_json(data)
    else:
        console.print(f"Newsletter {newsletter_id} updated.")


@app.command()
def duplicate(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    json_output: bool = JsonOption,
) -> None:
    """Copy a newsletter into a new draft (everything but its time and results); print its
    number."""
    with common.session() as session:
        copy = records.duplicate_newsletter(session, newsletter_id, actor=common.actor())
        data = _show(session, copy)
    if json_output:
        common.print_json(data)
    else:
        typer.echo(data["id"])


def _print_issues(issues: list[Any]) -> None:
    for issue in issues:
        err_console.print(styled(("Warning:", "yellow"), f" {issue.message}"), highlight=False)


def _no_event_issues(session: Any, newsletter: Any, settings: Any) -> list[Any]:
    """The audience groups without events, unknown regions and events over, as warnings; with
    a hint at the option that decides what readers without events get."""
    found = coverage(session, newsletter, settings)
    issues = coverage_issues(found)
    if found.empty or found.unknown:
        hint = (
            f"`campaign newsletters edit {newsletter.id} --when-no-events national|nearest|text|"
            "skip` chooses what readers without events get."
        )
        issues.append(Issue("warning", hint))
    return issues


@app.command("preview")
def preview_(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    as_email: str | None = typer.Option(
        None, "--as", help="Subscriber to preview for (default: the first of the audience)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the HTML to this file."),
    text: bool = typer.Option(False, "--text", help="Show the plain-text part instead."),
) -> None:
    """Write what one subscriber would receive (checks run first and stop on errors)."""
    settings = common.settings()
    with common.session() as session:
        newsletter = records.get_newsletter(session, newsletter_id)
        result = preview(session, newsletter, settings, as_email)
        checks = _no_event_issues(session, newsletter, settings)
    _print_issues(checks + result.issues)
    message = result.message
    err_console.print(
        f"For {result.subscriber.email} — Subject: {message.subject}", highlight=False
    )
    body = message.text if text else message.html
    if out is None:
        typer.echo(body)
        return
    try:
        write_private(out, body)  # a real subscriber's personalised copy
    except OSError as exc:
        raise CampaignError(f"Cannot write {out}: {exc}.") from None
    console.print(f"Preview written to {out}.")


@app.command("test")
def test_(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    to: list[str] = typer.Option(..., "--to", help="Address to send the test to (repeatable)."),
    as_email: str | None = typer.Option(
        None, "--as", help="Subscriber whose version to send (default: the first)."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Send a test message ([TEST] in the subject) through the configured transport."""
    settings = common.settings()
    with common.session() as session:
        newsletter = records.get_newsletter(session, newsletter_id)
        result = preview(session, newsletter, settings, as_email)
        messages = addressed_to(result, newsletter, settings, to)
    _print_issues(result.issues)
    transport = open_transport(settings)
    try:
        results = transport.send(messages)
    finally:
        transport.close()
    if json_output:
        common.print_json([vars(item) for item in results])
    else:
        for item in results:
            if item.ok and item.where:
                console.print(f"{item.to}: written to {item.where}", highlight=False)
            elif item.ok:
                console.print(f"{item.to}: sent ({item.message_id})", highlight=False)
            else:
                err_console.print(
                    styled(f"{item.to}: ", ("failed", "red"), f" — {item.error}"), highlight=False
                )
    if not all(item.ok for item in results):
        raise typer.Exit(1)


@app.command()
def send(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    json_output: bool = JsonOption,
) -> None:
    """Send a newsletter to its audience (run it again to resume or retry deferred messages)."""
    with common.session() as session:
        newsletter = records.get_newsletter(session, newsletter_id)
        if allowed.may(newsletter, allowed.EDIT) is None:
            _print_issues(_no_event_issues(session, newsletter, common.settings()))
        added = queue.snapshot(session, newsletter, common.settings())
        already_sent = newsletter.status == NewsletterStatus.sent
    if already_sent:
        if json_output:
            common.print_json(sending.summary_json(queue.SendSummary(newsletter_id, status="sent")))
        else:
            console.print(f"Newsletter {newsletter_id} was already sent; nothing to do.")
        return
    if added and not json_output:
        err_console.print(f"{added} recipients queued.", highlight=False)
    sending.run_queue(newsletter_id, json_output, added)


@app.command()
def pause(newsletter_id: int = typer.Argument(..., help="Newsletter number.")) -> None:
    """Stop a newsletter being sent after the current batch."""
    with common.session() as session:
        queue.pause(session, newsletter_id)
    console.print(f"Newsletter {newsletter_id} paused; `resume` carries on.")


@app.command()
def resume(
    newsletter_id: int = typer.Argument(..., help="Newsletter number."),
    json_output: bool = JsonOption,
) -> None:
    """Carry on sending a paused newsletter."""
    with common.session() as session:
        queue.resume(session, newsletter_id)
    sending.run_queue(newsletter_id, json_output)


@app.command()
def cancel(newsletter_id: int = typer.Argument(..., help="Newsletter number.")) -> None:
    """Send nothing more of this newsletter (messages already sent stay sent)."""
    with common.session() as session:
        queue.cancel(session, newsletter_id)
    console.print(f"Newsletter {newsletter_id} cancelled.")
