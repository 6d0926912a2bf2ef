"""The README's first command runs `campaign demo`: it must work on the embedded defaults."""

import json
import mailbox
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.ports import free_port

pytestmark = pytest.mark.one_database(
    "the demo on its embedded SQLite, as the README's first command runs it"
)

SAMPLES = Path(__file__).parents[1] / "samples"


def test_the_demo_imports_the_samples_and_writes_a_personalised_preview(cli, workdir):
    result = cli("demo", "--samples", str(SAMPLES), "--no-play")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "2910 added" in result.stdout  # the main sample file, its bad rows skipped
    assert (workdir / "config.toml").is_file()

    lists = json.loads(cli("lists", "--json").stdout)
    assert [row["name"] for row in lists] == ["Newsletter nationale"]
    assert lists[0]["active"] == 2910 + 237

    html = (workdir / "demo-preview.html").read_text(encoding="utf-8")
    first = json.loads(
        cli(
            "subscribers", "list", "--list", "Newsletter nationale", "--json", "--limit", "1"
        ).stdout
    )[0]
    assert first["first_name"] in html
    assert "fonts.googleapis.com" not in html


def test_running_the_demo_twice_adds_nobody_twice(cli, workdir):
    assert cli("demo", "--samples", str(SAMPLES), "--no-play").exit_code == 0
    again = cli("demo", "--samples", str(SAMPLES), "--no-play")
    assert again.exit_code == 0, again.stderr
    assert "0 added" in again.stdout
    newsletters = json.loads(cli("newsletters", "list", "--json").stdout)
    assert len(newsletters) == 1


def test_the_demo_plays_the_sample_calendar_to_the_outbox_and_in_dry_run(cli, workdir, monkeypatch):
    monkeypatch.setenv("CAMPAIGN_WEB_PORT", str(free_port()))
    result = cli("demo", "--samples", str(SAMPLES), "--gap", "0.3")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "What went out" in result.stdout and "answered on http://127.0.0.1:" in result.stdout

    newsletters = json.loads(cli("newsletters", "list", "--json").stdout)
    played = [n for n in newsletters if n["id"] != 1]
    assert len(played) == 7 and {n["status"] for n in played} == {"sent"}
    posts = json.loads(cli("posts", "list", "--json").stdout)
    assert {p["status"] for p in posts} == {"published"}
    # The calendar's 10 posts, and its first 3 "events of the day" posts while their events
    # (November 2026) are still to come: replayed later, they would announce events over.
    event_posts = [p for p in posts if p["event_ids"]]
    assert len(posts) - len(event_posts) == 10
    if datetime.now(UTC) >= datetime(2026, 12, 1, tzinfo=UTC):
        assert event_posts == []
    else:
        assert len(event_posts) <= 3
    assert all(p["dry_run"] for p in posts)

    # Every newsletter went to the demo region's subscribers, once each, into the outbox.
    bretagne = json.loads(
        cli("subscribers", "list", "--status", "active", "--json", "--limit", "100000").stdout
    )
    expected = sum(1 for person in bretagne if person["region"] == "Bretagne")
    messages = list(mailbox.Maildir(workdir / "outbox", create=False))
    assert len(messages) == 7 * expected
    addresses = [str(message["To"]) for message in messages]
    assert len(set(addresses)) == expected

    # A second run sends nothing more.
    again = cli("demo", "--samples", str(SAMPLES), "--gap", "0.3")
    assert again.exit_code == 0, again.stderr
    assert "Already played" in again.stdout
    assert len(list(mailbox.Maildir(workdir / "outbox", create=False))) == 7 * expected
