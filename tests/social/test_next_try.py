"""Whether and when a person waiting for a post (``campaign posts publish``) tries it again:
the social stage decides from the failure, the command line only waits and says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from campaign.config import Settings
from campaign.models import Post
from campaign.social import TransportError
from campaign.social.posts import RetryLater, create_post
from campaign.social.publishing import TRIES_WHILE_WAITING, NextTry, next_try

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=3)


def _post(session: Session, not_before: datetime | None) -> Post:
    post = create_post(session, Settings(), account="mois_ess", text="Bonjour")
    post.not_before = not_before
    session.add(post)
    session.commit()
    return post


def test_three_tries_while_waiting() -> None:
    assert TRIES_WHILE_WAITING == 3


def test_a_refusal_is_never_tried_again(session: Session) -> None:
    post = _post(session, SOON)
    refused = TransportError("Text is a spam", permanent=True, retry_at=SOON)
    assert next_try(session, post.id, refused) == NextTry(None, asked=False)


def test_a_wait_the_network_asked_for_is_tried_again_once_over(session: Session) -> None:
    post = _post(session, None)
    limited = TransportError("Too many requests", permanent=False, retry_at=SOON)
    assert next_try(session, post.id, limited) == NextTry(SOON, asked=True)
    waiting = RetryLater("Not before its time", SOON)
    assert next_try(session, post.id, waiting) == NextTry(SOON, asked=True)


def test_a_server_error_is_tried_again_at_the_post_s_next_try(session: Session) -> None:
    post = _post(session, SOON)
    failed = TransportError("503 Service Unavailable", permanent=False)
    assert next_try(session, post.id, failed) == NextTry(SOON, asked=False)
    given_up = _post(session, None)  # failed for good: no time set for another try
    assert next_try(session, given_up.id, failed) == NextTry(None, asked=False)
