"""One calendar entry, several accounts: one post each, with its own words checked by its own
network's rules, and keys that never make a second post for an account that has one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import Post, PostStatus
from campaign.scheduling.calendar import read_calendar
from campaign.scheduling.sync import sync_calendars

from .conftest import NOW, add_events

ACCOUNTS = {
    "mois_ess": {"network": "x", "handle": "Mois_ESS"},
    "mois_ess_masto": {"network": "mastodon", "handle": "moisess",
                       "instance_url": "https://mastodon.example.org"},
    "mois_ess_bsky": {"network": "bluesky", "handle": "moisess.bsky.social",
                      "service_url": "https://bsky.example.org"},
}  # fmt: skip
THREE = '["mois_ess", "mois_ess_masto", "mois_ess_bsky"]'
LONG = "Le Mois de l'ESS commence demain partout en France ! " * 6  # ~320 characters


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate({"social": {"accounts": ACCOUNTS}})


def post_entry(accounts: str = THREE, extra: str = 'text = "Demain, le #MoisESS !"') -> str:
    return f"""
[[post]]
key = "j-1"
accounts = {accounts}
at = 2026-10-31 17:30:00
{extra}
"""


def _read(path: Path, settings: Settings):
    return read_calendar(path, settings, now=NOW)


def _errors(path: Path, settings: Settings) -> list[str]:
    return [str(problem) for problem in _read(path, settings).errors]


# --- reading ----------------------------------------------------------------------------------


def test_each_account_gets_the_text_cut_as_its_network_counts(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(post_entry(extra=f'text = "{LONG.strip()}"\nsplit = true'))
    calendar = _read(path, settings)
    assert calendar.problems == []
    (entry,) = calendar.posts
    assert entry.accounts == ["mois_ess", "mois_ess_masto", "mois_ess_bsky"]
    parts = {account: len(parts) for account, _text, parts in entry.targets()}
    assert parts == {"mois_ess": 2, "mois_ess_masto": 1, "mois_ess_bsky": 2}


def test_an_account_may_have_its_own_words_a_thread_on_x_one_post_elsewhere(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    extra = """thread = ["Demain, le #MoisESS !", "Tout le programme : https://lemois-ess.org"]

