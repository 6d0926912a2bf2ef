"""Reading calendars: every mistake is one clear problem naming the file, the line and the entry."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.scheduling.calendar import read_calendar
from campaign.scheduling.checks import check_calendar
from campaign.scheduling.tomlsource import SourceMap

from .conftest import NOW, SAMPLE_CALENDAR, add_events, add_list, import_samples

GOOD_NEWSLETTER = """
[[newsletter]]
key = "ouverture"
at = 2026-10-20 10:00:00
title = "Le Mois de l'ESS ouvre ses portes"
subject = "Le Mois commence"
template = "mois-ess"
lists = ["Newsletter nationale"]
events = { from = 2026-11-01, to = 2026-11-08, regions = ["subscriber"], max = 6 }
"""

GOOD_POST = """
[[post]]
key = "j-1"
account = "mois_ess"
at = 2026-10-31 17:30:00
text = "Demain commence le #MoisESS !"
"""


def _read(path: Path, settings: Settings, session: Session | None = None):
    return read_calendar(path, settings, session=session, now=NOW)


def test_a_good_calendar_reads_with_no_problem_and_times_in_utc(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(
        GOOD_NEWSLETTER
        + GOOD_POST
        + """
[[recurring]]
key = "evenements"
kind = "event-posts"
account = "mois_ess"
from = 2026-11-02
to = 2026-11-30
times = ["09:00", "12:30", "17:30"]
template = "evenements-du-jour"

