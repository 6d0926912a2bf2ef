"""Writing a report: to the terminal, CSV, JSON, XLSX or one self-contained HTML file.

The formats split by reader. People read the terminal table, the HTML file (French dates and
numbers, charts, printable) and the XLSX workbook (one sheet per table, real numbers and dates
that Excel can sum and sort). Scripts read CSV and JSON: plain values (ISO dates, ``.``
decimals, rates as fractions), one table at a time for CSV.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table as RichTable

from campaign.cells import csv_writer, protect_xlsx_cell
from campaign.errors import CampaignError
from campaign.files import open_private, write_private
from campaign.reports.labels import Labels, report_templates
from campaign.reports.model import Column, Report, Table

FORMATS = ("table", "csv", "json", "xlsx", "html")
BINARY_OR_DOCUMENT = ("xlsx", "html")  # written to a file, never to the terminal
EXTENSIONS = {".csv": "csv", ".json": "json", ".xlsx": "xlsx", ".html": "html", ".htm": "html"}
RIGHT_ALIGNED = ("int", "decimal", "rate")
VERTICAL_FROM = 6  # a one-row table with more columns than this prints one label per line


def format_for(format_: str | None, out: Path | None) -> str:
    """The format asked for, else the one the output file's extension names, else a table."""
    if format_ is not None:
        if format_ not in FORMATS:
            raise CampaignError.of(
                "report.unknown_format", "format", format=format_, known=list(FORMATS)
            )
        return format_
    if out is not None:
        found = EXTENSIONS.get(out.suffix.lower())
        if found is None:
            raise CampaignError.of(
                "report.format_not_known_from_file", "out", out=str(out), known=list(FORMATS)
            )
        return found
    return "table"


def pick_tables(report: Report, table: str | None, format_: str) -> list[Table]:
    """The tables to write: the one named by ``--table``, or all (CSV holds exactly one)."""
    keys = report.table_keys()
    if table is not None:
        if table not in keys:
            raise CampaignError.of("report.unknown_table", "table", table=table, known=list(keys))
        return [report.merged(table)]
    if format_ == "csv" and len(keys) > 1:
        raise CampaignError.of("report.csv_one_table", "table", count=len(keys), known=list(keys))
    return [report.merged(key) for key in keys]


# --- plain values for scripts ---------------------------------------------------------------------


def plain(value: Any, kind: str) -> Any:
    """A value as scripts want it: ISO dates, rates as fractions rounded to 4 places."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()[:7] if kind == "month" else value.isoformat()
    if kind in ("rate", "decimal"):
        return round(value, 4)
    return value


def to_json(report: Report, labels: Labels, tables: list[Table]) -> str:
    """``{"report", "lang", "period", "generated_at", "tables": {key: {title, columns, rows}}}``."""
    data = {
        "report": report.key,
        "lang": labels.language,
        "period": report.period.as_json(),
        "generated_at": report.generated_at.isoformat(),
        "tables": {
            table.key: {
                "title": labels.table(table.key),
                "columns": [
                    {"key": c.key, "label": labels.column(c.key), "type": c.kind}
                    for c in table.columns
                ],
                "rows": [
                    {c.key: plain(row.get(c.key), c.kind) for c in table.columns}
                    for row in table.rows
                ],
            }
            for table in tables
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(table: Table, labels: Labels) -> str:
    """One table as CSV: a header of labels, then values as scripts read them.

    Comma-separated UTF-8 without BOM; rates are fractions (0.4523), dates ISO. For Excel, the
    XLSX format keeps the numbers and dates typed. Text that a spreadsheet would run as a
    formula starts with ``'`` (:mod:`campaign.cells`).
    """
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow([labels.column(c.key) for c in table.columns])
    for row in table.rows:
        values = (plain(row.get(c.key), c.kind) for c in table.columns)
        writer.writerow(["" if value is None else value for value in values])
    return buffer.getvalue()


# --- for people ---------------------------------------------------------------------------------


def print_tables(
    report: Report, labels: Labels, tables: list[Table] | None, console: Console
) -> None:
    """Rich tables with French (or English) labels, dates and numbers."""
    wanted = {table.key for table in tables} if tables is not None else None
    several = len(report.sections) > 1
    for section in report.sections:
        shown = [t for t in section.tables if wanted is None or t.key in wanted]
        if not shown:
            continue
        if several or section.subtitle:
            console.rule(section.subtitle or labels.report(section.heading))
        for table in shown:
            for rich in _rich_tables(table, labels):
                console.print(rich)
            if not table.rows:
                console.print(labels.text("empty"))


@dataclass
class Part:
    """What people see of a table: all of it, one of its parts, or its single row upright."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    vertical: bool = False


