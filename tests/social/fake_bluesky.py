"""A real HTTP server on loopback playing the part of a Bluesky server (PDS) over XRPC.

It checks what the AT Protocol and the ``app.bsky`` lexicons require and we depend on: a session
opened with the handle and the app password (``createSession``), the access token on every call
(``ExpiredToken`` once expired, a new pair from ``refreshSession`` with the refresh token only),
``createRecord`` bodies with only the declared fields, ``app.bsky.feed.post`` records checked
against the lexicon (300 graphemes, 3,000 bytes, ``createdAt`` a datetime, ``langs``), facets whose
**byte** offsets cut exactly the link, ``#tag`` or ``@handle`` they name in the UTF-8 text (a
mention's DID the handle's), replies whose ``root`` and ``parent`` strong references exist and
agree, image embeds (four at most, alt text present, blobs uploaded by the same account, 1 MB
each) and link cards (``app.bsky.embed.external``: uri, title, description, an optional thumb
blob of this account). Errors are shaped as XRPC's ``{"error", "message"}``; 429 carries
``ratelimit-*``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex

from tests.social.conftest import Slow

HANDLE = "moisess.bsky.social"
DID = "did:plc:moisess2026"
PASSWORD = "abcd-efgh-ijkl-mnop"
HANDLES = {HANDLE: DID, "cress-idf.bsky.social": "did:plc:cressidf"}
# Other accounts (authors of notifications): did -> (handle, followersCount).
PROFILES = {"did:plc:cressidf": ("cress-idf.bsky.social", 1500),
            "did:plc:essfrance": ("essfrance.bsky.social", 22000)}  # fmt: skip
REASONS = {"like", "repost", "follow", "mention", "reply", "quote", "starterpack-joined",
           "verified", "unverified", "like-via-repost", "repost-via-repost",
           "subscribed-post"}  # fmt: skip
POST_FIELDS = {"$type", "text", "entities", "facets", "reply", "embed", "langs", "labels", "tags",
               "createdAt"}  # fmt: skip
CREATE_FIELDS = {"repo", "collection", "rkey", "validate", "record", "swapCommit"}
FEATURES = {"app.bsky.richtext.facet#link", "app.bsky.richtext.facet#mention",
            "app.bsky.richtext.facet#tag"}  # fmt: skip

Answer = tuple[int, dict[str, str], dict[str, Any]]


def xrpc_error(status: int, code: str, message: str, headers: dict | None = None) -> Answer:
    return status, headers or {}, {"error": code, "message": message}


def rate_limited(reset: int) -> Answer:
    headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0",
               "ratelimit-reset": str(reset), "ratelimit-policy": "5000;w=3600"}  # fmt: skip
    return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)


def cid_of(data: Any) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:46]


@dataclass
class Request:
    method: str
    nsid: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeBluesky:
    url: str = ""
    planned: dict[str, list[Answer | Slow | None]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # uri -> {uri, cid, value}
    blobs: dict[str, str] = field(default_factory=dict)  # cid -> uploader did
    access: dict[str, bool] = field(default_factory=dict)  # token -> still valid
    refresh: set[str] = field(default_factory=set)
    notifications: list[dict[str, Any]] = field(default_factory=list)  # newest first
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, nsid: str, *answers: Answer | Slow | None) -> None:
        self.planned.setdefault(nsid, []).extend(answers)

    def calls(self, nsid: str) -> list[Request]:
        return [r for r in self.requests if r.nsid == nsid]

    def posts(self) -> list[dict[str, Any]]:
        return [r["value"] for r in self.records.values()]

    def expire_sessions(self) -> None:
        for token in self.access:
            self.access[token] = False

    def next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:06d}"


def _graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def _check_post(fake: FakeBluesky, record: Any) -> str | None:
    """What the lexicon refuses in ``record`` (None when valid)."""
    if not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post":
        return "Record/$type must be app.bsky.feed.post"
    unknown = set(record) - POST_FIELDS
    if unknown:
        return f"Record has unknown fields {sorted(unknown)}"
    text = record.get("text")
    if not isinstance(text, str):
        return 'Record must have the property "text"'
    if _graphemes(text) > 300 or len(text.encode()) > 3000:
        return "Record/text must not be longer than 300 graphemes"
    try:
        created = datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
        assert created.tzinfo is not None
    except (KeyError, ValueError, AssertionError, AttributeError):
        return "Record/createdAt must be an valid atproto datetime"
    langs = record.get("langs", [])
    if not isinstance(langs, list) or len(langs) > 3:
        return "Record/langs must not have more than 3 elements"
    data = text.encode("utf-8")
    for number, facet in enumerate(record.get("facets", [])):
        index = facet.get("index", {})
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            return f"Record/facets/{number}/index is out of the text"
        try:
            cut = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            return f"Record/facets/{number}/index cuts a character in two"
        for feature in facet.get("features", []):
            kind = feature.get("$type")
            if kind not in FEATURES:
                return f"Record/facets/{number}/features has an unknown $type {kind}"
            if kind.endswith("#link") and cut != feature.get("uri"):
                return f"facet {number}: link {feature.get('uri')!r} over {cut!r}"
            if kind.endswith("#tag") and cut.lstrip("#＃") != feature.get("tag"):
                return f"facet {number}: tag {feature.get('tag')!r} over {cut!r}"
            if kind.endswith("#mention") and HANDLES.get(cut.lstrip("@").lower()) != feature.get(
                "did"
            ):
                return f"facet {number}: mention {feature.get('did')!r} over {cut!r}"
    reply = record.get("reply")
    if reply is not None:
        root, parent = reply.get("root", {}), reply.get("parent", {})
        for name, ref in (("root", root), ("parent", parent)):
            stored = fake.records.get(ref.get("uri", ""))
            if stored is None or stored["cid"] != ref.get("cid"):
                return f"Record/reply/{name} is not a strong reference to an existing record"
        parent_root = (fake.records[parent["uri"]]["value"].get("reply") or {}).get("root")
        if (parent_root or {"uri": parent["uri"]})["uri"] != root["uri"]:
            return "Record/reply/root is not the root of the parent's thread"
    embed = record.get("embed")
    if embed is not None and embed.get("$type") == "app.bsky.embed.external":
        return _check_external(fake, embed)
    if embed is not None:
        if embed.get("$type") != "app.bsky.embed.images":
            return "Record/embed has an unexpected $type"
        images = embed.get("images", [])
        if not 1 <= len(images) <= 4:
            return "Record/embed/images must have 1 to 4 elements"
        for number, image in enumerate(images):
            if not isinstance(image.get("alt"), str):
                return f'Record/embed/images/{number} must have the property "alt"'
            blob = image.get("image") or {}
            link = (blob.get("ref") or {}).get("$link")
            if blob.get("$type") != "blob" or fake.blobs.get(link) != DID:
                return f"Record/embed/images/{number}/image is not a blob of this repository"
    return None


def _check_external(fake: FakeBluesky, embed: dict[str, Any]) -> str | None:
    """``app.bsky.embed.external``: ``external`` holds ``uri`` (a URI), ``title`` and
    ``description`` (strings, required, may be empty) and an optional ``thumb`` blob (an image
    of at most 1,000,000 bytes uploaded by this account); nothing else."""
    if set(embed) - {"$type", "external"}:
        return f"Record/embed has unknown fields {sorted(set(embed) - {'$type', 'external'})}"
    external = embed.get("external")
    if not isinstance(external, dict):
        return 'Record/embed must have the property "external"'
    unknown = set(external) - {"uri", "title", "description", "thumb"}
    if unknown:
        return f"Record/embed/external has unknown fields {sorted(unknown)}"
    for name in ("uri", "title", "description"):
        if not isinstance(external.get(name), str):
            return f'Record/embed/external must have the property "{name}"'
    split = urlsplit(external["uri"])
    if not split.scheme or not (split.netloc or split.path):
        return "Record/embed/external/uri must be a valid uri"
    thumb = external.get("thumb")
    if thumb is not None:
        link = ((thumb.get("ref") or {}) if isinstance(thumb, dict) else {}).get("$link")
        if not isinstance(thumb, dict) or thumb.get("$type") != "blob" or link not in fake.blobs:
            return "Record/embed/external/thumb is not a blob of this repository"
        if not str(thumb.get("mimeType", "")).startswith("image/"):
            return "Record/embed/external/thumb: wrong mime type (image/* accepted)"
        if int(thumb.get("size", 0)) > 1_000_000:
            return "Record/embed/external/thumb is too big (1,000,000 bytes at most)"
    return None


def _handler(fake: FakeBluesky) -> type[BaseHTTPRequestHandler]:
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
            nsid = split.path.removeprefix("/xrpc/")
            query = parse_qs(split.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            body: Any = raw
            if content_type.startswith("application/json"):
                body = json.loads(raw)
            with fake.lock:
                fake.requests.append(Request(method, nsid, query, dict(self.headers), body))
                queue = fake.planned.get(nsid) or []
                planned = queue.pop(0) if queue else None
            if isinstance(planned, Slow):
                answer = self._route(method, nsid, query, body) if planned.creates else None
                time.sleep(planned.delay)
                with contextlib.suppress(OSError):  # the client gave up and closed
                    self._send(answer or xrpc_error(502, "UpstreamFailure", "late"))
                return
            self._send(planned or self._route(method, nsid, query, body))

        def _authorized(self) -> Answer | None:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in fake.access:
                return xrpc_error(401, "InvalidToken", "Token could not be verified")
            if not fake.access[token]:
                return xrpc_error(400, "ExpiredToken", "Token has expired")
            return None

        def _session(self) -> dict[str, Any]:
            access, refresh = fake.next("access-"), fake.next("refresh-")
            fake.access[access] = True
            fake.refresh.add(refresh)
            return {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID,
                    "active": True}  # fmt: skip

        def _route(self, method: str, nsid: str, query: dict, body: Any) -> Answer:
            with fake.lock:
                if nsid == "com.atproto.server.createSession" and method == "POST":
                    if (
                        body.get("identifier") not in (HANDLE, DID)
                        or body.get("password") != PASSWORD
                    ):
                        return xrpc_error(
                            401, "AuthenticationRequired", "Invalid identifier or password"
                        )
                    return 200, {}, self._session()
                if nsid == "com.atproto.server.refreshSession" and method == "POST":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in fake.refresh:
                        return xrpc_error(400, "ExpiredToken", "Token has been revoked")
                    fake.refresh.discard(token)
                    return 200, {}, self._session()
                refused = self._authorized()
                if refused:
                    return refused
                if nsid == "com.atproto.repo.uploadBlob" and method == "POST":
                    mime = self.headers.get("Content-Type", "")
                    if not mime.startswith("image/"):
                        return xrpc_error(400, "InvalidRequest", f"unexpected type {mime}")
                    if len(body) > 1_000_000:
                        return xrpc_error(400, "BlobTooLarge", "This file is too large")
                    link = "bafkrei" + hashlib.sha256(body).hexdigest()[:46]
                    fake.blobs[link] = DID
                    blob = {"$type": "blob", "ref": {"$link": link}, "mimeType": mime,
                            "size": len(body)}  # fmt: skip
                    return 200, {}, {"blob": blob}
                if nsid == "com.atproto.repo.createRecord" and method == "POST":
                    unknown = set(body) - CREATE_FIELDS
                    if unknown:
                        return xrpc_error(400, "InvalidRequest", f"unknown fields {unknown}")
                    if body.get("repo") != DID or body.get("collection") != "app.bsky.feed.post":
                        return xrpc_error(400, "InvalidRequest", "wrong repo or collection")
                    problem = _check_post(fake, body.get("record"))
                    if problem:
                        return xrpc_error(400, "InvalidRecord", problem)
                    uri = f"at://{DID}/app.bsky.feed.post/{fake.next('3kz')}"
                    cid = cid_of(body["record"])
                    fake.records[uri] = {"uri": uri, "cid": cid, "value": body["record"]}
                    return 200, {}, {"uri": uri, "cid": cid}
                if nsid == "com.atproto.repo.getRecord":
                    uri = f"at://{query['repo'][0]}/{query['collection'][0]}/{query['rkey'][0]}"
                    record = fake.records.get(uri)
                    if record is None:
                        return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
                    return 200, {}, record
                if nsid == "com.atproto.repo.listRecords":
                    items = list(reversed(fake.records.values()))  # newest first
                    start = int(query.get("cursor", ["0"])[0])
                    limit = int(query.get("limit", ["50"])[0])
                    page = items[start : start + limit]
                    cursor = {"cursor": str(start + limit)} if start + limit < len(items) else {}
                    return 200, {}, {"records": page, **cursor}
                if nsid == "com.atproto.identity.resolveHandle":
                    did = HANDLES.get(query.get("handle", [""])[0])
                    if did is None:
                        return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
                    return 200, {}, {"did": did}
                if nsid == "app.bsky.feed.getPosts":
                    uris = query.get("uris", [])
                    if len(uris) > 25:
                        return xrpc_error(400, "InvalidRequest", "uris must have at most 25")
                    views = [
                        {"uri": uri, "cid": fake.records[uri]["cid"], "likeCount": 11,
                         "repostCount": 3, "replyCount": 2, "quoteCount": 1}
                        for uri in uris if uri in fake.records
                    ]  # fmt: skip
                    return 200, {}, {"posts": views}
                if nsid == "app.bsky.actor.getProfile":
                    if query.get("actor", [""])[0] not in (DID, HANDLE):
                        return xrpc_error(400, "InvalidRequest", "Profile not found")
                    return 200, {}, {"did": DID, "handle": HANDLE, "followersCount": 812,
                                     "postsCount": 95}  # fmt: skip
                if nsid == "app.bsky.notification.listNotifications":
                    reasons = set(query.get("reasons", REASONS))
                    if not reasons <= REASONS:
                        return xrpc_error(400, "InvalidRequest", f"unknown reasons {reasons}")
                    shown = [n for n in fake.notifications if n["reason"] in reasons]
                    return 200, {}, {"notifications": shown}
                if nsid == "app.bsky.actor.getProfiles":
                    actors = query.get("actors", [])
                    if not 1 <= len(actors) <= 25:
                        return xrpc_error(400, "InvalidRequest", "actors must have 1 to 25")
                    profiles = [
                        {"did": did, "handle": PROFILES[did][0], "followersCount": PROFILES[did][1],
                         "followsCount": 40, "postsCount": 300}
                        for did in actors if did in PROFILES
                    ]  # fmt: skip
                    return 200, {}, {"profiles": profiles}
            return xrpc_error(501, "MethodNotImplemented", f"no method {nsid}")

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def serve() -> Iterator[FakeBluesky]:
    fake = FakeBluesky()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def mention(
    uri: str, indexed: datetime, *, by: str = "did:plc:cressidf", reason: str = "mention"
) -> dict[str, Any]:
    """A notification as listNotifications gives it: its author a profileView (no counts)."""
    return {"uri": uri, "cid": cid_of(uri), "reason": reason, "isRead": False,
            "record": {"$type": "app.bsky.feed.post" if reason == "mention" else
                       "app.bsky.feed.repost", "createdAt": indexed.isoformat()},
            "indexedAt": indexed.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "author": {"did": by, "handle": PROFILES[by][0]}}  # fmt: skip
