"""Each shipped template looks like its campaign's letter: its logo at the top (served by the web
service so mail clients can load it, with alt text), its colour, and its social accounts linked
in the footer, tracked like every other link."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from campaign.config import Settings
from campaign.db import open_database
from campaign.errors import CampaignError
from campaign.newsletters.manifest import load_manifest
from campaign.newsletters.render import newsletter_folder, render_group
from campaign.tracking.tokens import Signer
from campaign.web.app import create_app

SHIPPED = newsletter_folder()


def _settings() -> Settings:
    settings = Settings()
    settings.web.public_url = "https://lettre.mois-ess.org"
    return settings


@pytest.mark.parametrize(
    ("template", "color", "alt", "handle"),
    [
        ("mois-ess", "#c2185b", "Le Mois de l'ESS", "Mois_ESS"),
        ("prix-ess", "#1565c0", "Les Prix ESS", "Prix_ESS"),
    ],
)
def test_the_letter_carries_its_logo_colour_and_account(template, color, alt, handle) -> None:
    context = {
        "title": "Titre",
        "events": [],
        "action_url": "https://lemois-ess.org/prix",
        "deadline": "2026-10-15T23:59",
    }
    compiled = render_group(template, context, _settings())
    logo = f"https://lettre.mois-ess.org/assets/newsletters/{template}/logo.png"
    html = compiled.html_source
    assert f'src="{logo}"' in html
    assert f'alt="{alt.replace(chr(39), "&#39;")}"' in html or f'alt="{alt}"' in html
    assert (color in html and "#c2185b" not in html.replace(color, "")) or color == "#c2185b"
    # The footer links the account, through the click tracking like every link of the letter.
    assert f"https://x.com/{handle}" in compiled.links
    assert f"X @{handle}" in html and f"X @{handle}" in compiled.text_source


def test_an_account_not_configured_is_left_out_of_the_footer() -> None:
    settings = _settings()
    del settings.social.accounts["mois_ess"]
    compiled = render_group("mois-ess", {"title": "T", "events": []}, settings)
    assert "Suivez-nous" not in compiled.html_source
    assert not any("x.com" in link for link in compiled.links)


def test_the_web_service_serves_the_logo_and_nothing_else(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'campaign.db'}")
    app = create_app(_settings(), engine=engine, signer=Signer(["k" * 40]))
    with TestClient(app) as client:
        answer = client.get("/assets/newsletters/mois-ess/logo.png")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/png"
        assert answer.content == (SHIPPED.find("mois-ess/logo.png") or Path()).read_bytes()
        for path in (
            "/assets/newsletters/mois-ess/template.toml",  # not an image
            "/assets/newsletters/mois-ess/email.mjml.j2",
            "/assets/newsletters/inconnu/logo.png",
            "/assets/newsletters/..%2F..%2Fcampaign/logo.png",
            "/assets/newsletters/mois-ess/..%2Fprix-ess%2Flogo.png",
        ):
            refused = client.get(path)
            assert refused.status_code == 404, path
            assert "image" not in refused.headers["content-type"], path


def test_the_manifest_refuses_a_bad_brand(tmp_path: Path) -> None:
    folder = tmp_path / "lettre"
    folder.mkdir()
    (folder / "template.toml").write_text('name = "L"\n[brand]\ncolor = "rose"\n', "utf-8")
    with pytest.raises(CampaignError, match=r"brand\.color"):
        load_manifest(tmp_path, "lettre")
    (folder / "template.toml").write_text('name = "L"\n[brand]\nlogo = "absent.png"\n', "utf-8")
    with pytest.raises(CampaignError, match=r"absent\.png"):
        load_manifest(tmp_path, "lettre")
    (folder / "template.toml").write_text('name = "L"\n[brand]\nlogo = "../x.png"\n', "utf-8")
    with pytest.raises(CampaignError, match=r"brand\.logo"):
        load_manifest(tmp_path, "lettre")