def display_parts(table: Table, labels: Labels) -> list[Part]:
    """A table as people read it, in the terminal and in the HTML page.

    A single row with many columns (a newsletter's results) is shown upright, one label per
    line; a table with ``parts`` (the newsletters: first the team's own six columns, then the
    other figures) is shown as one table per part; any other table whole.
    """
    title = labels.table(table.key)
    if len(table.rows) == 1 and len(table.columns) > VERTICAL_FROM:
        return [Part(title, table.columns, table.rows, vertical=True)]
    if not table.parts:
        return [Part(title, table.columns, table.rows)]
    by_key = {column.key: column for column in table.columns}
    return [
        Part(
            title if number == 0 else labels.text("continued", title=title),
            [by_key[key] for key in keys],
            table.rows,
        )
        for number, keys in enumerate(table.parts)
    ]


def _rich_tables(table: Table, labels: Labels) -> list[RichTable]:
    tables = []
    for part in display_parts(table, labels):
        if part.vertical:
            rich = RichTable(title=part.title, title_justify="left", show_header=False)
            rich.add_column(style="bold")
            rich.add_column(justify="right")
            for column in part.columns:
                value = labels.cell(part.rows[0].get(column.key), column.kind)
                rich.add_row(labels.column(column.key), value)
            tables.append(rich)
            continue
        rich = RichTable(title=part.title, title_justify="left")
        cells = [[labels.cell(row.get(c.key), c.kind) for c in part.columns] for row in part.rows]
        for index, column in enumerate(part.columns):
            justify: JustifyMethod = "right" if column.kind in RIGHT_ALIGNED else "left"
            if column.kind in ("text", "url"):
                rich.add_column(labels.column(column.key), justify=justify, overflow="fold")
            else:  # figures and dates never wrap; their headers do
                widest = max((len(line[index]) for line in cells), default=1)
                rich.add_column(labels.column(column.key), justify=justify, min_width=widest)
        for line in cells:
            rich.add_row(*line)
        tables.append(rich)
    return tables


