"""The OpenAPI description of the public routes, and schemathesis fuzzing the app from it.

The app runs in-process (schemathesis' ASGI transport). Schemathesis' tokens are made up, so
they meet the 404 page without reaching the database: those tests share one SQLite database.
:func:`test_the_description_is_true_of_genuine_links_too` checks the answers to real tokens
against the same description, on each test database.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import get_client
from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from campaign.config import Settings
from campaign.db import open_database
from campaign.models import Event
from campaign.social.media import keep_image
from campaign.tracking.tokens import Signer
from campaign.web.app import create_app

pytestmark = pytest.mark.one_database(
    "the public routes' answers, a door: the stages they call are tested on both engines"
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]
FORM = "application/x-www-form-urlencoded"
KEY = "test-secret-key-" + "x" * 32  # tests/conftest.py's TEST_SECRET_KEY


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.web.public_url = "http://testserver"  # the host schemathesis' ASGI client names
    settings.mail.outbox_dir = str(tmp_path / "outbox")
    settings.tracking.flush_seconds = 0.05
    settings.subscribe.rate_limit = 100_000  # the form's checks, not its 429, get fuzzed
    return settings


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'campaign.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def app(shared_engine: Engine, app_settings: Settings):
    """The app on the shared database: for requests whose tokens are made up."""
    return create_app(app_settings, engine=shared_engine, signer=Signer([KEY]))


def _described_app():
    """An app on an empty in-memory database, to serve the description when the tests are
    collected (schemathesis needs it before any fixture exists); the tests call ``app``."""
    return create_app(Settings(), engine=create_engine("sqlite://"), signer=Signer(["d" * 40]))


schema = schemathesis.openapi.from_asgi("/openapi.json", _described_app())
OPERATIONS = {
    (method.upper(), path)
    for path, operations in schema.raw_schema["paths"].items()
    for method in operations
}


def test_the_description_names_the_public_routes_only(app) -> None:
    description = app.openapi()
    assert description == schema.raw_schema  # what the fuzz below works from
    assert set(description["paths"]) == {
        "/o/{token}.gif",
        "/c/{token}",
        "/u/{token}",
        "/u/{token}/resubscribe",
        "/v/{token}",
        "/inscription",
        "/confirmation/{token}",
        "/e/{event_id}.ics",
        "/media/{name}",
        "/assets/newsletters/{template}/{name}",
    }
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            # Validation errors get the 404 page, never FastAPI's JSON 422.
            assert "422" not in operation["responses"], (method, path)
            for answer in operation["responses"].values():
                assert "application/json" not in answer.get("content", {}), (method, path)
    click = description["paths"]["/c/{token}"]["get"]["responses"]
    assert set(click) == {"302", "404"}
    assert click["302"]["headers"]["Location"]["required"] is True
    pixel = description["paths"]["/o/{token}.gif"]["get"]["responses"]
    assert set(pixel["200"]["content"]) == {"image/gif"}


def test_the_description_is_served_but_no_documentation_page(app) -> None:
    with get_client(app) as client:
        served = client.get("/openapi.json")
        assert served.status_code == 200
        assert served.json() == app.openapi()
        for page in ("/docs", "/redoc", "/docs/oauth2-redirect", "/admin/openapi.json"):
            answer = client.get(page, allow_redirects=False)
            assert answer.status_code in (303, 404), page
            assert "swagger" not in answer.text.lower() and "redoc" not in answer.text.lower()


def test_a_method_a_path_does_not_have_gets_405_naming_the_ones_it_has(app) -> None:
    # RFC 9110 (15.5.6): a 405 carries Allow. The error page used to drop it, and Starlette
    # names only the first route of a path, when GET, HEAD and POST are routes of their own.
    with get_client(app) as client:
        for method, path, allowed in (
            ("PUT", "/u/abc", "GET, HEAD, POST"),
            ("DELETE", "/c/abc", "GET, HEAD"),
            ("GET", "/u/abc/resubscribe", "POST"),
            ("PATCH", "/inscription", "GET, HEAD, POST"),
            ("OPTIONS", "/o/abc.gif", "GET, HEAD"),
        ):
            answer = client.request(method, path)
            assert answer.status_code == 405, (method, path)
            assert answer.headers.get("Allow") == allowed, (method, path)
            assert answer.headers["Content-Type"].startswith("text/html")


@schema.parametrize()
@settings(
    max_examples=20,  # per operation: 18 operations, ~320 examples and the coverage cases
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=list(HealthCheck),
)
def test_the_public_routes_answer_as_their_description_says(case, app) -> None:
    # Every check but "a schema-valid request is accepted": tokens are signed, so a made-up
    # one is refused (404, or the form again) as the description says.
    case.call_and_validate(app=app, excluded_checks=[positive_data_acceptance])


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_the_description_is_true_of_genuine_links_too(
    engine, app_settings, secret_key, kit, tmp_path
) -> None:
    app = create_app(app_settings, engine=engine, signer=Signer([secret_key]))
    sent = kit.send(app_settings)  # signs with the key in the environment, as sending does
    signer = Signer([secret_key])
    anne = sent.deliveries["Anne"]
    link = next(iter(sent.links.values()))
    newsletter = sent.newsletter_id
    tried: set[tuple[str, str]] = set()

    def check(method: str, path: str, expected: int, **parts) -> bytes:
        case = schema[path][method].Case(**parts)
        response = case.call_and_validate(app=app, checks=CHECKS)
        assert response.status_code == expected, (method, path, parts)
        tried.add((method, path))
        return response.content

    def token(value: str) -> dict:
        return {"path_parameters": {"token": value}}

    for method in ("GET", "HEAD"):
        check(method, "/o/{token}.gif", 200, **token(signer.sign("open", anne)))
        check(method, "/o/{token}.gif", 200, **token(signer.sign("open-anon", newsletter)))
        check(method, "/c/{token}", 302, **token(signer.sign("click", anne, link, newsletter)))
        check(method, "/c/{token}", 302, **token(signer.sign("click-anon", newsletter, link)))
        check(method, "/v/{token}", 200, **token(signer.sign("view", anne)))
        check(method, "/u/{token}", 200, **token(signer.sign("unsubscribe", anne)))
        check(method, "/inscription", 200)
    unsubscribe = token(signer.sign("unsubscribe", anne))
    one_click = {"body": {"List-Unsubscribe": "One-Click"}, "media_type": FORM}
    check("POST", "/u/{token}", 200, **unsubscribe, **one_click)
    check("POST", "/u/{token}/resubscribe", 200, **unsubscribe)

    form = check("GET", "/inscription", 200).decode()
    jeton = re.search(r'name="jeton" value="([^"]+)"', form).group(1)
    body = {"jeton": jeton, "email": "claire@example.org", "prenom": "Claire"}
    check("POST", "/inscription", 200, body=body, media_type=FORM)
    # The confirmation email goes after the answer: the page's background task has run.
    outbox = mailbox.Maildir(app_settings.mail.outbox_dir, create=False)
    (message,) = [email.message_from_bytes(bytes(m), policy=email.policy.default) for m in outbox]
    text = message.get_body(("plain",)).get_content()
    confirm = token(re.search(r"/confirmation/([A-Za-z0-9_-]+)", text).group(1))
    check("GET", "/confirmation/{token}", 200, **confirm)
    check("HEAD", "/confirmation/{token}", 200, **confirm)
    check("POST", "/confirmation/{token}", 200, **confirm)
    with Session(engine) as session:  # an event of the catalogue, as a calendar file
        event = Event(
            source_id="E1", title="Atelier", starts_at=datetime(2026, 11, 5, 17, tzinfo=UTC)
        )
        session.add(event)
        session.commit()
        event_id = {"path_parameters": {"event_id": str(event.id)}}
    for method in ("GET", "HEAD"):
        check(method, "/e/{event_id}.ics", 200, **event_id)
    # An image of a newsletter block, as the block editor keeps it in the media folder.
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    app_settings.dashboard.media_dir = str(tmp_path / "media")
    kept = keep_image(_write(tmp_path / "logo.png", png), app_settings.dashboard.media_dir)
    for method in ("GET", "HEAD"):
        check(method, "/media/{name}", 200, path_parameters={"name": kept.name})
    # The logo of a template, as the letters link it.
    logo = {"path_parameters": {"template": "mois-ess", "name": "logo.png"}}
    for method in ("GET", "HEAD"):
        check(method, "/assets/newsletters/{template}/{name}", 200, **logo)

    assert tried == OPERATIONS
