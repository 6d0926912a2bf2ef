"""Reports: the reports stage's tables and charts for a period, one newsletter in detail, and
their files (CSV, XLSX, and the self-contained HTML bilan) made by the stage's own exporters.

Nothing is counted here: :mod:`campaign.reports` builds each report, and its exporters write the
files; the pages only lay the report's sections out with the stage's labels. The page opens with
the key figures the bilan opens with, and takes follower counts typed by hand for accounts whose
figures X charges for (:func:`campaign.social.metrics.record_followers`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from campaign.config import Settings
from campaign.dashboard import pagekit
from campaign.errors import CampaignError
from campaign.models import utcnow
from campaign.reports import (
    Labels,
    Period,
    Report,
    bilan_report,
    key_figures_section,
    newsletter_report,
    newsletters_report,
    social_report,
    subscribers_report,
)
from campaign.reports.export import (
    RIGHT_ALIGNED,
    display_parts,
    period_text,
    pick_tables,
    to_csv,
    to_html,
    to_xlsx,
)
from campaign.reports.queries import known_accounts
from campaign.social.metrics import (
    FollowersRefused,
    account_named,
    record_followers,
    typed_followers,
)

router = APIRouter()

DOWNLOADS = ("csv", "xlsx", "html")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
PAGE_REPORTS = ("newsletters", "subscribers", "social")
"""The reports shown on the reports page, in this order; the bilan holds them all."""


def _handles(settings: Settings) -> dict[str, str]:
    return {name: account.handle for name, account in settings.social.accounts.items()}


def _builders(settings: Settings) -> dict[str, Callable[[Session, Period, Labels], Report]]:
    handles = _handles(settings)
    return {
        "newsletters": newsletters_report,
        "subscribers": subscribers_report,
        "social": lambda session, period, labels: social_report(
            session, period, labels, handles=handles
        ),
        "bilan": lambda session, period, labels: bilan_report(session, period, labels, handles),
    }


def _period(settings: Settings, date_from: str, date_to: str) -> Period:
    start, end = pagekit.parse_day(date_from), pagekit.parse_day(date_to)
    if date_from.strip() and start is None:
        raise CampaignError.of("form.not_a_day", "date_from", text=date_from)
    if date_to.strip() and end is None:
        raise CampaignError.of("form.not_a_day", "date_to", text=date_to)
    if start and end and end < start:
        raise CampaignError.of("period.end_before_start", "date_to", start=start, end=end)
    return Period(start, end, settings.zone)


def _sections(report: Report, labels: Labels) -> list[dict[str, Any]]:
    """A report's sections as the page shows them: heading, charts, tables (cut into parts as
    the stage's HTML file cuts them), definitions."""
    return [
        {
            "heading": section.subtitle or labels.report(section.heading),
            "charts": section.charts,
            "parts": [part for table in section.tables for part in display_parts(table, labels)],
            "definitions": labels.definitions(section.definitions),
        }
        for section in report.sections
    ]


def _followers_form(request: Request, form: dict[str, str] | None = None) -> dict[str, Any]:
    """The form that takes a typed follower count: the accounts, the counts typed so far."""
    board = pagekit.dashboard(request)
    settings = board.settings
    with board.session() as session:
        known = known_accounts(session)
        typed = typed_followers(session)
    accounts = [(name, f"@{account.handle}") for name, account in settings.social.accounts.items()]
    accounts += [(name, name) for name in sorted(known - set(settings.social.accounts))]
    handles = dict(accounts)
    today = utcnow().astimezone(settings.zone).date()
    return {
        "accounts": accounts,
        "typed": [
            {
                "account": handles.get(row.account, row.account),
                "day": row.at.astimezone(settings.zone).date(),
                "followers": row.followers,
            }
            for row in typed
        ],
        "form": form or {"account": "", "followers": "", "day": today.isoformat()},
        "today": today.isoformat(),
    }


def _render(
    request: Request,
    labels: Labels,
    error: str | CampaignError = "",
    *,
    reports: list[dict[str, Any]] = (),  # type: ignore[assignment]
    query: dict[str, str] | None = None,
    newsletter_id: int | None = None,
    key_figures: Sequence[dict[str, Any]] = (),
    followers_error: str = "",
    followers_form: dict[str, str] | None = None,
) -> Response:
    """The reports page (``query``: the period form) or one newsletter's (``newsletter_id``)."""
    period = period_text(reports[0]["report"], labels) if reports else ""
    return pagekit.render(
        request,
        "reports.html",
        status_code=400 if error or followers_error else 200,
        labels=labels,
        right_aligned=RIGHT_ALIGNED,
        reports=list(reports),
        key_figures=list(key_figures),
        query=query,
        newsletter_id=newsletter_id,
        period=period,
        export_query=urlencode({k: v for k, v in (query or {}).items() if v}),
        error=error,
        followers=_followers_form(request, followers_form) if newsletter_id is None else None,
        followers_error=followers_error,
    )


