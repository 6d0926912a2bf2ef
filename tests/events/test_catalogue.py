"""Selecting events: local days both included, region and theme by any spelling, stable JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery, event_json, find_event, find_events
from campaign.messages import Message
from campaign.models.events import Event
from campaign.taxonomy import Taxonomy

PARIS = ZoneInfo("Europe/Paris")
TAXONOMY = Taxonomy.from_settings()


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def add(session: Session, source_id: str, starts_at: datetime, **fields: object) -> Event:
    event = Event(
        source_id=source_id, title=f"Événement {source_id}", starts_at=starts_at, **fields
    )
    session.add(event)
    session.flush()
    return event


def query(
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    regions: list[str] | None = None,
    themes: list[str] | None = None,
    types: list[str] | None = None,
    limit: int | None = None,
) -> EventQuery:
    return EventQuery.from_cli(
        date_from=date_from,
        date_to=date_to,
        regions=regions or [],
        themes=themes or [],
        types=types or [],
        limit=limit,
        taxonomy=TAXONOMY,
        zone=PARIS,
    )


def ids(events: list[Event]) -> list[str]:
    return [event.source_id for event in events]


def test_events_come_in_start_order_then_by_id(session: Session) -> None:
    add(session, "late", paris(2026, 11, 20, 18, 0))
    add(session, "b", paris(2026, 11, 3, 9, 0))
    add(session, "a", paris(2026, 11, 3, 9, 0))

    # Same start: the one stored first (lower id) comes first.
    assert ids(find_events(session, query())) == ["b", "a", "late"]


def test_from_and_to_are_local_days_and_both_are_included(session: Session) -> None:
    add(session, "evening-4", paris(2026, 11, 4, 23, 30))  # 22:30 UTC on the 4th
    add(session, "midnight-5", paris(2026, 11, 5, 0, 0))  # 23:00 UTC on the 4th
    add(session, "late-6", paris(2026, 11, 6, 23, 30))
    add(session, "just-after-7", paris(2026, 11, 7, 0, 30))  # 23:30 UTC on the 6th

    found = find_events(session, query(date(2026, 11, 5), date(2026, 11, 6)))

    assert ids(found) == ["midnight-5", "late-6"]


def test_an_open_ended_window_keeps_everything_on_its_open_side(session: Session) -> None:
    add(session, "oct", paris(2026, 10, 30, 10, 0))
    add(session, "nov", paris(2026, 11, 10, 10, 0))

    assert ids(find_events(session, query(date_from=date(2026, 11, 1)))) == ["nov"]
    assert ids(find_events(session, query(date_to=date(2026, 10, 31)))) == ["oct"]


def test_an_event_spanning_several_days_shows_on_each_of_them(session: Session) -> None:
    add(session, "festival", paris(2026, 11, 12, 10, 0), ends_at=paris(2026, 11, 14, 18, 0))
    add(session, "ends-at-midnight", paris(2026, 11, 12, 20, 0), ends_at=paris(2026, 11, 13))

    assert ids(find_events(session, query(date(2026, 11, 13), date(2026, 11, 13)))) == ["festival"]
    assert ids(find_events(session, query(date(2026, 11, 14), date(2026, 11, 20)))) == ["festival"]
    assert ids(find_events(session, query(date(2026, 11, 15), None))) == []


def test_region_and_theme_filters_accept_any_spelling(session: Session) -> None:
    add(
        session,
        "paca",
        paris(2026, 11, 5, 10),
        region="Provence-Alpes-Côte d'Azur",
        theme="Se loger",
    )
    add(session, "idf", paris(2026, 11, 5, 11), region="Île-de-France", theme="Se loger")
    add(session, "idf-2", paris(2026, 11, 5, 12), region="Île-de-France", theme="Travailler")

    assert ids(find_events(session, query(regions=["PACA", "ile de france"]))) == [
        "paca",
        "idf",
        "idf-2",
    ]
    assert ids(find_events(session, query(regions=["IDF"], themes=["se loger"]))) == ["idf"]
    assert ids(find_events(session, query(themes=["TRAVAILLER", "Se Loger"]))) == [
        "paca",
        "idf",
        "idf-2",
    ]


def test_the_type_filter_ignores_case_and_accents(session: Session) -> None:
    add(session, "debate", paris(2026, 11, 5, 10), event_type="Débat")
    add(session, "screening", paris(2026, 11, 5, 11), event_type="Projection")
    add(session, "open-day", paris(2026, 11, 5, 12), event_type="Portes ouvertes")

    assert ids(find_events(session, query(types=["debat", "PORTES OUVERTES"]))) == [
        "debate",
        "open-day",
    ]
    assert ids(find_events(session, query(types=["concert"]))) == []


def test_the_limit_keeps_the_first_events_in_date_order(session: Session) -> None:
    for day in (9, 3, 7, 5):
        add(session, f"day-{day}", paris(2026, 11, day, 10))

    assert ids(find_events(session, query(limit=2))) == ["day-3", "day-5"]


def test_an_unknown_region_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(CampaignError, match="Unknown region 'Atlantide'") as error:
        query(regions=["Atlantide"])

    assert "Bretagne" in str(error.value)
    assert "Mayotte" in str(error.value)


def test_an_unknown_theme_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(CampaignError, match="Unknown daily theme 'Jardiner'") as error:
        query(themes=["Jardiner"])

    assert "Se loger" in str(error.value)


def test_a_last_day_before_the_first_day_is_an_error() -> None:
    with pytest.raises(CampaignError, match="before --from"):
        query(date(2026, 11, 10), date(2026, 11, 9))


def test_event_json_has_stable_keys_and_iso_times(session: Session) -> None:
    event = add(
        session,
        "M26-0001",
        paris(2026, 11, 5, 18, 30),
        ends_at=paris(2026, 11, 5, 20),
        region="Bretagne",
        event_type="Débat",
        theme="Se loger",
        publics=["Grand public", "Jeunes"],
        organiser_name="Coopérative La Navette",
        organiser_family="Coopérative",
        co_organisers=["Association Le Phare"],
        url="https://lemois-ess.example.org/manifestations/m26-0001",
    )

    data = event_json(event, PARIS)

    assert list(data) == [
        "source_id",
        "title",
        "description",
        "starts_at",
        "ends_at",
        "timezone",
        "all_day",
        "venue",
        "address",
        "city",
        "postcode",
        "region",
        "type",
        "theme",
        "publics",
        "organiser",
        "co_organisers",
        "registered_at",
        "url",
        "image_url",
    ]
    assert data["starts_at"] == "2026-11-05T17:30:00+00:00"
    assert data["ends_at"] == "2026-11-05T19:00:00+00:00"
    assert data["timezone"] == "Europe/Paris"  # stored before zones: [general] timezone's
    assert data["all_day"] is False
    assert data["type"] == "Débat"
    assert data["organiser"] == {
        "name": "Coopérative La Navette",
        "family": "Coopérative",
        "sector": "",
        "size": "",
    }
    assert data["registered_at"] is None
    assert json.loads(json.dumps(data)) == data


def test_the_stored_times_read_back_as_utc(session: Session) -> None:
    add(session, "x", paris(2026, 11, 5, 18, 30))
    session.commit()
    session.expire_all()

    (event,) = find_events(session, query())

    assert event.starts_at == datetime(2026, 11, 5, 17, 30, tzinfo=UTC)
    assert event.starts_at.tzinfo == UTC


# --- through the command line ------------------------------------------------------------------


def sample_export(tmp_path: Path) -> Path:
    events = [
        {
            "id": "a",
            "title": "Forum",
            "start": "05/11/2026 23:30",
            "region": "PACA",
            "type": "Forum",
        },
        {"id": "b", "title": "Débat", "start": "06/11/2026 09:00", "region": "Bretagne"},
        {"id": "c", "title": "Visite", "start": "07/11/2026 00:15", "region": "Bretagne"},
        {"id": "d", "title": "Atelier", "start": "04/11/2026 10:00", "theme": "se loger"},
    ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    return path


def test_the_list_command_filters_by_local_days_and_region(cli, tmp_path: Path) -> None:
    assert cli("events", "import", sample_export(tmp_path)).exit_code == 0

    days = cli("events", "list", "--from", "2026-11-05", "--to", "06/11/2026", "--json")
    brittany = cli("events", "list", "--region", "bretagne", "--json")
    theme = cli("events", "list", "--theme", "Se loger", "--json")

    assert days.exit_code == 0, days.stderr
    assert [event["source_id"] for event in json.loads(days.stdout)] == ["a", "b"]
    assert [event["source_id"] for event in json.loads(brittany.stdout)] == ["b", "c"]
    assert [event["source_id"] for event in json.loads(theme.stdout)] == ["d"]


def test_the_list_command_shows_a_table_in_local_time(cli, tmp_path: Path) -> None:
    cli("events", "import", sample_export(tmp_path))

    result = cli("events", "list", "--region", "PACA")

    assert result.exit_code == 0, result.stderr
    assert "jeudi 5 novembre 2026, 23h30" in result.stdout
    assert "heure de" not in result.stdout  # a Paris time needs no word on its zone
    assert "Forum" in result.stdout


def test_the_list_command_shows_each_event_s_own_time_and_zone(cli, tmp_path: Path) -> None:
    events = [
        {
            "id": "r",
            "title": "Forum",
            "start": "05/11/2026 18:00",
            "end": "05/11/2026 20:00",
            "region": "La Réunion",
        },
        {"id": "g", "title": "Débat", "start": "05/11/2026 18:00", "region": "Guadeloupe"},
        {"id": "d", "title": "Portes ouvertes", "start": "07/11/2026", "region": "Bretagne"},
    ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    assert cli("events", "import", path).exit_code == 0

    table = cli("events", "list")
    listed = cli("events", "list", "--json")

    assert table.exit_code == 0, table.stderr
    assert "jeudi 5 novembre 2026, 18h – 20h (heure de La Réunion)" in table.stdout
    assert "jeudi 5 novembre 2026, 18h (heure de Guadeloupe)" in table.stdout
    assert "samedi 7 novembre 2026, toute la journée" in table.stdout
    assert not re.search(r"(?<!\d)0h", table.stdout)
    data = {event["source_id"]: event for event in json.loads(listed.stdout)}
    assert data["r"]["starts_at"] == "2026-11-05T14:00:00+00:00"  # UTC, as before
    assert (data["r"]["timezone"], data["r"]["all_day"]) == ("Indian/Reunion", False)
    assert data["g"]["timezone"] == "America/Guadeloupe"
    assert (data["d"]["timezone"], data["d"]["all_day"]) == ("Europe/Paris", True)


def test_the_list_command_refuses_an_unknown_region_without_a_traceback(cli) -> None:
    result = cli("events", "list", "--region", "Atlantide")

    assert result.exit_code == 1
    assert "Unknown region 'Atlantide'" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_event_is_found_by_its_website_id_then_by_its_number(session: Session) -> None:
    first = add(session, "M26-0001", paris(2026, 11, 5, 18))
    numbered = add(session, str(first.id), paris(2026, 11, 6, 18))  # a website id of digits
    other = add(session, "M26-0003", paris(2026, 11, 7, 18))
    assert find_event(session, "M26-0001").id == first.id
    assert find_event(session, str(first.id)).id == numbered.id, "the website id comes first"
    assert find_event(session, str(other.id)).id == other.id
    for unknown in ("M26-9999", "9999"):
        with pytest.raises(CampaignError) as refused:
            find_event(session, unknown)
        assert refused.value.messages == [Message("event.unknown", "event", {"ident": unknown})]
