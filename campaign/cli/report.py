"""``campaign report …``: the yearly bilan's figures as tables, CSV, JSON, XLSX or HTML."""

from __future__ import annotations

from pathlib import Path

import typer

from campaign.cli import common
from campaign.cli.common import console
from campaign.errors import CampaignError
from campaign.reports import (
    Labels,
    Period,
    Report,
    bilan_report,
    format_for,
    newsletter_report,
    newsletters_report,
    social_report,
    subscribers_report,
    write_report,
)
from campaign.reports.labels import report_templates
from campaign.reports.queries import known_accounts

app = typer.Typer(help="Reports: the bilan's figures as tables, CSV, JSON, XLSX or HTML.")

FromOption = typer.Option(
    None, "--from", help="First day (2016-01-01 or 01/01/2016, local time), included."
)
ToOption = typer.Option(None, "--to", help="Last day, included.")
YearOption = typer.Option(None, "--year", help="A calendar year (instead of --from/--to).")
FormatOption = typer.Option(
    None,
    "--format",
    "-f",
    help="table (default), csv, json, xlsx or html; else taken from --out's extension.",
    show_default=False,
)
OutOption = typer.Option(None, "--out", "-o", help="Write to this file instead of the terminal.")
LangOption = typer.Option(
    None, "--lang", help="Language of labels and dates: fr or en (default: [general] language)."
)
TableOption = typer.Option(
    None, "--table", help="Only this table (CSV holds one): e.g. links, regions, days."
)


def _period(date_from: str | None, date_to: str | None, year: int | None) -> Period:
    zone = common.settings().zone
    if year is not None:
        if date_from or date_to:
            raise CampaignError("Give either --year or --from/--to, not both.")
        if not 1900 <= year <= 9999:
            raise CampaignError(f"--year {year}: write a year such as 2016.")
        return Period.year(year, zone)
    start = common.parse_day(date_from, "--from")
    end = common.parse_day(date_to, "--to")
    if start and end and end < start:
        raise CampaignError(f"--to {date_to} is before --from {date_from}.")
    return Period(start, end, zone)


def _labels(lang: str | None) -> Labels:
    settings = common.settings()
    return Labels.load(lang or settings.general.language, settings.zone, report_templates(settings))


def _write(
    report: Report, labels: Labels, format_: str | None, out: Path | None, table: str | None
) -> None:
    written = write_report(report, labels, format_for(format_, out), out, console, table)
    if written is not None:
        console.print(f"Wrote {written}")


@app.command("newsletters")
def newsletters(
    date_from: str | None = FromOption,
    date_to: str | None = ToOption,
    year: int | None = YearOption,
    format_: str | None = FormatOption,
    out: Path | None = OutOption,
    lang: str | None = LangOption,
) -> None:
    """One row per newsletter sent in the period (the bilan's newsletter table).

    Titre, Date, Destinataires, Destinataires réels, Ouvertures, Clics, then unique opens and
    clicks, rates, unsubscribes, bounces, machine opens and bot clicks.
    """
    period = _period(date_from, date_to, year)
    labels = _labels(lang)
    with common.session() as session:
        report = newsletters_report(session, period, labels)
    _write(report, labels, format_, out, None)


@app.command("newsletter")
def newsletter(
    newsletter_id: int = typer.Argument(..., help="The newsletter's number."),
    format_: str | None = FormatOption,
    out: Path | None = OutOption,
    lang: str | None = LangOption,
    table: str | None = TableOption,
) -> None:
    """One newsletter in detail: per link, per region, first seven days, bounce reasons."""
    labels = _labels(lang)
    with common.session() as session:
        report = newsletter_report(session, newsletter_id, labels)
    _write(report, labels, format_, out, table)


@app.command("social")
def social(
    account: list[str] = typer.Option(
        [], "--account", "-a", help="Only this account (repeatable), e.g. mois_ess."
    ),
    date_from: str | None = FromOption,
    date_to: str | None = ToOption,
    year: int | None = YearOption,
    format_: str | None = FormatOption,
    out: Path | None = OutOption,
    lang: str | None = LangOption,
    table: str | None = TableOption,
) -> None:
    """Social accounts and posts over the period.

    Per account: followers at start and end, new followers per day, posts, mentions, reposts;
    per post: impressions, likes, reposts, replies (latest measurement); then the influencers
    (--table influencers): who mentioned or reposted the accounts, ranked by their followers.
    """
    period = _period(date_from, date_to, year)
    labels = _labels(lang)
    settings = common.settings()
    handles = {name: found.handle for name, found in settings.social.accounts.items()}
    with common.session() as session:
        known = set(handles) | known_accounts(session)
        unknown = [name for name in account if name not in known]
        if unknown:
            raise CampaignError(
                f"--account {unknown[0]!r} is not an account; known: {', '.join(sorted(known))}."
            )
        report = social_report(session, period, labels, account, handles)
    _write(report, labels, format_, out, table)


@app.command("subscribers")
def subscribers(
    date_from: str | None = FromOption,
    date_to: str | None = ToOption,
    year: int | None = YearOption,
    format_: str | None = FormatOption,
    out: Path | None = OutOption,
    lang: str | None = LangOption,
    table: str | None = TableOption,
) -> None:
    """List size month by month, people joining and leaving, by region and by source."""
    period = _period(date_from, date_to, year)
    labels = _labels(lang)
    with common.session() as session:
        report = subscribers_report(session, period, labels)
    _write(report, labels, format_, out, table)


@app.command("bilan")
def bilan(
    date_from: str | None = FromOption,
    date_to: str | None = ToOption,
    year: int | None = YearOption,
    format_: str | None = typer.Option(
        None, "--format", "-f", help="html (default), xlsx, json or table.", show_default=False
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="File to write (default: bilan.html, or bilan-YEAR.html)."
    ),
    lang: str | None = LangOption,
) -> None:
    """Every report in one file: the year's bilan, with all tables and charts.

    HTML by default: self-contained (inline SVG charts of list growth, opens and clicks per
    newsletter, followers per account), in French, printable. Or one XLSX workbook.
    """
    period = _period(date_from, date_to, year)
    labels = _labels(lang)
    chosen = format_for(format_, out) if (format_ or out) else "html"
    if chosen == "csv":
        raise CampaignError("The bilan has many tables: write it as html, xlsx or json.")
    if out is None and chosen in ("html", "xlsx"):
        out = Path(f"bilan-{year}.{chosen}" if year else f"bilan.{chosen}")
    settings = common.settings()
    handles = {name: found.handle for name, found in settings.social.accounts.items()}
    with common.session() as session:
        report = bilan_report(session, period, labels, handles)
    _write(report, labels, chosen, out, None)
