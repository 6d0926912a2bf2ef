"""Database engine, sessions and schema upgrades.

SQLite is the embedded default (one file, WAL so readers never wait for the writer, foreign keys
enforced); PostgreSQL is chosen by URL for several machines. Every command calls
:func:`open_database`, which brings the schema up to date with Alembic first, so upgrading the
package never needs a manual step and never loses data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, inspect, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlmodel import Session, create_engine

from campaign import __version__
from campaign.config import mask_url
from campaign.errors import CampaignError
from campaign.files import create_private, make_private_folder

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"

# Seconds SQLite waits for another process's write lock before giving up ("database is
# locked"); a URL may set its own (sqlite:///campaign.db?timeout=5).
SQLITE_BUSY_TIMEOUT = 30.0


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not a dependency)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _private_sqlite_file(path: Path) -> None:
    """Create a new SQLite database file (and its folder) owner-only, before SQLite does.

    SQLite would create it with the umask's mode (often 0644: every account of the machine
    could read the subscribers), and gives its -wal and -shm files the mode of the database
    file, so creating this one 0600 covers all three. An existing file keeps its mode.
    """
    try:
        make_private_folder(path.parent)
    except OSError as exc:
        raise CampaignError.of(
            "database.no_folder", "database", path=str(path), reason=_os_reason(exc)
        ) from None
    try:
        create_private(path)
    except OSError as exc:
        raise CampaignError.of(
            "database.cannot_create", "database", path=str(path), reason=_os_reason(exc)
        ) from None


def _sqlite_file(url: str) -> str | None:
    """The file of an SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def describe(url: str) -> str:
    """The database as a person names it: the SQLite file, else the URL without its password."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_file(url) or "in memory"
    return mask_url(url)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and their pragmas set.

    Parameters are never written into error messages or logs (``hide_parameters``): they are
    subscribers' addresses and names.
    """
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            path = _sqlite_file(url)
            if path and not path.startswith("file:"):
                _private_sqlite_file(Path(path))
            connect_args: dict[str, object] = {"check_same_thread": False}
            if "timeout" not in make_url(url).query:
                connect_args["timeout"] = SQLITE_BUSY_TIMEOUT
            engine = create_engine(url, connect_args=connect_args, hide_parameters=True)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    except ArgumentError as exc:
        raise CampaignError.of(
            "database.bad_url", "database", url=mask_url(url), reason=mask_url(str(exc))
        ) from None
    except ImportError as exc:
        raise CampaignError.of(
            "database.no_driver", "database", url=mask_url(url), reason=str(exc)
        ) from None
    except ValueError as exc:  # a query option of the wrong type: sqlite:///x.db?timeout=abc
        raise CampaignError.of(
            "database.bad_option", "database", url=mask_url(url), reason=str(exc)
        ) from None
    return engine


