"""Local times across the changes of time: each occurrence converted on its own day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from campaign.scheduling import timing

PARIS = ZoneInfo("Europe/Paris")


def test_a_daily_0900_stays_0900_local_across_the_end_of_summer_time() -> None:
    moments = [
        timing.to_utc(moment, PARIS)
        for moment in timing.occurrences(date(2026, 10, 24), date(2026, 10, 26), [time(9)])
    ]
    assert [moment.astimezone(PARIS).hour for moment in moments] == [9, 9, 9]
    assert moments == [
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),  # summer time, UTC+2
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),  # winter time from 03:00 that night, UTC+1
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]
    # 25 hours between the first two: never "the previous one plus 24 hours".
    assert (moments[1] - moments[0]).total_seconds() == 25 * 3600


def test_times_that_do_not_exist_or_exist_twice_are_recognised() -> None:
    assert timing.oddity(datetime(2026, 3, 29, 2, 30), PARIS) == "nonexistent"
    assert timing.oddity(datetime(2026, 10, 25, 2, 30), PARIS) == "ambiguous"
    assert timing.oddity(datetime(2026, 10, 25, 3, 0), PARIS) is None
    assert timing.oddity(datetime(2026, 10, 25, 1, 59), PARIS) is None


def test_an_ambiguous_time_is_refused_with_both_offsets_to_choose_from() -> None:
    with pytest.raises(timing.LocalTimeError) as caught:
        timing.to_utc(datetime(2026, 10, 25, 2, 30), PARIS)
    message = str(caught.value)
    assert "happens twice" in message
    assert "2026-10-25T02:30:00+02:00" in message and "2026-10-25T02:30:00+01:00" in message


def test_a_time_with_an_offset_is_taken_as_it_is() -> None:
    explicit = datetime.fromisoformat("2026-10-25T02:30:00+01:00")
    assert timing.to_utc(explicit, PARIS) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_the_first_day_a_recurring_time_falls_in_a_change_of_time_is_found() -> None:
    found = timing.first_oddity(date(2026, 10, 1), date(2026, 11, 30), [time(2, 30)], PARIS)
    assert found == (datetime(2026, 10, 25, 2, 30), "ambiguous")
    # Only on Mondays, the Sunday night of the change never comes up.
    assert (
        timing.first_oddity(date(2026, 1, 1), date(2026, 12, 31), [time(2, 30)], PARIS, [0]) is None
    )


@pytest.mark.parametrize(
    ("text", "expected"), [("09:00", time(9)), ("9h30", time(9, 30)), ("17:30", time(17, 30))]
)
def test_clock_times_are_read_as_written(text: str, expected: time) -> None:
    assert timing.parse_clock(text) == expected


@pytest.mark.parametrize("text", ["25:00", "9", "neuf heures", ""])
def test_what_is_not_a_clock_time_is_refused(text: str) -> None:
    assert timing.parse_clock(text) is None


def test_week_days_in_english_or_french() -> None:
    assert [timing.parse_weekday(name) for name in ("monday", "Lundi", "sun", "dimanche")] == [
        0,
        0,
        6,
        6,
    ]
    assert timing.parse_weekday("someday") is None