[post.texts]
mois_ess_bsky = "Demain, le Mois de l'ESS ! Le programme : https://lemois-ess.org"
mois_ess_masto = ["Demain, le #MoisESS @moisess@mastodon.example.org !"]
"""
    calendar = _read(write_calendar(post_entry(extra=extra)), settings)
    assert calendar.problems == []
    targets = {account: parts for account, _text, parts in calendar.posts[0].targets()}
    assert targets == {
        "mois_ess": ["Demain, le #MoisESS !", "Tout le programme : https://lemois-ess.org"],
        "mois_ess_masto": ["Demain, le #MoisESS @moisess@mastodon.example.org !"],
        "mois_ess_bsky": ["Demain, le Mois de l'ESS ! Le programme : https://lemois-ess.org"],
    }


def test_texts_for_every_account_need_no_text_of_the_entry(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    extra = 'texts = { mois_ess = "Sur X", mois_ess_bsky = "Sur Bluesky" }'
    calendar = _read(write_calendar(post_entry('["mois_ess", "mois_ess_bsky"]', extra)), settings)
    assert calendar.problems == []
    assert [text for _a, text, _p in calendar.posts[0].targets()] == ["Sur X", "Sur Bluesky"]


@pytest.mark.parametrize(
    ("accounts", "extra", "expected"),
    [
        (
            THREE,
            'account = "mois_ess"\ntext = "Bonjour"',
            ":4: post 'j-1': give either 'account' (one account) or 'accounts' (a list), not "
            "both",
        ),
        (
            '["mois_ess", "mois_ess"]',
            'text = "Bonjour"',
            ":4: post 'j-1': 'accounts': 'mois_ess' is named twice",
        ),
        (
            '["mois_ess", "mois_bsky"]',
            'text = "Bonjour"',
            ":4: post 'j-1': 'accounts': unknown account 'mois_bsky' (accounts in "
            "[social.accounts]: mois_ess, mois_ess_bsky, mois_ess_masto)",
        ),
        (
            "[]",
            'text = "Bonjour"',
            ":4: post 'j-1': 'accounts' must be a list of account names",
        ),
        (
            '["mois_ess"]',
            'text = "Bonjour"\ntexts = { mois_ess_bsky = "Salut" }',
            ":7: post 'j-1': 'texts.mois_ess_bsky': 'mois_ess_bsky' is not one of the post's "
            "accounts (mois_ess)",
        ),
        (
            THREE,
            f'text = "{LONG.strip()}"',
            ":6: post 'j-1': the text for 'mois_ess' (X) is 317 characters long as X counts "
            "them (at most 280;",
        ),
        (
            THREE,
            'text = "Court"\n\n[post.texts]\nmois_ess_masto = "Court"\n'
            f'mois_ess_bsky = "{LONG.strip()}"',
            ":10: post 'j-1': the text for 'mois_ess_bsky' (Bluesky) is 317 characters long as "
            "Bluesky counts them (at most 300;",
        ),
        (
            '["mois_ess", "mois_ess_bsky"]',
            'texts = { mois_ess = "Sur X" }',
            ":2: post 'j-1': give the post's words in exactly one of 'text', 'thread'",
        ),
    ],
    ids=["both", "twice", "unknown", "empty", "texts-foreign", "too-long-x", "too-long-bsky",
         "no-words"],
)  # fmt: skip
def test_mistakes_name_the_file_the_line_and_the_account(
    write_calendar: Callable[..., Path],
    settings: Settings,
    accounts: str,
    extra: str,
    expected: str,
) -> None:
    path = write_calendar(post_entry(accounts, extra))
    errors = _errors(path, settings)
    assert any(error.startswith(f"{path}{expected}") for error in errors), errors


def test_a_rule_takes_several_accounts_but_a_metrics_rule_does_not(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
accounts = ["mois_ess", "mois_ess_bsky"]
from = 2026-11-02
to = 2026-11-03
times = ["09:00"]
template = "evenements-du-jour"

[[recurring]]
key = "mesures"
kind = "sync-metrics"
accounts = ["mois_ess"]
times = ["08:00"]
"""
    )
    calendar = _read(path, settings)
    assert [str(problem) for problem in calendar.errors] == [
        f"{path}:14: recurring 'mesures': unknown field 'accounts' (did you mean 'account'?); a "
        "recurring takes: key, kind, account, from, to, days, times"
    ]
    (rule,) = calendar.recurring
    assert (rule.account, rule.accounts) == ("mois_ess", ["mois_ess", "mois_ess_bsky"])


# --- syncing ----------------------------------------------------------------------------------


def sync(session: Session, settings: Settings, path: Path, **options: Any):
    options.setdefault("now", NOW)
    report = sync_calendars(session, settings, path, **options)
    assert not report.refused, [str(p) for c in report.refused for p in c.errors]
    return report


def posts_by_key(session: Session) -> dict[str, Post]:
    session.expire_all()
    return {post.schedule_key: post for post in session.exec(select(Post))}  # type: ignore[misc]


