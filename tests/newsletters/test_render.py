"""The render pipeline: shipped templates, escaping, per-region grouping, no network."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

import campaign.newsletters.render as render_module
from campaign.config import Settings
from campaign.models.audience import Subscriber
from campaign.models.events import Event
from campaign.newsletters.render import (
    Recipient,
    RenderError,
    group_by_region,
    render_group,
    render_groups,
)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.add(tag)


REGIONS = ("Bretagne", "Occitanie", "Île-de-France")


def make_event(index: int, region: str, **fields) -> Event:
    values = {
        "source_id": f"ev-{region}-{index}",
        "title": f"Évènement {index} en {region}",
        "starts_at": datetime(2016, 11, 8 + index % 3, 13, 30, tzinfo=UTC),
        "ends_at": datetime(2016, 11, 8 + index % 3, 16, 0, tzinfo=UTC),
        "venue": "Maison de l'ESS",
        "city": "Rennes",
        "postcode": "35000",
        "region": region,
        "theme": ("Se loger", "Travailler")[index % 2],
        "organiser_name": f"Coopérative {index}",
        "url": f"https://lemois-ess.org/evenements/{region.lower()}-{index}?src=nl&x=1",
        "image_url": f"https://lemois-ess.org/images/{index}.jpg",
    }
    values.update(fields)
    return Event(**values)


def recipient_for(subscriber: Subscriber, number: int) -> Recipient:
    return Recipient.from_subscriber(
        subscriber,
        unsubscribe_url=f"https://lemois-ess.org/u/token-{number}",
        view_url=f"https://lemois-ess.org/v/token-{number}",
        pixel_url=f"https://lemois-ess.org/p/token-{number}.gif",
        link=lambda url, number=number: f"https://lemois-ess.org/c/{number}?to={url}",
    )


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def events() -> list[Event]:
    return [make_event(i, region) for region in REGIONS for i in range(3)]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every render in these tests fails loudly if it opens a connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("a render tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_mois_ess_renders_events_by_day_and_theme(settings, events):
    compiled = render_group(
        "mois-ess", {"title": "Le Mois de l'ESS", "events": events[:3]}, settings
    )
    message = compiled.personalise(
        Recipient(
            email="camille@example.org",
            first_name="Camille",
            unsubscribe_url="https://lemois-ess.org/u/abc",
            view_url="https://lemois-ess.org/v/abc",
        )
    )
    assert message.subject == "Le Mois de l'ESS près de chez vous"
    for part in (message.html, message.text):
        assert "Bonjour Camille," in part
        assert "Mardi 8 novembre 2016" in part
        assert "Thème du jour : Se loger" in part
        assert "14h30 – 17h" in part  # Europe/Paris, UTC+1 in November
        assert "Coopérative 0" in part
        assert "https://lemois-ess.org/u/abc" in part
        assert "https://lemois-ess.org/v/abc" in part
        assert "CNCRESS, 00 rue de l&#39;Exemple" in part or "CNCRESS, 00 rue de l'Exemple" in part
    assert 'alt="Évènement 0 en Bretagne"' in message.html
    assert "Voir dans le navigateur" in message.html
    assert "Se désinscrire" in message.html
    assert "fonts.googleapis.com" not in message.html
    assert "[[" not in message.html and "[%" not in message.html


def test_inline_styles_are_inlined_and_media_queries_kept(settings, events):
    html = render_group("mois-ess", {"title": "T", "events": events[:1]}, settings).html_source
    assert "color:#c2185b" in html.replace(" ", "")  # `a { color }` from mj-style inline
    assert "@media only screen and (max-width: 480px)" in html


def test_prix_ess_renders_call_to_vote(settings):
    compiled = render_group(
        "prix-ess",
        {
            "title": "Prix impact local, à vos claviers !",
            "paragraphs": ["Le vote public est ouvert.", "15 nommés vous attendent."],
            "action_url": "https://lemois-ess.org/prix/vote",
            "deadline": datetime(2016, 10, 15, 21, 59, tzinfo=UTC),
            "nominees": [{"name": "La Ressourcerie", "description": "Réemploi", "url": ""}],
        },
        settings,
    )
    message = compiled.personalise(
        Recipient(email="a@example.org", unsubscribe_url="https://u", view_url="https://v")
    )
    assert message.subject == "Les Prix ESS : à vos votes !"
    assert "Bonjour," in message.text
    assert "Jusqu'au samedi 15 octobre 2016 à 23h59." in message.text
    assert "https://lemois-ess.org/prix/vote" in message.html
    assert "La Ressourcerie" in message.html
    assert compiled.links == ("https://lemois-ess.org/prix/vote", "https://x.com/Prix_ESS")


def test_script_in_first_name_and_event_title_is_text(settings):
    event = make_event(0, "Bretagne", title="<script>alert(1)</script> & [[ recipient.email ]]")
    compiled = render_group("mois-ess", {"title": "T", "events": [event]}, settings)
    message = compiled.personalise(
        Recipient(
            email="secret@example.org",
            first_name="<script>alert(2)</script>",
            unsubscribe_url="https://u/?a=1&b=2",
            view_url="https://v",
        )
    )
    page = _Page()
    page.feed(message.html)
    assert "script" not in page.tags  # inside a quoted alt="…", "<" is text (html5ever keeps it)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; [[ recipient.email ]]" in message.html
    assert "https://u/?a=1&amp;b=2" in message.html
    # Data never reaches the recipient pass as code: the email shows only in the footer.
    assert message.html.count("secret@example.org") == 1
    assert "<script>alert(1)</script> & [[ recipient.email ]]" in message.text
    assert "Bonjour <script>alert(2)</script>," in message.text  # plain text: no escaping


def test_each_recipient_sees_own_name_region_and_links(settings, events):
    subscribers = [
        Subscriber(email=f"p{i}@example.org", first_name=f"Prénom{i}", region=region)
        for i, region in enumerate(REGIONS)
    ]
    groups = group_by_region(subscribers, events, limit=20)
    compiled = render_groups("mois-ess", groups, {"title": "Le Mois"}, settings)
    assert set(compiled) == set(REGIONS)
    for number, subscriber in enumerate(subscribers):
        message = compiled[subscriber.region].personalise(recipient_for(subscriber, number))
        assert f"Bonjour Prénom{number}," in message.html
        assert f"https://lemois-ess.org/u/token-{number}" in message.html
        assert f"https://lemois-ess.org/c/{number}?to=https://lemois-ess.org/evenements/" in (
            message.html
        )
        assert f"https://lemois-ess.org/c/{number}?to=" in message.text
        for region in REGIONS:
            assert (f"en {region}" in message.html) == (region == subscriber.region)
        for other in range(len(subscribers)):
            if other != number:
                assert f"token-{other}" not in message.html
                assert f"Prénom{other}" not in message.html


CALENDAR_LINK = re.compile(r'<a href="([^"]+)"[^>]*>Ajouter à mon agenda</a>')


def test_each_event_has_one_tracked_add_to_calendar_link(settings, events):
    settings.web.public_url = "https://news.example.org"
    chosen = events[:3]
    for number, event in enumerate(chosen, start=41):
        event.id = number
    unsaved = make_event(5, "Bretagne", title="Pas encore au catalogue")  # no id: no file
    compiled = render_group("mois-ess", {"title": "T", "events": [*chosen, unsaved]}, settings)
    message = compiled.personalise(recipient_for(Subscriber(email="a@example.org"), 7))

    files = [f"https://news.example.org/e/{number}.ics" for number in (41, 42, 43)]
    assert sorted(CALENDAR_LINK.findall(message.html)) == [
        f"https://lemois-ess.org/c/7?to={url}" for url in files
    ]
    assert sorted(re.findall(r"Ajouter à mon agenda : (\S+)", message.text)) == [
        f"https://lemois-ess.org/c/7?to={url}" for url in files
    ]
    assert set(files) <= set(compiled.links)  # tracked: clicks may redirect there
    assert not any(link.startswith("https://news.example.org/e/None") for link in compiled.links)


def test_per_region_grouping_runs_mjml_once_per_region(settings, events, monkeypatch):
    calls: list[int] = []
    real = render_module.mjml2html

    def counting(source, **kwargs):
        calls.append(1)
        return real(source, **kwargs)

    monkeypatch.setattr(render_module, "mjml2html", counting)
    subscribers = [Subscriber(email=f"p{i}@example.org", region=REGIONS[i % 3]) for i in range(30)]
    groups = group_by_region(subscribers, events)
    compiled = render_groups("mois-ess", groups, {"title": "T"}, settings)
    for number, subscriber in enumerate(subscribers):
        compiled[subscriber.region].personalise(recipient_for(subscriber, number))
    assert len(calls) == len(REGIONS)


def test_subscribers_without_region_get_fallback_events(events):
    subscribers = [Subscriber(email="a@example.org"), Subscriber(email="b@example.org")]
    (group,) = group_by_region(subscribers, events, fallback_events=events[:2])
    assert group.key == "" and len(group.members) == 2
    assert group.context["events"] == events[:2]


def test_events_are_limited_and_chronological(events):
    late = make_event(9, "Bretagne", starts_at=datetime(2016, 11, 1, tzinfo=UTC))
    (group,) = group_by_region([Subscriber(region="Bretagne")], [*events, late], limit=2)
    chosen = group.context["events"]
    assert chosen[0] is late and len(chosen) == 2


def test_local_day_follows_paris_time(settings):
    # 23:30 UTC on 8 Nov is 00:30 on 9 Nov in Paris.
    event = make_event(0, "Bretagne", starts_at=datetime(2016, 11, 8, 23, 30, tzinfo=UTC))
    event.ends_at = event.starts_at + timedelta(hours=1)
    text = (
        render_group("mois-ess", {"title": "T", "events": [event]}, settings)
        .personalise(Recipient(email="a@b.fr"))
        .text
    )
    assert "Mercredi 9 novembre 2016" in text and "0h30 – 1h30" in text


def _letter(settings: Settings, events: list[Event]) -> tuple[str, str]:
    message = render_group("mois-ess", {"title": "T", "events": events}, settings).personalise(
        Recipient(email="a@example.org")
    )
    return message.html, message.text


def _at(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_overseas_events_show_their_own_time_and_say_whose_it_is(settings):
    reunion = make_event(
        1,
        "La Réunion",
        starts_at=_at("Indian/Reunion", 2026, 11, 5, 18),
        ends_at=_at("Indian/Reunion", 2026, 11, 5, 20),
        timezone="Indian/Reunion",
    )
    guadeloupe = make_event(
        2,
        "Guadeloupe",
        starts_at=_at("America/Guadeloupe", 2026, 11, 5, 18),
        ends_at=None,
        timezone="America/Guadeloupe",
    )
    paris = make_event(3, "Bretagne", starts_at=_at("Europe/Paris", 2026, 11, 5, 18), ends_at=None)
    html, text = _letter(settings, [reunion, guadeloupe, paris])
    for part in (html, text):
        # Under the day's heading, the time alone: the day is not repeated.
        assert "Jeudi 5 novembre 2026" in part
        assert "18h – 20h (heure de La Réunion)" in part
        assert "18h (heure de Guadeloupe)" in part
        assert "18h · " in part  # a Paris event needs no word on its zone
        assert "jeudi 5 novembre 2026, 18h" not in part
        assert "15h" not in part and "23h" not in part  # nor the Paris clock of the others


def test_an_all_day_event_is_a_day_never_0h(settings):
    day = make_event(
        1,
        "Bretagne",
        starts_at=_at("Europe/Paris", 2026, 11, 7),
        ends_at=_at("Europe/Paris", 2026, 11, 8),
        all_day=True,
    )
    days = make_event(
        2,
        "La Réunion",
        starts_at=_at("Indian/Reunion", 2026, 11, 12),
        ends_at=_at("Indian/Reunion", 2026, 11, 15),
        all_day=True,
        timezone="Indian/Reunion",
    )
    html, text = _letter(settings, [day, days])
    for part in (html, text):
        assert "Samedi 7 novembre 2026" in part and "toute la journée" in part
        # Its first day in its zone: midnight in La Réunion is still the 11th in Paris.
        assert "Jeudi 12 novembre 2026" in part and "Mercredi 11 novembre" not in part
        assert "du jeudi 12 au samedi 14 novembre 2026" in part
        assert not re.search(r"(?<!\d)0h", part)


def test_an_event_is_under_its_own_day_not_the_paris_one(settings):
    # 23:30 in Cayenne is 03:30 the next day in Paris.
    late = make_event(
        1,
        "Guyane",
        title="Veillée contée",
        starts_at=_at("America/Cayenne", 2026, 11, 5, 23, 30),
        ends_at=None,
        timezone="America/Cayenne",
    )
    morning = make_event(
        2,
        "Bretagne",
        title="Petit déjeuner",
        starts_at=_at("Europe/Paris", 2026, 11, 6, 8),
        ends_at=None,
    )
    html, text = _letter(settings, [morning, late])
    for part in (html, text):
        thursday, friday = part.index("Jeudi 5 novembre 2026"), part.index("Vendredi 6 novembre")
        assert thursday < part.index("Veillée contée") < friday < part.index("Petit déjeuner")
        assert "23h30 (heure de Guyane)" in part


def test_missing_template_is_a_clear_error(settings):
    with pytest.raises(RenderError, match="template not found"):
        render_group("nope", {"title": "T"}, settings)


def _hidden_preview(html: str) -> str:
    start = html.index('aria-hidden="true">') + len('aria-hidden="true">')
    return html[start : html.index("</div>", start)]


def test_grey_text_is_grey(settings, events):
    """``css-class="muted"`` coloured the cell, and mj-text's own colour (#222) won inside it."""
    html = render_group("mois-ess", {"title": "T", "events": events[:1]}, settings).html_source
    for words in ("Voir dans le navigateur", "Thème du jour", "Vous recevez ce message"):
        before = html[: html.index(words)]
        inner = before[before.rindex("<div ") :]
        assert "color:#666666" in inner.replace(" ", ""), words


