"""What every command shares: the settings, the database, JSON output and the two consoles."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text

from campaign.errors import CampaignError

if TYPE_CHECKING:  # the database libraries load with the first command that opens it, and
    from sqlalchemy import Engine  # the settings' validation with the first that reads them
    from sqlmodel import Session

    from campaign.config import Settings

# Markup is off: what is printed holds user text (names, messages naming "[mail.smtp] timeout")
# whose brackets rich would otherwise take for style tags and drop. Styles are given as
# rich.text.Text pieces (see ``styled``), never written into strings.
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


@dataclass
class State:
    config_path: Path | None = None
    _settings: Settings | None = None
    _engine: Engine | None = None


state = State()


def settings() -> Settings:
    if state._settings is None:
        from campaign.config import load_settings

        state._settings = load_settings(state.config_path)
    return state._settings


def engine() -> Engine:
    if state._engine is None:
        from campaign.db import open_database

        state._engine = open_database(settings().database.url)
    return state._engine


@contextmanager
def session() -> Iterator[Session]:
    from campaign.db import session_scope

    with session_scope(engine()) as db_session:
        yield db_session


def database_url() -> str | None:
    """The database URL of this command, once its settings are read (for error messages)."""
    return state._settings.database.url if state._settings is not None else None


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line whose ``(text, style)`` parts are styled; every text is printed as it is."""
    return Text.assemble(*parts)


def reset() -> None:
    """Forget loaded settings and engine (tests run many commands in one process)."""
    if state._engine is not None:
        state._engine.dispose()
    state.config_path = None
    state._settings = None
    state._engine = None


def actor() -> str:
    """Who is acting, for the consent log: the command line's system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    """JSON on standard output, UTF-8 as it is (accents stay readable)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def parse_day(text: str | None, option: str) -> date | None:
    """A day given on the command line: 2026-11-05 or 05/11/2026 (French order)."""
    if text is None:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise CampaignError(f"{option}: {text!r} is not a date; write 2026-11-05 or 05/11/2026.")


def local_day_bounds(day: date, settings_: Settings) -> tuple[datetime, datetime]:
    """Start of ``day`` and of the next day, in the configured zone (aware datetimes)."""
    from datetime import timedelta

    start = datetime.combine(day, time.min, tzinfo=settings_.zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=settings_.zone)
    return start, end


def local(value: datetime | None, settings_: Settings, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC time written in the configured zone."""
    return value.astimezone(settings_.zone).strftime(fmt) if value else ""
