"""The pages' actions over real HTTP: each one calls the library and shows what happened."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.audience.subscribers import add_subscriber
from campaign.models import Event, Newsletter, NewsletterStatus, Post, PostStatus, Subscriber
from campaign.social.length import check_length
from tests.dashboard.conftest import Served, page_csrf

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


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
                starts_at=datetime.fromisoformat("2026-11-05T10:00:00+01:00"),
                city="Rennes",
                region="Bretagne",
                theme="Se loger",
            )
        )
        session.commit()


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


def test_composing_a_thread_with_an_image_and_its_description(served: Served) -> None:
    editor = served.client("editor")
    long = "Une phrase assez longue pour remplir un message. " * 12
    answer = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {
            "account": "prix_ess",
            "text": long,
            "split": "1",
            "at": "2026-11-05T09:30",
            "alt": "Logo",
        },
        files={"image": ("logo.png", PNG, "image/png")},
    )
    assert answer.status_code == 303, answer.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        (post,) = session.exec(select(Post)).all()
    assert post.account == "prix_ess" and len(post.parts) == 3
    assert post.status == PostStatus.scheduled
    assert post.scheduled_at == datetime.fromisoformat("2026-11-05T09:30:00+01:00")
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
        ({"image": ("logo.png", PNG, "image/png")}, "", "Describe the image"),
        ({"image": ("notes.png", b"not a picture", "image/png")}, "Logo", "not a PNG"),
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
        "events_from": "2026-11-05",
        "events_to": "2026-11-05",
        "events_regions": "subscriber",
        "intro": "Bonjour à tous",
    }
    refused = _post(
        editor,
        served.url + "/newsletters/new",
        served.url + "/newsletters/new",
        {**form, "lists": "Liste inconnue"},
    )
    assert refused.status_code == 400 and "No list named" in refused.text
    assert 'value="Novembre"' in refused.text  # the form keeps what was typed
    created = _post(editor, served.url + "/newsletters/new", served.url + "/newsletters/new", form)
    assert created.status_code == 303
    number = int(re.search(r"/newsletters/(\d+)", created.headers["location"]).group(1))
    live = editor.get(
        served.url + "/newsletters/live",
        params={
            "lists": "Newsletter nationale",
            "events_from": "2026-11-05",
            "events_to": "2026-11-05",
            "events_regions": "subscriber",
        },
    ).text
    assert re.search(r'data-count="events">1<', live)
    assert re.search(r'data-count="audience">3<', live)
    assert "Bretagne : 1" in live
    wrong = editor.get(
        served.url + "/newsletters/live", params={"events_regions": "Atlantide"}
    ).text
    assert "Unknown region" in wrong

    edit_page = f"{served.url}/newsletters/{number}/edit"
    assert "Bonjour à tous" in editor.get(edit_page).text
    edited = _post(editor, edit_page, edit_page, {**form, "title": "Novembre (2)", "intro": ""})
    assert edited.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter.title == "Novembre (2)" and "intro" not in newsletter.content
        assert newsletter.event_rule["regions"] == ["subscriber"]

    show = f"{served.url}/newsletters/{number}"
    scheduled = _post(editor, f"{show}/schedule", show, {"at": "2026-11-09T09:00"})
    assert scheduled.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter.status == NewsletterStatus.scheduled
        assert newsletter.scheduled_at == datetime.fromisoformat("2026-11-09T09:00:00+01:00")
    paused = _post(editor, f"{show}/pause", show, {})
    assert paused.status_code == 400 and "only a sending newsletter" in paused.text
    cancelled = _post(editor, f"{show}/cancel", show, {})
    assert cancelled.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.cancelled
    assert "Modifier" not in editor.get(show).text


def test_preview_shows_blocking_checks_and_test_sends_go_to_the_outbox(served: Served) -> None:
    _people(served)
    editor = served.client("editor")
    created = _post(
        editor,
        served.url + "/newsletters/new",
        served.url + "/newsletters/new",
        {
            "title": "Prix",
            "subject": "Votez",
            "template": "prix-ess",
            "lists": "Newsletter nationale",
        },
    )
    number = int(re.search(r"/newsletters/(\d+)", created.headers["location"]).group(1))
    preview = editor.get(f"{served.url}/newsletters/{number}/preview")
    assert preview.status_code == 200
    assert "ne peut pas partir telle quelle" in preview.text  # prix-ess needs action_url
    assert "action_url" in preview.text
    page = f"{served.url}/newsletters/{number}/edit"
    _post(
        editor,
        page,
        page,
        {
            "title": "Prix",
            "subject": "Votez",
            "template": "prix-ess",
            "lists": "Newsletter nationale",
            "content_other": "action_url=https://example.org/vote",
        },
    )
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


def test_moving_a_pending_item_on_the_calendar(served: Served) -> None:
    editor = served.client("editor")
    created = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "mois_ess", "text": "Bonjour", "at": "2026-11-05T09:30"},
    )
    post_id = int(re.search(r"/posts/(\d+)", created.headers["location"]).group(1))
    calendar = served.url + "/calendar?day=2026-11-05"
    moved = _post(
        editor,
        served.url + "/calendar/move",
        calendar,
        {"kind": "post", "item_id": str(post_id), "at": "2026-11-07T09:30", "day": "2026-11-05"},
    )
    assert moved.status_code == 303
    page = editor.get(served.url + "/calendar?day=2026-11-05&view=week").text
    assert re.search(r'data-day="2026-11-07">.*?Bonjour', page, re.S)
    bad = _post(
        editor,
        served.url + "/calendar/move",
        calendar,
        {"kind": "newsletter", "item_id": "999", "at": "2026-11-07T09:30"},
    )
    assert bad.status_code == 400 and "No newsletter number 999" in bad.text


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
    published = _post(editor, f"{show}/publish", show, {})
    assert published.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post = session.get(Post, post_id)
        assert post.status == PostStatus.published and post.dry_run
    assert "rien n'a été envoyé à X" in editor.get(show).text
