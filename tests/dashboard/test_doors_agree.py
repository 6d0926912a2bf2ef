"""The calendar's drag and the command line ask the same rule (:mod:`campaign.social.allowed`)
and refuse a move with the same message, each in its own words: French on the calendar,
English naming the command on the terminal."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.messages import message
from campaign.models import Post, PostStatus
from campaign.wording import pages
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

PARIS = ZoneInfo("Europe/Paris")


def _drag(served: Served, post_id: int, at: datetime):  # type: ignore[no-untyped-def]
    editor = served.client("editor")
    calendar = f"{served.url}/calendar?day={at.date().isoformat()}"
    return editor.post(
        served.url + "/calendar/move",
        data={
            "csrf": page_csrf(editor, calendar),
            "kind": "post",
            "item_id": str(post_id),
            "at": at.strftime("%Y-%m-%dT%H:%M"),
        },
        allow_redirects=False,
    )


def test_a_cancelled_post_is_refused_alike_by_the_calendar_and_the_cli(served: Served, cli) -> None:
    later = (datetime.now(PARIS) + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    cli("posts", "create", "-a", "mois_ess", "--text", "À annuler",
        "--at", f"{later:%Y-%m-%d %H:%M}")  # fmt: skip
    assert cli("posts", "cancel", "1").exit_code == 0
    refusal = message("post.cannot_move", post_id=1, status=PostStatus.cancelled)

    dragged = _drag(served, 1, later + timedelta(days=1))
    assert dragged.status_code == 400
    assert html.escape(pages.word(refusal, "fr")) in dragged.text

    edited = cli("posts", "edit", "1", "--at", f"{later + timedelta(days=1):%Y-%m-%d %H:%M}")
    assert edited.exit_code != 0
    assert str(refusal) in edited.stderr
    assert str(refusal) == "Post 1 is cancelled: it can no longer be given a new time."


def test_a_missed_post_is_moved_alike_by_the_calendar_and_the_cli(served: Served, cli) -> None:
    later = (datetime.now(PARIS) + timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    for _ in range(2):
        cli(
            "posts",
            "create",
            "-a",
            "mois_ess",
            "--text",
            "Manquée",
            "--at",
            f"{later:%Y-%m-%d %H:%M}",
        )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for post_id in (1, 2):
            post = session.get(Post, post_id)
            post.status = PostStatus.missed
            session.add(post)
        session.commit()
    assert _drag(served, 1, later + timedelta(days=1)).status_code == 303
    edited = cli("posts", "edit", "2", "--at", f"{later + timedelta(days=1):%Y-%m-%d %H:%M}")
    assert edited.exit_code == 0, edited.stderr
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for post_id in (1, 2):
            post = session.get(Post, post_id)
            assert post.status == PostStatus.scheduled  # scheduled again, by either door
            assert post.scheduled_at == later + timedelta(days=1)
