"""The ``campaign`` command, run through its real entry point against the test database."""

from __future__ import annotations

import csv
import json
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from sqlalchemy import create_engine, text

from campaign.cli import app
from campaign.config import example_toml
from campaign.db import normalise_url
from tests.conftest import subcommands


def command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group of the tree, as the words typed after ``campaign``."""
    yield path
    for name, sub in subcommands(command):
        if not getattr(sub, "hidden", False):
            yield from command_paths(sub, (*path, name))


COMMAND_PATHS = list(command_paths(typer.main.get_command(app)))


def assert_clean_error(result, *expected: str) -> None:
    """A user error: non-zero exit, one line starting with 'Error:', no traceback anywhere."""
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:"), result.stderr
    for words in expected:
        assert words in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_the_command_tree_has_the_documented_groups() -> None:
    top = {path[0] for path in COMMAND_PATHS if path}
    assert {"init", "config", "subscribers", "lists", "events", "newsletters", "posts"} <= top
    assert ("subscribers", "erase") in COMMAND_PATHS
    assert ("lists", "create") in COMMAND_PATHS


@pytest.mark.parametrize(("old", "new"), [("newsletter", "newsletters"), ("post", "posts")])
def test_an_old_group_name_still_works_hidden_from_help(cli, old: str, new: str) -> None:
    shown = cli("--help")
    assert shown.exit_code == 0, shown.stderr
    assert f" {new} " in shown.stdout
    assert f" {old} " not in shown.stdout
    assert (old,) not in COMMAND_PATHS and (new,) in COMMAND_PATHS
    same = [cli(name, "list", "--json") for name in (old, new)]
    assert [result.exit_code for result in same] == [0, 0], same[0].stderr
    assert json.loads(same[0].stdout) == json.loads(same[1].stdout) == []
    root = typer.main.get_command(app)
    ctx = typer.Context(root)  # type: ignore[arg-type]
    alias, group = (root.get_command(ctx, name) for name in (old, new))  # type: ignore[attr-defined]
    assert alias.hidden and not group.hidden
    assert [name for name, _ in subcommands(alias)] == [name for name, _ in subcommands(group)]
    assert f"campaign {old} [OPTIONS] COMMAND" in cli(old, "--help").stdout


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(path) or "campaign")
def test_every_command_and_subcommand_has_help(cli, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_version_is_printed(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("campaign ")


# --- init and config ---------------------------------------------------------------------------


def test_init_creates_config_toml_from_the_example_and_the_database(cli, workdir: Path) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    assert (workdir / "config.toml").read_text(encoding="utf-8") == example_toml()
    assert "created config.toml" in result.stdout
    assert "up to date" in result.stdout
    assert not (workdir / "campaign.secret").exists()  # CAMPAIGN_SECRET_KEY is set


def test_init_run_again_keeps_the_existing_config_toml(cli, workdir: Path) -> None:
    assert cli("init").exit_code == 0
    edited = example_toml().replace('language = "fr"', 'language = "en"')
    (workdir / "config.toml").write_text(edited, encoding="utf-8")
    assert cli("subscribers", "add", "jean@x.org").exit_code == 0
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    assert "kept as it is" in result.stdout
    assert (workdir / "config.toml").read_text(encoding="utf-8") == edited
    assert json.loads(cli("subscribers", "list", "--json").stdout)[0]["email"] == "jean@x.org"


def test_init_without_a_secret_key_generates_a_private_key_file_and_warns(
    cli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAMPAIGN_SECRET_KEY")
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    key_file = workdir / "campaign.secret"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "CAMPAIGN_SECRET_KEY" in result.stderr
    key = key_file.read_text(encoding="utf-8")
    assert cli("init").exit_code == 0
    assert key_file.read_text(encoding="utf-8") == key


def test_config_example_prints_the_documented_example(cli) -> None:
    result = cli("config", "example")
    assert result.exit_code == 0
    assert result.stdout == example_toml()


def test_config_show_gives_the_settings_in_force_and_where_they_come_from(
    cli, workdir: Path, database_url: str
) -> None:
    (workdir / "config.toml").write_text("[mail.smtp]\nport = 2525\n", encoding="utf-8")
    result = cli("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["source"] == "config.toml"
    assert shown["settings"]["mail"]["smtp"]["port"] == 2525
    assert shown["settings"]["database"]["url"] == database_url  # from CAMPAIGN_DATABASE_URL


def test_config_show_never_prints_a_password_held_in_a_url(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", "postgresql://campaign:hunter2@db.example.org/c")
    monkeypatch.setenv("CAMPAIGN_WEB_PUBLIC_URL", "https://preview:s3cr3t@lemois.example.org")
    text = cli("config", "show")
    as_json = cli("config", "show", "--json")
    assert text.exit_code == 0 and as_json.exit_code == 0, text.stderr + as_json.stderr
    for shown in (text, as_json):
        assert "hunter2" not in shown.stdout + shown.stderr
        assert "s3cr3t" not in shown.stdout + shown.stderr
        assert "postgresql://campaign:***@db.example.org/c" in shown.stdout
        assert "https://preview:***@lemois.example.org" in shown.stdout


def test_init_never_prints_the_database_password(
    cli, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("an SQLite URL holds no password")
    user, rest = database_url.split("@", 1)
    assert ":" not in user.split("://", 1)[1], "the test server's URL already has a password"
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", f"{user}:hunter2@{rest}")  # trust login
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    assert "Database: " in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


# --- subscribers -------------------------------------------------------------------------------


def test_subscribers_add_then_list_and_show_as_json(cli) -> None:
    result = cli(
        "subscribers",
        "add",
        "Jean@X.org",
        "--list",
        "Newsletter nationale",
        "--first-name",
        "Jean",
        "--organisation",
        "Scop du Lac",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    added = json.loads(result.stdout)
    assert added["outcome"] == "added"
    assert added["subscriber"]["email"] == "jean@x.org"
    assert added["subscriber"]["lists"] == ["Newsletter nationale"]

    again = json.loads(cli("subscribers", "add", "jean@x.org", "--json").stdout)
    assert again["outcome"] == "unchanged"

    listed = json.loads(cli("subscribers", "list", "--json").stdout)
    assert [row["email"] for row in listed] == ["jean@x.org"]
    assert listed[0]["first_name"] == "Jean"
    assert listed[0]["status"] == "active"

    shown = json.loads(cli("subscribers", "show", "JEAN@x.org", "--json").stdout)
    assert shown["organisation"] == "Scop du Lac"
    assert [line["action"] for line in shown["consent_log"]] == ["subscribed", "subscribed"]


def test_subscribers_list_filters_by_status_and_list(cli) -> None:
    cli("subscribers", "add", "a@x.org", "--list", "Presse")
    cli("subscribers", "add", "b@x.org", "--list", "Presse")
    cli("subscribers", "add", "c@x.org")
    cli("subscribers", "unsubscribe", "b@x.org")

    def emails(*options: str) -> list[str]:
        result = cli("subscribers", "list", "--json", *options)
        assert result.exit_code == 0, result.stderr
        return [row["email"] for row in json.loads(result.stdout)]

    assert emails("--list", "Presse") == ["a@x.org", "b@x.org"]
    assert emails("--status", "unsubscribed") == ["b@x.org"]
    assert emails("--status", "active", "--list", "Presse") == ["a@x.org"]
    assert emails("--limit", "2") == ["a@x.org", "b@x.org"]


def test_subscribers_list_as_a_table_shows_the_people(cli) -> None:
    cli("subscribers", "add", "jean@x.org", "--first-name", "Jean", "--last-name", "Dupont")
    result = cli("subscribers", "list")
    assert result.exit_code == 0, result.stderr
    assert "jean@x.org" in result.stdout
    assert "Jean Dupont" in result.stdout


def test_brackets_in_names_are_printed_as_they_are_not_taken_for_styles(cli) -> None:
    added = cli(
        "subscribers", "add", "crochets@x.org", "--first-name", "[red]Jean[/red]",
        "--last-name", "[bold]", "--organisation", "[mail.smtp] ESS",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    result = cli("subscribers", "list")
    assert result.exit_code == 0, result.stderr
    assert "[red]Jean[/red] [bold]" in result.stdout
    assert "[mail.smtp] ESS" in result.stdout


def test_an_error_naming_a_setting_in_brackets_keeps_it(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", "nosuchdb://campaign@127.0.0.1/x")
    assert_clean_error(cli("lists"), "[database] url 'nosuchdb://campaign@127.0.0.1/x'")


def test_subscribers_unsubscribe_from_one_list_then_from_everything(cli) -> None:
    cli("subscribers", "add", "jean@x.org", "--list", "Presse", "--list", "Newsletter nationale")
    result = cli("subscribers", "unsubscribe", "jean@x.org", "--list", "Presse")
    assert result.exit_code == 0, result.stderr
    assert "unsubscribed from the list 'Presse'" in result.stdout
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert (shown["status"], shown["lists"]) == ("active", ["Newsletter nationale"])

    assert cli("subscribers", "unsubscribe", "jean@x.org").exit_code == 0
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert shown["status"] == "unsubscribed"
    result = cli("subscribers", "unsubscribe", "jean@x.org")
    assert result.exit_code == 0
    assert "already unsubscribed" in result.stdout


def test_subscribers_export_writes_a_semicolon_csv_with_a_bom(cli, workdir: Path) -> None:
    cli("subscribers", "add", "anne@x.org", "--last-name", "Ésope", "--list", "Presse")
    cli("subscribers", "add", "bruno@x.org")
    result = cli("subscribers", "export", "out.csv", "--list", "Presse")
    assert result.exit_code == 0, result.stderr
    assert "1 subscribers written" in result.stdout
    with (workdir / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [(row["email"], row["last_name"]) for row in rows] == [("anne@x.org", "Ésope")]


def test_subscribers_erase_with_yes_removes_the_person_and_keeps_the_count(cli) -> None:
    cli("subscribers", "add", "jean@x.org", "--list", "Presse", "--first-name", "Jean")
    cli("subscribers", "add", "anne@x.org", "--list", "Presse")
    result = cli("subscribers", "erase", "jean@x.org", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "personal data erased" in result.stdout
    listed = json.loads(cli("subscribers", "list", "--json").stdout)
    assert [row["email"] for row in listed] == ["anne@x.org"]
    (presse,) = json.loads(cli("lists", "--json").stdout)
    assert presse["total"] == 1
    assert_clean_error(cli("subscribers", "show", "jean@x.org"), "No subscriber")


def test_subscribers_erase_asks_first_and_a_no_erases_nothing(cli) -> None:
    cli("subscribers", "add", "jean@x.org", "--first-name", "Jean")
    result = cli("subscribers", "erase", "jean@x.org", input="n\n")
    assert result.exit_code != 0
    assert "Traceback" not in result.stdout + result.stderr
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert shown["first_name"] == "Jean"


def test_subscribers_edit_corrects_fields_and_never_the_address(cli) -> None:
    cli("subscribers", "add", "jean@x.org", "--first-name", "Jaen", "--region", "Normandie")
    result = cli(
        "subscribers", "edit", "JEAN@x.org", "--first-name", "Jean", "--region", "bretagne"
    )
    assert result.exit_code == 0, result.stderr
    assert "first_name 'Jaen' → 'Jean'" in result.stdout
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert (shown["first_name"], shown["region"]) == ("Jean", "Bretagne")
    assert shown["consent_log"][-1]["action"] == "updated"
    assert "nothing to change" in cli("subscribers", "edit", "jean@x.org").stdout
    assert_clean_error(
        cli("subscribers", "edit", "nobody@x.org", "--last-name", "X"), "No subscriber"
    )


def test_subscribers_show_json_names_the_list_of_each_consent_line(cli) -> None:
    cli("subscribers", "add", "first@x.org", "--list", "Presse")
    cli("subscribers", "add", "jean@x.org", "--list", "Newsletter nationale", "--list", "Presse")
    cli("subscribers", "unsubscribe", "jean@x.org", "--list", "Presse")
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert [(line["action"], line["list"]) for line in shown["consent_log"]] == [
        ("subscribed", None),
        ("subscribed", "Newsletter nationale"),
        ("subscribed", "Presse"),
        ("unsubscribed", "Presse"),
    ]


def test_subscribers_resubscribe_after_an_admin_unsubscription(cli) -> None:
    cli("subscribers", "add", "jean@x.org", "--list", "Presse", "--list", "Newsletter nationale")
    cli("subscribers", "unsubscribe", "jean@x.org", "--list", "Presse")
    result = cli("subscribers", "resubscribe", "jean@x.org", "--list", "presse")
    assert result.exit_code == 0, result.stderr
    assert "resubscribed to the list 'Presse'" in result.stdout
    cli("subscribers", "unsubscribe", "jean@x.org")
    assert (
        "resubscribed to every newsletter" in cli("subscribers", "resubscribe", "jean@x.org").stdout
    )
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert (shown["status"], shown["lists"]) == ("active", ["Newsletter nationale", "Presse"])
    assert "already receives" in cli("subscribers", "resubscribe", "jean@x.org").stdout


def _set_status(database_url: str, email: str, status: str, method: str) -> None:
    """What a bounce or the person's own unsubscribe link leaves in the database."""
    from sqlmodel import Session

    from campaign.audience.subscribers import change_status, require_subscriber
    from campaign.db import open_database
    from campaign.models import ConsentAction

    engine = open_database(database_url)
    with Session(engine) as session:
        person = require_subscriber(session, email)
        change_status(session, person, status, ConsentAction(status), method=method, actor="x")
        session.commit()
    engine.dispose()


