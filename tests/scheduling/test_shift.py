"""The sample calendar replayed from now, as the demo does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import Newsletter, Post, PostStatus
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.shift import replay_calendar, shift_calendar
from campaign.scheduling.sync import apply_calendars

from .conftest import SAMPLE_CALENDAR, import_samples


def test_the_sample_calendar_replays_from_now_in_order_and_syncs_under_its_own_name(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    calendar = check_calendar(SAMPLE_CALENDAR, settings, session)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    shifted = shift_calendar(calendar, session, settings, start=start, gap=timedelta(seconds=4))

    entries = sorted(shifted.newsletters + shifted.posts, key=lambda entry: entry.at)
    assert [entry.at for entry in entries] == [
        start + number * timedelta(seconds=4) for number in range(len(entries))
    ]
    # The original order: the prize call first, the end of the Mois last.
    assert entries[0].key == "prix-annonce" and entries[-1].key == "mois-bilan"
    assert len(shifted.newsletters) == 7
    event_posts = [post for post in shifted.posts if post.event_ids]
    assert len(event_posts) == 3 and all("#MoisESS" in post.text for post in event_posts)
    original = {entry.key: entry for entry in calendar.newsletters}
    assert all(entry.event_rule == original[entry.key].event_rule for entry in shifted.newsletters)
    assert shifted.recurring == []

    report = apply_calendars(session, settings, [shifted], {shifted.stem})
    assert report.count("create") == len(entries) and report.count("skipped") == 0
    keys = {post.schedule_key for post in session.exec(select(Post))}
    assert all(key.startswith("demo-mois-ess-2026/") for key in keys)
    assert {post.status for post in session.exec(select(Post))} == {PostStatus.scheduled}
    first = session.exec(
        select(Newsletter).where(Newsletter.schedule_key == "demo-mois-ess-2026/prix-annonce")
    ).one()
    assert first.scheduled_at == start


def test_replaying_the_sample_calendar_twice_moves_only_what_is_still_waiting(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    first = replay_calendar(session, settings, SAMPLE_CALENDAR, start=start)
    assert first.count("create") == 20
    post = session.exec(select(Post).order_by(Post.scheduled_at)).first()
    post.status = PostStatus.published
    session.add(post)
    session.commit()
    again = replay_calendar(session, settings, SAMPLE_CALENDAR, start=start + timedelta(hours=1))
    assert again.count("update") == 19
    assert [change.key for change in again.changes if change.action == "kept"] == [
        post.schedule_key
    ]


def test_a_replay_may_narrow_every_newsletter_to_one_region(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    replay_calendar(
        session, settings, SAMPLE_CALENDAR, start=start, segment={"region": ["Bretagne"]}
    )
    newsletters = session.exec(select(Newsletter)).all()
    assert len(newsletters) == 7
    assert all(newsletter.segment == {"region": ["Bretagne"]} for newsletter in newsletters)
