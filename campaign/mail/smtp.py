"""The SMTP transport: N reused connections, a shared rate limit, one result per recipient.

Each message is its own SMTP transaction (MAIL, RCPT, DATA) so that the server's reply can be
kept per recipient: 2xx is ``sent``, 4xx ``deferred`` (tried again later), 5xx ``bounced`` with
the reply text kept for the delivery row. The envelope sender (MAIL FROM) is the message's
``envelope_from``, the VERP bounce address the queue gives each delivery.

``[mail.smtp] connections`` connections, each opened on first use and renewed after
``messages_per_connection`` messages, are driven together from one thread: each takes the next
message of the batch (so no message is given to two of them), waits for a slot of the
:class:`~campaign.mail.ratelimit.RateLimiter`, and writes each step of the transaction as the
reply to the previous one arrives.

Faults end in a known state. A connection that breaks (closed, reset, or silent for
``timeout`` seconds before the message was written) is opened again and that message alone is
sent again, once; a second break defers it with the reason, so a message that always breaks its
connection ends failed after ``[mail] max_attempts`` without holding up the others. A message
written whose reply never comes is deferred with a reason saying it may have been delivered,
not sent again at once. A login the server refuses, a sender it refuses for good (5xx to MAIL
FROM) or that no message can carry, a server that cannot be reached or breaks every
transaction, a stop signal, or a ``report`` that fails (the queue's database gone) stops the
send: no transaction starts, those not yet written are given up (left to send), and the replies
of the messages already written are read first, so nothing the server accepted is sent twice by
the next run. A :class:`TransportError` then carries the results so far.

The password is read from the environment variable named by ``[mail.smtp] password_env`` when
a connection opens; it is never stored in settings, messages or logs.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import smtplib
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from campaign.errors import CampaignError
from campaign.mail.mime import Composer, SenderError
from campaign.mail.ratelimit import RateLimiter
from campaign.mail.transport import OutgoingMessage, Report, ResultFeed, SendResult, TransportError
from campaign.messages import Message

log = logging.getLogger(__name__)

# Errors meaning "the connection is gone", after which the message may be sent again.
_DROPPED = (smtplib.SMTPServerDisconnected, OSError)  # resets, timeouts, TLS errors
_DROP = -1  # a flight's code when its connection went away mid-transaction


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


def _outcome(code: int) -> str:
    if 200 <= code < 300:
        return "sent"
    if 400 <= code < 500:
        return "deferred"
    return "bounced"


class _Connection:
    """One SMTP session of the transport."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.smtp: smtplib.SMTP | None = None
        self.sent = 0  # messages on the current session

    def _open(self) -> smtplib.SMTP:
        transport = self.transport
        where = transport.where
        context = transport.tls_context() if transport.security != "none" else None
        try:
            if transport.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    transport.host,
                    transport.port,
                    timeout=transport.timeout,
                    context=context,
                    local_hostname=transport.local_hostname,
                )
            else:
                connection = smtplib.SMTP(
                    transport.host,
                    transport.port,
                    timeout=transport.timeout,
                    local_hostname=transport.local_hostname,
                )
            connection.ehlo()
            if transport.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(
                _why("smtp.cannot_connect", where=where, security=transport.security, reason=exc)
            ) from None
        if transport.username:
            try:
                connection.login(transport.username, transport.secret())
            except smtplib.SMTPAuthenticationError as exc:
                connection.close()
                raise TransportError(
                    _why(
                        "smtp.login_refused",
                        where=where,
                        username=transport.username,
                        reply=f"{exc.smtp_code} {_text(exc.smtp_error)}",
                        password_env=transport.password_env,
                    )
                ) from None
            except smtplib.SMTPException as exc:
                connection.close()
                raise TransportError(_why("smtp.login_failed", where=where, reason=exc)) from None
        transport.opened()
        log.info("SMTP connection to %s opened", where)
        return connection

    def connected(self) -> smtplib.SMTP:
        if self.smtp is not None and self.sent >= self.transport.per_connection:
            self.quit()
        if self.smtp is None:
            self.smtp = self._open()
            self.sent = 0
        return self.smtp

    def quit(self) -> None:
        connection, self.smtp = self.smtp, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def drop(self) -> None:
        connection, self.smtp = self.smtp, None
        if connection is not None:
            connection.close()

    @property
    def socket(self) -> socket.socket:
        assert self.smtp is not None and self.smtp.sock is not None
        return self.smtp.sock

    def write(self, line: bytes) -> None:
        assert self.smtp is not None
        self.smtp.send(line)

    def reply(self) -> tuple[int, bytes]:
        assert self.smtp is not None
        return self.smtp.getreply()

    def reset(self) -> None:
        """RSET after a refusal, so the session is clean for the next transaction."""
        self.write(b"RSET\r\n")
        self.reply()


