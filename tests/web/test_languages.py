"""The public pages and the double opt-in email speak ``[general] language``: French by
default, English with ``language = "en"``, over real HTTP and for every state of every page.

A page in English fails on a French run of the pages' catalogue (a ``msgstr``), a page in French
on an English one (a ``msgid``): a sentence left out of the catalogue or not translated shows.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from babel.messages.pofile import read_po

from campaign import i18n
from campaign.config import Settings
from campaign.web.templates import ConfirmationEmail, Pages
from tests.dashboard.test_walk import french_fragments, sentence_runs, visible_text
from tests.web.test_subscribe import _confirm_path, _outbox, _submit

pytestmark = pytest.mark.one_database(
    "the public routes' answers, a door: the stages they call are tested on both engines"
)


def english_fragments() -> list[str]:
    """The English runs of the pages' catalogue (``msgid`` whose French differs)."""
    with i18n.po_path("fr").open("rb") as po_file:
        catalog = read_po(po_file, locale="fr")
    found: set[str] = set()
    for entry in catalog:
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.id and entry.string and not set(ids) & set(strings):
            for text in ids:
                found.update(sentence_runs(text))
    return sorted(found)


FOREIGN = {"en": french_fragments, "fr": english_fragments}


def foreign(text: str, language: str) -> list[str]:
    """The runs of the other language's sentences in ``text`` (HTML or plain text)."""
    shown = visible_text(text) if "<" in text else " ".join(text.split())
    return [run for run in FOREIGN[language]() if run in shown]


class Person:
    """What the unsubscribe page knows of a delivery's person."""

    def __init__(self, standing: str, first_name: str) -> None:
        self.standing, self.first_name = standing, first_name
        self.email, self.newsletter_title = "anne@example.org", "Novembre"


def every_page(settings: Settings) -> dict[str, str]:
    """Every state of every public page, rendered: name -> HTML."""
    pages = Pages(settings)
    urls = {"form_url": "/f", "confirm_url": "/c", "action_url": "/a", "subscribe_url": "/s"}
    urls |= {"resubscribe_url": "/r", "unsubscribe_url": "/u"}
    shown: dict[str, Any] = {}
    for state in ("ask", "confirmed", "expired", "used", "refused"):
        shown[f"confirm {state}"] = pages.render(
            "confirm.html.j2", state=state, list_name="Prix", **urls
        )
    for status in (404, 405, 503, 500):
        shown[f"error {status}"] = pages.not_found() if status == 404 else pages.error(status)
    for state, error in [
        ("form", ""),
        ("form", "email"),
        ("form", "first_name"),
        ("form", "expired"),
        ("thanks", ""),
        ("limited", ""),
    ]:
        shown[f"subscribe {state} {error}"] = pages.render(
            "subscribe.html.j2",
            state=state,
            error=error,
            first_name="Anne",
            email="a@b.org",
            form_token="t",
            max_first_name=50,
            honeypot="site",
            list_name="Prix",
            **urls,
        )
    for standing in ("gone", "undeliverable", "unsubscribed", "subscribed"):
        for done in ("", "unsubscribe", "resubscribe"):
            for name in ("", "Anne"):
                shown[f"unsubscribe {standing} {done} {name}"] = pages.render(
                    "unsubscribe.html.j2", person=Person(standing, name), done=done, **urls
                )
    for asked in (True, False):
        shown[f"retry {asked}"] = pages.render(
            "unsubscribe_retry.html.j2", asked=asked, action="unsubscribe", **urls
        )
    return {name: answer.body.decode() for name, answer in shown.items()}