def test_one_post_per_account_and_syncing_again_changes_nothing(
    session: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    extra = 'text = "Demain, le #MoisESS !"\ntexts = { mois_ess_bsky = "Demain, le Mois !" }'
    path = write_calendar(post_entry(extra=extra))
    report = sync(session, settings, path)
    assert report.count("create") == 3
    posts = posts_by_key(session)
    assert {key: (post.account, post.text) for key, post in posts.items()} == {
        "mois/j-1": ("mois_ess", "Demain, le #MoisESS !"),
        "mois/j-1@mois_ess_masto": ("mois_ess_masto", "Demain, le #MoisESS !"),
        "mois/j-1@mois_ess_bsky": ("mois_ess_bsky", "Demain, le Mois !"),
    }
    assert {post.status for post in posts.values()} == {PostStatus.scheduled}
    again = sync(session, settings, path)
    assert not again.changed
    assert again.count("unchanged") == 3


def test_an_entry_synced_for_one_account_keeps_its_post_when_it_names_more(
    session: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    single = 'account = "mois_ess"\nat = 2026-10-31 17:30:00\ntext = "Demain !"'
    path = write_calendar(f'[[post]]\nkey = "j-1"\n{single}\n')
    sync(session, settings, path)
    published = posts_by_key(session)["mois/j-1"]
    published.status = PostStatus.published
    published.remote_ids = ["1001"]
    session.add(published)
    session.commit()

    sync(
        session,
        settings,
        write_calendar(post_entry('["mois_ess_bsky", "mois_ess"]', 'text = "Demain !"')),
    )
    # The X post already out keeps its key; only the Bluesky one is new.
    posts = posts_by_key(session)
    assert {key: (post.account, post.status) for key, post in posts.items()} == {
        "mois/j-1": ("mois_ess", PostStatus.published),
        "mois/j-1@mois_ess_bsky": ("mois_ess_bsky", PostStatus.scheduled),
    }
    # Reordered, or back to X alone: never a second X post.
    assert not sync(
        session,
        settings,
        write_calendar(post_entry('["mois_ess", "mois_ess_bsky"]', 'text = "Demain !"')),
    ).changed
    report = sync(session, settings, write_calendar(f'[[post]]\nkey = "j-1"\n{single}\n'))
    posts = posts_by_key(session)
    assert [post.account for post in posts.values() if post.status != "cancelled"] == ["mois_ess"]
    assert [change.key for change in report.changes if change.action == "cancel"] == [
        "mois/j-1@mois_ess_bsky"
    ]


def test_a_rule_for_two_accounts_announces_the_same_events_on_each(
    session: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    add_events(session, [datetime(2026, 11, 2), datetime(2026, 11, 3)])
    path = write_calendar(
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
accounts = ["mois_ess", "mois_ess_bsky"]
from = 2026-11-02
to = 2026-11-03
times = ["09:00"]
template = "evenements-du-jour"
"""
    )
    sync(session, settings, path)
    posts = posts_by_key(session)
    assert sorted(posts) == [
        "mois/evenements/2026-11-02T09:00",
        "mois/evenements/2026-11-02T09:00@mois_ess_bsky",
        "mois/evenements/2026-11-03T09:00",
        "mois/evenements/2026-11-03T09:00@mois_ess_bsky",
    ]
    for day in ("02", "03"):
        on_x = posts[f"mois/evenements/2026-11-{day}T09:00"]
        on_bluesky = posts[f"mois/evenements/2026-11-{day}T09:00@mois_ess_bsky"]
        assert (on_x.account, on_bluesky.account) == ("mois_ess", "mois_ess_bsky")
        assert on_x.event_ids == on_bluesky.event_ids != []
    assert not sync(session, settings, path).changed

    # Published on X: the slot keeps its events on Bluesky too, whatever the catalogue says.
    first = posts["mois/evenements/2026-11-02T09:00"]
    first.status = PostStatus.published
    session.add(first)
    session.commit()
    report = sync(session, settings, path)
    kept = {change.key: change.detail for change in report.changes if change.action == "kept"}
    assert kept == {
        "mois/evenements/2026-11-02T09:00": "already published",
        "mois/evenements/2026-11-02T09:00@mois_ess_bsky": (
            "its post on mois_ess is already published: the slot keeps its events"
        ),
    }


def test_a_replayed_rule_for_two_accounts_keeps_one_post_per_account(
    session: Session, settings: Settings, write_calendar: Callable[..., Path]
) -> None:
    from datetime import UTC, timedelta

    from campaign.scheduling.checks import check_calendar
    from campaign.scheduling.shift import shift_calendar
    from campaign.scheduling.sync import apply_calendars

    add_events(session, [datetime(2026, 11, 2), datetime(2026, 11, 3)])
    path = write_calendar(
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
accounts = ["mois_ess", "mois_ess_masto"]
from = 2026-11-02
to = 2026-11-03
times = ["09:00"]
template = "evenements-du-jour"
"""
    )
    calendar = check_calendar(path, settings, session, now=NOW)
    assert calendar.errors == []
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    shifted = shift_calendar(calendar, session, settings, start=start, gap=timedelta(seconds=5))
    assert [post.accounts for post in shifted.posts] == [["mois_ess", "mois_ess_masto"]] * 2
    apply_calendars(session, settings, [shifted], {shifted.stem}, now=start)
    posts = posts_by_key(session)
    assert (
        sorted(post.account for post in posts.values())
        == ["mois_ess", "mois_ess"] + ["mois_ess_masto"] * 2
    )
    for key, post in posts.items():
        if "@" in key:
            twin = posts[key.split("@")[0]]
            assert twin.event_ids == post.event_ids and twin.scheduled_at == post.scheduled_at
            assert post.text.startswith("Lundi 2 novembre") or post.text.startswith("Mardi")
