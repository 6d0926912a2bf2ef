"""The per-newsletter privacy setting from the command line."""

from __future__ import annotations

from sqlmodel import Session, select

from campaign.db import open_database
from campaign.models import Newsletter


def _flags(database_url: str) -> dict[int, bool]:
    engine = open_database(database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(Newsletter.id, Newsletter.anonymous_tracking)).all()
            return {newsletter_id: flag for newsletter_id, flag in rows}
    finally:
        engine.dispose()


def test_anonymous_tracking_is_set_at_creation_and_changed_by_edit(cli, database_url) -> None:
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    common = ["--subject", "S", "--template", "mois-ess", "--list", "Newsletter nationale"]
    plain = cli("newsletters", "create", "--title", "A", *common)
    private = cli("newsletters", "create", "--title", "B", *common, "--anonymous-tracking")
    assert plain.exit_code == 0 and private.exit_code == 0, private.stderr
    first, second = int(plain.stdout), int(private.stdout)
    assert _flags(database_url) == {first: False, second: True}
    assert cli("newsletters", "edit", str(first), "--anonymous-tracking").exit_code == 0
    assert cli("newsletters", "edit", str(second), "--named-tracking").exit_code == 0
    assert _flags(database_url) == {first: True, second: False}
    assert cli("newsletters", "edit", str(first), "--title", "A2").exit_code == 0
    assert _flags(database_url)[first] is True  # not given: unchanged
