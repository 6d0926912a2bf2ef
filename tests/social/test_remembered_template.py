"""Which template a new post remembers, so that a move writes its text again for the new time:
the social stage decides, for every door that writes posts from a template."""

from __future__ import annotations

from sqlmodel import Session

from campaign.config import Settings
from campaign.social.posts import create_posts

TEXT = "Le Mois de l'ESS : un évènement près de chez vous"


def _template_of(session: Session, **options: object) -> str:
    (post,) = create_posts(session, Settings(), accounts=["mois_ess"], text=TEXT, **options)
    return post.template


def test_a_text_generated_for_an_event_remembers_its_template(session: Session) -> None:
    assert _template_of(session, template="evenement", event_ids=[4]) == "evenement"


def test_values_given_by_hand_are_not_remembered_so_neither_is_the_template(
    session: Session,
) -> None:
    assert _template_of(session, template="evenement", event_ids=[4], filled_by_hand=True) == ""


def test_a_text_featuring_no_event_remembers_no_template(session: Session) -> None:
    assert _template_of(session, template="prix-vote") == ""