def test_the_preheader_is_hidden_without_white_text_and_followed_by_filler(settings, events):
    """A hidden white-on-white preheader costs every letter SpamAssassin's
    HTML_FONT_LOW_CONTRAST; without filler, inbox previews ran on into the header's links."""
    context = {"title": "Le Mois", "events": events[:1], "preview": "Trois ateliers ce jeudi"}
    html = render_group("mois-ess", context, settings).html_source
    hidden = _hidden_preview(html)
    assert hidden.startswith("Trois ateliers ce jeudi")
    assert hidden.count("\u034f\u200c") >= 50  # invisible filler after the text
    assert "ffffff" not in html[html.index("<body") : html.index('aria-hidden="true">')].lower()
    assert "color:#ffffff" not in hidden.replace(" ", "").lower()
    assert "mj-preview" not in html

    untitled = render_group("mois-ess", {"title": "Le Mois", "events": events[:1]}, settings)
    # No preheader: the title (the subject's neighbour already) is not said twice.
    assert "Le Mois" not in _hidden_preview(untitled.html_source)


def test_event_images_are_as_wide_as_the_text(settings, events):
    """They were 540 px inside a 550 px column, narrower than the text beside them."""
    html = render_group("mois-ess", {"title": "T", "events": events[:1]}, settings).html_source
    image = html[html.index('<img alt="Évènement 0') :]
    image = image[: image.index(">")]
    assert 'width="550"' in image
