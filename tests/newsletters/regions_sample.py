"""An 18-region sample where Corse has no event: readers in every region, events in all but one.

Shared by the newsletter and dashboard tests of "no empty letter". Times are relative to now
(newsletters only feature events still to come), so the sample never grows old.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from campaign.models import Event, MailingList, Membership, Subscriber
from campaign.taxonomy import Taxonomy

LIST = "Newsletter nationale"
EMPTY_REGION = "Corse"
EMPTY_READERS = 3  # Corse's readers; every other region has one
UNKNOWN_REGION = "Bretagne 29"  # typed as region: the taxonomy knows no such region
UNKNOWN_READERS = 2
OVER = ("Marché de Noël", "Atelier sans heure de fin")  # over when the letter goes out
STILL_ON = "Café déjà commencé"  # began an hour ago, no end: still on (two hours by default)


def window() -> tuple[date, date]:
    """The rule's days: from yesterday to ten days on, so that it holds the events over."""
    today = datetime.now(UTC).date()
    return today - timedelta(days=1), today + timedelta(days=10)


def reader(region: str, number: int = 0) -> str:
    slug = "".join(char for char in region.lower() if char.isalnum())[:20]
    return f"{slug}{number}@example.org"


def seed(session: Session) -> None:
    """The list, its readers and the catalogue; committed."""
    now = datetime.now(UTC).replace(microsecond=0)
    mailing_list = MailingList(name=LIST)
    session.add(mailing_list)
    session.flush()
    people: list[tuple[str, int]] = []
    for region in Taxonomy.from_settings(None).regions:
        count = EMPTY_READERS if region == EMPTY_REGION else 1
        people += [(region, number) for number in range(count)]
    people += [(UNKNOWN_REGION, number) for number in range(UNKNOWN_READERS)]
    for region, number in people:
        person = Subscriber(email=reader(region, number), first_name="Lecteur", region=region)
        session.add(person)
        session.flush()
        session.add(Membership(subscriber_id=person.id, list_id=mailing_list.id))
    in_two_days = now + timedelta(days=2)
    for number, region in enumerate(Taxonomy.from_settings(None).regions):
        if region != EMPTY_REGION:
            session.add(_event(f"r{number}", f"Rencontre en {region}", region, in_two_days))
    session.add_all(
        [
            _event(
                "over1", OVER[0], "Bretagne", now - timedelta(hours=3), now - timedelta(hours=1)
            ),
            _event("over2", OVER[1], "Bretagne", now - timedelta(hours=3)),
            _event("on1", STILL_ON, "Bretagne", now - timedelta(hours=1)),
        ]
    )
    session.commit()


def _event(
    key: str, title: str, region: str, starts: datetime, ends: datetime | None = None
) -> Event:
    return Event(
        source_id=key,
        title=title,
        starts_at=starts,
        ends_at=ends,
        region=region,
        theme="Se loger",
        city="Ville",
        url=f"https://lemois-ess.org/evenements/{key}",
    )
