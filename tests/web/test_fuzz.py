"""A bounded random fuzz of the public routes over real HTTP (uvicorn on loopback).

Requests with garbled, truncated, made-up or misplaced tokens, odd paths, query strings, form
bodies and headers: none may get a 5xx, a token that does not verify gets the 404 page (or 405
for a method its path has not, naming those it has), and none of them writes anything: every
row of the tables the routes write is the same after as before. Then genuine links with the
same garbage around them: still no 5xx, and what they record stays within its bounds.
"""

from __future__ import annotations

import http.client
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from campaign.models import (
    ConsentEvent,
    Delivery,
    Hit,
    Link,
    MailingList,
    Membership,
    Newsletter,
    Subscriber,
)
from campaign.tracking.classify import APPLE_MPP_AGENT
from campaign.web.forms import FORM, HONEYPOT

pytestmark = pytest.mark.one_database(
    "the public routes' answers, a door: the stages they call are tested on both engines"
)

TABLES = (Hit, Delivery, Subscriber, ConsentEvent, Membership, MailingList, Link, Newsletter)
B64 = string.ascii_letters + string.digits + "-_"
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
WITH_BODY = ("POST", "PUT", "PATCH")
NOTHING = 10**6  # ids from here on name no row (and fit a 32-bit column)


@dataclass(frozen=True)
class Route:
    path: str  # {} for the token
    kinds: frozenset[str]  # the kinds of token it takes
    methods: frozenset[str]


ROUTES = (
    Route("/o/{}.gif", frozenset({"open", "open-anon"}), frozenset({"GET", "HEAD"})),
    Route("/c/{}", frozenset({"click", "click-anon"}), frozenset({"GET", "HEAD"})),
    Route("/u/{}", frozenset({"unsubscribe"}), frozenset({"GET", "HEAD", "POST"})),
    Route("/u/{}/resubscribe", frozenset({"unsubscribe"}), frozenset({"POST"})),
    Route("/v/{}", frozenset({"view"}), frozenset({"GET", "HEAD"})),
    Route("/confirmation/{}", frozenset({"confirm"}), frozenset({"GET", "HEAD", "POST"})),
)
IDS = {"open": 1, "open-anon": 1, "click": 3, "click-anon": 2, "unsubscribe": 1, "view": 1}
IDS["confirm"] = 3

