"""`campaign schedule check|sync|list` and `campaign serve`, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

CALENDAR = """
[[newsletter]]
key = "semaine"
at = 2036-11-06 10:00:00
title = "Du 9 au 15 novembre"
subject = "Le Mois près de chez vous"
template = "mois-ess"
lists = ["Newsletter nationale"]

[[post]]
key = "j-1"
account = "mois_ess"
at = 2036-10-31 17:30:00
text = "Demain commence le #MoisESS !"
"""


def _calendar(workdir: Path, text: str = CALENDAR, name: str = "mois.toml") -> Path:
    folder = workdir / "schedules"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_says_ok_and_counts_the_entries(cli, workdir: Path) -> None:
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    _calendar(workdir)
    result = cli("schedule", "check")
    assert result.exit_code == 0, result.stderr
    assert "schedules/mois.toml: OK, 1 warning(s) — 1 newsletters, 1 posts, 0 recurring rules" in (
        result.stdout
    )
    assert "newsletter 'semaine': as rendered today: mois-ess: the template lists events" in (
        result.stderr
    )


def test_check_lists_each_problem_with_file_line_and_entry_and_fails(cli, workdir: Path) -> None:
    path = _calendar(workdir, CALENDAR.replace('"mois_ess"', '"moi_ess"'))
    result = cli("schedule", "check", str(path))
    assert result.exit_code == 1
    assert f"error {path}:8: newsletter 'semaine': No list named" in result.stderr
    assert (
        f"error {path}:12: post 'j-1': unknown account 'moi_ess' (accounts in [social.accounts]: "
        "mois_ess, prix_ess)"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(cli("schedule", "check", str(path), "--json").stdout)
    assert [(p["line"], p["entry"]) for p in data[0]["problems"]] == [
        (8, "newsletter 'semaine'"),
        (12, "post 'j-1'"),
    ]


def test_check_without_a_calendar_is_a_clear_error(cli, workdir: Path) -> None:
    result = cli("schedule", "check")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: No calendar at schedules: give a .toml file or a folder of them."
    )


def test_sync_then_sync_again_then_list(cli, workdir: Path) -> None:
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    _calendar(workdir)
    dry = cli("schedule", "sync", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "Dry run, nothing written: would have 2 created." in dry.stdout
    assert json.loads(cli("newsletter", "list", "--json").stdout) == []
    first = cli("schedule", "sync")
    assert "2 created." in first.stdout
    assert "within 2 s" in first.stdout
    second = cli("schedule", "sync", "--json")
    assert {change["action"] for change in json.loads(second.stdout)["changes"]} == {"unchanged"}
    listed = json.loads(cli("schedule", "list", "--json").stdout)
    assert [(item["kind"], item["key"], item["status"], item["local"]) for item in listed] == [
        ("post", "mois/j-1", "scheduled", "2036-10-31T17:30:00+01:00"),
        ("newsletter", "mois/semaine", "scheduled", "2036-11-06T10:00:00+01:00"),
    ]
    table = cli("schedule", "list", "--from", "2036-11-01")
    assert "Du 9 au 15 novembre" in table.stdout and "Demain" not in table.stdout


def test_sync_of_a_calendar_with_errors_changes_nothing_and_fails(cli, workdir: Path) -> None:
    path = _calendar(workdir, CALENDAR.replace("2036-10-31 17:30:00", "2036-10-26 02:30:00"))
    result = cli("schedule", "sync", str(path))
    assert result.exit_code == 1
    assert "not synced" in result.stderr and "nothing of it was changed" in result.stderr
    assert json.loads(cli("post", "list", "--json").stdout) == []


def test_list_flags_missed_items(cli, workdir: Path) -> None:
    created = cli(
        "post", "create", "--account", "mois_ess", "--text", "Oups", "--at", "2020-01-01 09:00",
        "--draft",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    import os

    from sqlmodel import Session, select

    from campaign.db import open_database
    from campaign.models import Post

    engine = open_database(os.environ["CAMPAIGN_DATABASE_URL"])
    with Session(engine) as session:
        post = session.exec(select(Post)).one()
        post.status, post.last_error = "missed", "not run: its time had passed"
        session.add(post)
        session.commit()
    engine.dispose()
    result = cli("schedule", "list")
    assert "missed" in result.stdout
    assert "1 missed" in result.stdout
    assert "(by hand)" in result.stdout


def test_serve_with_nothing_to_run_is_a_clear_error(cli) -> None:
    result = cli("serve", "--no-web", "--no-scheduler")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "Error: --no-web and --no-scheduler together leave nothing to run."
    )
