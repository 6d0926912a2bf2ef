"""A new user's walk: signed in, every dashboard page and every form's refusals, in French,
then in English.

In French, fails when the visible text of a page holds a CLI flag (``--`` then a letter), a
settings path in brackets (``[mail] from_address``) or an English sentence of the catalogues (the
CLI's, and the pages' English source sentences, shown only when a translation is missing). In
English (``[general] language = "en"``), fails when a page shows a French sentence of the pages'
catalogue (a ``msgstr`` of ``messages.po``): a template still written in French, or a sentence
translated twice. Runs the dashboard in-process with FastAPI's TestClient; routes are enumerated
from the app itself, so a page added later is walked too.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from campaign import i18n
from campaign.audience.subscribers import add_subscriber
from campaign.config import Settings
from campaign.dashboard.app import create_dashboard
from campaign.db import open_database
from campaign.models import Event, utcnow
from campaign.newsletters.records import create_newsletter
from campaign.social.posts import create_post
from campaign.taxonomy import Taxonomy
from campaign.users.members import add_user
from campaign.wording import cli, pages
from tests.dashboard.conftest import PASSWORD, make_settings
from tests.dashboard.test_security import _walk, fill

FLAG = re.compile(r"(?<![\w-])--[a-zA-Z]")
# "[mail] from_address", "[social.x.prices]": a section of the settings file, in brackets.
SETTINGS_PATH = re.compile(
    r"\[(?:" + "|".join(Settings.model_fields) + r")(?:\.[a-z_]+)*\]", re.IGNORECASE
)
BASE = "/admin"
# Signed out; files (an image, downloads), not pages.
NOT_PAGES = ("/login", "/posts/{post_id}/image/{index}", "/reports/export/{key}")


def english_fragments() -> list[str]:
    """The literal runs of the English catalogues' sentences long enough to be a sentence's
    words (four words or more): one on a page means English reached the team."""
    found = set()
    for sentence in [*cli.SENTENCES.values(), *pages.SENTENCES.values()]:
        for literal, *_ in string.Formatter().parse(sentence):
            for piece in re.split(r"[():;,.`“”'’]", literal):
                piece = " ".join(piece.split())
                if len(piece.split()) >= 4:
                    found.add(piece)
    return sorted(found)


def sentence_runs(text: str) -> list[str]:
    """The runs of four words or more of a catalogue's sentence, its values (``{name}``,
    ``%(name)s``), tags and punctuation left out: what a page shows of it whatever the values."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    runs = []
    for literal in re.split(r"%\(\w+\)s|\{\w*\}", text):
        for piece in re.split(r"[():;,.!?…`“”«»'’—]", literal):
            piece = " ".join(piece.split())
            if len(piece.split()) >= 4:
                runs.append(piece)
    return runs


def french_fragments() -> list[str]:
    """The French runs of the pages' catalogue (``msgstr`` of ``messages.po`` that differ from
    their English): one on a page in English means a sentence was left in French."""
    with i18n.po_path("fr").open("rb") as po_file:
        catalog = read_po(po_file, locale="fr")
    found: set[str] = set()
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            if text not in ids:
                found.update(sentence_runs(text))
    return sorted(found)


# The areas converted on another branch: a page of an area is checked in English once one of
# the area's templates is marked for translation, so the check covers them when they are merged.
AREAS = {
    "/newsletters": ("newsletters",),
    "/posts": ("posts",),
    "/calendar": ("calendar.html",),
    "/reports": ("reports.html",),
}
ADMIN_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web" / "admin"
GETTEXT = re.compile(r"\b_\(|\{%-?\s*trans\b")


def translated(path: str) -> bool:
    """Whether the page at ``path`` (a dashboard path) comes from templates marked for
    translation."""
    area = "/calendar" if path in ("", "/") else next((a for a in AREAS if path.startswith(a)), "")
    if not area:
        return True
    files: list[Path] = []
    for name in AREAS[area]:
        where = ADMIN_TEMPLATES / name
        files += sorted(where.rglob("*.html")) if where.is_dir() else [where]
    return any(GETTEXT.search(file.read_text(encoding="utf-8")) for file in files)


