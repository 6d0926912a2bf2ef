"""The social report: accounts (followers, mentions), posts, and who spoke of us."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from campaign.models import utcnow
from campaign.reports import queries
from campaign.reports.charts import Chart, LineSeries, lines
from campaign.reports.labels import Labels
from campaign.reports.model import Column, Period, Report, Section, Table

FOLLOWER_TICKS = 5  # dates under a followers chart


def social_section(
    session: Session,
    period: Period,
    labels: Labels,
    accounts: Sequence[str],
    handles: Mapping[str, str],
) -> Section:
    """The accounts and their posts, with a followers chart for each account measured."""

    def shown(account: str) -> str:
        handle = handles.get(account)
        return f"@{handle}" if handle else account

    posts = queries.post_figures(session, period, accounts)
    account_figures = queries.account_figures(session, period, posts, accounts)
    tables = [
        _accounts_table(account_figures, labels, shown),
        _posts_table(posts, shown),
    ]
    charts = [_followers_chart(a, labels, shown(a.account)) for a in account_figures if a.series]
    return Section("social", tables, charts, definitions="social")


def _posts_table(posts: list[queries.PostFigures], shown: Callable[[str], str]) -> Table:
    return Table(
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


def _accounts_table(
    account_figures: list[queries.AccountFigures], labels: Labels, shown: Callable[[str], str]
) -> Table:
    """One row per account, in two parts in narrow layouts: followers, then posts."""
    return Table(
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


NETWORKS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
BILAN_INFLUENCERS = 30  # the bilan lists the first ones; the social report and files all


def influencers_section(
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
    section = social_section(session, period, labels, accounts, handles or {})
    influencers = influencers_section(session, period, accounts, handles or {})
    return Report("social", period, [section, influencers], now or utcnow())
