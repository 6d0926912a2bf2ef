"""The composer and a post's page count a Mastodon account's text against its instance's own
limit once a metrics sync read it (``account_limit``), and against 500 until then."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from campaign.config import SocialAccount
from campaign.models import Post
from campaign.social.length import mastodon_length
from campaign.social.limits import store_limit
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

SENTENCE = "Le Mois de l'ESS commence demain partout en France, venez nombreux ! "
TEXT = (SENTENCE * 9)[:600].strip()  # 600 characters as Mastodon counts them
LONGER = (SENTENCE * 18)[:1200].strip()


def _with_two_instances(served: Served) -> None:
    """``mois_masto`` on an instance that takes 1,000 characters (said to a metrics sync),
    ``autre_masto`` on one whose limit was never read."""
    accounts = served.settings.social.accounts
    accounts["mois_masto"] = SocialAccount(
        network="mastodon", handle="moisess", instance_url="https://grand.example"
    )
    accounts["autre_masto"] = SocialAccount(
        network="mastodon", handle="autre", instance_url="https://petit.example"
    )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        store_limit(session, "mois_masto", 1000)
        session.commit()


def test_the_live_counter_counts_against_the_instance_s_own_limit(served: Served) -> None:
    assert mastodon_length(TEXT) == 600
    _with_two_instances(served)
    editor = served.client("editor")

    def counter(**params: object) -> str:
        return editor.get(served.url + "/posts/length", params=params).text

    wide = counter(text=TEXT, accounts=["mois_masto"])
    assert "<strong>600</strong> / 1000 caractères (selon Mastodon)" in wide
    assert "Trop long" not in wide and "600 / 1000</p>" in wide
    narrow = counter(text=TEXT, accounts=["autre_masto"])
    assert "<strong>600</strong> / 500 caractères (selon Mastodon)" in narrow
    assert "Trop long" in narrow
    # Both ticked: one counter each, since their limits differ.
    both = counter(text=TEXT, accounts=["mois_masto", "autre_masto"])
    assert "Mastodon · @moisess</h3>" in both and "Mastodon · @autre</h3>" in both
    assert both.count("Trop long") == 1
    # Cut into a thread by each one's limit.
    split = {"text": LONGER, "split": "1"}
    assert re.search(r"Fil de <strong>2</strong> messages", counter(accounts="mois_masto", **split))
    assert re.search(
        r"Fil de <strong>3</strong> messages", counter(accounts="autre_masto", **split)
    )


def test_the_text_is_taken_or_refused_by_the_same_limit_and_shown_with_it(served: Served) -> None:
    _with_two_instances(served)
    editor = served.client("editor")

    def create(account: str):  # type: ignore[no-untyped-def]
        form = {"csrf": page_csrf(editor, served.url + "/posts/new")}
        data = {**form, "accounts": [account], "text": TEXT}
        return editor.post(served.url + "/posts/new", data=data, allow_redirects=False)

    refused = create("autre_masto")
    assert refused.status_code == 400
    assert "<strong>600</strong> / 500" in refused.text
    taken = create("mois_masto")
    assert taken.status_code == 303, taken.text[:2000]
    with Session(served.engine) as session:  # type: ignore[arg-type]
        posts = list(session.exec(select(Post).order_by(col(Post.id))))
    assert [(post.account, post.parts) for post in posts] == [("mois_masto", [TEXT])]
    page = editor.get(served.url + taken.headers["location"].removeprefix("/admin")).text
    assert '<p class="count">600 / 1000</p>' in page
