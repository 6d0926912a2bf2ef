"""French formats, the attribution convention, and the clear errors of ``campaign report``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from campaign.errors import CampaignError
from campaign.reports import Labels, delivery_of, newsletter_of, newsletter_source
from campaign.reports.charts import nice_step
from campaign.reports.queries import reply_reason

pytestmark = pytest.mark.one_database(
    "the report files' format: the report queries are tested on both engines elsewhere"
)

PARIS = ZoneInfo("Europe/Paris")


def test_french_dates_numbers_and_rates() -> None:
    fr = Labels.load("fr", PARIS)
    assert fr.date(date(2016, 11, 18)) == "18 novembre 2016"
    assert fr.date(date(2016, 12, 1)) == "1er décembre 2016"
    assert fr.date(datetime(2016, 11, 30, 23, 30, tzinfo=UTC)) == "1er décembre 2016"
    assert fr.month(date(2016, 8, 1)) == "août 2016"
    assert fr.datetime(datetime(2016, 5, 30, 7, 5, tzinfo=UTC)) == "30 mai 2016 à 9 h 05"
    assert fr.integer(3832) == "3832"  # as in their table; grouped from five digits
    assert fr.integer(45000) == "45\u202f000"
    assert fr.rate(0.45234) == "45,2\u00a0%"
    assert fr.decimal(9.756) == "9,8"
    assert fr.cell(None, "int") == "—"


def test_english_dates_numbers_and_rates() -> None:
    en = Labels.load("en", PARIS)
    assert en.date(date(2016, 11, 1)) == "November 1, 2016"
    assert (en.integer(3832), en.rate(0.5), en.decimal(1234.56)) == ("3,832", "50.0%", "1,234.6")


def test_every_language_names_the_same_labels() -> None:
    fr, en = Labels.load("fr", PARIS).data, Labels.load("en", PARIS).data
    assert set(fr) == set(en)
    for section, values in fr.items():
        if isinstance(values, dict):
            assert set(values) == set(en[section]), section


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(CampaignError, match="--lang 'de'"):
        Labels.load("de", PARIS)


def test_the_attribution_convention_round_trips() -> None:
    assert newsletter_source(7) == "newsletter 7"
    assert newsletter_source(7, 42) == "newsletter 7, delivery 42"
    assert newsletter_of("newsletter 7, delivery 42") == 7
    assert delivery_of("newsletter 7, delivery 42") == 42
    assert newsletter_of("newsletter 7, delivery 42, one-click") == 7
    assert newsletter_of("newsletter 7") == 7 and delivery_of("newsletter 7") is None
    for other in ("newsletter 7x", "newsletters 7", "import.csv row 3", "", "newsletter"):
        assert newsletter_of(other) is None


def test_server_replies_group_without_their_addresses() -> None:
    assert reply_reason("550 5.1.1 <jean@example.org>: User unknown") == (
        "5.1.1",
        "550 5.1.1 <…>: User unknown",
    )
    assert reply_reason("554 rejected for jean.dupont@example.org") == (
        "554",
        "554 rejected for <…>",
    )
    assert reply_reason("Invalid address") == ("", "Invalid address")


def test_chart_steps_are_round() -> None:
    assert [nice_step(v) for v in (7, 10, 48, 2294, 6400)] == [2, 2, 10, 500, 2000]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("newsletters", "--format", "pdf"), "--format 'pdf'"),
        (("newsletters", "--out", "report.txt"), "--out report.txt"),
        (("newsletters", "--from", "2016-13-01"), "--from: '2016-13-01' is not a date"),
        (("newsletters", "--from", "2016-12-01", "--to", "2016-01-01"), "is before --from"),
        (("newsletters", "--lang", "de"), "--lang 'de'"),
        (("newsletters", "--out", "missing/n.csv"), "the folder missing does not exist"),
        (("subscribers", "--format", "csv"), "choose one with --table"),
        (("subscribers", "--table", "nothing"), "--table 'nothing'"),
        (("bilan", "--format", "csv"), "html, xlsx or json"),
        (("newsletters", "--format", "xlsx"), "give its name with --out"),
    ],
)
def test_bad_options_are_clear_errors(cli, arguments, message) -> None:
    result = cli("report", *arguments)
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_an_empty_database_gives_empty_reports(cli, workdir) -> None:
    for command in ("newsletters", "social", "subscribers"):
        result = cli("report", command)
        assert result.exit_code == 0, result.stderr
    result = cli("report", "bilan", "--format", "xlsx")
    assert result.exit_code == 0, result.stderr
    assert (workdir / "bilan.xlsx").is_file()


def test_a_title_that_looks_like_a_formula_stays_text_in_the_workbook(tmp_path) -> None:
    from openpyxl import load_workbook

    from campaign.reports.export import to_xlsx
    from campaign.reports.model import Column, Period, Report, Section, Table

    table = Table("newsletters", [Column("title", "text"), Column("addressed")])
    table.rows = [{"title": '=HYPERLINK("http://evil.example","clic")', "addressed": 3}]
    report = Report(
        "newsletters",
        Period(None, None, PARIS),
        [Section("newsletters", [table])],
        datetime(2016, 1, 1, tzinfo=UTC),
    )
    labels = Labels.load("fr", PARIS)
    to_xlsx(report, labels, [table], tmp_path / "n.xlsx")
    cell = load_workbook(tmp_path / "n.xlsx").active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
