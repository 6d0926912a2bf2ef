"""The newsletter report: one newsletter in detail (links, regions, days, bounce reasons)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from campaign.errors import CampaignError
from campaign.models import Newsletter, utcnow
from campaign.reports import queries
from campaign.reports.build.newsletters import (
    NEWSLETTER_COLUMNS,
    _newsletter_row,
)
from campaign.reports.charts import Chart, Series, columns
from campaign.reports.labels import Labels
from campaign.reports.model import Column, Period, Report, Section, Table


def detail_section(session: Session, figure: queries.NewsletterFigures, labels: Labels) -> Section:
    """One newsletter's summary, links, regions, first days and bounce reasons, with a chart."""
    assert figure.id is not None
    day_figures = queries.first_days(session, figure.id, figure.sent_at, labels.zone)
    tables = [
        _summary_table(figure, labels),
        Table(
            "links",
            [Column("url", "url"), Column("clicks"), Column("unique_clicks"), Column("bot_clicks")],
            [vars(link) for link in queries.link_figures(session, figure.id)],
        ),
        _regions_table(session, figure, labels),
        _days_table(day_figures),
        _reasons_table(session, figure.id, labels),
    ]
    return Section(
        "newsletter",
        tables,
        [_days_chart(day_figures, labels)],
        subtitle=labels.text(
            "newsletter_heading", title=figure.title, date=labels.date(figure.sent_at)
        ),
        definitions="newsletter",
        merge_as="newsletter",
    )


def _summary_table(figure: queries.NewsletterFigures, labels: Labels) -> Table:
    summary = _newsletter_row(figure, labels, with_title=False)
    summary["failed"] = figure.failed
    summary["not_sent"] = figure.not_sent
    return Table(
        "summary",
        [c for c in NEWSLETTER_COLUMNS if c.key != "title"]
        + [Column("failed"), Column("not_sent")],
        [summary],
    )


REGION_COLUMNS = [
    Column("region", "text"),
    Column("addressed"),
    Column("delivered"),
    Column("bounces"),
    Column("left_out"),
    Column("opens"),
    Column("unique_opens"),
    Column("clicks"),
    Column("unique_clicks"),
    Column("open_rate", "rate"),
    Column("click_rate", "rate"),
]


def _regions_table(session: Session, figure: queries.NewsletterFigures, labels: Labels) -> Table:
    """Per region; the unique figures and rates stay empty for an anonymous newsletter."""
    assert figure.id is not None
    anonymous = figure.anonymous
    rows = []
    for region in queries.region_figures(session, figure.id):
        rows.append(
            {
                "region": region.region or labels.text("no_region"),
                "addressed": region.addressed,
                "delivered": region.delivered,
                "bounces": region.bounces,
                "left_out": region.left_out,
                "opens": region.opens,
                "unique_opens": None if anonymous else region.unique_opens,
                "clicks": region.clicks,
                "unique_clicks": None if anonymous else region.unique_clicks,
                "open_rate": None if anonymous else region.open_rate,
                "click_rate": None if anonymous else region.click_rate,
            }
        )
    return Table("regions", REGION_COLUMNS, rows)


def _days_table(day_figures: list[queries.DayFigures]) -> Table:
    return Table(
        "days",
        [
            Column("day"),
            Column("date", "date"),
            Column("opens"),
            Column("clicks"),
            Column("machine_opens"),
            Column("bot_clicks"),
        ],
        [
            {
                "day": d.number,
                "date": d.day,
                "opens": d.opens,
                "clicks": d.clicks,
                "machine_opens": d.machine_opens,
                "bot_clicks": d.bot_clicks,
            }
            for d in day_figures
        ],
    )


def _reasons_table(session: Session, newsletter_id: int, labels: Labels) -> Table:
    return Table(
        "bounce_reasons",
        [
            Column("status", "text"),
            Column("code", "text"),
            Column("meaning", "text"),
            Column("reply", "text"),
            Column("count"),
        ],
        [
            {
                "status": labels.status(reason.status),
                "code": reason.code,
                "meaning": labels.reply_code(reason.code),
                "reply": reason.reply or labels.text("reply_erased"),
                "count": reason.count,
            }
            for reason in queries.bounce_reasons(session, newsletter_id)
        ],
    )


def _days_chart(day_figures: list[queries.DayFigures], labels: Labels) -> Chart:
    return columns(
        "days",
        labels.chart("days"),
        # Without the year (the section's heading says it): « 18 novembre » fits under its day.
        [
            (labels.text("day", number=d.number), labels.date(d.day, year=False))
            for d in day_figures
        ],
        [
            Series(labels.series("opens"), [d.opens for d in day_figures]),
            Series(labels.series("clicks"), [d.clicks for d in day_figures]),
        ],
        labels.integer,
    )


def newsletter_report(
    session: Session, newsletter_id: int, labels: Labels, now: datetime | None = None
) -> Report:
    """One newsletter in detail: its figures, per link, per region, per day, bounce reasons."""
    newsletter = session.get(Newsletter, newsletter_id)
    if newsletter is None:
        raise CampaignError.of("report.unknown_newsletter", id=newsletter_id)
    if newsletter.sent_at is None:
        raise CampaignError.of("report.not_sent", id=newsletter_id, status=newsletter.status)
    period = Period(None, None, labels.zone)
    (figure,) = queries.newsletter_figures(session, period, ids=[newsletter_id])
    return Report("newsletter", period, [detail_section(session, figure, labels)], now or utcnow())
