"""``campaign newsletters send`` and ``resume``'s run of the queue: the progress bar, the stop
on SIGTERM and the summary printed after it."""

from __future__ import annotations

import signal
from typing import Any

from campaign.cli import common
from campaign.cli.common import console, err_console
from campaign.mail import SmtpTransport, open_transport
from campaign.models import NewsletterStatus
from campaign.newsletters import queue


def summary_json(summary: queue.SendSummary, added: int = 0) -> dict[str, Any]:
    return {
        "newsletter": summary.newsletter_id,
        "queued": added,
        "sent": summary.sent,
        "deferred": summary.deferred,
        "bounced": summary.bounced,
        "failed": summary.failed,
        "left_out": summary.left_out,
        "remaining": summary.remaining,
        "waiting": summary.waiting,
        "next_attempt_at": (
            summary.next_attempt_at.isoformat() if summary.next_attempt_at else None
        ),
        "status": summary.status,
        "stopped": summary.stopped,
    }


def run_queue(newsletter_id: int, json_output: bool, added: int = 0) -> None:
    """Send what the newsletter's queue holds, a progress bar on standard error, then say how
    it went."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    settings = common.settings()
    transport = open_transport(settings)
    if isinstance(transport, SmtpTransport):
        transport.stop_on_signals = True  # a stop waits for the replies of the messages in flight
    bar = Progress(
        TextColumn("Sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err_console,
        disable=json_output,
    )
    task = bar.add_task("send", total=None, rate="")

    def progress(done: int, total: int) -> None:
        speed = bar.tasks[0].speed
        bar.update(task, completed=done, total=total, rate=f"{speed:.1f} msg/s" if speed else "")

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # a service manager's stop ends the batch cleanly, like Ctrl-C

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with bar:
            summary = queue.send_newsletter(
                common.engine(), newsletter_id, settings, transport, progress
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
        transport.close()
    if json_output:
        common.print_json(summary_json(summary, added))
        return
    _print_summary(newsletter_id, summary, settings)


def _print_summary(newsletter_id: int, summary: queue.SendSummary, settings: Any) -> None:
    console.print(
        f"Newsletter {newsletter_id}: {summary.sent} sent, {summary.deferred} deferred, "
        f"{summary.bounced} bounced, {summary.failed} failed"
        f"{f', {summary.left_out} left out (no event for them)' if summary.left_out else ''}; "
        f"{summary.remaining} left to send; status {summary.status}.",
        highlight=False,
    )
    if summary.waiting and summary.next_attempt_at and summary.status == NewsletterStatus.sending:
        when = summary.next_attempt_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        console.print(
            f"{summary.waiting} deferred message(s) wait for a new try, the first at {when} "
            f"({settings.general.timezone}): run `campaign newsletters send {newsletter_id}` "
            "then.",
            highlight=False,
        )
