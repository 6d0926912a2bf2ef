"""A real HTTP server on loopback playing the part of LinkedIn's REST API for one page.

It checks what the Posts and Images APIs require and we depend on: the bearer token on every
request (401 ``REVOKED_ACCESS_TOKEN`` otherwise), ``LinkedIn-Version`` as YYYYMM and
``X-Restli-Protocol-Version: 2.0.0`` on every API call, the routes (``/rest/posts``,
``/rest/images?action=initializeUpload``, the upload URL it hands out, ``/rest/posts?q=author``,
``/rest/organizations/ID``), and the post's body: exactly the fields of an organic post, the
organization as author, a commentary of at most 3,000 characters, ``PUBLISHED``, ``MAIN_FEED``,
and images whose URNs were initialized for that organization and uploaded (alt text at most 4,086
characters). Errors are shaped as LinkedIn's ``{"status", "serviceErrorCode", "code",
"message"}``; a created post's URN is in ``x-restli-id``. A token without the page's permission
gets 403, as LinkedIn answers when ``w_organization_social`` is missing.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.social.conftest import Slow

ORG_ID = "2414183"
AUTHOR = f"urn:li:organization:{ORG_ID}"
VANITY = "mois-ess"
TOKEN = "AQV-linkedin-token-of-the-page-admin"
READ_ONLY_TOKEN = "AQV-token-without-w_organization_social"
POST_FIELDS = {"author", "commentary", "visibility", "distribution", "lifecycleState",
               "isReshareDisabledByAuthor", "content"}  # fmt: skip
REQUIRED = {"author", "commentary", "visibility", "distribution", "lifecycleState"}

Answer = tuple[int, dict[str, str], Any]


def li_error(status: int, message: str, code: str = "", headers: dict | None = None) -> Answer:
    body = {"status": status, "serviceErrorCode": 100 + status, "message": message}
    if code:
        body["code"] = code
    return status, headers or {}, body


def rate_limited(retry_after: int = 3600) -> Answer:
    return li_error(429, "Resource level throttle APPLICATION DAY limit for calls to this "
                    "resource is reached.", "TOO_MANY_REQUESTS",
                    {"Retry-After": str(retry_after)})  # fmt: skip


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeLinkedIn:
    url: str = ""
    planned: dict[str, list[Answer | Slow | None]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)  # oldest first, with id, createdAt
    images: dict[str, bool] = field(default_factory=dict)  # image urn -> uploaded
    tokens: dict[str, str] = field(
        default_factory=lambda: {TOKEN: "write", READ_ONLY_TOKEN: "read"}
    )
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, route: str, *answers: Answer | Slow | None) -> None:
        """Answer the next requests on ``route`` ("POST /rest/posts") with these (None: as
        usual)."""
        self.planned.setdefault(route, []).extend(answers)

    def calls(self, route: str) -> list[Request]:
        method, path = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and r.path == path]

    def next(self) -> int:
        self.counter += 1
        return 7_000_000_000_000_000_000 + self.counter


def _check_post(fake: FakeLinkedIn, body: Any) -> str | None:
    """What LinkedIn refuses in a post's body (None when it takes it)."""
    if not isinstance(body, dict):
        return "Request body could not be converted to data map"
    unknown = set(body) - POST_FIELDS
    if unknown:
        return f"ERROR :: /{sorted(unknown)[0]} :: unrecognized field found but not allowed"
    missing = REQUIRED - set(body)
    if missing:
        return f"ERROR :: /{sorted(missing)[0]} :: field is required but not found"
    if body["author"] != AUTHOR:
        return f"ERROR :: /author :: {body['author']} is not the page of this token"
    if not isinstance(body["commentary"], str) or len(body["commentary"]) > 3000 + 400:
        return "ERROR :: /commentary :: text is too long"  # escapes add to the raw length
    if len(re.sub(r"\\(.)", r"\1", body["commentary"])) > 3000:
        return "ERROR :: /commentary :: length exceeds 3000 characters"
    if body["visibility"] != "PUBLIC" or body["lifecycleState"] != "PUBLISHED":
        return "ERROR :: /lifecycleState :: an organic post is PUBLIC and PUBLISHED"
    distribution = body["distribution"]
    if distribution != {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                        "thirdPartyDistributionChannels": []}:  # fmt: skip
        return "ERROR :: /distribution :: unexpected distribution"
    content = body.get("content")
    if content is not None:
        if set(content) == {"media"}:
            images = [content["media"]]
        elif set(content) == {"multiImage"} and set(content["multiImage"]) == {"images"}:
            images = content["multiImage"]["images"]
            if not 2 <= len(images) <= 20:
                return "ERROR :: /content/multiImage/images :: between 2 and 20 images"
        else:
            return "ERROR :: /content :: unsupported content"
        for image in images:
            if set(image) - {"id", "altText", "title"} or "id" not in image:
                return "ERROR :: /content/media :: unexpected fields"
            if not fake.images.get(image["id"]):
                return f"ERROR :: /content/media/id :: {image['id']} was not uploaded"
            if len(image.get("altText", "")) > 4086:
                return "ERROR :: /content/media/altText :: too long"
    return None