def confirmation(settings: Settings, first_name: str = "Anne"):  # type: ignore[no-untyped-def]
    return ConfirmationEmail(settings).message(
        to="anne@example.org",
        first_name=first_name,
        list_name="Prix",
        confirm_url="https://news.example.org/confirmation/x",
        valid_days=7,
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_public_page_reads_in_the_configured_language(language: str) -> None:
    settings = Settings.model_validate({"general": {"language": language}})
    shown = every_page(settings)
    assert len(shown) >= 35
    for name, page in shown.items():
        assert f'<html lang="{language}">' in page, name
        assert foreign(page, language) == [], name


def test_the_pages_in_english_and_in_french() -> None:
    english = every_page(Settings.model_validate({"general": {"language": "en"}}))
    french = every_page(Settings())
    assert (
        "One more click to receive the newsletters of the sender “Le Mois de l&#39;ESS”."
        in (english["confirm ask"])
    )
    assert (
        "Un clic encore pour recevoir les lettres d'information de l'expéditeur "
        "« Le Mois de l&#39;ESS »." in french["confirm ask"]
    )
    assert "<h1>Page not found</h1>" in english["error 404"]
    assert "<h1>Page introuvable</h1>" in french["error 404"]
    assert "<h1>Thank you Anne!</h1>" in english["subscribe thanks "]
    assert "<h1>Merci Anne&nbsp;!</h1>" in french["subscribe thanks "]


def test_the_confirmation_email_is_french_by_default_and_english_when_asked() -> None:
    french = confirmation(Settings())
    assert french.subject == "Confirmez votre inscription — Le Mois de l'ESS"
    assert french.text.startswith(
        "Bonjour Anne,\n\nVous avez demandé à recevoir la lettre d'information de l'expéditeur "
        "« Le Mois de l'ESS » (liste\n« Prix »).\n\nPour confirmer votre inscription, ouvrez ce "
        "lien :\nhttps://news.example.org/confirmation/x\n\nIl reste valable 7 jours."
    )
    assert '<html lang="fr">' in french.html and "Je confirme mon inscription" in french.html
    english = confirmation(Settings.model_validate({"general": {"language": "en"}}), first_name="")
    assert english.subject == "Please confirm your subscription — Le Mois de l'ESS"
    assert english.text.startswith(
        "Hello,\n\nYou asked to receive the newsletter of the sender “Le Mois de l'ESS” (list "
        "“Prix”).\n\nTo confirm your subscription, open this link:\n"
    )
    assert "It stays valid for 7 days." in english.text
    assert '<html lang="en">' in english.html and "I confirm my subscription" in english.html
    for message, language in ((french, "fr"), (english, "en")):
        for part in (message.subject, message.text, message.html):
            assert foreign(part, language) == [], (language, part)


def test_subscribing_in_english_over_http(make_live, kit) -> None:  # type: ignore[no-untyped-def]
    live = make_live(lambda settings: setattr(settings.general, "language", "en"))
    form = live.get("/inscription")
    assert '<html lang="en">' in form.text and "Receive the newsletter" in form.text
    assert foreign(form.text, "en") == []
    thanks = _submit(live, "lea@example.org", "Léa")
    assert thanks.status_code == 200 and "Thank you Léa!" in thanks.text
    (message,) = _outbox(live, 1)
    assert message["Subject"] == "Please confirm your subscription — Le Mois de l'ESS"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hello Léa,\n\nYou asked to receive the newsletter of the sender")
    assert foreign(text, "en") == []
    path = _confirm_path(message)
    asked = live.get(path)
    assert "I confirm my subscription" in asked.text and foreign(asked.text, "en") == []
    done = live.post(path)
    assert done.status_code == 200 and "Subscription confirmed" in done.text
    assert foreign(done.text, "en") == []
    missing = live.get("/nulle-part")
    assert missing.status_code == 404 and "Page not found" in missing.text


def test_subscribing_in_french_by_default_over_http(live, kit) -> None:  # type: ignore[no-untyped-def]
    form = live.get("/inscription")
    assert '<html lang="fr">' in form.text and "Recevoir la lettre d'information" in form.text
    assert foreign(form.text, "fr") == []
    _submit(live, "lea@example.org", "Léa")
    (message,) = _outbox(live, 1)
    assert message["Subject"] == "Confirmez votre inscription — Le Mois de l'ESS"
    text = message.get_body(("plain",)).get_content()
    assert re.match(r"Bonjour Léa,\n\nVous avez demandé", text) and foreign(text, "fr") == []
    done = live.post(_confirm_path(message))
    assert "Inscription confirmée" in done.text and foreign(done.text, "fr") == []
