"""The sample calendar replayed from now, as the demo does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import Newsletter, Post, PostStatus
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.shift import replay_calendar, shift_calendar
from campaign.scheduling.sync import apply_calendars
from campaign.social.posts import edit_post

from .conftest import SAMPLE_CALENDAR, import_samples

BEFORE_THE_MOIS = datetime(2026, 10, 1, 8, tzinfo=UTC)
"""The replays' start: event posts announce events still to come (the sample's are in November)."""


def test_the_sample_calendar_replays_from_now_in_order_and_syncs_under_its_own_name(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    calendar = check_calendar(SAMPLE_CALENDAR, settings, session, now=BEFORE_THE_MOIS)
    start = BEFORE_THE_MOIS
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
    # Written for their new day (1 October), a month before the events: no "Aujourd'hui"; as
    # every post, without the year (one renderer for the calendar, the CLI and the planner).
    assert all(post.text.startswith("Lundi 2 novembre") for post in event_posts)
    assert not any("Aujourd'hui" in post.text or "2026" in post.text for post in event_posts)
    original = {entry.key: entry for entry in calendar.newsletters}
    assert all(entry.event_rule == original[entry.key].event_rule for entry in shifted.newsletters)
    assert shifted.recurring == []

    report = apply_calendars(session, settings, [shifted], {shifted.stem}, now=start)
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
    start = BEFORE_THE_MOIS
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


def _event_posts(session: Session) -> list[Post]:
    posts = session.exec(select(Post).order_by(Post.schedule_key)).all()
    return [post for post in posts if post.event_ids]


def test_a_replay_moving_event_posts_to_the_next_day_writes_them_again_for_it(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    eve = datetime(2026, 11, 1, 7, tzinfo=UTC)  # 08:00 in Paris, the day before the events
    replay_calendar(session, settings, SAMPLE_CALENDAR, start=eve)
    before = _event_posts(session)
    assert len(before) == 3
    assert all(post.text.startswith("Demain") for post in before), [p.text for p in before]
    assert all(post.template == "evenements-du-jour" for post in before)

    again = replay_calendar(session, settings, SAMPLE_CALENDAR, start=eve + timedelta(days=1))
    after = _event_posts(session)
    assert [post.id for post in after] == [post.id for post in before]
    assert all(post.text.startswith("Aujourd'hui") for post in after), [p.text for p in after]
    assert all(post.scheduled_at.date() == date(2026, 11, 2) for post in after)
    updated = {change.key for change in again.changes if change.action == "update"}
    assert {post.schedule_key for post in after} <= updated


def test_a_replay_moving_event_posts_past_their_events_leaves_them_and_says_why(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    eve = datetime(2026, 11, 1, 7, tzinfo=UTC)
    replay_calendar(session, settings, SAMPLE_CALENDAR, start=eve)
    before = {post.id: (post.text, post.scheduled_at) for post in _event_posts(session)}
    late = replay_calendar(session, settings, SAMPLE_CALENDAR, start=eve + timedelta(days=3))
    kept = [change for change in late.changes if change.action == "kept"]
    assert len(kept) == 3
    assert all("is over by then" in c.detail and "keeps its time" in c.detail for c in kept)
    session.expire_all()
    assert {post.id: (post.text, post.scheduled_at) for post in _event_posts(session)} == before


def test_a_replay_never_rewrites_an_event_post_a_person_edited(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    eve = datetime(2026, 11, 1, 7, tzinfo=UTC)
    replay_calendar(session, settings, SAMPLE_CALENDAR, start=eve)
    post = _event_posts(session)[0]
    edit_post(session, settings, post.id, text="Demain, venez nombreux ! #MoisESS")
    moved_at = post.scheduled_at
    again = replay_calendar(session, settings, SAMPLE_CALENDAR, start=eve + timedelta(days=1))
    (change,) = [c for c in again.changes if c.key == post.schedule_key]
    assert change.action == "kept" and "edited by hand" in change.detail
    session.refresh(post)
    assert post.text == "Demain, venez nombreux ! #MoisESS" and post.scheduled_at == moved_at
