"""Backups of the whole database, taken and restored while the service runs.

SQLite: SQLite's online backup API copies the database page by page into a new file, a
consistent snapshot even while the service writes (it starts again when a write lands in the
middle); restoring copies the file back the same way, under SQLite's own write lock, so the
running service's connections see the restored data at their next read. PostgreSQL:
``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``, both run with the
password in ``PGPASSWORD``, never on their command line.

A backup names its schema revision; a restore refuses a backup made by a newer version of
campaign and brings an older one up to date after restoring it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url

from campaign.db import current_revisions, known_revisions, normalise_url, open_database
from campaign.errors import CampaignError
from campaign.files import create_private

PAGES_PER_STEP = 1024  # copied per step, so writers are never held up for long


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    revisions: frozenset[str]


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise CampaignError("An in-memory database cannot be backed up or restored.")
    return Path(parsed.database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without its password, and the environment carrying it."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CampaignError(
            f"{name} is not installed: install PostgreSQL's client tools (the version of the "
            "server or newer) to back up or restore a PostgreSQL database."
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise CampaignError(f"{what} failed: {detail[-1] if detail else 'no message'}.")


def _sqlite_revisions(path: Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        try:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError:
            return set()
    return {row[0] for row in rows}


def backup(url: str, engine: Engine, target: Path) -> BackupResult:
    """Write a backup of the database at ``url`` to ``target`` (a new, owner-only file)."""
    if target.exists():
        raise CampaignError(f"{target} already exists: choose a new file name for the backup.")
    revisions = frozenset(current_revisions(engine))
    source = _sqlite_path(url)
    if not create_private(target):
        raise CampaignError(f"{target} already exists: choose a new file name for the backup.")
    try:
        if source is not None:
            with (
                closing(sqlite3.connect(source)) as origin,
                closing(sqlite3.connect(target)) as copy,
            ):
                origin.backup(copy, pages=PAGES_PER_STEP)
            revisions = frozenset(_sqlite_revisions(target))
        else:
            address, env = _libpq(url)
            command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
            _run([*command, address], env, "pg_dump")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, revisions)


def restore(url: str, source: Path) -> frozenset[str]:
    """Replace the database at ``url`` with the backup ``source``; the schema after it."""
    if not source.is_file():
        raise CampaignError(f"No backup at {source}.")
    database = _sqlite_path(url)
    if database is not None:
        _restore_sqlite(database, source)
    else:
        _restore_postgres(url, source)
    engine = open_database(url)  # an older backup is brought up to date here
    try:
        return frozenset(current_revisions(engine))
    finally:
        engine.dispose()


def _check_revisions(revisions: set[str], source: Path) -> None:
    if not revisions:
        raise CampaignError(f"{source} is not a backup of a campaign database.")
    unknown = revisions - known_revisions()
    if unknown:
        raise CampaignError(
            f"{source} was made by a newer version of campaign (schema "
            f"{', '.join(sorted(unknown))}): upgrade campaign to restore it."
        )


def _restore_sqlite(database: Path, source: Path) -> None:
    try:
        revisions = _sqlite_revisions(source)
    except sqlite3.DatabaseError:
        revisions = set()
    _check_revisions(revisions, source)
    with (
        closing(sqlite3.connect(source)) as backup_file,
        closing(sqlite3.connect(database, timeout=60)) as live,
    ):
        backup_file.backup(live, pages=PAGES_PER_STEP)


def _dumped_revisions(source: Path, env: dict[str, str]) -> set[str]:
    """The schema revision in a pg_dump backup (its alembic_version rows), read without a server."""
    command = [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-"]
    done = subprocess.run(
        [*command, str(source)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return set()
    rows, inside = set(), False
    for line in done.stdout.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            inside = True
        elif inside and line == "\\.":
            break
        elif inside and line:
            rows.add(line.strip())
    return rows


def _restore_postgres(url: str, source: Path) -> None:
    address, env = _libpq(url)
    _check_revisions(_dumped_revisions(source, env), source)
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*command, "--dbname", address, str(source)], env, "pg_restore")
