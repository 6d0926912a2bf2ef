"""Rules the dashboard and the command line share, decided once in the newsletters stage
(issue #20): each test calls the stage directly, so that it fails if the rule goes back into a
door."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from campaign.audience.subscribers import add_subscriber
from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import MailingList, Newsletter, NewsletterStatus, WhenNoEvents
from campaign.newsletters import records, send_checks
from campaign.newsletters.coverage import Coverage, GroupCoverage, audience_size
from campaign.sender import SenderRefused, save_sender
from campaign.taxonomy import Taxonomy

REAL_SENDER = {
    "from_address": "lemois@lemois-ess.org",
    "postal_address": "CNCRESS, 34 bis rue Vignon, 75009 Paris",
}


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


def _smtp(**web: Any) -> Settings:
    """Real mail: the shipped sample identity (example.org) and a local public URL."""
    settings = Settings()
    mail = settings.mail.model_copy(update={"transport": "smtp"})
    return settings.model_copy(update={"mail": mail, "web": settings.web.model_copy(update=web)})


def _draft(session: Session) -> Newsletter:
    base = _listed(session)
    return records.create_newsletter(session, title="T", subject="S", template="mois-ess", **base)


LATER = datetime.now(UTC) + timedelta(days=2)


def test_over_smtp_planning_refuses_the_sample_identity(session: Session) -> None:
    newsletter = _draft(session)
    with pytest.raises(SenderRefused) as refused:
        records.schedule_newsletter(session, newsletter.id, LATER, settings=_smtp())
    assert (refused.value.code, refused.value.field) == ("example_domain", "from_address")
    assert newsletter.status == NewsletterStatus.draft
    records.schedule_newsletter(session, newsletter.id, LATER, settings=Settings())  # outbox
    assert newsletter.status == NewsletterStatus.scheduled


@pytest.mark.usefixtures("secret_key")
def test_sending_now_refuses_what_the_send_would_refuse(session: Session) -> None:
    newsletter = _draft(session)
    for check in (
        lambda settings: records.send_now(session, newsletter.id, settings=settings),
        lambda settings: send_checks.check_sendable(session, newsletter, settings),
    ):
        with pytest.raises(SenderRefused) as refused:  # the sample identity
            check(_smtp(allow_insecure_links=True))
        assert refused.value.code == "example_domain"
    # the identity in force is the stored one, as when the newsletter goes out
    save_sender(session, REAL_SENDER, actor="tester")
    with pytest.raises(CampaignError) as insecure:  # links no recipient could open
        records.send_now(session, newsletter.id, settings=_smtp())
    assert insecure.value.messages[0].code == "mail.insecure_public_url"
    assert newsletter.status == NewsletterStatus.draft
    records.send_now(session, newsletter.id, settings=_smtp(allow_insecure_links=True))
    assert newsletter.status == NewsletterStatus.scheduled


def test_sending_now_refuses_a_sender_no_message_could_carry(session: Session) -> None:
    newsletter = _draft(session)
    newsletter.from_address = "not an address"
    with pytest.raises(CampaignError) as refused:
        records.send_now(session, newsletter.id, settings=Settings())
    assert refused.value.messages[0].code == "newsletter.bad_own_sender"


def test_the_audience_is_the_readers_coverage_counted_or_else_counted_apart(
    session: Session,
) -> None:
    newsletter = _draft(session)
    for email in ("a@example.org", "b@example.org"):
        add_subscriber(session, email, list_names=["L"], actor="test")
    counted = Coverage(True, "national", [GroupCoverage("Bretagne", 3, 1), GroupCoverage("", 4, 0)])
    assert audience_size(session, newsletter, counted) == 7  # the groups' readers, as counted
    assert audience_size(session, newsletter, Coverage(False, "national")) == 2  # no group
