"""``report newsletter ID``: per link, per region, the first seven days, bounce reasons."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from campaign.reports import Labels, newsletter_report

PARIS = ZoneInfo("Europe/Paris")
FR = Labels.load("fr", PARIS)


def _tables(session, newsletter_id: int) -> dict[str, list[dict]]:
    report = newsletter_report(session, newsletter_id, FR)
    return {table.key: table.rows for table in report.tables()}


def test_n1_in_detail(session, history) -> None:
    tables = _tables(session, history.newsletters["N1"])
    (summary,) = tables["summary"]
    assert summary == {
        "date": date(2016, 5, 30),
        "addressed": 9,
        "delivered": 7,
        "opens": 7,
        "clicks": 4,
        "unique_opens": 4,
        "unique_clicks": 3,
        "open_rate": pytest.approx(4 / 7),
        "click_rate": pytest.approx(3 / 7),
        "click_to_open": pytest.approx(0.75),
        "unsubscribes": 2,
        "bounces": 1,
        "machine_opens": 3,
        "bot_clicks": 2,
        "left_out": 0,
        "failed": 1,
        "not_sent": 0,
    }
    # L1: a1 twice and a4 (2 people), a2's scanner; L2: a3, c2's scanner; L3 never clicked.
    assert tables["links"] == [
        {
            "url": "https://www.lemois-ess.org/prix",
            "clicks": 3,
            "unique_clicks": 2,
            "bot_clicks": 1,
        },
        {
            "url": "https://www.lemois-ess.org/inscription",
            "clicks": 1,
            "unique_clicks": 1,
            "bot_clicks": 1,
        },
        {
            "url": "https://www.lemois-ess.org/reglement",
            "clicks": 0,
            "unique_clicks": 0,
            "bot_clicks": 0,
        },
    ]
    # Not a regional newsletter: the subscribers' own regions.
    assert tables["regions"] == [
        {
            "region": "Bretagne",  # a1, a2, b1, c2
            "addressed": 4,
            "delivered": 4,
            "bounces": 0,
            "left_out": 0,
            "opens": 5,  # a1 x3, b1 x2
            "unique_opens": 2,
            "clicks": 2,
            "unique_clicks": 1,
            "open_rate": 0.5,
            "click_rate": 0.25,
        },
        {
            "region": "Normandie",  # b2 bounced, c1 failed
            "addressed": 2,
            "delivered": 0,
            "bounces": 1,
            "left_out": 0,
            "opens": 0,
            "unique_opens": 0,
            "clicks": 0,
            "unique_clicks": 0,
            "open_rate": None,
            "click_rate": None,
        },
        {
            "region": "Occitanie",  # a3, b3
            "addressed": 2,
            "delivered": 2,
            "bounces": 0,
            "left_out": 0,
            "opens": 1,
            "unique_opens": 1,
            "clicks": 1,
            "unique_clicks": 1,
            "open_rate": 0.5,
            "click_rate": 0.5,
        },
        {
            "region": "(sans région)",  # a4
            "addressed": 1,
            "delivered": 1,
            "bounces": 0,
            "left_out": 0,
            "opens": 1,
            "unique_opens": 1,
            "clicks": 1,
            "unique_clicks": 1,
            "open_rate": 1.0,
            "click_rate": 1.0,
        },
    ]
    # Day 1 is 30 May in Paris; a1's open at 22:30 UTC is already 31 May (day 2); b1's open
    # of 7 June (day 9) is outside.
    assert [tuple(row.values()) for row in tables["days"]] == [
        (1, date(2016, 5, 30), 4, 3, 3, 2),
        (2, date(2016, 5, 31), 1, 1, 0, 0),
        (3, date(2016, 6, 1), 1, 0, 0, 0),
        (4, date(2016, 6, 2), 0, 0, 0, 0),
        (5, date(2016, 6, 3), 0, 0, 0, 0),
        (6, date(2016, 6, 4), 0, 0, 0, 0),
        (7, date(2016, 6, 5), 0, 0, 0, 0),
    ]
    assert tables["bounce_reasons"] == [
        {
            "status": "rejet définitif",
            "code": "5.1.1",
            "meaning": "adresse inconnue",
            "reply": "550 5.1.1 <…>: Recipient address rejected: User unknown",
            "count": 1,
        },
        {
            "status": "échec",
            "code": "",
            "meaning": "",
            "reply": "Subscriber unsubscribed since the snapshot",
            "count": 1,
        },
    ]


def test_n2_regions_are_the_groups_it_was_rendered_for(session, history) -> None:
    tables = _tables(session, history.newsletters["N2"])
    assert [
        (r["region"], r["addressed"], r["delivered"], r["bounces"], r["opens"], r["unique_opens"])
        for r in tables["regions"]
    ] == [("Bretagne", 6, 4, 2, 1, 1), ("Occitanie", 3, 3, 0, 3, 2), ("Normandie", 1, 1, 0, 1, 1)]
    occitanie = tables["regions"][1]
    assert (occitanie["clicks"], occitanie["unique_clicks"]) == (3, 2)
    assert occitanie["open_rate"] == pytest.approx(2 / 3)
    # e1 and e2 were refused with the same reason quoting different addresses: one line.
    assert tables["bounce_reasons"] == [
        {
            "status": "rejet définitif",
            "code": "5.7.1",
            "meaning": "refusé par la politique du serveur (spam, liste de blocage)",
            "reply": "550 5.7.1 <…>: Message rejected as spam",
            "count": 2,
        }
    ]
    assert [tuple(row.values())[2:] for row in tables["days"][:3]] == [
        (4, 1, 4, 1),
        (0, 0, 0, 0),
        (1, 2, 0, 0),
    ]


def test_an_anonymous_newsletter_has_totals_but_no_people(session, history) -> None:
    tables = _tables(session, history.newsletters["N3"])
    (summary,) = tables["summary"]
    assert (summary["date"], summary["opens"], summary["clicks"]) == (date(2016, 12, 1), 3, 2)
    assert summary["unique_opens"] is summary["open_rate"] is None
    assert tables["links"] == [
        {
            "url": "https://www.lemois-ess.org/laureats",
            "clicks": 2,
            "unique_clicks": 0,
            "bot_clicks": 0,
        }
    ]
    # Anonymous hits belong to no region.
    assert [
        (r["region"], r["addressed"], r["opens"], r["open_rate"]) for r in tables["regions"]
    ] == [("Bretagne", 2, 0, None)]
    # Sent at 00:30 on 1 December in Paris: day 1 is 1 December.
    assert [tuple(row.values()) for row in tables["days"][:2]] == [
        (1, date(2016, 12, 1), 2, 1, 1, 0),
        (2, date(2016, 12, 2), 1, 1, 0, 0),
    ]
    assert tables["bounce_reasons"] == []


def test_the_terminal_shows_every_table_in_french(history_cli) -> None:
    cli, history = history_cli
    result = cli("report", "newsletter", str(history.newsletters["N1"]))
    assert result.exit_code == 0, result.stderr
    for title in ("Résultats", "Clics par lien", "Par région", "Les sept premiers jours"):
        assert title in result.stdout
    assert "Rejets et échecs" in result.stdout
    assert "Les Prix ESS : dernière ligne droite pour s'inscrire — 30 mai 2016" in result.stdout
    assert "1er juin 2016" in result.stdout
    assert "adresse inconnue" in result.stdout


def test_one_table_as_csv_and_every_table_in_the_workbook(history_cli, workdir) -> None:
    cli, history = history_cli
    n1 = str(history.newsletters["N1"])
    refused = cli("report", "newsletter", n1, "--format", "csv")
    assert refused.exit_code == 1
    assert "--table" in refused.stderr and "links" in refused.stderr
    result = cli("report", "newsletter", n1, "--format", "csv", "--table", "links")
    assert result.exit_code == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout)))[:2] == [
        ["Lien", "Clics", "Clics uniques", "Clics de robots"],
        ["https://www.lemois-ess.org/prix", "3", "2", "1"],
    ]
    result = cli("report", "newsletter", n1, "--out", "n1.xlsx")
    assert result.exit_code == 0, result.stderr
    workbook = load_workbook(workdir / "n1.xlsx")
    assert workbook.sheetnames == ["Résultats", "Liens", "Régions", "7 premiers jours", "Rejets"]
    days = list(workbook["7 premiers jours"].iter_rows(values_only=True))
    assert days[0] == (
        "Jour",
        "Date",
        "Ouvertures",
        "Clics",
        "Ouvertures automatiques",
        "Clics de robots",
    )
    assert (
        days[1][0] == 1 and days[1][1].date() == date(2016, 5, 30) and days[1][2:] == (4, 3, 3, 2)
    )


def test_json_holds_every_table(history_cli) -> None:
    cli, history = history_cli
    result = cli("report", "newsletter", str(history.newsletters["N2"]), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["tables"]) == ["summary", "links", "regions", "days", "bounce_reasons"]
    assert data["tables"]["summary"]["rows"][0]["delivered"] == 8


@pytest.mark.parametrize(
    ("key", "message"),
    [("N4", "has not been sent (it is draft)"), (None, "No newsletter 999")],
)
def test_a_newsletter_not_sent_or_unknown_is_a_clear_error(history_cli, key, message) -> None:
    cli, history = history_cli
    number = str(history.newsletters[key]) if key else "999"
    result = cli("report", "newsletter", number)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error:") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_bilan_workbook_puts_every_newsletter_on_the_same_sheets(history_cli, workdir) -> None:
    cli, _ = history_cli
    result = cli("report", "bilan", "--year", "2016", "--format", "xlsx")
    assert result.exit_code == 0, result.stderr
    workbook = load_workbook(workdir / "bilan-2016.xlsx")
    assert workbook.sheetnames == [
        "Chiffres clés",  # the bilan opens with its key figures
        "Newsletters",
        "Résultats",
        "Liens",
        "Régions",
        "7 premiers jours",
        "Rejets",
        "Mois par mois",
        "Par région",
        "Par origine",
        "Comptes",
        "Publications",
        "Influenceurs",
    ]
    links = list(workbook["Liens"].iter_rows(values_only=True))
    assert links[0] == ("Newsletter", "Lien", "Clics", "Clics uniques", "Clics de robots")
    assert links[1] == (
        "Les Prix ESS : dernière ligne droite pour s'inscrire — 30 mai 2016",
        "https://www.lemois-ess.org/prix",
        3,
        2,
        1,
    )
    assert len(links) == 1 + 3 + 2 + 1  # N1's three links, N2's two, N3's one
    results = list(workbook["Résultats"].iter_rows(values_only=True))
    assert [row[2] for row in results[1:]] == [9, 10, 2]  # Destinataires of N1, N2, N3