[[recurring]]
key = "mesures"
kind = "sync-metrics"
days = ["lundi"]
times = ["08:00"]
"""
    )
    calendar = _read(path, settings)
    assert calendar.problems == []
    (newsletter,) = calendar.newsletters
    assert newsletter.at == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # 10:00 summer time
    assert newsletter.event_rule["regions"] == ["subscriber"]
    (post,) = calendar.posts
    assert post.at == datetime(2026, 10, 31, 16, 30, tzinfo=UTC)  # 17:30 winter time
    assert post.parts == ["Demain commence le #MoisESS !"]
    events, metrics = calendar.recurring
    assert events.times == [time(9), time(12, 30), time(17, 30)]
    assert (events.date_from, events.date_to) == (date(2026, 11, 2), date(2026, 11, 30))
    assert metrics.days == [0] and metrics.account is None


# Each case: the calendar text, the line of the problem, the entry named, words of the message.
MISTAKES = {
    "toml syntax": (
        'key = "x"\n[[post]\nkey = "a"\n',
        2,
        "",
        "not valid TOML",
    ),
    "unknown section": (
        GOOD_POST + '\n[[newsleter]]\nkey = "a"\n',
        8,
        "",
        "unknown section 'newsleter' (did you mean [[newsletter]]?)",
    ),
    "single brackets": (
        '[post]\nkey = "a"\n',
        1,
        "",
        "write [[post]] (two brackets)",
    ),
    "unknown field": (
        GOOD_POST.replace("text =", 'txt = "a"\ntext ='),
        6,
        "post 'j-1'",
        "unknown field 'txt' (did you mean 'text'?)",
    ),
    "missing key": (
        GOOD_POST.replace('key = "j-1"\n', ""),
        2,
        "post #1",
        "'key' is missing",
    ),
    "missing title": (
        GOOD_NEWSLETTER.replace('title = "Le Mois de l\'ESS ouvre ses portes"\n', ""),
        2,
        "newsletter 'ouverture'",
        "'title' is missing",
    ),
    "duplicate key": (
        GOOD_POST + GOOD_POST.replace("17:30", "18:30"),
        9,
        "post 'j-1'",
        "key 'j-1' is already used by the post at line 2",
    ),
    "unknown template": (
        GOOD_NEWSLETTER.replace('"mois-ess"', '"mois"'),
        7,
        "newsletter 'ouverture'",
        "Unknown template 'mois'",
    ),
    "unknown account": (
        GOOD_POST.replace('"mois_ess"', '"prix"'),
        4,
        "post 'j-1'",
        "unknown account 'prix' (accounts in [social.accounts]: mois_ess, prix_ess)",
    ),
    "unknown region": (
        GOOD_NEWSLETTER.replace('["subscriber"]', '["Atlantide"]'),
        9,
        "newsletter 'ouverture'",
        "Unknown region 'Atlantide'",
    ),
    "unknown theme in a rule": (
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
account = "mois_ess"
from = 2026-11-02
to = 2026-11-30
times = ["09:00"]
themes = ["Jardiner"]
template = "evenements-du-jour"
""",
        9,
        "recurring 'evenements'",
        "unknown theme 'Jardiner'",
    ),
    "text too long for X": (
        GOOD_POST.replace("Demain commence le #MoisESS !", "é" * 290),
        6,
        "post 'j-1'",
        "is 290 characters long as X counts them (at most 280",
    ),
    "thread part too long": (
        GOOD_POST.replace(
            'text = "Demain commence le #MoisESS !"', f'thread = ["Un.", "{"a" * 281}"]'
        ),
        6,
        "post 'j-1'",
        "part 2 of the thread is 281 characters long",
    ),
    "time written as text": (
        GOOD_POST.replace("2026-10-31 17:30:00", '"2026-10-31 17:30"'),
        5,
        "post 'j-1'",
        "must be a TOML date and time without quotes",
    ),
    "date without time": (
        GOOD_POST.replace("2026-10-31 17:30:00", "2026-10-31"),
        5,
        "post 'j-1'",
        "needs a time too",
    ),
    "time that does not exist": (
        GOOD_POST.replace("2026-10-31 17:30:00", "2027-03-28 02:30:00"),
        5,
        "post 'j-1'",
        "2027-03-28 02:30 does not exist in Europe/Paris",
    ),
    "time that happens twice": (
        GOOD_POST.replace("2026-10-31 17:30:00", "2026-10-25 02:30:00"),
        5,
        "post 'j-1'",
        "2026-10-25 02:30 happens twice in Europe/Paris",
    ),
    "recurring time in the change of time": (
        """
[[recurring]]
key = "nuit"
kind = "sync-metrics"
from = 2026-10-01
to = 2026-10-31
times = ["02:30"]
""",
        7,
        "recurring 'nuit'",
        "on Sunday 2026-10-25 the rule's 02:30 happens twice",
    ),
    "image without alt": (
        GOOD_POST + 'images = [{ path = "affiche.png" }]\n',
        7,
        "post 'j-1'",
        "image 1 (affiche.png): 'alt' is missing",
    ),
    "image file missing": (
        GOOD_POST + 'images = [{ path = "absente.png", alt = "Affiche" }]\n',
        7,
        "post 'j-1'",
        "image 1: no file",
    ),
    "bad recurring kind": (
        '[[recurring]]\nkey = "r"\nkind = "tweets"\ntimes = ["09:00"]\n',
        3,
        "recurring 'r'",
        "'kind' is 'tweets': use one of event-posts, sync-metrics",
    ),
    "bad time of day": (
        '[[recurring]]\nkey = "r"\nkind = "sync-metrics"\ntimes = ["9 heures"]\n',
        4,
        "recurring 'r'",
        "'9 heures' is not a time of day",
    ),
    "bad week day": (
        '[[recurring]]\nkey = "r"\nkind = "sync-metrics"\ntimes = ["09:00"]\ndays = ["lunedi"]\n',
        5,
        "recurring 'r'",
        "'lunedi' is not a day of the week",
    ),
    "rule ending before it starts": (
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
account = "mois_ess"
from = 2026-11-30
to = 2026-11-02
times = ["09:00"]
template = "evenements-du-jour"
""",
        7,
        "recurring 'evenements'",
        "'to' is before 'from'",
    ),
    "event rule ending before it starts": (
        GOOD_NEWSLETTER.replace(
            "from = 2026-11-01, to = 2026-11-08", "from = 2026-11-08, to = 2026-11-01"
        ),
        9,
        "newsletter 'ouverture'",
        "'events.to' is before 'events.from'",
    ),
    "unknown post template": (
        GOOD_POST.replace('text = "Demain commence le #MoisESS !"', 'template = "inconnu"'),
        6,
        "post 'j-1'",
        "unknown post template 'inconnu'",
    ),
    "two kinds of text": (
        GOOD_POST + 'thread = ["Un.", "Deux."]\n',
        7,
        "post 'j-1'",
        "exactly one of 'text', 'thread'",
    ),
    "unknown choice for readers without events": (
        GOOD_NEWSLETTER + 'when_no_events = "partout"\n',
        10,
        "newsletter 'ouverture'",
        "'when_no_events' must be one of 'national', 'nearest', 'text', 'skip'",
    ),
    "a text choice without its text": (
        GOOD_NEWSLETTER + 'when_no_events = "text"\n',
        10,
        "newsletter 'ouverture'",
        'when_no_events = "text" needs the text readers without events get',
    ),
    "a text for readers without events that is not text": (
        GOOD_NEWSLETTER + 'when_no_events = "text"\nno_events_text = 3\n',
        11,
        "newsletter 'ouverture'",
        "'no_events_text' must be text",
    ),
}


@pytest.mark.parametrize(("text", "line", "where", "words"), MISTAKES.values(), ids=MISTAKES)
def test_each_mistake_is_one_error_naming_file_line_and_entry(
    write_calendar: Callable[..., Path],
    settings: Settings,
    text: str,
    line: int,
    where: str,
    words: str,
) -> None:
    path = write_calendar(text)
    calendar = _read(path, settings)
    errors = calendar.errors
    assert len(errors) == 1, [str(error) for error in errors]
    (error,) = errors
    assert (error.path, error.line, error.where) == (path, line, where), str(error)
    assert words in error.message
    assert str(error).startswith(f"{path}:{line}:")


def test_an_unknown_list_is_found_with_the_database(
    write_calendar: Callable[..., Path], settings: Settings, session: Session
) -> None:
    add_list(session, name="Autre liste")
    path = write_calendar(GOOD_NEWSLETTER)
    (error,) = _read(path, settings, session).errors
    assert (error.line, error.where) == (8, "newsletter 'ouverture'")
    assert "Newsletter nationale" in error.message


def test_a_time_with_an_offset_settles_the_night_of_the_change(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(GOOD_POST.replace("2026-10-31 17:30:00", "2026-10-25T02:30:00+01:00"))
    calendar = _read(path, settings)
    assert calendar.errors == []
    assert calendar.posts[0].at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_a_time_in_the_past_is_a_warning_not_an_error(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(GOOD_POST.replace("2026-10-31 17:30:00", "2026-09-01 09:00:00"))
    calendar = _read(path, settings)
    assert calendar.errors == []
    (warning,) = calendar.warnings
    assert (warning.line, warning.where) == (5, "post 'j-1'")
    assert "2026-09-01 09:00 is in the past (sync does not create past entries)" in warning.message


def test_several_mistakes_are_all_reported_in_line_order(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(
        GOOD_NEWSLETTER.replace('"mois-ess"', '"mois"')
        + GOOD_POST.replace('"mois_ess"', '"moi_ess"')
    )
    calendar = _read(path, settings)
    assert [(error.line, error.where) for error in calendar.errors] == [
        (7, "newsletter 'ouverture'"),
        (13, "post 'j-1'"),
    ]


def test_a_long_text_with_split_becomes_a_thread(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    sentence = "Le Mois de l'ESS met en avant des manifestations partout en France. "
    path = write_calendar(
        GOOD_POST.replace("Demain commence le #MoisESS !", sentence * 6) + "split = true\n"
    )
    calendar = _read(path, settings)
    assert calendar.errors == []
    assert len(calendar.posts[0].parts) == 2


def test_a_post_from_a_template_is_rendered_with_its_vars(
    write_calendar: Callable[..., Path], settings: Settings
) -> None:
    path = write_calendar(
        GOOD_POST.replace(
            'text = "Demain commence le #MoisESS !"',
            'template = "annonce"\n'
            'vars = { text = "Votez !", url = "https://lemois-ess.example.org/vote", '
            'hashtags = ["PrixESS"] }',
        )
    )
    calendar = _read(path, settings)
    assert calendar.errors == []
    assert calendar.posts[0].text == "Votez !\n\nhttps://lemois-ess.example.org/vote\n\n#PrixESS"


def test_lines_are_found_in_sub_tables_and_past_multi_line_strings() -> None:
    text = textwrap.dedent(
        '''
        [[newsletter]]
        key = "a"
        intro = """
        [[post]]
        not a header
        """

        [newsletter.set]
        action_url = "https://example.org"

        [[post]]
        key = "b"
        '''
    )
    source = SourceMap(text)
    assert source.entries("newsletter") == [(2, 11)]
    assert source.entries("post") == [(12, 13)]
    assert source.field_line("newsletter", (2, 11), ("set", "action_url")) == 10
    assert source.field_line("newsletter", (2, 11), ("intro",)) == 4


def test_check_renders_each_newsletter_and_reports_what_would_fail_on_the_day(
    write_calendar: Callable[..., Path], settings: Settings, session: Session
) -> None:
    add_list(session)
    path = write_calendar(
        GOOD_NEWSLETTER.replace('"mois-ess"', '"prix-ess"').replace(
            'events = { from = 2026-11-01, to = 2026-11-08, regions = ["subscriber"], max = 6 }',
            "",
        )
    )
    calendar = check_calendar(path, settings, session, now=NOW)
    (error,) = calendar.errors
    assert (error.line, error.where) == (2, "newsletter 'ouverture'")
    assert "action_url" in error.message


def test_check_plans_the_event_posts_and_warns_of_days_without_events(
    write_calendar: Callable[..., Path], settings: Settings, session: Session
) -> None:
    add_events(session, [datetime(2026, 11, 2)], per_day=6)
    path = write_calendar(
        """
[[recurring]]
key = "evenements"
kind = "event-posts"
account = "mois_ess"
from = 2026-11-02
to = 2026-11-03
times = ["09:00", "12:30", "17:30"]
template = "evenements-du-jour"
"""
    )
    calendar = check_calendar(path, settings, session, now=NOW)
    assert calendar.errors == []
    (warning,) = calendar.warnings
    assert warning.where == "recurring 'evenements'"
    assert "3 of 6 posts have no event left to announce" in warning.message
    assert "03/11 09:00" in warning.message


def test_the_shipped_calendar_passes_check_against_the_sample_data(
    settings: Settings, session: Session
) -> None:
    import_samples(session, settings)
    before_the_campaign = datetime(2026, 1, 5, tzinfo=UTC)
    calendar = check_calendar(SAMPLE_CALENDAR, settings, session, now=before_the_campaign)
    assert calendar.problems == [], [str(problem) for problem in calendar.problems]
    assert (len(calendar.newsletters), len(calendar.posts), len(calendar.recurring)) == (7, 10, 2)
