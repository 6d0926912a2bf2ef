"""Shared fixtures: a real database (SQLite always, PostgreSQL when CAMPAIGN_TEST_DATABASE_URL
is set), a session on it, and a ``cli`` runner that goes through the real entry point."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

# Rich fixes a console's width for good when COLUMNS is set as it is created, and the CLI's
# consoles are created when campaign.cli.root is imported, just below; a plugin sets COLUMNS=80 (and
# LINES) in pytest-xdist's workers. Without them here, the consoles read the width at each print,
# so the ``cli`` fixture's COLUMNS applies as it does in a run without xdist.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
# A machine may set PYTHONDONTWRITEBYTECODE (CI's does): then every `campaign` process the tests
# start compiles the package from source again (~0.25 s of CPU each, hundreds of times). The
# processes the tests start keep their bytecode in __pycache__ (and so do the test modules
# imported after this one, below).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import campaign.cli.root  # noqa: F401  (creates the consoles now, see above)
from campaign.cli import main
from campaign.db import normalise_url, open_database
from campaign.users import passwords
from tests.ports import free_port

sys.dont_write_bytecode = False  # see PYTHONDONTWRITEBYTECODE above

PG_URL = os.environ.get("CAMPAIGN_TEST_DATABASE_URL")
ENGINES = ["sqlite", "postgresql"]
# "gw0", "gw1"… under pytest-xdist; names this process's databases, so that a database left
# behind by an interrupted run says which worker made it.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


class ProcessDatabases:
    """The databases of one test process (one pytest-xdist worker, or the whole run without it).

    Every test gets a database of its own: a file in its ``tmp_path`` on SQLite, a database
    named after the worker and a random suffix on PostgreSQL (so workers never share one). A
    test whose fixtures migrate the database anyway (``engine``, ``session``) starts from a copy
    of a template migrated once per process, which gives the same schema without running every
    migration again; PostgreSQL databases are dropped in the background while the next tests
    run (the run waits for the last ones at its end).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite_template: Path | None = None
        self._pg_admin: Engine | None = None
        self._pg_template: str | None = None
        # Several at once: each DROP DATABASE waits for a checkpoint, and PostgreSQL makes one
        # checkpoint serve every drop waiting for it, so a backlog never builds up.
        self._dropping = ThreadPoolExecutor(4, thread_name_prefix="drop-test-databases")
        self._drops: list[Future[None]] = []

    def sqlite(self, path: Path, migrated: bool) -> str:
        if migrated:
            if self._sqlite_template is None:
                template = self.folder / "template.db"
                engine = open_database(f"sqlite:///{template}")
                with engine.connect() as connection:  # everything into the one file
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                engine.dispose()
                self._sqlite_template = template
            shutil.copyfile(self._sqlite_template, path)
            path.chmod(0o600)  # as campaign creates it
        return f"sqlite:///{path}"

    def _admin(self) -> Engine:
        if not PG_URL:
            pytest.skip(
                "PostgreSQL not configured: set CAMPAIGN_TEST_DATABASE_URL to run this test"
            )
        if self._pg_admin is None:
            self._pg_admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
        return self._pg_admin

    def pg_url(self, name: str) -> str:
        return f"{normalise_url(PG_URL or '').rsplit('/', 1)[0]}/{name}"

    def _create(self, template: str | None = None) -> str:
        name = f"campaign_test_{WORKER}_{uuid.uuid4().hex[:12]}"
        with self._admin().connect() as connection:
            if template is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def postgresql(self, migrated: bool) -> str:
        """The name of a new database (the test is skipped without PostgreSQL)."""
        if migrated and self._pg_template is None:
            template = self._create()
            engine = open_database(self.pg_url(template))
            engine.dispose()  # a template may have no one connected
            self._pg_template = template
        return self._create(self._pg_template if migrated else None)

    def drop_later(self, name: str) -> None:
        self._drops.append(self._dropping.submit(self._drop, name))

    def _drop(self, name: str) -> None:
        with self._admin().connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self._dropping.shutdown(wait=True)
        failed = [str(drop.exception()) for drop in self._drops if drop.exception()]
        if self._pg_template is not None:
            self._drop(self._pg_template)
        if self._pg_admin is not None:
            self._pg_admin.dispose()
        if failed:
            raise RuntimeError(f"test databases not dropped: {failed}")


@pytest.fixture(scope="session")
def process_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessDatabases]:
    databases = ProcessDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "one_database(reason): the module's tests run on SQLite only, not on both engines; "
        "for tests of a door (pages, routes, commands, a browser) whose database work is the "
        "stages', which are tested on both. A test that does exercise the database opts back "
        'in with @pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], '
        "indirect=True).",
    )
    config.addinivalue_line(
        "markers",
        "real_password_hashing: the test hashes passwords with the product's Argon2 parameters "
        "(the others use argon2's cheapest profile, see cheap_password_hashing).",
    )


