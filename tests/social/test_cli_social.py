"""The ``post`` and ``social`` commands through the real entry point, against the X double."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.db import open_database
from campaign.models import Event

from .conftest import CREDENTIALS, PRIX_CREDENTIALS, FakeX, rate_limited

pytestmark = pytest.mark.one_database(
    "the commands' output and exit codes, a door: the stages they call are tested on both engines"
)

PARIS = ZoneInfo("Europe/Paris")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)


@pytest.fixture
def live(fake_x: FakeX, cli, monkeypatch: pytest.MonkeyPatch) -> FakeX:
    """@Mois_ESS live against the double; @Prix_ESS in dry run."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAMPAIGN_SOCIAL_X_API_BASE_URL", fake_x.url)
    monkeypatch.setenv("CAMPAIGN_SOCIAL_X_RETRIES", "1")
    return fake_x


def tomorrow() -> date:
    return (datetime.now(PARIS) + timedelta(days=1)).date()


def add_events(database_url: str, day: date, count: int = 4) -> None:
    regions = ["Bretagne", "Normandie", "Occitanie", "Corse", "Grand Est"]
    themes = ["Se loger", "Consommer", "Travailler", "Se cultiver", "S'évader"]
    engine = open_database(database_url)
    with Session(engine) as session:
        for number in range(count):
            session.add(
                Event(
                    source_id=f"M26-{number:04d}",
                    title=f"Atelier coopératif n°{number}",
                    starts_at=datetime.combine(day, datetime.min.time(), tzinfo=PARIS)
                    + timedelta(hours=19),
                    city="Rennes",
                    region=regions[number % 5],
                    theme=themes[number % 5],
                    url=f"https://lemois-ess.example.org/m26-{number:04d}",
                )
            )
        session.commit()
    engine.dispose()


def add_kinds(database_url: str, day: date, kinds: list[tuple[str, str]]) -> None:
    """One event at 19:00 on ``day`` for each (region, theme) of ``kinds``."""
    engine = open_database(database_url)
    with Session(engine) as session:
        for number, (region, theme) in enumerate(kinds):
            session.add(
                Event(
                    source_id=f"K26-{number:04d}",
                    title=f"Rencontre n°{number}",
                    starts_at=datetime.combine(day, datetime.min.time(), tzinfo=PARIS)
                    + timedelta(hours=19),
                    city="Lyon",
                    region=region,
                    theme=theme,
                    url=f"https://lemois-ess.example.org/k26-{number:04d}",
                )
            )
        session.commit()
    engine.dispose()


