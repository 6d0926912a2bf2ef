"""A real HTTP server on loopback playing the part of a Mastodon instance (the routes we use).

It checks what Mastodon's API documentation says and we depend on: the ``Authorization:
Bearer`` token on every request (401 ``{"error": ...}`` otherwise), a form-encoded status body
with only the parameters ``POST /api/v1/statuses`` declares (``media_ids[]`` repeated), the
500-character limit counted as Mastodon counts (grapheme clusters, a link 23, a remote mention
its local part; 422 beyond), media uploaded to ``POST /api/v2/media`` as multipart ``file`` and
``description`` (answered 202 with ``url: null`` while processing, ``GET /api/v1/media/:id``
answering 206 until done), attachments refused while still processing (422), owned by the
account and unattached, replies to statuses that exist, and the ``Idempotency-Key`` header: the
same key from the same account gives back the status it created.

Tests steer it per route with :meth:`FakeMastodon.on` (a planned answer, or :class:`Slow`), as
the X double does.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex

from tests.social.conftest import Slow, _matches, _multipart

TOKENS = {"tok-mois": "7"}
ACCOUNTS = {"7": {"username": "moisess", "followers": 1234, "statuses": 321}}
# Accounts of other instances that mention or boost ours: acct -> followers.
OTHERS = {"cress_bzh@piaille.fr": 3100, "ess_france@mastodon.social": 9800}
LIMIT = 500
NOTIFICATION_TYPES = {"mention", "status", "reblog", "follow", "follow_request", "favourite",
                      "poll", "update", "admin.sign_up", "admin.report", "quote"}  # fmt: skip
STATUS_FIELDS = {
    "status", "media_ids[]", "in_reply_to_id", "sensitive", "spoiler_text", "visibility",
    "language", "scheduled_at", "poll[options][]", "poll[expires_in]", "poll[multiple]",
    "poll[hide_totals]", "quoted_status_id", "quote_approval_policy",
}  # fmt: skip
MEDIA_FIELDS = {"file", "thumbnail", "description", "focus"}
_URL = re.compile(r"https?://[^\s<>\"]+")
_MENTION = re.compile(r"(?<![=/\w])@(\w+)@[\w.-]+\w")

Answer = tuple[int, dict[str, str], dict[str, Any] | list[Any]]


def instance_length(text: str) -> int:
    """Mastodon's count, written independently of the code under test."""
    text = _URL.sub("x" * 23, text)
    text = _MENTION.sub(lambda match: "@" + match.group(1), text)
    return len(regex.findall(r"\X", text))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    return status, headers or {}, {"error": message}


def rate_limited(reset: datetime) -> Answer:
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    return error(429, "Too many requests", headers)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, Any]


@dataclass
class FakeMastodon:
    url: str = ""
    planned: dict[str, list[Answer | Slow | None]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, key) -> status
    notifications: list[dict[str, Any]] = field(default_factory=list)
    max_characters: int = LIMIT  # the instance's configuration.statuses.max_characters
    processing_polls: int = 0  # GET /api/v1/media/:id answers 206 this many times per upload
    next_id: int = 110000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, route: str, *answers: Answer | Slow | None) -> None:
        self.planned.setdefault(route, []).extend(answers)

    def calls(self, route: str) -> list[Request]:
        method, pattern = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and _matches(pattern, r.path)]

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def created(self) -> list[dict[str, Any]]:
        return sorted(self.statuses.values(), key=lambda status: int(status["id"]))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _html(text: str) -> str:
    """The status as the instance renders it: paragraphs, <br>, links split in spans."""
    import html

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        scheme, rest = url.split("://", 1)
        return (
            f'<a href="{url}" rel="nofollow noopener" target="_blank">'
            f'<span class="invisible">{scheme}://</span><span class="ellipsis">{rest[:30]}</span>'
            f'<span class="invisible">{rest[30:]}</span></a>'
        )

    paragraphs = []
    for paragraph in text.split("\n\n"):
        escaped = html.escape(paragraph, quote=False)
        escaped = _URL.sub(link, escaped)
        escaped = _MENTION.sub(
            lambda m: (
                f'<span class="h-card"><a href="#" class="u-url mention">@<span>'
                f"{m.group(1)}</span></a></span>"
            ),
            escaped,
        )
        paragraphs.append("<p>" + escaped.replace("\n", "<br />") + "</p>")
    return "".join(paragraphs)


