"""The SMTP transport: one connection reused for many messages, one result per recipient.

Each message is its own SMTP transaction (MAIL, RCPT, DATA) so that the server's reply can be
kept per recipient: 2xx is ``sent``, 4xx ``deferred`` (tried again by a later run), 5xx
``bounced`` with the reply text kept for the delivery row. A connection that drops is opened
again and only the message whose transaction was not acknowledged is sent again; a login the
server refuses, a sender it refuses for good or a server that cannot be reached stops the run
with a :class:`TransportError` carrying the results so far, so the queue stays resumable.

The password is read from the environment variable named by ``[mail.smtp] password_env`` when
the connection opens; it is never stored in settings, messages or logs.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Iterable
from email import policy
from typing import Any

from campaign.errors import CampaignError
from campaign.mail.outbox import OutgoingMessage, SendResult, TransportError, build_message

log = logging.getLogger(__name__)

_SMTP_POLICY = policy.SMTP
# Errors meaning "the connection is gone", after which the message may be sent again.
_DROPPED = (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError)


class _Dropped(Exception):
    """Internal: the connection went away during a transaction."""


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


class SmtpTransport:
    """Sends through the relay of ``[mail.smtp]``; open lazily, closed by :meth:`close`."""

    def __init__(
        self,
        smtp: Any,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.host: str = smtp.host
        self.port: int = smtp.port
        self.security: str = smtp.security
        self.username: str = smtp.username
        self.password_env: str = smtp.password_env
        self.timeout: float = smtp.timeout
        self.per_connection: int = smtp.messages_per_connection
        self._password = password
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._connection: smtplib.SMTP | None = None
        self._sent_on_connection = 0
        self.connections_opened = 0

    # --- connection -------------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _secret(self) -> str:
        password = self._password or os.environ.get(self.password_env) or ""
        if not password:
            raise TransportError(
                f"SMTP login as {self.username!r} needs a password: set the environment variable "
                f"{self.password_env} ([mail.smtp] password_env)."
            )
        return password

    def _open(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        try:
            if self.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=context,
                    local_hostname=self._local_hostname,
                )
            else:
                connection = smtplib.SMTP(
                    self.host, self.port, timeout=self.timeout, local_hostname=self._local_hostname
                )
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(
                f"Cannot connect to the SMTP server {self._where()} "
                f"(security {self.security}): {exc}."
            ) from None
        if self.username:
            try:
                connection.login(self.username, self._secret())
            except smtplib.SMTPAuthenticationError as exc:
                connection.close()
                raise TransportError(
                    f"The SMTP server {self._where()} refused the login of {self.username!r} "
                    f"({exc.smtp_code} {_text(exc.smtp_error)}); check [mail.smtp] username and "
                    f"the password in {self.password_env}."
                ) from None
            except smtplib.SMTPException as exc:
                connection.close()
                raise TransportError(
                    f"Cannot log in to the SMTP server {self._where()}: {exc}."
                ) from None
        self.connections_opened += 1
        log.info("SMTP connection to %s opened", self._where())
        return connection

    def _connected(self) -> smtplib.SMTP:
        if self._connection is not None and self._sent_on_connection >= self.per_connection:
            self._quit()
        if self._connection is None:
            self._connection = self._open()
            self._sent_on_connection = 0
        return self._connection

    def _quit(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # --- sending ----------------------------------------------------------------------------

    def _transaction(self, sender: str, message: OutgoingMessage, data: bytes) -> SendResult:
        connection = self._connected()
        try:
            code, reply = connection.mail(sender)
            if code == 421:
                raise _Dropped
            if code >= 400:
                connection.rset()
                if code >= 500:
                    raise TransportError(
                        f"The SMTP server {self._where()} refuses the sender {sender}: "
                        f"{code} {_text(reply)}."
                    )
                return SendResult(
                    message.to, False, error=_text(reply), status="deferred", code=code
                )
            code, reply = connection.rcpt(message.to)
            if code == 421:
                raise _Dropped
            if code >= 300:
                connection.rset()
                return SendResult(
                    message.to, False, error=f"{code} {_text(reply)}", status=_outcome(code),
                    code=code,
                )  # fmt: skip
            try:
                code, reply = connection.data(data)
            except smtplib.SMTPDataError as exc:  # DATA itself refused
                code, reply = exc.smtp_code, exc.smtp_error
                if code == 421:
                    raise _Dropped from None
                connection.rset()
            if code == 421:
                raise _Dropped
        except _DROPPED:
            raise _Dropped from None
        self._sent_on_connection += 1
        status = _outcome(code)
        return SendResult(
            message.to,
            status == "sent",
            message_id=message.message_id,
            error="" if status == "sent" else f"{code} {_text(reply)}",
            status=status,
            code=code,
        )

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        try:
            built = build_message(message)
            data = built.as_bytes(policy=_SMTP_POLICY)
        except CampaignError as exc:
            return SendResult(message.to, False, error=str(exc), status="failed")
        message_id = str(built["Message-ID"])
        for attempt in (1, 2):
            try:
                result = self._transaction(message.from_address, message, data)
            except _Dropped:
                self._drop()
                if attempt == 2:
                    raise TransportError(
                        f"The SMTP server {self._where()} closed the connection twice in a row "
                        f"while sending to {message.to}."
                    ) from None
                log.warning("SMTP connection to %s dropped; opening it again", self._where())
                continue
            if result.ok:
                return SendResult(
                    result.to, True, message_id=message_id, status="sent", code=result.code
                )
            return result
        raise AssertionError("unreachable")

    def send(self, messages: Iterable[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for message in messages:
            try:
                results.append(self._send_one(message))
            except TransportError as exc:
                raise TransportError(str(exc), results) from None
        return results

    def close(self) -> None:
        self._quit()