class _Visible(HTMLParser):
    """What a person reads: text outside scripts and styles, and titles and placeholders."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


# Words of English sentences no French sentence has: two in a sentence is an English one (a
# sentence written in a stage and not yet a message of the catalogues).
ENGLISH_WORDS = re.compile(
    r"\b(the|is|are|was|cannot|can't|give|use|this|that|with|not|no|it|its|from|has|have|"
    r"be|must|should|only|for|or|and|of|to|at|by|any|there)\b"
)
ENGLISH_SENTENCE = re.compile(r"[^.!?:;()«»]+")


def english_sentences(text: str) -> list[str]:
    return [
        piece.strip()
        for piece in ENGLISH_SENTENCE.findall(text)
        if len(set(ENGLISH_WORDS.findall(piece))) >= 2
    ]


def problems(text: str, fragments: list[str]) -> list[str]:
    found = [match.group(0) for match in FLAG.finditer(text)]
    found += english_sentences(text)
    found += [match.group(0) for match in SETTINGS_PATH.finditer(text)]
    found += [fragment for fragment in fragments if fragment in text]
    return found


@pytest.fixture
def walk(tmp_path: Path, secret_key: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    yield from _dashboard(tmp_path, "fr")


@pytest.fixture
def walk_in_english(tmp_path: Path, secret_key: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    yield from _dashboard(tmp_path, "en")


def _dashboard(tmp_path: Path, language: str) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """The dashboard in ``language`` on a database with a list, people, an event, a draft
    newsletter and a draft post, and a signed-in admin's client."""
    url = f"sqlite:///{tmp_path / 'walk.db'}"
    settings = make_settings(url, tmp_path, "https://news.example.org")
    settings.general.language = language
    engine = open_database(url)
    zone = settings.zone
    soon = datetime.combine(
        utcnow().astimezone(zone).date() + timedelta(days=5), time(10), tzinfo=zone
    )
    with Session(engine, expire_on_commit=False) as session:
        add_user(session, "admin@example.org", role="admin", password=PASSWORD)
        person, _ = add_subscriber(
            session,
            "anne@example.org",
            list_names=["Newsletter nationale"],
            profile={"first_name": "Anne", "region": "Bretagne"},
            actor="test",
        )
        add_subscriber(session, "bruno@example.org", list_names=["Prix"], actor="test")
        event = Event(
            source_id="E1",
            title="Forum de Rennes",
            starts_at=soon,
            city="Rennes",
            region="Bretagne",
            theme="Se loger",
        )
        session.add(event)
        session.commit()
        newsletter = create_newsletter(
            session,
            title="Novembre",
            subject="Le Mois de l'ESS",
            template="mois-ess",
            list_names=["Newsletter nationale"],
            taxonomy=Taxonomy.from_settings(settings),
        )
        post = create_post(
            session,
            settings,
            account="mois_ess",
            text="Le Mois de l'ESS commence !",
            scheduled_at=soon,
            draft=True,
        )
        session.commit()
        ids = {
            "newsletter_id": newsletter.id,
            "post_id": post.id,
            "subscriber_id": person.id,
            "list_id": 1,
            "index": 0,
        }
    root = FastAPI()
    dashboard = create_dashboard(settings, engine)
    root.mount(BASE, dashboard)
    with TestClient(root, base_url="https://news.example.org") as client:
        yield client, ids
    engine.dispose()


