"""The bilan: every report of the period in one, its key figures first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from campaign.models import utcnow
from campaign.reports import queries
from campaign.reports.build.newsletter import detail_section
from campaign.reports.build.newsletters import newsletters_section
from campaign.reports.build.social import BILAN_INFLUENCERS, influencers_section, social_section
from campaign.reports.build.subscribers import subscribers_section
from campaign.reports.labels import Labels
from campaign.reports.model import Column, Period, Report, Section, Table


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value > 0 else text


def _sum(rows: Sequence[Mapping], key: str) -> tuple[int | None, bool]:
    """A column's total over the rows that know it, and whether some rows did not."""
    known = [row[key] for row in rows if row.get(key) is not None]
    return (sum(known) if known else None), len(known) < len(rows)


def _newsletter_key_figures(rows: Sequence[Mapping], labels: Labels) -> list[str]:
    """The 2016 bilan's newsletter sentence, then opens and clicks (totals and uniques)."""
    if not rows:
        return [labels.text("kf_no_newsletter")]
    first, last = rows[0], rows[-1]
    count = labels.integer(len(rows))
    if len(rows) == 1:
        sentences = [
            labels.text(
                "kf_newsletter",
                date=labels.date(first["date"]),
                delivered=labels.integer(first["delivered"]),
            )
        ]
    else:
        change = last["delivered"] - first["delivered"]
        growth = _signed(labels.integer(change), change)
        if first["delivered"]:
            rate = change / first["delivered"]
            growth = labels.text(
                "kf_growth_rate", change=growth, rate=_signed(labels.rate(rate), rate)
            )
        sentences = [
            labels.text(
                "kf_newsletters",
                count=count,
                first_date=labels.date(first["date"]),
                last_date=labels.date(last["date"]),
                first=labels.integer(first["delivered"]),
                last=labels.integer(last["delivered"]),
                growth=growth,
            )
        ]
    for total_key in ("opens", "clicks"):
        total, _ = _sum(rows, total_key)
        figures = [labels.plural(f"kf_{total_key}", total or 0, count=labels.integer(total or 0))]
        unique, partial = _sum(rows, f"unique_{total_key}")
        if unique is not None:
            figure = labels.plural(f"kf_unique_{total_key}", unique, count=labels.integer(unique))
            figures.append(labels.text("kf_partial", figure=figure) if partial else figure)
        sentences.append(labels.text("kf_figures", figures=", ".join(figures)))
    return sentences


def _account_key_figures(row: Mapping, labels: Labels) -> list[str]:
    """Followers at the end with new followers a day; posts, mentions, posts reposted."""
    sentences = []
    account = row["account"]
    if row.get("followers_end") is not None:
        values = {
            "account": account,
            "followers": labels.integer(row["followers_end"]),
            "date": labels.date(row["last_snapshot"]),
        }
        if row.get("followers_per_day") is None:
            sentences.append(labels.text("kf_followers", **values))
        else:
            per_day = labels.cell(row["followers_per_day"], "decimal")
            sentences.append(labels.text("kf_followers_per_day", per_day=per_day, **values))
    figures = [labels.plural("kf_posts", row["posts"], count=labels.integer(row["posts"]))]
    for key in ("mentions", "reposted_posts"):
        if row.get(key) is not None:
            figures.append(labels.plural(f"kf_{key}", row[key], count=labels.integer(row[key])))
    sentences.append(labels.text("kf_posts", account=account, figures=", ".join(figures)))
    return sentences


def key_figures_section(tables: Sequence[Table], labels: Labels) -> Section:
    """The bilan's opening: its key figures as sentences the team pastes into its own report.

    Each figure is read from the tables that follow (the first ``newsletters`` and ``accounts``
    tables among ``tables``), never counted again, so a sentence always says what its table
    says: recipients (delivered) at the first and last newsletter and how they grew, newsletters
    sent, total and unique opens and clicks; per account its followers at the last measurement
    with the new followers a day, its posts, the posts mentioning it and its posts reposted.
    """
    found: dict[str, Table] = {}
    for table in tables:
        found.setdefault(table.key, table)
    rows = []
    if "newsletters" in found:
        topic = labels.report("newsletters")
        for sentence in _newsletter_key_figures(found["newsletters"].rows, labels):
            rows.append({"topic": topic, "sentence": sentence})
    if "accounts" in found:
        for account in found["accounts"].rows:
            for sentence in _account_key_figures(account, labels):
                rows.append({"topic": account["account"], "sentence": sentence})
    table = Table("key_figures", [Column("topic", "text"), Column("sentence", "text")], rows)
    return Section("key_figures", [table], definitions="key_figures")


def bilan_report(
    session: Session,
    period: Period,
    labels: Labels,
    handles: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Report:
    """Every report of the period in one: its key figures first, then newsletters (and each in
    detail), subscribers, social."""
    now = now or utcnow()
    figures = queries.newsletter_figures(session, period)
    sections = [newsletters_section(figures, labels)]
    sections += [detail_section(session, figure, labels) for figure in figures]
    sections.append(subscribers_section(session, period, labels, now))
    sections.append(social_section(session, period, labels, (), handles or {}))
    sections.append(
        influencers_section(session, period, (), handles or {}, limit=BILAN_INFLUENCERS)
    )
    tables = [table for section in sections for table in section.tables]
    return Report("bilan", period, [key_figures_section(tables, labels), *sections], now)
