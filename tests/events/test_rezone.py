"""``campaign events rezone``: events imported before zones are read again in their own zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from campaign.models import Event


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _old_rows(engine) -> None:
    """Rows as the importer stored them before zones: every local time read as Paris time."""
    with Session(engine) as session:
        for source_id, region, start, end in [
            # 18:00 in Saint-Denis, read as 18:00 Paris (17:00Z) instead of 14:00Z.
            ("R", "La Réunion", _utc(2026, 11, 5, 17), _utc(2026, 11, 5, 19)),
            # 23:30 in Cayenne, read as Paris time: stored on the wrong instant and day.
            ("C", "Guyane", _utc(2026, 11, 5, 22, 30), None),
            # A day alone in Guadeloupe (Paris midnight), then a day range in Bretagne.
            ("G", "Guadeloupe", _utc(2026, 11, 6, 23), None),
            ("B", "Bretagne", _utc(2026, 11, 4, 23), _utc(2026, 11, 6, 23)),
            ("P", "Bretagne", _utc(2026, 11, 5, 17), _utc(2026, 11, 5, 19)),  # right already
        ]:
            session.add(
                Event(source_id=source_id, title=f"Évènement {source_id}", region=region,
                      starts_at=start, ends_at=end)
            )  # fmt: skip
        session.commit()


def _stored(engine) -> dict[str, tuple]:
    with Session(engine) as session:
        return {
            e.source_id: (e.starts_at, e.ends_at, e.timezone, e.all_day)
            for e in session.exec(select(Event))
        }


def test_a_dry_run_lists_the_moves_and_saves_nothing(cli, engine) -> None:
    assert cli("events", "list").exit_code == 0  # migrates the database
    _old_rows(engine)
    before = _stored(engine)

    result = cli("events", "rezone", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert "R Évènement R (La Réunion): 05/11/2026 21:00 becomes 05/11/2026 18:00" in result.stdout
    assert "5 event(s) imported before time zones; 4 would be moved" in result.stdout
    assert "Nothing was saved (dry run)." in result.stdout
    assert _stored(engine) == before


def test_rezone_reads_each_event_in_its_region_zone_once(cli, engine) -> None:
    assert cli("events", "list").exit_code == 0
    _old_rows(engine)

    result = cli("events", "rezone", "--json")

    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 5
    stored = _stored(engine)
    assert stored["R"] == (_utc(2026, 11, 5, 14), _utc(2026, 11, 5, 16), "Indian/Reunion", False)
    assert stored["C"] == (_utc(2026, 11, 6, 2, 30), None, "America/Cayenne", False)
    # Midnight in Guadeloupe is 04:00Z; the all-day event is over at the next midnight.
    assert stored["G"] == (_utc(2026, 11, 7, 4), _utc(2026, 11, 8, 4), "America/Guadeloupe", True)
    assert stored["B"] == (_utc(2026, 11, 4, 23), _utc(2026, 11, 7, 23), "Europe/Paris", True)
    assert stored["P"] == (_utc(2026, 11, 5, 17), _utc(2026, 11, 5, 19), "Europe/Paris", False)

    again = cli("events", "rezone", "--json")
    assert json.loads(again.stdout) == [] and _stored(engine) == stored
