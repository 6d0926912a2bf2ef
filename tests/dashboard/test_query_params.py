"""Crafted values in the address of every dashboard page: a 400 page (or the value ignored),
never a server error. Routes and their parameters are enumerated from the application itself,
so a parameter added later is covered."""

from __future__ import annotations

import re

import pytest
import requests

from tests.dashboard.conftest import Served
from tests.dashboard.test_security import _hostile_data, _walk, fill

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

CRAFTED = [
    "9" * 40,  # no database integer holds it
    str(2**31),
    "-1",
    "0",
    "bogus-value",  # not a number, a day or a filter's choice
    "a\x00b",  # PostgreSQL refuses NUL in text
    "x" * 20000,
    "9999-12-31",  # a day whose next day overflows
    "0001-01-01",
    "é\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
]
# Parameters a page reads itself rather than through its signature.
READ_BY_HAND = {
    "/newsletters/live": [
        "lists",
        "segment_regions",
        "segment_other",
        "events_from",
        "events_to",
        "events_regions",
        "events_themes",
        "events_types",
        "events_max",
        "events_order",
    ],
}
EVERY_PAGE = ["fait"]  # the notice after a change, read when any page is drawn


def shown(params: dict[str, str], url: str) -> str:
    return repr({name: value[:30] for name, value in params.items()} if params else url[-40:])


def test_crafted_values_in_the_address_never_give_a_server_error(served: Served) -> None:
    ids = _hostile_data(served)
    admin = served.client("admin")
    failures = []
    refused = 0
    tried = 0
    for route in _walk(served.app.routes):
        if "GET" not in route.methods:
            continue
        names = [param.name for param in route.dependant.query_params]
        names += READ_BY_HAND.get(route.path, []) + EVERY_PAGE
        urls = [
            (served.url + fill(route.path, ids), {name: value})
            for name in names
            for value in CRAFTED
        ]
        for name in re.findall(r"\{(\w+)\}", route.path):
            urls += [
                (
                    served.url
                    + fill(route.path, {**ids, name: requests.utils.quote(value, safe="")}),
                    {},
                )
                for value in CRAFTED
                if value.strip()
            ]
        for url, params in urls:
            tried += 1
            try:
                answer = admin.get(url, params=params, allow_redirects=False)
            except requests.ConnectionError:  # the server broke off: as bad as a 500
                failures.append((route.path, shown(params, url), "connection broken"))
                admin = served.client("admin")
                continue
            if answer.status_code >= 500:
                failures.append((route.path, shown(params, url), answer.status_code))
            elif answer.status_code == 400:
                refused += 1
                assert "Adresse incorrecte" in answer.text or "error" in answer.text, url
    assert failures == [], "\n".join(map(repr, failures))
    assert tried > 400 and refused > 50  # the values were really tried, and many refused


def test_a_crafted_value_gets_a_french_page_naming_the_parameter(served: Served) -> None:
    admin = served.client("admin")
    for path, name, value in [
        ("/subscribers", "page", "9" * 40),
        ("/events", "page", "-1"),
        ("/calendar", "day", "9999-12-31"),
        ("/calendar", "view", "année"),
        ("/posts", "status", "bogus"),
        ("/subscribers", "q", "\x00"),
        ("/posts/planner", "day", "demain"),
    ]:
        answer = admin.get(served.url + path, params={name: value})
        assert answer.status_code == 400, (path, name)
        assert "Adresse incorrecte" in answer.text and f"({name})" in answer.text
    answer = admin.get(served.url + "/newsletters/" + "9" * 30)
    assert answer.status_code == 400 and "(newsletter_id)" in answer.text
    # Values the pages make themselves still work.
    for path in ("/subscribers?page=2&status=active", "/calendar?view=week&day=2026-11-02"):
        assert admin.get(served.url + path).status_code == 200, path
