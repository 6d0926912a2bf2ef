"""The bounce pipe's hand-off: a real ``campaign serve`` takes the message on its socket and the
command starts without the database libraries; without the service (stopped, a socket file
left behind, a refusal) the command ingests the message itself, with the same output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.cli.handoff import PROTOCOL, Request, parse
from campaign.models import Bounce
from tests.bounces.conftest import SAMPLES, _state
from tests.conftest import TEST_SECRET_KEY

pytestmark = pytest.mark.one_database(
    "the hand-off over the socket, a door: ingesting is the bounces stage's, tested on both "
    "engines (concurrent hand-offs below run on both)"
)

HANDED = "handled by the running service"
# Run as the mail server runs it; on exit, says which heavy libraries the run imported.
PIPE = """
import atexit, sys
heavy = ("sqlalchemy", "sqlmodel", "typer", "rich", "pydantic", "campaign.models")
atexit.register(lambda: print("IMPORTED", sorted(
    {name for name in sys.modules for h in heavy if name == h or name.startswith(h + ".")}
    & set(heavy)), file=sys.stderr))
sys.argv = ["campaign", *sys.argv[1:]]
from campaign.cli import main
main()
"""


def _environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(CAMPAIGN_DATABASE_URL=database_url, CAMPAIGN_SECRET_KEY=TEST_SECRET_KEY)
    return env


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


class Service:
    """``campaign serve --no-web`` in ``folder``: its socket is ``folder/bounces.sock``."""

    def __init__(self, folder: Path, database_url: str, socket_path: Path | None = None) -> None:
        self.folder = folder
        self.socket = socket_path or folder / "bounces.sock"
        env = _environment(database_url)
        if socket_path is not None:
            env["CAMPAIGN_BOUNCES_SOCKET"] = str(socket_path)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "campaign", "serve", "--no-web"],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not _answers(self.socket):
            if self.process.poll() is not None:
                raise AssertionError(f"campaign serve exited: {self.process.communicate()}")
            if time.monotonic() > deadline:
                raise AssertionError("campaign serve never listened on its socket")
            time.sleep(0.1)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return err


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def service(folder: Path, database_url: str, sent) -> Iterator[Service]:
    running = Service(folder, database_url)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def _pipe(
    folder: Path, database_url: str, sample: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``campaign bounces ingest - ARGS`` fed one sample, as a mail server's pipe runs it."""
    return subprocess.run(
        [sys.executable, "-c", PIPE, "bounces", "ingest", "-", *args],
        cwd=folder,
        env=_environment(database_url),
        input=(SAMPLES / sample).read_text(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bounce_is_handed_to_the_running_service(
    service: Service, folder: Path, database_url: str, engine
) -> None:
    assert stat.S_IMODE(service.socket.stat().st_mode) == 0o600
    result = _pipe(folder, database_url, "postfix-user-unknown.eml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "<stdin>: hard bounce of nobody@example.com (5.1.1); delivery 1 by verp: "
        "delivery 1 bounced, subscriber 1 bounced\n"
    )
    assert f"<stdin>: {HANDED} (bounces.sock)." in result.stderr
    assert "IMPORTED []" in result.stderr  # neither the database libraries nor Typer
    assert _state(engine)["nobody@example.com"] == ("bounced", "bounced")
    as_json = _pipe(folder, database_url, "postfix-user-unknown.eml", "--json")
    assert as_json.returncode == 0 and HANDED in as_json.stderr
    (outcome,) = json.loads(as_json.stdout)
    assert outcome["failures"][0]["duplicate"] is True
    # Stopped, the service removes its socket; the pipe then ingests alone, saying the same.
    assert "bounces: taking the mail server's bounces on bounces.sock" in service.stop()
    assert not service.socket.exists()
    alone = _pipe(folder, database_url, "postfix-user-unknown.eml")
    assert alone.returncode == 0 and HANDED not in alone.stderr
    assert alone.stdout == (
        "<stdin>: hard bounce of nobody@example.com (5.1.1); already recorded, nothing changed\n"
    )
    assert "IMPORTED []" not in alone.stderr


def test_without_the_service_the_pipe_ingests_alone(
    folder: Path, database_url: str, engine, sent
) -> None:
    result = _pipe(folder, database_url, "qmail-nonstandard.eml")
    assert result.returncode == 0, result.stderr
    assert HANDED not in result.stderr
    assert "delivery 5 by verp" in result.stdout
    assert _state(engine)["marc@old-domain.fr"] == ("bounced", "bounced")


def test_a_socket_file_left_by_a_stopped_service_is_passed_over_then_replaced(
    folder: Path, database_url: str, engine, sent
) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(folder / "bounces.sock"))  # as a killed service leaves it: nobody listens
    stale.close()
    result = _pipe(folder, database_url, "postfix-user-unknown.eml")
    assert result.returncode == 0, result.stderr
    assert HANDED not in result.stderr and "did not" not in result.stderr
    assert _state(engine)["nobody@example.com"] == ("bounced", "bounced")
    started = Service(folder, database_url)  # the next start takes the path over
    try:
        again = _pipe(folder, database_url, "qmail-nonstandard.eml")
        assert again.returncode == 0 and HANDED in again.stderr, again.stderr
    finally:
        started.stop()
    assert _state(engine)["marc@old-domain.fr"] == ("bounced", "bounced")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_bounces_are_all_applied_once(
    service: Service, folder: Path, database_url: str, engine
) -> None:
    before = _state(engine)
    samples = sorted(path.name for path in SAMPLES.glob("*.eml")) * 2  # each one twice
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda name: _pipe(folder, database_url, name), samples))
    for name, result in zip(samples, results, strict=True):
        assert result.returncode == 0, (name, result.stderr)
        assert HANDED in result.stderr, (name, result.stderr)
    assert _state(engine) == {
        **before,
        "nobody@example.com": ("bounced", "bounced"),
        "lea.martin@gmail.com": ("bounced", "bounced"),
        "paul@example.net": ("sent", "active"),
        "camille@example-isp.fr": ("sent", "complained"),
        "marc@old-domain.fr": ("bounced", "bounced"),
        "anne@example.org": ("sent", "active"),
    }
    with Session(engine) as session:
        assert len(session.exec(select(Bounce)).all()) == 5  # each report once


