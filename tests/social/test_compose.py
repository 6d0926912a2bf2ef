"""Post templates and hashtags: French words from templates, hashtags X reads whole."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Event
from campaign.social.compose import event_post_text, hashtag, render_post, template_names

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("Île-de-France", "#ÎleDeFrance"),
        ("Provence-Alpes-Côte d'Azur", "#ProvenceAlpesCôteAzur"),
        ("La Réunion", "#LaRéunion"),
        ("Se loger", "#SeLoger"),
        ("S'évader", "#Évader"),
        ("Préserver l'environnement", "#PréserverEnvironnement"),
        ("Entreprendre, épargner et investir", "#EntreprendreÉpargnerEtInvestir"),
        ("", ""),
    ],
)
def test_hashtags_from_region_and_theme_names(name: str, tag: str) -> None:
    assert hashtag(name) == tag


def event(**fields: object) -> Event:
    defaults: dict[str, object] = {
        "source_id": "M26-0001",
        "title": "Repair café solidaire",
        "starts_at": datetime(2026, 11, 5, 18, 30, tzinfo=PARIS),
        "city": "Brest",
        "region": "Bretagne",
        "theme": "Consommer",
        "url": "https://lemois-ess.example.org/m26-0001",
    }
    defaults.update(fields)
    return Event(**defaults)


def test_the_event_template_speaks_of_today_or_of_the_date() -> None:
    settings = Settings()
    same_day = event_post_text(event(), datetime(2026, 11, 5, 9, tzinfo=PARIS), settings)
    assert same_day.text == (
        "Aujourd'hui à 18h30, Brest : Repair café solidaire\n\n"
        "https://lemois-ess.example.org/m26-0001\n\n"
        "#Consommer #Bretagne #MoisESS"
    )
    assert same_day.shortened == []
    eve = event_post_text(event(), datetime(2026, 11, 4, 17, tzinfo=PARIS), settings)
    assert eve.text.startswith("Demain à 18h30, Brest : ")
    ahead = event_post_text(event(), datetime(2026, 11, 3, 17, tzinfo=PARIS), settings)
    assert ahead.text.startswith("Jeudi 5 novembre à 18h30, Brest : ")
    running = event_post_text(
        event(ends_at=datetime(2026, 11, 5, 22, tzinfo=PARIS)),
        datetime(2026, 11, 5, 19, tzinfo=PARIS),
        settings,
    )
    assert running.text.startswith("En ce moment, Brest : ")


def test_templates_ship_in_french_and_name_what_is_missing() -> None:
    assert {"evenement", "ouverture", "prix-vote"} <= set(template_names())
    opening = render_post("ouverture", {"edition": "10e"}, Settings())
    assert opening.startswith("C'est parti pour le 10e Mois de l'ESS !")
    assert opening.endswith("#MoisESS")
    with pytest.raises(CampaignError, match="'url' is undefined"):
        render_post("prix-vote", {}, Settings())
