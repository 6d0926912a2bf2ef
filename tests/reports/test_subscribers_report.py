"""``report subscribers``: list size month by month, joining and leaving, by region and source."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from campaign.reports import Labels, Period, subscribers_report

from .conftest import at

PARIS = ZoneInfo("Europe/Paris")
FR = Labels.load("fr", PARIS)
NOW = at("2017-03-01 12:00")


def _tables(session, period: Period) -> dict[str, list[tuple]]:
    report = subscribers_report(session, period, FR, now=NOW)
    return {table.key: [tuple(row.values()) for row in table.rows] for table in report.tables()}


def test_2016_month_by_month(session, history) -> None:
    tables = _tables(session, Period.year(2016, PARIS))
    # (month, joined, unsubscribes, bounced, complained, subscribers at the end of the month)
    assert tables["months"] == [
        (date(2016, 1, 1), 4, 0, 0, 0, 4),  # a1-a4
        (date(2016, 2, 1), 3, 0, 0, 0, 7),  # b1-b3 (p1 never confirmed)
        (date(2016, 3, 1), 0, 0, 0, 0, 7),
        (date(2016, 4, 1), 2, 0, 0, 0, 9),  # c1, c2
        (date(2016, 5, 1), 0, 0, 1, 0, 8),  # b2 bounced; d1 joined on 1 June in Paris
        (date(2016, 6, 1), 1, 1, 0, 0, 8),  # d1; a4 unsubscribed
        (date(2016, 7, 1), 0, 0, 0, 0, 8),
        (date(2016, 8, 1), 0, 0, 0, 0, 8),
        (date(2016, 9, 1), 0, 0, 0, 0, 8),
        (date(2016, 10, 1), 0, 0, 0, 0, 8),
        (date(2016, 11, 1), 2, 1, 0, 1, 8),  # e1, e2; b3 unsubscribed; c1 complained
        (date(2016, 12, 1), 0, 0, 0, 0, 8),  # a2 left on 1 January 2017 in Paris
    ]
    # (name, subscribers at the end of the year, joined in 2016, left in 2016)
    assert tables["by_region"] == [
        ("Bretagne", 6, 6, 0),
        ("Occitanie", 2, 3, 1),
        ("Normandie", 0, 2, 2),
        ("(sans région)", 0, 1, 1),
    ]
    assert tables["by_source"] == [
        ("formulaire", 3, 6, 3),
        ("import-janvier.csv", 3, 4, 1),
        ("manual", 2, 2, 0),
    ]


def test_a_period_starts_from_the_size_reached_before_it(session, history) -> None:
    tables = _tables(session, Period(date(2016, 6, 1), date(2016, 11, 30), PARIS))
    assert tables["months"][0] == (date(2016, 6, 1), 1, 1, 0, 0, 8)
    assert tables["months"][-1] == (date(2016, 11, 1), 2, 1, 0, 1, 8)
    assert tables["by_region"] == [
        ("Bretagne", 6, 2, 0),
        ("Occitanie", 2, 1, 1),
        ("Normandie", 0, 0, 1),
        ("(sans région)", 0, 0, 1),
    ]
    later = _tables(session, Period(date(2016, 12, 1), date(2017, 1, 31), PARIS))
    assert later["months"] == [
        (date(2016, 12, 1), 0, 0, 0, 0, 8),
        (date(2017, 1, 1), 0, 1, 0, 0, 7),  # a2, 31 December 23:30 UTC
    ]


def test_with_no_period_the_months_run_from_the_first_subscriber_to_now(session, history) -> None:
    tables = _tables(session, Period(None, None, PARIS))
    months = [row[0] for row in tables["months"]]
    assert months[0] == date(2016, 1, 1) and months[-1] == date(2017, 3, 1)
    assert len(months) == 15 and tables["months"][-1][-1] == 7


def test_the_list_growth_chart_has_one_point_per_month(session, history) -> None:
    report = subscribers_report(session, Period.year(2016, PARIS), FR, now=NOW)
    (chart,) = report.sections[0].charts
    (line,) = [shape for shape in chart.shapes if shape.tag == "polyline"]
    assert len(line.attrs["points"].split()) == 12
    ticks = [shape.text for shape in chart.shapes if shape.attrs.get("class") == "tick"]
    assert "janvier 2016" in ticks


def test_the_command_writes_the_three_tables(history_cli, workdir) -> None:
    cli, _ = history_cli
    result = cli("report", "subscribers", "--year", "2016")
    assert result.exit_code == 0, result.stderr
    assert "Abonnés mois par mois" in result.stdout and "novembre 2016" in result.stdout
    assert "Abonnés par région" in result.stdout and "Abonnés par origine" in result.stdout
    result = cli("report", "subscribers", "--year", "2016", "--out", "abonnes.xlsx")
    assert result.exit_code == 0, result.stderr
    workbook = load_workbook(workdir / "abonnes.xlsx")
    assert workbook.sheetnames == ["Mois par mois", "Par région", "Par origine"]
    months = list(workbook["Mois par mois"].iter_rows(values_only=True))
    assert months[0] == (
        "Mois",
        "Inscriptions",
        "Désinscriptions",
        "Adresses en erreur",
        "Plaintes",
        "Abonnés",
    )
    assert months[5][0].date() == date(2016, 5, 1) and months[5][1:] == (0, 0, 1, 0, 8)
    assert workbook["Mois par mois"].cell(row=2, column=1).number_format == "mmmm yyyy"
