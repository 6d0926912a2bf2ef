"""Benchmark of ``campaign report newsletters`` on a year far bigger than the team's.

A year of the Mois de l'ESS is about 10 newsletters to 4,000 people; this benchmark makes 50
newsletters, 1,000,000 deliveries and 3,000,000 hits (human and machine opens, human and bot
clicks, some anonymous, repeated opens), written straight through the database driver (SQLite
``executemany``, PostgreSQL ``COPY``) into a schema built by the real migrations. It then times
the newsletters report (the goal: under 2 seconds on SQLite on the development machine), beside
a baseline in the same run: the obvious way, a few ``COUNT`` queries per newsletter. It prints the
figures of every newsletter, and with PostgreSQL (``--postgres URL`` or
``CAMPAIGN_TEST_DATABASE_URL``) checks that both engines give the same figures.

Run: ``.venv/bin/python bench/report.py`` (``--deliveries 100000 --hits 300000`` for a quick
run; ``--sqlite-only`` to leave PostgreSQL out).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from campaign.db import normalise_url, open_database
from campaign.models import Delivery, Hit
from campaign.reports import Labels, Period, newsletters_report
from campaign.reports.attribution import newsletter_source
from campaign.reports.queries import NewsletterFigures, newsletter_figures

GOAL_SECONDS = 2.0
LINKS_PER_NEWSLETTER = 10
FIRST_SEND = datetime(2016, 1, 12, 9, 0, tzinfo=UTC)
REPLIES = [
    "550 5.1.1 <{email}>: Recipient address rejected: User unknown",
    "552 5.2.2 <{email}>: Mailbox full",
    "550 5.7.1 Message rejected as spam",
]


def sql_time(moment: datetime) -> str:
    """How the UTCDateTime column stores a moment (naive UTC), as the driver writes it."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