def _why(code: str, **values: object) -> Message:
    """What the transport has to say about the server (``mail.smtp``), each door wording it:
    the CLI naming the settings to check, the pages saying whom to ask."""
    return Message(
        code,
        "mail.smtp",
        {
            name: str(value) if isinstance(value, BaseException) else value
            for name, value in values.items()
        },
    )


def _command(line: str) -> bytes:
    """An SMTP command line. ``smtplib``'s ``mail``/``rcpt`` parse each address again with
    the ``email`` package; ours were checked when the message was composed (plain ASCII, no
    spaces or line ends), and this refuses anything else rather than write it."""
    if not line.isascii() or "\r" in line or "\n" in line:
        raise CampaignError(_why("smtp.not_plain_address", line=line))
    return line.encode("ascii") + b"\r\n"


class _Flight:
    """One message on one connection during a send (see :class:`_Send`)."""

    __slots__ = (
        "code", "connection", "data", "final", "index", "message", "reply", "since", "sock",
        "step",
    )  # fmt: skip

    def __init__(
        self, connection: _Connection, index: int, message: OutgoingMessage, data: bytes
    ) -> None:
        self.connection = connection
        self.index = index
        self.message = message
        self.data = data
        self.code = 0
        self.reply = b""
        self.step = "MAIL"  # the command whose reply is awaited; BODY: the message's own
        self.since = time.monotonic()  # when the last step was written
        self.final: SendResult | None = None  # the result, once the transaction is over
        self.sock: socket.socket | None = None  # as registered with the selector

    def result(self, status: str | None = None) -> SendResult:
        status = status or _outcome(self.code)
        return SendResult(
            self.message.to,
            status == "sent",
            message_id=self.message.message_id,
            error="" if status == "sent" else f"{self.code} {_text(self.reply)}",
            status=status,
            code=self.code,
        )

    def failure(self, reason: Message) -> SendResult:
        """Deferred for a fault of the connection, not a reply of the server (``error``: the
        reason as the CLI words it, which the delivery keeps)."""
        return SendResult(
            self.message.to,
            False,
            message_id=self.message.message_id,
            error=str(reason),
            status="deferred",
            reason=reason,
        )


