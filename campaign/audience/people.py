"""One person added or corrected by hand (the dashboard's form): the rules a door must not
decide itself.

- :func:`add_person` adds a new address with the origin of its consent, and refuses an address
  already known (correcting a record is :func:`~campaign.audience.subscribers.update_profile`);
  unlike :func:`~campaign.audience.subscribers.add_subscriber`, which adds or updates.
- :func:`person_region` is the region a person's record holds: the one named, as the taxonomy
  spells it, else the one of their postcode.
- :func:`join_lists` subscribes a person to lists that must still exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlmodel import Session

from campaign.audience.consent import find_subscriber, join_list
from campaign.audience.lists import find_list
from campaign.audience.subscribers import add_subscriber
from campaign.errors import CampaignError
from campaign.models import Subscriber
from campaign.taxonomy import Taxonomy

MAX_SOURCE = 300
"""The origin of a consent is kept to this many characters (the form's limit)."""


def person_region(taxonomy: Taxonomy, region: str, postcode: str) -> str:
    """The region named (as the taxonomy spells it, else as typed), else the postcode's."""
    region = region.strip()
    return taxonomy.region(region) or region or taxonomy.region_for_postcode(postcode) or ""


def add_person(
    session: Session,
    email: str,
    *,
    consent_source: str,
    list_names: Iterable[str] = (),
    profile: Mapping[str, str],
    actor: str,
    method: str,
) -> Subscriber:
    """Add a new person: an address (``person.no_email``) and how they gave their consent
    (``person.no_consent_source``, kept to :data:`MAX_SOURCE` characters) are required, and an
    address already known is refused (``person.known``, with the person's ``id``)."""
    if not email.strip():
        raise CampaignError.of("person.no_email", "email")
    source = consent_source.strip()
    if not source:
        raise CampaignError.of("person.no_consent_source", "consent_source")
    known = find_subscriber(session, email)
    if known is not None:
        raise CampaignError.of("person.known", "email", email=known.email, id=known.id)
    subscriber, _outcome = add_subscriber(
        session,
        email,
        list_names=list_names,
        profile=dict(profile),
        actor=actor,
        method=method,
        source=source[:MAX_SOURCE],
    )
    return subscriber


def join_lists(
    session: Session, person: Subscriber, names: Iterable[str], *, actor: str, method: str
) -> None:
    """Subscribe ``person`` to each list named; one that no longer exists is refused
    (``list.gone``)."""
    for name in names:
        mailing_list = find_list(session, name)
        if mailing_list is None:
            raise CampaignError.of("list.gone", "lists", name=name)
        join_list(session, person, mailing_list, method=method, actor=actor)