def _csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(BASE + path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _sign_in(client: TestClient) -> None:
    token = _csrf(client, "/login")
    answer = client.post(
        BASE + "/login",
        data={"email": "admin@example.org", "password": PASSWORD, "csrf": token},
    )
    assert answer.status_code == 200 and answer.url.path.rstrip("/") == BASE


# Filters a page refuses (typed into its date fields).
GET_REFUSALS = [
    ("/reports", {"date_from": "hier"}),
    ("/reports", {"date_from": "2026-12-01", "date_to": "2026-01-01"}),
]


def _error_paths(ids: dict[str, int]) -> list[tuple[str, str, dict, dict]]:
    """(form page, action, form fields, files): each a refusal the form's page words."""
    past = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    newsletter = f"/newsletters/{ids['newsletter_id']}"
    post = f"/posts/{ids['post_id']}"
    person = f"/subscribers/{ids['subscriber_id']}"
    letter = {
        "title": "Novembre",
        "subject": "Le Mois",
        "template": "mois-ess",
        "lists": "Newsletter nationale",
    }
    long_text = "Une phrase assez longue pour remplir un message. " * 12
    bad_rows = (
        "email;prénom;région\nnot-an-address;Anne;Bretagne\n;Vide;Bretagne\n"
        "c@example.org;C;Atlantide\nc@example.org;C2;Bretagne\n"
    )
    paths = [
        ("/newsletters/new", "/newsletters/new", {}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "lists": ""}, {}),
        (
            "/newsletters/new",
            "/newsletters/new",
            {**letter, "events_from": "2026-11-20", "events_to": "2026-11-05"},
            {},
        ),
        ("/newsletters/new", "/newsletters/new", {**letter, "events_regions": "Atlantide"}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "events_themes": "Voler"}, {}),
        (
            "/newsletters/new",
            "/newsletters/new",
            {**letter, "events_regions": ["subscriber", "Bretagne"]},
            {},
        ),
        ("/newsletters/new", "/newsletters/new", {**letter, "segment_other": "xyz"}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "content_other": "xyz"}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "when_no_events": "text"}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "events_max": "0"}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "template": "nope"}, {}),
        ("/newsletters/new", "/newsletters/new", {**letter, "lists": "Inconnue"}, {}),
        (f"{newsletter}/edit", f"{newsletter}/edit", {**letter, "subject": " "}, {}),
        (newsletter, f"{newsletter}/schedule", {"at": past}, {}),
        (newsletter, f"{newsletter}/schedule", {"at": "hier"}, {}),
        (newsletter, f"{newsletter}/pause", {}, {}),
        (newsletter, f"{newsletter}/resume", {}, {}),
        (f"{newsletter}/preview", f"{newsletter}/test", {"to": "", "as_email": ""}, {}),
        (
            f"{newsletter}/preview",
            f"{newsletter}/test",
            {"to": "x@example.org", "as_email": "nobody@example.org"},
            {},
        ),
        ("/posts/new", "/posts/new", {"account": "mois_ess", "text": long_text}, {}),
        ("/posts/new", "/posts/new", {"account": "mois_ess", "text": ""}, {}),
        ("/posts/new", "/posts/new", {"account": "mois_ess", "text": "Bonjour", "at": past}, {}),
        (post, f"{post}/schedule", {"at": past}, {}),
        (post, f"{post}/edit", {"text": long_text}, {}),
        ("/posts/planner", "/posts/planner", {"account": "mois_ess", "times": "25:00"}, {}),
        (
            "/posts/planner",
            "/posts/planner",
            {"account": "mois_ess", "day": "2026-11-20", "until": "2026-11-05"},
            {},
        ),
        ("/posts/planner", "/posts/planner/approve", {"account": "mois_ess"}, {}),
        ("/posts/planner", "/posts/planner", {"account": "mois_ess", "until": "demain"}, {}),
        ("/calendar", "/calendar/move", {"item_id": ids["post_id"], "kind": "post", "at": "x"}, {}),
        (
            "/calendar",
            "/calendar/move",
            {"item_id": ids["post_id"], "kind": "post", "at": past},
            {},
        ),
        ("/subscribers/new", "/subscribers/new", {"email": "pas-une-adresse"}, {}),
        ("/subscribers/new", "/subscribers/new", {"email": "new@example.org"}, {}),
        (f"{person}/edit", f"{person}/edit", {"email": "pas-une-adresse"}, {}),
        (person, f"{person}/unsubscribe", {"list_name": "Inconnue"}, {}),
        (
            "/subscribers/import",
            "/subscribers/import",
            {"list_name": "Newsletter nationale", "dry_run": "oui"},
            {"file": ("abonnes.csv", bad_rows.encode(), "text/csv")},
        ),
        (
            "/subscribers/import",
            "/subscribers/import",
            {"list_name": "Newsletter nationale"},
            {"file": ("abonnes.pdf", b"%PDF-1.4", "application/pdf")},
        ),
        (
            "/events/import",
            "/events/import",
            {},
            {"file": ("events.csv", b"id;titre\n;\nE2;\n", "text/csv")},
        ),
        (
            "/subscribers/import",
            "/subscribers/import",
            {"list_name": "Newsletter nationale", "action": "essai"},
            {"file": ("noms.csv", b"nom;ville\nAnne;Rennes\n", "text/csv")},
        ),
        (
            "/subscribers/import",
            "/subscribers/import",
            {"list_name": "Newsletter nationale", "action": "essai"},
            {"file": ("sans-titres.csv", b"a@example.org;Anne\nb@example.org;Bruno\n", "text/csv")},
        ),
        (
            "/subscribers/import",
            "/subscribers/import",
            {"list_name": "Newsletter nationale"},
            {"file": ("abonnes.csv", b"email;prenom\nd@example.org;D\n", "text/csv")},
        ),
        ("/subscribers/import", "/subscribers/import", {"list_name": "Prix"}, {}),
        (
            "/subscribers/import",
            "/subscribers/import",
            {"list_name": "Prix", "upload": "perdu"},
            {},
        ),
        # The block editor's refusals (a button without a valid address, an image without a
        # file, a heading without text).
        (
            "/newsletters/new",
            "/newsletters/new",
            {
                **letter,
                "block_count": "1",
                "block-0-type": "button",
                "block-0-label": "Voir",
                "block-0-url": "pas-une-adresse",
            },
            {},
        ),
        (
            "/newsletters/new",
            "/newsletters/new",
            {**letter, "block_count": "2", "block-0-type": "image", "block-1-type": "heading"},
            {},
        ),
        (
            "/newsletters/new",
            "/newsletters/new",
            {**letter, "block_count": "1", "block-0-type": "events", "block-0-from": "hier"},
            {},
        ),
        # Confirmation pages: asked first, and refused when there is nothing to confirm.
        (newsletter, f"{newsletter}/cancel", {}, {}),
        (newsletter, f"{newsletter}/send-now", {}, {}),
        (post, f"{post}/publish", {}, {}),
        (post, f"{post}/cancel", {}, {}),
        (newsletter, f"{newsletter}/draft", {}, {}),
        # The sender identity in Réglages.
        ("/settings", "/settings/sender", {"from_address": "pas-une-adresse"}, {}),
        (
            "/settings",
            "/settings/sender",
            {"from_address": "lettre@example.org", "reply_to": "x@", "from_name": "A\nB"},
            {},
        ),
        ("/lists", "/lists/new", {"name": " "}, {}),
        ("/lists", "/lists/new", {"name": "newsletter NATIONALE"}, {}),
        ("/lists", "/lists/1/rename", {"new_name": "Prix"}, {}),
        ("/lists", "/lists/1/delete", {"confirm": "oui"}, {}),
        ("/reports", "/reports/followers", {"account": "mois_ess", "followers": "-4"}, {}),
        ("/settings", "/settings/test-message", {"to": "pas-une-adresse"}, {}),
    ]
    return paths