# Argon2id at argon2's own profile for tests: the product's parameters cost 0.17 s of CPU per
# hash and per check, by design, and the dashboard's tests create and sign in users by the
# hundred (that alone was a quarter of the suite's CPU). The stored form is the same kind of
# hash; tests/users checks the product's parameters with the real hasher.
CHEAP_HASHER = PasswordHasher.from_parameters(CHEAPEST)
CHEAP_DUMMY_HASH = CHEAP_HASHER.hash("not a password of anyone")


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test hashes passwords cheaply, except those marked ``real_password_hashing``."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(passwords, "_hasher", CHEAP_HASHER)
        monkeypatch.setattr(passwords, "_dummy_hash", lambda: CHEAP_DUMMY_HASH)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The database matrix, only where a test exercises database behaviour (issue #20): every
    test using ``database_url`` runs on SQLite and PostgreSQL, except those marked
    ``one_database`` (SQLite only) and those that name their engines themselves."""
    if "database_url" not in metafunc.fixturenames:
        return
    if any(
        mark.args and mark.args[0] == "database_url"
        for mark in metafunc.definition.iter_markers("parametrize")
    ):
        return
    engines = ENGINES
    marker = metafunc.definition.get_closest_marker("one_database")
    if marker is not None:
        if not marker.args:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: one_database needs a reason")
        engines = ["sqlite"]
    metafunc.parametrize("database_url", engines, indirect=True)


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, process_databases: ProcessDatabases
) -> Iterator[str]:
    """The URL of an empty database on the engine the test is parametrized with (see
    ``pytest_generate_tests``), already migrated when the test uses ``engine``, which would
    migrate it first thing."""
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        yield process_databases.sqlite(tmp_path / "campaign.db", migrated)
        return
    name = process_databases.postgresql(migrated)
    try:
        yield process_databases.pg_url(name)
    finally:
        process_databases.drop_later(name)


@pytest.fixture
def engine(database_url: str):
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as db_session:
        yield db_session


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder with no CAMPAIGN_* variable leaking in from the machine."""
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_") and name != "CAMPAIGN_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most machines run with (022: new files 0644), so that owner-only modes are
    shown to come from the code and not from a strict umask of the test runner."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (0o600, 0o700, ...)."""
    return path.stat().st_mode & 0o777


TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The signing key of links, set in the environment as in production."""
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", TEST_SECRET_KEY)
    return TEST_SECRET_KEY


@pytest.fixture
def cli(workdir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run ``campaign ARGS…`` through the real entry point against the test database."""
    monkeypatch.setenv("CAMPAIGN_DATABASE_URL", database_url)
    monkeypatch.setenv("CAMPAIGN_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, input: str | None = None) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["campaign", *map(str, args)])
        if input is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# --- a real SMTP server (aiosmtpd) for the sending tests ---------------------------------------


class RecordingRelay:
    """aiosmtpd handler: records delivered messages; bounces, defers or hangs up on request."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, list[str], bytes]] = []
        self.rcpt_calls: dict[str, int] = {}
        self.bounce: set[str] = set()  # 550 5.1.1 every time
        self.defer_once: set[str] = set()  # 451 4.7.1 the first time only
        self.defer_always: set[str] = set()  # 451 4.2.2 every time
        self.hang_up_on_data: set[int] = set()  # DATA numbers (1-based) answered 421
        self.stall_on_data: set[int] = set()  # DATA numbers (1-based) answered after 30 s
        self.data_calls = 0
        self.credentials: tuple[str, str] | None = None  # (login, password) required when set
        self.refuse_senders = False  # 553 5.7.1 to every MAIL FROM
        self.refuse_senders_from = 0  # MAIL numbers (1-based) from this one on get 553 (0: none)
        self.mail_calls = 0
        self.cut_on_data: set[str] = set()  # recipients whose DATA always cuts the connection
        self.cut_after_accepting: set[int] = set()  # DATA numbers kept, then the connection cut
        self.data_delay = 0.0  # seconds before answering each DATA
        self.peers: set[tuple[str, int]] = set()  # client ends of the sessions that sent DATA
        self.host_names: set[str] = set()  # the EHLO/HELO names of those sessions

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        self.mail_calls += 1
        if self.refuse_senders or 0 < self.refuse_senders_from <= self.mail_calls:
            return f"553 5.7.1 <{address}>: Sender address rejected: not owned by user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.rcpt_calls[address] = self.rcpt_calls.get(address, 0) + 1
        if address in self.bounce:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address in self.defer_always:
            return "451 4.2.2 Mailbox full, try again later"
        if address in self.defer_once and self.rcpt_calls[address] == 1:
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_calls += 1
        if self.data_calls in self.hang_up_on_data:
            return "421 4.3.2 Service shutting down"
        if self.data_calls in self.stall_on_data:
            import asyncio

            await asyncio.sleep(30)
        if self.data_delay:
            import asyncio

            await asyncio.sleep(self.data_delay)
        if self.cut_on_data & set(envelope.rcpt_tos):  # the message is lost with the connection
            server.transport.close()
            return "421 4.3.0 cut"  # never reaches the client
        self.peers.add(tuple(session.peer[:2]))
        self.host_names.add(session.host_name)
        self.delivered.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.data_calls in self.cut_after_accepting:  # kept, but the client never hears it
            server.transport.close()
        return "250 2.0.0 Ok: queued"

    def copies(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for _sender, recipients, _content in self.delivered:
            for address in recipients:
                result[address] = result.get(address, 0) + 1
        return result


@pytest.fixture
def smtp_server():
    """A running aiosmtpd server on 127.0.0.1: ``(relay, port)``; ``relay.credentials`` set to
    ``(login, password)`` makes it require that login."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    relay = RecordingRelay()

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        expected = relay.credentials
        ok = expected is not None and (auth_data.login, auth_data.password) == (
            expected[0].encode(),
            expected[1].encode(),
        )
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        relay,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield relay, controller.port
    finally:
        controller.stop()


def subcommands(command: object) -> list[tuple[str, Any]]:
    """A click group's commands by name, the lazy ones loaded (the root loads groups on use)."""
    list_commands = getattr(command, "list_commands", None)
    if list_commands is None:
        return []
    ctx = typer.Context(command)  # type: ignore[arg-type]
    return sorted((name, command.get_command(ctx, name)) for name in list_commands(ctx))  # type: ignore[attr-defined]
