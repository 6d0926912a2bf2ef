"""``report social``: per post (latest figures) and per account (followers, posts, mentions)."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from campaign.reports import Labels, Period, social_report

from .conftest import at

PARIS = ZoneInfo("Europe/Paris")
FR = Labels.load("fr", PARIS)
HANDLES = {"mois_ess": "Mois_ESS", "prix_ess": "Prix_ESS"}


def _tables(session, period: Period, accounts=()) -> dict[str, list[dict]]:
    report = social_report(session, period, FR, accounts, HANDLES)
    return {table.key: table.rows for table in report.tables()}


def test_the_year_per_post_and_per_account(session, history) -> None:
    tables = _tables(session, Period.year(2016, PARIS))
    # Published posts of 2016 only: not the dry run, the draft or last year's post; each with
    # its latest measurement (P1 measured twice).
    assert tables["posts"] == [
        {
            "account": "@Prix_ESS",
            "published_at": at("2016-10-25 18:00"),
            "text": "Les lauréats des Prix ESS 2016 sont…",
            "impressions": 800,
            "likes": 30,
            "reposts": 9,
            "replies": 2,
            "quotes": 2,
            "measured_at": at("2016-10-30 12:00"),
        },
        {
            "account": "@Mois_ESS",
            "published_at": at("2016-11-02 09:00"),
            "text": "Le Mois de l'ESS commence !",
            "impressions": 1500,
            "likes": 40,
            "reposts": 12,
            "replies": 3,
            "quotes": 1,
            "measured_at": at("2016-11-10 12:00"),
        },
        {
            "account": "@Mois_ESS",
            "published_at": at("2016-11-05 09:00"),
            "text": "Trois évènements à Rennes aujourd'hui #MoisESS",
            "impressions": None,
            "likes": 7,
            "reposts": 0,
            "replies": 1,
            "quotes": 0,
            "measured_at": at("2016-11-10 12:00"),
        },
    ]
    mois, prix = tables["accounts"]
    # @Mois_ESS: no measurement before 1 January, so from the first one (20 October, 5,900)
    # to the last of the year (10 December, 6,400): 500 in 51 days; mentions after the first.
    assert mois == {
        "account": "@Mois_ESS",
        "first_snapshot": at("2016-10-20 12:00"),
        "last_snapshot": at("2016-12-10 12:00"),
        "followers_start": 5900,
        "followers_end": 6400,
        "new_followers": 500,
        "followers_per_day": pytest.approx(500 / 51),
        "typed": None,  # every count measured by a sync
        "posts": 2,
        "mentions": 30 + 40 + 25 + 10,
        "reposted_posts": 1,
        "reposts": 12,
        "impressions": 1500,
        "likes": 47,
    }
    assert prix == {
        "account": "@Prix_ESS",
        "first_snapshot": at("2016-10-01 12:00"),
        "last_snapshot": at("2016-11-30 12:00"),
        "followers_start": 400,
        "followers_end": 547,
        "new_followers": 147,
        "followers_per_day": pytest.approx(147 / 60),
        "typed": None,
        "posts": 1,
        "mentions": 205,
        "reposted_posts": 1,
        "reposts": 9,
        "impressions": 800,
        "likes": 30,
    }


def test_november_starts_from_the_last_measurement_before_it(session, history) -> None:
    november = Period(date(2016, 11, 1), date(2016, 11, 30), PARIS)
    tables = _tables(session, november)
    assert [p["text"] for p in tables["posts"]] == [
        "Le Mois de l'ESS commence !",
        "Trois évènements à Rennes aujourd'hui #MoisESS",
    ]
    mois, prix = tables["accounts"]
    assert (mois["first_snapshot"], mois["last_snapshot"]) == (
        at("2016-10-20 12:00"),
        at("2016-11-30 12:00"),
    )
    assert (mois["followers_start"], mois["followers_end"], mois["mentions"]) == (5900, 6300, 95)
    assert mois["followers_per_day"] == pytest.approx(400 / 41)
    assert (prix["posts"], prix["reposts"], prix["followers_end"]) == (0, 0, 547)


def test_one_account(session, history) -> None:
    tables = _tables(session, Period.year(2016, PARIS), accounts=["prix_ess"])
    assert [a["account"] for a in tables["accounts"]] == ["@Prix_ESS"]
    assert [p["account"] for p in tables["posts"]] == ["@Prix_ESS"]


def test_a_followers_chart_per_account(session, history) -> None:
    report = social_report(session, Period.year(2016, PARIS), FR, (), HANDLES)
    charts = report.sections[0].charts
    assert [(c.key, c.title) for c in charts] == [
        ("followers-mois_ess", "Abonnés de @Mois_ESS"),
        ("followers-prix_ess", "Abonnés de @Prix_ESS"),
    ]
    lines = [[s for s in chart.shapes if s.tag == "polyline"] for chart in charts]
    assert [len(line.attrs["points"].split()) for (line,) in lines] == [5, 2]
    ticks = [s.text for s in charts[0].shapes if s.attrs.get("class") == "tick"]
    assert ticks[-5:] == [
        "20 octobre 2016",
        "2 novembre 2016",
        "15 novembre 2016",
        "27 novembre 2016",
        "10 décembre 2016",
    ]


def test_the_command_in_french_and_its_errors(history_cli) -> None:
    cli, _ = history_cli
    result = cli(
        "report", "social", "--account", "mois_ess", "--from", "2016-11-01", "--to", "2016-11-30"
    )
    assert result.exit_code == 0, result.stderr
    assert "@Mois_ESS" in result.stdout and "@Prix_ESS" not in result.stdout
    assert "Abonnés au début" in result.stdout and "20 octobre 2016" in result.stdout
    assert "2 novembre 2016 à 10 h 00" in result.stdout  # 09:00 UTC in Paris
    assert "9,8" in result.stdout  # 400 new followers in 41 days
    data = json.loads(cli("report", "social", "--year", "2016", "-f", "json").stdout)
    assert data["tables"]["accounts"]["rows"][1]["followers_per_day"] == 2.45
    assert data["tables"]["posts"]["rows"][0]["published_at"] == "2016-10-25T18:00:00+00:00"
    unknown = cli("report", "social", "--account", "nobody")
    assert unknown.exit_code == 1
    assert "'nobody' is not an account" in unknown.stderr and "mois_ess" in unknown.stderr
    both = cli("report", "social", "--year", "2016", "--from", "2016-01-01")
    assert both.exit_code == 1 and "either --year or --from/--to" in both.stderr


def test_typed_follower_counts_are_used_and_said_typed(session, history) -> None:
    """An account X charges for: only counts typed by hand, on 1 January and 31 December."""
    from campaign.social.metrics import record_followers

    record_followers(session, "autre_compte", 1000, date(2016, 1, 1), PARIS)
    record_followers(session, "autre_compte", 1200, date(2016, 12, 31), PARIS)
    # Typed again for the same day: corrected, not added.
    done = record_followers(session, "autre_compte", 1365, date(2016, 12, 31), PARIS)
    assert done.replaced == 1200
    # @Mois_ESS: a count typed on 1 January becomes its start; its syncs still give the rest.
    record_followers(session, "mois_ess", 5000, date(2016, 1, 1), PARIS)
    report = social_report(session, Period.year(2016, PARIS), FR, (), HANDLES)
    accounts = {row["account"]: row for row in report.tables()[0].rows}
    # Typed counts stand at local midnight: 1 January 00:00 is the period's first instant.
    assert accounts["autre_compte"] == {
        "account": "autre_compte",
        "first_snapshot": at("2015-12-31 23:00"),
        "last_snapshot": at("2016-12-30 23:00"),
        "followers_start": 1000,
        "followers_end": 1365,
        "new_followers": 365,
        "followers_per_day": pytest.approx(1.0),  # 365 days from 1 January to 31 December
        "typed": "au début et à la fin",
        "posts": 0,
        "mentions": None,  # no sync ever counted them
        "reposted_posts": 0,
        "reposts": 0,
        "impressions": 0,
        "likes": 0,
    }
    mois = accounts["@Mois_ESS"]
    assert (mois["followers_start"], mois["followers_end"], mois["typed"]) == (
        5000,
        6400,
        "au début",
    )
    assert mois["mentions"] == 50 + 30 + 40 + 25 + 10  # the syncs after the typed count
    assert accounts["@Prix_ESS"]["typed"] is None
    assert "followers-autre_compte" in [chart.key for chart in report.sections[0].charts]


def test_typed_followers_in_the_terminal_and_json(history_cli) -> None:
    cli, _ = history_cli
    typed = cli("social", "followers", "@Prix_ESS", "612", "--on", "31/12/2016")
    assert typed.exit_code == 0, typed.stderr
    assert "prix_ess: 612 followers on 2016-12-31, typed by hand." in typed.stdout
    data = json.loads(cli("report", "social", "--year", "2016", "-f", "json").stdout)
    prix = data["tables"]["accounts"]["rows"][1]
    assert (prix["followers_end"], prix["typed"]) == (612, "à la fin")
    assert data["tables"]["accounts"]["columns"][7] == {
        "key": "typed",
        "label": "Abonnés saisis à la main",
        "type": "text",
    }
    table = cli("report", "social", "--year", "2016")
    assert "Abonnés saisis à la main" in table.stdout and "à la fin" in table.stdout
    again = cli("social", "followers", "prix_ess", "615", "--on", "2016-12-31", "--json")
    assert json.loads(again.stdout) == {
        "account": "prix_ess",
        "day": "2016-12-31",
        "followers": 615,
        "replaced": 612,
    }
    unknown = cli("social", "followers", "Prix", "615")
    assert unknown.exit_code == 1 and "'Prix' is not an account" in unknown.stderr
    assert "mois_ess, prix_ess" in unknown.stderr and "Traceback" not in unknown.stderr
    future = cli("social", "followers", "prix_ess", "615", "--on", "2999-01-01")
    assert future.exit_code == 1 and "2999-01-01 is in the future" in future.stderr
    bad_day = cli("social", "followers", "prix_ess", "615", "--on", "hier")
    assert bad_day.exit_code == 1 and "--on: 'hier' is not a date" in bad_day.stderr


def test_influencers_ranked_by_their_own_followers_in_the_period(session, history) -> None:
    rows = _tables(session, Period.year(2016, PARIS))["influencers"]
    assert [(r["rank"], r["author"], r["network"], r["author_followers"]) for r in rows] == [
        (1, "@ESS_France", "X", 48100),  # the count given with its latest mention
        (2, "@cress_bzh@piaille.fr", "Mastodon", 3100),
        (3, "@CressIDF", "X", 2500),
    ]
    assert (rows[0]["mentions"], rows[0]["reposts"]) == (2, 0)
    assert rows[0]["mentioned_accounts"] == "@Mois_ESS, @Prix_ESS"
    assert (rows[1]["mentions"], rows[1]["reposts"]) == (0, 1)
    assert rows[0]["last_mention"] == at("2016-11-20 10:00")
    # A period and an account narrow it: 2015 has OldFriend only; Prix ESS, ESS France only.
    old = _tables(session, Period.year(2015, PARIS))["influencers"]
    assert [r["author"] for r in old] == ["@OldFriend"]
    prix = _tables(session, Period.year(2016, PARIS), ["prix_ess"])["influencers"]
    assert [(r["author"], r["mentions"]) for r in prix] == [("@ESS_France", 1)]


def test_the_influencers_table_as_csv_and_in_the_terminal(history_cli) -> None:
    cli, _ = history_cli
    result = cli("report", "social", "--year", "2016", "--table", "influencers", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Rang,Compte,Réseau,Ses abonnés,Mentions,Repartages,Comptes mentionnés,Dernière mention"
    )
    # A cell starting with @ is written '@ so that a spreadsheet does not take it as a formula.
    assert lines[1] == (
        "1,'@ESS_France,X,48100,2,0,\"'@Mois_ESS, @Prix_ESS\",2016-11-20T10:00:00+00:00"
    )
    assert [line.split(",")[1] for line in lines[1:]] == [
        "'@ESS_France",
        "'@cress_bzh@piaille.fr",
        "'@CressIDF",
    ]
    november = cli(
        "report", "social", "--from", "2016-11-10", "--to", "2016-11-30",
        "--table", "influencers", "--lang", "en",
    )  # fmt: skip
    assert november.exit_code == 0, november.stderr
    assert "Their followers" in november.stdout and "48,100" in november.stdout
    assert "@ESS_France" in november.stdout and "@CressIDF" not in november.stdout
