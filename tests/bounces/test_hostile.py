"""Hostile messages sent to the bounce address: none stops processing, none suppresses anyone.

Anyone can write to the bounce address. A message the parsers cannot read is set aside (moved to
the maildir's ``.Problemes`` folder, kept as an ``unreadable`` row) and the others are applied;
a forged report quoting a guessable Message-ID matches nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.models import Bounce, BounceKind
from campaign.newsletters.queue import message_id
from campaign.tracking.tokens import Signer
from tests.bounces.conftest import SAMPLES, _state

EMPTY_FROM = b"From: \nTo: bounces@example.org\nSubject: hello\n\nA message anyone can send.\n"

# Messages that have crashed, or could crash, a parser: each must be set aside, not fatal.
HOSTILE = {
    "empty-from": EMPTY_FROM,
    "comment-only-from": b"From: ()\nSubject: x\n\nbody\n",
    "headers-only": b"Subject: nothing else\n",
    "binary-body": b'Subject: x\nContent-Type: multipart/report; boundary="\n\n\xff\xfe\x00\x00',
    "empty": b"",
    "not-mail": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
}


def _maildir(root: Path) -> Path:
    for folder in ("new", "cur", "tmp"):
        (root / folder).mkdir(parents=True)
    return root


def test_a_message_with_an_empty_from_no_longer_blocks_the_maildir(ingest, engine, tmp_path):
    """The attack of the review: an empty From: crashed flufl.bounce, exit 2, message left in
    new/, and every later run crashed at the same place, so no bounce was ever applied."""
    box = _maildir(tmp_path / "Bounces")
    (box / "new" / "1000.0.poison").write_bytes(EMPTY_FROM)
    shutil.copy(SAMPLES / "postfix-user-unknown.eml", box / "new" / "1000.1.mail")
    shutil.copy(SAMPLES / "arf-abuse-complaint.eml", box / "new" / "1000.2.mail")

    result = ingest("--maildir", str(box))

    assert result.exit_code == 0, result.stderr
    assert "1000.0.poison: set aside, the bounce detectors could not read it" in result.stderr
    assert "1 message(s) could not be read and were set aside" in result.stderr
    state = _state(engine)
    assert state["nobody@example.com"] == ("bounced", "bounced")  # after the poison, applied
    assert state["camille@example-isp.fr"] == ("sent", "complained")
    assert list((box / "new").iterdir()) == []
    assert [p.name for p in (box / ".Problemes" / "cur").iterdir()] == ["1000.0.poison:2,"]
    assert (box / ".Problemes" / "new").is_dir() and (box / ".Problemes" / "tmp").is_dir()
    with Session(engine) as session:
        (row,) = session.exec(select(Bounce).where(Bounce.kind == BounceKind.unreadable)).all()
        assert row.email == "" and row.delivery_id is None
        assert "bounce detectors could not read it" in row.diagnostic
        assert "subject: hello" in row.diagnostic

    again = ingest("--maildir", str(box))  # the next run meets the poison no more
    assert again.exit_code == 0 and "set aside" not in again.stderr


def test_every_hostile_message_is_set_aside_and_the_real_reports_applied(ingest, engine, tmp_path):
    box = _maildir(tmp_path / "Bounces")
    for name, data in HOSTILE.items():
        (box / "new" / f"2000.{name}").write_bytes(data)
    for number, sample in enumerate(sorted(SAMPLES.glob("*.eml"))):
        shutil.copy(sample, box / "new" / f"3000.{number}.mail")

    result = ingest("--maildir", str(box), "--json")

    assert result.exit_code == 0, result.stderr
    outcomes = json.loads(result.stdout)
    kinds = {
        o["source"].rsplit("2000.", 1)[1]: o["kind"] for o in outcomes if "2000." in o["source"]
    }
    assert kinds == {
        "empty-from": "unreadable",
        "comment-only-from": "none",  # read: not a bounce, ignored
        "headers-only": "unreadable",
        "binary-body": "unreadable",
        "empty": "unreadable",
        "not-mail": "unreadable",
    }
    assert len(list((box / ".Problemes" / "cur").iterdir())) == 5
    assert list((box / "new").iterdir()) == []
    assert _state(engine)["marc@old-domain.fr"] == ("bounced", "bounced")
    assert _state(engine)["lea.martin@gmail.com"] == ("bounced", "bounced")


def test_a_hostile_message_on_the_pipe_exits_0_with_the_reason(ingest, engine) -> None:
    """A mail server's pipe: exit 0 (else the server bounces the bounce or retries forever),
    the reason on standard error and in the bounce table."""
    result = ingest("-", input=EMPTY_FROM.decode())
    assert result.exit_code == 0
    assert "<stdin>: set aside, the bounce detectors could not read it" in result.stderr
    empty = ingest("-", input="")
    assert empty.exit_code == 0 and "<stdin>: set aside, it is empty" in empty.stderr
    with Session(engine) as session:
        kinds = session.exec(select(Bounce.kind)).all()
        assert kinds == [BounceKind.unreadable, BounceKind.unreadable]
    assert ingest("-", input=EMPTY_FROM.decode()).exit_code == 0  # kept once
    with Session(engine) as session:
        assert len(session.exec(select(Bounce)).all()) == 2


def test_a_report_with_hostile_field_values_is_applied_or_set_aside(ingest, engine) -> None:
    """A DSN whose recipient is 2,000 characters with NUL bytes: PostgreSQL refuses NUL in text
    and the column holds 320 characters; the message must not stop the run."""
    text = (SAMPLES / "postfix-user-unknown.eml").read_text()
    hostile = text.replace(
        "Final-Recipient: rfc822; nobody@example.com",
        "Final-Recipient: rfc822; nobody\x00" + "x" * 2000 + "@example.com",
    )
    assert hostile != text
    result = ingest("-", input=hostile)
    assert result.exit_code == 0, result.stderr
    with Session(engine) as session:
        rows = session.exec(select(Bounce)).all()
        assert len(rows) == 1 and len(rows[0].email) <= 320 and "\x00" not in rows[0].email


def test_a_forged_report_with_a_guessable_message_id_suppresses_nobody(ingest, engine) -> None:
    """The attack of the review: a DSN sent to the bare bounce address, naming the victim and
    quoting ``<d1.n1@example.org>`` (the old, guessable Message-ID) marked them bounced."""
    forged = (
        "From: MAILER-DAEMON@evil.example\n"
        "To: bounces@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <forged-{number}@evil.example>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; evil.example\n\n"
        "Final-Recipient: rfc822; nobody@example.com\nAction: failed\nStatus: 5.1.1\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        "From: Le Mois de l'ESS <lemois@example.org>\nTo: nobody@example.com\n"
        "Message-ID: {message_id}\n\n--B--\n"
    )
    for number, guess in enumerate(("<d1.n1@example.org>", "<aaaaaaaaaaaaaaaaaaaaaaa@x.org>")):
        result = ingest("-", input=forged.format(number=number, message_id=guess))
        assert result.exit_code == 0, result.stderr
        assert "no delivery matched; recorded" in result.stdout
        assert _state(engine)["nobody@example.com"] == ("sent", "active")


def test_the_signed_message_id_of_the_delivery_still_matches(ingest, engine) -> None:
    """The same forged shape quoting the delivery's real (signed) Message-ID is a real report
    from a relay that rewrote the envelope: it is applied, and only for that address."""
    from tests.conftest import TEST_SECRET_KEY

    real = message_id(Signer([TEST_SECRET_KEY]), 1, 1, "example.org")
    report = (SAMPLES / "gmail-disabled-account.eml").read_text()
    assert message_id(Signer([TEST_SECRET_KEY]), 2, 1, "example.org") in report
    result = ingest("-", input=report)
    assert result.exit_code == 0 and "delivery 2 by message-id" in result.stdout
    # The signed id of delivery 1 quoted in a report about someone else matches nothing.
    other = report.replace(message_id(Signer([TEST_SECRET_KEY]), 2, 1, "example.org"), real)
    other = other.replace("Message-ID: <", "Message-ID: <x", 1)  # another report
    result = ingest("-", input=other)
    assert "no delivery matched" in result.stdout
    assert _state(engine)["nobody@example.com"] == ("sent", "active")


@pytest.mark.parametrize("keys", [("key-one-" + "x" * 32, "key-two-" + "y" * 32)])
def test_message_ids_differ_between_installs_and_cannot_be_guessed(keys) -> None:
    one, two = (message_id(Signer([key]), 1, 1, "example.org") for key in keys)
    assert one != two
    assert "d1" not in one.split("@")[0] or len(one.split("@")[0]) > 16
    assert Signer([keys[0]]).verify_address(one[1:].split("@")[0], "message-id", 2) == (1, 1)
    assert Signer([keys[1]]).verify_address(one[1:].split("@")[0], "message-id", 2) is None
