"""Preview and test sends: the chosen subscriber's version, checks first, the outbox message."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.models import Event
from campaign.resources import shipped
from tests.conftest import mode_of

# The window opens in a month: newsletters only feature events still to come.
WINDOW = (datetime.now(UTC) + timedelta(days=30)).date()


def _event(number: int, region: str, day: int) -> Event:
    """An event on the ``day``-th day of the window (day 1: its first)."""
    return Event(
        source_id=f"ev-{number}",
        title=f"Atelier {number} en {region}",
        starts_at=datetime.combine(WINDOW + timedelta(days=day - 1), time(13, 30), tzinfo=UTC),
        region=region,
        theme="Se loger",
        city="Ville",
        url=f"https://lemois-ess.org/evenements/{number}",
    )


@pytest.fixture
def newsletter(cli, session: Session) -> str:
    """A newsletter with each reader's region's events, two readers, events in two regions."""
    session.add_all(
        [
            _event(1, "Bretagne", 3),
            _event(2, "Bretagne", 4),
            _event(3, "Occitanie", 3),
            _event(4, "Bretagne", 20),  # outside the window
        ]
    )
    session.commit()
    assert cli("lists", "create", "Newsletter nationale").exit_code == 0
    for address, first, region in (
        ("anne@example.org", "Anne", "Bretagne"),
        ("oscar@example.org", "Oscar", "Occitanie"),
    ):
        added = cli(
            "subscribers", "add", address, "--list", "Newsletter nationale",
            "--first-name", first, "--region", region,
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
    created = cli(
        "newsletters", "create", "--title", "Le Mois près de chez vous",
        "--subject", "Vos évènements de novembre", "--template", "mois-ess",
        "--list", "Newsletter nationale", "--events-from", WINDOW.isoformat(),
        "--events-to", (WINDOW + timedelta(days=9)).isoformat(), "--events-region", "subscriber",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    return created.stdout.strip()


def test_preview_shows_the_chosen_subscriber_with_their_region_events(cli, newsletter) -> None:
    result = cli("newsletters", "preview", newsletter, "--as", "oscar@example.org")
    assert result.exit_code == 0, result.stderr
    assert "Oscar" in result.stdout
    assert "Atelier 3 en Occitanie" in result.stdout
    assert "Bretagne" not in result.stdout
    assert "http://127.0.0.1:8000/u/apercu" in result.stdout  # placeholder unsubscribe link

    first = cli("newsletters", "preview", newsletter, "--text")
    assert first.exit_code == 0, first.stderr
    assert "Bonjour Anne," in first.stdout
    assert "Atelier 1 en Bretagne" in first.stdout and "Atelier 2 en Bretagne" in first.stdout
    assert "Atelier 4" not in first.stdout and "<html" not in first.stdout


def test_preview_links_each_event_to_its_calendar_file(cli, newsletter, session) -> None:
    ids = dict(session.exec(select(Event.source_id, Event.id)).all())

    result = cli("newsletters", "preview", newsletter, "--text")

    assert result.exit_code == 0, result.stderr
    # The absolute URL on [web] public_url, straight (a preview tracks nothing).
    assert re.findall(r"Ajouter à mon agenda : (\S+)", result.stdout) == [
        f"http://127.0.0.1:8000/e/{ids['ev-1']}.ics",
        f"http://127.0.0.1:8000/e/{ids['ev-2']}.ics",
    ]
    html = cli("newsletters", "preview", newsletter)
    assert html.stdout.count(f'href="http://127.0.0.1:8000/e/{ids["ev-1"]}.ics"') == 1


def test_preview_to_a_file(cli, newsletter, workdir: Path) -> None:
    result = cli("newsletters", "preview", newsletter, "--out", "apercu.html")
    assert result.exit_code == 0, result.stderr
    html = (workdir / "apercu.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "Anne" in html


@pytest.mark.usefixtures("usual_umask")
def test_a_preview_file_is_readable_by_its_owner_only(cli, newsletter, workdir: Path) -> None:
    result = cli("newsletters", "preview", newsletter, "--out", "apercu.html")
    assert result.exit_code == 0, result.stderr
    assert mode_of(workdir / "apercu.html") == 0o600  # a real subscriber's personalised copy


def test_preview_of_someone_outside_the_audience_is_refused(cli, newsletter) -> None:
    result = cli("newsletters", "preview", newsletter, "--as", "nobody@example.org")
    assert result.exit_code == 1
    assert "not in the audience" in result.stderr


def test_check_errors_stop_the_preview(
    cli, newsletter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The team's own folder holds only the footer: every other template is the shipped one.
    templates = tmp_path / "nos-modeles"
    shipped_footer = shipped("templates") / "newsletters" / "_partials" / "footer.mjml.j2"
    footer = templates / "newsletters" / "_partials" / "footer.mjml.j2"
    footer.parent.mkdir(parents=True)
    footer.write_text(
        shipped_footer.read_text(encoding="utf-8").replace("[[ recipient.unsubscribe_url ]]", "#"),
        encoding="utf-8",
    )
    monkeypatch.setenv("CAMPAIGN_GENERAL_TEMPLATES_DIR", str(templates))
    result = cli("newsletters", "preview", newsletter)
    assert result.exit_code == 1
    assert "cannot be sent as it is" in result.stderr
    assert "no unsubscribe link" in result.stderr
    assert "Traceback" not in result.stderr


def test_test_send_writes_a_multipart_message_to_the_outbox(
    cli, newsletter, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_MAIL_OUTBOX_DIR", str(workdir / "boite"))
    result = cli("newsletters", "test", newsletter, "--to", "equipe@example.org")
    assert result.exit_code == 0, result.stderr
    box = mailbox.Maildir(workdir / "boite", create=False)
    (key,) = box.keys()
    with box.get_file(key) as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "[TEST] Vos évènements de novembre"
    assert message["To"] == "equipe@example.org"
    assert message["From"].addresses[0].addr_spec == "lemois@example.org"
    assert message["From"].addresses[0].display_name == "Le Mois de l'ESS"
    assert message["Message-ID"] and message["Date"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Bonjour Anne," in text and "Atelier 1 en Bretagne" in text
    assert "Atelier 1 en Bretagne" in html


def test_test_send_needs_an_address(cli, newsletter) -> None:
    result = cli("newsletters", "test", newsletter)
    assert result.exit_code != 0
    assert "--to" in result.stderr


def test_an_error_naming_a_setting_in_brackets_is_printed_whole(
    cli, newsletter, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay, port = smtp_server
    relay.stall_on_data.add(1)
    for name, value in {
        "CAMPAIGN_MAIL_TRANSPORT": "smtp",
        "CAMPAIGN_WEB_ALLOW_INSECURE_LINKS": "true",  # links to 127.0.0.1, to a test relay
        "CAMPAIGN_MAIL_SMTP_HOST": "127.0.0.1",
        "CAMPAIGN_MAIL_SMTP_PORT": str(port),
        "CAMPAIGN_MAIL_SMTP_SECURITY": "none",
        "CAMPAIGN_MAIL_SMTP_TIMEOUT": "0.3",
    }.items():
        monkeypatch.setenv(name, value)
    result = cli("newsletters", "test", newsletter, "--to", "equipe@example.org")
    assert result.exit_code == 1
    # The setting's name in brackets is printed as written, never taken for styling.
    assert "within 0.3 seconds after the message was sent ([mail.smtp] timeout)" in result.stderr


def test_a_real_test_send_refuses_links_no_recipient_can_open(
    cli, newsletter, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay, port = smtp_server
    for name, value in {
        "CAMPAIGN_MAIL_TRANSPORT": "smtp",
        "CAMPAIGN_MAIL_FROM_ADDRESS": "lemois@lemois-ess.org",  # real mail: no sample identity
        "CAMPAIGN_MAIL_POSTAL_ADDRESS": "CNCRESS, 34 bis rue Vignon, 75009 Paris",
        "CAMPAIGN_MAIL_SMTP_HOST": "127.0.0.1",
        "CAMPAIGN_MAIL_SMTP_PORT": str(port),
        "CAMPAIGN_MAIL_SMTP_SECURITY": "none",
    }.items():
        monkeypatch.setenv(name, value)
    refused = cli("newsletters", "test", newsletter, "--to", "equipe@example.org")
    assert refused.exit_code == 1
    assert (
        "A test message cannot be sent over SMTP: [web] public_url 'http://127.0.0.1:8000' is "
        "not https" in " ".join(refused.stderr.split())
    )
    assert relay.delivered == []
    sent = cli("newsletters", "send", newsletter)  # nor is the newsletter, nor queued
    assert sent.exit_code == 1 and "allow_insecure_links" in " ".join(sent.stderr.split())
    shown = cli("newsletters", "show", newsletter, "--json")
    assert json.loads(shown.stdout)["status"] == "draft"
    monkeypatch.setenv("CAMPAIGN_WEB_PUBLIC_URL", "https://liens.lemois-ess.org")
    again = cli("newsletters", "test", newsletter, "--to", "equipe@example.org")
    assert again.exit_code == 0, again.stderr
    ((_, _, content),) = relay.delivered
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Reply-To"] == "lemois@lemois-ess.org"  # the From address, reply_to empty
    assert "https://liens.lemois-ess.org/u/apercu" in message.get_body(("html",)).get_content()
