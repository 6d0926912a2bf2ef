"""No empty letter: events still to come only, and what readers without events get.

An 18-region sample (tests/newsletters/regions_sample.py) where Corse has no event in the
chosen days, two readers typed "Bretagne 29" as their region, and two events of the window are
already over when the letter goes out.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.models import Delivery, DeliveryStatus, Newsletter
from campaign.newsletters.coverage import GroupCoverage, coverage
from tests.newsletters import regions_sample as sample


@pytest.fixture
def regions(session: Session) -> Session:
    sample.seed(session)
    return session


def _create(cli, *options: str) -> str:
    first, last = sample.window()
    created = cli(
        "newsletters", "create", "--title", "Le Mois près de chez vous",
        "--subject", "Vos évènements", "--template", "mois-ess", "--list", sample.LIST,
        "--events-from", first.isoformat(), "--events-to", last.isoformat(),
        "--events-region", "subscriber", "--events-max", "3", *options,
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    return created.stdout.strip()


def _flat(text: str) -> str:
    """The terminal's text on one line (rich wraps long warnings)."""
    return " ".join(text.split())


def _letters(outbox: Path) -> dict[str, EmailMessage]:
    """The plain-text messages of the outbox by recipient address."""
    letters = {}
    for message in mailbox.Maildir(outbox, create=False):
        parsed = email.message_from_bytes(bytes(message), policy=email.policy.default)
        letters[parsed["To"].addresses[0].addr_spec] = parsed
    return letters


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_checks_name_the_groups_without_events_unknown_regions_and_events_over(
    cli, regions: Session
) -> None:
    number = _create(cli)
    newsletter = regions.get(Newsletter, int(number))
    assert newsletter is not None and newsletter.when_no_events == "national"  # the default
    found = coverage(regions, newsletter, Settings())
    assert found.empty == [GroupCoverage(sample.EMPTY_REGION, sample.EMPTY_READERS, 0)]
    assert [(g.region, g.readers) for g in found.unknown] == [
        (sample.UNKNOWN_REGION, sample.UNKNOWN_READERS)
    ]
    assert found.over == 2
    assert len(found.groups) == 19  # the 18 regions and the unknown spelling

    preview = cli("newsletters", "preview", number, "--as", sample.reader("Corse"), "--text")
    assert preview.exit_code == 0, preview.stderr
    said = _flat(preview.stderr)
    assert "2 events of the selection are already over and left out of the letter." in said
    assert "Corse: 0 events, 3 readers; they get the events of every region instead." in said
    assert "2 readers have a region the taxonomy does not know: 'Bretagne 29' (2)" in said
    assert "--when-no-events national|nearest|text|skip" in said
    assert "Bretagne: 0 events" not in said