@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_subscribers_resubscribe_refuses_a_bounced_or_complained_address_unless_forced(
    cli, database_url: str, status: str
) -> None:
    cli("subscribers", "add", "jean@x.org", "--list", "Presse")
    _set_status(database_url, "jean@x.org", status, "bounce")
    assert_clean_error(cli("subscribers", "resubscribe", "jean@x.org"), status, "--force")
    assert json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)["status"] == status
    result = cli("subscribers", "resubscribe", "jean@x.org", "--force")
    assert result.exit_code == 0, result.stderr
    assert (
        json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)["status"] == "active"
    )


def test_subscribers_resubscribe_asks_for_the_consent_of_who_unsubscribed_themselves(
    cli, database_url: str
) -> None:
    cli("subscribers", "add", "jean@x.org", "--list", "Presse")
    _set_status(database_url, "jean@x.org", "unsubscribed", "link")
    refused = cli("subscribers", "resubscribe", "jean@x.org", input="n\n")
    assert "unsubscribed themselves on" in refused.stdout
    assert_clean_error(refused, "only with their new consent", "--consent")
    assert json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)["status"] == (
        "unsubscribed"
    )
    assert cli("subscribers", "resubscribe", "jean@x.org", input="y\n").exit_code == 0
    shown = json.loads(cli("subscribers", "show", "jean@x.org", "--json").stdout)
    assert shown["status"] == "active"
    assert shown["consent_log"][-1]["detail"] == "with the person's new consent"
    _set_status(database_url, "jean@x.org", "unsubscribed", "link")
    assert cli("subscribers", "resubscribe", "jean@x.org", "--consent").exit_code == 0


