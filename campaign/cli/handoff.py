"""The bounce pipe's short way: hand the message to the running service instead of loading the
database libraries for every bounce.

A mail server runs ``campaign bounces ingest -`` once per bounce. Loading SQLAlchemy, the models
and the settings' validation costs about half a second of CPU per message; the service started
by ``campaign serve`` has them loaded already. So, before anything heavy is imported, the
command (:func:`campaign.cli.main`) asks :func:`hand_over` to pass the message over the Unix
socket ``[bounces] socket``: the service ingests it with the very code of the command
(:func:`campaign.cli.bounces.ingest_handed_over`) and answers with what the command would have
printed and its exit status (Sympa's bouncequeue and Mercurial's chg work the same way).

Whenever that fails (no service, a socket left by a stopped one, a refusal, an answer cut
short), the command ingests the message itself, exactly as without a service: a message is
never lost, and ingesting one twice changes nothing. This module imports only the standard
library and :mod:`campaign.config_file`, so that the hand-off costs a few hundredths of a
second.

Protocol (one request per connection): a JSON line ``{"protocol", "source", "envelope",
"json", "database", "size"}``, then ``size`` bytes of message; the answer is a JSON line
``{"status", "stdout", "stderr"}``, or ``{"error"}`` when the service did not take it.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from campaign.config_file import DEFAULT_BOUNCES_SOCKET, raw_setting

PROTOCOL = "campaign-bounces/1"
MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # bigger ones are ingested by the command itself
MAX_HEADER_BYTES = 64 * 1024
MAX_ANSWER_BYTES = 16 * 1024 * 1024
CONNECT_SECONDS = 5.0
ANSWER_SECONDS = 300.0  # a busy database; a mail server's pipe waits longer than that
DEFAULT_DATABASE_URL = "sqlite:///campaign.db"  # as [database] url's default
# Envelope recipients a delivering MTA's pipe sets (Postfix pipe(8), Exim pipe transport).
PIPE_RECIPIENT_ENV = ("ORIGINAL_RECIPIENT", "RECIPIENT", "LOCAL_PART_SUFFIX")


@dataclass
class Request:
    """``campaign [--config FILE] bounces ingest (-|FILE) [--json]``, as the hand-off reads it."""

    config: str | None
    source: str
    json_output: bool

    @property
    def name(self) -> str:
        """The message's name in what is printed, as the command names it."""
        return "<stdin>" if self.source == "-" else self.source


def parse(argv: list[str]) -> Request | None:
    """The request when ``argv`` is one the service can take, else None (the full command
    line parser then runs: --maildir, --help, mistakes)."""
    config: str | None = None
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-c", "--config") and rest:
            config = rest.pop(0)
        elif option.startswith("--config="):
            config = option.partition("=")[2]
        else:
            return None
    if rest[:2] != ["bounces", "ingest"]:
        return None
    source: str | None = None
    json_output = False
    for argument in rest[2:]:
        if argument == "--json":
            json_output = True
        elif source is None and (argument == "-" or not argument.startswith("-")):
            source = argument
        else:
            return None
    return Request(config, source, json_output) if source else None


def _connect(path: str) -> socket.socket | None:
    """A connection to the service's socket, when it is this user's and someone listens.

    A socket owned by another user is never used: whoever listens there could drop bounces.
    """
    try:
        if os.stat(path).st_uid != os.getuid() or not stat.S_ISSOCK(os.stat(path).st_mode):
            return None
    except OSError:
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(CONNECT_SECONDS)
    try:
        client.connect(path)
    except OSError:  # refused: a socket file left by a stopped service
        client.close()
        return None
    return client


def _read_message(source: str) -> bytes | None:
    if source != "-":
        try:
            return Path(source).read_bytes()
        except OSError:
            return None  # the command says why
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
    # The command may still need it: standard input is read once.
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    return data


def _receive(client: socket.socket) -> dict[str, object]:
    client.settimeout(ANSWER_SECONDS)
    chunks: list[bytes] = []
    size = 0
    while chunk := client.recv(65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ValueError("the answer is too long")
        chunks.append(chunk)
    answer = json.loads(b"".join(chunks))
    if not isinstance(answer, dict):
        raise ValueError("the answer is not a JSON object")
    return answer


def _exchange(
    client: socket.socket, request: Request, database: str, data: bytes
) -> dict[str, object]:
    envelope = [os.environ[name] for name in PIPE_RECIPIENT_ENV if os.environ.get(name)]
    header = {
        "protocol": PROTOCOL,
        "source": request.name,
        "envelope": envelope,
        "json": request.json_output,
        "database": database,  # the service refuses a message meant for another database
        "size": len(data),
    }
    client.settimeout(ANSWER_SECONDS)
    client.sendall(json.dumps(header).encode("utf-8") + b"\n" + data)
    client.shutdown(socket.SHUT_WR)
    return _receive(client)


def hand_over(argv: list[str]) -> int | None:
    """Have the running service ingest the message of ``argv``; its exit status once it
    printed what the service answered, or None when the command must ingest it itself."""
    request = parse(argv)
    if request is None:
        return None
    try:
        path = raw_setting("bounces.socket", DEFAULT_BOUNCES_SOCKET, request.config)
        database = raw_setting("database.url", DEFAULT_DATABASE_URL, request.config)
    except Exception:  # a settings file the full settings will explain
        return None
    client = _connect(path) if path else None
    if client is None:
        return None
    with client:
        data = _read_message(request.source)
        if data is None or len(data) > MAX_MESSAGE_BYTES:
            return None
        try:
            answer = _exchange(client, request, database, data)
        except (OSError, ValueError) as exc:  # stopped mid-way: ingesting again is harmless
            sys.stderr.write(f"The service at {path} did not answer ({exc}); ingesting here.\n")
            return None
    if "error" in answer or not isinstance(answer.get("status"), int):
        reason = answer.get("error") or "an answer without an exit status"
        sys.stderr.write(f"The service at {path} did not take the message: {reason}; ")
        sys.stderr.write("ingesting here.\n")
        return None
    sys.stdout.write(str(answer.get("stdout") or ""))
    sys.stdout.flush()
    sys.stderr.write(f"{request.name}: handled by the running service ({path}).\n")
    sys.stderr.write(str(answer.get("stderr") or ""))
    sys.stderr.flush()
    return int(answer["status"])  # type: ignore[call-overload]
