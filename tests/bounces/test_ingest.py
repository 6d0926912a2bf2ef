"""``campaign bounces ingest`` on the samples: matched by VERP or Message-ID, applied once."""

from __future__ import annotations

import json
import shutil

from sqlmodel import Session, select

from campaign.models import Bounce, ConsentEvent, Delivery
from tests.bounces.conftest import SAMPLES, _state


def test_each_sample_does_what_it_says(ingest, engine) -> None:
    before = _state(engine)
    results = {}
    for sample in sorted(SAMPLES.glob("*.eml")):
        result = ingest(str(sample))
        assert result.exit_code == 0, (sample.name, result.stderr)
        results[sample.stem] = result
    assert _state(engine) == {
        **before,
        "nobody@example.com": ("bounced", "bounced"),  # Postfix 5.1.1, by VERP
        "lea.martin@gmail.com": ("bounced", "bounced"),  # Gmail 5.2.1, by Message-ID
        "paul@example.net": ("sent", "active"),  # Exim delay: recorded only
        "camille@example-isp.fr": ("sent", "complained"),  # ARF abuse
        "marc@old-domain.fr": ("bounced", "bounced"),  # qmail, non-standard, by VERP
        "anne@example.org": ("sent", "active"),  # a reply, not a bounce
    }
    assert "delivery 1 by verp: delivery 1 bounced, subscriber 1 bounced" in results[
        "postfix-user-unknown"
    ].stdout.replace("\n", " ")
    assert "delivery 2 by message-id" in results["gmail-disabled-account"].stdout
    assert "transient failure of paul@example.net (4.0.0)" in results["exim-delayed"].stdout
    assert "ignored (not a bounce or complaint report)" in results["not-a-bounce"].stderr
    with Session(engine) as session:
        nobody = session.get(Delivery, 1)
        assert "User unknown in virtual mailbox table" in nobody.last_reply
        log = session.exec(select(ConsentEvent).order_by(ConsentEvent.subscriber_id)).all()
        assert [(e.subscriber_id, e.action, e.method) for e in log] == [
            (1, "bounced", "bounce"),
            (2, "bounced", "bounce"),
            (4, "complained", "complaint"),
            (5, "bounced", "bounce"),
        ]
        bounces = session.exec(select(Bounce).order_by(Bounce.delivery_id)).all()
        assert [(b.delivery_id, b.kind, b.matched_by) for b in bounces] == [
            (1, "hard", "verp"),
            (2, "hard", "message-id"),
            (3, "soft", "verp"),
            (4, "complaint", "verp"),
            (5, "hard", "verp"),
        ]


def test_the_same_report_twice_changes_nothing(ingest, engine) -> None:
    sample = str(SAMPLES / "postfix-user-unknown.eml")
    assert ingest(sample).exit_code == 0
    state = _state(engine)
    again = ingest(sample, "--json")
    assert again.exit_code == 0
    (outcome,) = json.loads(again.stdout)
    assert outcome["failures"][0]["duplicate"] is True and outcome["failures"][0]["changes"] == []
    assert _state(engine) == state
    with Session(engine) as session:
        assert len(session.exec(select(Bounce)).all()) == 1
        assert len(session.exec(select(ConsentEvent)).all()) == 1


def test_standard_input_as_a_mail_server_pipe(ingest, engine, monkeypatch) -> None:
    text = (SAMPLES / "qmail-nonstandard.eml").read_text()
    result = ingest("-", input=text)
    assert result.exit_code == 0, result.stderr
    assert _state(engine)["marc@old-domain.fr"] == ("bounced", "bounced")


def test_a_maildir_is_read_and_new_messages_are_marked_read(ingest, engine, tmp_path) -> None:
    box = tmp_path / "Bounces"
    for folder in ("new", "cur", "tmp"):
        (box / folder).mkdir(parents=True)
    for number, sample in enumerate(sorted(SAMPLES.glob("*.eml"))):
        shutil.copy(sample, box / "new" / f"1479111151.{number}.mail")
    result = ingest("--maildir", str(box), "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 6
    assert list((box / "new").iterdir()) == []
    assert len(list((box / "cur").glob("*:2,S"))) == 6
    assert _state(engine)["camille@example-isp.fr"] == ("sent", "complained")
    again = ingest("--maildir", str(box), "--json")  # read again from cur/: nothing new
    assert all(f["duplicate"] for o in json.loads(again.stdout) for f in o["failures"])


def test_a_forged_verp_token_matches_nothing(ingest, engine) -> None:
    text = (SAMPLES / "postfix-user-unknown.eml").read_text()
    forged = text.replace("mavxruv2fhycypjy4xqqc", "mavxruv2fhycypjy4xqqd").replace(
        "<hhm2pxwvpksiwnmevjfacai@example.org>", "<hhm2pxwvpksiwnmevjfacaa@example.org>"
    )
    result = ingest("-", input=forged)
    assert result.exit_code == 0
    assert "no delivery matched; recorded" in result.stdout
    assert _state(engine)["nobody@example.com"] == ("sent", "active")


def test_input_that_is_not_a_message_is_a_clear_error(ingest, tmp_path) -> None:
    (tmp_path / "empty.eml").write_bytes(b"")
    empty = ingest(str(tmp_path / "empty.eml"))
    assert empty.exit_code == 1 and "empty.eml cannot be read: it is empty" in empty.stderr
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 JFIF binary")
    garbage = ingest(str(tmp_path / "photo.jpg"))
    assert garbage.exit_code == 1 and "is not an email message" in garbage.stderr
    missing = ingest(str(tmp_path / "none.eml"))
    assert missing.exit_code == 1 and "Cannot read" in missing.stderr
    nothing = ingest()
    assert nothing.exit_code == 1 and "--maildir DIR" in nothing.stderr


def test_an_unreachable_database_asks_the_mail_server_to_retry(ingest, monkeypatch) -> None:
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    text = (SAMPLES / "postfix-user-unknown.eml").read_text()
    result = ingest("-", input=text)
    assert result.exit_code == 75
    assert "Cannot open the database" in result.stderr and "exit status 75" in result.stderr


def test_erasing_a_person_blanks_their_address_in_bounce_reports(ingest, engine) -> None:
    from campaign.audience.subscribers import erase_subscriber

    assert ingest(str(SAMPLES / "postfix-user-unknown.eml")).exit_code == 0
    with Session(engine) as session:
        erase_subscriber(session, "nobody@example.com", actor="test")
        session.commit()
        (bounce,) = session.exec(select(Bounce)).all()
        assert (bounce.email, bounce.diagnostic, bounce.kind) == ("", "", "hard")
