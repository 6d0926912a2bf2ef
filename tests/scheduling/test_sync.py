"""`schedule sync`: the database comes to match the calendar files, and only what is waiting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.models import (
    Event,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    RecurringJob,
    RecurringStatus,
)
from campaign.scheduling.sync import REMOVED, sync_calendars

from .conftest import NOW, add_events, add_list

CALENDAR = """
[[newsletter]]
key = "ouverture"
at = 2026-10-20 10:00:00
title = "Le Mois de l'ESS ouvre ses portes"
subject = "Le Mois commence"
template = "mois-ess"
lists = ["Newsletter nationale"]
intro = "Bienvenue."
events = { from = 2026-11-01, to = 2026-11-08, regions = ["subscriber"], max = 6 }
set = { more_url = "https://lemois-ess.example.org" }

[[post]]
key = "j-1"
account = "mois_ess"
at = 2026-10-31 17:30:00
text = "Demain commence le #MoisESS !"

[[post]]
key = "ceremonie"
account = "prix_ess"
at = 2026-10-27 18:00:00
thread = ["La cérémonie commence.", "Le lauréat est…"]

[[recurring]]
key = "mesures"
kind = "sync-metrics"
days = ["monday"]
times = ["08:00"]
"""


def snapshot(session: Session) -> list[dict[str, Any]]:
    """Every row the sync may write, as plain values (to compare before and after)."""
    session.expire_all()
    rows: list[dict[str, Any]] = []
    for model in (Newsletter, Post, RecurringJob):
        for row in session.exec(select(model).order_by(col(model.id))):
            rows.append({"table": model.__name__, **row.model_dump()})
    return rows


def by_key(session: Session, model: Any) -> dict[str, Any]:
    session.expire_all()
    return {row.schedule_key: row for row in session.exec(select(model))}


@pytest.fixture
def ready(session: Session) -> Session:
    add_list(session)
    return session


def sync(session: Session, settings: Settings, path: Path, **options: Any):
    options.setdefault("now", NOW)
    report = sync_calendars(session, settings, path, **options)
    assert not report.refused, [str(p) for c in report.refused for p in c.errors]
    return report


def test_sync_creates_the_newsletters_posts_and_recurring_jobs_of_a_calendar(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    report = sync(ready, settings, write_calendar(CALENDAR))
    assert Counter(change.action for change in report.changes) == {"create": 4}
    newsletter = by_key(ready, Newsletter)["mois/ouverture"]
    assert newsletter.status == NewsletterStatus.scheduled
    assert newsletter.scheduled_at == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    assert newsletter.content == {
        "more_url": "https://lemois-ess.example.org",
        "intro": "Bienvenue.",
    }
    assert newsletter.event_rule["from"] == "2026-11-01"
    assert newsletter.created_by == "calendar:mois.toml"
    posts = by_key(ready, Post)
    assert posts["mois/j-1"].parts == ["Demain commence le #MoisESS !"]
    assert posts["mois/j-1"].scheduled_at == datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    assert posts["mois/ceremonie"].parts == ["La cérémonie commence.", "Le lauréat est…"]
    assert {post.status for post in posts.values()} == {PostStatus.scheduled}
    job = by_key(ready, RecurringJob)["mois/mesures"]
    assert (job.kind, job.spec["days"], job.spec["times"]) == ("sync-metrics", [0], ["08:00"])


def test_syncing_twice_changes_nothing_the_second_time(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    before = snapshot(ready)
    report = sync(ready, settings, path, now=NOW + timedelta(hours=1))
    assert {change.action for change in report.changes} == {"unchanged"}
    assert not report.changed
    assert snapshot(ready) == before


def test_what_readers_without_events_get_comes_from_the_calendar(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    newsletter = by_key(ready, Newsletter)["mois/ouverture"]
    assert (newsletter.when_no_events, newsletter.no_events_text) == ("national", "")
    text = 'when_no_events = "text"\nno_events_text = "Rien près de chez vous."\n'
    report = sync(
        ready, settings, write_calendar(CALENDAR.replace("[[post]]", text + "[[post]]", 1))
    )
    updates = {change.key: change.detail for change in report.changes if change.action == "update"}
    assert updates == {"mois/ouverture": "when_no_events, no_events_text"}
    newsletter = by_key(ready, Newsletter)["mois/ouverture"]
    assert (newsletter.when_no_events, newsletter.no_events_text) == (
        "text",
        "Rien près de chez vous.",
    )


def test_an_edited_entry_updates_its_waiting_row(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    ids = {key: row.id for key, row in by_key(ready, Post).items()}
    edited = CALENDAR.replace('subject = "Le Mois commence"', 'subject = "C\'est parti"').replace(
        "2026-10-31 17:30:00", "2026-10-31 18:00:00"
    )
    report = sync(ready, settings, write_calendar(edited))
    updates = {change.key: change.detail for change in report.changes if change.action == "update"}
    assert updates == {"mois/ouverture": "subject", "mois/j-1": "scheduled_at"}
    assert by_key(ready, Newsletter)["mois/ouverture"].subject == "C'est parti"
    post = by_key(ready, Post)["mois/j-1"]
    assert post.id == ids["mois/j-1"]  # the same row, not a new one
    assert post.scheduled_at == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)


def test_a_removed_entry_is_cancelled_and_comes_back_when_it_is_written_again(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    without = CALENDAR.replace(
        '[[post]]\nkey = "j-1"\naccount = "mois_ess"\nat = 2026-10-31 17:30:00\n'
        'text = "Demain commence le #MoisESS !"\n',
        "",
    )
    report = sync(ready, settings, write_calendar(without))
    assert [(c.action, c.key) for c in report.changes if c.action == "cancel"] == [
        ("cancel", "mois/j-1")
    ]
    post = by_key(ready, Post)["mois/j-1"]
    assert (post.status, post.last_error) == (PostStatus.cancelled, REMOVED)
    sync(ready, settings, write_calendar(CALENDAR))
    post = by_key(ready, Post)["mois/j-1"]
    assert (post.status, post.last_error) == (PostStatus.scheduled, "")


def test_what_already_went_out_is_never_touched_and_the_report_says_so(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    rows = by_key(ready, Newsletter)
    rows["mois/ouverture"].status = NewsletterStatus.sent
    ready.add(rows["mois/ouverture"])
    ready.commit()
    posts = by_key(ready, Post)
    posts["mois/j-1"].status = PostStatus.published
    posts["mois/ceremonie"].status = PostStatus.publishing
    ready.add_all(posts.values())
    ready.commit()
    before = snapshot(ready)
    edited = CALENDAR.replace('subject = "Le Mois commence"', 'subject = "Autre"').replace(
        "Demain commence", "Après-demain commence"
    )
    report = sync(ready, settings, write_calendar(edited))
    kept = {change.key: change.detail for change in report.changes if change.action == "kept"}
    assert kept["mois/ouverture"] == (
        "already sent: the calendar's changes (subject) are not applied"
    )
    assert kept["mois/j-1"].startswith("already published: the calendar's changes (text, parts")
    assert kept["mois/ceremonie"] == "already publishing"
    # Removing them from the file does not cancel them either.
    report = sync(ready, settings, write_calendar('[calendar]\nname = "vide"\n'))
    assert [change for change in report.changes if change.action == "cancel"] == [
        change for change in report.changes if change.kind == "recurring"
    ]
    after = {(row["table"], row["schedule_key"]): row["status"] for row in snapshot(ready)}
    assert after[("Newsletter", "mois/ouverture")] == "sent"
    assert after[("Post", "mois/j-1")] == "published"
    assert [row for row in snapshot(ready) if row["table"] != "RecurringJob"] == [
        row for row in before if row["table"] != "RecurringJob"
    ]


def test_a_newsletter_cancelled_by_a_person_is_not_brought_back(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    from campaign.newsletters import queue

    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    queue.cancel(ready, by_key(ready, Newsletter)["mois/ouverture"].id)
    ready.commit()
    report = sync(ready, settings, path)
    (change,) = [change for change in report.changes if change.key == "mois/ouverture"]
    assert (change.action, change.detail) == ("kept", "already cancelled by a person")
    assert by_key(ready, Newsletter)["mois/ouverture"].status == NewsletterStatus.cancelled


def test_a_missed_entry_given_a_new_time_is_scheduled_again(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    post = by_key(ready, Post)["mois/j-1"]
    post.status, post.last_error = PostStatus.missed, "not run"
    ready.add(post)
    ready.commit()
    later = NOW.replace(month=11)  # the post's time has passed
    report = sync(ready, settings, path, now=later)
    assert by_key(ready, Post)["mois/j-1"].status == PostStatus.missed  # same time: stays missed
    assert next(c for c in report.changes if c.key == "mois/j-1").action == "unchanged"
    moved = CALENDAR.replace("2026-10-31 17:30:00", "2026-11-05 09:00:00")
    report = sync(ready, settings, write_calendar(moved), now=later)
    change = next(c for c in report.changes if c.key == "mois/j-1")
    assert (change.action, change.detail) == ("update", "scheduled_at; missed → scheduled")
    post = by_key(ready, Post)["mois/j-1"]
    assert (post.status, post.last_error) == (PostStatus.scheduled, "")


def test_a_thread_partly_published_never_takes_the_calendars_text(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    thread = by_key(ready, Post)["mois/ceremonie"]
    thread.remote_ids = ["1001"]  # its first part is out, waiting for the network's reset
    ready.add(thread)
    ready.commit()
    reworded = CALENDAR.replace("Le lauréat est…", "Les lauréats sont…")
    report = sync(ready, settings, write_calendar(reworded))
    change = next(c for c in report.changes if c.key == "mois/ceremonie")
    assert (change.action, change.detail) == (
        "kept",
        "partly published (scheduled): the calendar's changes (text, parts) are not applied",
    )
    moved = CALENDAR.replace("2026-10-27 18:00:00", "2026-10-28 18:00:00")
    report = sync(ready, settings, write_calendar(moved))  # the network's time stays
    assert next(c for c in report.changes if c.key == "mois/ceremonie").action == "kept"
    assert by_key(ready, Post)["mois/ceremonie"].parts[1] == "Le lauréat est…"

    thread = by_key(ready, Post)["mois/ceremonie"]
    thread.status = PostStatus.missed  # stopped half-way: a new time resumes it
    ready.add(thread)
    ready.commit()
    report = sync(ready, settings, write_calendar(moved))
    change = next(c for c in report.changes if c.key == "mois/ceremonie")
    assert (change.action, change.detail) == ("update", "scheduled_at; missed → scheduled")


def test_entries_whose_time_has_passed_are_not_created(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    report = sync(ready, settings, write_calendar(CALENDAR), now=datetime(2026, 10, 28, tzinfo=UTC))
    actions = {change.key: change.action for change in report.changes}
    assert actions == {
        "mois/ouverture": "skipped",
        "mois/ceremonie": "skipped",
        "mois/j-1": "create",
        "mois/mesures": "create",
    }
    assert set(by_key(ready, Post)) == {"mois/j-1"}


def test_a_calendar_with_an_error_changes_nothing(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    before = snapshot(ready)
    # The post is gone from the file, but a typo elsewhere: nothing is cancelled.
    broken = CALENDAR.replace('[[post]]\nkey = "j-1"', '[[post]]\nkey = "j-1"\ntxt = "?"').replace(
        '"prix_ess"', '"prix"'
    )
    report = sync_calendars(ready, settings, write_calendar(broken), now=NOW)
    assert [calendar.path.name for calendar in report.refused] == ["mois.toml"]
    assert report.changes == []
    assert snapshot(ready) == before


def test_dry_run_reports_the_changes_and_writes_nothing(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    before = snapshot(ready)
    report = sync(ready, settings, write_calendar(CALENDAR), dry_run=True)
    assert report.count("create") == 4
    assert snapshot(ready) == before == []


PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)
IMAGE_POST = """
[[post]]
key = "affiche"
account = "mois_ess"
at = 2026-10-31 17:30:00
text = "L'affiche du Mois"
images = [{ path = "affiche.png", alt = "L'affiche" }]
"""


def test_a_calendar_image_is_stored_as_its_copy_in_the_media_folder(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path], tmp_path: Path
) -> None:
    # The dashboard shows a post's images only from the media folder, never a path elsewhere.
    media = tmp_path / "media"
    settings.dashboard.media_dir = str(media)
    path = write_calendar(IMAGE_POST)
    (path.parent / "affiche.png").write_bytes(PNG)
    report = sync(ready, settings, path, dry_run=True)
    assert report.count("create") == 1 and not media.exists()  # a dry run copies nothing
    sync(ready, settings, path)
    (image,) = by_key(ready, Post)["mois/affiche"].images
    kept = Path(image["path"])
    assert kept.parent == media.resolve() and kept.read_bytes() == PNG
    assert image["alt"] == "L'affiche"
    report = sync(ready, settings, path, now=NOW + timedelta(hours=1))
    assert {change.action for change in report.changes} == {"unchanged"}  # same content
    (path.parent / "affiche.png").write_text("not a picture")
    refused = sync_calendars(ready, settings, path, now=NOW)
    (calendar,) = refused.refused
    assert "affiche.png is not a JPEG, PNG, WEBP or GIF image" in str(calendar.errors[0])


def test_a_folder_is_the_whole_truth_but_a_file_only_speaks_for_itself(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    first = write_calendar(CALENDAR, "mois.toml")
    other = write_calendar(
        '[[post]]\nkey = "x"\naccount = "prix_ess"\nat = 2026-11-02 10:00:00\ntext = "Prix"\n',
        "prix.toml",
    )
    sync(ready, settings, first.parent)
    assert set(by_key(ready, Post)) == {"mois/j-1", "mois/ceremonie", "prix/x"}
    write_calendar(CALENDAR.replace("Demain commence", "Bientôt"), "mois.toml")
    sync(ready, settings, first)  # one file: prix.toml is not looked at
    assert by_key(ready, Post)["prix/x"].status == PostStatus.scheduled
    other.unlink()
    report = sync(ready, settings, first.parent)  # the folder: prix.toml is gone
    assert [(c.action, c.key) for c in report.changes if c.action == "cancel"] == [
        ("cancel", "prix/x")
    ]


def test_a_removed_recurring_rule_is_cancelled(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    path = write_calendar(CALENDAR)
    sync(ready, settings, path)
    sync(ready, settings, write_calendar(CALENDAR.split("[[recurring]]")[0]))
    assert by_key(ready, RecurringJob)["mois/mesures"].status == RecurringStatus.cancelled


# --- the events of the day -------------------------------------------------------------------

EVENT_POSTS = """
[[recurring]]
key = "jour"
kind = "event-posts"
account = "mois_ess"
from = 2026-10-24
to = 2026-10-27
times = ["09:00", "12:30", "17:30"]
template = "evenements-du-jour"
"""


@pytest.fixture
def with_events(ready: Session) -> list[Event]:
    days = [datetime(2026, 10, day) for day in range(24, 28)]
    return add_events(ready, days, per_day=8)


def test_each_slot_of_the_rule_becomes_one_post_at_its_local_time_across_the_change(
    ready: Session,
    settings: Settings,
    write_calendar: Callable[..., Path],
    with_events: list[Event],
) -> None:
    sync(ready, settings, write_calendar(EVENT_POSTS))
    posts = by_key(ready, Post)
    assert len(posts) == 12
    nine = [posts[f"mois/jour/2026-10-{day}T09:00"].scheduled_at for day in (24, 25, 26)]
    assert nine == [
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),  # 09:00 summer time
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),  # 09:00 winter time, the day of the change
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]
    assert all(post.account == "mois_ess" and len(post.event_ids) == 1 for post in posts.values())


def test_no_event_is_announced_twice_and_a_day_varies_its_regions(
    ready: Session,
    settings: Settings,
    write_calendar: Callable[..., Path],
    with_events: list[Event],
) -> None:
    sync(ready, settings, write_calendar(EVENT_POSTS))
    posts = sorted(by_key(ready, Post).values(), key=lambda post: post.scheduled_at)
    chosen = [post.event_ids[0] for post in posts]
    assert len(set(chosen)) == len(chosen)
    events = {event.id: event for event in with_events}
    for day in range(4):
        regions = [events[event_id].region for event_id in chosen[day * 3 : day * 3 + 3]]
        assert len(set(regions)) == 3, regions
    for post in posts:  # each event starts later that day than the post
        event = events[post.event_ids[0]]
        assert event.starts_at >= post.scheduled_at
        assert event.title in post.text and "#MoisESS" in post.text


def test_published_slots_keep_their_events_and_the_rest_are_planned_around_them(
    ready: Session,
    settings: Settings,
    write_calendar: Callable[..., Path],
    with_events: list[Event],
) -> None:
    path = write_calendar(EVENT_POSTS)
    sync(ready, settings, path)
    posts = by_key(ready, Post)
    first = posts["mois/jour/2026-10-24T09:00"]
    first.status = PostStatus.published
    ready.add(first)
    ready.commit()
    published_event = first.event_ids[0]
    # A re-import drops the event of a post still waiting: that slot gets another one.
    waiting = posts["mois/jour/2026-10-25T12:30"]
    ready.delete(ready.get(Event, waiting.event_ids[0]))
    ready.commit()
    report = sync(ready, settings, path)
    changed = {change.key for change in report.changes if change.action == "update"}
    assert "mois/jour/2026-10-25T12:30" in changed
    assert "mois/jour/2026-10-24T09:00" not in changed
    posts = by_key(ready, Post)
    assert posts["mois/jour/2026-10-24T09:00"].event_ids == [published_event]
    chosen = [post.event_ids[0] for post in posts.values()]
    assert len(set(chosen)) == len(chosen)
    before = snapshot(ready)
    assert not sync(ready, settings, path).changed
    assert snapshot(ready) == before


def test_slots_without_an_event_are_not_created(
    ready: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    add_events(ready, [datetime(2026, 10, 24)], per_day=2)  # 10:00 and 14:00 only
    report = sync(ready, settings, write_calendar(EVENT_POSTS))
    assert report.count("create") == 2
    assert report.count("skipped") == 10
    assert set(by_key(ready, Post)) == {"mois/jour/2026-10-24T09:00", "mois/jour/2026-10-24T12:30"}
