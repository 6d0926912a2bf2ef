"""Safety catches of the dashboard over real HTTP: every route that cannot be undone asks first
(and acts only when confirmed), a cancelled newsletter that sent nothing goes back to draft,
"send now" goes through the scheduler once, the drafts of a plan are approved at once, refused
forms keep what was typed, and test addresses are checked before anything is sent."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from campaign.audience.lists import create_list
from campaign.audience.subscribers import add_subscriber, unsubscribe
from campaign.errors import CampaignError
from campaign.models import (
    Delivery,
    DeliveryStatus,
    Event,
    MailingList,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    utcnow,
)
from campaign.newsletters import queue, records
from campaign.scheduling import jobs
from tests.dashboard.conftest import Served, page_csrf
from tests.dashboard.test_security import routes

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

LIST = "Newsletter nationale"

# Routes that change something no page can undo, or that make something public: each must show
# its confirmation step first. Every other route that changes something is in REVERSIBLE with
# why it needs none; a new route in neither set fails the test until it is classified.
IRREVERSIBLE = {
    "/newsletters/{newsletter_id}/cancel",
    "/newsletters/{newsletter_id}/send-now",
    "/posts/{post_id}/cancel",
    "/posts/{post_id}/publish",
    "/subscribers/{subscriber_id}/unsubscribe",
    "/subscribers/{subscriber_id}/resubscribe",
    "/subscribers/{subscriber_id}/erase",
    "/lists/{list_id}/merge",
    "/lists/{list_id}/delete",
}
REVERSIBLE = {
    "/login": "signing in",
    "/logout": "signing out",
    "/calendar/move": "a new time, moved back the same way",
    "/newsletters/new": "a draft",
    "/newsletters/{newsletter_id}/edit": "a draft or scheduled newsletter, edited again",
    "/newsletters/{newsletter_id}/test": "a test to the addresses typed, not the audience",
    "/newsletters/{newsletter_id}/schedule": "a time to come, changed or cancelled before it",
    "/newsletters/{newsletter_id}/pause": "resumed with the next button",
    "/newsletters/{newsletter_id}/resume": "paused again",
    "/newsletters/{newsletter_id}/draft": "a draft again, cancelled again if need be",
    "/posts/new": "a draft or a time to come",
    "/posts/planner": "drafts, for review",
    "/posts/planner/approve": "times to come, each post cancellable or movable before",
    "/posts/{post_id}/schedule": "a time to come",
    "/posts/{post_id}/edit": "a text not yet published",
    "/subscribers/new": "a person with consent, unsubscribed or erased if wrong",
    "/subscribers/{subscriber_id}/edit": "fields edited again",
    "/subscribers/import": "its dry run (Essai) is the step before; people added keep consent",
    "/lists/new": "an empty list, deleted again",
    "/lists/{list_id}/rename": "renamed back",
    "/events/import": "the catalogue, imported again",
    "/reports/followers": "a typed count, typed again",
    "/settings/test-message": "one message to the admin's own address",
    "/settings/sender": "the sender identity, changed again or back to the file's",
    "/newsletters/{newsletter_id}/duplicate": "a new draft, deleted or cancelled if unwanted",
    "/newsletters/draft-preview": "nothing stored: the preview of the form as typed",
}


def _people(session: Session, count: int = 3, list_name: str = LIST) -> list[int]:
    ids = []
    for number in range(count):
        person, _ = add_subscriber(
            session,
            f"p{number}.{list_name[:4].lower()}@example.org",
            list_names=[list_name],
            actor="test",
        )
        ids.append(person.id)
    session.commit()
    return ids


def _newsletter(session: Session, status: str = NewsletterStatus.draft) -> int:
    mailing_list = session.exec(select(MailingList).where(MailingList.name == LIST)).one()
    newsletter = Newsletter(
        title="Le Mois commence",
        subject="Vos évènements",
        template="mois-ess",
        list_ids=[mailing_list.id],
        content={"more_url": "https://lemois-ess.example.org"},
        status=status,
        scheduled_at=utcnow() + timedelta(days=2) if status == "scheduled" else None,
    )
    session.add(newsletter)
    session.commit()
    return newsletter.id  # type: ignore[return-value]


def _post_row(session: Session, text: str = "Le Mois commence", days: int = 2) -> int:
    post = Post(
        account="mois_ess",
        text=text,
        parts=[text],
        scheduled_at=utcnow() + timedelta(days=days),
        status=PostStatus.draft,
    )
    session.add(post)
    session.commit()
    return post.id  # type: ignore[return-value]


Setup = Callable[[Session], tuple[dict[str, int], dict[str, str]]]


def _for_newsletter(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    return {"newsletter_id": _newsletter(session, NewsletterStatus.scheduled)}, {}


def _for_post(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    return {"post_id": _post_row(session)}, {}


def _for_person(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    return {"subscriber_id": _people(session, 1, "Lettre des adhérents")[0]}, {}


def _for_unsubscribed(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    person_id = _people(session, 1, "Lettre des régions")[0]
    unsubscribe(session, "p0.lett@example.org", actor="web:admin@example.org", method="admin")
    session.commit()
    return {"subscriber_id": person_id}, {}


def _for_merge(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    source = create_list(session, "Newsletter Nationale bis")
    session.commit()
    target = session.exec(select(MailingList).where(MailingList.name == LIST)).one()
    return {"list_id": source.id}, {"into": str(target.id)}  # type: ignore[dict-item]


def _for_delete(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    empty = create_list(session, "Liste vide")
    session.commit()
    return {"list_id": empty.id}, {}  # type: ignore[dict-item]


SETUPS: dict[str, Setup] = {
    "/newsletters/{newsletter_id}/cancel": _for_newsletter,
    "/newsletters/{newsletter_id}/send-now": _for_newsletter,
    "/posts/{post_id}/cancel": _for_post,
    "/posts/{post_id}/publish": _for_post,
    "/subscribers/{subscriber_id}/unsubscribe": _for_person,
    "/subscribers/{subscriber_id}/resubscribe": _for_unsubscribed,
    "/subscribers/{subscriber_id}/erase": _for_person,
    "/lists/{list_id}/merge": _for_merge,
    "/lists/{list_id}/delete": _for_delete,
}
# Tables of signing in: each request touches them, whatever it does.
SESSION_TABLES = {"user_session", "login_attempt", "user_account"}


def _database(served: Served) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the sign-in ones: what an action would change."""
    with Session(served.engine) as session:  # type: ignore[arg-type]
        return {
            table.name: sorted(
                (tuple(str(value) for value in row) for row in session.execute(sa_select(table))),
            )
            for table in SQLModel.metadata.sorted_tables
            if table.name not in SESSION_TABLES
        }


