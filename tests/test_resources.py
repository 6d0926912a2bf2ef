"""Shipped templates and a team's own folder over them, file by file."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.newsletters.render import render_group
from campaign.resources import shipped, template_tree
from campaign.social.compose import render_post, template_names


def test_the_shipped_folders_hold_the_templates_samples_and_calendar() -> None:
    assert (shipped("templates") / "newsletters" / "mois-ess" / "email.mjml.j2").is_file()
    assert (shipped("samples") / "events.json").is_file()
    assert (shipped("schedules") / "mois-ess-2026.toml").is_file()
    with pytest.raises(ValueError):
        shipped("campaign")


def test_a_file_of_ones_own_folder_replaces_the_shipped_one_and_only_that(tmp_path: Path) -> None:
    own = tmp_path / "modeles"
    (own / "posts").mkdir(parents=True)
    (own / "posts" / "annonce.txt.j2").write_text("Notre annonce : {{ titre }}", "utf-8")
    (own / "posts" / "merci.txt.j2").write_text("Merci {{ nom }} !", "utf-8")
    posts = template_tree(own) / "posts"
    assert posts.find("annonce.txt.j2") == own / "posts" / "annonce.txt.j2"
    assert posts.find("evenement.txt.j2") == shipped("templates") / "posts" / "evenement.txt.j2"
    assert posts.find("absent.txt.j2") is None
    names = template_names(own)
    assert "merci" in names and "evenement" in names and names.count("annonce") == 1
    assert render_post("annonce", {"titre": "le Mois"}, Settings(), templates_dir=own) == (
        "Notre annonce : le Mois"
    )
    with pytest.raises(CampaignError, match="Unknown post template 'absent'"):
        render_post("absent", {}, Settings(), templates_dir=own)


def test_the_setting_names_the_folder_a_newsletter_is_rendered_from(tmp_path: Path) -> None:
    own = tmp_path / "nos-modeles"
    subject = own / "newsletters" / "mois-ess" / "subject.txt.j2"
    subject.parent.mkdir(parents=True)
    subject.write_text("Notre lettre : {{ subject }}\n", "utf-8")
    settings = Settings()
    context = {"subject": "Novembre", "title": "Le Mois", "events": []}
    assert render_group("mois-ess", context, settings).subject_source.strip() == "Novembre"
    settings.general.templates_dir = str(own)
    compiled = render_group("mois-ess", context, settings)
    assert compiled.subject_source.strip() == "Notre lettre : Novembre"
    assert "Se désinscrire" in compiled.text_source  # the shipped footer, still