def test_a_garbled_request_gets_a_clear_error_and_the_service_goes_on(
    service: Service, folder: Path, database_url: str, engine
) -> None:
    def ask(payload: bytes) -> dict[str, object]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(service.socket))
            client.sendall(payload)
            client.shutdown(socket.SHUT_WR)
            return json.loads(client.makefile("rb").read())

    assert "not JSON" in str(ask(b"GET / HTTP/1.0\r\n\r\n")["error"])
    assert "protocol" in str(ask(b'{"protocol": "other/9"}\n')["error"])
    header = {
        "protocol": PROTOCOL,
        "source": "<stdin>",
        "envelope": [],
        "json": False,
        "database": database_url,
    }
    too_big = json.dumps({**header, "size": 10**9}).encode() + b"\n"
    assert "size" in str(ask(too_big)["error"])
    cut = json.dumps({**header, "size": 1000}).encode() + b"\nFrom: x\n"
    assert "cut short" in str(ask(cut)["error"])
    elsewhere = json.dumps({**header, "database": "sqlite:///other.db", "size": 0}).encode()
    assert "meant for the database sqlite:///other.db" in str(ask(elsewhere + b"\n")["error"])
    result = _pipe(folder, database_url, "postfix-user-unknown.eml")
    assert result.returncode == 0 and HANDED in result.stderr, result.stderr
    assert _state(engine)["nobody@example.com"] == ("bounced", "bounced")


