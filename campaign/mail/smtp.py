"""The SMTP transport: N reused connections, a shared rate limit, one result per recipient.

Each message is its own SMTP transaction (MAIL, RCPT, DATA) so that the server's reply can be
kept per recipient: 2xx is ``sent``, 4xx ``deferred`` (tried again later), 5xx ``bounced`` with
the reply text kept for the delivery row. The envelope sender (MAIL FROM) is the message's
``envelope_from``, the VERP bounce address the queue gives each delivery.

``[mail.smtp] connections`` connections, each opened on first use and renewed after
``messages_per_connection`` messages, are driven together from one thread, in rounds: each takes
the next message of the batch (so no message is given to two of them), waits for a slot of the
:class:`~campaign.mail.ratelimit.RateLimiter`, and then every step of the transaction is written
on all of them before their replies are read. A connection that drops is
opened again and only the message whose transaction was not acknowledged is sent again. A login
the server refuses, a sender it refuses for good (5xx to MAIL FROM) or that no message can carry,
or a server that cannot be reached stops every connection with a :class:`TransportError`
carrying the results so far, so the queue stays resumable.

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
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from campaign.errors import CampaignError
from campaign.mail.mime import Composer, SenderError
from campaign.mail.outbox import OutgoingMessage, SendResult, TransportError
from campaign.mail.ratelimit import RateLimiter

log = logging.getLogger(__name__)

# Errors meaning "the connection is gone", after which the message may be sent again.
_DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError)
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
                f"Cannot connect to the SMTP server {where} (security {transport.security}): {exc}."
            ) from None
        if transport.username:
            try:
                connection.login(transport.username, transport.secret())
            except smtplib.SMTPAuthenticationError as exc:
                connection.close()
                raise TransportError(
                    f"The SMTP server {where} refused the login of {transport.username!r} "
                    f"({exc.smtp_code} {_text(exc.smtp_error)}); check [mail.smtp] username and "
                    f"the password in {transport.password_env}."
                ) from None
            except smtplib.SMTPException as exc:
                connection.close()
                raise TransportError(f"Cannot log in to the SMTP server {where}: {exc}.") from None
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


def _command(line: str) -> bytes:
    """An SMTP command line. ``smtplib``'s ``mail``/``rcpt`` parse each address again with
    the ``email`` package; ours were checked when the message was composed (plain ASCII, no
    spaces or line ends), and this refuses anything else rather than write it."""
    if not line.isascii() or "\r" in line or "\n" in line:
        raise CampaignError(f"Cannot write the SMTP command {line!r}: not a plain address.")
    return line.encode("ascii") + b"\r\n"


class _Flight:
    """One message on one connection during a round (see :meth:`SmtpTransport.send`)."""

    __slots__ = ("code", "connection", "data", "index", "message", "reply", "step")

    def __init__(
        self, connection: _Connection, index: int, message: OutgoingMessage, data: bytes
    ) -> None:
        self.connection = connection
        self.index = index
        self.message = message
        self.data = data
        self.code = 0
        self.reply = b""
        self.step = "MAIL"  # the command whose reply is awaited

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
                f"SMTP login as {self.username!r} needs a password: set the environment variable "
                f"{self.password_env} ([mail.smtp] password_env)."
            )
        return password

    def opened(self) -> None:
        with self._count_lock:
            self.connections_opened += 1

    # --- sending ----------------------------------------------------------------------------

    def send(self, messages: Iterable[OutgoingMessage]) -> list[SendResult]:
        """One result per message, in order; see the module docstring.

        All the connections are driven from this thread: a free connection takes the next
        message and writes MAIL FROM; whenever a connection's reply arrives, it writes its next
        step (RCPT, DATA, the message) or, the transaction over, takes another message. So the
        next message is built while the server reads the others, and no thread is woken for
        each reply (one thread per connection cost about a quarter of the CPU per message).
        """
        # A sequence is taken as it is: its items may be built on access (the queue builds
        # each message just before it is sent).
        batch = messages if isinstance(messages, Sequence) else list(messages)
        results: list[SendResult | None] = [None] * len(batch)
        waiting = deque(range(len(batch)))
        dropped: set[int] = set()  # messages whose connection already dropped once
        prepared: deque[tuple[int, OutgoingMessage, bytes]] = deque()
        idle = list(reversed(self._connections))
        busy = 0
        with selectors.DefaultSelector() as selector, _StopSignals(self.stop_on_signals) as stop:
            try:
                while ((waiting or prepared) and not stop.requested) or busy:
                    while idle and (waiting or prepared) and not stop.requested:
                        if not prepared:
                            self._prepare(batch, waiting, results, prepared)
                            if not prepared:  # none of them could be written
                                continue
                        flight = _Flight(idle.pop(), *prepared.popleft())
                        if self._begin(flight):
                            selector.register(
                                flight.connection.socket, selectors.EVENT_READ, flight
                            )
                            busy += 1
                        else:
                            self._dropped(flight, prepared, dropped)
                            idle.append(flight.connection)
                    if not busy:
                        continue
                    ready = selector.select(self.timeout)
                    if not ready:
                        raise TransportError(
                            f"The SMTP server {self.where} did not answer within "
                            f"{self.timeout:g} seconds ([mail.smtp] timeout)."
                        )
                    for key, _ in ready:
                        flight = key.data
                        if self._advance(flight, results):
                            continue
                        selector.unregister(key.fileobj)
                        busy -= 1
                        if flight.code == _DROP:
                            self._dropped(flight, prepared, dropped)
                        else:
                            dropped.discard(flight.index)
                        idle.append(flight.connection)
                if stop.requested and (waiting or prepared):
                    raise KeyboardInterrupt
            except KeyboardInterrupt:  # after the messages in flight, unless asked twice
                self._abandon()
                raise TransportError(
                    "Interrupted: the messages sent so far are recorded, the others left to "
                    "send; run the send again to carry on.",
                    results,
                ) from None
            except CampaignError as exc:  # a stop, or a message that could not be built
                self._abandon()
                raise TransportError(str(exc), results) from None
        return [result for result in results if result is not None]

    def _prepare(
        self,
        batch: Sequence[OutgoingMessage],
        waiting: deque[int],
        results: list[SendResult | None],
        prepared: deque[tuple[int, OutgoingMessage, bytes]],
    ) -> None:
        """Build and compose the next few messages in a row. Building one at a time between
        replies cost a third more CPU per message: each wake-up found the caches cold."""
        for _ in range(min(len(waiting), 2 * len(self._connections))):
            index = waiting.popleft()
            message = batch[index]
            try:
                prepared.append((index, message, self.composer.compose_smtp(message)))
            except SenderError:  # no message can be written: stop, the rest left to send
                raise
            except CampaignError as exc:  # this message cannot be written (its address)
                results[index] = SendResult(message.to, False, error=str(exc), status="failed")

    def _begin(self, flight: _Flight) -> bool:
        """Open or renew the connection, wait for a rate slot, write MAIL FROM. False when the
        connection went away at once."""
        flight.connection.connected()  # a refused login or an unreachable server stops here
        self.limiter.wait()
        return self._write(flight, _command(f"MAIL FROM:<{flight.message.sender}>"))

    @staticmethod
    def _write(flight: _Flight, line: bytes) -> bool:
        try:
            flight.connection.write(line)
        except _DROPPED:
            flight.code = _DROP
            return False
        return True

    def _advance(self, flight: _Flight, results: list[SendResult | None]) -> bool:
        """Read the reply that arrived and write the next step; False once the flight is over
        (its result kept, or ``code`` set to ``_DROP``)."""
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
                f"The SMTP server {self.where} refuses the sender {flight.message.sender}: "
                f"{code} {_text(flight.reply)}. Check [mail] from_address and "
                "return_path_domain, then run the send again."
            )
        if step == "MAIL" and code < 400:
            flight.step = "RCPT"
            return self._write(flight, _command(f"RCPT TO:<{flight.message.to.strip()}>"))
        if step == "RCPT" and code < 300:
            flight.step = "DATA"
            return self._write(flight, b"DATA\r\n")
        if step == "DATA" and code == 354:
            flight.step = "BODY"
            return self._write(flight, flight.data)
        # The transaction is over: refused at some step, or the message's own reply.
        if code >= 300:
            try:
                flight.connection.reset()
            except _DROPPED:
                flight.connection.drop()
        flight.connection.sent += 1
        results[flight.index] = flight.result("deferred" if step == "MAIL" else None)
        return False

    def _dropped(
        self,
        flight: _Flight,
        prepared: deque[tuple[int, OutgoingMessage, bytes]],
        dropped: set[int],
    ) -> None:
        """The connection went away mid-transaction: the message is the next one sent again
        (on a new connection), once; a second time in a row stops the send."""
        flight.connection.drop()
        if flight.index in dropped:
            raise TransportError(
                f"The SMTP server {self.where} closed the connection twice in a row "
                f"while sending to {flight.message.to}."
            )
        dropped.add(flight.index)
        prepared.appendleft((flight.index, flight.message, flight.data))
        log.warning("SMTP connection to %s dropped; opening it again", self.where)

    def _abandon(self) -> None:
        """After a stop mid-round, sessions may be mid-transaction: close them."""
        for connection in self._connections:
            connection.drop()

    def close(self) -> None:
        for connection in self._connections:
            connection.quit()


def try_relay(smtp: Any) -> None:
    """Open one session with the relay of ``smtp`` as a send opens it (EHLO, STARTTLS, login),
    then QUIT: no message is sent. Raises :class:`TransportError` saying what failed."""
    connection = _Connection(SmtpTransport(smtp))
    connection.connected()
    connection.quit()
