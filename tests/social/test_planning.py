"""Planning posts from events: variety, no event twice, local days, texts that fit, the cost."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from campaign.config import Settings, SocialAccount
from campaign.errors import CampaignError
from campaign.models import Event, Post, PostStatus
from campaign.social.length import check_length
from campaign.social.planning import parse_times, plan_event_posts
from campaign.social.posts import cancel_post

PARIS = ZoneInfo("Europe/Paris")
BEFORE = datetime(2026, 10, 1, tzinfo=UTC)  # "now" for the plans: before the Mois
TIMES = [time(9), time(12, 30), time(17, 30)]
URL = "https://lemois-ess.example.org/manifestations/"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def add(session: Session, source_id: str, starts_at: datetime, **fields: object) -> Event:
    fields.setdefault("title", f"Rencontre {source_id}")
    fields.setdefault("city", "Lyon")
    fields.setdefault("url", URL + source_id.lower())
    event = Event(source_id=source_id, starts_at=starts_at, **fields)
    session.add(event)
    session.commit()
    return event


def plan(session: Session, settings: Settings, first: date, last: date, **options):
    options.setdefault("times", TIMES)
    options.setdefault("now", BEFORE)
    return plan_event_posts(
        session, settings, account="mois_ess", date_from=first, date_to=last, **options
    )


def featured(session: Session) -> list[int]:
    posts = session.exec(select(Post).where(Post.status != PostStatus.cancelled)).all()
    return [event_id for post in posts for event_id in post.event_ids]


def crowd(session: Session, day: int, prefix: str) -> None:
    """A day where one region and one theme dominate, as in a real export."""
    rows = [
        ("Île-de-France", "Se loger"),
        ("Île-de-France", "Se loger"),
        ("Île-de-France", "Travailler"),
        ("Île-de-France", "Se loger"),
        ("Bretagne", "Se loger"),
        ("Normandie", "Consommer"),
        ("Occitanie", "Travailler"),
        ("Grand Est", "Se cultiver"),
    ]
    for number, (region, theme) in enumerate(rows):
        add(
            session,
            f"{prefix}{day}-{number}",
            paris(2026, 11, day, 18, 0),
            ends_at=paris(2026, 11, day, 20, 0),
            region=region,
            theme=theme,
        )


def test_regions_and_themes_vary_within_a_day_and_across_days(
    session: Session, x_settings: Settings
) -> None:
    for day in (5, 6, 7):
        crowd(session, day, "E")
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 7))
    assert len(result.planned) == 9
    by_day: dict[date, list[Event]] = {}
    for planned in result.planned:
        by_day.setdefault(planned.day, []).append(planned.event)
    for events in by_day.values():
        assert len({event.region for event in events}) == 3  # three regions a day
        assert len({event.theme for event in events}) == 3  # three themes a day
    regions = Counter(planned.event.region for planned in result.planned)
    assert len(regions) == 5  # every region of the catalogue had its turn
    assert regions["Île-de-France"] <= 3  # the crowded region does not take over
    # Times are the local ones asked for, stored in UTC (CET: UTC+1 in November).
    assert [p.post.scheduled_at for p in result.planned[:3]] == [
        datetime(2026, 11, 5, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 5, 11, 30, tzinfo=UTC),
        datetime(2026, 11, 5, 16, 30, tzinfo=UTC),
    ]
    assert all(p.post.status == PostStatus.draft for p in result.planned)
    text = result.planned[0].post.text
    assert "#MoisESS" in text and result.planned[0].event.url in text
    assert result.planned[0].event.title in text and "Aujourd'hui à 18h" in text


def test_no_event_is_featured_twice_even_across_runs(
    session: Session, x_settings: Settings
) -> None:
    for day in (5, 6):
        crowd(session, day, "E")
    first = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 6))
    assert len(first.planned) == 6
    # Same days again: every slot is taken, nothing new, and it says so.
    again = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 6))
    assert again.planned == []
    assert sum("already planned" in str(note) for note in again.notes) == 6
    # Other times on the same days: only events not featured yet.
    more = plan(
        session, x_settings, date(2026, 11, 5), date(2026, 11, 6), times=[time(10), time(15)]
    )
    assert len(more.planned) == 4
    ids = featured(session)
    assert len(ids) == len(set(ids)) == 10
    # A cancelled post frees its event for a later plan.
    freed = first.planned[0]
    cancel_post(session, freed.post.id)
    last = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), times=[time(8)])
    assert [p.event.id for p in last.planned] == [freed.event.id]
    assert sorted(featured(session)) == sorted(set(featured(session)))


def test_days_are_local_days_across_the_end_of_october_clock_change(
    session: Session, x_settings: Settings
) -> None:
    add(session, "LATE", paris(2026, 10, 24, 23, 30), ends_at=paris(2026, 10, 24, 23, 59))
    add(session, "SAT", paris(2026, 10, 24, 10))
    # 00:30 in Paris on the 25th is still the 24th in UTC (22:30): it belongs to the 25th.
    night = add(session, "NIGHT", paris(2026, 10, 25, 0, 30), ends_at=paris(2026, 10, 25, 18))
    assert night.starts_at.astimezone(UTC).day == 24
    add(session, "SUN", paris(2026, 10, 25, 12))
    add(session, "MON", paris(2026, 10, 26, 10))
    add(session, "MON2", paris(2026, 10, 26, 11))
    result = plan(
        session, x_settings, date(2026, 10, 24), date(2026, 10, 26), times=[time(0, 10), time(9)]
    )
    by_day: dict[date, set[str]] = {}
    for planned in result.planned:
        by_day.setdefault(planned.day, set()).add(planned.event.source_id)
    assert by_day == {
        date(2026, 10, 24): {"LATE", "SAT"},
        date(2026, 10, 25): {"NIGHT", "SUN"},
        date(2026, 10, 26): {"MON", "MON2"},
    }
    # The clocks go back at 03:00 on the 25th: 09:00 is 07:00 UTC before, 08:00 UTC after.
    assert sorted(p.post.scheduled_at for p in result.planned) == [
        datetime(2026, 10, 23, 22, 10, tzinfo=UTC),
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 24, 22, 10, tzinfo=UTC),  # 00:10 on the 25th, still CEST
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 10, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]
    night_post = next(p for p in result.planned if p.event.source_id == "NIGHT")
    assert night_post.day == date(2026, 10, 25)
    assert night_post.post.scheduled_at.astimezone(PARIS).date() == date(2026, 10, 25)


def test_an_event_over_by_the_post_time_is_not_featured(
    session: Session, x_settings: Settings
) -> None:
    add(session, "MORNING", paris(2026, 11, 5, 9), ends_at=paris(2026, 11, 5, 10))
    add(session, "NO-END", paris(2026, 11, 5, 11))  # taken to last two hours
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), times=[time(17, 30)])
    assert result.planned == []
    assert [note.code for note in result.notes] == ["planner.no_event_left"]
    assert [str(note) for note in result.notes] == [
        "05/11 17:30: no event left to feature that day (all featured already, started or over "
        "by then, or none in the catalogue)."
    ]


def test_past_times_are_skipped_and_said(session: Session, x_settings: Settings) -> None:
    add(session, "E1", paris(2026, 11, 5, 18))
    now = paris(2026, 11, 5, 10)
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), now=now)
    assert [p.post.scheduled_at for p in result.planned] == [paris(2026, 11, 5, 12, 30)]
    assert any("09:00: already past" in str(note) for note in result.notes)


def test_a_long_event_is_shortened_never_dropped(session: Session, x_settings: Settings) -> None:
    title = "Grande rencontre régionale " + "de l'économie sociale et solidaire " * 8
    add(
        session,
        "LONG",
        paris(2026, 11, 5, 18),
        title=title.strip(),
        city="Saint-Rémy-de-Provence",
        region="Provence-Alpes-Côte d'Azur",
        theme="Entreprendre, épargner et investir",
    )
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), times=[time(9)])
    (planned,) = result.planned
    text = planned.post.text
    assert check_length(text) == (check_length(text)[0], True)
    assert "#EntreprendreÉpargnerEtInvestir" not in text
    assert "#ProvenceAlpesCôteAzur" not in text
    assert "#MoisESS" in text and URL + "long" in text
    assert "…" in text
    assert planned.shortened[:2] == [
        "hashtag #EntreprendreÉpargnerEtInvestir dropped",
        "hashtag #ProvenceAlpesCôteAzur dropped",
    ]
    assert any(
        str(note).startswith(f"Post {planned.post.id} (LONG) shortened") for note in result.notes
    )


def test_a_template_that_cannot_fit_is_an_error_naming_the_event(
    session: Session, x_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "bavard.txt.j2").write_text("{{ title }} " + "bla " * 80, "utf-8")
    add(session, "E1", paris(2026, 11, 5, 18))
    with pytest.raises(CampaignError, match=r"Event E1 \('Rencontre E1'\): template 'bavard'"):
        plan(
            session,
            x_settings,
            date(2026, 11, 5),
            date(2026, 11, 5),
            template="bavard",
            templates_dir=tmp_path,
        )


def test_theme_of_the_day(session: Session, x_settings: Settings) -> None:
    rows = {
        5: [("Bretagne", "Se loger"), ("Normandie", "Se loger"), ("Corse", "Se loger"),
            ("Occitanie", "Consommer"), ("Grand Est", "Consommer")],
        6: [("Bretagne", "Se loger"), ("Normandie", "Se loger"), ("Corse", "Se loger"),
            ("Occitanie", "Consommer"), ("Grand Est", "Consommer")],
    }  # fmt: skip
    for day, events in rows.items():
        for number, (region, theme) in enumerate(events):
            add(session, f"D{day}-{number}", paris(2026, 11, day, 19), region=region, theme=theme)
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 6), theme_of_the_day=True)
    themes = {}
    for planned in result.planned:
        themes.setdefault(planned.day, []).append(planned.event.theme)
    assert themes[date(2026, 11, 5)] == ["Se loger"] * 3  # the day's biggest theme
    # Next day: the theme that has not had its day yet; two events, then another theme.
    assert themes[date(2026, 11, 6)] == ["Consommer", "Consommer", "Se loger"]
    assert any("no event left on the day's theme 'Consommer'" in str(n) for n in result.notes)


def test_the_cost_estimate_counts_posts_with_links(session: Session, x_settings: Settings) -> None:
    crowd(session, 5, "E")
    add(session, "NOLINK", paris(2026, 11, 6, 18), url="")
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 6))
    assert result.estimate is not None
    usage = result.estimate.usage
    assert (usage.posts_with_url, usage.posts) == (3, 1)
    assert result.estimate.amount == pytest.approx(3 * 0.200 + 0.015)
    assert result.estimate.currency == "USD"
    assert not result.dry_run  # @Mois_ESS has credentials in these tests


def test_times_and_per_day_are_checked(session: Session, x_settings: Settings) -> None:
    assert parse_times("17:30, 09:00,12h30") == [time(9), time(12, 30), time(17, 30)]
    with pytest.raises(CampaignError, match="'25:00' is not a time of day"):
        parse_times("09:00,25:00")
    with pytest.raises(CampaignError, match="--per-day 4: give between 1 and 3"):
        plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), per_day=4)
    with pytest.raises(CampaignError, match="before --from"):
        plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 4))
    crowd(session, 5, "E")
    two = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), per_day=2)
    assert [p.post.scheduled_at.astimezone(PARIS).time() for p in two.planned] == TIMES[:2]


REUNION = ZoneInfo("Indian/Reunion")
GUADELOUPE = ZoneInfo("America/Guadeloupe")
GUYANE = ZoneInfo("America/Cayenne")


def test_overseas_events_are_featured_only_while_still_to_come_at_the_post_s_instant(
    session: Session, x_settings: Settings
) -> None:
    # 18:00 in La Réunion is 15:00 in Paris: a 17:30 Paris post comes after it started.
    add(
        session,
        "REUNION",
        datetime(2026, 11, 5, 18, tzinfo=REUNION),
        ends_at=datetime(2026, 11, 5, 21, tzinfo=REUNION),
        timezone="Indian/Reunion",
        region="La Réunion",
    )
    # 18:00 in Guadeloupe is 23:00 in Paris: still to come at 17:30, on the same day.
    guadeloupe = add(
        session,
        "GUADELOUPE",
        datetime(2026, 11, 5, 18, tzinfo=GUADELOUPE),
        timezone="America/Guadeloupe",
        region="Guadeloupe",
        city="Pointe-à-Pitre",
    )
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), times=[time(17, 30)])
    assert [p.event.source_id for p in result.planned] == ["GUADELOUPE"]
    assert result.planned[0].post.text.startswith("Aujourd'hui à ")
    later = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), times=[time(17, 45)])
    assert later.planned == [] and "no event left" in str(later.notes[0])
    assert featured(session) == [guadeloupe.id]


def test_an_all_day_event_is_on_all_its_own_day_and_never_at_0h(
    session: Session, x_settings: Settings
) -> None:
    # All day on 5 November in La Réunion: from 21:00 on the 4th to 21:00 on the 5th in Paris.
    add(
        session,
        "ALLDAY",
        datetime(2026, 11, 5, tzinfo=REUNION),
        ends_at=datetime(2026, 11, 6, tzinfo=REUNION),
        all_day=True,
        timezone="Indian/Reunion",
        region="La Réunion",
        city="Saint-Denis",
        title="Journée portes ouvertes",
    )
    eve = plan(session, x_settings, date(2026, 11, 4), date(2026, 11, 4), times=[time(21, 30)])
    assert eve.planned == []  # 01:30 on the 5th there, but the 4th in Paris: not its day
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 5), times=[time(9)])
    (planned,) = result.planned
    assert planned.post.text.startswith("Aujourd'hui, Saint-Denis : Journée portes ouvertes")
    assert "0h" not in planned.post.text and "En ce moment" not in planned.post.text


def test_a_late_evening_in_guyane_belongs_to_its_own_day_not_the_next_paris_one(
    session: Session, x_settings: Settings
) -> None:
    # 23:30 on 5 November in Cayenne is 03:30 on the 6th in Paris.
    add(
        session,
        "GUYANE",
        datetime(2026, 11, 5, 23, 30, tzinfo=GUYANE),
        timezone="America/Cayenne",
        region="Guyane",
        city="Cayenne",
    )
    result = plan(session, x_settings, date(2026, 11, 5), date(2026, 11, 6), times=[time(17, 30)])
    assert [(p.event.source_id, p.day) for p in result.planned] == [("GUYANE", date(2026, 11, 5))]
    assert result.planned[0].post.scheduled_at == paris(2026, 11, 5, 17, 30)
    assert result.planned[0].post.text.startswith("Aujourd'hui à ")


def test_several_accounts_get_one_draft_each_written_for_its_network(
    session: Session, x_settings: Settings
) -> None:
    settings = x_settings.model_copy(deep=True)
    settings.social.accounts["mois_ess_bsky"] = SocialAccount(
        network="bluesky", handle="moisess.bsky.social", service_url="https://bsky.example.org"
    )
    settings.social.accounts["mois_ess_masto"] = SocialAccount(
        network="mastodon", handle="moisess", instance_url="https://mastodon.example.org"
    )
    title = "Grande rencontre régionale " + "de l'économie sociale et solidaire " * 7
    add(session, "LONG", paris(2026, 11, 5, 18), title=title.strip(), city="Lyon",
        region="Auvergne-Rhône-Alpes", theme="Entreprendre, épargner et investir")  # fmt: skip
    add(session, "B", paris(2026, 11, 5, 19), region="Bretagne", theme="Se loger")
    accounts = ["mois_ess", "mois_ess_bsky", "mois_ess_masto"]
    result = plan_event_posts(
        session,
        settings,
        accounts=accounts,
        date_from=date(2026, 11, 5),
        date_to=date(2026, 11, 5),
        times=[time(9), time(12, 30)],
        now=BEFORE,
    )
    posts = [planned.post for planned in result.planned]
    assert [post.account for post in posts] == accounts * 2
    for first in (0, 3):  # the same event and time on each account
        trio = posts[first : first + 3]
        assert len({tuple(post.event_ids) for post in trio}) == 1
        assert len({post.scheduled_at for post in trio}) == 1
    networks = {"mois_ess": "x", "mois_ess_bsky": "bluesky", "mois_ess_masto": "mastodon"}
    for post in posts:
        assert all(check_length(part, networks[post.account])[1] for part in post.parts)
    # The long event: cut down for X, whole in Mastodon's 500 characters.
    long_id = session.exec(select(Event.id).where(Event.source_id == "LONG")).one()
    by_account = {p.post.account: p for p in result.planned if p.post.event_ids == [long_id]}
    assert by_account["mois_ess"].shortened and not by_account["mois_ess_masto"].shortened
    assert title.strip() in by_account["mois_ess_masto"].post.text
    assert title.strip() not in by_account["mois_ess"].post.text
    # Planned again: every time has its posts, on every account.
    again = plan_event_posts(
        session,
        settings,
        accounts=["mois_ess_bsky"],
        date_from=date(2026, 11, 5),
        date_to=date(2026, 11, 5),
        times=[time(9), time(12, 30)],
        now=BEFORE,
    )
    assert again.planned == [] and len(again.notes) == 2


def test_a_plan_needs_an_account(session: Session, x_settings: Settings) -> None:
    with pytest.raises(CampaignError) as caught:
        plan_event_posts(session, x_settings, date_from=date(2026, 11, 5),
                         date_to=date(2026, 11, 5), times=TIMES, now=BEFORE)  # fmt: skip
    assert caught.value.messages[0].code == "post.no_account"
