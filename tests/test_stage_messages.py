"""The stages that used to build English sentences now raise messages as data: the CLI still
says what it always said (naming its options and settings), the pages say it in French, and
no stage string names a CLI option or a settings path any more."""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaign.db import make_engine
from campaign.errors import CampaignError
from campaign.mail.outbox import OutboxTransport
from campaign.messages import message
from campaign.tracking.network import Ranges
from campaign.wording import pages

ROOT = Path(__file__).resolve().parent.parent
FLAG = re.compile(r"--[a-z]")
SETTINGS_PATH = re.compile(r"\[[a-z_.]+\] [a-z_]+")
CONVERTED = [
    "campaign/db.py",
    "campaign/demo.py",
    "campaign/reports/export.py",
    "campaign/reports/labels.py",
    "campaign/social/accounts.py",
    "campaign/social/posts.py",
    "campaign/newsletters/coverage.py",
    "campaign/tracking/network.py",
    *(str(path.relative_to(ROOT)) for path in sorted((ROOT / "campaign/mail").glob("*.py"))),
]


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that may reach people: docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


@pytest.mark.parametrize("module", CONVERTED)
def test_no_stage_string_names_a_cli_option_or_a_settings_path(module: str) -> None:
    found = [
        (line, text)
        for line, text in _strings(ROOT / module)
        if FLAG.search(text) or SETTINGS_PATH.search(text)
    ]
    assert found == []


def test_the_cli_says_what_it_always_said() -> None:
    said = {
        message("post.partly_published", post_id=4, status="failed"): (
            "Post 4 is failed (partly published): only posts not yet published can be edited."
        ),
        message("post.cannot_edit", post_id=4, status="cancelled"): (
            "Post 4 is cancelled: only posts not yet published can be edited."
        ),
        message(
            "post.waiting", post_id=3, at=datetime(2026, 11, 5, 14, 30, 15), error="429 Too many"
        ): (
            "Post 3: waiting before publishing again; it stays scheduled and is tried again "
            "after 05/11/2026 14:30:15 (429 Too many)"
        ),
        message("report.unknown_language", "language", language="de", known=["en", "fr"]): (
            "--lang 'de': reports are written in en or fr."
        ),
        message("report.csv_one_table", "table", count=2, known=["a", "b"]): (
            "A CSV file holds one table and this report has 2 (a, b): choose one with --table, "
            "or write them all with --format xlsx or json."
        ),
        message("database.too_new", "database", where="x.db", revisions=["9f"], version="1.0"): (
            "The database x.db was written by a newer version of campaign (schema 9f, unknown "
            "to campaign 1.0): upgrade campaign to use it, or restore a backup made with this "
            "version."
        ),
        message("smtp.no_reply", "mail.smtp", where="relay:25", seconds="30"): (
            "no reply from the SMTP server relay:25 within 30 seconds after the message was "
            "sent ([mail.smtp] timeout); it may have been delivered"
        ),
        message("account.not_checked"): "not checked (--offline)",
        message("demo.no_calendar", looked=["a.toml", "b.toml"]): (
            "No sample calendar found (looked for a.toml and b.toml): reinstall the package."
        ),
        message("dkim.bad_key", "mail.dkim", where="", reason="bad"): (
            "the DKIM key is not a PEM RSA private key (bad); make one with `openssl genrsa "
            "-out dkim.key 2048`."
        ),
        message(
            "coverage.unknown_regions",
            "audience.region",
            readers=1,
            shown=[("Bretagne 29", 1)],
            more=0,
            what="skip",
        ): (
            "1 reader has a region the taxonomy does not know: 'Bretagne 29' (1); no event can "
            "match it, so they get no newsletter: they are left out."
        ),
    }
    for item, sentence in said.items():
        assert str(item) == sentence


def test_the_pages_say_them_in_french() -> None:
    zone = ZoneInfo("Europe/Paris")
    assert pages.word(message("database.busy", "database", where="x.db")) == (
        "La base de données est occupée (un autre processus y écrit) : réessayez dans un instant."
    )
    assert pages.word(message("post.cannot_publish", post_id=7, status="cancelled")) == (
        "Cette publication a le statut « annulé » : elle ne peut pas être publiée."
    )
    assert pages.word(message("post.cannot_move", post_id=7, status="published")) == (
        "Cette publication a le statut « publié » : elle ne peut plus recevoir de nouvelle date."
    )
    group = message(
        "coverage.group_without_events", region="", regional=True, readers=3, what="national"
    )
    assert pages.word(group, "fr", zone) == (
        "Lecteurs sans région : aucun évènement pour 3 lecteurs ; ils reçoivent les évènements "
        "de toutes les régions à la place."
    )
    unknown = message(
        "coverage.unknown_regions", readers=12, shown=[("Bzh", 2)], more=3, what="nothing"
    )
    assert pages.word(unknown, "fr", zone) == (
        "12 lecteurs ont une région absente de la liste des régions : Bzh (2), et 3 autres. "
        "Aucun évènement ne peut y correspondre : ils reçoivent une rubrique d'évènements vide "
        "(aucun évènement nulle part)."
    )
    bad = message("tracking.bad_prefix", path="apple.csv", line=1200, prefix="x")
    assert "apple.csv, ligne 1200 :" in pages.word(bad)  # a line number, not a quantity


def test_a_database_url_refused_is_a_message_about_the_database() -> None:
    with pytest.raises(CampaignError) as refused:
        make_engine("nonsense://x")
    [said] = refused.value.messages
    assert (said.code, said.field) == ("database.bad_url", "database")
    assert str(refused.value).startswith("[database] url 'nonsense://x' is not a database URL")
    assert "[database]" not in pages.word(said) and "réglages" in pages.word(said)


def test_the_outbox_and_the_apple_ranges_files_refused_as_messages(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(CampaignError) as outbox:
        OutboxTransport(tmp_path / "file" / "outbox")
    assert outbox.value.messages[0].code == "outbox.cannot_open"
    assert "([mail] outbox_dir)" in str(outbox.value)
    ranges = tmp_path / "ranges.csv"
    ranges.write_text("17.0.0.0/8\nnot-a-prefix\n", encoding="utf-8")
    with pytest.raises(CampaignError) as bad:
        Ranges.from_file(ranges)
    assert (
        str(bad.value)
        == f"{ranges}, line 2: 'not-a-prefix' is not an IP prefix such as 17.0.0.0/8."
    )
    with pytest.raises(CampaignError) as missing:
        Ranges.from_file(tmp_path / "none.csv")
    assert "([tracking] apple_ranges_file)" in str(missing.value)
    assert "réglages" in pages.word(missing.value.messages[0])
