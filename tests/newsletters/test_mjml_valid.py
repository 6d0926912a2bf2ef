"""Every newsletter template, with a body of every block type, passes the official MJML
compiler's strict validation: mjml-python (MRML) renders without validating, so an attribute
MJML does not know or a tag in the wrong place would go unnoticed until a mail client showed it.

The compiler is the npm package ``mjml``, installed into ``.test-peers/`` by
``scripts/install-test-peers``; without it (no Node.js) the test is skipped saying so, and
fails instead under CI (``CAMPAIGN_REQUIRE_PEERS=1``)."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.models import Event
from campaign.newsletters.render import newsletter_folder, render_group

ROOT = Path(__file__).resolve().parents[2]
MJML = ROOT / ".test-peers" / "node_modules" / ".bin" / "mjml"


def _require_mjml() -> None:
    if MJML.is_file() and os.access(MJML, os.X_OK):
        return
    reason = f"no MJML compiler at {MJML}: run scripts/install-test-peers (needs npm)"
    if os.environ.get("CAMPAIGN_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_PEERS=1: this test must run here)")
    pytest.skip(reason)


def _event() -> Event:
    return Event(
        id=1,
        source_id="1",
        title="Forum des coopératives",
        description="Une après-midi d'échanges.",
        starts_at=datetime(2026, 11, 7, 14, tzinfo=UTC),
        venue="Maison des associations",
        city="Rennes",
        region="Bretagne",
        theme="Travailler",
        organiser_name="CRESS Bretagne",
        url="https://lemois-ess.example.org/evenements/1",
        image_url="https://lemois-ess.example.org/images/1.jpg",
    )


BLOCKS = [
    {"type": "heading", "text": "Le Mois commence"},
    {"type": "text", "text": "Du **1er** au *30* [novembre](https://x.org).\n\n- un\n- deux"},
    {"type": "image", "file": "a.png", "alt": "Affiche", "url": "https://x.org/a", "width": 300},
    {"type": "image", "file": "b.png", "alt": "Logo"},
    {"type": "button", "label": "J'y vais", "url": "https://x.org/b"},
    {"type": "events", "title": "Près de chez vous", "events": [_event()]},
    {"type": "callout", "text": "**À noter**"},
    {"type": "divider"},
]


def _templates() -> list[str]:
    folder = newsletter_folder()
    return sorted(
        path.parent.name
        for path in folder.glob("*/email.mjml.j2")
        if not path.parent.name.startswith("_")
    )


@pytest.mark.parametrize("template", _templates())
def test_every_template_with_every_block_is_valid_mjml(template: str, tmp_path: Path) -> None:
    _require_mjml()
    context = {
        "title": "Le Mois de l'ESS",
        "intro": "Bonjour à **toutes et tous**.",
        "events": [_event()],
        "blocks": BLOCKS,
        "more_url": "https://x.org/m",
        "action_url": "https://x.org/v",
        "deadline": "2026-10-15T23:59",
        "nominees": [{"name": "Coop", "description": "Une coopérative", "url": "https://x.org/n"}],
        "preview": "Le texte d'aperçu",
    }
    source = tmp_path / f"{template}.mjml"
    source.write_text(render_group(template, context, Settings()).mjml, encoding="utf-8")
    checked = subprocess.run(
        [str(MJML), "-s", "--config.validationLevel=strict", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert "<table" in checked.stdout  # it compiled, not merely parsed


def test_the_strict_validation_does_refuse_invalid_mjml(tmp_path: Path) -> None:
    _require_mjml()
    source = tmp_path / "bad.mjml"
    source.write_text(
        '<mjml><mj-body><mj-section><mj-column><mj-divider bogus="1" />'
        "</mj-column></mj-section></mj-body></mjml>",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [str(MJML), "-s", "--config.validationLevel=strict", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode != 0 and "bogus is illegal" in checked.stderr
