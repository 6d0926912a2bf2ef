"""The ``post`` and ``social`` command groups, run through Typer against a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from campaign.cli import common
from campaign.cli.social import post_app, social_app
from campaign.errors import CampaignError


@pytest.fixture
def run(workdir, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    common.reset()

    def invoke(app, *args: str):
        return runner.invoke(app, list(args))

    yield invoke
    common.reset()


def test_accounts_say_which_variables_are_missing(run, monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"CAMPAIGN_X_MOIS_ESS_{suffix}", "secret-value")
    result = run(social_app, "accounts")
    assert result.exit_code == 0, result.output
    assert "@Mois_ESS" in result.output and "live" in result.output
    assert "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET" in result.output
    assert "secret-value" not in result.output


def test_create_list_publish_in_dry_run(run) -> None:
    result = run(post_app, "create", "--account", "prix_ess", "--at", "05/11/2026 09:30",
                 "--text", "Les lauréats du Prix ESS sont annoncés !")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scheduled for 05/11/2026 09:30" in result.output
    listed = run(post_app, "list")
    assert "Les lauréats" in listed.output and "scheduled" in listed.output
    published = run(post_app, "publish", "1")
    assert published.exit_code == 0, published.output
    assert "dry run" in published.output
    assert "(dry run)" in run(post_app, "list", "--status", "published").output


def test_too_long_without_split_is_refused(run) -> None:
    result = run(post_app, "create", "--account", "mois_ess", "--text", "mot " * 100)
    assert isinstance(result.exception, CampaignError)
    assert "--split" in str(result.exception)
    split = run(post_app, "create", "--account", "mois_ess", "--text", "mot " * 100, "--split")
    assert "2 part(s)" in split.output
    bad = run(post_app, "create", "--account", "mois_ess", "--text", "x", "--at", "demain")
    assert "is not a date and time" in str(bad.exception)
