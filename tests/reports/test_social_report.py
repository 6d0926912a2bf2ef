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
