"""The SMTP transport: N reused connections, a shared rate limit, one result per recipient.

Each message is its own SMTP transaction (MAIL, RCPT, DATA) so that the server's reply can be
kept per recipient: 2xx is ``sent``, 4xx ``deferred`` (tried again later), 5xx ``bounced`` with
the reply text kept for the delivery row. The envelope sender (MAIL FROM) is the message's
``envelope_from``, the VERP bounce address the queue gives each delivery.

``[mail.smtp] connections`` connections, each opened on first use and renewed after
``messages_per_connection`` messages, are driven together from one thread: each takes the next
message of the batch (so no message is given to two of them), waits for a slot of the
:class:`~campaign.mail.ratelimit.MessagePacer`, and writes each step of the transaction as the
reply to the previous one arrives.

Faults end in a known state. A connection that breaks (closed, reset, or silent for
``timeout`` seconds before the message was written) is opened again and that message alone is
sent again, once; a second break defers it with the reason, so a message that always breaks its
connection ends failed after ``[mail] max_attempts`` without holding up the others. A message
written whose reply never comes is deferred with a reason saying it may have been delivered,
not sent again at once. A login the server refuses, a sender it refuses for good (5xx to MAIL
FROM) or that no message can carry, a server that cannot be reached or breaks every
transaction, a stop signal, or an ``on_results`` that fails (the queue's database gone) stops the
send: no transaction starts, those not yet written are given up (left to send), and the replies
of the messages already written are read first, so nothing the server accepted is sent twice by
the next run. A :class:`TransportError` then carries the results so far.

The password is read from the environment variable named by ``[mail.smtp] password_env`` when
a connection opens; it is never stored in settings, messages or logs.

The transport is in four parts: this module (settings, ``send``), one SMTP session
(:mod:`~campaign.mail.smtp_session`), one message's transaction on it
(:mod:`~campaign.mail.smtp_transaction`) and the loop driving them for a batch
(:mod:`~campaign.mail.smtp_send`).
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from campaign.mail.mime import Composer
from campaign.mail.ratelimit import MessagePacer
from campaign.mail.smtp_send import BatchSend
from campaign.mail.smtp_session import Connection, smtp_message
from campaign.mail.transport import (
    OutgoingMessage,
    ResultCallback,
    ResultFeed,
    SendResult,
    TransportError,
)


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
        limiter: MessagePacer | None = None,
    ) -> None:
        self.host: str = smtp.host
        self.port: int = smtp.port
        self.security: str = smtp.security
        self.username: str = smtp.username
        self.password_env: str = smtp.password_env
        self.timeout: float = smtp.timeout
        self.per_connection: int = smtp.messages_per_connection
        self.composer = composer or Composer()
        self.limiter = limiter or MessagePacer(smtp.rate_per_second, smtp.rate_per_hour)
        self.ssl_context = ssl_context
        # The EHLO/HELO name ([mail.smtp] helo_name): receivers check it against DNS. None lets
        # smtplib use the machine's fully qualified name.
        self.local_hostname = local_hostname or smtp.helo_name or None
        self._password = password
        self.connections = [Connection(self) for _ in range(smtp.connections)]
        self._count_lock = threading.Lock()
        self.connections_opened = 0
        # A command sending a newsletter sets this: Ctrl-C or SIGTERM then stops after the
        # messages in flight (see StopSignals).
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
                smtp_message(
                    "smtp.no_password", username=self.username, password_env=self.password_env
                )
            )
        return password

    def opened(self) -> None:
        with self._count_lock:
            self.connections_opened += 1

    # --- sending ----------------------------------------------------------------------------

    def send(
        self, messages: Iterable[OutgoingMessage], on_results: ResultCallback | None = None
    ) -> list[SendResult]:
        """One result per message, in order; see the module docstring. With ``on_results``, each
        result is also handed to it within :data:`~campaign.mail.transport.FLUSH_EVERY` seconds.

        All the connections are driven from this thread: a free connection takes the next
        message and writes MAIL FROM; whenever a connection's reply arrives, it writes its next
        step (RCPT, DATA, the message) or, the transaction over, takes another message. So the
        next message is built while the server reads the others, and no thread is woken for
        each reply (one thread per connection cost about a quarter of the CPU per message).
        """
        # A sequence is taken as it is: its items may be built on access (the queue builds
        # each message just before it is sent).
        batch = messages if isinstance(messages, Sequence) else list(messages)
        return BatchSend(self, batch, ResultFeed(on_results)).run()

    def close(self) -> None:
        for connection in self.connections:
            connection.quit()


def try_relay(smtp: Any) -> None:
    """Open one session with the relay of ``smtp`` as a send opens it (EHLO, STARTTLS, login),
    then QUIT: no message is sent. Raises :class:`TransportError` saying what failed."""
    connection = Connection(SmtpTransport(smtp))
    connection.connected()
    connection.quit()
