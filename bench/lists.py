"""Benchmark of merging two lists: two lists of 50,000 people each, merged on SQLite.

Duplicate lists ("Newsletter Nationale" and "Newsletter nationale") are merged by an admin from
the dashboard, within a web request: the merge must take under 5 seconds for two lists of 50,000
people on a small machine. It runs as a few set-based statements (``INSERT … SELECT … WHERE NOT
EXISTS``, ``UPDATE``, ``DELETE``), so its time grows with the tables, not with a loop per person.

The lists overlap by a fifth (people on both end up once), a tenth of each list's members had
left it, and every membership has its consent line, as after real imports.

Run: ``.venv/bin/python bench/lists.py`` (``--people 100000`` for other sizes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session

TARGET_SECONDS = 5.0


def build(session: Session, people: int) -> None:
    """Two lists of ``people`` members each, a fifth of them on both, with consent lines."""
    from campaign.models import (
        ConsentAction,
        ConsentEvent,
        MailingList,
        Membership,
        Subscriber,
        utcnow,
    )

    now = utcnow()
    first, second = (
        MailingList(name="Newsletter Nationale"),
        MailingList(name="Newsletter nationale"),
    )
    session.add_all([first, second])
    session.flush()
    overlap = people // 5
    total = 2 * people - overlap
    session.exec(
        insert(Subscriber),
        params=[
            {
                "email": f"personne{number}@exemple-ess.fr",
                "first_name": "Élise",
                "attributes": {},
                "status": "active",
                "created_at": now,
                "updated_at": now,
                "status_changed_at": now,
            }
            for number in range(total)
        ],
    )
    first_id = session.exec(text("SELECT min(id) FROM subscriber")).one()[0]
    members = []
    for list_id, numbers in (
        (first.id, range(people)),
        (second.id, range(people - overlap, total)),
    ):
        for number in numbers:
            left = now - timedelta(days=number % 30) if number % 10 == 0 else None
            members.append(
                {
                    "subscriber_id": first_id + number,
                    "list_id": list_id,
                    "subscribed_at": now - timedelta(days=60 + number % 7),
                    "unsubscribed_at": left,
                }
            )
    session.exec(insert(Membership), params=members)
    session.exec(
        insert(ConsentEvent),
        params=[
            {
                "subscriber_id": row["subscriber_id"],
                "list_id": row["list_id"],
                "at": row["subscribed_at"],
                "action": ConsentAction.subscribed.value,
                "method": "import",
                "actor": "bench",
            }
            for row in members
        ],
    )
    session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000, help="members of each list")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from campaign.audience.lists import merge_lists
    from campaign.db import open_database

    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        with Session(engine) as session:
            started = time.perf_counter()
            build(session, args.people)
            built = time.perf_counter() - started
            started = time.perf_counter()
            outcome = merge_lists(
                session,
                "Newsletter Nationale",
                "Newsletter nationale",
                actor="bench",
                method="manual",
            )
            session.commit()
            seconds = time.perf_counter() - started
        engine.dispose()
    print(f"two lists of {args.people:,} people built in {built:.1f} s")
    print(
        f"merge: {seconds:.2f} s ({outcome.moved:,} moved, {outcome.both:,} on both lists) "
        f"— target under {TARGET_SECONDS:.0f} s: {'ok' if seconds < TARGET_SECONDS else 'TOO SLOW'}"
    )
    return 0 if seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