def test_every_page_and_every_refusal_reads_in_french(walk) -> None:  # type: ignore[no-untyped-def]
    client, ids = walk
    _sign_in(client)
    fragments = english_fragments()
    assert "A newsletter needs at least one list" in fragments
    failures: dict[str, list[str]] = {}
    walked = 0
    dashboard_app = client.app.routes[-1].app  # type: ignore[attr-defined]
    for route in _walk(dashboard_app.routes):
        if "GET" not in route.methods or route.path in NOT_PAGES:
            continue
        path = fill(route.path, ids)
        answer = client.get(BASE + path)
        if "html" not in answer.headers.get("content-type", ""):
            continue
        assert answer.status_code in (200, 400), (path, answer.status_code)  # 400: says why
        walked += 1
        found = problems(visible_text(answer.text), fragments)
        if found:
            failures[f"GET {path}"] = found
    assert walked >= 20

    refusals = 0
    for page, action, data, files in _error_paths(ids):
        token = _csrf(client, page)
        answer = client.post(
            BASE + action, data={"csrf": token, **data}, files=files or None, follow_redirects=True
        )
        assert answer.status_code < 500, (action, data, answer.status_code)
        refusals += answer.status_code == 400
        found = problems(visible_text(answer.text), fragments)
        import os

        if os.environ.get("WALK_DUMP"):
            with open(os.environ["WALK_DUMP"], "a") as dump:
                dump.write(f"\n### {action} {data} {answer.status_code}\n")
                dump.write(visible_text(answer.text).split("Se déconnecter", 1)[-1][:1500] + "\n")
        if found:
            failures[f"POST {action} {sorted(data)}"] = found
    for path, query in GET_REFUSALS:
        answer = client.get(BASE + path, params=query)
        assert answer.status_code == 400, (path, query)
        refusals += 1
        found = problems(visible_text(answer.text), fragments)
        if found:
            failures[f"GET {path} {query}"] = found
    assert refusals >= 30, "the walk goes through the forms' refusals"
    # A block's refusal is said by the field it concerns, in the block editor.
    page = "/newsletters/new"
    letter = {"title": "N", "subject": "S", "template": "mois-ess", "lists": "Newsletter nationale"}
    blocks = {"block_count": "1", "block-0-type": "button", "block-0-label": "Voir"}
    blocks["block-0-url"] = "pas-une-adresse"
    answer = client.post(BASE + page, data={"csrf": _csrf(client, page), **letter, **blocks})
    assert answer.status_code == 400
    assert re.search(r'id="block-0-url"[^>]*aria-invalid="true"', answer.text)
    assert re.search(r'id="block-0-url-error"[^>]*>Bloc 1 : « pas-une-adresse »', answer.text)
    assert failures == {}


