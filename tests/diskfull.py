"""A SQLite database that is full, the way a full disk makes it: SQLite's own SQLITE_FULL.

A connection that sets ``PRAGMA max_page_count`` below the file's size is held at that size:
any write needing one more page fails with "database or disk is full", the very error (code
SQLITE_FULL) a full disk gives. :func:`no_growth` sets it on every connection of an engine (or,
for a ``campaign`` process, of every engine: :data:`RUN_CAMPAIGN_ON_A_FULL_DISK`), and
:func:`fill` uses up the room left inside the pages of one table, so that even the smallest row
no longer fits in them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

DISK_FULL = "database or disk is full"

# The ``python -c`` program of a ``campaign`` process whose database cannot grow.
RUN_CAMPAIGN_ON_A_FULL_DISK = """
import runpy
import sqlalchemy, sqlalchemy.event

def no_growth(connection, record):
    cursor = connection.cursor()
    cursor.execute("PRAGMA max_page_count = 1")
    cursor.close()

sqlalchemy.event.listen(sqlalchemy.Engine, "connect", no_growth)
runpy.run_module("campaign", run_name="__main__")
"""


def _no_growth(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA max_page_count = 1")  # SQLite raises it to the current size
    cursor.close()


def no_growth(engine: Engine) -> None:
    """From now on, no connection of ``engine`` can make its database file any bigger."""
    assert engine.dialect.name == "sqlite"
    event.listen(engine, "connect", _no_growth)
    engine.dispose()  # connections opened before would not be held


def fill(engine: Engine, row: Callable[[str], Any]) -> None:
    """Add rows made by ``row(padding)`` until not even one with no padding fits any more."""
    for padding in (2000, 400, 80, 16, 0):
        for _ in range(10_000):
            try:
                with Session(engine) as session:
                    session.add(row("x" * padding))
                    session.commit()
            except OperationalError as exc:
                assert DISK_FULL in str(exc.orig), exc
                break
        else:
            raise AssertionError("the database never filled up: is no_growth() in force?")


def room_again(engine: Engine) -> None:
    """The disk has room again: new connections of ``engine`` may grow the file."""
    event.remove(engine, "connect", _no_growth)
    engine.dispose()