# --- lists -------------------------------------------------------------------------------------


def test_lists_create_then_lists_shows_the_counts(cli) -> None:
    result = cli("lists", "create", "Organisateurs", "--description", "Structures")
    assert result.exit_code == 0, result.stderr
    assert "Organisateurs" in result.stdout
    cli("subscribers", "add", "a@x.org", "--list", "Organisateurs")
    cli("subscribers", "add", "b@x.org", "--list", "Organisateurs")
    cli("subscribers", "unsubscribe", "b@x.org")

    rows = json.loads(cli("lists", "--json").stdout)
    assert [row["name"] for row in rows] == ["Organisateurs"]
    assert (rows[0]["active"], rows[0]["unsubscribed"], rows[0]["total"]) == (1, 1, 2)
    assert rows[0]["description"] == "Structures"

    table = cli("lists")
    assert table.exit_code == 0, table.stderr
    assert "Organisateurs" in table.stdout
    assert "unsubscribed" in table.stdout


def test_lists_without_any_list_says_how_to_create_one(cli) -> None:
    result = cli("lists")
    assert result.exit_code == 0, result.stderr
    assert "campaign lists create" in result.stdout
    assert json.loads(cli("lists", "--json").stdout) == []


def test_lists_create_refuses_a_name_differing_only_by_case_or_accents(cli) -> None:
    cli("lists", "create", "Newsletter nationale")
    assert_clean_error(
        cli("lists", "create", "Newsletter Natiônale"), "A list named 'Newsletter nationale'"
    )
    cli("subscribers", "add", "a@x.org", "--list", "NEWSLETTER NATIONALE")
    rows = json.loads(cli("lists", "--json").stdout)
    assert [(row["name"], row["total"]) for row in rows] == [("Newsletter nationale", 1)]