def test_the_english_setting_gives_english_sentences_and_words(walk_in_english) -> None:  # type: ignore[no-untyped-def]
    client, ids = walk_in_english
    _sign_in(client)
    page = "/newsletters/new"
    refused = client.post(
        BASE + page,
        data={
            "csrf": _csrf(client, page),
            "title": "November",
            "subject": "The Mois",
            "template": "mois-ess",
            "lists": "Newsletter nationale",
            "events_from": "2026-11-20",
            "events_to": "2026-11-05",
        },
    )
    assert refused.status_code == 400
    text = visible_text(refused.text)
    assert "Please correct what is shown below:" in text
    assert (
        "The end date (Thursday 5 November 2026) is before the start date (Friday 20 November "
        "2026): choose an end date on or after the start date."
    ) in text
    person = visible_text(client.get(f"{BASE}/subscribers/{ids['subscriber_id']}").text)
    assert "administrator" in visible_text(client.get(BASE + "/").text)  # the role, top right
    assert "subscribed" in person and "inscription" not in person  # the consent log's action


def test_the_english_setting_shows_no_french_sentence_of_the_catalogue(walk_in_english) -> None:  # type: ignore[no-untyped-def]
    client, ids = walk_in_english
    _sign_in(client)
    fragments = french_fragments()
    assert "Seul un administrateur peut faire cela" in fragments
    assert "Vous avez demandé à recevoir la lettre d" in fragments  # the values left out
    failures: dict[str, list[str]] = {}
    walked = 0
    dashboard_app = client.app.routes[-1].app  # type: ignore[attr-defined]
    for route in _walk(dashboard_app.routes):
        if "GET" not in route.methods or route.path in NOT_PAGES or not translated(route.path):
            continue
        path = fill(route.path, ids)
        answer = client.get(BASE + path)
        if "html" not in answer.headers.get("content-type", ""):
            continue
        walked += 1
        text = visible_text(answer.text)
        found = [fragment for fragment in fragments if fragment in text]
        if found:
            failures[f"GET {path}"] = found
    assert walked >= 8  # the signed-in pages of lists, people, events and settings at least
    refusals = 0
    for page, action, data, files in _error_paths(ids):
        if not (translated(page) and translated(action)):
            continue
        token = _csrf(client, page)
        answer = client.post(
            BASE + action, data={"csrf": token, **data}, files=files or None, follow_redirects=True
        )
        refusals += 1
        text = visible_text(answer.text)
        found = [fragment for fragment in fragments if fragment in text]
        if found:
            failures[f"POST {action} {sorted(data)}"] = found
    assert refusals >= 15
    # The confirmations the routes word themselves.
    person = f"/subscribers/{ids['subscriber_id']}"
    for page, action, data, expected in [
        ("/lists", "/lists/1/merge", {"into": "2"}, "Merge “Newsletter nationale” into “Prix”?"),
        (person, f"{person}/unsubscribe", {}, "1 person, anne@example.org, will be unsubscribed"),
    ]:
        answer = client.post(BASE + action, data={"csrf": _csrf(client, page), **data})
        text = visible_text(answer.text)
        assert expected in text, (action, text)
        found = [fragment for fragment in fragments if fragment in text]
        if found:
            failures[f"POST {action} (confirmation)"] = found
    assert failures == {}