def to_xlsx(report: Report, labels: Labels, tables: list[Table], path: Path) -> None:
    """One sheet per table: header row, numbers as numbers, dates as dates, rates as %."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    formats = {
        "date": labels.data["xlsx_date"],
        "month": labels.data["xlsx_month"],
        "datetime": labels.data["xlsx_datetime"],
        "rate": labels.data["xlsx_rate"],
        "decimal": labels.data["xlsx_decimal"],
    }
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(labels.sheet(table.key), used))
        sheet.append([labels.column(c.key) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        widths = [len(labels.column(c.key)) for c in table.columns]
        for row in table.rows:
            values = [_excel_value(row.get(c.key), c.kind, labels) for c in table.columns]
            sheet.append(values)
            for cell in sheet[sheet.max_row]:
                protect_xlsx_cell(cell)  # text is text: a title "=…" must not become a formula
            for index, value in enumerate(values):
                widths[index] = max(widths[index], min(60, len(str(value or ""))))
        for index, column in enumerate(table.columns, start=1):
            number_format = formats.get(column.kind)
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(10, widths[index - 1] + 2)
            if number_format:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = number_format
    workbook.properties.title = labels.report(report.key)
    with open_private(path, "wb") as handle:
        workbook.save(handle)


def _sheet_name(name: str, used: set[str]) -> str:
    for char in "[]:*?/\\":
        name = name.replace(char, " ")
    name = name[:31]
    candidate, number = name, 2
    while candidate in used:
        suffix = f" ({number})"
        candidate, number = name[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate)
    return candidate


def _excel_value(value: Any, kind: str, labels: Labels) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: the local time, as the team reads it.
        return value.astimezone(labels.zone).replace(tzinfo=None)
    return value


def to_html(report: Report, labels: Labels, tables: list[Table] | None = None) -> str:
    """One self-contained HTML page: inline CSS and SVG, no script, no request, printable."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader((labels.folder or report_templates()).search_path()),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    wanted = {table.key for table in tables} if tables is not None else None
    shown = []
    defined: set[str] = set()
    for section in report.sections:
        parts = [
            part
            for table in section.tables
            if wanted is None or table.key in wanted
            for part in display_parts(table, labels)
        ]
        if not parts:
            continue
        # Definitions once per kind of section (the bilan has a section per newsletter).
        definitions = (
            [] if section.definitions in defined else labels.definitions(section.definitions)
        )
        defined.add(section.definitions)
        shown.append((section, parts, definitions))
    return environment.get_template("report.html.j2").render(
        report=report,
        sections=shown,
        labels=labels,
        period=period_text(report, labels),
        right_aligned=RIGHT_ALIGNED,
    )


def period_text(report: Report, labels: Labels) -> str:
    start, end = report.period.start, report.period.end
    if start and end:
        return labels.text("period_from_to", start=labels.date(start), end=labels.date(end))
    if start:
        return labels.text("period_from", start=labels.date(start))
    if end:
        return labels.text("period_to", end=labels.date(end))
    return labels.text("period_all")


# --- one entry point ----------------------------------------------------------------------------


def write_report(
    report: Report,
    labels: Labels,
    format_: str,
    out: Path | None,
    console: Console,
    table: str | None = None,
) -> Path | None:
    """Write ``report`` as ``format_`` to ``out`` (or the console); the file written, if any."""
    if format_ in BINARY_OR_DOCUMENT and out is None:
        raise CampaignError.of("report.needs_file", "out", format=format_, key=report.key)
    tables = pick_tables(report, table, format_)
    if out is not None and out.parent and not out.parent.exists():
        raise CampaignError.of("report.no_folder", "out", out=str(out), folder=str(out.parent))
    picked = tables if table else None  # the formats that show every table unless one is named
    try:
        if format_ == "xlsx":
            assert out is not None
            to_xlsx(report, labels, tables, out)
            return out
        if format_ == "table":
            return _write_tables(report, labels, picked, out, console)
        if format_ == "html":
            text = to_html(report, labels, picked)
        else:
            text = (
                to_json(report, labels, tables) if format_ == "json" else to_csv(tables[0], labels)
            )
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    if out is None:
        sys.stdout.write(text)
        return None
    try:
        write_private(out, text)
    except OSError as exc:
        raise _cannot_write(out, exc) from None
    return out


def _write_tables(
    report: Report, labels: Labels, picked: list[Table] | None, out: Path | None, console: Console
) -> Path | None:
    """The terminal tables, on the console or in a plain text file."""
    if out is None:
        print_tables(report, labels, picked, console)
        return None
    with open_private(out, "w", encoding="utf-8") as handle:
        file_console = Console(file=handle, width=200, color_system=None, markup=False)
        print_tables(report, labels, picked, file_console)
    return out


def _cannot_write(out: Path | None, exc: OSError) -> CampaignError:
    return CampaignError.of(
        "report.cannot_write", "out", out=str(out), reason=exc.strerror or str(exc)
    )