def test_lists_rename_merge_and_delete(cli) -> None:
    cli("subscribers", "add", "a@x.org", "--list", "Newsletter Nationale")
    cli("subscribers", "add", "b@x.org", "--list", "Presse", "--list", "Newsletter Nationale")
    result = cli("lists", "rename", "newsletter nationale", "Newsletter nationale")
    assert result.exit_code == 0, result.stderr
    assert "renamed 'Newsletter nationale'" in result.stdout
    assert_clean_error(cli("lists", "rename", "Presse", "newsletter NATIONALE"), "already exists")

    assert_clean_error(cli("lists", "delete", "Presse"), "not empty or still used", "merge")
    assert cli("lists", "merge", "Presse", "Newsletter nationale", input="n\n").exit_code != 0
    assert [row["name"] for row in json.loads(cli("lists", "--json").stdout)] == [
        "Newsletter nationale",
        "Presse",
    ]
    merged = cli("lists", "merge", "Presse", "Newsletter nationale", "--yes")
    assert merged.exit_code == 0, merged.stderr
    assert "0 person(s) moved, 1 already on both" in merged.stdout
    rows = json.loads(cli("lists", "--json").stdout)
    assert [(row["name"], row["total"]) for row in rows] == [("Newsletter nationale", 2)]

    cli("lists", "create", "Vide")
    deleted = cli("lists", "delete", "vide")
    assert deleted.exit_code == 0, deleted.stderr
    assert "List 'Vide' deleted." in deleted.stdout
    assert_clean_error(cli("lists", "delete", "Vide"), "No list named 'Vide'")


