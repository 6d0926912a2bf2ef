"""Dates, times and numbers in French and English: the team's forms, through Babel.

The French forms are the ones the newsletters, posts and dashboard always wrote ("jeudi 5
novembre", "1er", "14h30", "9h"); event times are read in the event's own zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jinja2
import pytest

from campaign.formatting import (
    date_filters,
    event_day,
    event_when,
    event_zone,
    format_event_when,
    format_number,
    format_percent,
    long_date,
    month_names,
    time_of_day,
    weekday_names,
)

PARIS = ZoneInfo("Europe/Paris")
GUADELOUPE = ZoneInfo("America/Guadeloupe")
BRUSSELS = ZoneInfo("Europe/Brussels")
LONDON = ZoneInfo("Europe/London")
REUNION = ZoneInfo("Indian/Reunion")
CAYENNE = ZoneInfo("America/Cayenne")
NNBSP = "\u202f"  # narrow no-break space: French digit groups, English "PM"
NBSP = "\u00a0"  # no-break space: before the French "%"


def when(start: datetime, end: datetime | None = None, **options) -> str:  # type: ignore[no-untyped-def]
    zone = start.tzinfo
    options.setdefault("all_day", False)
    options.setdefault("event_zone", zone)
    options.setdefault("reader_zone", PARIS)
    return format_event_when(start, end, **options)


# --- days ---------------------------------------------------------------------------------------


def test_french_long_days_with_and_without_the_year() -> None:
    day = date(2026, 11, 5)
    assert long_date(day) == "jeudi 5 novembre 2026"
    assert long_date(day, with_year=False) == "jeudi 5 novembre"


def test_the_first_of_the_month_is_1er_in_french_only() -> None:
    first = date(2026, 11, 1)
    assert long_date(first, with_year=False) == "dimanche 1er novembre"
    assert long_date(first) == "dimanche 1er novembre 2026"
    assert long_date(first, locale="en") == "Sunday 1 November 2026"


def test_english_long_days() -> None:
    assert long_date(date(2026, 11, 5), locale="en") == "Thursday 5 November 2026"
    assert long_date(date(2026, 11, 5), locale="en", with_year=False) == "Thursday 5 November"


def test_a_moment_is_on_its_day_in_the_zone_given() -> None:
    late = datetime(2026, 11, 5, 23, 30, tzinfo=UTC)  # 00:30 on the 6th in Paris
    assert long_date(late, PARIS, with_year=False) == "vendredi 6 novembre"
    assert long_date(late, UTC, with_year=False) == "jeudi 5 novembre"
    # Stored times are UTC: a naive one is taken as UTC too.
    assert long_date(late.replace(tzinfo=None), PARIS) == "vendredi 6 novembre 2026"


def test_month_and_weekday_names() -> None:
    assert month_names()[10] == "novembre" and month_names("en")[0] == "January"
    assert weekday_names() == (
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    )
    assert weekday_names("en")[3] == "Thursday"


def test_an_unknown_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="'de'"):
        long_date(date(2026, 11, 5), locale="de")


# --- times --------------------------------------------------------------------------------------


def test_french_times_leave_out_zero_minutes() -> None:
    assert time_of_day(time(14, 30)) == "14h30"
    assert time_of_day(time(9)) == "9h"
    assert time_of_day(time(9, 5)) == "9h05"
    assert time_of_day(time(0)) == "0h"  # midnight
    assert time_of_day(datetime(2026, 11, 5, 13, 30, tzinfo=UTC), PARIS) == "14h30"


def test_english_times_are_babel_s_short_time() -> None:
    assert time_of_day(time(14, 30), locale="en") == f"2:30{NNBSP}PM"
    assert time_of_day(time(18), locale="en") == f"6{NNBSP}PM"
    assert time_of_day(time(0), locale="en") == f"12{NNBSP}AM"


def test_times_across_the_autumn_change_in_paris() -> None:
    # 25 October 2026: at 01:00 UTC, 3h summer time becomes 2h winter time.
    assert time_of_day(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), PARIS) == "2h30"
    assert time_of_day(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), PARIS) == "2h30"
    # A two-hour event starting at 00:00 UTC: 2h summer time to 3h winter time.
    start, end = (datetime(2026, 10, 25, hour, tzinfo=UTC) for hour in (0, 2))
    assert (
        format_event_when(start, end, all_day=False, event_zone=PARIS, reader_zone=PARIS)
        == "dimanche 25 octobre, 2h – 3h"
    )


def test_times_across_the_spring_change_in_paris() -> None:
    # 29 March 2026: at 01:00 UTC, 2h winter time becomes 3h summer time.
    start, end = (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    )
    assert time_of_day(end, PARIS) == "3h30"
    assert (
        format_event_when(start, end, all_day=False, event_zone=PARIS, reader_zone=PARIS)
        == "dimanche 29 mars, 1h30 – 3h30"
    )


# --- Jinja filters of the templates -------------------------------------------------------------


@pytest.mark.parametrize(
    ("with_year", "expected"),
    [(True, "dimanche 1er novembre 2026 à 9h"), (False, "dimanche 1er novembre à 9h")],
)
def test_the_template_filters_keep_their_names_and_the_caller_s_year(
    with_year: bool, expected: str
) -> None:
    env = jinja2.Environment()
    env.filters.update(date_filters(PARIS, with_year=with_year))
    moment = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert env.from_string("{{ m|date_fr }} à {{ m|time_fr }}").render(m=moment) == expected
    both = env.from_string("{{ m|date_fr(with_year=True) }}|{{ m|date_fr(False) }}")
    assert both.render(m=moment) == "dimanche 1er novembre 2026|dimanche 1er novembre"


# --- events -------------------------------------------------------------------------------------


def test_an_event_with_its_hours() -> None:
    start, end = datetime(2026, 11, 5, 18, tzinfo=PARIS), datetime(2026, 11, 5, 20, tzinfo=PARIS)
    assert when(start, end) == "jeudi 5 novembre, 18h – 20h"
    assert when(start) == "jeudi 5 novembre, 18h"
    assert when(start, end, with_year=True) == "jeudi 5 novembre 2026, 18h – 20h"
    assert when(start, end, locale="en") == f"Thursday 5 November, 6{NNBSP}PM – 8{NNBSP}PM"
    assert when(datetime(2026, 11, 1, 9, 30, tzinfo=PARIS)) == "dimanche 1er novembre, 9h30"


def test_an_event_over_midnight_names_both_days() -> None:
    start, end = datetime(2026, 11, 5, 22, tzinfo=PARIS), datetime(2026, 11, 6, 2, tzinfo=PARIS)
    assert when(start, end) == "jeudi 5 novembre, 22h – vendredi 6 novembre, 2h"


def test_an_event_at_midnight_starts_at_0h() -> None:
    assert when(datetime(2026, 11, 6, 0, 0, tzinfo=PARIS)) == "vendredi 6 novembre, 0h"


def test_an_all_day_event_never_shows_a_time() -> None:
    day = datetime(2026, 11, 5, tzinfo=PARIS)
    assert when(day, day + timedelta(days=1), all_day=True) == "jeudi 5 novembre, toute la journée"
    assert when(day, day, all_day=True) == "jeudi 5 novembre, toute la journée"
    assert when(day, None, all_day=True) == "jeudi 5 novembre, toute la journée"
    assert when(day, day, all_day=True, locale="en") == "Thursday 5 November, all day"
    assert "0h" not in when(day, day, all_day=True, zone_label="heure de Paris")


def test_an_all_day_event_over_several_days() -> None:
    def days(first: date, last: date, **options) -> str:  # type: ignore[no-untyped-def]
        # Stored as the importer does: over at the midnight after the last day.
        start = datetime.combine(first, time.min, tzinfo=PARIS)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=PARIS)
        return when(start, end, all_day=True, **options)

    assert days(date(2026, 11, 5), date(2026, 11, 7)) == "du jeudi 5 au samedi 7 novembre"
    assert days(date(2026, 11, 30), date(2026, 12, 2)) == "du 30 novembre au 2 décembre"
    assert days(date(2026, 11, 1), date(2026, 11, 3)) == "du dimanche 1er au mardi 3 novembre"
    assert days(date(2026, 10, 30), date(2026, 11, 1)) == "du 30 octobre au 1er novembre"
    assert (
        days(date(2026, 11, 5), date(2026, 11, 7), with_year=True)
        == "du jeudi 5 au samedi 7 novembre 2026"
    )
    assert days(date(2026, 12, 30), date(2027, 1, 2)) == "du 30 décembre 2026 au 2 janvier 2027"
    assert (
        days(date(2026, 11, 5), date(2026, 11, 7), locale="en")
        == "from Thursday 5 to Saturday 7 November"
    )
    assert (
        days(date(2026, 11, 30), date(2026, 12, 2), locale="en") == "from 30 November to 2 December"
    )


def test_an_all_day_event_is_on_its_own_days_read_from_elsewhere() -> None:
    # Midnight in La Réunion is still the day before in Paris (and in UTC, as stored).
    day = datetime(2026, 11, 5, tzinfo=REUNION).astimezone(UTC)
    assert (
        format_event_when(day, day, all_day=True, event_zone=REUNION, reader_zone=PARIS)
        == "jeudi 5 novembre, toute la journée"
    )


def test_the_event_s_zone_is_named_when_its_clock_differs_from_the_reader_s() -> None:
    start = datetime(2026, 11, 5, 18, tzinfo=REUNION)
    end = datetime(2026, 11, 5, 20, tzinfo=REUNION)
    label = "heure de La Réunion"
    assert when(start, end, zone_label=label) == "jeudi 5 novembre, 18h – 20h (heure de La Réunion)"
    assert when(start, end, zone_label="La Réunion time", locale="en") == (
        f"Thursday 5 November, 6{NNBSP}PM – 8{NNBSP}PM (La Réunion time)"
    )
    assert when(start, end) == "jeudi 5 novembre, 18h – 20h"  # no label given: nothing to say
    # Read in La Réunion itself, the label would only repeat the obvious.
    assert when(start, end, zone_label=label, reader_zone=REUNION) == "jeudi 5 novembre, 18h – 20h"


def test_another_name_for_the_same_clock_is_not_worth_a_label() -> None:
    start = datetime(2026, 11, 5, 18, tzinfo=BRUSSELS)
    assert when(start, zone_label="heure de Bruxelles") == "jeudi 5 novembre, 18h"


def test_the_offsets_are_compared_at_the_event_s_instant() -> None:
    # London and UTC share a clock in winter, not in summer.
    winter, summer = (
        datetime(2026, 1, 15, 18, tzinfo=LONDON),
        datetime(2026, 7, 15, 18, tzinfo=LONDON),
    )
    options = {"reader_zone": UTC, "zone_label": "heure de Londres"}
    assert when(winter, **options) == "jeudi 15 janvier, 18h"
    assert when(summer, **options) == "mercredi 15 juillet, 18h (heure de Londres)"


def test_a_late_evening_in_cayenne_is_shown_on_its_own_day() -> None:
    # 23:30 in Cayenne (UTC-3) is 03:30 the next day in Paris.
    start = datetime(2026, 11, 5, 23, 30, tzinfo=CAYENNE).astimezone(UTC)
    assert long_date(start, PARIS, with_year=False) == "vendredi 6 novembre"
    assert (
        format_event_when(
            start,
            None,
            all_day=False,
            event_zone=CAYENNE,
            reader_zone=PARIS,
            zone_label="heure de Guyane",
        )
        == "jeudi 5 novembre, 23h30 (heure de Guyane)"
    )


def test_under_its_day_s_heading_an_event_says_only_what_the_heading_does_not() -> None:
    start = datetime(2026, 11, 5, 18, tzinfo=REUNION)
    label = {"zone_label": "heure de La Réunion"}
    assert when(start, start + timedelta(hours=2), with_day=False, **label) == (
        "18h – 20h (heure de La Réunion)"
    )
    night = datetime(2026, 11, 5, 22, tzinfo=PARIS)
    assert (
        when(night, night + timedelta(hours=4), with_day=False) == "22h – vendredi 6 novembre, 2h"
    )
    day = datetime(2026, 11, 5, tzinfo=PARIS)
    assert when(day, day + timedelta(days=1), all_day=True, with_day=False) == "toute la journée"
    assert when(day, day + timedelta(days=3), all_day=True, with_day=False) == (
        "du jeudi 5 au samedi 7 novembre"
    )


def test_an_event_s_start_alone() -> None:
    start = datetime(2026, 11, 5, 18, tzinfo=REUNION)
    end = start + timedelta(hours=2)
    label = {"zone_label": "heure de La Réunion"}
    assert (
        when(start, end, with_end=False, **label) == "jeudi 5 novembre, 18h (heure de La Réunion)"
    )
    assert when(start, end, with_day=False, with_end=False, **label) == "18h (heure de La Réunion)"


def stored(**fields: object) -> dict[str, object]:
    """An event's fields as stored (UTC) and as a post template is given them."""
    values: dict[str, object] = {"ends_at": None, "timezone": "", "all_day": False}
    values.update(fields)
    return values