def _fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), path)


def test_every_irreversible_route_acts_only_once_confirmed(served: Served) -> None:
    """From the app's own router: each route that changes something is classified, and each
    irreversible one, posted with its CSRF token but without confirmation, only shows its
    confirmation page (the database unchanged); posted confirmed, it acts."""
    changing = {path for method, path in routes(served) if method not in ("GET", "HEAD")}
    unclassified = changing - IRREVERSIBLE - set(REVERSIBLE)
    assert not unclassified, f"classify these routes (irreversible or not): {unclassified}"
    assert changing >= IRREVERSIBLE, IRREVERSIBLE - changing
    assert set(SETUPS) == IRREVERSIBLE

    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
    admin = served.client("admin")
    token = page_csrf(admin, served.url + "/")
    for path in sorted(IRREVERSIBLE):
        with Session(served.engine, expire_on_commit=False) as session:  # type: ignore[arg-type]
            ids, data = SETUPS[path](session)
        url = served.url + _fill(path, ids)
        before = _database(served)
        asked = admin.post(url, data={"csrf": token, **data}, allow_redirects=False)
        assert asked.status_code == 200, (path, asked.status_code, asked.text[:2000])
        action = f'action="/admin{_fill(path, ids)}"'
        assert action in asked.text and 'name="confirm" value="oui"' in asked.text, path
        assert _database(served) == before, f"{path} acted without its confirmation step"
        # Confirmed (as the confirmation page posts it), the action is taken.
        hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', asked.text))
        hidden.pop("csrf", None)
        done = admin.post(
            url, data={"csrf": token, **data, **hidden, "confirm": "oui"}, allow_redirects=False
        )
        assert done.status_code == 303, (path, done.status_code, done.text[:2000])
        assert _database(served) != before, f"{path} did nothing once confirmed"


