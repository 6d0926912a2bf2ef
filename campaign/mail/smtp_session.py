"""One SMTP session of the transport: open (EHLO, STARTTLS, login), write, read, close.

Also the words the SMTP transport speaks with: the messages it says about the server
(:func:`smtp_message`) and the command lines it writes (:func:`command_line`).
"""

from __future__ import annotations

import logging
import smtplib
import socket
from typing import TYPE_CHECKING

from campaign.errors import CampaignError
from campaign.mail.transport import TransportError
from campaign.messages import Message

if TYPE_CHECKING:
    from campaign.mail.smtp import SmtpTransport

log = logging.getLogger("campaign.mail.smtp")

# Errors meaning "the connection is gone", after which the message may be sent again.
DROPPED = (smtplib.SMTPServerDisconnected, OSError)  # resets, timeouts, TLS errors


def reply_text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


class Connection:
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
                smtp_message(
                    "smtp.cannot_connect", where=where, security=transport.security, reason=exc
                )
            ) from None
        if transport.username:
            try:
                connection.login(transport.username, transport.secret())
            except smtplib.SMTPAuthenticationError as exc:
                connection.close()
                raise TransportError(
                    smtp_message(
                        "smtp.login_refused",
                        where=where,
                        username=transport.username,
                        reply=f"{exc.smtp_code} {reply_text(exc.smtp_error)}",
                        password_env=transport.password_env,
                    )
                ) from None
            except smtplib.SMTPException as exc:
                connection.close()
                raise TransportError(
                    smtp_message("smtp.login_failed", where=where, reason=exc)
                ) from None
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


def smtp_message(code: str, **values: object) -> Message:
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


def command_line(line: str) -> bytes:
    """An SMTP command line. ``smtplib``'s ``mail``/``rcpt`` parse each address again with
    the ``email`` package; ours were checked when the message was composed (plain ASCII, no
    spaces or line ends), and this refuses anything else rather than write it."""
    if not line.isascii() or "\r" in line or "\n" in line:
        raise CampaignError(smtp_message("smtp.not_plain_address", line=line))
    return line.encode("ascii") + b"\r\n"
