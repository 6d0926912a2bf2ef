"""Both templates with a body of every block type, drawn by Chromium at 600 px (a desktop mail
client) and 375 px (a phone): each fits its width, shows its image loaded from ``[web]
public_url``, and is saved as a test artifact (``test-artifacts/newsletters/``)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.models import Event
from campaign.newsletters.blocks import check_blocks
from campaign.newsletters.render import Recipient, newsletter_folder, render_group
from campaign.taxonomy import Taxonomy
from tests.dashboard.browser import ARTIFACTS, browser_page
from tests.dashboard.test_blocks_browser import _png

SHOTS = ARTIFACTS.parent / "newsletters"
LOGO_ALT = {"mois-ess": "Le Mois de l'ESS", "prix-ess": "Les Prix ESS"}


@pytest.fixture
def public(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local stand-in for the web service's ``/media``: the folder served over HTTP."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path / "media"
    server.shutdown()
    thread.join(timeout=10)


def test_both_templates_with_blocks_fit_a_desktop_client_and_a_phone(
    public: tuple[str, Path], tmp_path: Path
) -> None:
    url, media = public
    for template in ("mois-ess", "prix-ess"):  # the logos, where the web service serves them
        logo = tmp_path / "assets" / "newsletters" / template / "logo.png"
        logo.parent.mkdir(parents=True)
        logo.write_bytes((newsletter_folder().find(f"{template}/logo.png") or Path()).read_bytes())
    settings = Settings()
    settings.web.public_url = url
    blocks = check_blocks(
        [
            {"type": "heading", "text": "Le Mois de l'ESS commence"},
            {
                "type": "text",
                "text": "Du **1er au 30 novembre**, plus de 2 000 rendez-vous partout en "
                "France : [tout le programme](https://lemois-ess.example.org/programme).\n\n"
                "- des portes ouvertes\n- des débats\n- des marchés solidaires",
            },
            {
                "type": "image",
                "path": str(_png(tmp_path / "affiche.png", 600, 240)),
                "alt": "L'affiche du Mois de l'ESS",
            },
            {"type": "button", "label": "Je trouve un évènement", "url": "https://x.org/e"},
            {"type": "events", "title": "Près de chez vous", "regions": ["subscriber"]},
            {"type": "callout", "text": "**À noter** : les Prix ESS ouvrent le 20 avril."},
            {"type": "divider"},
            {"type": "text", "text": "À bientôt,\n\nL'équipe du Mois"},
        ],
        taxonomy=Taxonomy.from_settings(None),
        media_dir=media,
    )
    blocks[4]["events"] = [
        Event(
            source_id="1",
            title="Forum des coopératives de Bretagne",
            starts_at=datetime(2026, 11, 7, 14, tzinfo=UTC),
            venue="Maison des associations",
            city="Rennes",
            postcode="35000",
            organiser_name="CRESS Bretagne",
            url="https://lemois-ess.example.org/evenements/1",
        )
    ]
    context = {"title": "Le Mois de l'ESS, c'est maintenant !", "events": [], "blocks": blocks,
               "action_url": "https://lemois-ess.example.org/vote"}  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    for template in ("mois-ess", "prix-ess"):
        html = (
            render_group(template, context, settings)
            .personalise(Recipient(email="anne@example.org", first_name="Anne"))
            .html
        )
        for width in (600, 375):
            with browser_page(width=width, height=900) as (page, offsite):
                page.set_content(html, wait_until="load")
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{template} at {width}px: {overflow}px too wide"
                loaded = page.get_by_alt_text("L'affiche du Mois de l'ESS").evaluate(
                    "image => image.naturalWidth"
                )
                assert loaded == 600, template
                logo = page.get_by_alt_text(LOGO_ALT[template])
                assert logo.evaluate("image => image.naturalWidth") == 400, template
                assert logo.evaluate("image => image.getBoundingClientRect().width") == 200
                assert page.get_by_role("link", name="Je trouve un évènement").is_visible()
                assert not offsite.refused, offsite.refused
                page.screenshot(path=str(SHOTS / f"{template}-{width}.png"), full_page=True)