def json_of(result) -> object:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_accounts_offline_say_which_variables_are_missing(cli, monkeypatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    result = cli("social", "accounts", "--offline")
    assert result.exit_code == 0, result.stderr
    assert "@Mois_ESS" in result.stdout and "live" in result.stdout
    assert "not checked (--offline)" in result.stdout
    assert "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET" in result.stdout
    assert "ats-mois" not in result.stdout


def test_accounts_are_checked_with_x(live: FakeX, cli, monkeypatch) -> None:
    for name, value in PRIX_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET", "revoked")
    rows = json_of(cli("social", "accounts", "--json"))
    by_name = {row["name"]: row for row in rows}
    assert by_name["mois_ess"]["ok"] is True
    assert by_name["mois_ess"]["detail"] == "accepted by X: @Mois_ESS"
    assert by_name["prix_ess"]["ok"] is False
    assert "X refused the credentials (401: bad signature)" in by_name["prix_ess"]["detail"]
    assert len(live.calls("GET /2/users/me")) == 2

    # Credentials generated while logged in as the wrong account.
    monkeypatch.setenv("CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN", "at-mois")
    monkeypatch.setenv("CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET", "ats-mois")
    table = cli("social", "accounts")
    assert "REFUSED" in table.stdout and "those of @Mois_ESS, not @Prix_ESS" in table.stdout


def test_create_list_publish_in_dry_run(cli) -> None:
    result = cli("posts", "create", "--account", "prix_ess", "--at", "05/11/2030 09:30",
                 "--text", "Les lauréats du Prix ESS sont annoncés !")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "scheduled for 05/11/2030 09:30" in result.stdout
    listed = cli("posts", "list")
    assert "Les lauréats" in listed.stdout and "scheduled" in listed.stdout
    published = cli("posts", "publish", "1")
    assert published.exit_code == 0, published.stderr
    assert "dry run" in published.stdout
    assert "(dry run)" in cli("posts", "list", "--status", "published").stdout


def test_too_long_without_split_is_refused(cli) -> None:
    result = cli("posts", "create", "--account", "mois_ess", "--text", "mot " * 100)
    assert result.exit_code == 1
    assert "is 399 characters long as X counts them, 119 too many" in result.stderr
    split = cli("posts", "create", "--account", "mois_ess", "--text", "mot " * 100, "--split")
    assert "2 part(s)" in split.stdout
    bad = cli("posts", "create", "--account", "mois_ess", "--text", "x", "--at", "demain")
    assert "is not a date and time" in bad.stderr


def test_create_from_a_thread_file(cli, workdir: Path) -> None:
    thread = workdir / "fil.txt"
    thread.write_text(
        "Le Mois de l'ESS, c'est parti !\nPremier jour.\n---\nDeuxième partie.\n\nSuite.\n",
        encoding="utf-8",
    )
    row = json_of(
        cli("posts", "create", "--account", "mois_ess", "--thread", str(thread), "--json")
    )
    assert row["parts"] == [
        "Le Mois de l'ESS, c'est parti !\nPremier jour.",
        "Deuxième partie.\n\nSuite.",
    ]
    paragraphs = workdir / "paragraphes.txt"
    paragraphs.write_text("Un.\n\nDeux.\n\n\nTrois.", encoding="utf-8")
    row = json_of(cli("posts", "create", "-a", "mois_ess", "--thread", str(paragraphs), "--json"))
    assert row["parts"] == ["Un.", "Deux.", "Trois."]
    paragraphs.write_text("Court.\n\n" + "long " * 70, encoding="utf-8")
    failed = cli("posts", "create", "-a", "mois_ess", "--thread", str(paragraphs))
    assert "part 2 of the thread, is 349 characters long as X counts them, 69 too many" in (
        failed.stderr
    )


def test_create_from_templates(cli, database_url: str) -> None:
    add_events(database_url, tomorrow(), count=1)
    row = json_of(cli("posts", "create", "-a", "mois_ess", "--template", "evenement",
                      "--event", "M26-0000", "--json"))  # fmt: skip
    (text,) = row["parts"]
    assert "Atelier coopératif n°0" in text and "#SeLoger #Bretagne #MoisESS" in text
    assert row["event_ids"] == [1]
    missing = cli("posts", "create", "-a", "prix_ess", "--template", "prix-vote")
    assert missing.exit_code == 1
    assert "Post template 'prix-vote' needs a value it was not given ('url' is undefined)" in (
        missing.stderr
    )
    vote = json_of(cli("posts", "create", "-a", "prix_ess", "--template", "prix-vote", "--set",
                       "url=https://lemois-ess.example.org/vote", "--set", "closes=15 octobre",
                       "--json"))  # fmt: skip
    assert "jusqu'au 15 octobre" in vote["parts"][0] and "#PrixESS" in vote["parts"][0]
    unknown = cli("posts", "create", "-a", "prix_ess", "--template", "inconnu")
    assert "Unknown post template 'inconnu'" in unknown.stderr
    assert all(name in unknown.stderr for name in ("evenement", "ouverture", "prix-vote"))


def test_images_need_one_description_each(cli, workdir: Path) -> None:
    picture = workdir / "affiche.png"
    picture.write_bytes(PNG)
    one = cli("posts", "create", "-a", "mois_ess", "--text", "Affiche", "--image", str(picture))
    assert "Give one --alt" in one.stderr
    row = json_of(cli("posts", "create", "-a", "mois_ess", "--text", "Affiche", "--image",
                      str(picture), "--alt", "L'affiche du Mois", "--json"))  # fmt: skip
    (image,) = row["images"]
    assert Path(image["path"]).parent == (workdir / "media").resolve()  # its copy: see below
    assert image == {
        "path": image["path"],
        "alt": "L'affiche du Mois",
        "media_type": "image/png",
        "size": len(PNG),
    }


def test_an_image_given_on_the_command_line_is_copied_into_the_media_folder(
    cli, workdir: Path, tmp_path: Path
) -> None:
    # The dashboard shows a post's images only from the media folder: the CLI keeps a copy
    # there, named after its content, and the post uses the copy (the original may go).
    picture = tmp_path / "Affiche du Mois.PNG"
    picture.write_bytes(PNG)
    created = json_of(cli("posts", "create", "-a", "prix_ess", "--text", "L'affiche",
                          "--image", str(picture), "--alt", "L'affiche", "--json"))  # fmt: skip
    kept = Path(created["images"][0]["path"])
    media = (workdir / "media").resolve()
    assert kept.parent == media and kept.suffix == ".png" and kept != picture.resolve()
    assert kept.read_bytes() == PNG and not kept.is_symlink()
    again = json_of(cli("posts", "create", "-a", "prix_ess", "--text", "La même affiche",
                        "--image", str(picture), "--alt", "L'affiche", "--json"))  # fmt: skip
    assert again["images"][0]["path"] == str(kept)  # the same content is one copy
    assert sorted(media.iterdir()) == [kept]
    picture.unlink()
    published = cli("posts", "publish", str(created["id"]))
    assert published.exit_code == 0, published.stderr
    assert "recorded as published in dry run" in published.stdout
    other = tmp_path / "autre.png"
    other.write_bytes(PNG + b"\0")
    edited = json_of(cli("posts", "edit", str(again["id"]), "--image", str(other), "--alt",
                         "Une autre affiche", "--json"))  # fmt: skip
    assert Path(edited["images"][0]["path"]).parent == media
    assert Path(edited["images"][0]["path"]).read_bytes() == PNG + b"\0"


def test_show_edit_cancel_and_schedule(cli) -> None:
    later = (datetime.now(PARIS) + timedelta(days=3)).strftime("%Y-%m-%d 10:00")
    cli("posts", "create", "-a", "mois_ess", "--text", "Brouillon sans heure")
    cli("posts", "create", "-a", "mois_ess", "--text", "Avec lien https://lemois-ess.org",
        "--at", later, "--draft")  # fmt: skip
    cli("posts", "create", "-a", "mois_ess", "--text", "À annuler", "--at", later)
    shown = json_of(cli("posts", "show", "2", "--json"))
    assert shown["status"] == "draft" and shown["cost"]["posts_with_url"] == 1
    show_text = cli("posts", "show", "2").stdout
    assert "about 0.20 USD" in show_text

    edited = json_of(cli("posts", "edit", "1", "--text", "Brouillon relu", "--json"))
    assert edited["parts"] == ["Brouillon relu"] and edited["status"] == "draft"

    cancelled = cli("posts", "cancel", "3")
    assert "Post 3 cancelled" in cancelled.stdout

    scheduled = cli("posts", "schedule", "--all-drafts")
    assert scheduled.exit_code == 0, scheduled.stderr
    assert "Post 2 scheduled for" in scheduled.stdout
    assert "Post 1 not scheduled: it has no time" in scheduled.stdout
    assert "X cost estimate: 1 post (1 with a link): about 0.20 USD" in scheduled.stdout
    assert json_of(cli("posts", "show", "3", "--json"))["status"] == "cancelled"
    timed = json_of(cli("posts", "edit", "1", "--at", later, "--json"))
    assert timed["status"] == "draft" and timed["scheduled_at"]
    again = json_of(cli("posts", "schedule", "1", "--json"))
    assert [row["id"] for row in again["scheduled"]] == [1]
    assert again["estimate"]["posts"] == 1
    assert again["dry_run_accounts"] == ["mois_ess"]
    published = cli("posts", "publish", "1")
    assert "Post 1 recorded as published in dry run" in published.stdout
    refused = cli("posts", "edit", "1", "--text", "Trop tard")
    assert "only posts not yet published can be edited" in refused.stderr


def test_plan_events_shows_the_cost_then_schedule(cli, database_url: str) -> None:
    day = tomorrow()
    add_events(database_url, day, count=4)
    result = cli("posts", "plan-events", "--account", "mois_ess", "--from", day.isoformat(),
                 "--to", day.isoformat(), "--times", "09:00,12:30,17:30")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "3 draft post(s) created for mois_ess." in result.stdout
    assert "X cost estimate: 3 posts (3 with a link): about 0.60 USD" in result.stdout
    assert "mois_ess is in dry run" in result.stdout
    again = json_of(cli("posts", "plan-events", "-a", "mois_ess", "--from", day.isoformat(),
                        "--to", day.isoformat(), "--times", "09:00,12:30,17:30,18:00",
                        "--json"))  # fmt: skip
    assert len(again["posts"]) == 1 and again["posts"][0]["event"]["source_id"] == "M26-0003"
    assert again["estimate"]["amount"] == pytest.approx(0.2)
    assert len(again["notes"]) == 3
    scheduled = cli("posts", "schedule", "--all-drafts", "--account", "mois_ess")
    assert "4 post(s) scheduled, 0 not." in scheduled.stdout
    assert "about 0.80 USD" in scheduled.stdout


def test_plan_events_on_two_accounts_drafts_each_event_on_both(cli, database_url: str) -> None:
    day = tomorrow()
    add_events(database_url, day, count=4)
    result = cli("posts", "plan-events", "-a", "mois_ess", "-a", "prix_ess", "--from",
                 day.isoformat(), "--to", day.isoformat(), "--times", "09:00,12:30")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "4 draft post(s) created for mois_ess, prix_ess." in result.stdout
    assert "then `campaign posts schedule --all-drafts`." in result.stdout
    rows = json_of(cli("posts", "list", "--json"))
    assert [row["account"] for row in rows] == ["mois_ess", "prix_ess"] * 2
    assert rows[0]["event_ids"] == rows[1]["event_ids"] != rows[2]["event_ids"]


def test_publish_waits_visibly_for_a_close_rate_limit_reset(live: FakeX, cli) -> None:
    cli("posts", "create", "-a", "mois_ess", "--text", "Patience")
    live.on("POST /2/tweets", rate_limited(int(time.time()) + 2))
    result = cli("posts", "publish", "1")
    assert result.exit_code == 0, result.stderr
    assert "X asked to wait (rate limit): waiting until" in result.stderr
    assert "Post 1 published: 1001." in result.stdout
    assert len(live.created) == 1

    cli("posts", "create", "-a", "mois_ess", "--text", "Trop tôt")
    live.on("POST /2/tweets", rate_limited(int(time.time()) + 3600))
    late = cli("posts", "publish", "2")
    assert late.exit_code == 1
    assert "rate limit reached" in late.stderr and "It stays scheduled" in late.stderr
    row = json_of(cli("posts", "show", "2", "--json"))
    assert row["status"] == "scheduled" and row["not_before"]


def test_sync_metrics_command(live: FakeX, cli) -> None:
    cli("posts", "create", "-a", "mois_ess", "--text", "À mesurer")
    assert cli("posts", "publish", "1").exit_code == 0
    result = cli("social", "sync-metrics")
    assert result.exit_code == 0, result.stderr
    assert "mois_ess (@Mois_ESS): 6103 followers, 1993 posts, 0 new mention(s)" in result.stdout
    assert "1 post(s) measured" in result.stdout
    assert "prix_ess (@Prix_ESS): skipped: no credentials" in result.stdout
    rows = json_of(cli("social", "sync-metrics", "--account", "mois_ess", "--json"))
    assert rows[0]["status"] == "synced" and rows[0]["posts_measured"] == 1


def test_plan_events_per_day_theme_of_the_day_and_template_then_list_by_account(
    cli, database_url: str
) -> None:
    day = tomorrow()
    add_kinds(database_url, day, [
        ("Bretagne", "Se loger"), ("Corse", "Consommer"), ("Normandie", "Se loger"),
        ("Grand Est", "Travailler"), ("Occitanie", "Se loger"),
    ])  # fmt: skip
    plan = json_of(cli("posts", "plan-events", "-a", "mois_ess", "--from", day.isoformat(),
                       "--to", day.isoformat(), "--times", "09:00,12:30,17:30", "--per-day", "2",
                       "--theme-of-the-day", "--template", "evenements-du-jour",
                       "--json"))  # fmt: skip
    posts = plan["posts"]
    # --per-day 2: the first two of the three times, nothing at 17:30.
    assert [datetime.fromisoformat(post["scheduled_at"]).astimezone(PARIS).strftime("%H:%M")
            for post in posts] == ["09:00", "12:30"]  # fmt: skip
    # --theme-of-the-day: the theme with the most events, twice (variety alone would have
    # taken another theme for the second post), from two regions.
    assert [post["event"]["theme"] for post in posts] == ["Se loger", "Se loger"]
    assert len({post["event"]["region"] for post in posts}) == 2
    assert plan["notes"] == []
    # --template: the "events of the day" wording, not the default template's hashtags.
    for post in posts:
        (text,) = post["parts"]
        assert text.startswith(f"Aujourd'hui à 19h, Lyon : {post['event']['title']}")
        assert "Thème du jour : se loger." in text
        assert text.endswith("#MoisESS")
        assert "#SeLoger" not in text
    assert [post["status"] for post in posts] == ["draft", "draft"]

    created = cli("posts", "create", "-a", "prix_ess", "--text", "Votez pour le Prix ESS !")
    assert created.exit_code == 0, created.stderr
    prix = json_of(cli("posts", "list", "--account", "prix_ess", "--json"))
    mois = json_of(cli("posts", "list", "--account", "mois_ess", "--json"))
    assert [row["parts"] for row in prix] == [["Votez pour le Prix ESS !"]]
    assert [row["id"] for row in mois] == [post["id"] for post in posts]
    assert {row["account"] for row in mois} == {"mois_ess"}
    table = cli("posts", "list", "-a", "prix_ess").stdout
    assert "Votez pour le Prix ESS" in table and "Rencontre" not in table
    assert cli("posts", "list", "-a", "mois_ess").stdout.count("Aujourd'hui à 19h") == 2


def test_schedule_refuses_a_draft_whose_image_is_gone(cli, workdir: Path) -> None:
    picture = workdir / "affiche.png"
    picture.write_bytes(PNG)
    later = (datetime.now(PARIS) + timedelta(days=2)).strftime("%Y-%m-%d 10:00")
    created = cli("posts", "create", "-a", "mois_ess", "--text", "L'affiche du Mois", "--image",
                  str(picture), "--alt", "L'affiche", "--at", later, "--draft")  # fmt: skip
    assert created.exit_code == 0, created.stderr
    kept = Path(json_of(cli("posts", "show", "1", "--json"))["images"][0]["path"])
    kept.unlink()  # the copy the post uses, in the media folder
    result = cli("posts", "schedule", "1")
    said = " ".join(result.stdout.split())
    assert (
        f"Post 1 not scheduled: Post 1, image 1: {kept} does not exist (or is not a file)."
    ) in said
    assert "0 post(s) scheduled, 1 not." in said
    assert json_of(cli("posts", "show", "1", "--json"))["status"] == "draft"


def test_an_event_post_given_a_new_time_is_written_again_or_refused_in_english(
    cli, database_url: str
) -> None:
    day = tomorrow() + timedelta(days=1)
    add_events(database_url, day, count=1)  # 19:00 on ``day``
    eve = f"{day - timedelta(days=1):%d/%m/%Y} 10:00"
    row = json_of(cli("posts", "create", "-a", "mois_ess", "--template", "evenement",
                      "--event", "M26-0000", "--at", eve, "--json"))  # fmt: skip
    assert row["parts"][0].startswith("Demain à 19h, Rennes : Atelier coopératif n°0")
    moved = json_of(cli("posts", "edit", str(row["id"]), "--at", f"{day:%d/%m/%Y} 10:00", "--json"))
    assert moved["parts"][0].startswith("Aujourd'hui à 19h, Rennes : Atelier coopératif n°0")
    late = cli("posts", "edit", str(row["id"]), "--at", f"{day + timedelta(days=1):%d/%m/%Y} 10:00")
    assert late.exit_code == 1
    assert f"Post {row['id']} announces event M26-0000 ('Atelier coopératif n°0'), over by " in (
        late.stderr
    )
    assert "it keeps its time" in late.stderr
    shown = json_of(cli("posts", "show", str(row["id"]), "--json"))
    assert shown["parts"] == moved["parts"] and shown["scheduled_at"] == moved["scheduled_at"]
