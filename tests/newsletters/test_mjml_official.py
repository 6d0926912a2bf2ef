"""Every shipped newsletter template is valid MJML for the official validator.

mjml-python (MRML) compiles what it is given without validating it: an attribute MJML does not
know, or an element in the wrong parent, compiles silently and renders differently in MJML's own
tools and in mail clients. So the MJML our templates produce, with representative content, goes
through the official `mjml` (npm, installed into `.test-peers/` by `scripts/install-test-peers`)
with strict validation. Without Node.js the test is skipped with that reason, and fails instead
under CI (``CAMPAIGN_REQUIRE_PEERS=1``).
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.newsletters.render import newsletter_folder, render_group

from .test_render import make_event

ROOT = Path(__file__).resolve().parents[2]
MJML = ROOT / ".test-peers" / "node_modules" / ".bin" / "mjml"
ARTIFACTS = ROOT / "test-artifacts" / "mjml"


def _official_mjml() -> Path:
    if MJML.is_file():
        return MJML
    reason = "the official mjml (npm) is not installed: run scripts/install-test-peers with Node.js"
    if os.environ.get("CAMPAIGN_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (CAMPAIGN_REQUIRE_PEERS=1: this test must run here)")
    pytest.skip(reason)


def representative_contexts() -> dict[str, dict[str, object]]:
    """Each shipped template with content exercising its every part (events over several days,
    all-day and overseas events, markup-looking text that must stay text)."""
    events = [
        make_event(1, "Bretagne", title="Forum <b>ESS</b> & emploi"),
        make_event(2, "La Réunion", title="Atelier « monnaies locales »"),
        make_event(3, "Île-de-France", title="Portes ouvertes d'une Scop"),
        make_event(4, "Occitanie", title="Marché de producteurs"),
    ]
    return {
        "mois-ess": {
            "title": "Le Mois de l'ESS en Bretagne",
            "preheader": "Les évènements près de chez vous",
            "intro": "Bonjour,\n\nLe Mois commence : voici les évènements de votre région.",
            "events": events,
        },
        "prix-ess": {
            "title": "Les Prix ESS : votez !",
            "paragraphs": ["Le vote public est ouvert.", "Il ferme le 15 octobre."],
            "action_url": "https://lemois-ess.org/prix/vote?a=1&b=2",
            "deadline": datetime(2026, 10, 15, 21, 59, tzinfo=UTC),
            "nominees": [
                {"name": "La Ressourcerie", "description": "Réemploi", "url": "https://a.fr"},
                {"name": "Coop & Co", "description": "", "url": ""},
            ],
            "events": events[:2],
        },
    }


def test_every_shipped_template_is_covered() -> None:
    shipped = {path.parent.name for path in newsletter_folder().glob("*/email.mjml.j2")}
    assert shipped == set(representative_contexts())


@pytest.mark.parametrize("name", sorted(representative_contexts()))
def test_the_official_mjml_validates_the_template_strictly(name: str, tmp_path: Path) -> None:
    mjml = _official_mjml()
    compiled = render_group(name, representative_contexts()[name], Settings())
    source = tmp_path / f"{name}.mjml"
    source.write_text(compiled.mjml, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.mjml").write_text(compiled.mjml, encoding="utf-8")
    result = subprocess.run(
        [str(mjml), "--validate", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    problems = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"{name}: the official MJML refuses it:\n{problems}"
    assert "illegal" not in problems.lower() and "invalid" not in problems.lower(), problems


def test_the_validator_does_refuse_invalid_mjml(tmp_path: Path) -> None:
    """The check above can fail: an attribute MJML does not know is refused."""
    mjml = _official_mjml()
    source = tmp_path / "bad.mjml"
    source.write_text(
        "<mjml><mj-body><mj-section><mj-column>"
        '<mj-text css-clas="muted">x</mj-text>'
        "</mj-column></mj-section></mj-body></mjml>",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(mjml), "--validate", str(source)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "css-clas" in result.stdout + result.stderr
