"""Getting messages out: building the MIME message and handing it to a transport.

A transport has two methods, ``send(messages) -> results`` and ``close()``. The outbox transport
(:mod:`campaign.mail.outbox`) writes each message to a local maildir instead of sending it; it is
the default, so nothing leaves the machine until SMTP is configured. The SMTP transport arrives
with the sending stage; until then :func:`open_transport` returns the outbox for both settings.
"""

from __future__ import annotations

from typing import Any

from campaign.mail.outbox import (
    OutboxTransport,
    OutgoingMessage,
    SendResult,
    Transport,
    build_message,
)

__all__ = [
    "OutboxTransport",
    "OutgoingMessage",
    "SendResult",
    "Transport",
    "build_message",
    "open_transport",
]


def open_transport(settings: Any) -> Transport:
    """The transport of ``[mail] transport``; the outbox until SMTP sending lands."""
    return OutboxTransport(settings.mail.outbox_dir)