class _StopSignals:
    """While a batch is sent from the main thread of a command (``active``), Ctrl-C or SIGTERM
    asks it to stop after the messages in flight (their replies are read and kept, so nobody is
    mailed twice by the next run); a second one interrupts at once. Otherwise it does nothing:
    a server's signals belong to the server."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _ask(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("Stopping after the messages in flight (again to stop at once)")

    def __enter__(self) -> _StopSignals:
        if self.active and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._ask)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            if previous is not None:  # None: not set from Python, nothing to put back
                signal.signal(signum, previous)


class SmtpTransport:
    """Sends through the relay of ``[mail.smtp]``; connections open lazily, closed by
    :meth:`close`."""

    def __init__(
        self,
        smtp: Any,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        composer: Composer | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.host: str = smtp.host
        self.port: int = smtp.port
        self.security: str = smtp.security
        self.username: str = smtp.username
        self.password_env: str = smtp.password_env
        self.timeout: float = smtp.timeout
        self.per_connection: int = smtp.messages_per_connection
        self.composer = composer or Composer()
        self.limiter = limiter or RateLimiter(smtp.rate_per_second, smtp.rate_per_hour)
        self.ssl_context = ssl_context
        # The EHLO/HELO name ([mail.smtp] helo_name): receivers check it against DNS. None lets
        # smtplib use the machine's fully qualified name.
        self.local_hostname = local_hostname or smtp.helo_name or None
        self._password = password
        self._connections = [_Connection(self) for _ in range(smtp.connections)]
        self._count_lock = threading.Lock()
        self.connections_opened = 0
        # A command sending a newsletter sets this: Ctrl-C or SIGTERM then stops after the
        # messages in flight (see _StopSignals).
        self.stop_on_signals = False

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        """The TLS settings, made once (loading the system's certificates takes ~30 ms)."""
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        return self.ssl_context

    def secret(self) -> str:
        password = self._password or os.environ.get(self.password_env) or ""
        if not password:
            raise TransportError(
                _why("smtp.no_password", username=self.username, password_env=self.password_env)
            )
        return password

    def opened(self) -> None:
        with self._count_lock:
            self.connections_opened += 1

    # --- sending ----------------------------------------------------------------------------

    def send(
        self, messages: Iterable[OutgoingMessage], report: Report | None = None
    ) -> list[SendResult]:
        """One result per message, in order; see the module docstring. With ``report``, each
        result is also reported within :data:`~campaign.mail.transport.REPORT_EVERY` seconds.

        All the connections are driven from this thread: a free connection takes the next
        message and writes MAIL FROM; whenever a connection's reply arrives, it writes its next
        step (RCPT, DATA, the message) or, the transaction over, takes another message. So the
        next message is built while the server reads the others, and no thread is woken for
        each reply (one thread per connection cost about a quarter of the CPU per message).
        """
        # A sequence is taken as it is: its items may be built on access (the queue builds
        # each message just before it is sent).
        batch = messages if isinstance(messages, Sequence) else list(messages)
        return _Send(self, batch, ResultFeed(report)).run()

    def _advance(self, flight: _Flight) -> bool:
        """Read the reply that arrived and write the next step; False once the flight is over
        (``final`` set, or ``code`` set to ``_DROP``)."""
        try:
            flight.code, flight.reply = flight.connection.reply()
        except _DROPPED:
            flight.code = _DROP
            return False
        code = flight.code
        if code == 421:  # the server is closing the session
            flight.code = _DROP
            return False
        step = flight.step
        if step == "MAIL" and code >= 500:
            raise TransportError(
                _why(
                    "smtp.sender_refused",
                    where=self.where,
                    sender=flight.message.sender,
                    reply=f"{code} {_text(flight.reply)}",
                )
            )
        if step == "MAIL" and code < 400:
            flight.step = "RCPT"
            return self._write(flight, _command(f"RCPT TO:<{flight.message.to.strip()}>"))
        if step == "RCPT" and code < 300:
            flight.step = "DATA"
            return self._write(flight, b"DATA\r\n")
        if step == "DATA" and code == 354:
            flight.step = "BODY"  # before the write: from now on the server may have it
            return self._write(flight, flight.data)
        # The transaction is over: refused at some step, or the message's own reply.
        if code >= 300:
            try:
                flight.connection.reset()
            except _DROPPED:
                flight.connection.drop()
        flight.connection.sent += 1
        flight.final = flight.result("deferred" if step == "MAIL" else None)
        return False

    @staticmethod
    def _write(flight: _Flight, line: bytes) -> bool:
        try:
            flight.connection.write(line)
        except _DROPPED:
            flight.code = _DROP
            return False
        flight.since = time.monotonic()
        return True

    def close(self) -> None:
        for connection in self._connections:
            connection.quit()


INTERRUPTED = (
    "Interrupted: the messages sent so far are recorded, the others left to send; run the "
    "send again to carry on."
)


class _Send:
    """One call of :meth:`SmtpTransport.send`: the batch, its results, the connections' flights.

    Every way it can stop leaves each message in a known state: a message whose body the
    server may have is waited for (its reply read) before stopping, or, when it cannot be,
    reported ``deferred`` with a reason saying it may have been delivered; the others are left
    unsent (``None``), never half-known.
    """

    def __init__(
        self, transport: SmtpTransport, batch: Sequence[OutgoingMessage], feed: ResultFeed
    ) -> None:
        self.transport = transport
        self.batch = batch
        self.feed = feed
        self.results: list[SendResult | None] = [None] * len(batch)
        self.waiting = deque(range(len(batch)))
        self.prepared: deque[tuple[int, OutgoingMessage, bytes]] = deque()
        self.idle = list(reversed(transport._connections))
        self.flights: dict[_Connection, _Flight] = {}
        self.dropped: set[int] = set()  # messages whose connection already broke once
        self.breaks_in_row = 0  # transactions ended by a broken connection, none between
        self.stopping: BaseException | None = None
        self.selector = selectors.DefaultSelector()

    # --- the loop ---

    def run(self) -> list[SendResult]:
        transport = self.transport
        with self.selector, _StopSignals(transport.stop_on_signals) as stop:
            try:
                while self.flights or (self.stopping is None and (self.waiting or self.prepared)):
                    if stop.requested:
                        self.stop(TransportError(INTERRUPTED))
                    self.start_flights(stop)
                    if self.flights:
                        self.read_replies()
                    self.report()
                if stop.requested:
                    self.stop(TransportError(INTERRUPTED))
            except KeyboardInterrupt:  # asked twice: stop at once, nothing more is read
                self.abandon()
                self.stop(TransportError(INTERRUPTED))
            self.report(force=True)
        if self.stopping is None:
            return [result for result in self.results if result is not None]
        for connection in transport._connections:  # sessions may be mid-transaction
            connection.drop()
        if isinstance(self.stopping, TransportError):
            raise TransportError(str(self.stopping), self.results) from None
        raise self.stopping

    def stop(self, reason: BaseException) -> None:
        """No new transaction starts; those whose message is not written yet are given up
        (left to send), those the server may have are still waited for."""
        if self.stopping is None:
            self.stopping = reason
        for flight in list(self.flights.values()):
            if flight.step != "BODY":
                self.land(flight)
                flight.connection.drop()

    def keep(self, index: int, result: SendResult) -> None:
        self.results[index] = result
        self.feed.add(index, result)

    def report(self, force: bool = False) -> None:
        if isinstance(self.stopping, Exception) and not isinstance(self.stopping, TransportError):
            return  # reporting already failed (the database went away): nothing more to say
        try:
            self.feed.flush(force)
        except Exception as exc:  # the caller could not record them: stop, raise it after
            self.stopping = None
            self.stop(exc)

    # --- starting transactions ---

    def start_flights(self, stop: _StopSignals) -> None:
        transport = self.transport
        while self.idle and (self.waiting or self.prepared) and self.stopping is None:
            if stop.requested:
                return
            if not self.prepared:
                self.prepare()
                continue
            connection = self.idle.pop()
            flight = _Flight(connection, *self.prepared.popleft())
            try:
                connection.connected()  # a refused login or an unreachable server stops here
            except TransportError as exc:
                self.idle.append(connection)
                self.prepared.appendleft((flight.index, flight.message, flight.data))
                self.stop(exc)
                return
            transport.limiter.wait()
            if transport._write(flight, _command(f"MAIL FROM:<{flight.message.sender}>")):
                flight.sock = connection.socket
                self.selector.register(flight.sock, selectors.EVENT_READ, flight)
                self.flights[connection] = flight
            else:
                self.idle.append(connection)
                self.broken(flight)

    def prepare(self) -> None:
        """Build and compose the next few messages in a row. Building one at a time between
        replies cost a third more CPU per message: each wake-up found the caches cold."""
        compose = self.transport.composer.compose_smtp
        for _ in range(min(len(self.waiting), 2 * len(self.transport._connections))):
            index = self.waiting.popleft()
            message = self.batch[index]
            try:
                self.prepared.append((index, message, compose(message)))
            except SenderError as exc:  # no message can be written: stop, the rest left to send
                self.waiting.appendleft(index)
                self.stop(TransportError(str(exc)))
                return
            except CampaignError as exc:  # this message cannot be written (its address)
                self.keep(index, SendResult(message.to, False, error=str(exc), status="failed"))

    # --- replies ---

    def read_replies(self) -> None:
        transport = self.transport
        now = time.monotonic()
        wait = min(flight.since for flight in self.flights.values()) + transport.timeout - now
        due = self.feed.due_in()
        if due is not None:
            wait = min(wait, due)
        for key, _ in self.selector.select(max(wait, 0.0)):
            flight: _Flight = key.data  # as registered in start_flights()
            if self.flights.get(flight.connection) is not flight:
                continue  # given up by a stop meanwhile
            try:
                going = transport._advance(flight)
            except TransportError as exc:  # the sender is refused: this message left to send
                self.land(flight)
                self.stop(exc)
                continue
            if going:
                continue
            self.land(flight)
            if flight.code == _DROP:
                self.broken(flight)
            else:
                assert flight.final is not None
                self.keep(flight.index, flight.final)
                self.dropped.discard(flight.index)
                self.breaks_in_row = 0
        now = time.monotonic()
        for flight in list(self.flights.values()):
            if now - flight.since >= transport.timeout:
                self.land(flight)
                self.hung(flight)

    def land(self, flight: _Flight) -> None:
        """The flight is over (or given up): its connection is free again."""
        assert flight.sock is not None  # a flight in self.flights is registered with its socket
        self.selector.unregister(flight.sock)
        del self.flights[flight.connection]
        self.idle.append(flight.connection)

    # --- faults ---

    def broken(self, flight: _Flight) -> None:
        """The connection broke mid-transaction. The message is sent again at once on a new
        connection; a second break defers it with the reason (an attempt counted, so a message
        that always breaks its connection ends ``failed`` after ``[mail] max_attempts`` and
        never holds up the others)."""
        transport = self.transport
        flight.connection.drop()
        self.breaks_in_row += 1
        if flight.index in self.dropped or self.stopping is not None:
            self.dropped.discard(flight.index)
            self.keep(
                flight.index,
                flight.failure(_why("smtp.broke_twice", where=transport.where, step=flight.step)),
            )
        else:
            self.dropped.add(flight.index)
            self.prepared.appendleft((flight.index, flight.message, flight.data))
            log.warning("SMTP connection to %s dropped; opening it again", transport.where)
        self.too_many_breaks()

    def hung(self, flight: _Flight) -> None:
        """No reply within ``[mail.smtp] timeout``. Before the message was written, that is a
        broken connection; after, the server may have it: it is deferred, not sent again at
        once (a slow server would deliver both)."""
        transport = self.transport
        flight.connection.drop()
        if flight.step != "BODY":
            self.broken(flight)
            return
        self.breaks_in_row += 1
        self.keep(
            flight.index,
            flight.failure(
                _why("smtp.no_reply", where=transport.where, seconds=f"{transport.timeout:g}")
            ),
        )
        self.too_many_breaks()

    def too_many_breaks(self) -> None:
        limit = 2 * len(self.transport._connections) + 2
        if self.breaks_in_row >= limit and self.stopping is None:
            self.stop(
                TransportError(
                    _why(
                        "smtp.too_many_breaks", where=self.transport.where, count=self.breaks_in_row
                    )
                )
            )

    def abandon(self) -> None:
        """Stopping at once: a message the server may have is recorded as such (deferred,
        with the reason), the others are left to send."""
        for flight in list(self.flights.values()):
            if flight.step == "BODY":
                self.keep(
                    flight.index,
                    flight.failure(_why("smtp.interrupted")),
                )
            self.land(flight)
            flight.connection.drop()


def try_relay(smtp: Any) -> None:
    """Open one session with the relay of ``smtp`` as a send opens it (EHLO, STARTTLS, login),
    then QUIT: no message is sent. Raises :class:`TransportError` saying what failed."""
    connection = _Connection(SmtpTransport(smtp))
    connection.connected()
    connection.quit()
