"""Fixtures of the scheduling tests: calendars on disk, lists, subscribers and events in the
database, and the X double of the posting tests (a real HTTP server on loopback)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.models import Event, MailingList, Membership, Subscriber

_spec = importlib.util.spec_from_file_location(
    "social_conftest", Path(__file__).resolve().parent.parent / "social" / "conftest.py"
)
assert _spec and _spec.loader
_social = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _social  # its dataclasses look their module up there
_spec.loader.exec_module(_social)
fake_x = _social.fake_x
x_settings = _social.x_settings
X_CREDENTIALS = _social.CREDENTIALS
X_USERS, X_METRICS, X_IMPRESSIONS = _social.USERS, _social.METRICS, _social.IMPRESSIONS

NOW = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
"""The tests' "now": before the whole Mois, after the spring change of time."""

LIST_NAME = "Newsletter nationale"


@pytest.fixture
def write_calendar(tmp_path: Path) -> Callable[..., Path]:
    """Write a calendar file (dedented) and return its path."""
    folder = tmp_path / "schedules"
    folder.mkdir(exist_ok=True)

    def write(text: str, name: str = "mois.toml") -> Path:
        path = folder / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def add_list(session: Session, people: int = 3, name: str = LIST_NAME) -> MailingList:
    mailing_list = MailingList(name=name)
    session.add(mailing_list)
    session.flush()
    for number in range(people):
        subscriber = Subscriber(
            email=f"personne{number}@example.org",
            first_name=f"Personne{number}",
            region="Bretagne" if number % 2 else "Occitanie",
        )
        session.add(subscriber)
        session.flush()
        session.add(Membership(subscriber_id=subscriber.id, list_id=mailing_list.id))
    session.commit()
    return mailing_list


REGIONS = ["Bretagne", "Occitanie", "Normandie", "Grand Est", "Corse"]
THEMES = ["Consommer", "Travailler", "Se loger", "S'évader", "Se déplacer"]


def add_events(session: Session, days: list[datetime], per_day: int = 6) -> list[Event]:
    """``per_day`` events on each local day of ``days`` (at 10:00, 14:00, 18:30 … Paris)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Paris")
    hours = [(10, 0), (14, 0), (18, 30), (20, 0), (11, 0), (19, 0), (15, 30), (9, 30)]
    events = []
    for day in days:
        for number in range(per_day):
            hour, minute = hours[number % len(hours)]
            start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            event = Event(
                source_id=f"E-{day:%m%d}-{number}",
                title=f"Rencontre {number} du {day:%d/%m}",
                starts_at=start.astimezone(UTC),
                city="Rennes",
                region=REGIONS[number % len(REGIONS)],
                theme=THEMES[(number * 2) % len(THEMES)],
                url=f"https://lemois-ess.example.org/m/{day:%m%d}-{number}",
                organiser_name="Coopérative Exemple",
            )
            session.add(event)
            events.append(event)
    session.commit()
    return events


ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CALENDAR = ROOT / "schedules" / "mois-ess-2026.toml"


def import_samples(session: Session, settings: Settings) -> None:
    """The shipped sample subscribers (into the demo's list) and events, as the demo does."""
    from campaign.audience.importer import import_subscribers
    from campaign.demo import DEMO_LIST
    from campaign.events.importer import import_events
    from campaign.taxonomy import Taxonomy

    taxonomy = Taxonomy.from_settings(settings)
    import_subscribers(
        session,
        ROOT / "samples" / "subscribers.csv",
        list_name=DEMO_LIST,
        dry_run=False,
        actor="test",
        taxonomy=taxonomy,
    )
    import_events(
        session,
        ROOT / "samples" / "events.json",
        dry_run=False,
        taxonomy=taxonomy,
        zone=settings.zone,
    )
    session.commit()


@pytest.fixture
def settings() -> Settings:
    return Settings()
