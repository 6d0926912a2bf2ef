"""One rule says what may be done to a newsletter (:mod:`campaign.newsletters.allowed`): every
status × every action, and the stage's functions refusing exactly what it refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from campaign.audience.lists import create_list
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import Newsletter, NewsletterStatus
from campaign.newsletters import allowed, queue, records
from campaign.taxonomy import Taxonomy

S = NewsletterStatus
CAN = None
# status → the refusal of (edit, move, send, cancel, pause, resume, restore); None: allowed.
EXPECTED: dict[str, tuple[str | None, ...]] = {
    S.draft: (CAN, CAN, CAN, CAN, "newsletter.cannot_be_paused", "newsletter.cannot_be_resumed",
              "newsletter.not_cancelled"),
    S.scheduled: (CAN, CAN, CAN, CAN, "newsletter.cannot_be_paused",
                  "newsletter.cannot_be_resumed", "newsletter.not_cancelled"),
    S.sending: ("newsletter.not_editable", "newsletter.not_schedulable", "newsletter.not_sendable",
                CAN, CAN, "newsletter.cannot_be_resumed", "newsletter.not_cancelled"),
    S.paused: (CAN, "newsletter.not_schedulable", "newsletter.not_sendable", CAN,
               "newsletter.cannot_be_paused", CAN, "newsletter.not_cancelled"),
    S.sent: ("newsletter.not_editable", "newsletter.not_schedulable", "newsletter.not_sendable",
             "newsletter.cannot_be_cancelled", "newsletter.cannot_be_paused",
             "newsletter.cannot_be_resumed", "newsletter.not_cancelled"),
    S.cancelled: ("newsletter.not_editable", "newsletter.not_schedulable",
                  "newsletter.not_sendable", "newsletter.cannot_be_cancelled",
                  "newsletter.cannot_be_paused", "newsletter.cannot_be_resumed", CAN),
    S.missed: ("newsletter.not_editable", CAN, CAN, CAN, "newsletter.cannot_be_paused",
               "newsletter.cannot_be_resumed", "newsletter.not_cancelled"),
}  # fmt: skip


def test_the_table_covers_every_status_and_every_action() -> None:
    assert allowed.ACTIONS == ("edit", "move", "send", "cancel", "pause", "resume", "restore")
    assert set(EXPECTED) == set(NewsletterStatus)


@pytest.mark.parametrize("status", list(NewsletterStatus))
def test_what_may_be_done_to_a_newsletter_of_each_status(status: NewsletterStatus) -> None:
    newsletter = Newsletter(id=4, title="t", subject="s", status=status)
    found = tuple(
        refusal.code if (refusal := allowed.may(newsletter, action)) else None
        for action in allowed.ACTIONS
    )
    assert found == EXPECTED[status]
    for action in allowed.ACTIONS:
        refusal = allowed.may(newsletter, action)
        if refusal is not None:
            assert str(refusal).startswith("Newsletter 4 is ")  # the CLI's words name it


def _refusal(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except CampaignError as exc:
        assert exc.messages, f"a refusal as a message, not a sentence: {exc}"
        return exc.messages[0].code
    return None


@pytest.mark.parametrize("status", list(NewsletterStatus))
def test_the_stage_functions_refuse_what_the_rule_refuses(
    session: Session, status: NewsletterStatus
) -> None:
    create_list(session, "Presse")
    later = datetime.now(UTC) + timedelta(days=2)
    expected = dict(zip(allowed.ACTIONS, EXPECTED[status], strict=True))
    calls: dict[str, Callable[[int], Any]] = {
        "edit": lambda n: records.edit_newsletter(
            session, n, taxonomy=Taxonomy.from_settings(), title="Autre titre"
        ),
        "move": lambda n: records.schedule_newsletter(session, n, later, settings=Settings()),
        "send": lambda n: records.send_now(session, n, settings=Settings()),
        "cancel": lambda n: queue.cancel(session, n),
        "pause": lambda n: queue.pause(session, n),
        "resume": lambda n: queue.resume(session, n),
        "restore": lambda n: queue.back_to_draft(session, n),
    }
    for action, call in calls.items():
        newsletter = records.create_newsletter(
            session,
            title="Novembre",
            subject="Le Mois",
            template="mois-ess",
            list_names=["Presse"],
            taxonomy=Taxonomy.from_settings(),
        )
        newsletter.status = status
        session.add(newsletter)
        session.flush()
        assert _refusal(lambda c=call, n=newsletter.id: c(n)) == expected[action], action