# --- errors ------------------------------------------------------------------------------------


def test_a_duplicate_list_is_a_one_line_error(cli) -> None:
    assert cli("lists", "create", "Presse").exit_code == 0
    assert_clean_error(cli("lists", "create", "Presse"), "already exists")


def test_an_unknown_list_is_a_one_line_error(cli) -> None:
    assert_clean_error(cli("subscribers", "list", "--list", "Inconnue"), "No list named")
    cli("subscribers", "add", "jean@x.org")
    assert_clean_error(
        cli("subscribers", "unsubscribe", "jean@x.org", "--list", "Inconnue"), "Inconnue"
    )


def test_an_unknown_subscriber_is_a_one_line_error(cli) -> None:
    for command in ("show", "unsubscribe"):
        assert_clean_error(cli("subscribers", command, "nobody@x.org"), "nobody@x.org")
    assert_clean_error(cli("subscribers", "erase", "nobody@x.org", "--yes"), "No subscriber")


def test_a_bad_email_is_a_one_line_error(cli) -> None:
    assert_clean_error(cli("subscribers", "add", "not-an-address"), "not-an-address")
    assert json.loads(cli("subscribers", "list", "--json").stdout) == []


def test_a_bad_config_file_is_an_error_naming_the_key_without_a_traceback(
    cli, workdir: Path
) -> None:
    (workdir / "config.toml").write_text('[mail.smtp]\nport = "abc"\n', encoding="utf-8")
    result = cli("subscribers", "list")
    assert result.exit_code != 0
    assert result.stderr.startswith("Error:")
    assert "mail.smtp.port" in result.stderr
    assert "config.toml" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_config_option_file_is_a_one_line_error(cli) -> None:
    assert_clean_error(cli("--config", "nowhere.toml", "lists"), "nowhere.toml")


def test_a_secret_in_the_config_file_is_a_one_line_error(cli, workdir: Path) -> None:
    (workdir / "config.toml").write_text('[mail.smtp]\npassword = "x"\n', encoding="utf-8")
    assert_clean_error(cli("lists"), "password_env")


