"""Post templates and hashtags: French words from templates, hashtags X reads whole."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Event
from campaign.social.compose import (
    event_post_text,
    featured_context,
    hashtag,
    render_post,
    template_names,
    timing_context,
)

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


def overseas(zone: str, region: str, city: str, *args: int, **fields: object) -> Event:
    """An event imported in its region's zone (stored in UTC, as the importer does)."""
    start = datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return event(starts_at=start, timezone=zone, region=region, city=city, **fields)


def test_an_overseas_event_post_says_its_own_time_and_whose_it_is() -> None:
    settings = Settings()
    morning = datetime(2026, 11, 5, 9, tzinfo=PARIS)
    reunion = overseas("Indian/Reunion", "La Réunion", "Saint-Denis", 2026, 11, 5, 18)
    guadeloupe = overseas("America/Guadeloupe", "Guadeloupe", "Basse-Terre", 2026, 11, 5, 18)

    assert event_post_text(reunion, morning, settings).text.startswith(
        "Aujourd'hui à 18h (heure de La Réunion), Saint-Denis : Repair café solidaire"
    )
    assert event_post_text(guadeloupe, morning, settings).text.startswith(
        "Aujourd'hui à 18h (heure de Guadeloupe), Basse-Terre : "
    )
    ahead = event_post_text(reunion, morning - timedelta(days=1), settings)
    assert ahead.text.startswith("Demain à 18h (heure de La Réunion), Saint-Denis : ")
    later = event_post_text(reunion, morning - timedelta(days=2), settings)
    assert later.text.startswith("Jeudi 5 novembre à 18h (heure de La Réunion), Saint-Denis : ")


def test_a_late_evening_in_guyane_is_today_there() -> None:
    # 23:30 in Cayenne is 03:30 the next day in Paris; the post goes out at 20:00 in Paris.
    late = overseas("America/Cayenne", "Guyane", "Cayenne", 2026, 11, 5, 23, 30)
    post = event_post_text(late, datetime(2026, 11, 5, 20, tzinfo=PARIS), Settings())
    assert post.text.startswith("Aujourd'hui à 23h30 (heure de Guyane), Cayenne : ")


def test_an_all_day_event_post_gives_its_day_and_no_time() -> None:
    settings = Settings()
    day = datetime(2026, 11, 7, tzinfo=PARIS)
    all_day = event(starts_at=day, ends_at=day + timedelta(days=1), all_day=True)

    ahead = event_post_text(all_day, datetime(2026, 11, 6, 9, tzinfo=PARIS), settings)
    later = event_post_text(all_day, datetime(2026, 11, 4, 9, tzinfo=PARIS), settings)

    assert ahead.text.startswith("Demain, Brest : Repair café solidaire")
    assert later.text.startswith("Samedi 7 novembre, Brest : Repair café solidaire")
    assert not re.search(r"(?<!\d)0h", ahead.text + later.text)


def test_the_events_of_the_day_post_gives_each_event_s_own_time() -> None:
    day = datetime(2026, 11, 5, tzinfo=PARIS)
    all_day = event(starts_at=day, ends_at=day + timedelta(days=1), all_day=True)
    reunion = overseas("Indian/Reunion", "La Réunion", "Saint-Denis", 2026, 11, 5, 18)
    morning = day + timedelta(hours=9)
    context = {
        "events": [all_day, reunion],
        "day": day.date(),
        "slot": time(9),
        **timing_context([all_day, reunion], morning, PARIS),
    }

    text = render_post("evenements-du-jour", context, Settings())

    assert "• Brest : Repair café solidaire" in text
    assert "• 18h (heure de La Réunion), Saint-Denis : Repair café solidaire" in text
    alone = render_post(
        "evenements-du-jour",
        {**context, "events": [reunion], **timing_context([reunion], morning, PARIS)},
        Settings(),
    )
    assert alone.startswith("Aujourd'hui à 18h (heure de La Réunion), Saint-Denis : ")
    single_day = render_post("evenements-du-jour", {**context, "events": [all_day]}, Settings())
    assert single_day.startswith("Aujourd'hui, Brest : ")


def test_a_featured_event_is_seen_as_of_the_post_s_time_or_now() -> None:
    assert featured_context(None, None, PARIS) == {}
    at = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    assert featured_context(event(), at, PARIS)["post_at"] == at
    before = datetime.now(UTC)
    now = featured_context(event(), None, PARIS)["post_at"]
    assert before <= now <= datetime.now(UTC)
