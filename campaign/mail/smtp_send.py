"""One call of :meth:`SmtpTransport.send <campaign.mail.smtp.SmtpTransport.send>`: all the
connections driven from one thread, each message in a known state however the send stops.

See :mod:`campaign.mail.smtp` for what the transport promises.
"""

from __future__ import annotations

import logging
import selectors
import signal
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from campaign.errors import CampaignError
from campaign.mail.mime import SenderError
from campaign.mail.smtp_session import Connection, command_line, smtp_message
from campaign.mail.smtp_transaction import DROP, Flight
from campaign.mail.transport import OutgoingMessage, ResultFeed, SendResult, TransportError

if TYPE_CHECKING:
    from campaign.mail.smtp import SmtpTransport

log = logging.getLogger("campaign.mail.smtp")


class StopSignals:
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

    def __enter__(self) -> StopSignals:
        if self.active and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._ask)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            if previous is not None:  # None: not set from Python, nothing to put back
                signal.signal(signum, previous)


INTERRUPTED = (
    "Interrupted: the messages sent so far are recorded, the others left to send; run the "
    "send again to carry on."
)


class BatchSend:
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
        self.idle = list(reversed(transport.connections))
        self.flights: dict[Connection, Flight] = {}
        self.dropped: set[int] = set()  # messages whose connection already broke once
        self.breaks_in_row = 0  # transactions ended by a broken connection, none between
        self.stopping: BaseException | None = None
        self.selector = selectors.DefaultSelector()

    # --- the loop ---

    def run(self) -> list[SendResult]:
        transport = self.transport
        with self.selector, StopSignals(transport.stop_on_signals) as stop:
            try:
                while self.flights or (self.stopping is None and (self.waiting or self.prepared)):
                    if stop.requested:
                        self.stop(TransportError(INTERRUPTED))
                    self.start_flights(stop)
                    if self.flights:
                        self.read_replies()
                    self.flush_results()
                if stop.requested:
                    self.stop(TransportError(INTERRUPTED))
            except KeyboardInterrupt:  # asked twice: stop at once, nothing more is read
                self.abandon()
                self.stop(TransportError(INTERRUPTED))
            self.flush_results(force=True)
        if self.stopping is None:
            return [result for result in self.results if result is not None]
        for connection in transport.connections:  # sessions may be mid-transaction
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

    def flush_results(self, force: bool = False) -> None:
        if isinstance(self.stopping, Exception) and not isinstance(self.stopping, TransportError):
            return  # reporting already failed (the database went away): nothing more to say
        try:
            self.feed.flush(force)
        except Exception as exc:  # the caller could not record them: stop, raise it after
            self.stopping = None
            self.stop(exc)

    # --- starting transactions ---

    def start_flights(self, stop: StopSignals) -> None:
        transport = self.transport
        while self.idle and (self.waiting or self.prepared) and self.stopping is None:
            if stop.requested:
                return
            if not self.prepared:
                self.prepare()
                continue
            connection = self.idle.pop()
            flight = Flight(connection, *self.prepared.popleft())
            try:
                connection.connected()  # a refused login or an unreachable server stops here
            except TransportError as exc:
                self.idle.append(connection)
                self.prepared.appendleft((flight.index, flight.message, flight.data))
                self.stop(exc)
                return
            transport.limiter.wait()
            if flight.write(command_line(f"MAIL FROM:<{flight.message.sender}>")):
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
        for _ in range(min(len(self.waiting), 2 * len(self.transport.connections))):
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
            flight: Flight = key.data  # as registered in start_flights()
            if self.flights.get(flight.connection) is not flight:
                continue  # given up by a stop meanwhile
            try:
                going = flight.advance()
            except TransportError as exc:  # the sender is refused: this message left to send
                self.land(flight)
                self.stop(exc)
                continue
            if going:
                continue
            self.land(flight)
            if flight.code == DROP:
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

    def land(self, flight: Flight) -> None:
        """The flight is over (or given up): its connection is free again."""
        assert flight.sock is not None  # a flight in self.flights is registered with its socket
        self.selector.unregister(flight.sock)
        del self.flights[flight.connection]
        self.idle.append(flight.connection)

    # --- faults ---

    def broken(self, flight: Flight) -> None:
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
                flight.failure(
                    smtp_message("smtp.broke_twice", where=transport.where, step=flight.step)
                ),
            )
        else:
            self.dropped.add(flight.index)
            self.prepared.appendleft((flight.index, flight.message, flight.data))
            log.warning("SMTP connection to %s dropped; opening it again", transport.where)
        self.too_many_breaks()

    def hung(self, flight: Flight) -> None:
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
                smtp_message(
                    "smtp.no_reply", where=transport.where, seconds=f"{transport.timeout:g}"
                )
            ),
        )
        self.too_many_breaks()

    def too_many_breaks(self) -> None:
        limit = 2 * len(self.transport.connections) + 2
        if self.breaks_in_row >= limit and self.stopping is None:
            self.stop(
                TransportError(
                    smtp_message(
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
                    flight.failure(smtp_message("smtp.interrupted")),
                )
            self.land(flight)
            flight.connection.drop()
