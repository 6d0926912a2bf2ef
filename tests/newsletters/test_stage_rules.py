"""Rules the dashboard and the command line share, decided once in the newsletters stage
(issue #20): each test calls the stage directly, so that it fails if the rule goes back into a
door."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from campaign.models import MailingList, WhenNoEvents
from campaign.newsletters import records
from campaign.taxonomy import Taxonomy


def test_a_draft_being_typed_reads_an_unknown_no_events_choice_as_national() -> None:
    assert records.draft_no_events_choice("nearest") == WhenNoEvents.nearest
    assert records.draft_no_events_choice("text") == WhenNoEvents.text
    assert records.draft_no_events_choice("") == WhenNoEvents.national
    assert records.draft_no_events_choice("everywhere") == WhenNoEvents.national


def _listed(session: Session) -> dict[str, Any]:
    """What every create_newsletter call below shares: a list to send to, the taxonomy."""
    session.add(MailingList(name="L"))
    session.flush()
    return {"list_names": ["L"], "taxonomy": Taxonomy.from_settings(None)}


def test_a_new_template_drops_the_texts_only_the_old_one_had(session: Session) -> None:
    base = _listed(session)
    content = {"action_url": "https://x.org", "greeting": "Bonjour", "intro": "Voici"}
    newsletter = records.create_newsletter(
        session, title="T", subject="S", template="prix-ess", content=content, **base
    )
    records.edit_newsletter(session, newsletter.id, taxonomy=base["taxonomy"], template="mois-ess")
    # the prix-ess link goes; the greeting (mois-ess has one too) and the intro stay
    assert newsletter.content == {"greeting": "Bonjour", "intro": "Voici"}


def test_the_same_template_keeps_every_text(session: Session) -> None:
    base = _listed(session)
    content = {"action_url": "https://x.org", "intro": "Voici"}
    newsletter = records.create_newsletter(
        session, title="T", subject="S", template="prix-ess", content=content, **base
    )
    records.edit_newsletter(session, newsletter.id, taxonomy=base["taxonomy"], template="prix-ess")
    assert newsletter.content == content


def test_anonymous_tracking_is_set_at_creation_and_changed_only_when_given(
    session: Session,
) -> None:
    base = _listed(session)
    newsletter = records.create_newsletter(
        session, title="T", subject="S", template="mois-ess", anonymous_tracking=True, **base
    )
    assert newsletter.anonymous_tracking is True
    records.edit_newsletter(session, newsletter.id, taxonomy=base["taxonomy"], title="U")
    assert newsletter.anonymous_tracking is True  # not given: unchanged
    records.edit_newsletter(
        session, newsletter.id, taxonomy=base["taxonomy"], anonymous_tracking=False
    )
    assert newsletter.anonymous_tracking is False
    plain = records.create_newsletter(session, title="T", subject="S", template="mois-ess", **base)
    assert plain.anonymous_tracking is False
