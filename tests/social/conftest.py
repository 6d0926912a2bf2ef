"""A real HTTP server on loopback playing the part of the X API v2 (the few routes we use)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from campaign.config import Settings

CREDENTIALS = {
    "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY": "ck-mois",
    "CAMPAIGN_X_MOIS_ESS_CONSUMER_SECRET": "cs-mois",
    "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN": "at-mois",
    "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN_SECRET": "ats-mois",
}

Answer = tuple[int, dict[str, str], dict[str, Any]]


def server_error() -> Answer:
    return 500, {}, {"title": "Internal Server Error", "status": 500}


def duplicate() -> Answer:
    detail = "You are not allowed to create a Tweet with duplicate content."
    return 403, {}, {"detail": detail, "title": "Forbidden", "status": 403, "type": "about:blank"}


def rate_limited(reset: int) -> Answer:
    headers = {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}
    return 429, headers, {"title": "Too Many Requests", "status": 429}


@dataclass
class FakeX:
    """What the fake API received, and what it should answer next (``None``: answer normally)."""

    url: str = ""
    plan: list[Answer | None] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tweets(self) -> list[dict[str, Any]]:
        return [body for method, path, _, body in self.requests if path == "/2/tweets" and body]


def _handler(fake: FakeX) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = urlsplit(self.path).path
            with fake.lock:
                fake.requests.append((method, path, dict(self.headers), body))
                planned = fake.plan.pop(0) if fake.plan else None
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("OAuth ") or "oauth_consumer_key=" not in auth:
                self._answer(401, {}, {"title": "Unauthorized", "status": 401})
            elif planned is not None:
                self._answer(*planned)
            elif method == "POST" and path == "/2/tweets":
                with fake.lock:
                    fake.next_id += 1
                    tweet = {"id": str(fake.next_id), "text": body["text"]}
                    fake.created.append({**body, "id": tweet["id"]})
                self._answer(201, {}, {"data": tweet})
            elif method == "GET" and path == "/2/users/me":
                user = {
                    "id": "42",
                    "name": "Le Mois de l'ESS",
                    "username": "Mois_ESS",
                    "public_metrics": {"followers_count": 1234, "tweet_count": 567},
                }
                self._answer(200, {}, {"data": user})
            elif method == "GET" and path == "/2/tweets":
                ids = parse_qs(urlsplit(self.path).query)["ids"][0].split(",")
                metrics = {"like_count": 3, "retweet_count": 2, "reply_count": 1, "quote_count": 0}
                data = [
                    {
                        "id": tweet_id,
                        "text": "…",
                        "edit_history_tweet_ids": [tweet_id],
                        "public_metrics": metrics,
                        "non_public_metrics": {"impression_count": 99},
                    }
                    for tweet_id in ids
                ]
                self._answer(200, {}, {"data": data})
            else:
                self._answer(404, {}, {"title": "Not Found", "status": 404})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def x_settings(fake_x: FakeX, workdir, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at the fake API, with credentials for @Mois_ESS only."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    settings.social.x.api_base_url = fake_x.url
    return settings
