"""The long-running service: scheduler (when this process leads) and send worker, in threads.

:class:`Service` is started by ``campaign serve`` next to the web app. Its leader thread tries
to take the lead (:mod:`.leader`); while it leads it runs APScheduler and, every
``[scheduler] poll_interval`` seconds, matches the jobs to the rows (:func:`.jobs.reconcile`)
and checks the lead is still held. The send worker runs in every process.

Stopping (SIGTERM, Ctrl-C) is graceful: no new job starts, sends stop after their current batch
(every row either recorded or back in the queue, so the next start resumes them), a post being
published finishes, and the lead is released so a standby takes over at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from campaign.config import Settings
from campaign.db import open_database
from campaign.scheduling import jobs, runtime
from campaign.scheduling.leader import Leadership, leadership_for
from campaign.scheduling.runtime import Runtime
from campaign.scheduling.worker import SendWorker

log = logging.getLogger("campaign.scheduling")


class Service:
    """Scheduler and send worker of one process; :meth:`start` returns, :meth:`stop` waits."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        leadership: Leadership | None = None,
        worker: bool = True,
    ) -> None:
        self.runtime = Runtime(settings, engine or open_database(settings.database.url))
        self.leadership = leadership or leadership_for(settings.database.url)
        self.scheduler: BackgroundScheduler | None = None
        self.worker = SendWorker(self.runtime) if worker else None
        self._leader_thread = threading.Thread(
            target=self._lead, name="scheduler-leader", daemon=True
        )
        self.leading = threading.Event()

    def start(self) -> None:
        runtime.install(self.runtime)
        if self.worker is not None:
            self.worker.start()
        self._leader_thread.start()

    def _lead(self) -> None:
        settings = self.runtime.settings.scheduler
        stopping = self.runtime.stopping
        said_standing_by = False
        while not stopping.is_set():
            try:
                if self.scheduler is None:
                    if self.leadership.try_acquire():
                        self._begin()
                    elif not said_standing_by:  # once: it tries again every leader_retry
                        log.info(
                            "scheduler: another process leads (%s); standing by",
                            self.leadership.description,
                        )
                        said_standing_by = True
                elif not self.leadership.still_held():
                    log.warning(
                        "scheduler: lost the lead (%s); standing by", self.leadership.description
                    )
                    self._end(wait=False)
                else:
                    jobs.reconcile(self.scheduler, self.runtime)
            except Exception:  # the database went away, a bug: log it, try again later
                log.exception("scheduler: unexpected error")
            stopping.wait(settings.poll_interval if self.scheduler else settings.leader_retry)

    def _begin(self) -> None:
        scheduler = jobs.make_scheduler(self.runtime)
        scheduler.start(paused=True)
        self.scheduler = scheduler
        jobs.reconcile(scheduler, self.runtime)  # arm everything before the first run
        scheduler.resume()
        self.leading.set()
        log.info("scheduler: this process leads (%s)", self.leadership.description)

    def _end(self, *, wait: bool) -> None:
        scheduler, self.scheduler = self.scheduler, None
        self.leading.clear()
        if scheduler is not None:
            jobs.stop_scheduler(scheduler, wait=wait)
        self.leadership.release()

    def stop(self) -> None:
        """Stop gracefully (see the module docstring); safe to call twice."""
        self.runtime.stopping.set()
        self._leader_thread.join()
        self._end(wait=True)
        if self.worker is not None and self.worker.is_alive():
            self.worker.join()
        runtime.install(None)
        log.info("scheduler: stopped")


def catch_stop_signals() -> threading.Event:
    """From now on, SIGTERM and SIGINT set the returned event instead of killing the process.

    Called before anything is started (the bounce socket answers before the scheduler is up),
    so that a stop asked during start-up is a graceful stop once started, not a death by signal.
    """
    asked = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        asked.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return asked


def wait_for_signal(asked: threading.Event | None = None) -> None:
    """Block until SIGTERM or SIGINT (the main thread's way to run until asked to stop);
    ``asked``: the event of :func:`catch_stop_signals`, when they are caught already."""
    if asked is not None:
        while not asked.wait(0.5):
            pass
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    caught = catch_stop_signals()
    try:
        while not caught.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_service(
    settings: Settings,
    *,
    engine: Engine | None = None,
    web: Callable[[], None] | None = None,
    scheduler: bool = True,
    asked: threading.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT: the scheduler service in threads, the web app (if given) in
    the main thread.

    ``web`` blocks while serving and returns when it was asked to stop (uvicorn handles the
    signals itself); without it this process waits for the signal. Either way the scheduler is
    then stopped gracefully. ``asked``: see :func:`wait_for_signal`.
    """
    service = Service(settings, engine=engine) if scheduler else None
    if service is not None:
        service.start()
    try:
        if web is not None:
            web()
        else:
            wait_for_signal(asked)
    finally:
        if service is not None:
            service.stop()
