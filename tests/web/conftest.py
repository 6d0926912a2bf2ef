"""The web service for real: uvicorn on loopback in a thread, against the test database
(SQLite and PostgreSQL), and a newsletter really sent through the outbox to give the links."""

from __future__ import annotations

import email
import email.policy
import mailbox
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from campaign.config import Settings
from campaign.mail import OutboxTransport
from campaign.models import (
    ConsentEvent,
    Delivery,
    Event,
    Hit,
    Link,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
)
from campaign.newsletters import queue
from campaign.tracking.tokens import Signer
from campaign.web.app import create_app
from campaign.web.server import uvicorn_config
from campaign.web.service import WebService
from tests.ports import free_port

KEY = "test-secret-key-" + "x" * 32  # tests/conftest.py's TEST_SECRET_KEY
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
EVENT_URL = "https://lemois-ess.org/evenements/1"
MORE_URL = "https://lemois-ess.org/evenements"


@dataclass
class Live:
    """A running server and what the tests need around it."""

    url: str
    engine: Engine
    settings: Settings
    signer: Signer
    app: Any
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def web(self) -> WebService:
        return self.app.state.web

    def get(self, path: str, **options: Any) -> requests.Response:
        options.setdefault("headers", {"User-Agent": BROWSER})
        return self.http.get(self.url + path, allow_redirects=False, timeout=10, **options)

    def post(self, path: str, **options: Any) -> requests.Response:
        options.setdefault("headers", {"User-Agent": BROWSER})
        return self.http.post(self.url + path, allow_redirects=False, timeout=10, **options)

    def head(self, path: str, **options: Any) -> requests.Response:
        options.setdefault("headers", {"User-Agent": BROWSER})
        return self.http.head(self.url + path, allow_redirects=False, timeout=10, **options)

    def click_path(self, delivery_id: int, link_id: int) -> str:
        """The tracked-click path of a delivery and link, signed as sending signs it."""
        with Session(self.engine) as session:
            link = session.get(Link, link_id)
            assert link is not None
            return f"/c/{self.signer.sign('click', delivery_id, link_id, link.newsletter_id)}"

    def flush(self) -> None:
        """Write every hit recorded so far (held clicks included)."""
        assert self.web.recorder.flush(timeout=30)

    def hits(self, **where: Any) -> list[Hit]:
        self.flush()
        with Session(self.engine) as session:
            statement = select(Hit).order_by(col(Hit.id))
            for key, value in where.items():
                statement = statement.where(getattr(Hit, key) == value)
            return list(session.exec(statement).all())

    def count(self, model: Any) -> int:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(model)).one()


def settings_for(port: int, tmp_path: Path, database_url: str = "") -> Settings:
    settings = Settings()
    settings.web.public_url = f"http://127.0.0.1:{port}"
    settings.mail.outbox_dir = str(tmp_path / "outbox")
    settings.tracking.flush_seconds = 0.05
    settings.tracking.burst_seconds = 5.0
    if database_url:
        settings.database.url = database_url
    return settings


def start_server(
    engine: Engine, settings: Settings, port: int
) -> tuple[Any, uvicorn.Server, threading.Thread]:
    app = create_app(settings, engine=engine, signer=Signer([KEY]))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return app, server, thread


