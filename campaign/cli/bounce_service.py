"""The service's end of the bounce pipe's hand-off (:mod:`campaign.cli.handoff`): ``campaign
serve`` listens on ``[bounces] socket`` and ingests each message it receives with the code of
``campaign bounces ingest`` (:func:`campaign.cli.bounces.ingest_handed_over`).

The socket is owner-only (mode 0600) and a connection from another user is refused (peer
credentials), so only the service's own user, the one the mail server's pipe runs as, can
hand bounces over. A request that is not the protocol, too big or cut short is answered with
an error the command prints, and the command then ingests the message itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import struct
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from campaign.cli.handoff import MAX_HEADER_BYTES, MAX_MESSAGE_BYTES, PROTOCOL
from campaign.config import Settings, mask_url

log = logging.getLogger("campaign.bounces")

READ_SECONDS = 30.0  # a peer that stops sending mid-way is dropped after this
ACCEPT_SECONDS = 0.5  # how soon a stop is noticed
MAX_AT_ONCE = 4  # messages ingested together; more wait for a free place


class Refused(Exception):
    """A request the service does not take; the message says why, to the command."""


class BounceListener:
    """Listens on the socket in a thread; :meth:`stop` closes it and waits for the messages
    being ingested."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.path = settings.bounces.socket
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._places = threading.BoundedSemaphore(MAX_AT_ONCE)
        self._handlers: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> bool:
        """Listen, unless the socket is off or taken; True when listening."""
        if not self.path:
            return False
        try:
            self._server = _bind(self.path)
        except OSError as exc:
            log.warning("bounces: not listening on %s (%s)", self.path, exc.strerror or exc)
            return False
        self._thread = threading.Thread(target=self._accept, name="bounce-socket", daemon=True)
        self._thread.start()
        log.info("bounces: taking the mail server's bounces on %s", self.path)
        return True

    def _accept(self) -> None:
        server = self._server
        assert server is not None
        server.settimeout(ACCEPT_SECONDS)  # closing a socket does not wake accept(): poll
        while not self._stopping.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by stop()
                return
            self._places.acquire()
            handler = threading.Thread(
                target=self._serve, args=(connection,), name="bounce-ingest", daemon=True
            )
            with self._lock:
                self._handlers.add(handler)
            handler.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            with connection:
                connection.settimeout(READ_SECONDS)
                answer = self._answer(connection)
                try:
                    connection.sendall(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
                    connection.shutdown(socket.SHUT_WR)
                except OSError:
                    log.warning("bounces: the pipe went away before the answer")
                else:
                    _drain(connection)
        finally:
            with self._lock:
                self._handlers.discard(threading.current_thread())
            self._places.release()

    def _answer(self, connection: socket.socket) -> dict[str, Any]:
        from campaign.cli.bounces import ingest_handed_over

        try:
            _check_peer(connection)
            header, data = _read_request(connection)
            if header["database"] != self.settings.database.url:
                raise Refused(
                    f"it is meant for the database {mask_url(header['database'])}, and this "
                    f"service uses {mask_url(self.settings.database.url)}"
                )
        except Refused as exc:
            log.warning("bounces: refused a message on %s: %s", self.path, exc)
            return {"error": str(exc)}
        try:
            printed = ingest_handed_over(
                data,
                header["source"],
                header["envelope"],
                header["json"],
                self.settings,
                self.engine,
            )
        except Exception as exc:  # a bug: the command ingests it itself and reports it
            log.exception("bounces: unexpected error ingesting %s", header["source"])
            return {"error": f"unexpected error in the service ({type(exc).__name__})"}
        return printed.as_json()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop listening, remove the socket, let the messages being ingested finish."""
        server = self._server
        if server is None or self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(OSError):  # gone already: nothing to clean
            os.unlink(self.path)
        server.close()
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            handler.join(timeout)


def _bind(path: str) -> socket.socket:
    """A listening socket at ``path``, owner-only; a socket file a stopped service left is
    replaced, a live one or any other file is not touched (OSError)."""
    target = Path(path)
    if target.exists() or target.is_symlink():
        if not stat.S_ISSOCK(target.lstat().st_mode):
            raise OSError(
                f"{path} exists and is not a socket; remove it or change [bounces] socket"
            )
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            target.unlink()  # nobody listens there any more
        else:
            raise OSError(f"another service listens on {path}")
        finally:
            probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # created 0600: no moment where another user could connect
    try:
        server.bind(path)
    except OSError:
        server.close()
        raise
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    server.listen(16)
    return server


def _check_peer(connection: socket.socket) -> None:
    """Refuse another user (the mode already does; this holds if someone loosens it)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    _pid, uid, _gid = struct.unpack("3i", credentials)
    if uid not in (os.getuid(), 0):
        raise Refused(f"user {uid} may not hand bounces to this service")


def _drain(connection: socket.socket, limit: int = 1 << 20) -> None:
    """Read what a refused request still sends (a little): closing a Unix socket with unread
    bytes resets the connection, and the peer would lose the answer saying why."""
    connection.settimeout(1.0)
    with contextlib.suppress(OSError):
        while limit > 0 and (chunk := connection.recv(65536)):
            limit -= len(chunk)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = connection.recv(min(left, 1 << 20))
        if not chunk:
            raise Refused(f"the message was cut short ({size - left} of {size} bytes)")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_header(connection: socket.socket) -> bytes:
    buffer = b""
    while b"\n" not in buffer:
        if len(buffer) > MAX_HEADER_BYTES:
            raise Refused("the request has no header line (not the bounce pipe's protocol)")
        chunk = connection.recv(4096)
        if not chunk:
            raise Refused("the request ended before its header line")
        buffer += chunk
    return buffer


def _read_request(connection: socket.socket) -> tuple[dict[str, Any], bytes]:
    """The request's header (checked) and message; Refused says what is wrong with it."""
    try:
        buffer = _read_header(connection)
    except TimeoutError:
        raise Refused("the request did not arrive in time") from None
    line, _, data = buffer.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        raise Refused("the header line is not JSON (not the bounce pipe's protocol)") from None
    if not isinstance(header, dict) or header.get("protocol") != PROTOCOL:
        raise Refused(f"not the bounce pipe's protocol (expected {PROTOCOL})")
    _check_header(header)
    if len(data) > header["size"]:
        raise Refused("more bytes than the header announced")
    try:
        data += _read_exactly(connection, header["size"] - len(data))
    except TimeoutError:
        raise Refused("the message did not arrive in time") from None
    return header, data


def _check_header(header: dict[str, Any]) -> None:
    size = header.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_MESSAGE_BYTES:
        raise Refused(f"the size must be a number of bytes up to {MAX_MESSAGE_BYTES}")
    source = header.get("source")
    if not isinstance(source, str) or not source or len(source) > 4096:
        raise Refused("the source must name the message")
    envelope = header.get("envelope")
    if not isinstance(envelope, list) or len(envelope) > 8:
        raise Refused("the envelope must be a list of up to 8 addresses")
    if not all(isinstance(item, str) and len(item) <= 1000 for item in envelope):
        raise Refused("the envelope must be a list of addresses")
    if not isinstance(header.get("json"), bool) or not isinstance(header.get("database"), str):
        raise Refused("json must be true or false and database a URL")
