"""Accounts on three networks through the real entry point: listed, checked, written for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.social.fake_bluesky import HANDLE, PASSWORD, FakeBluesky
from tests.social.fake_bluesky import serve as serve_bluesky
from tests.social.fake_mastodon import FakeMastodon
from tests.social.fake_mastodon import serve as serve_mastodon

MASTODON_ENV = "CAMPAIGN_MASTODON_MOIS_ESS_TOKEN"
BLUESKY_ENV = "CAMPAIGN_BLUESKY_MOIS_ESS_APP_PASSWORD"


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    yield from serve_mastodon()


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    yield from serve_bluesky()


@pytest.fixture
def configured(workdir: Path, mastodon: FakeMastodon, bluesky: FakeBluesky) -> Path:
    """A configuration with one account on each network (X's without credentials)."""
    config = workdir / "config.toml"
    config.write_text(
        f"""
[social.accounts.mois_ess]
network = "x"
handle = "Mois_ESS"
consumer_key_env = "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY"
consumer_secret_env = "CAMPAIGN_X_MOIS_ESS_CONSUMER_SECRET"
access_token_env = "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN"
access_token_secret_env = "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN_SECRET"

[social.accounts.mois_masto]
network = "mastodon"
handle = "moisess"
instance_url = "{mastodon.url}"
access_token_env = "{MASTODON_ENV}"

[social.accounts.mois_bsky]
network = "bluesky"
handle = "{HANDLE}"
service_url = "{bluesky.url}"
app_password_env = "{BLUESKY_ENV}"
""",
        encoding="utf-8",
    )
    return config


def rows_of(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_offline_json_lists_every_account_with_its_network_handle_and_mode(
    configured: Path, cli, monkeypatch: pytest.MonkeyPatch, mastodon: FakeMastodon
) -> None:
    monkeypatch.setenv(MASTODON_ENV, "tok-mois")
    rows = {row["name"]: row for row in rows_of(cli("social", "accounts", "--offline", "--json"))}
    assert {name: (row["network"], row["handle"], row["mode"]) for name, row in rows.items()} == {
        "mois_ess": ("x", "Mois_ESS", "dry run"),
        "mois_masto": ("mastodon", "moisess", "live"),
        "mois_bsky": ("bluesky", HANDLE, "dry run"),
    }
    assert rows["mois_bsky"]["missing"] == [BLUESKY_ENV]
    assert rows["mois_masto"]["server"] == mastodon.url
    assert mastodon.requests == []  # offline: nothing asked


def test_live_accounts_are_checked_with_their_own_network(
    configured: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MASTODON_ENV, "tok-mois")
    monkeypatch.setenv(BLUESKY_ENV, PASSWORD)
    rows = {row["name"]: row for row in rows_of(cli("social", "accounts", "--json"))}
    assert rows["mois_masto"]["ok"] is True
    assert rows["mois_masto"]["detail"] == "accepted by Mastodon: @moisess"
    assert rows["mois_bsky"]["ok"] is True
    assert rows["mois_bsky"]["detail"] == f"accepted by Bluesky: @{HANDLE}"
    assert rows["mois_masto"]["followers"] == 1234 and rows["mois_bsky"]["followers"] == 812


def test_a_post_is_checked_by_the_rules_of_its_account_s_network(configured: Path, cli) -> None:
    text = "Le Mois de l'ESS, ce sont des milliers d'évènements partout en France. " * 5
    masto = cli("posts", "create", "--account", "mois_masto", "--text", text, "--json")
    assert [len(part) for part in rows_of(masto)["parts"]] == [len(text.strip())]
    assert rows_of(masto)["network"] == "mastodon"
    refused = cli("posts", "create", "--account", "mois_bsky", "--text", text)
    assert refused.exit_code != 0
    assert "as Bluesky counts them" in refused.stderr and "at most 300" in refused.stderr
    split = cli("posts", "create", "--account", "mois_bsky", "--text", text, "--split", "--json")
    assert len(rows_of(split)["parts"]) == 2
    assert all(length <= 300 for length in rows_of(split)["lengths"])


def test_one_post_for_several_accounts_publishes_once_on_each(
    configured: Path,
    cli,
    monkeypatch: pytest.MonkeyPatch,
    mastodon: FakeMastodon,
    bluesky: FakeBluesky,
) -> None:
    monkeypatch.setenv(MASTODON_ENV, "tok-mois")
    monkeypatch.setenv(BLUESKY_ENV, PASSWORD)
    text = "Le Mois de l'ESS commence demain partout en France ! " * 6
    rows = rows_of(
        cli("posts", "create", "-a", "mois_masto", "-a", "mois_bsky", "-a", "mois_ess",
            "--text", text, "--split", "--json")
    )  # fmt: skip
    assert [(row["account"], row["network"], len(row["parts"])) for row in rows] == [
        ("mois_masto", "mastodon", 1),
        ("mois_bsky", "bluesky", 2),
        ("mois_ess", "x", 2),
    ]
    for row in rows:
        published = cli("posts", "publish", str(row["id"]))
        assert published.exit_code == 0, published.stderr
    assert len(mastodon.created()) == 1 and len(bluesky.posts()) == 2  # X: dry run
    listed = cli("posts", "create", "-a", "mois_masto", "-a", "mois_bsky", "--text", "Court")
    assert "created on mois_masto" in listed.stdout and "created on mois_bsky" in listed.stdout
    assert "[5/500]" in listed.stdout and "[5/300]" in listed.stdout


def test_the_instance_s_own_limit_holds_in_the_calendar_check_and_post_show(
    configured: Path, cli, monkeypatch: pytest.MonkeyPatch, mastodon: FakeMastodon
) -> None:
    monkeypatch.setenv(MASTODON_ENV, "tok-mois")
    mastodon.max_characters = 1000
    text = ("Le Mois de l'ESS commence demain partout en France, venez nombreux ! " * 9)[:600]
    calendar = configured.parent / "schedules" / "mois.toml"
    calendar.parent.mkdir()
    calendar.write_text(
        f'[[post]]\nkey = "j-1"\naccount = "mois_masto"\nat = 2036-10-31 17:30:00\n'
        f'text = "{text.strip()}"\n',
        encoding="utf-8",
    )
    refused = cli("schedule", "check", str(calendar))
    assert refused.exit_code == 1
    assert (
        f"{calendar}:5: post 'j-1': the text is 600 characters long as Mastodon counts them "
        "(at most 500;"
    ) in refused.stderr
    synced = cli("social", "sync-metrics", "--account", "mois_masto")
    assert synced.exit_code == 0, synced.stderr
    checked = cli("schedule", "check", str(calendar))
    assert checked.exit_code == 0, checked.stderr
    assert "mois.toml: OK" in checked.stdout
    assert cli("schedule", "sync", str(calendar)).exit_code == 0
    shown = cli("posts", "show", "1")
    assert "[600/1000]" in shown.stdout, shown.stdout