class History:
    """The generated rows, deterministic for a seed, produced in streams (never all at once)."""

    def __init__(self, newsletters: int, deliveries: int, hits: int, seed: int = 2016) -> None:
        self.newsletters = newsletters
        self.per_newsletter = deliveries // newsletters
        self.hits_per_newsletter = hits // newsletters
        self.subscribers = int(self.per_newsletter * 1.25)
        self.seed = seed

    def sent_at(self, number: int) -> datetime:
        return FIRST_SEND + timedelta(days=7 * number, hours=number % 5)

    def subscriber_rows(self) -> Iterator[tuple]:
        created = sql_time(FIRST_SEND - timedelta(days=30))
        regions = ["Bretagne", "Occitanie", "Normandie", "Grand Est", "Île-de-France", ""]
        for number in range(1, self.subscribers + 1):
            yield (
                number,
                f"p{number}@exemple-ess.fr",
                regions[number % len(regions)],
                "active",
                "import.csv",
                created,
                created,
                created,
            )

    def newsletter_rows(self) -> Iterator[tuple]:
        now = sql_time(FIRST_SEND)
        for number in range(1, self.newsletters + 1):
            yield (
                number,
                f"Newsletter {number} du Mois de l'ESS",
                f"Newsletter {number}",
                "mois-ess",
                "sent",
                sql_time(self.sent_at(number)),
                number % 10 == 0,  # every tenth is tracked anonymously
                now,
                now,
            )

    def delivery_id(self, newsletter: int, index: int) -> int:
        return (newsletter - 1) * self.per_newsletter + index + 1

    def delivery_rows(self) -> Iterator[tuple]:
        rng = random.Random(self.seed)
        for newsletter in range(1, self.newsletters + 1):
            people = rng.sample(range(1, self.subscribers + 1), self.per_newsletter)
            sent = sql_time(self.sent_at(newsletter))
            for index, subscriber in enumerate(people):
                draw = rng.random()
                email = f"p{subscriber}@exemple-ess.fr"
                if draw < 0.02:
                    status, reply = "bounced", rng.choice(REPLIES).format(email=email)
                elif draw < 0.025:
                    status, reply = "failed", "Invalid address"
                else:
                    status, reply = "sent", "250 2.0.0 Ok"
                yield (
                    self.delivery_id(newsletter, index),
                    newsletter,
                    subscriber,
                    email,
                    status,
                    1,
                    reply,
                    "",
                    sent,
                    sent,
                    sent,
                )

    def link_rows(self) -> Iterator[tuple]:
        for newsletter in range(1, self.newsletters + 1):
            for number in range(LINKS_PER_NEWSLETTER):
                link_id = (newsletter - 1) * LINKS_PER_NEWSLETTER + number + 1
                url = f"https://www.lemois-ess.org/n{newsletter}/lien-{number}"
                yield (link_id, newsletter, url, sql_time(self.sent_at(newsletter)))

    def hit_rows(self) -> Iterator[tuple]:
        """Opens (60% human, 15% machine) and clicks (20% human, 5% bot) on a quarter of the
        recipients each (so most readers open several times); 3% without a delivery."""
        rng = random.Random(self.seed + 1)
        for newsletter in range(1, self.newsletters + 1):
            anonymous = newsletter % 10 == 0
            start = self.sent_at(newsletter)
            readers = self.per_newsletter // 4
            for _ in range(self.hits_per_newsletter):
                draw = rng.random()
                kind, classification = (
                    ("open", "human")
                    if draw < 0.60
                    else ("open", "machine")
                    if draw < 0.75
                    else ("click", "human")
                    if draw < 0.95
                    else ("click", "bot")
                )
                delivery = None
                if not anonymous and rng.random() >= 0.03:
                    delivery = self.delivery_id(newsletter, rng.randrange(readers))
                link = None
                if kind == "click":
                    link = (newsletter - 1) * LINKS_PER_NEWSLETTER + rng.randrange(10) + 1
                moment = start + timedelta(seconds=rng.randrange(10 * 86400))
                yield (
                    sql_time(moment),
                    kind,
                    classification,
                    "",
                    newsletter,
                    delivery,
                    link,
                    "",
                    "",
                )

    def unsubscribe_rows(self) -> Iterator[tuple]:
        rng = random.Random(self.seed + 2)
        for newsletter in range(1, self.newsletters + 1):
            for _ in range(self.per_newsletter // 200):
                index = rng.randrange(self.per_newsletter)
                subscriber = index + 1  # any person: attribution only reads the source text
                source = newsletter_source(newsletter, self.delivery_id(newsletter, index))
                moment = sql_time(self.sent_at(newsletter) + timedelta(hours=2))
                yield (subscriber, moment, "unsubscribed", "link", source, "web", "")


TABLES = {
    "subscriber": (
        "id, email, region, status, source, created_at, updated_at, status_changed_at",
        "subscriber_rows",
    ),
    "newsletter": (
        "id, title, subject, template, status, sent_at, anonymous_tracking, created_at, updated_at",
        "newsletter_rows",
    ),
    "delivery": (
        "id, newsletter_id, subscriber_id, email, status, attempts, last_reply, group_key, "
        "created_at, sent_at, updated_at",
        "delivery_rows",
    ),
    "link": ("id, newsletter_id, url, created_at", "link_rows"),
    "hit": (
        "at, kind, classification, reason, newsletter_id, delivery_id, link_id, user_agent, "
        "ip_prefix",
        "hit_rows",
    ),
    "consent_event": (
        "subscriber_id, at, action, method, source, actor, detail",
        "unsubscribe_rows",
    ),
}
# JSON columns without a server default, filled for every subscriber and newsletter.
EXTRA_DEFAULTS = {
    "subscriber": {
        "first_name": "",
        "last_name": "",
        "organisation": "",
        "postcode": "",
        "language": "fr",
        "attributes": "{}",
    },
    "newsletter": {
        "preheader": "",
        "from_name": "",
        "from_address": "",
        "list_ids": "[]",
        "segment": "{}",
        "event_rule": "{}",
        "content": "{}",
        "created_by": "bench",
    },
}


def _columns_and_rows(history: History, table: str) -> tuple[list[str], Iterator[tuple]]:
    columns, method = TABLES[table]
    names = [name.strip() for name in columns.split(",")]
    extra = EXTRA_DEFAULTS.get(table, {})
    rows = getattr(history, method)()
    if extra:
        names += list(extra)
        rows = (row + tuple(extra.values()) for row in rows)
    return names, rows


def _batches(rows: Iterator[tuple], size: int = 50_000) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_sqlite(engine, history: History) -> None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")  # the generator keeps them right; faster load
        cursor.execute("PRAGMA synchronous=OFF")
        for table in TABLES:
            names, rows = _columns_and_rows(history, table)
            marks = ", ".join("?" for _ in names)
            statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
            for batch in _batches(rows):
                cursor.executemany(statement, batch)
            connection.commit()
        cursor.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def load_postgres(engine, history: History) -> None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table in TABLES:
            names, rows = _columns_and_rows(history, table)
            with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            connection.commit()
        for table in ("subscriber", "newsletter", "delivery", "link"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        connection.commit()
        # What autovacuum does to a settled database: statistics, and the visibility map that
        # lets counts read the index alone.
        connection.driver_connection.autocommit = True
        connection.driver_connection.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def naive_figures(session: Session, ids: list[int]) -> dict[int, tuple]:
    """The baseline: for each newsletter, one COUNT per figure (the first way one writes it)."""
    result = {}
    delivery, hit = Delivery.__table__.c, Hit.__table__.c  # type: ignore[attr-defined]
    for newsletter_id in ids:

        def count(*conditions, _id=newsletter_id):
            return session.execute(
                select(func.count()).where(hit.newsletter_id == _id, *conditions)
            ).scalar_one()

        def distinct(kind, _id=newsletter_id):
            return session.execute(
                select(func.count(hit.delivery_id.distinct())).where(
                    hit.newsletter_id == _id, hit.kind == kind, hit.classification == "human"
                )
            ).scalar_one()

        def deliveries(*statuses, _id=newsletter_id):
            query = select(func.count()).where(delivery.newsletter_id == _id)
            if statuses:
                query = query.where(delivery.status.in_(statuses))
            return session.execute(query).scalar_one()

        result[newsletter_id] = (
            deliveries(),
            deliveries("sent"),
            count(hit.kind == "open", hit.classification == "human"),
            count(hit.kind == "click", hit.classification == "human"),
            distinct("open"),
            distinct("click"),
            count(hit.kind == "open", hit.classification == "machine"),
            count(hit.kind == "click", hit.classification == "bot"),
            deliveries("bounced"),
        )
    return result


def key_figures(figure: NewsletterFigures) -> tuple:
    return (
        figure.addressed,
        figure.delivered,
        figure.opens,
        figure.clicks,
        figure.unique_opens,
        figure.unique_clicks,
        figure.machine_opens,
        figure.bot_clicks,
        figure.bounces,
    )


def timed(action: Callable[[], object], runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return times, result


def measure(name: str, url: str, history: History, runs: int) -> list[NewsletterFigures]:
    paris = ZoneInfo("Europe/Paris")
    labels = Labels.load("fr", paris)
    period = Period(None, None, paris)
    engine = open_database(url)
    started = time.perf_counter()
    (load_sqlite if name == "SQLite" else load_postgres)(engine, history)
    loaded = time.perf_counter() - started
    print(f"\n{name}: generated and loaded in {loaded:.1f} s")
    with Session(engine) as session:
        counts = {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("delivery", "hit")
        }
        print(f"  rows: {counts['delivery']:,} deliveries, {counts['hit']:,} hits")
        times, report = timed(lambda: newsletters_report(session, period, labels), runs)
        figures = newsletter_figures(session, period)
        ids = [figure.id for figure in figures]
        baseline_times, naive = timed(lambda: naive_figures(session, ids), 1)
    engine.dispose()
    assert len(report.tables()[0].rows) == len(figures)  # type: ignore[attr-defined]
    for figure in figures:
        expected = naive[figure.id]  # type: ignore[index]
        assert key_figures(figure) == expected, (figure.id, key_figures(figure), expected)
    environment = {**os.environ, "CAMPAIGN_DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "campaign", "report", "newsletters", "--format", "json"],
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    command = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "campaign", "--version"],
        env=environment,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    startup = time.perf_counter() - started
    best, median = min(times), statistics.median(times)
    full_size = history.per_newsletter * history.newsletters >= 1_000_000 and (
        history.hits_per_newsletter * history.newsletters >= 3_000_000
    )
    verdict = ""
    if name == "SQLite" and full_size:
        goal = "goal met" if best < GOAL_SECONDS else "GOAL MISSED"
        verdict = f" ({goal}: under {GOAL_SECONDS:.0f} s)"
    elif name == "SQLite":
        verdict = " (the 2 s goal is for the full size)"
    print(
        f"  report newsletters (library call): best {best:.2f} s, median {median:.2f} s "
        f"of {runs} runs{verdict}"
    )
    print(
        f"  baseline, a few COUNT queries per newsletter: {baseline_times[0]:.2f} s (same figures)"
    )
    print(
        f"  `campaign report newsletters --format json`, whole command: {command:.2f} s "
        f"(of which {startup:.2f} s is starting Python and importing the CLI: "
        "`campaign --version` alone)"
    )
    return figures


def print_figures(figures: list[NewsletterFigures]) -> None:
    header = (
        f"{'id':>3} {'date':>10} {'addressed':>9} {'delivered':>9} {'opens':>7} {'clicks':>7} "
        f"{'u.opens':>7} {'u.clicks':>8} {'open%':>6} {'unsub':>5} {'bounce':>6} "
        f"{'machine':>7} {'bot':>5}"
    )
    print("\nFigures (SQLite):")
    print(header)
    for f in figures:
        unique_opens, unique_clicks = f.uniques()
        rate = f"{f.open_rate:.1%}" if f.open_rate is not None else "—"
        print(
            f"{f.id:>3} {f.sent_at:%Y-%m-%d} {f.addressed:>9} {f.delivered:>9} {f.opens:>7} "
            f"{f.clicks:>7} {unique_opens if unique_opens is not None else '—':>7} "
            f"{unique_clicks if unique_clicks is not None else '—':>8} {rate:>6} "
            f"{f.unsubscribes:>5} {f.bounces:>6} {f.machine_opens:>7} {f.bot_clicks:>5}"
        )
    total = sum(f.addressed for f in figures), sum(f.opens + f.machine_opens for f in figures)
    print(
        f"total: {total[0]:,} addressed, {sum(f.opens for f in figures):,} human opens, "
        f"{sum(f.clicks for f in figures):,} human clicks, "
        f"{sum(f.machine_opens for f in figures):,} machine opens, "
        f"{sum(f.bot_clicks for f in figures):,} bot clicks"
    )


def postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"campaign_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{normalise_url(admin_url).rsplit('/', 1)[0]}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--newsletters", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--hits", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the report")
    parser.add_argument("--postgres", help="PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out")
    arguments = parser.parse_args()
    history = History(arguments.newsletters, arguments.deliveries, arguments.hits)
    print(
        f"{arguments.newsletters} newsletters, {history.per_newsletter * arguments.newsletters:,}"
        f" deliveries, {history.hits_per_newsletter * arguments.newsletters:,} hits "
        f"({history.subscribers:,} subscribers)"
    )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        sqlite_figures = measure("SQLite", url, history, arguments.runs)
    print_figures(sqlite_figures)
    server = (
        None
        if arguments.sqlite_only
        else (arguments.postgres or os.environ.get("CAMPAIGN_TEST_DATABASE_URL"))
    )
    if not server:
        print("\nPostgreSQL: not measured (give --postgres URL or set CAMPAIGN_TEST_DATABASE_URL)")
        return
    url, drop = postgres_database(server)
    try:
        postgres_figures = measure("PostgreSQL", url, history, arguments.runs)
    finally:
        drop()
    same = [vars(f) for f in sqlite_figures] == [vars(f) for f in postgres_figures]
    print(f"\nSQLite and PostgreSQL give the same figures: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
