"""One message's SMTP transaction on one connection: MAIL, RCPT, DATA, then the message.

A :class:`Flight` writes each step as the reply to the previous one arrives and ends with the
message's result: 2xx ``sent``, 4xx ``deferred``, 5xx ``bounced``, or ``DROP`` when the
connection went away mid-transaction.
"""

from __future__ import annotations

import socket
import time

from campaign.mail.smtp_session import DROPPED, Connection, command_line, reply_text, smtp_message
from campaign.mail.transport import OutgoingMessage, SendResult, TransportError
from campaign.messages import Message

DROP = -1  # a flight's code when its connection went away mid-transaction


def _outcome(code: int) -> str:
    if 200 <= code < 300:
        return "sent"
    if 400 <= code < 500:
        return "deferred"
    return "bounced"


class Flight:
    """One message on one connection during a send (see
    :class:`~campaign.mail.smtp_send.BatchSend`)."""

    __slots__ = (
        "code", "connection", "data", "final", "index", "message", "reply", "since", "sock",
        "step",
    )  # fmt: skip

    def __init__(
        self, connection: Connection, index: int, message: OutgoingMessage, data: bytes
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
            error="" if status == "sent" else f"{self.code} {reply_text(self.reply)}",
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

    def advance(self) -> bool:
        """Read the reply that arrived and write the next step; False once the flight is over
        (``final`` set, or ``code`` set to ``DROP``)."""
        try:
            self.code, self.reply = self.connection.reply()
        except DROPPED:
            self.code = DROP
            return False
        code = self.code
        if code == 421:  # the server is closing the session
            self.code = DROP
            return False
        step = self.step
        if step == "MAIL" and code >= 500:
            raise TransportError(
                smtp_message(
                    "smtp.sender_refused",
                    where=self.connection.transport.where,
                    sender=self.message.sender,
                    reply=f"{code} {reply_text(self.reply)}",
                )
            )
        if step == "MAIL" and code < 400:
            self.step = "RCPT"
            return self.write(command_line(f"RCPT TO:<{self.message.to.strip()}>"))
        if step == "RCPT" and code < 300:
            self.step = "DATA"
            return self.write(b"DATA\r\n")
        if step == "DATA" and code == 354:
            self.step = "BODY"  # before the write: from now on the server may have it
            return self.write(self.data)
        # The transaction is over: refused at some step, or the message's own reply.
        if code >= 300:
            try:
                self.connection.reset()
            except DROPPED:
                self.connection.drop()
        self.connection.sent += 1
        self.final = self.result("deferred" if step == "MAIL" else None)
        return False

    def write(self, line: bytes) -> bool:
        try:
            self.connection.write(line)
        except DROPPED:
            self.code = DROP
            return False
        self.since = time.monotonic()
        return True
