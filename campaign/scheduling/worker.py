"""The send worker: every ``campaign serve`` helps send the newsletters left ``sending``.

The scheduler starts a newsletter at its time; from then on its delivery rows are the queue, and
any process may take rows from it (the queue claims them with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL). So every few seconds each process looks for newsletters with rows to send and sends
them: several machines share a big newsletter, and one that was interrupted (a crash, a stop, a
refused login) is resumed without anyone typing a command. Messages a server deferred wait
for their next attempt (``[mail] retry_minutes``) before they are tried again. A post left
half-published by a process that died is finished the same way once its claim is stale.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlmodel import Session

from campaign.errors import CampaignError
from campaign.models import utcnow
from campaign.scheduling import actions
from campaign.scheduling.jobs import running_here
from campaign.scheduling.runtime import Runtime

log = logging.getLogger("campaign.scheduling")

MAX_BACKOFF = timedelta(minutes=10)


class SendWorker(threading.Thread):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(name="send-worker", daemon=True)
        self.runtime = runtime
        self.failures: dict[int, tuple[int, datetime]] = {}  # newsletter -> (count, retry at)

    def run(self) -> None:
        interval = self.runtime.settings.scheduler.send_interval
        while not self.runtime.stopping.wait(interval):
            try:
                self.tick()
            except Exception:  # the database went away, a bug: log it and look again later
                log.exception("send worker: unexpected error")

    def resume_posts(self) -> None:
        """Finish the posts a crashed process left half-published (a thread resumes where it
        stopped: parts already on X are not sent again)."""
        with Session(self.runtime.engine, expire_on_commit=False) as session:
            for post_id in actions.posts_to_resume(session, self.runtime.settings):
                try:
                    post = actions.publish_post_job(self.runtime, session, post_id)
                except CampaignError as exc:
                    log.warning("send worker: post %s not resumed: %s", post_id, exc)
                    continue
                log.info("send worker: post %s resumed and published", post.id)

    def tick(self) -> int:
        """Help every newsletter that has rows to send now; the messages handled."""
        self.resume_posts()
        now = utcnow()
        with Session(self.runtime.engine) as session:
            waiting = actions.newsletters_to_help(session, self.runtime.settings)
        handled = 0
        for newsletter_id in waiting:
            if self.runtime.stopping.is_set():
                break
            failures, retry_at = self.failures.get(newsletter_id, (0, now))
            if retry_at > now or running_here(f"newsletter:{newsletter_id}"):
                continue  # waiting after a failure, or our own job is sending it already
            try:
                summary = actions.send_newsletter_job(self.runtime, newsletter_id)
            except actions.ServiceStopping:
                log.info(
                    "send worker: newsletter %s: stopped with the service, left to resume (the "
                    "next start sends the rest)",
                    newsletter_id,
                )
                break
            except CampaignError as exc:
                delay = min(timedelta(seconds=5 * 2**failures), MAX_BACKOFF)
                self.failures[newsletter_id] = (failures + 1, utcnow() + delay)
                log.warning(
                    "send worker: newsletter %s: %s (next try in %s)", newsletter_id, exc, delay
                )
                continue
            self.failures.pop(newsletter_id, None)
            handled += summary.handled
            if summary.handled:
                log.info(
                    "send worker: newsletter %s: %d sent, %d deferred, %d bounced, %d failed; "
                    "status %s",
                    newsletter_id,
                    summary.sent,
                    summary.deferred,
                    summary.bounced,
                    summary.failed,
                    summary.status,
                )
        return handled