def test_an_event_over_when_the_letter_goes_out_is_not_in_it(
    cli, regions: Session, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_MAIL_OUTBOX_DIR", str(workdir / "boite"))
    number = _create(cli, "--segment", "region=Bretagne")
    sent = cli("newsletters", "send", number)
    assert sent.exit_code == 0, sent.stderr
    assert "2 events of the selection are already over" in _flat(sent.stderr)
    (letter,) = _letters(workdir / "boite").values()
    text = _text(letter)
    assert "Rencontre en Bretagne" in text
    assert sample.STILL_ON in text  # began an hour ago, no end: still on
    for title in sample.OVER:  # ended an hour ago; began three hours ago without an end
        assert title not in text


CORSE_GETS = {
    "national": (
        ["ailleurs en France", sample.STILL_ON, "Rencontre en Auvergne-Rhône-Alpes"],
        ["Rencontre en Corse", "dans les régions voisines"],
    ),
    "nearest": (
        [
            "dans les régions voisines",
            "Rencontre en Provence-Alpes-Côte d'Azur",
            "Rencontre en Occitanie",
        ],
        ["Auvergne-Rhône-Alpes", sample.STILL_ON, "ailleurs en France"],
    ),
    "text": (
        ["Rien en Corse cette semaine : tout le programme sur lemois-ess.org."],
        ["Rencontre en", sample.STILL_ON],
    ),
}


@pytest.mark.parametrize("choice", ["national", "nearest", "text", "skip"])
def test_what_the_corse_readers_receive(
    cli, regions: Session, workdir: Path, monkeypatch: pytest.MonkeyPatch, choice: str
) -> None:
    monkeypatch.setenv("CAMPAIGN_MAIL_OUTBOX_DIR", str(workdir / "boite"))
    options = ["--segment", "region=Corse", "--segment", "region=Bretagne"]
    if choice != "national":  # national is the default
        options += ["--when-no-events", choice]
    if choice == "text":
        options += ["--no-events-text", CORSE_GETS["text"][0][0]]
    number = _create(cli, *options)

    sent = cli("newsletters", "send", number)
    assert sent.exit_code == 0, sent.stderr
    letters = _letters(workdir / "boite")
    breton = _text(letters[sample.reader("Bretagne")])
    assert "Voici 2 évènements du Mois de l'ESS en Bretagne" in breton  # its own, as before
    corse = [sample.reader("Corse", n) for n in range(sample.EMPTY_READERS)]
    if choice == "skip":
        assert not set(corse) & set(letters)
        assert "1 sent" in sent.stdout and "3 left out (no event for them)" in _flat(sent.stdout)
        rows = regions.exec(
            select(Delivery.status, Delivery.email).where(
                col(Delivery.newsletter_id) == int(number)
            )
        ).all()
        assert sorted(rows) == sorted(
            [(DeliveryStatus.left_out, address) for address in corse]
            + [(DeliveryStatus.sent, sample.reader("Bretagne"))]
        )
        return
    assert set(corse) <= set(letters)
    text = _text(letters[corse[0]])
    present, absent = CORSE_GETS[choice]
    for words in present:
        assert words in text, words
    for words in absent:
        assert words not in text, words


def test_the_reports_count_the_readers_left_out_apart_from_the_addressed(
    cli, regions: Session, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_MAIL_OUTBOX_DIR", str(workdir / "boite"))
    number = _create(
        cli, "--segment", "region=Corse", "--segment", "region=Bretagne",
        "--when-no-events", "skip",
    )  # fmt: skip
    assert cli("newsletters", "send", number).exit_code == 0

    report = cli("report", "newsletter", number, "--format", "json", "--lang", "en")
    assert report.exit_code == 0, report.stderr
    tables = json.loads(report.stdout)["tables"]
    (summary,) = tables["summary"]["rows"]
    assert (summary["addressed"], summary["delivered"], summary["left_out"]) == (1, 1, 3)
    assert summary["not_sent"] == 0
    by_region = {row["region"]: row for row in tables["regions"]["rows"]}
    assert (by_region["Corse"]["addressed"], by_region["Corse"]["left_out"]) == (0, 3)
    left_out = next(c for c in tables["summary"]["columns"] if c["key"] == "left_out")
    assert left_out["label"] == "Left out (no event)"

    bilan = cli("report", "newsletters", "--format", "json", "--lang", "en")
    assert bilan.exit_code == 0, bilan.stderr
    (row,) = json.loads(bilan.stdout)["tables"]["newsletters"]["rows"]
    assert (row["addressed"], row["left_out"]) == (1, 3)


def test_the_options_are_checked_and_kept(cli, regions: Session) -> None:
    bad = cli("newsletters", "create", "--title", "T", "--subject", "S", "--template", "mois-ess",
              "--list", sample.LIST, "--when-no-events", "nowhere")  # fmt: skip
    assert bad.exit_code == 1 and "use one of national, nearest, text, skip" in bad.stderr
    number = _create(cli)
    empty = cli("newsletters", "edit", number, "--when-no-events", "text")
    assert empty.exit_code == 1 and "the text is empty" in empty.stderr
    edited = cli(
        "newsletters", "edit", number, "--when-no-events", "text", "--no-events-text", "À bientôt"
    )
    assert edited.exit_code == 0, edited.stderr
    shown = json.loads(cli("newsletters", "show", number, "--json").stdout)
    assert (shown["when_no_events"], shown["no_events_text"]) == ("text", "À bientôt")
    assert cli("newsletters", "edit", number, "--when-no-events", "skip").exit_code == 0
    shown = json.loads(cli("newsletters", "show", number, "--json").stdout)
    assert shown["when_no_events"] == "skip"
