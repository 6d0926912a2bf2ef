"""Recording hits without making the reader wait for the database.

The pixel and click routes hand each hit to :meth:`HitRecorder.record`, which appends it to an
in-process queue and returns at once. A writer thread wakes every ``[tracking] flush_seconds``,
takes what has arrived, classifies it (:mod:`campaign.tracking.classify`) and inserts it in
batches, one transaction per cycle. Delivery clicks stay ``burst_seconds`` in memory before
being written, so that a burst of scanner clicks is marked as a whole.

:meth:`HitRecorder.close` (called when the web service stops, e.g. on SIGTERM) writes
everything still queued or held, so a graceful stop loses no hit. A database that refuses a
write (locked too long, down, disk full) is retried at the next cycle; hits wait in memory
meanwhile, up to ``max_pending``, beyond which new ones are counted as dropped and logged. When
stopping, the writes are retried for ``stop_timeout`` seconds; what is still unwritten then is
returned by :meth:`HitRecorder.close`, so the service can exit with an error a supervisor sees.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select

from campaign.models import Delivery, Hit, HitKind, Link, Newsletter
from campaign.tracking.classify import BurstTracker, PendingHit, Rules

log = logging.getLogger(__name__)

CHUNK = 500  # rows per INSERT … VALUES statement (under SQLite's variable limit)
_CACHE_LIMIT = 200_000
_LINK_COUNT_TTL = 60.0


class HitRecorder:
    """The queue of hits and the thread that writes them; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        rules: Rules,
        *,
        flush_seconds: float = 0.5,
        max_pending: int = 2_000_000,
        stop_timeout: float = 30.0,
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.stop_timeout = stop_timeout
        self.written = 0
        self.dropped = 0  # refused for lack of room, or naming a row that no longer exists
        self.last_error = ""  # why the last write failed (the database's words), for the stop
        self._queue: deque[PendingHit] = deque()
        self._held: deque[PendingHit] = deque()  # delivery clicks waiting out the burst window
        self._unclassified: list[PendingHit] = []  # due, but their lookup failed
        self._retry: list[PendingHit] = []  # classified hits whose write failed
        self._burst = BurstTracker(rules.burst_seconds, rules.burst_links)
        self._deliveries: dict[int, tuple[int, float]] = {}  # id -> (newsletter, sent_at)
        self._newsletters: dict[int, float] = {}  # id -> sent_at
        self._link_counts: dict[int, tuple[int, float]] = {}  # newsletter -> (links, read at)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._flush_requests: list[threading.Event] = []
        self._lock = threading.Lock()  # guards _flush_requests
        self._thread: threading.Thread | None = None

    # --- the routes' side ------------------------------------------------------------------

    def record(self, hit: PendingHit) -> None:
        """Queue a hit; never blocks, never touches the database."""
        if len(self._queue) >= self.max_pending:
            self.dropped += 1
            if self.dropped % 10_000 == 1:
                log.error("hit queue full (%d waiting): hits dropped", self.max_pending)
            return
        self._queue.append(hit)

    @property
    def running(self) -> bool:
        """Whether the writer thread is alive (started and not stopped)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def waiting(self) -> int:
        """Hits recorded but not written yet."""
        return len(self._queue) + len(self._held) + len(self._unclassified) + len(self._retry)

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="hit-writer", daemon=True)
        self._thread.start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything recorded so far, held clicks included; True once done.

        Held clicks are classified with what is known at that moment (a burst still in progress
        is not seen whole): for stopping, tests and benchmarks, not for routine use.
        """
        if self._thread is None or not self._thread.is_alive():
            self._cycle(final=True)
            return not self.waiting
        done = threading.Event()
        with self._lock:
            self._flush_requests.append(done)
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float | None = None) -> int:
        """Stop the writer after writing every hit still waiting; the number that could not
        be written (the database kept refusing them for ``stop_timeout`` seconds)."""
        self._stopping.set()
        self._wake.set()
        if timeout is None:  # the retries, and a last write that may wait for a lock
            timeout = self.stop_timeout + 60.0
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the hit writer did not finish within %.0f s", timeout)
            self._thread = None
        elif self.waiting:
            try:
                self._cycle(final=True)
            except Exception as exc:
                self._failed(exc)
        if self.waiting:
            log.error(
                "%d hits could not be written before stopping: %s", self.waiting, self.last_error
            )
        return self.waiting

    def _failed(self, exc: Exception) -> None:
        if not isinstance(exc, DBAPIError):  # a bug: its traceback
            self.last_error = str(exc)
            log.exception("writing hits failed; retrying")
            return
        # The database's own words ("database or disk is full"), without the statement and
        # its parameters, which carry readers' address prefixes and user agents.
        self.last_error = str(exc.orig).strip()
        log.error("writing hits failed (%s); retrying", self.last_error)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stopping.is_set()
            with self._lock:
                requests, self._flush_requests = self._flush_requests, []
            final = stopping or bool(requests)
            deadline = time.monotonic() + self.stop_timeout
            attempts = 0
            while True:
                try:
                    self._cycle(final=final)
                except Exception as exc:  # keep the thread alive: the next cycle retries
                    self._failed(exc)
                if not (stopping and self.waiting):
                    break
                attempts += 1
                pause = min(0.1 * 2**attempts, 2.0)
                if time.monotonic() + pause > deadline:
                    break
                time.sleep(pause)
            for done in requests:
                done.set()
            if stopping:
                return

    # --- the writer's side -------------------------------------------------------------------

    def _cycle(self, *, final: bool) -> None:
        """One pass: take what arrived, classify what is due, write it.

        Nothing taken from the queue is lost when the database fails: hits not classified yet
        wait in ``_unclassified``, hits classified but not written in ``_retry``, and the next
        cycle tries again.
        """
        incoming: list[PendingHit] = []
        queue = self._queue
        while queue:
            incoming.append(queue.popleft())
        ready, self._unclassified = self._unclassified, []
        ready += self._hold_clicks(incoming)
        now = time.time()
        window = self.rules.burst_seconds
        held = self._held
        while held and (final or held[0].at + window <= now):
            ready.append(held.popleft())
        if ready:
            try:
                self._classify(ready)
            except Exception:
                self._unclassified = ready
                raise
        # Rows stay counted as waiting until written (a failed write leaves them for the next).
        rows = self._retry = self._retry + [hit for hit in ready if hit.classification]
        self.dropped += sum(1 for hit in ready if not hit.classification)
        if rows:
            self._write(rows)
            self._retry = []

    def _hold_clicks(self, incoming: list[PendingHit]) -> list[PendingHit]:
        """Hold the clicks of deliveries for the burst rule's window; the other hits, in order."""
        clicks = [hit for hit in incoming if hit.kind == HitKind.click and hit.delivery_id]
        counts: dict[int, int] = {}
        if clicks:
            try:
                counts = self._links_per_newsletter({hit.newsletter_id or 0 for hit in clicks})
            except Exception:  # no burst rule this time rather than no hits
                log.exception("counting the newsletters' links failed")
        others = []
        for hit in incoming:
            if hit.kind == HitKind.click and hit.delivery_id:
                self._burst.add(hit, counts.get(hit.newsletter_id or 0, 0))
                self._held.append(hit)
            else:
                others.append(hit)
        return others

    def _links_per_newsletter(self, newsletter_ids: Iterable[int]) -> dict[int, int]:
        now = time.monotonic()
        counts = self._link_counts
        stale = [
            n for n in newsletter_ids if n not in counts or now - counts[n][1] > _LINK_COUNT_TTL
        ]
        if stale:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(Link.newsletter_id, func.count())
                    .where(col(Link.newsletter_id).in_(stale))
                    .group_by(col(Link.newsletter_id))
                ).all()
            found = dict(rows)
            for newsletter_id in stale:
                counts[newsletter_id] = (found.get(newsletter_id, 0), now)
        return {n: counts[n][0] for n in newsletter_ids if n in counts}

    def _classify(self, hits: Sequence[PendingHit]) -> None:
        """Fill the newsletter and label of each hit; a hit whose delivery or newsletter is gone
        is left unlabelled (and not written)."""
        unsent, undated = self._resolve(
            {hit.delivery_id for hit in hits if hit.delivery_id is not None},
            {hit.newsletter_id for hit in hits if hit.delivery_id is None and hit.newsletter_id},
        )
        for hit in hits:
            if hit.delivery_id is not None:
                known = self._deliveries.get(hit.delivery_id) or unsent.get(hit.delivery_id)
                if known is None:
                    continue
                newsletter_id, sent_at = known
                if hit.newsletter_id is not None and hit.newsletter_id != newsletter_id:
                    continue  # the route checked this; a mismatch is never written
                hit.newsletter_id = newsletter_id
                self.rules.classify(hit, sent_at, sent_known=True)
            elif hit.newsletter_id is not None:
                if hit.newsletter_id in self._newsletters:
                    self.rules.classify(hit, self._newsletters[hit.newsletter_id], False)
                elif hit.newsletter_id in undated:
                    self.rules.classify(hit, None, False)

    def _resolve(
        self, delivery_ids: set[int], newsletter_ids: set[int]
    ) -> tuple[dict[int, tuple[int, float | None]], set[int]]:
        """Look up the deliveries and newsletters not in the caches.

        Only rows with a send date are cached: a delivery not sent yet gets its date later.
        Returns the deliveries found without a send date and the newsletters without one.
        """
        unsent: dict[int, tuple[int, float | None]] = {}
        undated: set[int] = set()
        missing_deliveries = [d for d in delivery_ids if d not in self._deliveries]
        missing_newsletters = [n for n in newsletter_ids if n not in self._newsletters]
        if not missing_deliveries and not missing_newsletters:
            return unsent, undated
        if len(self._deliveries) > _CACHE_LIMIT:
            self._deliveries.clear()
        if len(self._newsletters) > _CACHE_LIMIT:
            self._newsletters.clear()
        with self.engine.connect() as connection:
            for start in range(0, len(missing_deliveries), CHUNK):
                chunk = missing_deliveries[start : start + CHUNK]
                rows = connection.execute(
                    select(Delivery.id, Delivery.newsletter_id, Delivery.sent_at).where(
                        col(Delivery.id).in_(chunk)
                    )
                ).all()
                for delivery_id, newsletter_id, sent_at in rows:
                    if sent_at is None:
                        unsent[delivery_id] = (newsletter_id, None)
                    else:
                        self._deliveries[delivery_id] = (newsletter_id, sent_at.timestamp())
            for start in range(0, len(missing_newsletters), CHUNK):
                chunk = missing_newsletters[start : start + CHUNK]
                rows = connection.execute(
                    select(Newsletter.id, Newsletter.sent_at).where(col(Newsletter.id).in_(chunk))
                ).all()
                for newsletter_id, sent_at in rows:
                    if sent_at is None:
                        undated.add(newsletter_id)
                    else:
                        self._newsletters[newsletter_id] = sent_at.timestamp()
        return unsent, undated

    def _write(self, hits: Sequence[PendingHit]) -> None:
        rows = [_row(hit) for hit in hits]
        table: Any = Hit.__table__  # type: ignore[attr-defined]
        try:
            with self.engine.begin() as connection:
                for start in range(0, len(rows), CHUNK):
                    connection.execute(insert(table), rows[start : start + CHUNK])
        except IntegrityError:
            # A row names something deleted meanwhile (a newsletter): write the others one by one.
            written = 0
            for row in rows:
                try:
                    with self.engine.begin() as connection:
                        connection.execute(insert(table), [row])
                    written += 1
                except IntegrityError:
                    self.dropped += 1
            self.written += written
            return
        self.written += len(rows)


def _row(hit: PendingHit) -> dict[str, Any]:
    return {
        "at": datetime.fromtimestamp(hit.at, UTC),
        "kind": hit.kind,
        "classification": hit.classification,
        "reason": hit.reason,
        "newsletter_id": hit.newsletter_id,
        "delivery_id": hit.delivery_id,
        "link_id": hit.link_id,
        "user_agent": hit.user_agent[:500],
        "ip_prefix": hit.ip_prefix[:50],
    }
