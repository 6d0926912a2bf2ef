"""Database engine, sessions and schema upgrades.

SQLite is the embedded default (one file, WAL so readers never wait for the writer, foreign keys
enforced); PostgreSQL is chosen by URL for several machines. Every command calls
:func:`open_database`, which brings the schema up to date with Alembic first, so upgrading the
package never needs a manual step and never loses data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from campaign.errors import CampaignError
from campaign.files import create_private, make_private_folder

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not a dependency)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _private_sqlite_file(url: str, path: Path) -> None:
    """Create a new SQLite database file (and its folder) owner-only, before SQLite does.

    SQLite would create it with the umask's mode (often 0644: every account of the machine
    could read the subscribers), and gives its -wal and -shm files the mode of the database
    file, so creating this one 0600 covers all three. An existing file keeps its mode.
    """
    try:
        make_private_folder(path.parent)
    except OSError as exc:
        raise CampaignError(
            f"Cannot open the database {url!r}: cannot create its folder ({exc})."
        ) from None
    try:
        create_private(path)
    except OSError as exc:
        raise CampaignError(
            f"Cannot open the database {url!r}: cannot create it ({exc})."
        ) from None


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and their pragmas set."""
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            path = make_url(url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                _private_sqlite_file(url, Path(path))
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except ArgumentError as exc:
        raise CampaignError(f"[database] url {url!r} is not a database URL ({exc}).") from None
    except ImportError as exc:
        raise CampaignError(
            f"[database] url {make_url(url)!r} needs a database driver that is not installed "
            f"({exc})."
        ) from None
    return engine


def _alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration the database has not had yet (a no-op when up to date)."""
    try:
        command.upgrade(_alembic_config(engine), "heads")
    except OperationalError as exc:
        raise CampaignError(f"Cannot open the database {engine.url!r}: {exc.orig}") from None


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def open_database(url: str) -> Engine:
    """The engine for ``url`` with its schema brought up to date."""
    engine = make_engine(url)
    if current_revisions_safe(engine) != head_revisions():
        upgrade(engine)
    return engine


def current_revisions_safe(engine: Engine) -> set[str]:
    try:
        return current_revisions(engine)
    except OperationalError as exc:
        raise CampaignError(f"Cannot open the database {engine.url!r}: {exc.orig}") from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