@router.get("/reports")
def index(request: Request, date_from: str = "", date_to: str = "") -> Response:
    board = pagekit.dashboard(request)
    labels = board.labels
    builders = _builders(board.settings)
    query = {"date_from": date_from, "date_to": date_to}
    try:
        period = _period(board.settings, date_from, date_to)
    except CampaignError as exc:
        return _render(request, labels, exc, query=query)
    reports: list[dict[str, Any]] = []
    with board.session() as session:
        for key in PAGE_REPORTS:
            report = builders[key](session, period, labels)
            reports.append({"key": key, "report": report, "sections": _sections(report, labels)})
    # The bilan's opening, from the very tables shown below it.
    tables = [table for item in reports for table in item["report"].tables()]
    key_figures = key_figures_section(tables, labels).tables[0].rows
    return _render(request, labels, reports=reports, query=query, key_figures=key_figures)


@router.post("/reports/followers")
def type_followers(
    request: Request,
    account: str = Form(""),
    followers: str = Form(""),
    day: str = Form(""),
    date_from: str = Form(""),
    date_to: str = Form(""),
) -> Response:
    """A follower count read on an account's page, typed in for a day (editors and admins).

    The reports take it as a measurement of followers and say it was typed by hand; typing the
    same account and day again corrects it. Refusals are said in French by the page.
    """
    board = pagekit.dashboard(request)
    settings = board.settings
    form = {"account": account, "followers": followers, "day": day}
    query = {"date_from": date_from, "date_to": date_to}
    count = followers.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    on = pagekit.parse_day(day)
    try:
        if not (count.isascii() and count.isdigit()) or len(count) > 10:  # not "²" nor "١"
            raise FollowersRefused("count", f"{followers!r} is not a number of followers.")
        if on is None:
            raise FollowersRefused("day", f"{day!r} is not a date.")
        with board.session() as session:
            name = account_named(settings, known_accounts(session), account)
            record_followers(session, name, int(count), on, settings.zone)
    except FollowersRefused as exc:
        return _render(
            request,
            board.labels,
            query=query,
            followers_error=exc.reason,
            followers_form=form,
        )
    back = "/reports"
    extra = urlencode({k: v for k, v in query.items() if v and pagekit.parse_day(v)})
    return pagekit.see_other(request, back + (f"?{extra}" if extra else ""), "followers-saved")


@router.get("/reports/newsletters/{newsletter_id}")
def newsletter(request: Request, newsletter_id: pagekit.Id) -> Response:
    """One newsletter in detail: per link, per region, the first seven days, bounce reasons."""
    board = pagekit.dashboard(request)
    labels = board.labels
    try:
        with board.session() as session:
            report = newsletter_report(session, newsletter_id, labels)
    except CampaignError as exc:
        return _render(request, labels, exc, newsletter_id=newsletter_id)
    return _render(
        request,
        labels,
        reports=[{"key": "newsletter", "report": report, "sections": _sections(report, labels)}],
        newsletter_id=newsletter_id,
    )


def _file_name(report: Report, fmt: str, table: str | None) -> str:
    period = report.period
    name = report.key
    if (
        period.start
        and period.end
        and (period.start, period.end)
        == (
            date(period.start.year, 1, 1),
            date(period.start.year, 12, 31),
        )
    ):
        name += f"-{period.start.year}"
    else:
        name += "".join(f"-{day.isoformat()}" for day in (period.start, period.end) if day)
    if table:
        name += f"-{table}"
    return f"{name}.{fmt}"


def _download(report: Report, labels: Labels, fmt: str, table: str | None, name: str) -> Response:
    """The report as a file written by the reports stage's exporter for ``fmt``."""
    tables = pick_tables(report, table, fmt)
    if fmt == "csv":
        body: bytes = to_csv(tables[0], labels).encode("utf-8")
    elif fmt == "html":
        body = to_html(report, labels, tables if table else None).encode("utf-8")
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.xlsx"
            to_xlsx(report, labels, tables, path)
            body = path.read_bytes()
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports/export/{key}")
def export(
    request: Request,
    key: str,
    format: str = "html",
    table: str = "",
    date_from: str = "",
    date_to: str = "",
) -> Response:
    """A report of the period as CSV (one table), XLSX or HTML; viewers may download too."""
    board = pagekit.dashboard(request)
    builders = _builders(board.settings)
    if key not in builders or format not in DOWNLOADS:
        raise HTTPException(404)
    labels = board.labels
    try:
        period = _period(board.settings, date_from, date_to)
        with board.session() as session:
            report = builders[key](session, period, labels)
        name = _file_name(report, format, table or None)
        return _download(report, labels, format, table or None, name)
    except CampaignError as exc:
        return _render(request, labels, exc, query={"date_from": date_from, "date_to": date_to})


@router.get("/reports/newsletters/{newsletter_id}/export")
def export_newsletter(
    request: Request,
    newsletter_id: pagekit.Id,
    format: str = "html",
    table: str = "",
) -> Response:
    """One newsletter's report as a file (CSV: one of its tables)."""
    board = pagekit.dashboard(request)
    if format not in DOWNLOADS:
        raise HTTPException(404)
    labels = board.labels
    try:
        with board.session() as session:
            report = newsletter_report(session, newsletter_id, labels)
        name = f"newsletter-{newsletter_id}" + (f"-{table}" if table else "") + f".{format}"
        return _download(report, labels, format, table or None, name)
    except CampaignError as exc:
        return _render(request, labels, exc, newsletter_id=newsletter_id)
