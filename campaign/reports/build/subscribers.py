"""The subscribers report: list size by month, joining and leaving, by region and source."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy.orm import Session

from campaign.models import utcnow
from campaign.reports import queries
from campaign.reports.charts import LineSeries, lines
from campaign.reports.labels import Labels
from campaign.reports.model import Column, Period, Report, Section, Table

MAX_MONTH_TICKS = 7  # month names under the list growth chart before they overlap


def subscribers_section(session: Session, period: Period, labels: Labels, now: datetime) -> Section:
    figures = queries.subscriber_figures(session, period, now)
    months = Table(
        "months",
        [
            Column("month", "month"),
            Column("joined"),
            Column("unsubscribes"),
            Column("bounced"),
            Column("complained"),
            Column("subscribers"),
        ],
        [vars(m) for m in figures.months],
    )
    group_columns = [Column("subscribers"), Column("joined"), Column("left")]

    def group_rows(groups: list[queries.GroupFigures], key: str, empty: str) -> list[dict]:
        return [
            {key: g.name or labels.text(empty), **{c.key: getattr(g, c.key) for c in group_columns}}
            for g in groups
        ]

    by_region = Table(
        "by_region",
        [Column("region", "text"), *group_columns],
        group_rows(figures.by_region, "region", "no_region"),
    )
    by_source = Table(
        "by_source",
        [Column("source", "text"), *group_columns],
        group_rows(figures.by_source, "source", "no_source"),
    )
    charts = []
    if figures.months:
        every = math.ceil(len(figures.months) / MAX_MONTH_TICKS)
        charts.append(
            lines(
                "list_growth",
                labels.chart("list_growth"),
                [
                    LineSeries(
                        labels.series("subscribers"),
                        [(i, m.subscribers) for i, m in enumerate(figures.months)],
                    )
                ],
                [
                    (i, labels.month(m.month))
                    for i, m in enumerate(figures.months)
                    if i % every == 0
                ],
                labels.integer,
            )
        )
    return Section("subscribers", [months, by_region, by_source], charts, definitions="subscribers")


def subscribers_report(
    session: Session, period: Period, labels: Labels, now: datetime | None = None
) -> Report:
    """List size month by month, people joining and leaving, by region and by source."""
    now = now or utcnow()
    return Report("subscribers", period, [subscribers_section(session, period, labels, now)], now)
