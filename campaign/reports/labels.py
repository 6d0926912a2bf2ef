"""The words and number formats of the reports, read from ``templates/reports/labels.toml``.

Reports are read by the comms team in French (« 18 novembre 2016 », « 45,2 % ») and handed to
scripts as plain values; every label and format lives in the data file, one table per language,
so the code only names keys — but for percentages, written by :mod:`campaign.formatting` like
everywhere else. ``Labels.cell`` turns a stored value into what a person reads.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from campaign.errors import CampaignError
from campaign.formatting import format_percent
from campaign.resources import TemplateTree, template_tree

if TYPE_CHECKING:
    from campaign.config import Settings

LANGUAGES = ("fr", "en")

# Labels' own date() and datetime() methods hide the classes' names in its body (for a type
# checker reading the annotations there): these aliases name the classes.
_Date = date
_DateTime = datetime


def report_templates(settings: Settings | None = None) -> TemplateTree:
    """``templates/reports/``: the HTML report and ``labels.toml``, the user's first."""
    return template_tree(settings=settings) / "reports"


@cache
def _load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Labels:
    """The labels and formats of one language, with the time zone dates are written in."""

    data: dict[str, Any]
    zone: ZoneInfo
    folder: TemplateTree | None = None
    """Where ``labels.toml`` was found: the HTML report's templates are looked up there too."""

    @classmethod
    def load(cls, language: str, zone: ZoneInfo, folder: TemplateTree | None = None) -> Labels:
        """The labels of ``language`` from the first ``labels.toml`` of ``folder`` (by default
        the ``reports/`` of the user's templates, then the shipped one)."""
        folder = folder or report_templates()
        path = folder.find("labels.toml")
        if path is None:
            raise CampaignError.of("report.no_labels", folder=str(folder))
        every = _load(path)
        if language not in every:
            raise CampaignError.of(
                "report.unknown_language", "language", language=language, known=sorted(every)
            )
        return cls(every[language], zone, folder)

    @property
    def language(self) -> str:
        return self.data["language"]

    def _entry(self, section: str, key: str) -> Any:
        try:
            return self.data[section][key]
        except KeyError:
            raise KeyError(f"labels.toml has no [{self.language}.{section}] {key}") from None

    def _section(self, section: str, key: str) -> str:
        return self._entry(section, key)

    def column(self, key: str) -> str:
        return self._section("columns", key)

    def table(self, key: str) -> str:
        return self._section("tables", key)

    def sheet(self, key: str) -> str:
        return self._section("sheets", key)

    def report(self, key: str) -> str:
        return self._section("reports", key)

    def chart(self, key: str, **values: Any) -> str:
        return self._section("charts", key).format(**values)

    def series(self, key: str) -> str:
        return self._section("series", key)

    def text(self, key: str, **values: Any) -> str:
        return self._section("text", key).format(**values)

    def plural(self, key: str, number: int, **values: Any) -> str:
        """``[plurals] key`` (singular, plural) for ``number``: French says 0 and 1 in the
        singular, English 1 only (``singular`` in labels.toml)."""
        one, many = self._entry("plurals", key)
        return (one if abs(number) in self.data["singular"] else many).format(**values)

    def definitions(self, key: str) -> list[str]:
        return list(self.data.get("definitions", {}).get(key, []))

    def status(self, key: str) -> str:
        return self.data["statuses"].get(key, key)

    def reply_code(self, code: str) -> str:
        return self.data["reply_codes"].get(code, "")

    # --- values as a person reads them ---------------------------------------------------------

    def date(self, value: date | datetime, year: bool = True) -> str:
        """« 18 novembre 2016 », « 1er décembre 2016 »; an aware time is taken in the zone.

        Without ``year``: « 18 novembre », where the year is said around it (a chart's days).
        """
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        day = self.data["first_day"] if value.day == 1 and self.data["first_day"] else value.day
        return self.data["date" if year else "day_month"].format(
            day=day, month=self.data["months"][value.month - 1], year=value.year
        )

    def month(self, value: _Date) -> str:
        return self.data["month"].format(
            month=self.data["months"][value.month - 1], year=value.year
        )

    def datetime(self, value: _DateTime) -> str:
        local = value.astimezone(self.zone)
        return self.data["datetime"].format(
            date=self.date(local.date()), hour=local.hour, minute=local.minute
        )

    def integer(self, value: int) -> str:
        if abs(value) < self.data["group_from"]:
            return str(value)
        return f"{value:,}".replace(",", self.data["thousands"])

    def decimal(self, value: float, places: int = 1) -> str:
        whole, _, fraction = f"{abs(value):.{places}f}".partition(".")
        text = self.integer(int(whole))
        if fraction:
            text += self.data["decimal_mark"] + fraction
        return ("-" if value < 0 and float(f"{value:.{places}f}") != 0 else "") + text

    def rate(self, value: float) -> str:
        """« 45,2 % », "45.2%": as every page and message writes a percentage."""
        return format_percent(value, self.language, digits=1)

    def cell(self, value: Any, kind: str) -> str:
        """One table cell as text; ``None`` is the "missing" dash."""
        if value is None:
            return self.data["missing"]
        if kind == "date":
            return self.date(value)
        if kind == "month":
            return self.month(value)
        if kind == "datetime":
            return self.datetime(value)
        if kind == "int":
            return self.integer(value)
        if kind == "decimal":
            return self.decimal(value)
        if kind == "rate":
            return self.rate(value)
        if kind == "bool":
            return self.data["yes"] if value else self.data["no"]
        return str(value)
