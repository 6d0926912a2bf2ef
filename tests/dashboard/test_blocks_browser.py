"""The block editor in headless Chromium: a newsletter built from blocks (text, image with its
alt text, button, events), reordered with the keyboard, previewed beside the form, then at
desktop and phone width, and a test sent. Screenshots go to ``test-artifacts/dashboard/``."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import pytest
import uvicorn
from sqlmodel import Session

from campaign.audience.subscribers import add_subscriber
from campaign.models import Event, MailingList, Newsletter
from campaign.tracking.tokens import Signer
from campaign.web.app import create_app
from campaign.web.server import uvicorn_config
from tests.dashboard.browser import browser_page, screenshot
from tests.dashboard.conftest import PASSWORD, Served, free_port

pytestmark = pytest.mark.one_database(
    "a page in a real browser, a door: the stages it calls are tested on both engines"
)


def _png(path: Path, width: int = 40, height: int = 20) -> Path:
    """A real PNG (a pink rectangle), so the browser draws it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + b"\xc2\x18\x5b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def _audience(served: Served) -> None:
    soon = datetime.combine(datetime.now(UTC).date() + timedelta(days=12), clock(14), tzinfo=UTC)
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(MailingList(name="Newsletter nationale"))
        session.add(
            Event(
                source_id="forum",
                title="Forum breton des coopératives",
                starts_at=soon,
                region="Bretagne",
                city="Rennes",
                url="https://lemois-ess.example.org/evenements/forum",
            )
        )
        session.flush()
        add_subscriber(
            session,
            "anne@example.org",
            list_names=["Newsletter nationale"],
            profile={"first_name": "Anne", "region": "Bretagne"},
            actor="test",
        )
        session.commit()


def _legends(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        text.split(" : ", 1)[1]
        for text in page.locator("fieldset.block > legend").all_inner_texts()
    ]


@pytest.fixture
def served(serve, secret_key: str) -> Iterator[Served]:
    """The dashboard, with the public web service on ``[web] public_url`` beside it (it serves
    the block images mail clients load)."""
    port = free_port()
    served = serve(public_url=f"http://127.0.0.1:{port}")
    app = create_app(served.settings, engine=served.engine, signer=Signer([secret_key]))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the web service did not start"
        time.sleep(0.02)
    yield served
    server.should_exit = True
    thread.join(timeout=10)


