"""The newsletters report: one row per newsletter sent in the period, and a chart.

The column order of the table is the one the team uses in its yearly report (Titre, Date,
Destinataires, Destinataires réels, Ouvertures, Clics), then the figures they lacked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from campaign.models import utcnow
from campaign.reports import queries
from campaign.reports.charts import Chart, Series, grouped_bars
from campaign.reports.labels import Labels
from campaign.reports.model import Column, Period, Report, Section, Table

NEWSLETTER_COLUMNS = [
    Column("title", "text"),
    Column("date", "date"),
    Column("addressed"),
    Column("delivered"),
    Column("opens"),
    Column("clicks"),
    Column("unique_opens"),
    Column("unique_clicks"),
    Column("open_rate", "rate"),
    Column("click_rate", "rate"),
    Column("click_to_open", "rate"),
    Column("unsubscribes"),
    Column("bounces"),
    Column("machine_opens"),
    Column("bot_clicks"),
    Column("left_out"),
]


def _newsletter_row(
    figure: queries.NewsletterFigures, labels: Labels, with_title: bool = True
) -> dict:
    unique_opens, unique_clicks = figure.uniques()
    row = {
        "title": figure.title,
        "date": figure.sent_at.astimezone(labels.zone).date(),
        "addressed": figure.addressed,
        "delivered": figure.delivered,
        "opens": figure.opens,
        "clicks": figure.clicks,
        "unique_opens": unique_opens,
        "unique_clicks": unique_clicks,
        "open_rate": figure.open_rate,
        "click_rate": figure.click_rate,
        "click_to_open": figure.click_to_open,
        "unsubscribes": figure.unsubscribes,
        "bounces": figure.bounces,
        "machine_opens": figure.machine_opens,
        "bot_clicks": figure.bot_clicks,
        "left_out": figure.left_out,
    }
    if not with_title:
        del row["title"]
    return row


def _opens_clicks_chart(figures: Sequence[queries.NewsletterFigures], labels: Labels) -> Chart:
    return grouped_bars(
        "opens_clicks",
        labels.chart("opens_clicks"),
        [f"{labels.date(f.sent_at)} — {f.title}" for f in figures],
        [
            Series(labels.series("opens"), [f.opens for f in figures]),
            Series(labels.series("clicks"), [f.clicks for f in figures]),
        ],
        labels.integer,
    )


def newsletters_section(figures: Sequence[queries.NewsletterFigures], labels: Labels) -> Section:
    table = Table(
        "newsletters",
        NEWSLETTER_COLUMNS,
        [_newsletter_row(f, labels) for f in figures],
        parts=(
            tuple(c.key for c in NEWSLETTER_COLUMNS[:6]),
            # Each part names the newsletter by its title, as the team's table does.
            ("title", "date", *(c.key for c in NEWSLETTER_COLUMNS[6:])),
        ),
    )
    charts = [_opens_clicks_chart(figures, labels)] if figures else []
    return Section("newsletters", [table], charts, definitions="newsletters")


def newsletters_report(
    session: Session, period: Period, labels: Labels, now: datetime | None = None
) -> Report:
    """One row per newsletter sent in the period, in the order they were sent."""
    figures = queries.newsletter_figures(session, period)
    return Report("newsletters", period, [newsletters_section(figures, labels)], now or utcnow())
