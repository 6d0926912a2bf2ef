"""The rules of adding or correcting one person by hand, asked of the stage itself (the
dashboard's form only calls them)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from campaign.audience.lists import create_list
from campaign.audience.people import MAX_SOURCE, add_person, join_lists, person_region
from campaign.audience.subscribers import add_subscriber, describe_subscriber
from campaign.errors import CampaignError
from campaign.messages import Message
from campaign.taxonomy import Taxonomy

ADMIN = "web:admin@example.org"


def _add(session: Session, email: str = "anne@x.org", source: str = "paper form"):
    return add_person(
        session,
        email,
        consent_source=source,
        list_names=["Presse"],
        profile={"first_name": "Anne"},
        actor=ADMIN,
        method="admin",
    )


def test_a_person_needs_an_address(session: Session) -> None:
    with pytest.raises(CampaignError) as refused:
        _add(session, email="  ")
    assert refused.value.messages == [Message("person.no_email", "email", {})]


def test_a_person_needs_the_origin_of_their_consent(session: Session) -> None:
    with pytest.raises(CampaignError) as refused:
        _add(session, source=" ")
    assert refused.value.messages == [Message("person.no_consent_source", "consent_source", {})]


def test_an_address_already_known_is_refused_not_updated(session: Session) -> None:
    known, _ = add_subscriber(session, "anne@x.org", actor=ADMIN)
    with pytest.raises(CampaignError) as refused:
        _add(session, email="Anne@X.org")
    assert refused.value.messages == [
        Message("person.known", "email", {"email": "anne@x.org", "id": known.id})
    ]
    assert describe_subscriber(session, "anne@x.org")["first_name"] == ""


def test_the_origin_of_the_consent_is_trimmed_and_cut(session: Session) -> None:
    person = _add(session, source="  " + "x" * (MAX_SOURCE + 50))
    assert person.source == "x" * MAX_SOURCE
    assert describe_subscriber(session, "anne@x.org")["lists"] == ["Presse"]


def test_the_region_is_the_taxonomys_else_as_typed_else_the_postcodes() -> None:
    taxonomy = Taxonomy.from_settings()
    assert person_region(taxonomy, " bretagne ", "75001") == "Bretagne"
    assert person_region(taxonomy, "Atlantis", "75001") == "Atlantis"
    assert person_region(taxonomy, "  ", "35000") == "Bretagne"
    assert person_region(taxonomy, "", "") == ""


def test_joining_a_list_that_no_longer_exists_is_refused(session: Session) -> None:
    person, _ = add_subscriber(session, "anne@x.org", actor=ADMIN)
    create_list(session, "Presse")
    with pytest.raises(CampaignError) as refused:
        join_lists(session, person, ["Presse", "Gone"], actor=ADMIN, method="admin")
    assert refused.value.messages == [Message("list.gone", "lists", {"name": "Gone"})]
    join_lists(session, person, ["presse"], actor=ADMIN, method="admin")
    assert describe_subscriber(session, "anne@x.org")["lists"] == ["Presse"]
