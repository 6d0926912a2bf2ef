"""A real HTTP server on loopback playing the part of the X API v2 (the routes we use).

It checks what X checks and we depend on: the OAuth 1.0a signature (HMAC-SHA1 over the method,
the URL really called and the query, with the consumer and token secrets), the length of a
post as X counts it, that attached media were uploaded by the same account and described, that a
reply's parent exists. Like X's OpenAPI specification (v2.159 and v2.167), it refuses query and
body parameters a route does not declare, and the retired ``command=INIT/APPEND/FINALIZE`` form
of ``POST /2/media/upload`` (chunks go to ``/2/media/upload/initialize``, ``/{id}/append`` and
``/{id}/finalize``), with a 400 shaped like X's. It answers like X (ids as strings,
``data``/``meta``/``errors``), rewrites links to t.co addresses in the texts it gives back, and
serves fixed figures for metrics; with ``new_names`` it answers with the field names of the
newest specification (``repost_count``, ``post_count``, ``referenced_posts``).

Tests steer it per route with :meth:`FakeX.on`: a planned answer (status, headers, body), or a
:class:`Slow` one that answers after the client has given up, having created the post or not.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit

import pytest

from campaign.config import Settings
from campaign.social.xtext import count, find_urls

CREDENTIALS = {
    "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY": "ck-app",
    "CAMPAIGN_X_MOIS_ESS_CONSUMER_SECRET": "cs-app",
    "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN": "at-mois",
    "CAMPAIGN_X_MOIS_ESS_ACCESS_TOKEN_SECRET": "ats-mois",
}
PRIX_CREDENTIALS = {
    "CAMPAIGN_X_PRIX_ESS_CONSUMER_KEY": "ck-app",
    "CAMPAIGN_X_PRIX_ESS_CONSUMER_SECRET": "cs-app",
    "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN": "at-prix",
    "CAMPAIGN_X_PRIX_ESS_ACCESS_TOKEN_SECRET": "ats-prix",
}
CONSUMERS = {"ck-app": "cs-app"}
TOKENS = {"at-mois": ("ats-mois", "42"), "at-prix": ("ats-prix", "43")}
USERS = {
    "42": {"username": "Mois_ESS", "name": "Le Mois de l'ESS", "followers": 6103, "posts": 1992},
    "43": {"username": "Prix_ESS", "name": "Les Prix ESS", "followers": 547, "posts": 551},
}
# Accounts that mention ours (the authors of FakeX.mentions, by FakeX.mention_authors).
AUTHORS = {
    "77": {"username": "CressIDF", "name": "CRESS Île-de-France", "followers": 2500},
    "78": {"username": "ESS_France", "name": "ESS France", "followers": 48000},
}
METRICS = {"like_count": 12, "retweet_count": 5, "reply_count": 2, "quote_count": 1}
IMPRESSIONS = 840
RENAMED = {"retweet_count": "repost_count", "tweet_count": "post_count"}

# What each route declares in the specification (query parameters; body fields, nested ones
# as "parent.child"). Anything else is refused, as X refuses it.
FIELDS = {"expansions", "tweet.fields", "post.fields", "media.fields", "poll.fields",
          "user.fields", "place.fields"}  # fmt: skip
TIMELINE = {"since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time"}
QUERY: dict[str, set[str]] = {
    "GET /2/users/me": {"expansions", "tweet.fields", "post.fields", "user.fields"},
    "GET /2/users/:id/tweets": FIELDS | TIMELINE | {"exclude"},
    "GET /2/users/:id/mentions": FIELDS | TIMELINE,
    "GET /2/tweets": FIELDS | {"ids"},
    "GET /2/media/upload": {"media_id", "command"},
}
BODY: dict[str, set[str]] = {
    "POST /2/tweets": {
        "text", "reply", "reply.in_reply_to_tweet_id", "reply.exclude_reply_user_ids", "media",
        "media.media_ids", "media.tagged_user_ids", "quote_tweet_id", "poll", "reply_settings",
        "direct_message_deep_link", "for_super_followers_only", "geo", "nullcast", "card_uri",
        "community_id", "share_with_followers", "made_with_ai", "paid_partnership",
    },
    "POST /2/media/upload": {"media", "media_category", "media_type", "additional_owners",
                             "shared"},
    "POST /2/media/upload/initialize": {"media_type", "total_bytes", "media_category",
                                        "additional_owners", "shared"},
    "POST /2/media/upload/:id/append": {"media", "segment_index"},
    "POST /2/media/upload/:id/finalize": set(),
    "POST /2/media/metadata": {"id", "metadata", "metadata.alt_text", "metadata.alt_text.text",
                               "metadata.allow_download_status", "metadata.content_expiration",
                               "metadata.found_media_origin", "metadata.sensitive_media_warning",
                               "metadata.sticker_info", "metadata.upload_source"},
}  # fmt: skip

Answer = tuple[int, dict[str, str], dict[str, Any]]


def invalid_request(parameter: str, value: Any, message: str) -> Answer:
    """X's 400 for a request its specification does not allow."""
    return (
        400,
        {},
        {
            "errors": [{"parameters": {parameter: [str(value)]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def credits_exhausted() -> Answer:
    """What X answers when the developer account's prepaid credits are spent."""
    detail = "Your enrolled account does not have any credits to fulfill this request."
    return (
        402,
        {},
        {
            "title": "CreditsDepleted",
            "detail": detail,
            "type": "https://api.twitter.com/2/problems/credits",
            "status": 402,
        },
    )


def reply_refused() -> Answer:
    """X's refusal of an API reply since February 2026 (its words, as reported)."""
    detail = (
        "Reply to this conversation is not allowed because you have not been mentioned or "
        "otherwise engaged by the author of the post you are replying to."
    )
    return 403, {}, {"title": "Forbidden", "detail": detail, "type": "about:blank", "status": 403}


def server_error(status: int = 500) -> Answer:
    return status, {}, {"title": "Internal Server Error", "status": status}


def duplicate() -> Answer:
    detail = "You are not allowed to create a Tweet with duplicate content."
    return 403, {}, {"detail": detail, "title": "Forbidden", "status": 403, "type": "about:blank"}


def no_write_permission() -> Answer:
    """What X answers an app allowed only to read when it tries to post."""
    detail = (
        "Your client app is not configured with the appropriate oauth1 app permissions for "
        "this endpoint."
    )
    return (
        403,
        {},
        {
            "title": "Forbidden",
            "detail": detail,
            "type": "https://api.twitter.com/2/problems/oauth1-permissions",
            "status": 403,
        },
    )


def rate_limited(reset: int) -> Answer:
    headers = {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}
    return 429, headers, {"title": "Too Many Requests", "status": 429}


def unauthorized(detail: str = "Unauthorized") -> Answer:
    return (
        401,
        {},
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": detail},
    )


@dataclass
class Slow:
    """Answer only after ``delay`` seconds (after the client's time-out), having created the
    post (``creates``) or not; the late answer goes nowhere."""

    delay: float
    creates: bool


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    user_id: str | None


@dataclass
class FakeX:
    """What the fake API holds and received, and what it should answer next on each route."""

    url: str = ""
    planned: dict[str, list[Answer | Slow | None]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    mentions: dict[str, list[str]] = field(default_factory=dict)  # user id -> mention ids
    mention_authors: dict[str, str] = field(default_factory=dict)  # mention id -> AUTHORS id
    mention_times: dict[str, datetime] = field(default_factory=dict)  # mention id -> created
    old_posts: set[str] = field(default_factory=set)  # ids X treats as older than 30 days
    known_posts: set[str] = field(default_factory=set)  # ids published before the test
    new_names: bool = False  # answer with the field names of specification 2.167
    processing_polls: int = 0  # STATUS answers "in_progress" this many times per GIF first
    check_after: int = 1  # X's check_after_secs while it processes a GIF
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, route: str, *answers: Answer | Slow | None) -> None:
        """Answer the next requests to ``route`` ("POST /2/tweets") with ``answers``.

        ``None`` answers normally; the route is the method and the path as called.
        """
        self.planned.setdefault(route, []).extend(answers)

    def calls(self, route: str) -> list[Request]:
        method, pattern = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and _matches(pattern, r.path)]

    def tweets(self) -> list[dict[str, Any]]:
        """Bodies of every create request received (answered or not)."""
        return [r.body for r in self.calls("POST /2/tweets")]

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)


# --- checks X makes ------------------------------------------------------------------------------


def _matches(pattern: str, path: str) -> bool:
    return re.fullmatch(re.sub(r":\w+", r"[^/]+", pattern), path) is not None


def _declared(table: dict[str, set[str]], method: str, path: str) -> set[str]:
    return next(
        (names for route, names in table.items() if route.startswith(f"{method} ")
         and _matches(route.split(" ", 1)[1], path)),
        set(),
    )  # fmt: skip


def _body_names(body: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every field of a JSON or multipart body, nested ones as "parent.child"."""
    if not isinstance(body, dict):
        return []
    names = []
    for key, value in body.items():
        names.append((prefix + key, value))
        if isinstance(value, dict):
            names += _body_names(value, prefix + key + ".")
    return names


def _refusal(method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer | None:
    """X's 400 for a parameter the specification does not declare on this route, if any."""
    allowed = _declared(QUERY, method, path)
    for name, values in query.items():
        if name not in allowed:
            message = f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]"
            return invalid_request(name, values[0], message)
    retired = method == "POST" and path == "/2/media/upload" and isinstance(body, dict)
    if retired and "command" in body:  # the chunked form retired in 2025
        message = (
            f"The command {body['command']} is no longer supported on POST /2/media/upload: "
            "use /2/media/upload/initialize, /2/media/upload/{id}/append and "
            "/2/media/upload/{id}/finalize"
        )
        return invalid_request("command", body["command"], message)
    if method == "POST":
        allowed = _declared(BODY, method, path)
        for name, value in _body_names(body):
            if name not in allowed:
                return invalid_request(name, value, f"The body field [{name}] is not allowed")
    return None


def _pct(text: str) -> str:
    """RFC 5849 percent-encoding: everything but the unreserved characters of RFC 3986."""
    return quote(text, safe="-._~")


def _verify_oauth(method: str, host: str, path: str, query: str, headers: Any, form: Any) -> str:
    """The user id of a correctly signed request, or an explanation of what is wrong.

    Written from RFC 5849 (section 3.4) rather than with oauthlib, which signs the client's
    requests: the check stays independent of the code it checks.
    """
    auth = headers.get("Authorization", "")
    if not auth.startswith("OAuth "):
        return "error: no OAuth 1.0a Authorization header"
    fields = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', auth)}
    consumer, token = fields.get("oauth_consumer_key"), fields.get("oauth_token")
    if consumer not in CONSUMERS or token not in TOKENS:
        return "error: unknown consumer key or access token"
    if fields.get("oauth_signature_method") != "HMAC-SHA1":
        return "error: signature method is not HMAC-SHA1"
    params = [
        (k, v) for k, v in fields.items() if k.startswith("oauth_") and k != "oauth_signature"
    ]
    params += parse_qsl(query, keep_blank_values=True)
    params += parse_qsl(form or "", keep_blank_values=True)  # form bodies only, not multipart
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params))
    base = "&".join([method.upper(), _pct(f"http://{host.lower()}{path}"), _pct(normalized)])
    token_secret, user_id = TOKENS[token]
    key = f"{_pct(CONSUMERS[consumer])}&{_pct(token_secret)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest).decode()
    return user_id if fields.get("oauth_signature") == expected else "error: bad signature"


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[name] = payload if part.get_filename() else payload.decode()
    return fields


def _tco(text: str) -> str:
    """The text as X gives it back: every link a t.co address, & < > escaped."""
    pieces, last = [], 0
    for number, (start, end) in enumerate(find_urls(text)):
        pieces.extend([text[last:start], f"https://t.co/Ab{number}Cd"])
        last = end
    pieces.append(text[last:])
    text = "".join(pieces)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _named(fake: FakeX, metrics: dict[str, Any]) -> dict[str, Any]:
    """Figures under the names of the newest specification, when the double uses them."""
    if not fake.new_names:
        return metrics
    return {RENAMED.get(key, key): value for key, value in metrics.items()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _page(items: list[Any], query: dict[str, list[str]]) -> tuple[list[Any], dict[str, Any]]:
    maximum = int(query.get("max_results", ["10"])[0])
    offset = int(query.get("pagination_token", ["0"])[0])
    page = items[offset : offset + maximum]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        first, last = page[0], page[-1]
        meta["newest_id"] = first["id"] if isinstance(first, dict) else first
        meta["oldest_id"] = last["id"] if isinstance(last, dict) else last
    if offset + maximum < len(items):
        meta["next_token"] = str(offset + maximum)
    return page, meta


def _authors(page: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """``includes.users`` of a page expanded by ``author_id``: each author once, with their
    ``public_metrics`` only when ``user.fields`` asks for them."""
    fields = query.get("user.fields", [""])[0].split(",")
    users = []
    for author_id in dict.fromkeys(item["author_id"] for item in page):
        author = AUTHORS[author_id]
        user: dict[str, Any] = {"id": author_id, "name": author["name"],
                                "username": author["username"]}  # fmt: skip
        if "public_metrics" in fields:
            user["public_metrics"] = {"followers_count": author["followers"],
                                      "following_count": 300, "tweet_count": 4000,
                                      "listed_count": 12}  # fmt: skip
        users.append(user)
    return users


# --- the routes ----------------------------------------------------------------------------------


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

        def _error(self, status: int, detail: str) -> None:
            self._answer(status, {}, {"title": "Error", "status": status, "detail": detail})

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            path, raw_query = parts.path, parts.query
            query = parse_qs(raw_query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            form = None
            if content_type.startswith("application/json"):
                body: Any = json.loads(raw) if raw else None
            elif content_type.startswith("multipart/form-data"):
                body = _multipart(content_type, raw)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                form = raw.decode()
                body = {k: v[0] for k, v in parse_qs(form).items()}
            else:
                body = raw or None
            who = _verify_oauth(method, self.headers["Host"], path, raw_query, self.headers, form)
            user_id = None if who.startswith("error") else who
            route = f"{method} {path}"
            refusal = _refusal(method, path, query, body)
            with fake.lock:
                fake.requests.append(
                    Request(method, path, query, dict(self.headers), body, user_id)
                )
                queue = fake.planned.get(route) if refusal is None else None
                planned = queue.pop(0) if queue else None
            if user_id is None:
                return self._answer(*unauthorized(who.removeprefix("error: ")))
            if refusal is not None:
                return self._answer(*refusal)
            if isinstance(planned, Slow):
                if planned.creates:
                    self._route(method, path, query, body, user_id, reply=False)
                time.sleep(planned.delay)
                self.close_connection = True
                return None
            if planned is not None:
                return self._answer(*planned)
            return self._route(method, path, query, body, user_id, reply=True)

        def _route(self, method, path, query, body, user_id, *, reply: bool) -> None:

            answer = self._answer if reply else (lambda *args: None)
            if method == "POST" and path == "/2/tweets":
                return self._create(body, user_id, answer)
            if method == "POST" and path == "/2/media/upload":
                return self._upload(body, user_id, answer)
            if method == "POST" and path == "/2/media/upload/initialize":
                return self._initialize(body, user_id, answer)
            chunked = re.fullmatch(r"/2/media/upload/(\d+)/(append|finalize)", path)
            if method == "POST" and chunked:
                media = fake.media.get(chunked[1])
                if media is None or media["owner"] != user_id or media["complete"]:
                    return answer(*invalid_request("id", chunked[1], "no upload in progress"))
                if chunked[2] == "append":
                    return self._append(media, body, answer)
                return self._finalize(media, answer)
            if method == "GET" and path == "/2/media/upload":
                return self._status(query, user_id, answer)
            if method == "POST" and path == "/2/media/metadata":
                return self._describe(body, user_id, answer)
            if method == "GET" and path == "/2/users/me":
                user = USERS[user_id]
                data = {
                    "id": user_id,
                    "name": user["name"],
                    "username": user["username"],
                    "public_metrics": _named(fake, {
                        "followers_count": user["followers"],
                        "following_count": 80,
                        "tweet_count": user["posts"] + len(fake.created),
                        "listed_count": 3,
                    }),
                }  # fmt: skip
                return answer(200, {}, {"data": data})
            match = re.fullmatch(r"/2/users/(\d+)/(tweets|mentions)", path)
            if method == "GET" and match:
                if match[1] != user_id:
                    return answer(403, {}, {"title": "Forbidden", "detail": "not your account"})
                maximum = int(query.get("max_results", ["10"])[0])
                if not 5 <= maximum <= 100:
                    return answer(400, {}, {"title": "Invalid Request", "detail": "max_results"})
                if match[2] == "tweets":
                    return self._timeline(query, user_id, answer)
                return self._mentions(query, user_id, answer)
            if method == "GET" and path == "/2/tweets":
                return self._lookup(query, answer)
            return answer(404, {}, {"title": "Not Found", "status": 404})

        def _create(self, body: dict[str, Any], user_id: str, answer: Any) -> None:
            text = body.get("text", "")
            if not count(text).valid:
                return answer(400, {}, {"title": "Invalid Request", "detail": "text too long"})
            with fake.lock:
                if any(t["text"] == text and t["author_id"] == user_id for t in fake.created):
                    return answer(*duplicate())
                media_ids = (body.get("media") or {}).get("media_ids") or []
                for media_id in media_ids:
                    media = fake.media.get(media_id)
                    if media is None or media["owner"] != user_id or not media["complete"]:
                        return answer(400, {}, {"title": "Invalid Request", "detail": "media"})
                parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
                if parent and not any(t["id"] == parent for t in fake.created):
                    return answer(400, {}, {"title": "Invalid Request", "detail": "reply"})
                tweet = {
                    "id": fake.new_id(),
                    "text": text,
                    "author_id": user_id,
                    "reply_to": parent,
                    "media_ids": media_ids,
                    "created_at": datetime.now(UTC),
                }
                fake.created.append(tweet)
            return answer(201, {}, {"data": {"id": tweet["id"], "text": _tco(text)}})

        def _upload(self, body: dict[str, Any], user_id: str, answer: Any) -> None:
            """One request: ``media`` and ``media_category`` (images)."""
            if not isinstance(body, dict):
                return answer(400, {}, {"title": "Invalid Request", "detail": "not multipart"})
            content = body.get("media")
            kind = body.get("media_category")
            if not isinstance(content, bytes) or kind != "tweet_image":
                return answer(400, {}, {"title": "Invalid Request", "detail": "media"})
            with fake.lock:
                media_id = fake.new_id()
                fake.media[media_id] = {
                    "id": media_id,
                    "owner": user_id,
                    "category": kind,
                    "bytes": content,
                    "complete": True,
                    "alt": None,
                }
            data = {"id": media_id, "media_key": f"3_{media_id}", "size": len(content)}
            return answer(200, {}, {"data": {**data, "expires_after_secs": 86400}})

        def _initialize(self, body: Any, user_id: str, answer: Any) -> None:
            """Start a chunked upload (JSON: media_type, total_bytes, media_category)."""
            if not isinstance(body, dict) or not isinstance(body.get("total_bytes"), int):
                return answer(*invalid_request("total_bytes", body, "total_bytes: an integer"))
            with fake.lock:
                media_id = fake.new_id()
                fake.media[media_id] = {
                    "id": media_id,
                    "owner": user_id,
                    "category": body.get("media_category"),
                    "type": body.get("media_type"),
                    "total": body["total_bytes"],
                    "chunks": {},
                    "bytes": b"",
                    "complete": False,
                    "polls": 0,
                    "alt": None,
                }
            data = {"id": media_id, "media_key": f"16_{media_id}", "expires_after_secs": 86400}
            return answer(200, {}, {"data": data})

        def _append(self, media: dict[str, Any], body: Any, answer: Any) -> None:
            """One chunk (multipart: media, segment_index from 0 to 999)."""
            index = (body or {}).get("segment_index", "") if isinstance(body, dict) else ""
            if not (isinstance(body, dict) and isinstance(body.get("media"), bytes)):
                return answer(*invalid_request("media", "", "media: a file part"))
            if not str(index).isdigit() or not 0 <= int(index) <= 999:
                return answer(*invalid_request("segment_index", index, "from 0 to 999"))
            media["chunks"][int(index)] = body["media"]
            return answer(200, {}, {"data": {"expires_at": int(time.time()) + 86400}})

        def _finalize(self, media: dict[str, Any], answer: Any) -> None:
            content = b"".join(media["chunks"][i] for i in sorted(media["chunks"]))
            if len(content) != media["total"]:
                return answer(*invalid_request("total_bytes", media["total"], "size differs"))
            media.update(bytes=content, complete=True)
            info = {"state": "pending", "check_after_secs": fake.check_after}
            data = {"id": media["id"], "media_key": f"16_{media['id']}", "size": len(content),
                    "expires_after_secs": 86400, "processing_info": info}  # fmt: skip
            return answer(200, {}, {"data": data})

        def _status(self, query: dict[str, list[str]], user_id: str, answer: Any) -> None:
            media = fake.media.get(query.get("media_id", [""])[0])
            if query.get("command") != ["STATUS"] or media is None or media["owner"] != user_id:
                return answer(*invalid_request("media_id", query, "media_id, command=STATUS"))
            media["polls"] = media.get("polls", 0) + 1
            if media["polls"] <= fake.processing_polls:
                info = {"state": "in_progress", "check_after_secs": fake.check_after,
                        "progress_percent": 50}  # fmt: skip
            else:
                info = {"state": "succeeded", "progress_percent": 100}
            return answer(200, {}, {"data": {"id": media["id"], "processing_info": info}})

        def _describe(self, body: dict[str, Any], user_id: str, answer: Any) -> None:
            media = fake.media.get(str((body or {}).get("id")))
            text = ((body or {}).get("metadata") or {}).get("alt_text", {}).get("text")
            if media is None or media["owner"] != user_id or not isinstance(text, str):
                return answer(400, {}, {"title": "Invalid Request", "detail": "metadata"})
            if len(text) > 1000:
                return answer(400, {}, {"title": "Invalid Request", "detail": "alt text"})
            media["alt"] = text
            metadata = {"alt_text": {"text": text}}
            return answer(200, {}, {"data": {"id": media["id"], "associated_metadata": metadata}})

        def _timeline(self, query: dict[str, list[str]], user_id: str, answer: Any) -> None:
            start = query.get("start_time", [None])[0]
            since = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
            tweets = [
                t
                for t in reversed(fake.created)
                if t["author_id"] == user_id and (since is None or t["created_at"] >= since)
            ]
            shown = []
            for tweet in tweets:
                text = _tco(tweet["text"])
                if tweet["media_ids"]:
                    text += " https://t.co/PhOtO"  # X links the attached images at the end
                item = {"id": tweet["id"], "text": text, "created_at": _iso(tweet["created_at"])}
                if tweet["reply_to"]:
                    references = "referenced_posts" if fake.new_names else "referenced_tweets"
                    item[references] = [{"type": "replied_to", "id": tweet["reply_to"]}]
                item["edit_history_tweet_ids"] = [tweet["id"]]
                shown.append(item)
            page, meta = _page(shown, query)
            body: dict[str, Any] = {"meta": meta}
            if page:
                body["data"] = page
            return answer(200, {}, body)

        def _mentions(self, query: dict[str, list[str]], user_id: str, answer: Any) -> None:
            ids = sorted(fake.mentions.get(user_id, []), key=int, reverse=True)
            since = query.get("since_id", [None])[0]
            if since:
                ids = [i for i in ids if int(i) > int(since)]
            expansions = query.get("expansions", [""])[0].split(",")
            tweet_fields = (query.get("tweet.fields") or query.get("post.fields") or [""])[0]
            items = []
            for i in ids:
                item = {"id": i, "text": f"Merci @{USERS[user_id]['username']} !",
                        "edit_history_tweet_ids": [i]}  # fmt: skip
                if "author_id" in expansions or "author_id" in tweet_fields.split(","):
                    item["author_id"] = fake.mention_authors.get(i, "77")
                if "created_at" in tweet_fields.split(","):
                    item["created_at"] = _iso(fake.mention_times.get(i, datetime.now(UTC)))
                items.append(item)
            page, meta = _page(items, query)
            body: dict[str, Any] = {"meta": meta}
            if page:
                body["data"] = page
            if page and "author_id" in expansions:
                body["includes"] = {"users": _authors(page, query)}
            return answer(200, {}, body)

        def _lookup(self, query: dict[str, list[str]], answer: Any) -> None:
            ids = query["ids"][0].split(",")
            fields = (query.get("tweet.fields") or query.get("post.fields") or [""])[0].split(",")
            known = {t["id"] for t in fake.created} | fake.known_posts
            data, errors = [], []
            for tweet_id in ids:
                if tweet_id not in known:
                    detail = f"Could not find tweet with ids: [{tweet_id}]."
                    errors.append({"value": tweet_id, "detail": detail, "title": "Not Found Error"})
                    continue
                if "non_public_metrics" in fields and tweet_id in fake.old_posts:
                    errors.append({"value": tweet_id, "title": "Field Authorization Error",
                                   "detail": "non_public_metrics older than 30 days"})  # fmt: skip
                    continue
                item: dict[str, Any] = {"id": tweet_id, "text": "…",
                                        "edit_history_tweet_ids": [tweet_id]}  # fmt: skip
                if "public_metrics" in fields:
                    item["public_metrics"] = _named(fake, {**METRICS, "impression_count": 700})
                if "non_public_metrics" in fields:
                    item["non_public_metrics"] = {"impression_count": IMPRESSIONS}
                data.append(item)
            body: dict[str, Any] = {}
            if data:
                body["data"] = data
            if errors:
                body["errors"] = errors
            return answer(200, {}, body)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out closed the connection: expected, not worth a traceback


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    server = _Server(("127.0.0.1", 0), _handler(fake))
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


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