def test_an_event_is_shown_in_its_own_zone_and_named_from_the_built_in_labels() -> None:
    reunion = stored(
        starts_at=datetime(2026, 11, 5, 18, tzinfo=REUNION).astimezone(UTC),
        ends_at=datetime(2026, 11, 5, 20, tzinfo=REUNION).astimezone(UTC),
        timezone="Indian/Reunion",
    )
    guadeloupe = stored(
        starts_at=datetime(2026, 11, 5, 18, tzinfo=GUADELOUPE).astimezone(UTC),
        timezone="America/Guadeloupe",
    )
    assert event_zone(reunion, PARIS) == REUNION
    assert event_when(reunion, PARIS) == "jeudi 5 novembre, 18h – 20h (heure de La Réunion)"
    assert event_when(guadeloupe, PARIS) == "jeudi 5 novembre, 18h (heure de Guadeloupe)"
    # Read in La Réunion (its [general] timezone), the label would only repeat the obvious.
    assert event_when(reunion, REUNION) == "jeudi 5 novembre, 18h – 20h"


def test_an_event_stored_before_zones_is_in_the_configured_zone() -> None:
    old = stored(starts_at=datetime(2026, 11, 5, 17, tzinfo=UTC))
    assert event_zone(old, PARIS) == PARIS
    assert event_when(old, PARIS) == "jeudi 5 novembre, 18h"


