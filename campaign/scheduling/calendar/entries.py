"""What a campaign calendar holds once read and checked, and the problems found in it.

:func:`~campaign.scheduling.calendar.reader.read_calendar` fills a :class:`Calendar`: the
entries that passed their checks (times in UTC) and every :class:`Problem` with its file, line
and entry; the checks themselves are in :mod:`~campaign.scheduling.calendar.schema` and the
``calendar_*`` modules named after each kind of entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from campaign.errors import CampaignError
from campaign.scheduling.tomlsource import SourceMap

Level = Literal["error", "warning"]


# --- problems and where they are ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``error``: the file is refused) or worth a look (``warning``)."""

    level: Level
    path: Path
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.path}:{self.line}:{where} {self.message}"


# --- what a calendar holds, once checked -------------------------------------------------------


@dataclass
class NewsletterEntry:
    key: str
    line: int
    at: datetime  # UTC
    title: str
    subject: str
    template: str
    lists: list[str]
    segment: dict[str, Any]
    event_rule: dict[str, Any]
    content: dict[str, Any]
    blocks: list[dict[str, Any]] = field(default_factory=list)
    # The image files its blocks name, copied into the media folder by the sync.
    block_images: list[Path] = field(default_factory=list)
    preheader: str = ""
    from_name: str = ""
    from_address: str = ""
    anonymous_tracking: bool = False
    when_no_events: str = "national"
    no_events_text: str = ""


@dataclass
class PostEntry:
    """A one-off post for ``account`` and, with ``accounts = [...]``, for each account of
    ``others`` too: every account gets its own post, with its own words (``texts``) checked by
    its own network's rules."""

    key: str
    line: int
    account: str
    at: datetime  # UTC
    text: str
    parts: list[str]
    images: list[dict[str, str]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    template: str = ""  # with event_ids: the template the text was generated from
    # The other accounts of the entry, in the file's order: (text, parts) of each.
    others: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    @property
    def accounts(self) -> list[str]:
        return [self.account, *self.others]

    def targets(self) -> list[tuple[str, str, list[str]]]:
        """(account, text, parts) of each post the entry makes, the first account first."""
        return [
            (self.account, self.text, self.parts),
            *((name, text, parts) for name, (text, parts) in self.others.items()),
        ]


@dataclass
class RecurringEntry:
    key: str
    line: int
    kind: str
    times: list[time]
    days: list[int]  # weekdays, Monday = 0
    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None  # the first of ``accounts``
    accounts: list[str] = field(default_factory=list)  # event-posts: one post per account
    template: str = ""
    per_post: int = 1
    regions: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        """What is stored for a recurring job (JSON)."""
        return {
            "days": list(self.days),
            "times": [f"{clock:%H:%M}" for clock in self.times],
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "account": self.account,
        }


@dataclass
class Calendar:
    path: Path
    newsletters: list[NewsletterEntry] = field(default_factory=list)
    posts: list[PostEntry] = field(default_factory=list)
    recurring: list[RecurringEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source: SourceMap | None = None
    name: str = ""  # the calendar's name in schedule keys; empty: the file's stem

    @property
    def stem(self) -> str:
        return self.name or self.path.stem

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.level == "warning"]

    def schedule_key(self, key: str) -> str:
        return f"{self.stem}/{key}"


def calendar_files(path: Path) -> list[Path]:
    """The calendars at ``path``: the file itself, or every ``*.toml`` of the folder."""
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise CampaignError(f"No calendar (*.toml) in {path}.")
        return files
    if path.is_file():
        return [path]
    raise CampaignError(f"No calendar at {path}: give a .toml file or a folder of them.")


def problem_at(
    calendar: Calendar, level: Level, kind: str, key: str, line: int, message: str
) -> None:
    """Record a problem found after reading (e.g. while rendering an entry)."""
    calendar.problems.append(Problem(level, calendar.path, line, f"{kind} {key!r}", message))