FUZZ = settings(
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Probe:
    method: str
    target: str  # path and query string, as sent
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    garbled: bool = False  # its token must not verify on its route


def send(port: int, probe: Probe) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(probe.method, probe.target, skip_accept_encoding=True)
        for name, value in probe.headers:
            connection.putheader(name, value.encode("latin-1"))
        if probe.method in WITH_BODY:
            connection.putheader("Content-Length", str(len(probe.body)))
        connection.endheaders(probe.body if probe.method in WITH_BODY else None)
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def snapshot(engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a public route may write."""
    with Session(engine) as session:
        return {
            model.__name__: [
                row.model_dump() for row in session.exec(select(model).order_by(col(model.id)))
            ]
            for model in TABLES
        }


# --- what goes into the requests -------------------------------------------------------------

latin1 = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=120,
)
anything = st.text(max_size=80)  # any Unicode: percent-encoded where it goes into a URL
forwarded = st.one_of(
    latin1,
    st.ip_addresses().map(str),
    st.lists(st.one_of(st.ip_addresses().map(str), latin1), max_size=4).map(", ".join),
    st.sampled_from(["fe80::1%eth0", "::ffff:10.0.0.1", "[2001:db8::1]", "unknown", " , ,", ""]),
)
headers = st.builds(
    lambda agent, forwarded_for, others: tuple(
        header for header in (agent, forwarded_for, *others) if header
    ),
    st.none() | st.tuples(st.just("User-Agent"), latin1 | st.just(APPLE_MPP_AGENT)),
    st.none() | st.tuples(st.just("X-Forwarded-For"), forwarded),
    st.lists(
        st.tuples(
            st.sampled_from(["Cookie", "Accept", "Accept-Language", "Referer", "Origin", "Host"])
            | st.text(string.ascii_letters + "-", min_size=1, max_size=20),
            latin1,
        ),
        max_size=4,
    ),
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-16",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/json",
    ]
)
queries = st.one_of(
    st.just(""),
    st.dictionaries(anything, anything, max_size=4).map(lambda q: "?" + urlencode(q)),
    st.text(string.printable.strip(), max_size=60).map(lambda q: "?" + quote(q, safe="=&%/?+")),
)


def garbled_tokens(tokens: dict[str, list[str]], signer) -> st.SearchStrategy[str]:
    """Tokens that verify on no route: altered, cut, made up, badly spelt, or signed over the
    wrong number of ids."""
    genuine = st.sampled_from([token for values in tokens.values() for token in values])

    def flip(drawn: tuple[str, int, str]) -> str:
        token, index, char = drawn
        index %= len(token)
        if token[index] == char:
            char = "B" if char == "A" else "A"
        return token[:index] + char + token[index + 1 :]

    wrong_count = st.sampled_from(sorted(IDS)).flatmap(
        lambda kind: (
            st.lists(st.integers(0, 2**40), max_size=5)
            .filter(lambda ids: len(ids) != IDS[kind])
            .map(lambda ids: signer.sign(kind, *ids))
        )
    )
    return st.one_of(
        st.text(B64, max_size=250),
        anything,
        st.tuples(genuine, st.integers(0, 300), st.sampled_from(B64)).map(flip),
        st.tuples(genuine, st.integers(1, 40)).map(lambda drawn: drawn[0][: -drawn[1]]),
        st.tuples(genuine, st.text(B64, min_size=1, max_size=8)).map("".join),
        genuine.map(lambda token: token + "=="),  # padding is not the canonical spelling
        genuine.filter(lambda token: "-" in token or "_" in token).map(
            lambda token: token.replace("-", "+").replace("_", "/")  # not the URL-safe alphabet
        ),
        genuine.map(str.swapcase),
        genuine.map(lambda token: token * 2),
        wrong_count,
    )


def form_bodies(tokens: dict[str, list[str]], signer) -> st.SearchStrategy[bytes]:
    """Form bodies with garbage in the fields, and form tokens that must be refused."""
    jeton = st.one_of(
        garbled_tokens(tokens, signer),
        st.integers(1, 2**31).map(lambda index: signer.sign(FORM, 0, index)),  # ancient
        st.lists(st.integers(0, 2**40), max_size=4)
        .filter(lambda ids: len(ids) != 2)
        .map(lambda ids: signer.sign(FORM, *ids)),
    )
    fields = st.fixed_dictionaries(
        {},
        optional={
            "jeton": jeton,
            "email": st.one_of(anything, st.emails()),
            "prenom": anything,
            HONEYPOT: anything,
            "List-Unsubscribe": st.sampled_from(["One-Click", ""]),
        },
    )
    return st.one_of(
        st.just(b""),
        fields.map(lambda f: urlencode(f).encode()),
        fields.map(lambda f: "&".join(f"{k}={v}" for k, v in f.items()).encode()),  # unquoted
        st.binary(max_size=300),
    )


def requests_with(
    path: st.SearchStrategy[str], bodies: st.SearchStrategy[bytes], *, garbled: bool
) -> st.SearchStrategy[Probe]:
    def build(path, method, query, extra, body, content_type) -> Probe:
        if method in WITH_BODY:
            extra = (*extra, ("Content-Type", content_type))
        else:
            body = b""
        return Probe(method, path + query, extra, body, garbled)

    methods = st.sampled_from(["GET", "HEAD", "POST"]) | st.sampled_from(METHODS)
    return st.builds(build, path, methods, queries, headers, bodies, content_types)


def at_routes(routes, token: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda route, t: route.path.format(quote(t, safe="")), routes, token)


def genuine_tokens(live, sent) -> dict[str, list[str]]:
    sign = live.signer.sign
    newsletter = sent.newsletter_id
    link = next(iter(sent.links.values()))
    deliveries = list(sent.deliveries.values())
    with Session(live.engine) as session:
        anne = session.exec(select(Subscriber).where(Subscriber.first_name == "Anne")).one()
        list_id = session.exec(select(MailingList.id)).first()
    return {
        "open": [sign("open", d) for d in deliveries],
        "open-anon": [sign("open-anon", newsletter)],
        "click": [sign("click", d, link, newsletter) for d in deliveries],
        "click-anon": [sign("click-anon", newsletter, link)],
        "unsubscribe": [sign("unsubscribe", d) for d in deliveries],
        "view": [sign("view", d) for d in deliveries],
        "confirm": [sign("confirm", anne.id, list_id, 20_000)],
    }


def _fuzz_settings(settings) -> None:
    settings.web.trusted_proxy_depth = 1  # X-Forwarded-For reaches the code that reads it
    settings.subscribe.rate_limit = 100_000  # the form's checks, not its 429, get fuzzed


# --- the tests ------------------------------------------------------------------------------


def test_no_request_with_a_token_that_does_not_verify_errs_or_writes(make_live, kit) -> None:
    live = make_live(_fuzz_settings)
    sent = kit.send(live)
    tokens = genuine_tokens(live, sent)
    signer = live.signer
    port = int(live.url.rsplit(":", 1)[1])
    routes = st.sampled_from(ROUTES)
    bodies = form_bodies(tokens, signer)

    # A genuine token of another kind than the route takes (a pixel's at the click, …).
    misplaced = routes.flatmap(
        lambda route: st.sampled_from(
            [t for kind, values in tokens.items() if kind not in route.kinds for t in values]
        ).map(lambda t: route.path.format(t))
    )
    # Signed by the service, but naming no row: the route answers, nothing is written.
    naming_nothing = st.sampled_from(sorted(IDS)).flatmap(
        lambda kind: st.lists(
            st.integers(NOTHING, 2**31 - 1), min_size=IDS[kind], max_size=IDS[kind]
        ).map(lambda ids: (kind, signer.sign(kind, *ids)))
    )
    nothing_paths = naming_nothing.flatmap(
        lambda drawn: st.sampled_from([r for r in ROUTES if drawn[0] in r.kinds]).map(
            lambda route: route.path.format(drawn[1])
        )
    )
    anywhere = st.lists(
        st.one_of(anything, st.sampled_from(["o", "c", "u", "v", "..", ".", "", "inscription"])),
        max_size=5,
    ).map(lambda segments: "/" + "/".join(quote(s, safe="") for s in segments))

    requests = st.one_of(
        requests_with(at_routes(routes, garbled_tokens(tokens, signer)), bodies, garbled=True),
        requests_with(misplaced, bodies, garbled=True),
        requests_with(nothing_paths, bodies, garbled=False),
        requests_with(st.just("/inscription"), bodies, garbled=False),
        requests_with(anywhere.filter(lambda p: not p.startswith("/admin")), bodies, garbled=False),
    )
    live.flush()
    before = snapshot(live.engine)

    @settings(FUZZ, max_examples=400)
    @given(requests)
    def probe(request: Probe) -> None:
        status, answer = send(port, request)
        assert status < 500, request
        if request.garbled:
            # 404 (or 405 naming the methods the path has); a token decoding to a path ending
            # in "/" may get Starlette's redirect to the same path without it.
            assert status in (404, 405, 307), (status, request)
            assert status != 405 or answer.get("allow"), request
            if status == 307:
                assert request.target.split("?")[0].upper().endswith("%2F"), request

    probe()
    live.flush()
    assert snapshot(live.engine) == before
    outbox = Path(live.settings.mail.outbox_dir)
    assert not outbox.exists() or not any(path.is_file() for path in outbox.rglob("*"))


def test_genuine_links_with_garbage_around_them_never_err(make_live, kit) -> None:
    live = make_live(_fuzz_settings)
    sent = kit.send(live)
    tokens = genuine_tokens(live, sent)
    port = int(live.url.rsplit(":", 1)[1])
    links = [(route, token) for route in ROUTES for kind in route.kinds for token in tokens[kind]]
    # The pixel and the click read the headers to record the hit: they get half the requests.
    recorded = [(route, token) for route, token in links if route.path[:3] in ("/o/", "/c/")]
    genuine = (st.sampled_from(recorded) | st.sampled_from(links)).flatmap(
        lambda drawn: st.tuples(
            st.just(drawn), st.sampled_from(sorted(drawn[0].methods)) | st.sampled_from(METHODS)
        )
    )
    around = requests_with(st.just(""), form_bodies(tokens, live.signer), garbled=False)

    @settings(FUZZ, max_examples=200)
    @given(genuine, around)
    def probe(drawn: tuple[tuple[Route, str], str], around: Probe) -> None:
        (route, token), method = drawn
        body = around.body if method in WITH_BODY else b""
        request = Probe(method, route.path.format(token) + around.target, around.headers, body)
        status, _ = send(port, request)
        assert status < 500, request
        if method in route.methods:
            assert status in (200, 302), (status, request)
        else:
            assert status == 405, (status, request)

    probe()
    hits = live.hits()
    assert hits  # the genuine opens and clicks were recorded…
    for hit in hits:  # …with what the request said, within its bounds
        assert len(hit.user_agent or "") <= 500
        assert hit.ip_prefix == "" or hit.ip_prefix.endswith(("/24", "/48")), hit.ip_prefix