def _handler(fake: FakeLinkedIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, answer: Answer) -> None:
            status, headers, body = answer
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if raw:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = raw
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw)
            route = f"{method} {split.path}"
            with fake.lock:
                fake.requests.append(Request(method, split.path, query, dict(self.headers), body))
                queue = fake.planned.get(route) or []
                planned = queue.pop(0) if queue else None
            if isinstance(planned, Slow):
                answer = self._route(method, split.path, query, body) if planned.creates else None
                time.sleep(planned.delay)
                with contextlib.suppress(OSError):  # the client gave up and closed
                    self._send(answer or li_error(504, "Gateway Timeout"))
                return
            self._send(planned or self._route(method, split.path, query, body))

        def _refused(self, upload: bool) -> Answer | None:
            token = self.headers.get("Authorization", "")
            if not token.startswith("Bearer ") or token[7:] not in fake.tokens:
                return li_error(401, "The token used in the request has been revoked by the "
                                "user", "REVOKED_ACCESS_TOKEN")  # fmt: skip
            if upload:
                return None
            version = self.headers.get("LinkedIn-Version", "")
            if not re.fullmatch(r"20\d\d(0[1-9]|1[0-2])", version):
                return li_error(400, f"Invalid LinkedIn-Version header: {version!r}",
                                "VERSION_MISSING")  # fmt: skip
            if self.headers.get("X-Restli-Protocol-Version") != "2.0.0":
                return li_error(400, "X-Restli-Protocol-Version must be 2.0.0")
            return None

        def _write_allowed(self) -> bool:
            token = self.headers.get("Authorization", "")[7:]
            return fake.tokens.get(token) == "write"

        def _route(self, method: str, path: str, query: dict, body: Any) -> Answer:
            with fake.lock:
                refused = self._refused(upload=path.startswith("/upload/"))
                if refused:
                    return refused
                if path == "/rest/images" and method == "POST":
                    if query.get("action") != ["initializeUpload"]:
                        return li_error(400, "action=initializeUpload expected in the query")
                    owner = (body.get("initializeUploadRequest") or {}).get("owner")
                    if owner != AUTHOR:
                        return li_error(403, f"Not enough permissions to act as {owner}")
                    if not self._write_allowed():
                        return li_error(403, "Not enough permissions to access: "
                                        "images.CREATE", "ACCESS_DENIED")  # fmt: skip
                    urn = f"urn:li:image:D4E{fake.next()}"
                    fake.images[urn] = False
                    upload = f"{fake.url}/upload/{urn}"
                    return 200, {}, {"value": {"uploadUrl": upload, "image": urn,
                                               "uploadUrlExpiresAt": 1767225600000}}  # fmt: skip
                if path.startswith("/upload/") and method == "PUT":
                    urn = path.removeprefix("/upload/")
                    if urn not in fake.images:
                        return li_error(404, "unknown upload")
                    if not isinstance(body, bytes) or not body:
                        return li_error(400, "empty upload")
                    if len(body) > 5_000_000:
                        return li_error(413, "Request Entity Too Large")
                    fake.images[urn] = True
                    return 201, {}, None
                if path == "/rest/posts" and method == "POST":
                    if not self._write_allowed():
                        return li_error(403, "Not enough permissions to access: "
                                        "partnerApiPostsExternal.CREATE.20260501",
                                        "ACCESS_DENIED")  # fmt: skip
                    problem = _check_post(fake, body)
                    if problem:
                        return li_error(422, problem)
                    urn = f"urn:li:share:{fake.next()}"
                    fake.posts.append({**body, "id": urn, "createdAt": int(time.time() * 1000)})
                    return 201, {"x-restli-id": urn}, None
                if path == "/rest/posts" and method == "GET":
                    if query.get("q") != ["author"] or query.get("author") != [AUTHOR]:
                        return li_error(400, "finder q=author with author= expected")
                    if self.headers.get("X-RestLi-Method") != "FINDER":
                        return li_error(400, "X-RestLi-Method: FINDER expected")
                    count = int(query.get("count", ["10"])[0])
                    newest = list(reversed(fake.posts))[:count]
                    return 200, {}, {"elements": newest, "paging": {"count": count, "start": 0}}
                if path == f"/rest/organizations/{ORG_ID}" and method == "GET":
                    return 200, {}, {"id": int(ORG_ID), "localizedName": "Mois de l'ESS",
                                     "vanityName": VANITY}  # fmt: skip
            return li_error(404, f"No resource found for {method} {path}")

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def serve() -> Iterator[FakeLinkedIn]:
    fake = FakeLinkedIn()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()