def test_an_event_s_day_is_its_own_day_where_it_takes_place() -> None:
    cayenne = stored(
        starts_at=datetime(2026, 11, 5, 23, 30, tzinfo=CAYENNE).astimezone(UTC),
        timezone="America/Cayenne",
    )
    assert event_day(cayenne, PARIS) == date(2026, 11, 5)  # 03:30 on the 6th in Paris


def test_the_event_filters_of_the_templates() -> None:
    env = jinja2.Environment()
    env.filters.update(date_filters(PARIS, with_year=True))
    reunion = stored(
        starts_at=datetime(2026, 11, 5, 18, tzinfo=REUNION).astimezone(UTC),
        ends_at=datetime(2026, 11, 5, 20, tzinfo=REUNION).astimezone(UTC),
        timezone="Indian/Reunion",
    )
    day = datetime(2026, 11, 7, tzinfo=PARIS)
    all_day = stored(starts_at=day, ends_at=day + timedelta(days=1), all_day=True)
    source = (
        "{{ e|event_when }}|{{ e|event_when(with_year=False) }}|"
        "{{ e|event_when(with_day=False) }}|{{ e|event_when(with_day=False, with_end=False) }}|"
        "{{ e|event_day|date_fr }}"
    )
    assert env.from_string(source).render(e=reunion).split("|") == [
        "jeudi 5 novembre 2026, 18h – 20h (heure de La Réunion)",
        "jeudi 5 novembre, 18h – 20h (heure de La Réunion)",
        "18h – 20h (heure de La Réunion)",
        "18h (heure de La Réunion)",
        "jeudi 5 novembre 2026",
    ]
    assert env.from_string(source).render(e=all_day).split("|") == [
        "samedi 7 novembre 2026, toute la journée",
        "samedi 7 novembre, toute la journée",
        "toute la journée",
        "toute la journée",
        "samedi 7 novembre 2026",
    ]


# --- numbers ------------------------------------------------------------------------------------


def test_numbers() -> None:
    assert format_number(1713) == f"1{NNBSP}713"
    assert format_number(1713, "en") == "1,713"
    assert format_number(-1234.5) == f"-1{NNBSP}234,5"
    assert format_number(0.015, "fr", digits=3) == "0,015"
    assert format_number(2, "fr", digits=2) == "2,00"


def test_percentages() -> None:
    assert format_percent(0.125) == f"12,5{NBSP}%"
    assert format_percent(0.125, "en") == "12.5%"
    assert format_percent(0.5, "fr", digits=0) == f"50{NBSP}%"
    assert format_percent(0.45234, "fr", 2) == f"45,23{NBSP}%"
