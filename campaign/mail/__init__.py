"""Getting messages out: building the MIME message and handing it to a transport.

A transport has two methods, ``send(messages) -> results`` and ``close()``
(:class:`~campaign.mail.transport.Transport`). The outbox transport
(:mod:`campaign.mail.outbox`) writes each message to a local maildir instead of sending it; it is
the default, so nothing leaves the machine until SMTP is configured. The SMTP transport
(:mod:`campaign.mail.smtp`) is used when ``[mail] transport = "smtp"``. Both write the bytes of
the same :class:`~campaign.mail.mime.Composer`, DKIM-signed when ``[mail.dkim]`` names a key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from campaign.mail.dkim import DkimSigner
from campaign.mail.mime import Composer
from campaign.mail.outbox import OutboxTransport, build_message
from campaign.mail.smtp import SmtpTransport
from campaign.mail.transport import (
    OutgoingMessage,
    ResultCallback,
    SendResult,
    Transport,
    TransportError,
)

if TYPE_CHECKING:
    from campaign.config import Settings

__all__ = [
    "Composer",
    "OutboxTransport",
    "OutgoingMessage",
    "ResultCallback",
    "SendResult",
    "SmtpTransport",
    "Transport",
    "TransportError",
    "build_message",
    "open_transport",
]


def open_transport(settings: Settings) -> Transport:
    """The transport of ``[mail] transport``: the outbox folder or the SMTP relay."""
    composer = Composer(DkimSigner.from_settings(settings))
    if settings.mail.transport == "smtp":
        return SmtpTransport(settings.mail.smtp, composer=composer)
    return OutboxTransport(settings.mail.outbox_dir, composer)