def test_a_pipe_with_other_settings_is_refused_and_ingests_alone(
    service: Service, folder: Path
) -> None:
    """Meant for another database: the service says no, the pipe tries itself and, that
    database being down, asks the mail server to retry (75)."""
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = _pipe(folder, unreachable, "postfix-user-unknown.eml")
    assert result.returncode == 75, result.stderr
    assert "did not take the message: it is meant for the database" in result.stderr
    assert "Cannot open the database" in result.stderr and HANDED not in result.stderr


def test_only_what_the_service_can_take_is_handed_over() -> None:
    assert parse(["bounces", "ingest", "-"]) == Request(None, "-", False)
    assert parse(["-c", "c.toml", "bounces", "ingest", "a.eml", "--json"]) == Request(
        "c.toml", "a.eml", True
    )
    assert parse(["--config=c.toml", "bounces", "ingest", "-"]) == Request("c.toml", "-", False)
    for argv in (
        ["bounces", "ingest"],  # nothing named: the command says what to give
        ["bounces", "ingest", "--maildir", "box"],  # moves files: always in-process
        ["bounces", "ingest", "-", "--help"],
        ["bounces", "ingest", "a.eml", "b.eml"],
        ["--version"],
        ["subscribers", "list"],
    ):
        assert parse(argv) is None, argv


def test_a_refused_message_is_ingested_by_the_pipe_from_what_it_read(
    service: Service, folder: Path, database_url: str, engine
) -> None:
    """The same database under another URL: refused, and standard input, already read for
    the service, is still the pipe's to ingest."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("a second spelling of the URL is SQLite's relative path")
    relative = "sqlite:///" + os.path.relpath(database_url.removeprefix("sqlite:///"), folder)
    assert relative != database_url
    result = _pipe(folder, relative, "qmail-nonstandard.eml")
    assert result.returncode == 0, result.stderr
    assert "did not take the message: it is meant for the database" in result.stderr
    assert "delivery 5 by verp" in result.stdout and HANDED not in result.stderr
    assert _state(engine)["marc@old-domain.fr"] == ("bounced", "bounced")


ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
# Another user cannot always run this test's interpreter (a virtualenv under /root).
OTHERS_PYTHON = "/usr/bin/python3"
NOBODY = 65534


@ROOT_ONLY
@pytest.mark.skipif(not os.path.exists(OTHERS_PYTHON), reason=f"no {OTHERS_PYTHON}")
def test_another_user_is_refused_even_when_the_socket_is_opened_to_all(
    folder: Path, database_url: str, sent
) -> None:
    shared = Path(tempfile.mkdtemp(prefix="bounces-", dir="/tmp"))
    try:
        shared.chmod(0o711)
        service = Service(folder, database_url, shared / "b.sock")
        try:
            (shared / "b.sock").chmod(0o666)  # a careless admin: the service still checks
            asked = subprocess.run(
                [OTHERS_PYTHON, "-c", ASK_AS_ANOTHER, str(shared / "b.sock")],
                user=NOBODY,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            service.stop()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert asked.returncode == 0, asked.stderr
    assert f"user {NOBODY} may not hand bounces to this service" in asked.stdout


ASK_AS_ANOTHER = """
import socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
    client.connect(sys.argv[1])
    client.sendall(b'{"protocol": "campaign-bounces/1"}\\n')
    client.shutdown(socket.SHUT_WR)
    print(client.makefile("rb").read().decode())
"""


@ROOT_ONLY
def test_a_socket_of_another_user_is_never_used(
    folder: Path, database_url: str, engine, sent
) -> None:
    """Whoever listens on a socket they own could drop bounces: the pipe ingests alone."""
    impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    impostor.bind(str(folder / "bounces.sock"))
    impostor.listen(1)
    impostor.settimeout(0.5)
    try:
        os.chown(folder / "bounces.sock", NOBODY, NOBODY)
        result = _pipe(folder, database_url, "postfix-user-unknown.eml")
        with pytest.raises(TimeoutError):
            impostor.accept()  # never even connected to
    finally:
        impostor.close()
    assert result.returncode == 0 and HANDED not in result.stderr, result.stderr
    assert _state(engine)["nobody@example.com"] == ("bounced", "bounced")
