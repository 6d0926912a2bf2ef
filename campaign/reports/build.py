"""The reports themselves: figures from :mod:`.queries` laid out as tables and charts.

One function per report of the CLI (``newsletters``, ``newsletter``, ``social``,
``subscribers``) and :func:`bilan_report`, all of them together for the yearly HTML or XLSX file.
The column order of the newsletters table is the one the team uses in its yearly report (Titre,
Date, Destinataires, Destinataires réels, Ouvertures, Clics), then the figures they lacked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from campaign.errors import CampaignError
from campaign.models import Newsletter, utcnow
from campaign.reports import queries
from campaign.reports.charts import Chart, LineSeries, Series, columns, grouped_bars, lines
from campaign.reports.labels import Labels
from campaign.reports.model import Column, Period, Report, Section, Table

FOLLOWER_TICKS = 5  # dates under a followers chart
MAX_MONTH_TICKS = 7  # month names under the list growth chart before they overlap

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


def _newsletters_section(figures: Sequence[queries.NewsletterFigures], labels: Labels) -> Section:
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
    return Report("newsletters", period, [_newsletters_section(figures, labels)], now or utcnow())


# --- one newsletter -------------------------------------------------------------------------------


def _detail_section(session: Session, figure: queries.NewsletterFigures, labels: Labels) -> Section:
    assert figure.id is not None
    summary = _newsletter_row(figure, labels, with_title=False)
    summary["failed"] = figure.failed
    summary["not_sent"] = figure.not_sent
    summary_table = Table(
        "summary",
        [c for c in NEWSLETTER_COLUMNS if c.key != "title"]
        + [Column("failed"), Column("not_sent")],
        [summary],
    )
    links = Table(
        "links",
        [Column("url", "url"), Column("clicks"), Column("unique_clicks"), Column("bot_clicks")],
        [vars(link) for link in queries.link_figures(session, figure.id)],
    )
    region_rows = []
    for region in queries.region_figures(session, figure.id):
        region_rows.append(
            {
                "region": region.region or labels.text("no_region"),
                "addressed": region.addressed,
                "delivered": region.delivered,
                "bounces": region.bounces,
                "left_out": region.left_out,
                "opens": region.opens,
                "unique_opens": None if figure.anonymous else region.unique_opens,
                "clicks": region.clicks,
                "unique_clicks": None if figure.anonymous else region.unique_clicks,
                "open_rate": None if figure.anonymous else region.open_rate,
                "click_rate": None if figure.anonymous else region.click_rate,
            }
        )
    regions = Table(
        "regions",
        [
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
        ],
        region_rows,
    )
    day_figures = queries.first_days(session, figure.id, figure.sent_at, labels.zone)
    days = Table(
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
    reasons = Table(
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
            for reason in queries.bounce_reasons(session, figure.id)
        ],
    )
    chart = columns(
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
    return Section(
        "newsletter",
        [summary_table, links, regions, days, reasons],
        [chart],
        subtitle=labels.text(
            "newsletter_heading", title=figure.title, date=labels.date(figure.sent_at)
        ),
        definitions="newsletter",
        merge_as="newsletter",
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
    return Report("newsletter", period, [_detail_section(session, figure, labels)], now or utcnow())


# --- social -------------------------------------------------------------------------------------


def _social_section(
    session: Session,
    period: Period,
    labels: Labels,
    accounts: Sequence[str],
    handles: Mapping[str, str],
) -> Section:
    def shown(account: str) -> str:
        handle = handles.get(account)
        return f"@{handle}" if handle else account

    posts = queries.post_figures(session, period, accounts)
    account_figures = queries.account_figures(session, period, posts, accounts)
    post_table = Table(
        "posts",
        [
            Column("account", "text"),
            Column("published_at", "datetime"),
            Column("text", "text"),
            Column("impressions"),
            Column("likes"),
            Column("reposts"),
            Column("replies"),
            Column("quotes"),
            Column("measured_at", "date"),
        ],
        [
            {
                "account": shown(p.account),
                "published_at": p.published_at,
                "text": p.text,
                "impressions": p.impressions,
                "likes": p.likes,
                "reposts": p.reposts,
                "replies": p.replies,
                "quotes": p.quotes,
                "measured_at": p.measured_at,
            }
            for p in posts
        ],
    )
    account_table = Table(
        "accounts",
        [
            Column("account", "text"),
            Column("first_snapshot", "date"),
            Column("last_snapshot", "date"),
            Column("followers_start"),
            Column("followers_end"),
            Column("new_followers"),
            Column("followers_per_day", "decimal"),
            Column("typed", "text"),
            Column("posts"),
            Column("mentions"),
            Column("reposted_posts"),
            Column("reposts"),
            Column("impressions"),
            Column("likes"),
        ],
        [
            {
                "account": shown(a.account),
                "first_snapshot": a.first.at if a.first else None,
                "last_snapshot": a.last.at if a.last else None,
                "followers_start": a.first.followers if a.first else None,
                "followers_end": a.last.followers if a.last else None,
                "new_followers": a.new_followers,
                "followers_per_day": a.followers_per_day,
                "typed": _typed_note(a, labels),
                "posts": a.posts,
                "mentions": a.mentions,
                "reposted_posts": _unknown_unmeasured(a, a.reposted_posts),
                "reposts": _unknown_unmeasured(a, a.reposts),
                "impressions": _unknown_unmeasured(a, a.impressions),
                "likes": _unknown_unmeasured(a, a.likes),
            }
            for a in account_figures
        ],
        parts=(
            (
                "account",
                "first_snapshot",
                "last_snapshot",
                "followers_start",
                "followers_end",
                "new_followers",
                "followers_per_day",
                "typed",
            ),
            ("account", "posts", "mentions", "reposted_posts", "reposts", "impressions", "likes"),
        ),
    )
    charts = [_followers_chart(a, labels, shown(a.account)) for a in account_figures if a.series]
    return Section("social", [account_table, post_table], charts, definitions="social")


NETWORKS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
BILAN_INFLUENCERS = 30  # the bilan lists the first ones; the social report and files all


def _influencers_section(
    session: Session,
    period: Period,
    accounts: Sequence[str],
    handles: Mapping[str, str],
    limit: int | None = None,
) -> Section:
    """Who mentioned or reposted our accounts in the period, ranked by their followers."""
    found = queries.influencer_figures(session, period, accounts)[:limit]
    table = Table(
        "influencers",
        [
            Column("rank"),
            Column("author", "text"),
            Column("network", "text"),
            Column("author_followers"),
            Column("mentions"),
            Column("reposts"),
            Column("mentioned_accounts", "text"),
            Column("last_mention", "date"),
        ],
        [
            {
                "rank": rank,
                "author": f"@{figure.author.lstrip('@')}",
                "network": NETWORKS.get(figure.network, figure.network),
                "author_followers": figure.followers,
                "mentions": figure.mentions,
                "reposts": figure.reposts,
                "mentioned_accounts": ", ".join(
                    f"@{handles[name]}" if handles.get(name) else name for name in figure.accounts
                ),
                "last_mention": figure.last_at,
            }
            for rank, figure in enumerate(found, 1)
        ],
    )
    return Section("influencers", [table], definitions="influencers")


def _typed_note(account: queries.AccountFigures, labels: Labels) -> str | None:
    """« au début », « à la fin »… when a follower count the row shows was typed by hand."""
    start, end = account.typed()
    if start and end:
        return labels.text("typed_both")
    if start or end:
        return labels.text("typed_start" if start else "typed_end")
    return None


def _unknown_unmeasured(account: queries.AccountFigures, value: int) -> int | None:
    """A post figure summed over the account's posts; unknown when none was ever measured."""
    return None if account.posts and not account.measured_posts else value


