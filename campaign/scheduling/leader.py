"""Which process runs the scheduler: exactly one, and another within seconds if it dies.

On PostgreSQL every ``campaign serve`` tries to take a session advisory lock on a connection of
its own; the one that gets it leads, the others try again every ``[scheduler] leader_retry``
seconds. The lock lives as long as the connection: when the leader dies, even killed outright,
the server closes its session, frees the lock, and a standby takes it at its next try. A leader
that loses its connection stops leading at once (it checks the connection at every poll).

On SQLite (one machine) an exclusive lock on a file next to the database plays the same part for
the processes of that machine; an in-memory database needs none.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from campaign.db import normalise_url

LOCK_NAME = "campaign:scheduler"


def _lock_key(name: str = LOCK_NAME) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (per database)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership(Protocol):
    description: str

    def try_acquire(self) -> bool:
        """Take the lead if nobody has it; True when this process leads."""
        ...

    def still_held(self) -> bool:
        """Whether this process still leads (its lock survived)."""
        ...

    def release(self) -> None: ...


class PostgresLeadership:
    """A session advisory lock held on a dedicated connection (not from the pool)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(
            normalise_url(url),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            hide_parameters=True,
        )
        self.key = _lock_key()
        self.connection: Connection | None = None
        self.held = False
        self.description = "PostgreSQL advisory lock"

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DBAPIError):
                self.connection.close()
        self.connection = None
        self.held = False

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            self.held = bool(
                self.connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
            )
        except DBAPIError:
            self._drop()
        return self.held

    def still_held(self) -> bool:
        if not self.held or self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
        except DBAPIError:
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self.connection is not None and self.held:
            with contextlib.suppress(DBAPIError):
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._drop()
        self.engine.dispose()


class FileLeadership:
    """An exclusive ``flock`` on ``<database>.scheduler.lock``, freed when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None
        self.description = f"lock file {path}"

    def try_acquire(self) -> bool:
        import fcntl

        if self.handle is not None:
            return True
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held while leading)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        import fcntl

        if self.handle is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


class SoleLeadership:
    """An in-memory database is private to its process: it always leads."""

    description = "in-memory database"

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def leadership_for(url: str) -> Leadership:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeadership(url)
    database = parsed.database
    if not database or database == ":memory:":
        return SoleLeadership()
    return FileLeadership(Path(f"{database}.scheduler.lock"))


def leader_present(engine: Engine) -> bool | None:
    """Whether some process (this one or another) leads the scheduler of ``engine``'s database.

    Read without taking the lead: on PostgreSQL from ``pg_locks`` (a granted advisory lock on
    the key, in this database); on SQLite by asking for a shared lock on the lock file, which
    fails while a leader holds it exclusively. None when it cannot be told.
    """
    url = engine.url
    if url.get_backend_name() == "postgresql":
        key = _lock_key() & 0xFFFFFFFFFFFFFFFF
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = :high AND objid = :low AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with engine.connect() as connection:
            held = connection.execute(query, {"high": key >> 32, "low": key & 0xFFFFFFFF})
            return bool(held.scalar())
    database = url.database
    if not database or database == ":memory:":
        return True  # private to this process, which always leads
    import fcntl

    path = Path(f"{database}.scheduler.lock")
    if not path.exists():
        return False
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True  # held exclusively: a leader
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False