def test_the_confirmation_pages_say_what_happens_and_to_how_many(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        draft = _newsletter(session)
        post_id = _post_row(session)
    editor = served.client("editor")
    token = page_csrf(editor, served.url + f"/newsletters/{draft}")
    page = editor.get(served.url + f"/newsletters/{draft}").text
    assert "Envoyer maintenant" in page and "Annuler la newsletter" in page
    send = editor.post(served.url + f"/newsletters/{draft}/send-now", data={"csrf": token}).text
    assert "Envoyer maintenant « Le Mois commence » ?" in send
    assert re.search(r'data-count="audience">3<', send) and "Newsletter nationale" in send
    assert "Ne pas l'envoyer" in send
    cancel = editor.post(served.url + f"/newsletters/{draft}/cancel", data={"csrf": token}).text
    assert re.search(r'data-count="audience">3<', cancel)
    assert "remettre en brouillon" in cancel
    publish = editor.post(served.url + f"/posts/{post_id}/publish", data={"csrf": token}).text
    assert "Publier maintenant sur @" in publish and "Le Mois commence" in publish
    cancel_post = editor.post(served.url + f"/posts/{post_id}/cancel", data={"csrf": token}).text
    assert "ne paraîtra pas" in cancel_post and "C'est définitif" in cancel_post


def test_erasing_a_person_asks_on_a_page_naming_them_not_with_an_english_error(
    served: Served,
) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        person_id = _people(session, 1)[0]
    admin = served.client("admin")
    person = f"{served.url}/subscribers/{person_id}"
    page = admin.get(person).text
    assert 'name="confirm"' not in page  # the button leads to the confirmation page
    asked = admin.post(f"{person}/erase", data={"csrf": page_csrf(admin, person)})
    assert asked.status_code == 200
    text = html.unescape(asked.text)
    assert "Effacer les données de p0.news@example.org ?" in text
    assert "inscrite à Newsletter nationale" in text and "C'est définitif" in text
    assert "Tick the box" not in text


def test_a_cancelled_newsletter_that_sent_nothing_goes_back_to_draft(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        number = _newsletter(session, NewsletterStatus.scheduled)
        newsletter = session.get(Newsletter, number)
        queue.snapshot(session, newsletter)  # the audience queued, then cancelled: none left
        queue.cancel(session, number)
        session.commit()
        assert queue.sent_nothing(session, number)
    editor = served.client("editor")
    show = f"{served.url}/newsletters/{number}"
    page = editor.get(show).text
    assert "Remettre en brouillon" in page
    token = page_csrf(editor, show)
    back = editor.post(f"{show}/draft", data={"csrf": token}, allow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].endswith(
        "fait=newsletter-draft-again"
    )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert (newsletter.status, newsletter.sent_at, newsletter.scheduled_at) == (
            NewsletterStatus.draft,
            None,
            None,
        )
        # The stale queue is gone: the audience is taken afresh when it is sent.
        assert session.exec(select(Delivery).where(Delivery.newsletter_id == number)).all() == []
    assert "Modifier" in editor.get(show).text


def test_a_newsletter_that_reached_anyone_stays_cancelled(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        number = _newsletter(session, NewsletterStatus.scheduled)
        queue.snapshot(session, session.get(Newsletter, number))
        first = session.exec(select(Delivery).where(Delivery.newsletter_id == number)).first()
        first.status = DeliveryStatus.sent
        first.attempts = 1
        session.add(first)
        queue.cancel(session, number)
        session.commit()
        assert not queue.sent_nothing(session, number)
        with pytest.raises(CampaignError, match="stays cancelled"):
            queue.back_to_draft(session, number)
    editor = served.client("editor")
    show = f"{served.url}/newsletters/{number}"
    assert "Remettre en brouillon" not in editor.get(show).text
    refused = editor.post(f"{show}/draft", data={"csrf": page_csrf(editor, show)})
    assert refused.status_code == 400
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Newsletter, number).status == NewsletterStatus.cancelled
        assert len(session.exec(select(Delivery).where(Delivery.newsletter_id == number)).all())


def test_send_now_schedules_it_for_now_once_and_refuses_what_is_under_way(
    served: Served,
) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        number = _newsletter(session, NewsletterStatus.scheduled)
    editor = served.client("editor")
    show = f"{served.url}/newsletters/{number}"
    token = page_csrf(editor, show)
    before = utcnow()
    for _twice in range(2):  # a double click: still one newsletter due, one job
        done = editor.post(
            f"{show}/send-now", data={"csrf": token, "confirm": "oui"}, allow_redirects=False
        )
        assert done.status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, number)
        assert newsletter.status == NewsletterStatus.scheduled
        assert before <= newsletter.scheduled_at <= utcnow()
        wanted = jobs.wanted_jobs(session, served.settings)
    assert [key for key in wanted if key.startswith("newsletter:")] == [f"newsletter:{number}"]
    assert "part maintenant" in editor.get(show + "?fait=newsletter-sending-now").text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        queue.snapshot(session, session.get(Newsletter, number))  # what the job does first
        session.commit()
        with pytest.raises(CampaignError, match="only a draft, scheduled or missed"):
            records.send_now(session, number, settings=served.settings)
    refused = editor.post(f"{show}/send-now", data={"csrf": token, "confirm": "oui"})
    assert refused.status_code == 400
    assert f"/newsletters/{number}/send-now" not in refused.text  # no button for it any more


def _events_on(served: Served, days: list) -> None:  # type: ignore[type-arg]
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for number, day in enumerate(days):
            for hour in (10, 18):
                session.add(
                    Event(
                        source_id=f"safety-{number}-{hour}",
                        title=f"Rencontre {number}-{hour}",
                        starts_at=day.replace(hour=hour, minute=0),
                        city="Rennes",
                        region="Bretagne",
                        theme="travailler",
                        url=f"https://lemois-ess.example.org/m/{number}-{hour}",
                    )
                )
        session.commit()


def _local_day(served: Served, days: int):  # type: ignore[no-untyped-def]
    now = utcnow().astimezone(served.settings.zone)
    return (now + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_all_the_drafts_of_a_plan_over_several_days_are_approved_at_once(served: Served) -> None:
    first, second = _local_day(served, 3), _local_day(served, 4)
    _events_on(served, [first, second])
    editor = served.client("editor")
    day = first.date().isoformat()
    planner = f"{served.url}/posts/planner?day={day}&account=mois_ess"
    token = page_csrf(editor, planner)
    planned = editor.post(
        served.url + "/posts/planner",
        data={
            "csrf": token,
            "day": day,
            "account": "mois_ess",
            "times": "09:00,12:30",
            "until": second.date().isoformat(),
        },
    )
    assert planned.status_code == 200
    assert "Valider les 4 brouillons préparés" in planned.text
    form = re.search(r'<form[^>]*class="approve-all".*?</form>', planned.text, re.S).group(0)
    ids = [int(value) for value in re.findall(r'name="post_ids" value="(\d+)"', form)]
    assert len(ids) == 4
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert {session.get(Post, i).scheduled_at.date() for i in ids} == {  # type: ignore[union-attr]
            first.date(),
            second.date(),
        }
        too_long = session.get(Post, ids[-1])
        too_long.parts = ["x" * 300]  # edited by hand meanwhile: X would refuse it
        session.add(too_long)
        session.commit()
    # The planner page of another day offers the same: every draft still waiting.
    later = editor.get(f"{served.url}/posts/planner?day={second.date()}&account=mois_ess").text
    assert "4 brouillons en attente sur @" in later
    assert "Valider tous les brouillons en attente (4)" in later
    answer = editor.post(
        served.url + "/posts/planner/approve",
        data={"csrf": token, "day": day, "account": "mois_ess", "post_ids": ids},
    )
    assert answer.status_code == 200
    assert "Les publications validées sont programmées : 3" in answer.text
    refused = re.search(r'data-list="refused">(.*?)</ul>', answer.text, re.S).group(1)
    assert f"Publication {ids[-1]}</a> : son texte ne peut pas partir tel quel" in refused
    with Session(served.engine) as session:  # type: ignore[arg-type]
        statuses = [session.get(Post, i).status for i in ids]  # type: ignore[union-attr]
    assert statuses == [PostStatus.scheduled] * 3 + [PostStatus.draft]


def test_a_refused_post_edit_keeps_everything_typed(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        post_id = _post_row(session, "Texte d'origine")
    editor = served.client("editor")
    show = f"{served.url}/posts/{post_id}"
    typed = "Un texte bien trop long pour X, écrit avec soin. " * 8
    answer = editor.post(
        f"{show}/edit",
        data={
            "csrf": page_csrf(editor, show),
            "text": typed,
            "thread": "",
            "at": "2099-01-02T10:30",
        },
    )
    assert answer.status_code == 400
    textarea = re.search(r'<textarea id="edit-text"[^>]*>(.*?)</textarea>', answer.text, re.S)
    assert html.unescape(textarea.group(1)) == typed
    assert 'aria-invalid="true"' in answer.text and "Le texte n'est pas enregistré" in answer.text
    assert 'id="edit-at" name="at" type="datetime-local" value="2099-01-02T10:30"' in answer.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Post, post_id).text == "Texte d'origine"  # type: ignore[union-attr]
    # A thread written by hand, refused, comes back as a thread.
    answer = editor.post(
        f"{show}/edit",
        data={"csrf": page_csrf(editor, show), "text": "Un\n---\n" + "y" * 300, "thread": "1"},
    )
    assert answer.status_code == 400
    assert re.search(r'name="thread" value="1" checked', answer.text)


def test_a_refused_newsletter_form_keeps_everything_typed(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
    editor = served.client("editor")
    page = served.url + "/newsletters/new"
    form = {
        "title": "Novembre à Rennes",
        "subject": "Les rencontres de la semaine",
        "preheader": "Cinq rendez-vous",
        "lists": [LIST, "Liste qui n'existe pas"],
        "segment_other": "organisation=Scop",
        "events_from": "2099-11-01",
        "events_to": "2099-11-30",
        "events_max": "6",
        "when_no_events": "text",
        "no_events_text": "Pas d'évènement près de chez vous cette semaine.",
        "intro": "Bonjour à toutes et à tous",
    }
    answer = editor.post(page, data={"csrf": page_csrf(editor, page), **form})
    assert answer.status_code == 400
    text = html.unescape(answer.text)
    for name in ("title", "subject", "preheader", "events_from", "events_to", "events_max"):
        assert f'value="{form[name]}"' in text, name
    for name in ("segment_other", "no_events_text", "intro"):
        assert form[name] in text, name
    assert re.search(rf'value="{LIST}"[^>]*checked', text)
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(Newsletter)).all() == []


def _outbox(served: Served) -> list[Path]:
    return [path for path in Path(served.settings.mail.outbox_dir).rglob("*") if path.is_file()]


def test_a_test_address_without_a_dot_in_its_domain_is_refused_by_its_field(
    served: Served,
) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        number = _newsletter(session)
    editor = served.client("editor")
    preview = f"{served.url}/newsletters/{number}/preview"
    token = page_csrf(editor, preview)
    typed = "relecture@example.org, moi.comm@cncress"
    refused = editor.post(
        f"{served.url}/newsletters/{number}/test", data={"csrf": token, "to": typed}
    )
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    field = re.search(
        r'<input id="to"[^>]*>\s*<button[^>]*>[^<]*</button>\s*<p[^>]*>(.*?)</p>', text, re.S
    )
    assert field and "« moi.comm@cncress »" in field.group(1)
    assert "avec un point dans la partie après @" in field.group(1)
    assert f'value="{typed}"' in text  # what was typed is kept
    assert _outbox(served) == []  # not even the valid address got it
    sent = editor.post(
        f"{served.url}/newsletters/{number}/test",
        data={"csrf": token, "to": "moi.comm@cncress.fr"},
    )
    assert sent.status_code == 200
    result = sent.text.index("Résultat du test")
    assert result < sent.text.index("Vérifications")  # at the top, before the preview
    assert "moi.comm@cncress.fr : écrit dans la boîte d'envoi locale" in html.unescape(sent.text)
    assert len(_outbox(served)) == 1
