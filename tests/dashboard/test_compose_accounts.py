"""The composer for several accounts: one live counter per network, an account's own text, one
post per ticked account (over real HTTP)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, col, select

from campaign.config import SocialAccount
from campaign.models import Post, PostStatus
from campaign.social.length import check_length
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

LONG = "Une phrase assez longue pour remplir un message. " * 6  # 293 characters


def _with_bluesky(served: Served) -> None:
    served.settings.social.accounts["mois_bsky"] = SocialAccount(
        network="bluesky", handle="moisess.bsky.social"
    )


def _create(client, served: Served, data: dict):  # type: ignore[no-untyped-def]
    form = {"csrf": page_csrf(client, served.url + "/posts/new"), **data}
    return client.post(served.url + "/posts/new", data=form, allow_redirects=False)


def _posts(served: Served) -> list[Post]:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        return list(session.exec(select(Post).order_by(col(Post.id))))


def test_the_composer_offers_every_account_and_counts_per_network(served: Served) -> None:
    _with_bluesky(served)
    editor = served.client("editor")
    page = editor.get(served.url + "/posts/new").text
    assert 'name="accounts" value="mois_ess" checked' in page  # the first, ticked
    assert 'name="accounts" value="mois_bsky">' in page
    assert "@moisess.bsky.social (Bluesky)" in page
    assert "Texte pour @moisess.bsky.social (vide : le texte commun)" in page

    def counters(**params: object) -> str:
        return editor.get(served.url + "/posts/length", params=params).text

    both = counters(text=LONG, accounts=["mois_ess", "prix_ess", "mois_bsky"])
    # One counter per network: X's two accounts share theirs.
    assert "X · @Mois_ESS, @Prix_ESS" in both and "Bluesky · @moisess.bsky.social" in both
    assert both.count("Trop long") == 1  # 293 characters: too long for X, not for Bluesky
    assert f"<strong>{check_length(LONG.strip(), 'bluesky')[0]}</strong> / 300" in both
    # An account's own text: its own counter, said so.
    own = counters(
        text=LONG,
        split="1",
        accounts=["mois_ess", "mois_bsky"],
        override_account=["mois_ess", "prix_ess", "mois_bsky"],
        override_text=["", "", "Le #MoisESS sur Bluesky"],
    )
    assert re.search(r"Fil de <strong>2</strong> messages", own)
    assert "(son propre texte)" in own and "<strong>23</strong> / 300" in own
    # One account alone: the counter as it always was.
    alone = counters(text="Bonjour", accounts=["mois_bsky"])
    assert "<strong>7</strong> / 300 caractères (selon Bluesky)" in alone and "<h3>" not in alone


def test_two_accounts_make_two_posts_each_with_its_own_text(served: Served) -> None:
    _with_bluesky(served)
    editor = served.client("editor")
    answer = _create(
        editor,
        served,
        {
            "accounts": ["mois_ess", "mois_bsky"],
            "text": LONG,
            "split": "1",
            "override_account": ["mois_ess", "prix_ess", "mois_bsky"],
            "override_text": ["", "Pas coché : ignoré", "Le Mois de l'ESS commence ! #MoisESS"],
        },
    )
    assert answer.status_code == 303, answer.text
    on_x, on_bluesky = _posts(served)
    assert (on_x.account, on_bluesky.account) == ("mois_ess", "mois_bsky")
    assert len(on_x.parts) == 2  # the common text, cut for X
    assert on_bluesky.parts == ["Le Mois de l'ESS commence ! #MoisESS"]
    assert {on_x.status, on_bluesky.status} == {PostStatus.draft}
    # The created posts are listed, each leading to its page.
    location = answer.headers["location"]
    assert parse_qs(urlsplit(location).query)["created"] == [f"{on_x.id},{on_bluesky.id}"]
    root = urlsplit(served.url)
    listed = editor.get(f"{root.scheme}://{root.netloc}{location}").text
    assert "Publications créées, une par compte :" in listed
    assert f'/posts/{on_x.id}">@Mois_ESS (X)</a>' in listed
    assert f'/posts/{on_bluesky.id}">@moisess.bsky.social (Bluesky)</a>' in listed
    assert "(fil de 2)" in listed


def test_an_own_text_too_long_for_its_network_stores_nothing_and_keeps_what_was_typed(
    served: Served,
) -> None:
    _with_bluesky(served)
    editor = served.client("editor")
    too_long = "Sur Bluesky, " + "un texte bien trop long. " * 14
    answer = _create(
        editor,
        served,
        {
            "accounts": ["mois_ess", "mois_bsky"],
            "text": "Bonjour",
            "override_account": ["mois_ess", "prix_ess", "mois_bsky"],
            "override_text": ["", "", too_long],
        },
    )
    assert answer.status_code == 400
    assert "comptés à la manière de Bluesky, " in answer.text
    assert too_long.strip() in answer.text and "Bonjour" in answer.text
    assert 'value="mois_bsky" checked' in answer.text
    assert _posts(served) == []

    nobody = _create(editor, served, {"text": "Bonjour"})
    assert nobody.status_code == 400
    assert "Choisissez au moins un compte pour la publication." in nobody.text
    assert _posts(served) == []


def test_the_planner_drafts_the_same_events_on_the_accounts_ticked_too(served: Served) -> None:
    from tests.dashboard.test_pages import _events_on, _local

    _with_bluesky(served)
    day = _local(served, 3, 0, 0)
    _events_on(served, day)
    editor = served.client("editor")
    planner = f"{served.url}/posts/planner?day={day.date().isoformat()}&account=mois_ess"
    page = editor.get(planner).text
    assert "Aussi sur ces comptes" in page
    assert 'name="also" value="mois_bsky"> @moisess.bsky.social (Bluesky)' in page
    assert 'name="also" value="mois_ess"' not in page  # the page's account is always planned
    form = {"csrf": page_csrf(editor, planner), "day": day.date().isoformat(),
            "account": "mois_ess", "times": "09:00,12:30", "also": ["mois_bsky"]}  # fmt: skip
    planned = editor.post(served.url + "/posts/planner", data=form, allow_redirects=False)
    assert planned.status_code == 200, planned.text
    assert "4 brouillons préparés" in planned.text
    assert 'name="also" value="mois_bsky" checked' in planned.text
    posts = _posts(served)
    assert [post.account for post in posts] == ["mois_ess", "mois_bsky"] * 2
    for on_x, on_bluesky in (posts[:2], posts[2:]):
        assert on_x.event_ids == on_bluesky.event_ids
        assert on_x.scheduled_at == on_bluesky.scheduled_at
        assert check_length(on_bluesky.text, "bluesky")[1]
