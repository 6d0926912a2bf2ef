"""What every mail transport offers: :class:`Transport`, and the types it speaks.

A transport takes personalised messages (:class:`OutgoingMessage`) and returns what became of
each (:class:`SendResult`), telling an ``on_results`` callback as results come; it raises
:class:`TransportError` when it cannot go on. The outbox (:mod:`campaign.mail.outbox`) and the
SMTP relay (:mod:`campaign.mail.smtp`) implement it; the sending queue knows no more than this.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from campaign.errors import CampaignError
from campaign.messages import Message


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one address, already personalised."""

    from_address: str
    to: str
    subject: str
    text: str
    html: str
    from_name: str = ""
    # Empty: replies go to ``from_address``, which the Reply-To header then names (every message
    # carries one, as docs/reference/newsletters.md says).
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # Empty: a random one. The sending queue derives it from the delivery row.
    message_id: str = ""
    to_name: str = ""
    # The SMTP envelope sender (MAIL FROM, the future Return-Path); empty: ``from_address``.
    # The sending queue puts the VERP bounce address of the delivery here.
    envelope_from: str = ""

    # The HTML as chunks whose concatenation is the body (see CompiledNewsletter.
    # personalise_chunks): the composer encodes the chunks shared by a group once. When given,
    # ``html`` is left empty.
    html_parts: tuple[str, ...] = ()
    # The same for the plain text; when given, ``text`` is left empty.
    text_parts: tuple[str, ...] = ()

    @property
    def sender(self) -> str:
        return self.envelope_from or self.from_address

    @property
    def html_body(self) -> str:
        return self.html or "".join(self.html_parts)

    @property
    def text_body(self) -> str:
        return self.text or "".join(self.text_parts)


@dataclass(frozen=True)
class SendResult:
    """What became of one message: ``ok`` with its Message-ID, or the reason it failed.

    Transports return one per message, in the order of the messages given.
    """

    to: str
    ok: bool
    message_id: str = ""
    error: str = ""
    where: str = ""  # the outbox file, for the outbox transport
    # sent | deferred (4xx, try again later) | bounced (5xx) | failed; empty: from ``ok``.
    status: str = ""
    code: int = 0  # the SMTP reply code, when there was one
    # Why it failed as a message (``error`` is its CLI wording, as stored), when the transport
    # says it itself rather than quoting the server.
    reason: Message | None = None

    @property
    def outcome(self) -> str:
        return self.status or ("sent" if self.ok else "failed")


class TransportError(CampaignError):
    """The transport cannot go on (login refused, server unreachable, sender refused).

    ``results`` is aligned with the messages given to ``send``: what became of each message
    handled before it stopped, ``None`` for those not tried (they can be tried again).
    """

    def __init__(
        self, message: str | Message, results: Sequence[SendResult | None] | None = None
    ) -> None:
        super().__init__(message)
        self.results: list[SendResult | None] = list(results or [])


ResultCallback = Callable[[list[tuple[int, SendResult]]], None]
"""Told of results as they come, as ``(index in the batch, result)`` pairs. A caller that
records each result within moments of the server's reply loses at most those moments to a
crash, instead of a whole batch (the queue commits in this call)."""

FLUSH_EVERY = 0.04
"""Seconds a result may wait before it is handed to ``on_results``: the queue's window of
unrecorded sends."""


class ResultFeed:
    """The results of a ``send`` not handed on yet: handed to ``on_results`` once the oldest has
    waited ``every`` seconds, and all of them when the send ends (:meth:`flush` with
    ``force``). Without an ``on_results`` it keeps nothing."""

    def __init__(self, on_results: ResultCallback | None, every: float = FLUSH_EVERY) -> None:
        self.on_results = on_results
        self.every = every
        self.waiting: list[tuple[int, SendResult]] = []
        self.since = 0.0

    def add(self, index: int, result: SendResult) -> None:
        if self.on_results is None:
            return
        if not self.waiting:
            self.since = time.monotonic()
        self.waiting.append((index, result))

    def due_in(self) -> float | None:
        """Seconds until the results waiting must be handed on; None when none waits."""
        if not self.waiting:
            return None
        return max(0.0, self.since + self.every - time.monotonic())

    def flush(self, force: bool = False) -> None:
        if not self.waiting or self.on_results is None:
            return
        if not force and time.monotonic() - self.since < self.every:
            return
        waiting, self.waiting = self.waiting, []
        self.on_results(waiting)


class Transport(Protocol):
    def send(
        self, messages: Iterable[OutgoingMessage], on_results: ResultCallback | None = None
    ) -> list[SendResult]:
        """One result per message, in order. With ``on_results``, every result is also handed
        to it (once, within :data:`FLUSH_EVERY` seconds of being known) before ``send`` returns or
        raises, unless ``on_results`` itself raised: then the send stops and that error is raised
        again."""
        ...

    def close(self) -> None: ...
