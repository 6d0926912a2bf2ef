"""`campaign schedule check|sync|list` and `campaign serve`, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.one_database(
    "the commands' output and exit codes, a door: the stages they call are tested on both engines"
)

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
    assert json.loads(cli("newsletters", "list", "--json").stdout) == []
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


RANGE_CALENDAR = """
[[post]]
key = "veille"
account = "mois_ess"
at = 2036-10-31 17:30:00
text = "Demain commence le #MoisESS !"

[[post]]
key = "lundi"
account = "mois_ess"
at = 2036-11-03 09:00:00
text = "Premier lundi du #MoisESS"

[[newsletter]]
key = "semaine"
at = 2036-11-06 10:00:00
title = "Du 9 au 15 novembre"
subject = "Le Mois près de chez vous"
template = "mois-ess"
lists = ["Newsletter nationale"]

[[post]]
key = "tard"
account = "prix_ess"
at = 2036-11-06 23:30:00
text = "Dernier appel au vote #PrixESS"

[[post]]
key = "minuit"
account = "mois_ess"
at = 2036-11-07 00:00:00
text = "Minuit pile"

[[post]]
key = "samedi"
account = "mois_ess"
at = 2036-11-08 09:00:00
text = "Samedi du #MoisESS"

[[recurring]]
key = "mesures"
kind = "sync-metrics"
days = ["monday"]
times = ["08:00"]
from = 2036-10-01
to = 2036-12-31
"""


def test_list_from_to_shows_only_what_falls_in_those_days(cli, workdir: Path) -> None:
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    _calendar(workdir, RANGE_CALENDAR)
    synced = cli("schedule", "sync")
    assert synced.exit_code == 0, synced.stderr
    listed = cli("schedule", "list", "--from", "2036-11-01", "--to", "06/11/2036", "--json")
    assert listed.exit_code == 0, listed.stderr
    # From the first day's midnight to the end of the last day (local time), both included.
    assert [(item["local"], item["kind"], item["key"]) for item in json.loads(listed.stdout)] == [
        ("2036-11-03T08:00:00+01:00", "recurring", "mois/mesures"),
        ("2036-11-03T09:00:00+01:00", "post", "mois/lundi"),
        ("2036-11-06T10:00:00+01:00", "newsletter", "mois/semaine"),
        ("2036-11-06T23:30:00+01:00", "post", "mois/tard"),
    ]
    table = " ".join(
        cli("schedule", "list", "--from", "2036-11-01", "--to", "2036-11-06").stdout.split()
    )
    for shown in ("Premier lundi", "Du 9 au 15 novembre", "Dernier appel", "sync-metrics"):
        assert shown in table
    for hidden in ("Demain commence", "Minuit pile", "Samedi du"):
        assert hidden not in table
    # One day only; and --to alone starts today.
    one_day = json.loads(cli("schedule", "list", "--from", "2036-11-07", "--to", "2036-11-07",
                             "--json").stdout)  # fmt: skip
    assert [item["key"] for item in one_day] == ["mois/minuit"]
    up_to = json.loads(cli("schedule", "list", "--to", "2036-10-31", "--json").stdout)
    mondays = ["mois/mesures"] * 4  # 6, 13, 20 and 27 October
    assert [item["key"] for item in up_to] == [*mondays, "mois/veille"]
    backwards = cli("schedule", "list", "--from", "2036-11-06", "--to", "2036-11-01")
    assert backwards.exit_code == 1
    assert "--to (01/11/2036) is before --from (06/11/2036)" in backwards.stderr


def test_sync_of_a_calendar_with_errors_changes_nothing_and_fails(cli, workdir: Path) -> None:
    path = _calendar(workdir, CALENDAR.replace("2036-10-31 17:30:00", "2036-10-26 02:30:00"))
    result = cli("schedule", "sync", str(path))
    assert result.exit_code == 1
    assert "not synced" in result.stderr and "nothing of it was changed" in result.stderr
    assert json.loads(cli("posts", "list", "--json").stdout) == []


def test_list_flags_missed_items(cli, workdir: Path) -> None:
    created = cli(
        "posts", "create", "--account", "mois_ess", "--text", "Oups", "--at", "2020-01-01 09:00",
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
