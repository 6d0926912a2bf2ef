"""The hit recorder on a real database: batches, held clicks, closing writes everything."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import Delivery, Hit, HitClass, Link, Newsletter
from campaign.tracking.classify import PendingHit, Rules
from campaign.tracking.hits import HitRecorder

AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def _newsletter(session: Session, deliveries: int = 3) -> tuple[int, list[int], list[int]]:
    newsletter = Newsletter(title="T", subject="S", template="mois-ess")
    session.add(newsletter)
    session.flush()
    sent = datetime.now(UTC) - timedelta(hours=1)
    rows = [
        Delivery(newsletter_id=newsletter.id, email=f"p{i}@example.org", sent_at=sent)
        for i in range(deliveries)
    ]
    links = [Link(newsletter_id=newsletter.id, url=f"https://example.org/{i}") for i in range(2)]
    session.add_all(rows + links)
    session.commit()
    return newsletter.id, [row.id for row in rows], [link.id for link in links]


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Hit)).one()


def test_closing_writes_every_hit_even_held_clicks(engine: Engine, session: Session) -> None:
    newsletter_id, deliveries, links = _newsletter(session)
    settings = Settings()
    settings.tracking.burst_seconds = 60  # clicks are held that long
    rules = Rules.from_settings(settings)
    recorder = HitRecorder(engine, rules, flush_seconds=0.05)
    recorder.start()
    now = time.time()
    for number in range(1200):
        delivery = deliveries[number % 3]
        recorder.record(PendingHit("open", now, delivery, None, None, AGENT, "192.0.2.0/24"))
        recorder.record(
            PendingHit("click", now, delivery, newsletter_id, links[0], AGENT, "192.0.2.0/24")
        )
    deadline = time.monotonic() + 30
    while _count(engine) < 1200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(engine) == 1200  # the opens are written, the clicks held
    recorder.close()
    assert _count(engine) == 2400 and recorder.written == 2400 and recorder.waiting == 0
    with Session(engine) as check:
        kinds = dict(check.exec(select(Hit.kind, func.count()).group_by(Hit.kind)).all())
        assert kinds == {"open": 1200, "click": 1200}
        labels = set(check.exec(select(Hit.classification)).all())
        assert labels == {HitClass.human}


def test_hits_naming_a_deleted_delivery_are_dropped_not_fatal(
    engine: Engine, session: Session
) -> None:
    newsletter_id, deliveries, _links = _newsletter(session)
    recorder = HitRecorder(engine, Rules.from_settings(Settings()), flush_seconds=0.05)
    now = time.time()
    recorder.record(PendingHit("open", now, deliveries[0], None, None, AGENT, ""))
    recorder.record(PendingHit("open", now, 999_999, None, None, AGENT, ""))
    recorder.record(PendingHit("open", now, None, 999_999, None, AGENT, ""))  # anonymous
    recorder.record(PendingHit("open", now, None, newsletter_id, None, AGENT, ""))
    recorder.close()  # never started: closing writes synchronously
    assert _count(engine) == 2 and recorder.dropped == 2


def test_hits_wait_in_memory_while_the_database_refuses_them(
    engine: Engine, session: Session
) -> None:
    _, deliveries, _ = _newsletter(session)
    recorder = HitRecorder(engine, Rules.from_settings(Settings()), flush_seconds=0.05)
    recorder.start()
    with engine.begin() as connection:  # the table goes away: every insert fails
        connection.execute(text("ALTER TABLE hit RENAME TO hit_away"))
    try:
        for delivery in deliveries * 4:
            recorder.record(PendingHit("open", time.time(), delivery, None, None, AGENT, ""))
        time.sleep(0.5)  # a few failing cycles
        assert recorder.waiting == 12 and recorder.written == 0
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE hit_away RENAME TO hit"))
    recorder.close()
    assert _count(engine) == 12 and recorder.dropped == 0
