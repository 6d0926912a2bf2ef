"""One rule says what may be done to a post (:mod:`campaign.social.allowed`): every status ×
every action, and the stage's functions (which the calendar, the post pages, the CLI and the
scheduler call) refusing exactly what it refuses, with the same code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Post, PostStatus
from campaign.social import allowed
from campaign.social.posts import (
    cancel_post,
    create_post,
    edit_post,
    publish_post,
    reschedule_post,
    schedule_posts,
)

S = PostStatus
CAN = None
BUSY = "post.being_published"
GONE = tuple(allowed._REFUSAL[action] for action in allowed.ACTIONS)  # published, cancelled
# status → the refusal of (move, edit, schedule, publish, cancel); None: allowed.
EXPECTED: dict[str, tuple[str | None, ...]] = {
    S.draft: (CAN, CAN, CAN, CAN, CAN),
    S.scheduled: (CAN, CAN, CAN, CAN, CAN),
    S.failed: (CAN, CAN, "post.cannot_schedule", CAN, CAN),
    S.missed: (CAN, CAN, "post.cannot_schedule", "post.cannot_publish", CAN),
    S.publishing: (BUSY, BUSY, BUSY, BUSY, BUSY),
    S.published: GONE,
    S.cancelled: GONE,
}
# The same, for a thread with parts already out (a rate limit, a failure half-way).
PARTLY: dict[str, tuple[str | None, ...]] = {
    S.scheduled: ("post.waiting_for_network", "post.partly_published", CAN, CAN, CAN),
    S.failed: (CAN, "post.partly_published", "post.cannot_schedule", CAN, CAN),
    S.missed: (CAN, "post.partly_published", "post.cannot_schedule", "post.cannot_publish", CAN),
}


def test_the_table_covers_every_status_and_every_action() -> None:
    assert allowed.ACTIONS == ("move", "edit", "schedule", "publish", "cancel")
    assert set(EXPECTED) == set(PostStatus)


@pytest.mark.parametrize("status", list(PostStatus))
def test_what_may_be_done_to_a_post_of_each_status(status: PostStatus) -> None:
    post = Post(id=7, account="mois_ess", text="x", parts=["x"], status=status)
    found = tuple(
        refusal.code if (refusal := allowed.may(post, action)) else None
        for action in allowed.ACTIONS
    )
    assert found == EXPECTED[status]
    for action in allowed.ACTIONS:
        refusal = allowed.may(post, action)
        if refusal is not None:
            assert refusal.values["post_id"] == 7
            assert str(refusal).startswith("Post 7 ")  # the CLI's words name the post


@pytest.mark.parametrize("status", list(PARTLY))
def test_what_may_be_done_to_a_partly_published_thread(status: PostStatus) -> None:
    post = Post(id=7, account="mois_ess", text="x", parts=["x", "y"], status=status)
    post.remote_ids = ["1"]
    found = tuple(
        refusal.code if (refusal := allowed.may(post, action)) else None
        for action in allowed.ACTIONS
    )
    assert found == PARTLY[status]


NOW = datetime.now(UTC).replace(microsecond=0)


def _post(session: Session, settings: Settings, status: str, remote_ids: list[str]) -> Post:
    post = create_post(
        session,
        settings,
        account="mois_ess",
        parts=["Première partie", "Deuxième partie"],
        scheduled_at=NOW + timedelta(hours=1),
    )
    post.status = status
    post.remote_ids = remote_ids
    post.dry_run = bool(remote_ids)  # its first part "went out" in dry run, as the rest will
    session.add(post)
    session.commit()
    return post


def _refusal(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except CampaignError as exc:
        assert exc.messages, f"a refusal as a message, not a sentence: {exc}"
        return exc.messages[0].code
    return None


CASES = [(status, []) for status in PostStatus] + [(status, ["1"]) for status in PARTLY]


@pytest.mark.parametrize(("status", "remote_ids"), CASES)
def test_the_calendar_drag_and_the_cli_move_refuse_alike(
    session: Session, status: str, remote_ids: list[str]
) -> None:
    """The calendar's drag calls ``reschedule_post``, ``posts edit --at`` calls ``edit_post``
    with the time alone: both refuse what the rule refuses, with its code."""
    settings = Settings()
    expected = (PARTLY if remote_ids else EXPECTED)[status][0]
    later = NOW + timedelta(days=2)
    dragged = _post(session, settings, status, remote_ids)
    edited = _post(session, settings, status, remote_ids)
    by_drag = _refusal(lambda: reschedule_post(session, settings, dragged.id, later))
    by_cli = _refusal(lambda: edit_post(session, settings, edited.id, scheduled_at=later))
    assert by_drag == by_cli == expected
    if expected is None:  # moved: a missed or failed post is scheduled again
        for post in (dragged, edited):
            session.refresh(post)
            assert post.scheduled_at == later
            assert post.status in (S.draft, S.scheduled)


@pytest.mark.parametrize(("status", "remote_ids"), CASES)
def test_the_stage_functions_refuse_what_the_rule_refuses(
    session: Session, status: str, remote_ids: list[str]
) -> None:
    settings = Settings()
    expected = dict(zip(allowed.ACTIONS, (PARTLY if remote_ids else EXPECTED)[status], strict=True))
    edited = _post(session, settings, status, remote_ids)
    assert (
        _refusal(lambda: edit_post(session, settings, edited.id, text="Autre"))
        == (expected["edit"])
    )
    cancelled = _post(session, settings, status, remote_ids)
    if status != S.cancelled:  # cancelling a cancelled post again changes nothing
        assert _refusal(lambda: cancel_post(session, cancelled.id)) == expected["cancel"]
    if status not in (S.publishing, S.published):  # a claim taken over; done already
        published = _post(session, settings, status, remote_ids)
        publish = lambda: publish_post(session, published.id, settings)  # noqa: E731
        assert _refusal(publish) == expected["publish"]
    if status != S.scheduled:
        approved = _post(session, settings, status, remote_ids)
        result = schedule_posts(session, settings, [approved.id], now=NOW)
        refused = result.refusals.get(approved.id) == "not-draft"
        assert refused == (expected["schedule"] is not None)
