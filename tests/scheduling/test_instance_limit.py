"""A calendar's posts checked against each Mastodon account's own limit: the one its instance
said to a metrics sync (kept in ``account_limit``), 500 while none was read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.config import Settings
from campaign.models import Post
from campaign.scheduling.calendar import read_calendar
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.sync import sync_calendars
from campaign.social.length import mastodon_length
from campaign.social.limits import account_limits, store_limit

from .conftest import NOW, add_events

ACCOUNTS = {
    "mois_ess": {"network": "x", "handle": "Mois_ESS"},
    "mois_ess_masto": {"network": "mastodon", "handle": "moisess",
                       "instance_url": "https://mastodon.example.org"},
}  # fmt: skip
SENTENCE = "Le Mois de l'ESS commence demain partout en France, venez nombreux ! "
TEXT = (SENTENCE * 9)[:600].strip()  # 600 characters as Mastodon counts them, no link


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate({"social": {"accounts": ACCOUNTS}})


@pytest.fixture
def calendar_file(write_calendar: Callable[..., Path]) -> Path:
    return write_calendar(
        f"""
[[post]]
key = "j-1"
account = "mois_ess_masto"
at = 2026-10-31 17:30:00
text = "{TEXT}"
"""
    )


def test_the_text_is_600_characters_as_mastodon_counts() -> None:
    assert mastodon_length(TEXT) == 600


def test_a_600_character_text_passes_where_the_instance_takes_1000(
    calendar_file: Path, settings: Settings
) -> None:
    calendar = read_calendar(calendar_file, settings, now=NOW, limits={"mois_ess_masto": 1000})
    assert calendar.errors == []
    assert calendar.posts[0].parts == [TEXT]


@pytest.mark.parametrize("limits", [None, {}, {"mois_ess_masto": 500}])
def test_it_is_refused_with_500_or_no_limit_known(
    calendar_file: Path, settings: Settings, limits: dict[str, int] | None
) -> None:
    calendar = read_calendar(calendar_file, settings, now=NOW, limits=limits)
    assert [str(problem) for problem in calendar.errors] == [
        f"{calendar_file}:6: post 'j-1': the text is 600 characters long as Mastodon counts them "
        "(at most 500; a link counts 23, an emoji 1): shorten it, cut it into 'thread' parts, "
        "or add split = true"
    ]
    assert calendar.posts == []


def test_each_account_of_an_entry_gets_its_own_limit(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    # A limit given for X is not X's: X has one limit for everybody.
    path = write_calendar(
        f"""
[[post]]
key = "j-1"
accounts = ["mois_ess_masto", "mois_ess"]
at = 2026-10-31 17:30:00
text = "{TEXT}"
"""
    )
    limits = {"mois_ess_masto": 1000, "mois_ess": 1000}
    errors = [str(p) for p in read_calendar(path, settings, now=NOW, limits=limits).errors]
    assert len(errors) == 1
    assert "the text for 'mois_ess' (X) is" in errors[0] and "(at most 280;" in errors[0]


def test_split_cuts_by_the_account_s_own_limit(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(
        f"""
[[post]]
key = "j-1"
account = "mois_ess_masto"
at = 2026-10-31 17:30:00
text = "{TEXT}"
split = true
"""
    )
    assert len(read_calendar(path, settings, now=NOW).posts[0].parts) == 2
    wide = read_calendar(path, settings, now=NOW, limits={"mois_ess_masto": 1000})
    assert wide.posts[0].parts == [TEXT]


def test_the_check_and_the_sync_use_the_limit_kept_by_the_metrics_sync(
    session: Session, calendar_file: Path, settings: Settings
) -> None:
    refused = check_calendar(calendar_file, settings, session, now=NOW)
    assert [problem.line for problem in refused.errors] == [6]
    assert "(at most 500;" in refused.errors[0].message
    store_limit(session, "mois_ess_masto", 1000)
    store_limit(session, "mois_ess", 1000)  # stored by mistake for X: not used
    session.commit()
    assert account_limits(session, settings) == {"mois_ess_masto": 1000}
    assert check_calendar(calendar_file, settings, session, now=NOW).errors == []
    report = sync_calendars(session, settings, calendar_file, now=NOW)
    assert report.refused == []
    post = session.exec(select(Post).where(Post.schedule_key == "mois/j-1")).one()
    assert post.account == "mois_ess_masto" and post.parts == [TEXT]


def test_an_event_posts_rule_is_cut_by_the_account_s_own_limit(
    session: Session, write_calendar: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "own" / "posts").mkdir(parents=True)
    template = "{% for e in events %}{{ e.title }} {% endfor %}" + "bla " * 145  # ~600
    (tmp_path / "own" / "posts" / "bavard.txt.j2").write_text(template, "utf-8")
    settings = Settings.model_validate(
        {"general": {"templates_dir": str(tmp_path / "own")}, "social": {"accounts": ACCOUNTS}}
    )
    add_events(session, [datetime(2026, 11, 2)])
    path = write_calendar(
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
account = "mois_ess_masto"
from = 2026-11-02
to = 2026-11-02
times = ["09:00"]
template = "bavard"
"""
    )

    def threads() -> list[str]:
        calendar = check_calendar(path, settings, session, now=NOW)
        assert calendar.errors == []
        return [p.message for p in calendar.warnings if "go out as threads" in p.message]

    assert threads() == [
        "1 posts are too long for one post and will go out as threads (first: 02/11 09:00); "
        "shorten the template"
    ]
    store_limit(session, "mois_ess_masto", 1000)
    session.commit()
    assert threads() == []
    sync_calendars(session, settings, path, now=NOW)
    post = session.exec(
        select(Post).where(Post.schedule_key == "mois/evenements/2026-11-02T09:00")
    ).one()
    assert len(post.parts) == 1 and 500 < mastodon_length(post.text) <= 1000