@pytest.fixture
def make_live(engine: Engine, tmp_path: Path, secret_key: str) -> Iterator[Callable[..., Live]]:
    """Start a server; ``configure(settings)`` may change its settings first."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(configure: Callable[[Settings], None] | None = None) -> Live:
        port = free_port()
        settings = settings_for(port, tmp_path)
        if configure is not None:
            configure(settings)
        app, server, thread = start_server(engine, settings, port)
        running.append((server, thread))
        return Live(f"http://127.0.0.1:{port}", engine, settings, Signer([KEY]), app)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(20)


@pytest.fixture
def live(make_live: Callable[..., Live]) -> Live:
    return make_live()


# --- a newsletter sent for real --------------------------------------------------------------


@dataclass
class Sent:
    newsletter_id: int
    deliveries: dict[str, int]  # first name -> delivery id
    links: dict[str, int]  # url -> link id
    outbox: Path

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(bytes(message), policy=email.policy.default)  # type: ignore[misc]
            for message in mailbox.Maildir(self.outbox, create=False)
        ]

    def html(self, to: str) -> str:
        """The HTML part of the message sent to ``to``."""
        message = next(m for m in self.messages() if m["To"].addresses[0].addr_spec == to)
        body = message.get_body(("html",))
        assert body is not None
        return body.get_content()


def send_newsletter(
    engine: Engine,
    settings: Settings,
    people: dict[str, str] | None = None,
    *,
    event_title: str = "Forum de l'ESS à Rennes",
    title: str = "Le Mois de l'ESS",
    anonymous: bool = False,
    sent_ago: timedelta | None = timedelta(hours=1),
) -> Sent:
    """A newsletter with one event sent to ``people`` (first name -> address) via the outbox.

    ``sent_ago`` moves the deliveries' send time back, so hits are not "too soon" after it.
    """
    people = people or {"Anne": "anne@example.org", "Paul": "paul@example.org"}
    with Session(engine, expire_on_commit=False) as session:
        mailing_list = MailingList(name=f"Lettre {time.monotonic_ns()}")
        session.add(mailing_list)
        session.flush()
        for first_name, email in people.items():
            subscriber = Subscriber(email=email, first_name=first_name, region="Bretagne")
            session.add(subscriber)
            session.flush()
            session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
        source = f"ev-{time.monotonic_ns()}"
        # A week ahead: a newsletter never features an event already over when it is sent.
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
        session.add(
            Event(
                source_id=source,
                title=event_title,
                starts_at=starts,
                region="Bretagne",
                url=EVENT_URL,
            )
        )
        newsletter = Newsletter(
            title=title,
            subject="Vos évènements",
            template="mois-ess",
            list_ids=[mailing_list.id],
            event_rule={
                "from": (starts - timedelta(days=3)).date().isoformat(),
                "to": (starts + timedelta(days=3)).date().isoformat(),
            },
            content={"more_url": MORE_URL},
            anonymous_tracking=anonymous,
        )
        session.add(newsletter)
        session.commit()
        assert newsletter.id is not None
        queue.snapshot(session, newsletter)
        session.commit()
        newsletter_id = newsletter.id
    outbox = Path(settings.mail.outbox_dir).parent / f"sent-{newsletter_id}"
    transport = OutboxTransport(outbox)
    try:
        summary = queue.send_newsletter(engine, newsletter_id, settings, transport)
    finally:
        transport.close()
    assert summary.sent == len(people), summary
    with Session(engine) as session:
        if sent_ago is not None:
            session.exec(
                update(Delivery)
                .where(col(Delivery.newsletter_id) == newsletter_id)
                .values(sent_at=datetime.now(UTC) - sent_ago)
            )
            session.exec(
                update(Newsletter)
                .where(col(Newsletter.id) == newsletter_id)
                .values(sent_at=datetime.now(UTC) - sent_ago - timedelta(minutes=1))
            )
            session.commit()
        rows = session.exec(
            select(Delivery.id, Subscriber.first_name)
            .join(Subscriber, col(Subscriber.id) == col(Delivery.subscriber_id))
            .where(Delivery.newsletter_id == newsletter_id)
        ).all()
        links = session.exec(select(Link.url, Link.id).where(Link.newsletter_id == newsletter_id))
        return Sent(
            newsletter_id,
            {name: delivery_id for delivery_id, name in rows},
            {url: link_id for url, link_id in links},
            outbox,
        )


def consent_lines(engine: Engine, subscriber_email: str) -> list[ConsentEvent]:
    with Session(engine) as session:
        subscriber = session.exec(
            select(Subscriber).where(Subscriber.email == subscriber_email)
        ).one()
        return list(
            session.exec(
                select(ConsentEvent)
                .where(ConsentEvent.subscriber_id == subscriber.id)
                .order_by(col(ConsentEvent.id))
            ).all()
        )


def subscriber(engine: Engine, email: str) -> Subscriber:
    with Session(engine) as session:
        return session.exec(select(Subscriber).where(Subscriber.email == email)).one()


@dataclass
class Kit:
    """Helpers for the test modules (with importlib imports, they cannot import this file)."""

    engine: Engine
    browser: str = BROWSER
    event_url: str = EVENT_URL
    more_url: str = MORE_URL

    def send(
        self, live: Live | Settings, people: dict[str, str] | None = None, **options: Any
    ) -> Sent:
        settings = live if isinstance(live, Settings) else live.settings
        return send_newsletter(self.engine, settings, people, **options)

    def consent(self, email: str) -> list[ConsentEvent]:
        return consent_lines(self.engine, email)

    def subscriber(self, email: str) -> Subscriber:
        return subscriber(self.engine, email)


@pytest.fixture
def kit(engine: Engine) -> Kit:
    return Kit(engine)
