"""The dashboard served for real: uvicorn on loopback, the sub-application mounted at /admin in
a small FastAPI app as the web service mounts it, users of each role, signed-in HTTP clients."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from campaign.config import Settings
from campaign.dashboard.app import create_dashboard
from campaign.db import open_database
from campaign.users.members import add_user, find_user
from campaign.web.server import uvicorn_config
from tests.ports import free_port

PASSWORD = "un mot de passe solide"
ROLES = ("admin", "editor", "viewer")


@dataclass
class Served:
    url: str  # the dashboard's base URL, ending in /admin
    settings: Settings
    engine: object
    app: FastAPI  # the dashboard sub-application (its routes are enumerated by the tests)

    def user(self, role: str) -> str:
        return f"{role}@example.org"

    def client(self, role: str | None = None) -> requests.Session:
        """A browser-like HTTP client, signed in as the user of ``role`` (None: not signed in)."""
        client = requests.Session()
        if role is not None:
            answer = sign_in(client, self.url, self.user(role), PASSWORD)
            assert answer.status_code == 200 and answer.url.rstrip("/").endswith("/admin"), (
                answer.status_code,
                answer.url,
            )
        return client


def login_csrf(client: requests.Session, base: str) -> str:
    page = client.get(f"{base}/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def sign_in(client: requests.Session, base: str, email: str, password: str, **extra: str):
    token = login_csrf(client, base)
    return client.post(
        f"{base}/login", data={"email": email, "password": password, "csrf": token, **extra}
    )


def page_csrf(client: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def make_settings(
    database_url: str,
    folder: Path,
    public_url: str,
    mail: dict[str, object] | None = None,
    web: dict[str, object] | None = None,
    **dashboard: object,
) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": database_url},
            "mail": {"outbox_dir": str(folder / "outbox"), **(mail or {})},
            "web": {"public_url": public_url, **(web or {})},
            "dashboard": {
                "media_dir": str(folder / "media"),
                "import_dir": str(folder / "imports"),
                **dashboard,
            },
        }
    )


@pytest.fixture
def serve(database_url: str, tmp_path: Path, secret_key: str, monkeypatch: pytest.MonkeyPatch):
    """``serve(public_url=…, mail={…}, web={…}, **dashboard_settings)`` starts the dashboard on
    loopback and returns it (``mail``, ``web``: ``[mail]``, ``[web]`` settings over the test's
    own)."""
    for name in (
        "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY",
        "CAMPAIGN_X_PRIX_ESS_CONSUMER_KEY",
        "CAMPAIGN_SMTP_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    servers: list[uvicorn.Server] = []
    threads: list[threading.Thread] = []
    engines = []

    def start(
        public_url: str | None = None,
        mail: dict[str, object] | None = None,
        web: dict[str, object] | None = None,
        **dashboard: object,
    ) -> Served:
        port = free_port()
        settings = make_settings(
            database_url,
            tmp_path,
            public_url or f"http://127.0.0.1:{port}",
            mail,
            web,
            **dashboard,
        )
        engine = open_database(database_url)
        engines.append(engine)
        with Session(engine) as session:
            for role in ROLES:
                if find_user(session, f"{role}@example.org") is None:
                    add_user(session, f"{role}@example.org", role=role, password=PASSWORD)
            session.commit()
        dashboard_app = create_dashboard(settings, engine)
        root = FastAPI()
        root.mount("/admin", dashboard_app)
        # The service's own uvicorn settings: X-Forwarded-For is read by the app, not uvicorn.
        server = uvicorn.Server(
            uvicorn_config(root, "127.0.0.1", port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.02)
        servers.append(server)
        threads.append(thread)
        return Served(f"http://127.0.0.1:{port}/admin", settings, engine, dashboard_app)

    yield start
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(timeout=10)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def served(serve) -> Served:
    return serve()


@pytest.fixture
def session_of(served: Served) -> Iterator[Session]:
    with Session(served.engine, expire_on_commit=False) as db_session:  # type: ignore[arg-type]
        yield db_session