def _os_reason(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


def driver_message(exc: BaseException) -> str:
    """The first line of the database's own message, without the statement or its parameters.

    ``str()`` of a SQLAlchemy statement error embeds the SQL and its parameters (subscribers'
    personal data); PostgreSQL's DETAIL line quotes the row's values. Neither is ever shown.
    """
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    text = str(cause).strip()
    if isinstance(exc, StatementError) and cause is exc:
        text = text.split("[SQL:", 1)[0].strip()
    lines = text.splitlines()
    return mask_url(lines[0].strip()) if lines else type(cause).__name__


def database_error(exc: SQLAlchemyError, url: str) -> CampaignError | None:
    """One clear sentence for a database error a person can act on; None for anything else.

    Says what happened, to which database and what to do, never the statement or its values.
    """
    if not isinstance(exc, DBAPIError):
        return None
    where = describe(url)
    message = driver_message(exc)
    low = message.lower()
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    state = _database_state(low, sqlstate, where, message)
    if state is not None:
        return state
    if isinstance(exc, IntegrityError):
        return CampaignError.of("database.conflict", "database", where=where, reason=message)
    if isinstance(exc, OperationalError) and (exc.connection_invalidated or _unreachable(low)):
        code = (
            "database.file_unreachable"
            if _sqlite_file(normalise_url(url))
            else "database.server_unreachable"
        )
        return CampaignError.of(code, "database", where=where, reason=message.rstrip("."))
    return None


def _database_state(low: str, sqlstate: str, where: str, message: str) -> CampaignError | None:
    """The error for a database busy, damaged, read-only or full (``low``: the driver's message
    lower-cased); None when the message says none of these."""
    if "locked" in low or sqlstate in {"55P03", "40P01"} or "lock timeout" in low:
        return CampaignError.of("database.busy", "database", where=where)
    if "file is not a database" in low or "malformed" in low:
        return CampaignError.of("database.damaged", "database", where=where, reason=message)
    if "readonly database" in low or "read-only" in low:
        return CampaignError.of("database.read_only", "database", where=where, reason=message)
    if "database or disk is full" in low or sqlstate == "53100":
        return CampaignError.of("database.disk_full", "database", where=where)
    return None


def _unreachable(message: str) -> bool:
    return any(
        words in message
        for words in (
            "unable to open database file",
            "connection",
            "could not connect",
            "could not translate host",
            "failed to resolve host",
            "server closed",
            "timeout expired",
            "password authentication failed",
            "does not exist",
        )
    )


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration the database has not had yet (a no-op when up to date)."""
    from alembic import command  # Alembic loads only when there is something to migrate

    try:
        command.upgrade(_alembic_config(engine), "heads")
    except DBAPIError as exc:
        raise _opening_error(exc, engine) from None


def current_revisions(engine: Engine) -> set[str]:
    """The revisions recorded in the database (Alembic's table), empty for a new database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return {
            row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
        }


_REVISION = re.compile(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision[^=]*= (.+)$", re.M)


@cache
def _migration_graph() -> dict[str, set[str]]:
    """Each migration's revision and the revisions it follows, read from the files' headers.

    Reading two lines of each file is what lets every command check the schema without
    importing Alembic (a test compares this with Alembic's own reading); read once per process,
    which may open many databases (the web service's workers, the tests).
    """
    graph: dict[str, set[str]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision:
            parents = set(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1))) if down else set()
            graph[revision.group(1)] = parents
    return graph


def head_revisions() -> set[str]:
    graph = _migration_graph()
    followed = set().union(*graph.values()) if graph else set()
    return set(graph) - followed


def known_revisions() -> set[str]:
    """Every schema revision this version of campaign has a migration for."""
    return set(_migration_graph())


def open_database(url: str) -> Engine:
    """The engine for ``url`` with its schema brought up to date."""
    engine = make_engine(url)
    current = current_revisions_safe(engine)
    unknown = current - known_revisions()
    if unknown:
        engine.dispose()
        raise CampaignError.of(
            "database.too_new",
            "database",
            where=describe(url),
            revisions=sorted(unknown),
            version=__version__,
        )
    if current != head_revisions():
        with migration_lock(engine):
            # Another process may have upgraded while this one waited for the lock.
            if current_revisions(engine) != head_revisions():
                upgrade(engine)
    return engine


MIGRATION_LOCK = "campaign:migrations"


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while the schema is upgraded, so that processes starting together upgrade it once.

    PostgreSQL: a session advisory lock on a connection of its own (the server frees it if the
    process dies); the others wait for it, then find the schema current. SQLite: an exclusive
    ``flock`` on ``<database>.migrations.lock`` beside the database file, for the processes of
    its machine. An in-memory database is private to its process and needs none.
    """
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(MIGRATION_LOCK.encode()).digest()[:8], "big", signed=True
        )
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()  # nothing else to keep in this connection's transaction
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
        return
    database = _sqlite_file(engine.url.render_as_string(hide_password=False))
    if database is None:
        yield
        return
    import fcntl

    with open(f"{database}.migrations.lock", "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def current_revisions_safe(engine: Engine) -> set[str]:
    try:
        return current_revisions(engine)
    except DBAPIError as exc:
        raise _opening_error(exc, engine) from None


def _opening_error(exc: DBAPIError, engine: Engine) -> CampaignError:
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    return database_error(exc, url) or CampaignError.of(
        "database.cannot_open",
        "database",
        where=describe(url),
        reason=driver_message(exc).rstrip("."),
    )


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