def _followers_chart(account: queries.AccountFigures, labels: Labels, shown: str) -> Chart:
    """Followers of one account over the period (one chart each: their sizes differ tenfold)."""
    origin, end = account.series[0].at, account.series[-1].at

    def x(moment: datetime) -> float:
        return (moment - origin).total_seconds() / 86400

    span = x(end)
    count = min(FOLLOWER_TICKS, len(account.series)) if span else 1
    ticks = [
        (span * i / max(1, count - 1), labels.date(origin + (end - origin) * i / max(1, count - 1)))
        for i in range(count)
    ]
    series = [LineSeries(shown, [(x(s.at), s.followers) for s in account.series])]
    return lines(
        f"followers-{account.account}",
        labels.chart("followers", account=shown),
        series,
        ticks,
        labels.integer,
    )


def social_report(
    session: Session,
    period: Period,
    labels: Labels,
    accounts: Sequence[str] = (),
    handles: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Report:
    """Posts with their latest figures, and per account followers, posts, mentions, reposts;
    then who mentioned or reposted the accounts, ranked by their own followers."""
    section = _social_section(session, period, labels, accounts, handles or {})
    influencers = _influencers_section(session, period, accounts, handles or {})
    return Report("social", period, [section, influencers], now or utcnow())


# --- subscribers --------------------------------------------------------------------------------


def _subscribers_section(
    session: Session, period: Period, labels: Labels, now: datetime
) -> Section:
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
    return Report("subscribers", period, [_subscribers_section(session, period, labels, now)], now)


# --- key figures --------------------------------------------------------------------------------


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


# --- everything ---------------------------------------------------------------------------------


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
    sections = [_newsletters_section(figures, labels)]
    sections += [_detail_section(session, figure, labels) for figure in figures]
    sections.append(_subscribers_section(session, period, labels, now))
    sections.append(_social_section(session, period, labels, (), handles or {}))
    sections.append(
        _influencers_section(session, period, (), handles or {}, limit=BILAN_INFLUENCERS)
    )
    tables = [table for section in sections for table in section.tables]
    return Report("bilan", period, [key_figures_section(tables, labels), *sections], now)
