"""``report newsletters``: every figure of the known history, the French table, the files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from campaign.reports import Labels, Period, newsletters_report
from campaign.reports.queries import newsletter_figures

PARIS = ZoneInfo("Europe/Paris")
FR = Labels.load("fr", PARIS)

# Worked out by hand from tests/reports/conftest.py.
EXPECTED = {
    "N1": {
        "title": "Les Prix ESS : dernière ligne droite pour s'inscrire",
        "date": date(2016, 5, 30),
        "addressed": 9,  # 9 deliveries
        "delivered": 7,  # minus b2 bounced and c1 failed
        "opens": 7,  # a1 x3, a3, a4, b1 x2 (machine opens apart)
        "clicks": 4,  # a1 x2, a3, a4 (bot clicks apart)
        "unique_opens": 4,  # a1, a3, a4, b1
        "unique_clicks": 3,  # a1, a3, a4
        "open_rate": pytest.approx(4 / 7),
        "click_rate": pytest.approx(3 / 7),
        "click_to_open": pytest.approx(3 / 4),
        "unsubscribes": 2,  # a4 and a1 (twice, one person); c2's names no newsletter
        "bounces": 1,
        "machine_opens": 3,
        "bot_clicks": 2,
        "left_out": 0,
    },
    "N2": {
        "title": "21 au 25 novembre : le Mois de l'ESS, c'est maintenant !",
        "date": date(2016, 11, 18),
        "addressed": 10,
        "delivered": 8,
        "opens": 5,
        "clicks": 3,
        "unique_opens": 4,
        "unique_clicks": 2,
        "open_rate": pytest.approx(0.5),
        "click_rate": pytest.approx(0.25),
        "click_to_open": pytest.approx(0.5),
        "unsubscribes": 1,
        "bounces": 2,
        "machine_opens": 4,
        "bot_clicks": 1,
        "left_out": 0,
    },
    "N3": {
        "title": "Prix ESS : les <lauréats> & leurs projets",
        "date": date(2016, 12, 1),  # 30 November 23:30 UTC is 1 December in Paris
        "addressed": 2,
        "delivered": 2,
        "opens": 3,  # anonymous opens count in totals…
        "clicks": 2,
        "unique_opens": None,  # …but nobody is known: no uniques, no rates
        "unique_clicks": None,
        "open_rate": None,
        "click_rate": None,
        "click_to_open": None,
        "unsubscribes": 0,
        "bounces": 0,
        "machine_opens": 1,
        "bot_clicks": 0,
        "left_out": 0,
    },
}

FRENCH_COLUMNS = [
    "Titre",
    "Date",
    "Destinataires",
    "Destinataires réels",
    "Ouvertures",
    "Clics",
    "Ouvertures uniques",
    "Clics uniques",
    "Taux d'ouverture",
    "Taux de clic",
    "Taux de réactivité",
    "Désinscriptions",
    "Rejets",
    "Ouvertures automatiques",
    "Clics de robots",
    "Laissés de côté (sans évènement)",
]


def test_every_figure_of_every_newsletter_sent_in_the_year(session, history) -> None:
    report = newsletters_report(session, Period.year(2016, PARIS), FR)
    (table,) = report.tables()
    assert [c.key for c in table.columns][:6] == [
        "title",
        "date",
        "addressed",
        "delivered",
        "opens",
        "clicks",
    ]
    assert table.rows == [EXPECTED["N1"], EXPECTED["N2"], EXPECTED["N3"]]


def test_the_period_takes_the_local_days_of_sending(session, history) -> None:
    november = Period(date(2016, 11, 1), date(2016, 11, 30), PARIS)
    titles = [f.title for f in newsletter_figures(session, november)]
    # N3 began at 23:30 UTC on 30 November: 1 December in Paris, so not in November.
    assert titles == [EXPECTED["N2"]["title"]]
    december = Period(date(2016, 12, 1), None, PARIS)
    assert [f.title for f in newsletter_figures(session, december)] == [EXPECTED["N3"]["title"]]
    assert newsletter_figures(session, Period(None, date(2016, 5, 29), PARIS)) == []


def test_a_cancelled_newsletter_counts_only_what_was_delivered(session, history) -> None:
    from campaign.models import Delivery

    n2 = history.newsletters["N2"]
    session.add(Delivery(newsletter_id=n2, subscriber_id=history.subscribers["p1"], email="x@y.fr"))
    session.commit()
    (figure,) = newsletter_figures(session, Period(None, None, PARIS), ids=[n2])
    assert (figure.addressed, figure.delivered, figure.bounces, figure.not_sent) == (11, 8, 2, 1)


def _rows(text: str, marker: str) -> list[list[str]]:
    """The cells of every table line containing ``marker``."""
    rows = []
    for line in text.splitlines():
        if marker in line and "│" in line:
            cells = [cell.strip() for cell in line.split("│")[1:]]
            rows.append(cells[:-1] if line.rstrip().endswith("│") else cells)  # a cut last border
    return rows


def test_the_french_table_in_the_terminal(history_cli) -> None:
    cli, _ = history_cli
    result = cli("report", "newsletters", "--year", "2016")
    assert result.exit_code == 0, result.stderr
    # First their table, exactly: Titre, Date, Destinataires, Destinataires réels, Ouvertures,
    # Clics; then, under the title and the date again, the figures they lacked.
    lines = result.stdout.splitlines()
    header, again = [number for number, line in enumerate(lines) if "Titre" in line]
    assert [cell.strip() for cell in lines[header].split("┃")[1:-1]] == FRENCH_COLUMNS[:6]
    # The second table's headers may fold on two lines: read each column's words together.
    folded = [line.split("┃")[1:-1] for line in lines[again - 1 : again + 2] if "┃" in line]
    columns = [
        " ".join(cell.strip() for cell in cells if cell.strip())
        for cells in zip(*folded, strict=False)
    ]
    assert columns[:3] == ["Titre", "Date", "Ouvertures uniques"]
    team, more = _rows(result.stdout, "30 mai 2016")
    assert team == [
        "Les Prix ESS : dernière ligne droite pour s'inscrire",
        "30 mai 2016",
        *("9", "7", "7", "4"),
    ]
    assert more[0].startswith("Les Prix ESS")  # the title, folded in a narrower column
    assert more[1:] == [
        "30 mai 2016",
        "4",
        "3",
        "57,1\u00a0%",
        "42,9\u00a0%",
        "75,0\u00a0%",
        "2",
        "1",
        "3",
        "2",
        "0",
    ]
    team, more = _rows(result.stdout, "18 novembre 2016")
    assert team[2:] == ["10", "8", "5", "3"]
    assert more[2:] == [
        *("4", "2", "50,0\u00a0%", "25,0\u00a0%", "50,0\u00a0%", "1", "2", "4", "1", "0")
    ]
    team, more = _rows(result.stdout, "1er décembre 2016")
    assert team == [
        "Prix ESS : les <lauréats> & leurs projets",
        "1er décembre 2016",
        *("2", "2", "3", "2"),
    ]
    # Anonymous tracking: no uniques nor rates.
    assert more[2:] == ["—", "—", "—", "—", "—", "0", "0", "1", "0", "0"]


def test_english_labels_and_dates(history_cli) -> None:
    cli, _ = history_cli
    result = cli("report", "newsletters", "--year", "2016", "--lang", "en", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    columns = data["tables"]["newsletters"]["columns"]
    assert [c["label"] for c in columns][:6] == [
        "Title",
        "Date",
        "Recipients",
        "Delivered",
        "Opens",
        "Clicks",
    ]
    table = cli("report", "newsletters", "--year", "2016", "--lang", "en")
    assert "May 30, 2016" in table.stdout and "57.1%" in table.stdout


def test_json_has_stable_keys_plain_values_and_the_period(history_cli) -> None:
    cli, _ = history_cli
    result = cli(
        "report", "newsletters", "--from", "2016-01-01", "--to", "31/12/2016", "-f", "json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["report"] == "newsletters"
    assert data["period"] == {"from": "2016-01-01", "to": "2016-12-31", "timezone": "Europe/Paris"}
    rows = data["tables"]["newsletters"]["rows"]
    assert [c["label"] for c in data["tables"]["newsletters"]["columns"]] == FRENCH_COLUMNS
    assert rows[0] == {
        **{k: v for k, v in EXPECTED["N1"].items() if "rate" not in k and k != "click_to_open"},
        "date": "2016-05-30",
        "open_rate": 0.5714,
        "click_rate": 0.4286,
        "click_to_open": 0.75,
    }
    assert rows[2]["date"] == "2016-12-01" and rows[2]["unique_opens"] is None


def test_csv_is_one_table_with_french_labels_for_scripts(history_cli, workdir) -> None:
    cli, _ = history_cli
    result = cli("report", "newsletters", "--year", "2016", "--out", "newsletters.csv")
    assert result.exit_code == 0, result.stderr
    text = (workdir / "newsletters.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == FRENCH_COLUMNS
    assert rows[1] == [
        "Les Prix ESS : dernière ligne droite pour s'inscrire",
        "2016-05-30",
        "9",
        "7",
        "7",
        "4",
        "4",
        "3",
        "0.5714",
        "0.4286",
        "0.75",
        "2",
        "1",
        "3",
        "2",
        "0",
    ]
    assert rows[3][1] == "2016-12-01" and rows[3][6] == ""
    assert len(rows) == 4


def test_xlsx_keeps_numbers_as_numbers_and_dates_as_dates(history_cli, workdir) -> None:
    cli, _ = history_cli
    result = cli("report", "newsletters", "--year", "2016", "--format", "xlsx", "--out", "n.xlsx")
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(workdir / "n.xlsx").active
    assert sheet.title == "Newsletters"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == FRENCH_COLUMNS
    first = rows[1]
    assert first[0] == EXPECTED["N1"]["title"]
    assert isinstance(first[1], datetime) and first[1].date() == date(2016, 5, 30)
    assert first[2:8] == (9, 7, 7, 4, 4, 3)
    assert first[8] == pytest.approx(4 / 7)
    assert sheet.cell(row=2, column=2).number_format == "d mmmm yyyy"
    assert sheet.cell(row=2, column=9).number_format == "0.0%"
    assert rows[3][6] is None  # anonymous: no unique opens


def test_a_year_with_no_newsletter_says_so(history_cli) -> None:
    cli, _ = history_cli
    result = cli("report", "newsletters", "--year", "2015")
    assert result.exit_code == 0, result.stderr
    assert "Aucune donnée pour cette période." in result.stdout
