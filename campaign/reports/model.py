"""What a report is, whatever it is written to: a period, sections, tables of typed columns.

The aggregate queries fill these plain structures once; each exporter (terminal, CSV, JSON,
XLSX, HTML) only walks them. Values stay typed (``int``, ``float`` rates between 0 and 1,
``date``, ``datetime``) so that a spreadsheet gets numbers and dates, JSON gets numbers, and only
the human-facing exporters turn them into French text through :class:`~.labels.Labels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from campaign.reports.charts import Chart

Kind = Literal["text", "int", "decimal", "rate", "date", "datetime", "month", "bool", "url"]


@dataclass(frozen=True)
class Period:
    """Local days from ``start`` to ``end``, both included; ``None`` leaves that side open."""

    start: date | None
    end: date | None
    zone: ZoneInfo

    @classmethod
    def year(cls, year: int, zone: ZoneInfo) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), zone)

    def starts_at(self) -> datetime | None:
        """The first instant of the period (an aware datetime), if it has a start."""
        if self.start is None:
            return None
        return datetime.combine(self.start, time.min, tzinfo=self.zone)

    def ends_before(self) -> datetime | None:
        """The first instant after the period (exclusive bound), if it has an end."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.zone)

    def contains(self, moment: datetime) -> bool:
        start, end = self.starts_at(), self.ends_before()
        return (start is None or moment >= start) and (end is None or moment < end)

    def as_json(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "timezone": str(self.zone),
        }


@dataclass(frozen=True)
class Column:
    """One column: its key (the JSON key and the label's name in labels.toml) and its type."""

    key: str
    kind: Kind = "int"


@dataclass
class Table:
    """Rows of one kind; ``key`` names its title and sheet in labels.toml."""

    key: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    # For a page or a terminal too narrow for every column: the column keys of each part, shown
    # as tables one under the other (the first part of the newsletters table is the team's own).
    # Files for spreadsheets and scripts always get the whole table.
    parts: tuple[tuple[str, ...], ...] = ()

    def column_keys(self) -> list[str]:
        return [column.key for column in self.columns]


@dataclass
class Section:
    """A part of a report: a heading, its tables, its charts and the definitions it relies on.

    ``heading`` is the report key of labels.toml ([reports]); ``subtitle`` is free text (a
    newsletter's title and date) and is escaped like any user data. ``merge_as`` names the column
    (``newsletter``) under which a table of this section joins the same table of the sibling
    sections when an exporter puts them on one sheet.
    """

    heading: str
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    subtitle: str = ""
    definitions: str = ""
    merge_as: str = ""


@dataclass
class Report:
    """A whole report: what it is, the period it covers, its sections, when it was made."""

    key: str
    period: Period
    sections: list[Section]
    generated_at: datetime

    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]

    def table_keys(self) -> list[str]:
        keys: list[str] = []
        for table in self.tables():
            if table.key not in keys:
                keys.append(table.key)
        return keys

    def merged(self, key: str) -> Table:
        """Every table ``key`` of the report as one; several are told apart by a first column.

        A table found in one section only comes back as it is; found in several (the per
        newsletter tables of the bilan), their rows are concatenated under a first column named
        by the sections' ``merge_as`` holding each section's subtitle.
        """
        found = [(section, table) for section in self.sections for table in section.tables]
        found = [(section, table) for section, table in found if table.key == key]
        if not found:
            raise KeyError(key)
        if len(found) == 1:
            return found[0][1]
        label_key = found[0][0].merge_as or "newsletter"
        columns = [Column(label_key, "text"), *found[0][1].columns]
        rows = [
            {label_key: section.subtitle, **row} for section, table in found for row in table.rows
        ]
        return Table(key, columns, rows, found[0][1].parts)