def test_a_newsletter_is_built_from_blocks_previewed_and_tested(
    served: Served, tmp_path: Path
) -> None:
    engine = "postgresql" if "postgresql" in served.settings.database.url else "sqlite"
    _audience(served)
    base = served.url
    image = _png(tmp_path / "affiche.png")
    with browser_page() as (page, offsite):
        page.goto(f"{base}/newsletters/new")
        page.get_by_label("Adresse e-mail").fill("editor@example.org")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_url(re.compile(r"/admin/newsletters/new$"))
        page.get_by_label("Titre", exact=False).first.fill("Le Mois en Bretagne")
        page.get_by_label("Objet", exact=True).fill("Vos rendez-vous du Mois")
        page.get_by_label("Newsletter nationale").check()
        # The template's own fields are labelled, from its manifest; only the chosen one's show.
        page.get_by_label("Modèle", exact=True).select_option("prix-ess")
        assert page.locator("#field-mois-ess-more_url").is_hidden()
        greeting = page.locator("#field-prix-ess-greeting")
        assert greeting.input_value() == "Bonjour [[ first_name ]],"
        page.get_by_label("Lien du bouton (obligatoire)").fill(
            "https://lemois-ess.example.org/vote"
        )

        # Add a text block: the keyboard lands in it.
        page.get_by_role("button", name="+ Texte").click()
        text = page.get_by_label("Texte (bloc 1)")
        page.wait_for_function("() => document.activeElement.id === 'block-0-text'")
        text.fill(
            "Le Mois de l'ESS **commence** : [le programme](https://lemois-ess.example.org/"
            "programme).\n\nDeuxième paragraphe <script>alert(1)</script>."
        )
        # An image with its alt text, then a button, then an events block.
        page.get_by_role("button", name="+ Image").click()
        page.get_by_label("Fichier de l'image", exact=False).set_input_files(str(image))
        page.get_by_label("Description de l'image", exact=False).fill("L'affiche du Mois")
        page.get_by_role("button", name="+ Bouton").click()
        assert "Image enregistrée" in page.content()  # kept when the form came back
        page.get_by_label("Texte du bouton (bloc 3)").fill("Je participe")
        page.get_by_label("Lien du bouton (bloc 3)").fill("https://lemois-ess.example.org/go")
        page.get_by_role("button", name="+ Évènements").click()
        page.get_by_label("Titre au-dessus des évènements", exact=False).fill("Près de chez vous")
        page.get_by_label("Régions (aucune : toute la France) (bloc 4)").select_option("subscriber")
        assert _legends(page) == ["Texte", "Image", "Bouton", "Évènements"]

        # Reorder with the keyboard: the events block goes above the button.
        page.get_by_role("button", name="Monter le bloc 4").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        from playwright.sync_api import expect

        # The page that came back, once its blocks are drawn (on a loaded machine the load
        # event may come before the reading below otherwise sees them).
        expect(page.locator("fieldset.block > legend")).to_have_count(4, timeout=15_000)
        assert _legends(page) == ["Texte", "Image", "Évènements", "Bouton"]
        assert page.get_by_label("Texte du bouton (bloc 4)").input_value() == "Je participe"

        # The preview beside the form follows it.
        beside = page.frame_locator("iframe[name=draft-preview]")
        beside.get_by_text("Deuxième paragraphe").wait_for()
        assert beside.get_by_text("Forum breton des coopératives").count() == 1
        assert beside.get_by_alt_text("L'affiche du Mois").count() == 1
        screenshot(page, "blocs-formulaire", engine)

        page.get_by_role("button", name="Créer le brouillon").click()
        page.wait_for_url(re.compile(r"/admin/newsletters/\d+\?fait=newsletter-created$"))
        number = int(re.search(r"/newsletters/(\d+)", page.url).group(1))
        with Session(served.engine) as session:  # type: ignore[arg-type]
            stored = session.get(Newsletter, number)
            assert [block["type"] for block in stored.blocks] == [
                "text", "image", "events", "button",
            ]  # fmt: skip
            assert stored.blocks[1]["alt"] == "L'affiche du Mois"

        # The preview at desktop width, then at phone width.
        page.get_by_role("link", name="Aperçu et test").click()
        frame = page.frame_locator("iframe")
        frame.get_by_text("Deuxième paragraphe").wait_for()
        body = frame.locator("body")
        assert "<script>alert(1)</script>" in body.inner_text()  # shown as text, inert
        assert "Bonjour Anne," in body.inner_text()
        picture = frame.get_by_alt_text("L'affiche du Mois")
        picture.wait_for()
        # Served by the web service under [web] public_url, as mail clients will load it.
        assert picture.evaluate("image => image.decode().then(() => image.naturalWidth)") == 40
        order = body.inner_text()
        assert order.index("commence") < order.index("Forum breton") < order.index("Je participe")
        screenshot(page, "blocs-apercu-ordinateur", engine)
        page.get_by_label("Largeur").select_option("mobile")
        page.get_by_role("button", name="Afficher").click()
        assert page.locator(".frame.mobile iframe").bounding_box()["width"] <= 375
        page.frame_locator("iframe").get_by_text("Je participe").wait_for()
        screenshot(page, "blocs-apercu-telephone", engine)

        # A test send: the message carries the blocks, links tracked like the template's.
        page.get_by_label("Adresses", exact=False).fill("relecture@example.org")
        page.get_by_role("button", name="Envoyer le test").click()
        assert "relecture@example.org : écrit dans la boîte d'envoi locale" in page.content()
        outbox = mailbox.Maildir(served.settings.mail.outbox_dir, create=False)
        (raw,) = list(outbox)
        message = email.message_from_bytes(bytes(raw), policy=email.policy.default)
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert 'alt="L\'affiche du Mois"' in html or 'alt="L&#39;affiche du Mois"' in html
        assert "Le Mois de l'ESS commence : le programme (" in text
        assert "Je participe : " in text and "Forum breton des coopératives" in text
        assert not offsite.refused, offsite.refused

        # Duplicate: a new draft with the same blocks.
        page.goto(f"{base}/newsletters/{number}")
        page.get_by_role("button", name="Dupliquer").click()
        page.wait_for_url(re.compile(r"fait=newsletter-duplicated$"))
        copy = int(re.search(r"/newsletters/(\d+)", page.url).group(1))
        with Session(served.engine) as session:  # type: ignore[arg-type]
            duplicate = session.get(Newsletter, copy)
            assert copy != number and duplicate.status == "draft"
            assert duplicate.blocks == session.get(Newsletter, number).blocks

    # The editor at phone width: it fits, every field labelled (screenshot checks both).
    with browser_page(width=375, height=800) as (page, _offsite):
        page.goto(f"{base}/newsletters/{number}/edit")
        page.get_by_label("Adresse e-mail").fill("editor@example.org")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_url(re.compile(r"/edit$"))
        assert _legends(page) == ["Texte", "Image", "Évènements", "Bouton"]
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the block editor is wider than a phone ({overflow}px)"
        screenshot(page, "blocs-telephone", engine)