def test_an_unreachable_database_is_a_one_line_error(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", "postgresql://campaign:hunter2@127.0.0.1:1/x")
    result = cli("lists")
    assert result.exit_code != 0
    assert result.stderr.startswith("Error: Cannot open the database")
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# --- the database's own errors: one sentence, never SQL or a subscriber's data ------------------


def sqlite_only(database_url: str) -> Path:
    """The SQLite file of the test (tests of SQLite's own files skip their PostgreSQL run)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a property of SQLite's file")
    return Path(database_url.removeprefix("sqlite:///"))


def assert_no_database_internals(result, *private: str) -> None:
    shown = result.stdout + result.stderr
    for word in ("INSERT", "SELECT", "UPDATE", "[SQL", "parameters", "This is a bug", *private):
        assert word not in shown, shown


def test_a_locked_database_is_one_sentence_without_sql_or_personal_data(
    cli, database_url: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sqlite_only(database_url)
    assert cli("lists", "create", "Presse").exit_code == 0
    (workdir / "personnes.csv").write_text(
        "email;prénom;nom\nalice.martin@perso.fr;Alice;Martin\nbob.durand@perso.fr;Bob;Durand\n",
        encoding="utf-8",
    )
    # SQLite waits that long for the lock (30 s by default) before saying it is busy.
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", f"{database_url}?timeout=0.1")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        for command in (
            ("subscribers", "import", "personnes.csv", "--list", "Presse"),
            ("subscribers", "add", "carole.petit@perso.fr", "--first-name", "Carole"),
            ("lists", "create", "Élus"),
        ):
            result = cli(*command)
            assert result.exit_code == 1, result.stderr
            assert_clean_error(result, "busy (locked by another process)", str(path))
            assert "try again in a moment" in result.stderr
            assert_no_database_internals(result, "perso.fr", "Alice", "Carole", "Élus")
    finally:
        holder.rollback()
        holder.close()
    assert cli("subscribers", "add", "carole.petit@perso.fr").exit_code == 0  # free again


def test_an_unexpected_database_error_shows_neither_the_statement_nor_its_values(
    cli, database_url: str
) -> None:
    assert cli("lists").exit_code == 0
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:  # a schema damaged by hand: a query fails in a new way
        cascade = " CASCADE" if database_url.startswith("postgresql") else ""
        connection.execute(text(f"DROP TABLE consent_event{cascade}"))
    engine.dispose()
    result = cli("subscribers", "add", "alice.martin@perso.fr", "--first-name", "Alice")
    assert result.exit_code == 2
    assert "consent_event" in result.stderr  # the database's own words, first line only
    shown = result.stdout + result.stderr
    for word in ("INSERT", "SELECT", "[SQL", "perso.fr", "Alice"):
        assert word not in shown, shown


def test_a_file_that_is_not_a_database_is_one_sentence(
    cli, database_url: str, workdir: Path
) -> None:
    path = sqlite_only(database_url)
    path.write_bytes(b"ceci n'est pas une base\n" * 400)
    result = cli("lists")
    assert result.exit_code == 1
    assert_clean_error(result, str(path), "damaged", "restore it from a backup")
    assert_no_database_internals(result)


def test_a_truncated_database_is_one_sentence(cli, database_url: str) -> None:
    path = sqlite_only(database_url)
    assert cli("subscribers", "add", "alice.martin@perso.fr").exit_code == 0
    with path.open("r+b") as handle:
        handle.truncate(3000)  # cut inside the first page
    result = cli("subscribers", "list")
    assert result.exit_code == 1
    assert_clean_error(result, str(path), "damaged", "restore it from a backup")
    assert_no_database_internals(result, "perso.fr")


def test_a_database_written_by_a_newer_campaign_asks_to_upgrade(cli, database_url: str) -> None:
    assert cli("lists").exit_code == 0
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    engine.dispose()
    result = cli("lists")
    assert result.exit_code == 1
    assert_clean_error(result, "newer version of campaign", "0099_future", "upgrade campaign")
    assert_no_database_internals(result)
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:  # and it was left as it was
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "0099_future"
        )
    engine.dispose()


def test_a_database_whose_folder_cannot_be_created_is_one_sentence(
    cli, database_url: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_only(database_url)
    (workdir / "donnees").write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", f"sqlite:///{workdir / 'donnees' / 'c.db'}")
    result = cli("lists")
    assert result.exit_code == 1
    assert_clean_error(result, str(workdir / "donnees" / "c.db"), "cannot create its folder")
    assert_no_database_internals(result)


def test_a_database_path_that_is_a_folder_is_one_sentence(
    cli, database_url: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_only(database_url)
    (workdir / "base.db").mkdir()
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", f"sqlite:///{workdir / 'base.db'}")
    result = cli("lists")
    assert result.exit_code == 1
    assert_clean_error(result, str(workdir / "base.db"), "Cannot open the database", "Check")
    assert_no_database_internals(result)


def test_a_config_file_that_is_not_toml_is_one_sentence(cli, workdir: Path) -> None:
    (workdir / "config.toml").write_text("[mail.smtp\nport = 2525\n", encoding="utf-8")
    result = cli("lists")
    assert result.exit_code == 1
    assert_clean_error(result, "config.toml", "not valid TOML")
    assert_no_database_internals(result)