def _account(account_id: str) -> dict[str, Any]:
    info = ACCOUNTS[account_id]
    return {
        "id": account_id,
        "username": info["username"],
        "acct": info["username"],
        "display_name": "Le Mois de l'ESS",
        "followers_count": info["followers"],
        "following_count": 10,
        "statuses_count": info["statuses"],
        "created_at": "2022-11-01T00:00:00.000Z",
        "url": f"https://mastodon.example/@{info['username']}",
    }


def _instance(fake: FakeMastodon) -> dict[str, Any]:
    """``GET /api/v2/instance`` (the parts of the Instance entity a client reads)."""
    return {
        "domain": "mastodon.example",
        "title": "Mastodon example",
        "version": "4.3.0",
        "source_url": "https://github.com/mastodon/mastodon",
        "configuration": {
            "urls": {"streaming": "wss://mastodon.example"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": fake.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {"image_size_limit": 16777216},
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
    }


def _media_json(media: dict[str, Any]) -> dict[str, Any]:
    done = media["polls_left"] <= 0
    return {
        "id": media["id"],
        "type": "image",
        "url": f"https://files.example/{media['id']}.jpg" if done else None,
        "preview_url": f"https://files.example/{media['id']}_small.jpg",
        "description": media["description"],
        "blurhash": None,
        "meta": {},
    }


def _handler(fake: FakeMastodon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, answer: Answer) -> None:
            status, headers, body = answer
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            split = urlsplit(self.path)
            path = split.path
            query = parse_qs(split.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                form: dict[str, Any] = _multipart(content_type, raw)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                form = {
                    key: values if key.endswith("[]") else values[0]
                    for key, values in parse_qs(raw.decode(), keep_blank_values=True).items()
                }
            elif raw:
                self._send(error(415, f"unexpected body type {content_type!r}"))
                return
            else:
                form = {}
            with fake.lock:
                fake.requests.append(Request(method, path, query, dict(self.headers), form))
                route = next(
                    (r for r in fake.planned if r.split(" ", 1)[0] == method
                     and _matches(r.split(" ", 1)[1], path)),
                    None,
                )  # fmt: skip
                planned = fake.planned[route].pop(0) if route and fake.planned[route] else None
            auth = self.headers.get("Authorization", "")
            account_id = (
                TOKENS.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
            )
            if isinstance(planned, Slow):
                answer = (
                    self._route(method, path, query, form, account_id) if planned.creates else None
                )
                time.sleep(planned.delay)
                with contextlib.suppress(OSError):  # the client gave up and closed
                    self._send(answer or error(503, "late"))
                return
            if planned is not None:
                self._send(planned)
                return
            if account_id is None:
                self._send(error(401, "The access token is invalid"))
                return
            self._send(self._route(method, path, query, form, account_id))

        def _route(
            self, method: str, path: str, query: dict, form: dict, account_id: str | None
        ) -> Answer:
            assert account_id is not None
            with fake.lock:
                if method == "GET" and path == "/api/v1/accounts/verify_credentials":
                    return 200, {}, _account(account_id)
                if method == "POST" and path == "/api/v2/media":
                    return self._upload(form, account_id)
                if method == "GET" and _matches("/api/v1/media/:id", path):
                    media = fake.media.get(path.rsplit("/", 1)[1])
                    if media is None or media["account"] != account_id:
                        return error(404, "Record not found")
                    media["polls_left"] -= 1
                    return (206 if media["polls_left"] > 0 else 200), {}, _media_json(media)
                if method == "POST" and path == "/api/v1/statuses":
                    return self._create(form, account_id)
                if method == "GET" and _matches("/api/v1/statuses/:id", path):
                    status = fake.statuses.get(path.rsplit("/", 1)[1])
                    return (200, {}, status) if status else error(404, "Record not found")
                if method == "GET" and _matches("/api/v1/accounts/:id/statuses", path):
                    return self._timeline(path.split("/")[4], query)
                if method == "GET" and path == "/api/v1/notifications":
                    return self._notifications(query)
                if method == "GET" and path.rstrip("/") == "/api/v2/instance":  # Rails: either
                    return 200, {}, _instance(fake)
            return error(404, f"no route {method} {path}")

        def _upload(self, form: dict, account_id: str) -> Answer:
            unknown = set(form) - MEDIA_FIELDS
            if unknown or not isinstance(form.get("file"), bytes):
                return error(422, f"Validation failed: file is required; unknown {sorted(unknown)}")
            description = form.get("description", "")
            if len(description) > 1500:
                return error(422, "Validation failed: Description is too long")
            media_id = fake.new_id()
            fake.media[media_id] = {
                "id": media_id,
                "account": account_id,
                "description": description,
                "bytes": form["file"],
                "polls_left": fake.processing_polls,
                "attached": False,
            }
            status = 202 if fake.processing_polls > 0 else 200
            return status, {}, _media_json(fake.media[media_id])

        def _create(self, form: dict, account_id: str) -> Answer:
            unknown = set(form) - STATUS_FIELDS
            if unknown:
                return error(422, f"unpermitted parameters {sorted(unknown)}")
            key = self.headers.get("Idempotency-Key")
            if key and (account_id, key) in fake.keys:
                return 200, {}, fake.statuses[fake.keys[(account_id, key)]]
            text = form.get("status", "")
            media_ids = form.get("media_ids[]", [])
            if not text and not media_ids:
                return error(422, "Validation failed: Text can't be blank")
            if instance_length(text) > fake.max_characters:
                limit = fake.max_characters
                return error(422, f"Validation failed: Text character limit of {limit} exceeded")
            if form.get("visibility", "public") not in ("public", "unlisted", "private", "direct"):
                return error(422, "Validation failed: Visibility is not included in the list")
            if len(media_ids) > 4:
                return error(422, "Validation failed: Cannot attach more than 4 files")
            for media_id in media_ids:
                media = fake.media.get(media_id)
                if media is None or media["account"] != account_id or media["attached"]:
                    return error(422, "Validation failed: Media is invalid")
                if media["polls_left"] > 0:
                    return error(
                        422,
                        "Cannot attach files that have not finished processing. "
                        "Try again in a moment!",
                    )
            parent = form.get("in_reply_to_id")
            if parent and parent not in fake.statuses:
                return error(404, "Record not found")
            for media_id in media_ids:
                fake.media[media_id]["attached"] = True
            status_id = fake.new_id()
            fake.statuses[status_id] = {
                "id": status_id,
                "created_at": _iso(datetime.now(UTC)),
                "in_reply_to_id": parent or None,
                "in_reply_to_account_id": account_id if parent else None,
                "visibility": form.get("visibility", "public"),
                "content": _html(text),
                "text_sent": text,
                "media_attachments": [_media_json(fake.media[m]) for m in media_ids],
                "account": _account(account_id),
                "favourites_count": 9,
                "reblogs_count": 4,
                "replies_count": 2,
                "url": f"https://mastodon.example/@moisess/{status_id}",
            }
            if key:
                fake.keys[(account_id, key)] = status_id
            return 200, {}, fake.statuses[status_id]

        def _timeline(self, account_id: str, query: dict) -> Answer:
            statuses = [s for s in fake.statuses.values() if s["account"]["id"] == account_id]
            statuses.sort(key=lambda status: int(status["id"]), reverse=True)
            if "max_id" in query:
                statuses = [s for s in statuses if int(s["id"]) < int(query["max_id"][0])]
            limit = int(query.get("limit", ["20"])[0])
            return 200, {}, statuses[:limit]

        def _notifications(self, query: dict) -> Answer:
            types = set(query.get("types[]", NOTIFICATION_TYPES))
            if not types <= NOTIFICATION_TYPES:
                return error(422, f"unexpected types {sorted(types - NOTIFICATION_TYPES)}")
            items = sorted(fake.notifications, key=lambda n: int(n["id"]), reverse=True)
            items = [n for n in items if n["type"] in types]
            if "since_id" in query:
                items = [n for n in items if int(n["id"]) > int(query["since_id"][0])]
            if "max_id" in query:
                items = [n for n in items if int(n["id"]) < int(query["max_id"][0])]
            limit = int(query.get("limit", ["40"])[0])
            return 200, {}, items[:limit]

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def serve() -> Iterator[FakeMastodon]:
    fake = FakeMastodon()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def _other(acct: str) -> dict[str, Any]:
    username = acct.split("@", 1)[0]
    return {**_account("7"), "id": str(abs(hash(acct)) % 10**6), "username": username,
            "acct": acct, "followers_count": OTHERS[acct],
            "url": f"https://{acct.split('@', 1)[1]}/@{username}"}  # fmt: skip


def mention(
    notification_id: str, *, hours_ago: float = 1, by: str | None = None, kind: str = "mention"
) -> dict[str, Any]:
    """A notification of ``kind`` (``mention``, ``reblog``) made by ``by`` (an acct of
    OTHERS; by default the account itself)."""
    return {
        "id": notification_id,
        "type": kind,
        "created_at": _iso(datetime.now(UTC) - timedelta(hours=hours_ago)),
        "account": _other(by) if by else _account("7"),
    }
