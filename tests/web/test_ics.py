"""``/e/ID.ics`` over real HTTP: events imported from an export, read back with ``icalendar``.

``icalendar`` is an independent parser of what the route writes by hand: a value it reads back
as written was escaped, folded and terminated as RFC 5545 says.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlmodel import Session, select

from campaign.events.importer import import_events
from campaign.models import Event, Hit
from campaign.taxonomy import Taxonomy

pytestmark = pytest.mark.one_database(
    "the public routes' answers, a door: the stages they call are tested on both engines"
)

REUNION = {"region": "La Réunion", "postcode": "97400", "city": "Saint-Denis"}
GUADELOUPE = {"region": "Guadeloupe", "postcode": "97110", "city": "Pointe-à-Pitre"}


def _import(live, tmp_path: Path, *rows: dict[str, Any]) -> dict[str, int]:
    """Import ``rows`` as the events website exports them; source id -> database id."""
    path = tmp_path / f"export-{len(list(tmp_path.glob('export-*')))}.json"
    path.write_text(json.dumps({"events": list(rows)}), encoding="utf-8")
    with Session(live.engine) as session:
        report = import_events(
            session,
            path,
            dry_run=False,
            taxonomy=Taxonomy.from_settings(live.settings),
            zone=live.settings.zone,
        )
        session.commit()
        assert not report.skipped, report.skipped
        found = session.exec(select(Event.source_id, Event.id)).all()
        return {source_id: event_id for source_id, event_id in found}


def _row(source_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": source_id,
        "title": f"Atelier {source_id}",
        "description": "Un atelier pour découvrir l'ESS.",
        "venue": "Maison des associations",
        "address": "12 rue de la Paix",
        "url": f"https://lemois-ess.org/evenements/{source_id}",
        **fields,
    }


_NUMBERS = itertools.count(1)


def _add(live, **fields: Any) -> int:
    """One event written as it is (no import tidying it): its database id."""
    values: dict[str, Any] = {
        "source_id": f"ev-{next(_NUMBERS)}",
        "title": "Forum",
        "starts_at": datetime(2026, 11, 5, 9, tzinfo=UTC),
        **fields,
    }
    with Session(live.engine) as session:
        event = Event(**values)
        session.add(event)
        session.commit()
        assert event.id is not None
        return event.id


def _vevent(answer) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(answer.content.decode("utf-8"))
    (event,) = calendar.walk("VEVENT")
    return event


def test_an_evening_event_overseas_keeps_its_instant(live, tmp_path: Path) -> None:
    ids = _import(
        live,
        tmp_path,
        _row("R", start="05/11/2026 18:00", **REUNION),  # no end: two hours
        _row("G", start="05/11/2026 18:00", end="05/11/2026 20:00", **GUADELOUPE),
    )

    answer = live.get(f"/e/{ids['R']}.ics")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="atelier-r.ics"'
    event = _vevent(answer)
    assert event.decoded("DTSTART") == datetime(2026, 11, 5, 14, tzinfo=UTC)
    assert event.decoded("DTSTART").astimezone(ZoneInfo("Indian/Reunion")).hour == 18
    assert event.decoded("DTEND") == datetime(2026, 11, 5, 16, tzinfo=UTC)
    assert str(event["UID"]) == "event-R@127.0.0.1"
    assert str(event["SUMMARY"]) == "Atelier R"
    assert str(event["LOCATION"]) == "Maison des associations, 12 rue de la Paix, 97400 Saint-Denis"
    assert str(event["URL"]) == "https://lemois-ess.org/evenements/R"
    assert str(event["DESCRIPTION"]) == (
        "Un atelier pour découvrir l'ESS.\n\nhttps://lemois-ess.org/evenements/R"
    )
    assert event.decoded("DTSTAMP").tzinfo is not None

    guadeloupe = _vevent(live.get(f"/e/{ids['G']}.ics"))
    assert guadeloupe.decoded("DTSTART") == datetime(2026, 11, 5, 22, tzinfo=UTC)
    assert guadeloupe.decoded("DTEND") == datetime(2026, 11, 6, 0, tzinfo=UTC)
    assert guadeloupe.decoded("DTSTART").astimezone(ZoneInfo("America/Guadeloupe")).hour == 18


def test_an_all_day_event_is_its_days_with_the_end_excluded(live, tmp_path: Path) -> None:
    ids = _import(
        live,
        tmp_path,
        _row("F", start="05/11/2026", end="07/11/2026", **REUNION),  # Thursday to Saturday
        _row("D", start="05/11/2026"),  # one day, in Paris
    )

    answer = live.get(f"/e/{ids['F']}.ics")

    assert "DTSTART;VALUE=DATE:20261105\r\n" in answer.text
    assert "DTEND;VALUE=DATE:20261108\r\n" in answer.text
    event = _vevent(answer)
    assert event.decoded("DTSTART") == date(2026, 11, 5)
    assert not isinstance(event.decoded("DTSTART"), datetime)
    assert event.decoded("DTEND") == date(2026, 11, 8)
    one_day = _vevent(live.get(f"/e/{ids['D']}.ics"))
    assert (one_day.decoded("DTSTART"), one_day.decoded("DTEND")) == (
        date(2026, 11, 5),
        date(2026, 11, 6),
    )


HOSTILE = (
    "Forum, débat; atelier \\ « ESS »\nEND:VEVENT\r\nATTENDEE:mailto:evil@example.org\r\n"
    "BEGIN:VEVENT\n☕🎉 Économie sociale, solidaire; et 👩‍👩‍👧 "
)


def test_a_hostile_title_is_escaped_and_folded(live) -> None:
    title = (HOSTILE * 3)[:200]
    assert len(title) == 200
    event_id = _add(
        live,
        title=title,
        description="Ligne 1\r\nLigne 2, avec; tout\\ça\x07\x1b" + " é" * 400,
        venue="Salle A; B, C",
        city="Saint-Étienne",
        url="javascript:alert(1)",
    )

    answer = live.get(f"/e/{event_id}.ics")

    assert answer.status_code == 200
    body = answer.content
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # folded
    for line in lines:
        line.decode("utf-8")  # never cut inside a character
    calendar = icalendar.Calendar.from_ical(body.decode("utf-8"))
    (event,) = calendar.walk("VEVENT")
    assert "ATTENDEE" not in event
    assert str(event["SUMMARY"]) == title.replace("\r\n", "\n")
    description = str(event["DESCRIPTION"])
    assert description.startswith("Ligne 1\nLigne 2, avec; tout\\ça é é")
    assert description.endswith("…") and len(description) < 320
    assert "\x07" not in description and "\x1b" not in description
    assert str(event["LOCATION"]) == "Salle A; B, C, Saint-Étienne"
    assert "URL" not in event  # only http(s) links
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="forum-debat-atelier-ess-end-vevent-attendee-mailto-evil.ics"'
    )


def test_unknown_ids_and_what_is_no_id_get_the_404_page(live) -> None:
    event_id = _add(live)
    for path in (
        f"/e/{event_id + 1000}.ics",
        "/e/abc.ics",
        f"/e/{event_id}.5.ics",
        f"/e/-{event_id}.ics",
        f"/e/0{event_id}.ics",
        "/e/0.ics",
        "/e/2147483648.ics",  # beyond a database integer
        "/e/99999999999.ics",
        "/e/999999999999999999999999999.ics",
        "/e/.ics",
        f"/e/{event_id}",
        f"/e/{event_id}.ics/x",
        f"/e/%20{event_id}.ics",
        f"/e/{event_id}%0A.ics",
    ):
        answer = live.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"].startswith("text/html"), path
        assert "BEGIN:VCALENDAR" not in answer.text
    assert live.get(f"/e/{event_id}.ics").status_code == 200


def test_the_file_is_cached_and_revalidated_with_its_etag(live) -> None:
    event_id = _add(live, title="Forum")
    path = f"/e/{event_id}.ics"

    first = live.get(path)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    assert live.get(path).headers["ETag"] == etag  # the same file, the same tag

    for given in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        answer = live.get(path, headers={"If-None-Match": given})
        assert answer.status_code == 304, given
        assert answer.content == b""
        assert answer.headers["ETag"] == etag
        assert answer.headers["Cache-Control"] == "public, max-age=3600"
    assert live.get(path, headers={"If-None-Match": '"other"'}).status_code == 200

    head = live.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == etag
    assert head.headers["Content-Type"] == "text/calendar; charset=utf-8"

    with Session(live.engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        event.title, event.updated_at = "Forum (complet)", datetime.now(UTC)
        session.add(event)
        session.commit()
    changed = live.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert str(_vevent(changed)["SUMMARY"]) == "Forum (complet)"


def test_the_file_records_no_hit_and_sets_no_cookie(live) -> None:
    event_id = _add(live)

    for _ in range(3):
        answer = live.get(f"/e/{event_id}.ics")
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers
    live.head(f"/e/{event_id}.ics")

    assert live.hits() == []
    assert live.count(Hit) == 0
    assert not live.http.cookies


def test_the_newsletter_link_is_a_tracked_click_to_the_event_file(live, kit) -> None:
    sent = kit.send(live)
    with Session(live.engine) as session:
        (event_id,) = session.exec(select(Event.id).where(Event.url == kit.event_url)).all()
    calendar_url = f"{live.url}/e/{event_id}.ics"
    html = sent.html("anne@example.org")

    links = re.findall(r'<a href="([^"]+)"[^>]*>Ajouter à mon agenda</a>', html)

    assert len(links) == 1
    assert links[0].startswith(f"{live.url}/c/")
    answer = live.get(links[0].removeprefix(live.url))
    assert answer.status_code == 302
    assert answer.headers["Location"] == calendar_url
    (click,) = live.hits(kind="click")
    assert click.link_id == sent.links[calendar_url]
    assert click.delivery_id == sent.deliveries["Anne"]
    calendar = live.get(answer.headers["Location"].removeprefix(live.url))
    assert calendar.status_code == 200
    assert str(_vevent(calendar)["URL"]) == kit.event_url
    assert len(live.hits()) == 1  # the click only
