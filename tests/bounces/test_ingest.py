"""``campaign bounces ingest`` on the samples: matched by VERP or Message-ID, applied once."""

from __future__ import annotations

import json
import shutil

from sqlmodel import Session, col, select

from campaign.models import Bounce, ConsentEvent, Delivery, Subscriber
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


# --- the mailto of List-Unsubscribe ------------------------------------------------------------

ANNE = 6  # anne@example.org's delivery (tests/bounces/conftest.py)


def _unsubscribe_mail(to: str, message_id: str = "<req1@client.example>") -> str:
    """What a mail client writes when its reader picks the List-Unsubscribe mailto."""
    return (
        "From: Anne <anne@example.org>\n"
        f"To: {to}\n"
        "Subject: unsubscribe\n"
        f"Message-ID: {message_id}\n"
        "Date: Tue, 14 Nov 2024 10:00:00 +0100\n"
        "\n"
    )


def _mailto(delivery_id: int = ANNE, kind: str = "") -> str:
    from campaign.newsletters.queue import unsubscribe_address
    from campaign.tracking.tokens import Signer
    from tests.conftest import TEST_SECRET_KEY

    signer = Signer([TEST_SECRET_KEY])
    if kind:  # a token of another kind spelt the same way
        return f"unsubscribe+{signer.sign_address(kind, delivery_id)}@example.org"
    return unsubscribe_address(signer, delivery_id, "unsubscribe", "example.org")


def _consent(engine, email: str) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        lines = session.exec(
            select(ConsentEvent)
            .join(Subscriber, col(Subscriber.id) == ConsentEvent.subscriber_id)
            .where(Subscriber.email == email)
            .order_by(col(ConsentEvent.id))
        ).all()
        return [(line.action, line.method, line.source) for line in lines]


def test_a_mailto_unsubscribe_unsubscribes_once_like_the_link(ingest, engine) -> None:
    request = _unsubscribe_mail(_mailto())
    result = ingest("-", input=request)
    assert result.exit_code == 0, result.stderr
    assert (
        "unsubscribe (mailto) of anne@example.org; delivery 6 by token: subscriber 6 unsubscribed"
        in result.stdout
    )
    assert _state(engine)["anne@example.org"] == ("sent", "unsubscribed")
    assert _consent(engine, "anne@example.org") == [
        ("unsubscribed", "mailto", "newsletter 1, delivery 6")
    ]
    # She resubscribes from the page; the same message read again (a maildir run reads cur/
    # again) changes nothing.
    from campaign.audience.subscriptions import resubscribe_delivery

    with Session(engine) as session:
        resubscribe_delivery(session, ANNE)
    again = ingest("-", "--json", input=request)
    assert again.exit_code == 0, again.stderr
    (outcome,) = json.loads(again.stdout)
    assert outcome["kind"] == "mailto"
    assert outcome["failures"][0]["kind"] == "unsubscribe"
    assert outcome["failures"][0]["duplicate"] is True
    assert _state(engine)["anne@example.org"] == ("sent", "active")
    assert len(_consent(engine, "anne@example.org")) == 2  # unsubscribed, resubscribed
    with Session(engine) as session:
        (row,) = session.exec(select(Bounce)).all()
        assert (row.kind, row.delivery_id, row.matched_by) == ("unsubscribe", ANNE, "token")


def test_a_mailto_unsubscribe_is_found_in_the_pipe_s_envelope_recipient(
    ingest, engine, monkeypatch
) -> None:
    # The MTA gives the envelope recipient; the To header shows only the list's name.
    monkeypatch.setenv("ORIGINAL_RECIPIENT", _mailto().upper())  # a relay may change the case
    result = ingest("-", input=_unsubscribe_mail("Le Mois de l'ESS <lemois@example.org>"))
    assert result.exit_code == 0, result.stderr
    assert "unsubscribe (mailto) of anne@example.org" in result.stdout
    assert _state(engine)["anne@example.org"] == ("sent", "unsubscribed")


def test_a_forged_or_missing_mailto_token_changes_nothing(ingest, engine) -> None:
    before = _state(engine)
    token = _mailto().split("+", 1)[1].split("@")[0]
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")
    for number, to in enumerate(
        [
            f"unsubscribe+{altered}@example.org",  # altered
            "unsubscribe@example.org",  # no token at all
            _mailto(kind="bounce"),  # a bounce token is no unsubscribe token
            _mailto(kind="unsubscribe"),  # nor is the link's
        ]
    ):
        result = ingest("-", input=_unsubscribe_mail(to, f"<forged{number}@client.example>"))
        assert result.exit_code == 0, result.stderr
        assert "ignored (unsubscribe request without a valid token" in result.stderr, to
    assert _state(engine) == before
    with Session(engine) as session:
        assert session.exec(select(ConsentEvent)).all() == []
