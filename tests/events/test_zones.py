"""Events read in their own region's time zone: 18h in La Réunion is not 18h in Paris."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.taxonomy import Taxonomy
from tests.events.test_import import french_row, run, stored, utc, write_csv

REUNION = dict(postcode="97400", city="Saint-Denis", region="La Réunion")
GUADELOUPE = dict(postcode="97110", city="Pointe-à-Pitre", region="Guadeloupe")
GUYANE = dict(postcode="97300", city="Cayenne", region="Guyane")


def test_an_evening_event_overseas_is_stored_at_its_own_instant(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        french_row("R", start="05/11/2026 18:00", end="05/11/2026 20:00", **REUNION),
        french_row("G", start="05/11/2026 18:00", end="05/11/2026 20:00", **GUADELOUPE),
        french_row("P", start="05/11/2026 18:00", end="05/11/2026 20:00"),  # Marseille
    )

    assert run(session, path).added == 3

    events = stored(session)
    assert (events["R"].starts_at, events["R"].timezone) == (utc(2026, 11, 5, 14), "Indian/Reunion")
    assert (events["G"].starts_at, events["G"].timezone) == (
        utc(2026, 11, 5, 22),
        "America/Guadeloupe",
    )
    assert (events["P"].starts_at, events["P"].timezone) == (utc(2026, 11, 5, 17), "Europe/Paris")
    assert events["R"].ends_at == utc(2026, 11, 5, 16)


def test_a_late_event_in_guyane_stays_on_its_own_day(session: Session, tmp_path: Path) -> None:
    """23:30 in Cayenne (UTC−3) is 03:30 the next day in Paris: the event's day is its own."""
    path = write_csv(
        tmp_path / "export.csv", french_row("C", start="05/11/2026 23:30", end="", **GUYANE)
    )

    run(session, path)

    event = stored(session)["C"]
    assert event.starts_at == utc(2026, 11, 6, 2, 30)
    assert event.starts_at.astimezone(ZoneInfo(event.timezone)).date().day == 5
    assert event.starts_at.astimezone(ZoneInfo("Europe/Paris")).date().day == 6


def test_an_explicit_offset_in_the_export_wins(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        french_row("O", start="2026-11-05T18:00:00+01:00", end="", **REUNION),
    )

    run(session, path)

    event = stored(session)["O"]
    assert event.starts_at == utc(2026, 11, 5, 17)
    assert event.timezone == "Indian/Reunion"  # shown in its region's zone all the same


def test_days_without_times_are_all_day_events_ending_at_midnight_after_the_last_day(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        french_row("ONE", start="05/11/2026", end=""),
        french_row("SPAN", start="05/11/2026", end="07/11/2026", **REUNION),
        french_row("TIMED", start="05/11/2026 09:00", end="05/11/2026 12:00"),
    )

    run(session, path)

    events = stored(session)
    assert events["ONE"].all_day and events["SPAN"].all_day and not events["TIMED"].all_day
    assert (events["ONE"].starts_at, events["ONE"].ends_at) == (
        utc(2026, 11, 4, 23),
        utc(2026, 11, 5, 23),
    )
    # La Réunion is UTC+4 all year: midnight there is 20:00 UTC the day before.
    assert (events["SPAN"].starts_at, events["SPAN"].ends_at) == (
        utc(2026, 11, 4, 20),
        utc(2026, 11, 7, 20),
    )


def test_importing_the_same_export_again_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        french_row("R", start="05/11/2026 18:00", end="", **REUNION),
        french_row("D", start="05/11/2026", end="06/11/2026"),
    )
    run(session, path)
    session.commit()

    again = run(session, path)

    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_a_region_added_in_the_settings_may_give_its_zone() -> None:
    settings = Settings.model_validate(
        {
            "events": {
                "regions": ["Bretagne", "Polynésie française"],
                "zones": {"Polynésie française": "Pacific/Tahiti"},
            }
        }
    )
    taxonomy = Taxonomy.from_settings(settings)
    paris = ZoneInfo("Europe/Paris")
    assert taxonomy.zone("Polynésie française", paris) == ZoneInfo("Pacific/Tahiti")
    assert taxonomy.zone("Bretagne", paris) == paris
    assert taxonomy.zone("La Réunion", paris) == paris  # not among these settings' regions
    assert Taxonomy.from_settings(Settings()).zone("La Réunion", paris).key == "Indian/Reunion"
    assert Taxonomy.from_settings(Settings()).zone_label("Indian/Reunion") == "heure de La Réunion"


def test_an_unknown_zone_in_the_settings_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'Tahiti' \(for 'Polynésie'\) is not a time zone name"):
        Settings.model_validate({"events": {"zones": {"Polynésie": "Tahiti"}}})


def test_the_stored_instant_is_aware_utc(session: Session, tmp_path: Path) -> None:
    run(session, write_csv(tmp_path / "e.csv", french_row("R", **REUNION)))
    assert stored(session)["R"].starts_at.utcoffset() == timedelta(0)
