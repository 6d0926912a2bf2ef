"""The bilan's key figures: sentences in the 2016 bilan's form, each figure the one of its table."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from campaign.models import Post
from campaign.reports import Labels, Period, bilan_report
from campaign.reports.model import Report, Table
from campaign.social.metrics import record_followers

from .conftest import at

PARIS = ZoneInfo("Europe/Paris")
FR = Labels.load("fr", PARIS)
EN = Labels.load("en", PARIS)
HANDLES = {"mois_ess": "Mois_ESS", "prix_ess": "Prix_ESS"}


def _bilan(session, period: Period, labels: Labels = FR) -> Report:
    return bilan_report(session, period, labels, HANDLES)


def _table(report: Report, key: str) -> Table:
    """The first table ``key`` after the key figures: the one the sentences read."""
    return next(table for section in report.sections[1:] for table in section.tables
                if table.key == key)  # fmt: skip


def _sentences(report: Report) -> list[str]:
    assert report.sections[0].heading == "key_figures", "the bilan opens with its key figures"
    (table,) = report.sections[0].tables
    return [row["sentence"] for row in table.rows]


def test_the_key_figures_of_2016_in_the_team_s_words(session, history) -> None:
    """Worked out from tests/reports/conftest.py: N1 (30 May, 7 delivered), N2 (18 November,
    8), N3 (1 December, 2, tracked anonymously); opens 7 + 5 + 3, unique 4 + 4 (N3 has none);
    clicks 4 + 3 + 2, unique 3 + 2. @Mois_ESS: 6,400 on 10 December, 500 in 51 days; 2 posts,
    30 + 40 + 25 + 10 mentions, P1 reposted. @Prix_ESS: 547 on 30 November, 147 in 60 days."""
    report = _bilan(session, Period.year(2016, PARIS))
    assert _sentences(report) == [
        "3 newsletters envoyées du 30 mai 2016 au 1er décembre 2016, passant de 7 destinataires "
        "réels à 2 (-5, soit -71,4\u00a0%).",
        "15 ouvertures des newsletters au total, 8 ouvertures uniques (hors newsletters en suivi "
        "anonyme).",
        "9 clics des newsletters au total, 5 clics uniques (hors newsletters en suivi anonyme).",
        "@Mois_ESS : 6400 abonnés au 10 décembre 2016 (moyenne de 9,8 nouveaux abonnés par jour).",
        "@Mois_ESS : 2 publications envoyées, 105 publications le mentionnant, 1 publication "
        "repartagée.",
        "@Prix_ESS : 547 abonnés au 30 novembre 2016 (moyenne de 2,5 nouveaux abonnés par jour).",
        "@Prix_ESS : 1 publication envoyée, 205 publications le mentionnant, 1 publication "
        "repartagée.",
    ]
    (key_table,) = report.sections[0].tables
    assert [row["topic"] for row in key_table.rows] == ["Newsletters"] * 3 + ["@Mois_ESS"] * 2 + [
        "@Prix_ESS"
    ] * 2


def test_each_figure_is_the_one_of_its_table(session, history) -> None:
    """Every number a sentence states is read from the tables below it, as they print it."""
    record_followers(session, "prix_ess", 12_345, date(2016, 12, 31), PARIS)  # thousands
    report = _bilan(session, Period.year(2016, PARIS))
    sentences = _sentences(report)
    newsletters = _table(report, "newsletters").rows
    accounts = {row["account"]: row for row in _table(report, "accounts").rows}

    def number(value: int) -> str:
        return FR.cell(value, "int")

    first, last = newsletters[0], newsletters[-1]
    change = last["delivered"] - first["delivered"]
    assert sentences[0] == (
        f"{number(len(newsletters))} newsletters envoyées du {FR.cell(first['date'], 'date')} "
        f"au {FR.cell(last['date'], 'date')}, passant de {number(first['delivered'])} "
        f"destinataires réels à {number(last['delivered'])} ({number(change)}, soit "
        f"{FR.cell(change / first['delivered'], 'rate')})."
    )
    for sentence, total, unique in (
        (sentences[1], "opens", "unique_opens"),
        (sentences[2], "clicks", "unique_clicks"),
    ):
        assert sentence.startswith(number(sum(row[total] for row in newsletters)) + " ")
        uniques = sum(row[unique] for row in newsletters if row[unique] is not None)
        assert f", {number(uniques)} " in sentence
    for shown, row in accounts.items():
        followers, activity = [s for s in sentences if s.startswith(f"{shown} : ")]
        assert followers == (
            f"{shown} : {number(row['followers_end'])} abonnés au "
            f"{FR.cell(row['last_snapshot'], 'date')} (moyenne de "
            f"{FR.cell(row['followers_per_day'], 'decimal')} nouveaux abonnés par jour)."
        )
        for key in ("posts", "mentions", "reposted_posts"):
            assert f"{number(row[key])} publication" in activity, (key, activity)
    # French thousands as in the tables: a narrow no-break space from 10 000 up.
    assert "12\u202f345 abonnés au 31 décembre 2016" in sentences[5]
    assert FR.cell(accounts["@Prix_ESS"]["followers_end"], "int") == "12\u202f345"


def test_what_is_not_known_is_not_said(session, history) -> None:
    # Followers typed by hand only: no mentions measured, no post measured.
    record_followers(session, "autre_compte", 100, date(2016, 1, 1), PARIS)
    record_followers(session, "autre_compte", 465, date(2016, 12, 31), PARIS)
    session.add(
        Post(
            account="autre_compte",
            text="Sans relevé",
            parts=["Sans relevé"],
            status="published",
            published_at=at("2016-06-01 10:00"),
            remote_ids=["9"],
        )
    )
    session.commit()
    sentences = _sentences(_bilan(session, Period.year(2016, PARIS)))
    assert [s for s in sentences if s.startswith("autre_compte")] == [
        "autre_compte : 465 abonnés au 31 décembre 2016 (moyenne de 1,0 nouveaux abonnés par "
        "jour).",
        "autre_compte : 1 publication envoyée.",  # neither mentions nor reposts: unknown
    ]


def test_one_newsletter_or_none(session, history) -> None:
    june = Period(date(2016, 5, 1), date(2016, 6, 30), PARIS)
    assert _sentences(_bilan(session, june))[:3] == [
        "1 newsletter envoyée le 30 mai 2016, à 7 destinataires réels.",
        "7 ouvertures des newsletters au total, 4 ouvertures uniques.",
        "4 clics des newsletters au total, 3 clics uniques.",
    ]
    early = Period(date(2015, 1, 1), date(2015, 12, 31), PARIS)
    sentences = _sentences(_bilan(session, early))
    assert sentences[0] == "Aucune newsletter envoyée pendant la période."
    english = _sentences(_bilan(session, Period.year(2016, PARIS), EN))
    assert english[0] == (
        "3 newsletters sent from May 30, 2016 to December 1, 2016, growing from 7 recipients "
        "(delivered) to 2 (-5, that is -71.4%)."
    )
    assert (
        english[4] == "@Mois_ESS: 2 posts sent, 105 posts mentioning it, 1 of its posts reposted."
    )


def test_the_bilan_files_open_with_the_key_figures(history_cli, workdir) -> None:
    cli, _ = history_cli
    assert cli("report", "bilan", "--year", "2016", "--format", "xlsx").exit_code == 0
    workbook = load_workbook(workdir / "bilan-2016.xlsx")
    assert workbook.sheetnames[0] == "Chiffres clés"
    rows = list(workbook["Chiffres clés"].iter_rows(values_only=True))
    assert rows[0] == ("Sujet", "Chiffre clé")
    assert rows[1][0] == "Newsletters" and rows[1][1].startswith("3 newsletters envoyées du")
    assert rows[4] == (
        "@Mois_ESS",
        "@Mois_ESS : 6400 abonnés au 10 décembre 2016 (moyenne de 9,8 nouveaux abonnés par jour).",
    )
    data = json.loads(cli("report", "bilan", "--year", "2016", "-f", "json").stdout)
    assert next(iter(data["tables"])) == "key_figures"
    assert data["tables"]["key_figures"]["rows"][1]["sentence"].startswith("15 ouvertures")
    assert cli("report", "bilan", "--year", "2016").exit_code == 0
    html = (workdir / "bilan-2016.html").read_text(encoding="utf-8")
    assert html.index("Chiffres clés") < html.index("Ouvertures et clics par newsletter")
    assert "<li>@Prix_ESS : 547 abonnés au 30 novembre 2016" in html
