"""The sentences the dashboard's routes build (confirmations, refusals) come from the catalogue:
English with ``[general] language = "en"``, French by default, exactly as before.

Runs the dashboard in-process (FastAPI's TestClient, SQLite) with a list of two people, an empty
list and a signed-in admin; checks the lists page (create, merge, delete), a person's
unsubscription and the new-person form; and the upload limits' refusals.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from campaign.audience.lists import create_list
from campaign.audience.subscribers import add_subscriber
from campaign.dashboard.app import _Limits, create_dashboard
from campaign.db import open_database
from campaign.users.members import add_user
from tests.dashboard.conftest import PASSWORD, make_settings

BASE = "/admin"
NATIONAL = "Newsletter nationale"


@pytest.fixture(params=["fr", "en"])
def board(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A signed-in admin's client on the dashboard in ``fr`` or ``en``, and the language."""
    url = f"sqlite:///{tmp_path / 'sentences.db'}"
    settings = make_settings(url, tmp_path, "https://news.example.org")
    settings.general.language = request.param
    engine = open_database(url)
    with Session(engine, expire_on_commit=False) as session:
        add_user(session, "admin@example.org", role="admin", password=PASSWORD)
        for email in ("anne@example.org", "bruno@example.org"):
            add_subscriber(session, email, list_names=[NATIONAL], actor="test")
        create_list(session, "Prix")
        session.commit()
    root = FastAPI()
    root.mount(BASE, create_dashboard(settings, engine))
    with TestClient(root, base_url="https://news.example.org") as client:
        token = _csrf(client, "/login")
        client.post(
            BASE + "/login",
            data={"email": "admin@example.org", "password": PASSWORD, "csrf": token},
        )
        yield client, request.param
    engine.dispose()


def _csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(BASE + path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _post(client: TestClient, path: str, form_page: str, **data: str) -> str:
    answer = client.post(
        BASE + path, data={"csrf": _csrf(client, form_page), **data}, follow_redirects=False
    )
    assert answer.status_code in (200, 400), (path, answer.status_code)
    return html.unescape(answer.text)


def _list_id(client: TestClient, name: str) -> str:
    page = html.unescape(client.get(BASE + "/lists").text)
    ids = re.findall(r"/lists/(\d+)/delete", page)
    assert ids, "the lists page offers to delete lists"
    return ids[0] if name == NATIONAL else ids[-1]


def _says(text: str, language: str, english: str, french: str) -> None:
    """``text`` has the sentence in ``language``, and not the other language's."""
    shown, other = (english, french) if language == "en" else (french, english)
    assert shown in text, shown
    assert other not in text, other


def test_a_list_name_refused_is_said_in_the_pages_language(board: tuple[TestClient, str]) -> None:
    client, language = board
    empty = _post(client, "/lists/new", "/lists", name="  ")
    _says(empty, language, "Give the list a name.", "Donnez un nom à la liste.")
    taken = _post(client, "/lists/new", "/lists", name="newsletter NATIONALE")
    _says(taken, language, f"Did you mean “{NATIONAL}”?", f"Vouliez-vous dire « {NATIONAL} » ?")
    long = _post(client, "/lists/new", "/lists", name="x" * 201)
    _says(
        long,
        language,
        "A list name has at most 200 characters.",
        "Un nom de liste a au plus 200 caractères.",
    )


def test_deleting_a_list_in_use_says_why_not(board: tuple[TestClient, str]) -> None:
    client, language = board
    list_id = _list_id(client, NATIONAL)
    refused = _post(client, f"/lists/{list_id}/delete", "/lists")
    _says(refused, language, "2 person(s) are subscribed to it", "2 personne(s) y sont inscrites")


def test_the_merge_and_delete_confirmations_are_in_the_pages_language(
    board: tuple[TestClient, str],
) -> None:
    client, language = board
    national, prix = _list_id(client, NATIONAL), _list_id(client, "Prix")
    merge = _post(client, f"/lists/{national}/merge", "/lists", into=prix)
    _says(merge, language, f"Merge “{NATIONAL}” into “Prix”?", f"Fusionner « {NATIONAL} » dans")
    _says(
        merge,
        language,
        f"The 2 person(s) subscribed to “{NATIONAL}” (and 0 who had left it) move to “Prix”",
        f"Les 2 personne(s) inscrites à « {NATIONAL} » (et 0 qui l'avaient quittée)",
    )
    _says(merge, language, "This is final.", "C'est définitif.")
    _says(merge, language, "Merge the lists", "Fusionner les listes")
    delete = _post(client, f"/lists/{prix}/delete", "/lists")
    _says(delete, language, "Delete the list “Prix”?", "Supprimer la liste « Prix » ?")
    _says(
        delete,
        language,
        "The list “Prix” is empty (0 people) and nothing uses it",
        "La liste « Prix » est vide (0 personne) et rien ne l'utilise",
    )
    no_target = _post(client, f"/lists/{national}/merge", "/lists", into="0")
    _says(
        no_target,
        language,
        "Choose the list to pour this one into.",
        "Choisissez la liste où verser celle-ci.",
    )


def test_unsubscribing_a_person_is_confirmed_in_the_pages_language(
    board: tuple[TestClient, str],
) -> None:
    client, language = board
    page = client.get(BASE + "/subscribers").text
    person = re.findall(r"/subscribers/(\d+)", page)[0]
    confirm = _post(client, f"/subscribers/{person}/unsubscribe", f"/subscribers/{person}")
    _says(confirm, language, "Unsubscribe this person?", "Désinscrire cette personne ?")
    _says(
        confirm,
        language,
        "will be unsubscribed from all newsletters (whatever their lists).",
        "sera désinscrite de toutes les newsletters (quelles que soient ses listes).",
    )
    wrong = _post(
        client, f"/subscribers/{person}/unsubscribe", f"/subscribers/{person}", list_name="Prix"
    )
    _says(
        wrong,
        language,
        "This person is not subscribed to “Prix”.",
        "Cette personne n'est pas inscrite à « Prix ».",
    )


def test_the_new_person_form_refuses_in_the_pages_language(board: tuple[TestClient, str]) -> None:
    client, language = board
    no_email = _post(client, "/subscribers/new", "/subscribers/new", email="")
    _says(
        no_email,
        language,
        "Give the person's email address.",
        "Indiquez l'adresse e-mail de la personne.",
    )
    known = _post(
        client,
        "/subscribers/new",
        "/subscribers/new",
        email="anne@example.org",
        consent_source="formulaire papier",
    )
    _says(
        known,
        language,
        "The address anne@example.org is already known: edit their record",
        "L'adresse anne@example.org est déjà connue : modifiez sa fiche",
    )


@pytest.mark.parametrize(
    ("language", "length", "status", "said"),
    [
        ("fr", b"11", 413, "Fichier trop volumineux."),
        ("en", b"11", 413, "File too large."),
        ("fr", b"", 411, "Longueur requise."),
        ("en", b"", 411, "Length required."),
    ],
)
def test_the_upload_limits_refuse_in_the_pages_language(
    language: str, length: bytes, status: int, said: str
) -> None:
    async def never(scope: object, receive: object, send: object) -> None:
        raise AssertionError("a body over the limit never reaches the pages")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    headers = [(b"content-length", length)] if length else []
    scope = {"type": "http", "method": "POST", "headers": headers, "path": "/"}
    asyncio.run(_Limits(never, max_bytes=10, language=language)(scope, receive, send))
    assert sent[0]["status"] == status
    assert sent[1]["body"] == said.encode()
