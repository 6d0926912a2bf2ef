"""The sender's name is data: the public pages and the confirmation email read well whatever it
is, "Le Mois de l'ESS" included (never "de Le Mois de l'ESS", which French contracts to "du")."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pytest

from campaign.config import Settings
from campaign.web.templates import ConfirmationEmail, Pages

NAME = "Le Mois de l'ESS"
# A preposition French contracts or elides before an article: "de Le", "à Les", "de L'"…
CONTRACTED = re.compile(r"\b(de|à)\s+(le|les|l')\s*" + re.escape("Mois de l'ESS"), re.I)


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings.model_validate(
        {
            "mail": {
                "from_name": NAME,
                "from_address": "lemois@example.org",
                "postal_address": "1 rue de l'ESS, 75000 Paris",
                "outbox_dir": str(tmp_path / "outbox"),
            },
            "web": {"public_url": "https://news.example.org"},
        }
    )


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _pages(settings: Settings) -> list[str]:
    pages = Pages(settings)
    person = {"email": "anne@example.org", "newsletter_title": "Novembre", "first_name": "Anne"}
    links = {"subscribe_url": "/s", "unsubscribe_url": "/u", "resubscribe_url": "/r"}
    shown = []
    for standing in ("subscribed", "unsubscribed", "undeliverable", "gone"):
        for done in ("", "unsubscribe", "resubscribe"):
            page = pages.render(
                "unsubscribe.html.j2",
                person=SimpleNamespace(**person, standing=standing),
                done=done,
                **links,
            )
            shown.append(page.body.decode())
    for state in ("ask", "confirmed", "resubscribed", "expired", "used"):
        page = pages.render(
            "confirm.html.j2",
            state=state,
            confirm_url="/c",
            form_url="/f",
            list_name="Lettre nationale",
        )
        shown.append(page.body.decode())
    return shown


def test_public_pages_never_contract_the_sender_s_name(settings: Settings) -> None:
    texts = [_text(page) for page in _pages(settings)]
    assert any(f"« {NAME} »" in text for text in texts), "the name is shown in the sentences"
    for text in texts:
        assert not CONTRACTED.search(text), CONTRACTED.search(text)


def test_the_confirmation_email_never_contracts_the_sender_s_name(settings: Settings) -> None:
    message = ConfirmationEmail(settings).message(
        to="anne@example.org",
        first_name="Anne",
        list_name="Lettre nationale",
        confirm_url="https://news.example.org/c",
        valid_days=7,
    )
    for text in (message.subject, message.text, _text(message.html)):
        assert NAME in text
        assert not CONTRACTED.search(" ".join(text.split())), text
