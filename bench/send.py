"""Benchmark: sending personalised newsletters through SMTP, beside a naive baseline and the
ceiling, in one run.

A local aiosmtpd sink runs in its own process (it accepts and discards). Every measurement runs
in a fresh child process, so its CPU time (user + sys of the process itself, all its threads,
from ``resource.getrusage(RUSAGE_SELF)``) and its peak memory (``ru_maxrss``) are its own:

- **product**: ``campaign``'s real path on a SQLite database holding N subscribers and a
  newsletter of 20 events (the mois-ess template): snapshot the audience, then
  ``send_newsletter`` through the SMTP transport with ``--connections`` connections (claim rows
  in batches, personalise the compiled template, sign the tokens, splice the message bytes,
  push, record the replies). Rate and CPU are those of the send; memory is the whole process's.
- **baseline**: the naive way, one message at a time on one connection: the same
  personalisation and tokens, then an ``EmailMessage`` per recipient and ``smtplib`` (no
  database work, which only flatters it); timed on a sample and extrapolated.
- **ceiling**: one pre-built message's bytes pushed through the same transport and connections,
  with nothing else to do: what the sink and the SMTP exchange allow.
- **memory**: peak RSS of the product's process (snapshot + send) at ``--memory-small``
  (5,000) and at ``--memory-recipients`` (200,000 by default) recipients. Pushing 200,000
  messages through the sink would take the better part of an hour here, so these two runs send
  through a null transport that builds every message (bytes, DKIM off) and drops it: the whole
  per-recipient path but the socket. Both sizes are measured the same way, so the ratio is fair.
- **the command**: the real ``campaign newsletters send 1`` at ``--command-recipients`` (5,000),
  writing every message to the outbox maildir; its peak RSS is measured from outside (a fresh
  parent's ``RUSAGE_CHILDREN``): the whole command, Typer and its imports included.

Goals (issue #4): product ≥ 80% of the ceiling's rate, ≤ a tenth of the baseline's CPU per
message, peak memory at 200,000 within 20% of that at 5,000. Issue #22: the send peaks under
100 MB of resident memory at 5,000 and at 200,000 (printed for each memory run and the
command).

The machine is shared and its figures move from run to run, so the three phases run once per
round (``--rounds``, 3 by default), one round after another, and the goals are judged on each
phase's median; every round's figures are printed beside it.

Run: ``.venv/bin/python bench/send.py`` (``--recipients 2000 --memory-recipients 20000
--rounds 1`` for a quick look; ``--rounds 0 --kill-runs 0`` for the memory runs alone).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

EVENTS = 20
MEMORY_GOAL_MB = 100  # issue #22: a send peaks under 100 MB at 5,000 and at 200,000
HERE = Path(__file__).resolve()


# --- the sink -----------------------------------------------------------------------------------


def run_sink(port: int) -> None:
    """An SMTP server that accepts everything and keeps nothing (its own process)."""
    import signal

    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope) -> str:
            return "250 2.0.0 Ok: discarded"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


def run_recording_sink(port: int, journal: str) -> None:
    """A sink that writes one line per accepted message, ``time recipient``, to ``journal``
    (line-buffered, so a reader sees each line at once): the kill runs count copies from it."""
    import signal

    from aiosmtpd.controller import Controller

    out = open(journal, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    class Recording:
        async def handle_DATA(self, server, session, envelope) -> str:
            for address in envelope.rcpt_tos:
                out.write(f"{time.time():.6f} {address}\n")
            return "250 2.0.0 Ok: kept"

    controller = Controller(Recording(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    out.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the data -----------------------------------------------------------------------------------


def database_url(folder: Path, recipients: int) -> str:
    return f"sqlite:///{folder / f'bench-{recipients}.db'}"


def setup(url: str, recipients: int) -> None:
    """A database with ``recipients`` subscribers on one list, 20 events and a draft newsletter."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from campaign.db import open_database
    from campaign.models import Event, MailingList, Membership, Newsletter, Subscriber
    from campaign.models.base import utcnow

    engine = open_database(url)
    now = utcnow()
    with Session(engine) as session:
        mailing_list = MailingList(name="Newsletter nationale")
        session.add(mailing_list)
        for i in range(EVENTS):
            session.add(
                Event(
                    source_id=str(i),
                    title=f"Rencontre de l'économie sociale et solidaire n°{i}",
                    description="Une soirée d'échanges entre coopératives, associations et "
                    "habitants. " * 2,
                    starts_at=datetime(2016, 11, 7 + i % 5, 8 + i % 9, 30, tzinfo=UTC),
                    venue="Maison des associations",
                    city="Rennes",
                    postcode="35000",
                    region="Bretagne",
                    theme=("Se loger", "Travailler", "Consommer")[i % 3],
                    organiser_name=f"Coopérative {i}",
                    url=f"https://lemois-ess.org/evenements/{i}",
                    image_url=f"https://lemois-ess.org/images/{i}.jpg",
                )
            )
        session.flush()
        for start in range(0, recipients, 5000):
            chunk = range(start, min(recipients, start + 5000))
            session.execute(
                insert(Subscriber),
                [
                    {
                        "email": f"personne{n}@example.org",
                        "first_name": f"Prénom{n}",
                        "last_name": "Nom",
                        "organisation": "",
                        "region": "Bretagne",
                        "postcode": "",
                        "language": "fr",
                        "attributes": {},
                        "status": "active",
                        "source": "bench",
                        "created_at": now,
                        "updated_at": now,
                        "status_changed_at": now,
                    }
                    for n in chunk
                ],
            )
            session.execute(
                insert(Membership),
                [
                    {"subscriber_id": n + 1, "list_id": mailing_list.id, "subscribed_at": now}
                    for n in chunk
                ],
            )
        session.add(
            Newsletter(
                title="Le Mois de l'ESS, c'est maintenant !",
                subject="[[ recipient.first_name ]], vos évènements de novembre",
                template="mois-ess",
                list_ids=[mailing_list.id],
                event_rule={"max": EVENTS},
                content={"more_url": "https://lemois-ess.org/evenements"},
            )
        )
        session.commit()
    engine.dispose()


def settings_for(url: str, port: int, connections: int):
    from campaign.config import Settings

    settings = Settings()
    settings.database.url = url
    settings.mail.transport = "smtp"
    settings.mail.smtp.host = "127.0.0.1"
    settings.mail.smtp.port = port
    settings.mail.smtp.security = "none"
    settings.mail.smtp.connections = connections
    settings.mail.smtp.messages_per_connection = 100_000
    settings.web.allow_insecure_links = True  # links to 127.0.0.1: a local sink, on purpose
    # Over SMTP the sender must be a real one (the example domain is refused outside the outbox).
    settings.mail.from_address = "lemois@lemois-ess.org"
    settings.mail.postal_address = "CNCRESS, 34 bis rue Vignon, 75009 Paris"
    return settings


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the phases (each in its own process) -------------------------------------------------------


class NullTransport:
    """Builds every message and drops it: the product path without the socket."""

    def __init__(self) -> None:
        from campaign.mail import Composer

        self.composer = Composer()
        self.bytes = 0

    def send(self, messages, report=None):
        from campaign.mail import SendResult

        results = []
        for message in messages:
            self.bytes += len(self.composer.compose_smtp(message))
            results.append(SendResult(message.to, True, message.message_id, status="sent"))
        if report is not None:
            report(list(enumerate(results)))
        return results

    def close(self) -> None:
        pass


def phase_product(url: str, port: int, connections: int, null: bool) -> dict:
    from sqlmodel import Session

    from campaign.db import open_database
    from campaign.mail import open_transport
    from campaign.models import Newsletter
    from campaign.newsletters import queue

    settings = settings_for(url, port, connections)
    engine = open_database(url)
    with Session(engine) as session:
        newsletter = session.get(Newsletter, 1)
        queued = queue.snapshot(session, newsletter)
        session.commit()
    transport = NullTransport() if null else open_transport(settings)
    start_cpu, start = cpu(), time.perf_counter()
    try:
        summary = queue.send_newsletter(engine, 1, settings, transport)
    finally:
        transport.close()
    seconds, cpu_seconds = time.perf_counter() - start, cpu() - start_cpu
    assert summary.sent == queued, (summary, queued)
    return {
        "messages": summary.sent,
        "seconds": seconds,
        "rate": summary.sent / seconds,
        "cpu_ms": cpu_seconds / summary.sent * 1000,
        "peak_mb": peak_mb(),
    }


def phase_resume(url: str, port: int, connections: int) -> dict:
    """Send what a killed run left, its claims taken again at once (claim_timeout 0)."""
    from datetime import timedelta

    from campaign.db import open_database
    from campaign.mail import open_transport
    from campaign.newsletters import queue

    settings = settings_for(url, port, connections)
    transport = open_transport(settings)
    try:
        summary = queue.send_newsletter(
            open_database(url), 1, settings, transport, stale_after=timedelta(0)
        )
    finally:
        transport.close()
    return {"sent": summary.sent, "status": summary.status}


def _sample_people(url: str, sample: int):
    from sqlmodel import Session, select

    from campaign.db import open_database
    from campaign.models import Newsletter, Subscriber
    from campaign.newsletters.preview import compile_group

    engine = open_database(url)
    session = Session(engine)
    newsletter = session.get(Newsletter, 1)
    people = session.exec(select(Subscriber).order_by(Subscriber.id).limit(sample)).all()
    return session, newsletter, people, compile_group


def phase_baseline(url: str, port: int, sample: int) -> dict:
    """EmailMessage per recipient and smtplib, one at a time (same personalisation, tokens)."""
    from email import policy

    from campaign.mail import OutgoingMessage, build_message
    from campaign.newsletters.recipients import tracked_recipient
    from campaign.tracking.links import TrackedLinks
    from campaign.tracking.tokens import Signer

    settings = settings_for(url, port, 1)
    session, newsletter, people, compile_group = _sample_people(url, sample)
    compiled, _ = compile_group(session, newsletter, settings, "")
    links = TrackedLinks(
        public_url=settings.web.public_url,
        signer=Signer(["bench-key-" + "x" * 40]),
        newsletter_id=1,
        link_ids={url: n for n, url in enumerate(compiled.links)},
    )
    smtp = smtplib.SMTP("127.0.0.1", port)
    start_cpu, start = cpu(), time.perf_counter()
    for number, person in enumerate(people, 1):
        rendered = compiled.personalise(tracked_recipient(links, person, number))
        message = build_message(
            OutgoingMessage(
                from_address="lemois@example.org",
                from_name="Le Mois de l'ESS",
                to=person.email,
                to_name=f"{person.first_name} {person.last_name}",
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                headers={
                    "List-Unsubscribe": f"<{links.unsubscribe_url(number)}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                message_id=f"<d{number}.n1@example.org>",
            )
        )
        smtp.sendmail("lemois@example.org", [person.email], message.as_bytes(policy=policy.SMTP))
    seconds, cpu_seconds = time.perf_counter() - start, cpu() - start_cpu
    smtp.quit()
    return {
        "messages": len(people),
        "seconds": seconds,
        "rate": len(people) / seconds,
        "cpu_ms": cpu_seconds / len(people) * 1000,
    }


def phase_ceiling(url: str, port: int, connections: int, messages: int) -> dict:
    """One pre-built message's bytes pushed through the same transport and connections."""
    from campaign.mail import Composer, OutgoingMessage, SmtpTransport
    from campaign.mail.mime import smtp_data

    settings = settings_for(url, port, connections)
    session, newsletter, people, compile_group = _sample_people(url, 1)
    compiled, _ = compile_group(session, newsletter, settings, "")
    from campaign.newsletters.render import Recipient

    rendered = compiled.personalise(Recipient(email=people[0].email, first_name="Prénom0"))
    sample = OutgoingMessage(
        from_address="lemois@example.org",
        to=people[0].email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id="<d1.n1@example.org>",
    )
    data = smtp_data(Composer().compose(sample))

    class Prebuilt(Composer):
        def compose_smtp(self, message) -> bytes:
            return data

    transport = SmtpTransport(settings.mail.smtp, composer=Prebuilt())
    batch = [
        OutgoingMessage(from_address="lemois@example.org", to=f"personne{n}@example.org",
                        subject="", text="", html="")
        for n in range(100)
    ]  # fmt: skip
    start_cpu, start = cpu(), time.perf_counter()
    sent = 0
    while sent < messages:
        sent += sum(result.ok for result in transport.send(batch))
    seconds, cpu_seconds = time.perf_counter() - start, cpu() - start_cpu
    transport.close()
    return {
        "messages": sent,
        "seconds": seconds,
        "rate": sent / seconds,
        "cpu_ms": cpu_seconds / sent * 1000,
        "bytes": len(data),
    }


# --- the run ------------------------------------------------------------------------------------


def child(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, str(HERE), *args], capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.exit(f"bench/send.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--memory-recipients", type=int, default=200_000)
    parser.add_argument("--memory-small", type=int, default=5000, help="the smaller memory run")
    parser.add_argument(
        "--command-recipients",
        type=int,
        default=5000,
        help="the real `campaign newsletters send` to the outbox at this size (0: skip)",
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--baseline-sample", type=int, default=1000)
    parser.add_argument("--ceiling-messages", type=int, default=5000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each phase (medians)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--null", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    parser.add_argument("--kill-runs", type=int, default=5, help="sends killed with SIGKILL")
    parser.add_argument("--kill-recipients", type=int, default=2000)
    options = parser.parse_args()

    os.environ.setdefault("CAMPAIGN_SECRET_KEY", "bench-secret-key-" + "x" * 40)
    if options.phase == "sink":
        run_sink(options.port)
        return
    if options.phase == "recording-sink":
        run_recording_sink(options.port, options.journal)
        return
    if options.phase:
        if options.phase == "setup":
            setup(options.url, options.recipients)
            result: dict = {}
        elif options.phase == "product":
            result = phase_product(options.url, options.port, options.connections, options.null)
        elif options.phase == "resume":
            result = phase_resume(options.url, options.port, options.connections)
        elif options.phase == "baseline":
            result = phase_baseline(options.url, options.port, options.baseline_sample)
        else:
            result = phase_ceiling(
                options.url, options.port, options.connections, options.ceiling_messages
            )
        print(json.dumps(result))
        return

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, str(HERE), "--phase", "sink", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    try:
        with tempfile.TemporaryDirectory() as folder:
            run(options, Path(folder), port)
    finally:
        sink.terminate()
        sink.wait()


def run(options: argparse.Namespace, folder: Path, port: int) -> None:
    if not options.rounds:  # --rounds 0: only the kill runs and the memory runs
        if options.kill_runs:
            kill_runs(options, folder)
        if not options.skip_memory:
            memory_runs(options, folder, port)
        return
    n, c = options.recipients, str(options.connections)
    rounds: list[dict[str, dict]] = []
    for number in range(1, options.rounds + 1):
        url = database_url(folder, n).replace(".db", f"-round{number}.db")
        print(f"round {number}: setting up {n:,} subscribers, {EVENTS} events…", file=sys.stderr)
        child("--phase", "setup", "--url", url, "--recipients", str(n))
        common = ["--url", url, "--port", str(port), "--connections", c]
        ceiling = child(
            "--phase", "ceiling", *common, "--ceiling-messages", str(options.ceiling_messages)
        )
        baseline = child(
            "--phase", "baseline", *common, "--baseline-sample", str(options.baseline_sample)
        )
        print(f"round {number}: sending {n:,} messages…", file=sys.stderr)
        product = child("--phase", "product", *common)
        rounds.append({"product": product, "baseline": baseline, "ceiling": ceiling})

    # This machine is shared: a figure can move by a third from one run to the next. Each
    # phase runs once per round, the rounds one after another, and the goals are judged on
    # the median of each phase (every round is printed).
    def median(name: str, key: str) -> float:
        return statistics.median(figures[name][key] for figures in rounds)

    product = {key: median("product", key) for key in ("rate", "cpu_ms", "seconds", "peak_mb")}
    baseline = {key: median("baseline", key) for key in ("rate", "cpu_ms")}
    ceiling = {key: median("ceiling", key) for key in ("rate", "cpu_ms")}
    print(f"send: {n:,} personalised messages, {EVENTS} events, {c} SMTP connections to a local "
          f"aiosmtpd sink (message ≈ {rounds[0]['ceiling']['bytes'] / 1024:.0f} KB), "
          f"{options.rounds} rounds")  # fmt: skip
    print(f"  {'':<10} {'messages':>9} {'msg/s':>8} {'CPU ms/msg':>11}   (each round)")
    for name, figures in (("product", product), ("baseline", baseline), ("ceiling", ceiling)):
        each = "  ".join(f"{one[name]['rate']:.0f}/{one[name]['cpu_ms']:.3f}" for one in rounds)
        print(
            f"  {name:<10} {rounds[0][name]['messages']:>9,} {figures['rate']:>8.0f} "
            f"{figures['cpu_ms']:>11.3f}   ({each})"
        )
    share = product["rate"] / ceiling["rate"]
    cpu_ratio = product["cpu_ms"] / baseline["cpu_ms"]
    print(
        f"  baseline timed on {options.baseline_sample:,} messages, extrapolated to {n:,}: "
        f"{n / baseline['rate']:.0f} s (product: {product['seconds']:.0f} s)"
    )
    verdict = "ok" if share >= 0.8 else "MISSED"
    print(f"  product at {share:.0%} of the ceiling (goal ≥ 80%, medians): {verdict}")
    print(
        f"  product CPU per message {cpu_ratio:.1%} of the baseline's (goal ≤ 10%, medians): "
        f"{'ok' if cpu_ratio <= 0.1 else 'MISSED'}"
    )
    print(f"  peak memory of the sending process: {product['peak_mb']:.0f} MB")
    if options.kill_runs:
        kill_runs(options, folder)
    if not options.skip_memory:
        memory_runs(options, folder, port)


def memory_runs(options: argparse.Namespace, folder: Path, port: int) -> None:
    """Peak memory of a send at two sizes (null transport), then of the real command."""
    sizes = [options.memory_small, options.memory_recipients]
    peaks = []
    for size in sizes:
        size_url = database_url(folder, size).replace(".db", "-memory.db")
        print(f"memory run at {size:,} (null transport)…", file=sys.stderr)
        child("--phase", "setup", "--url", size_url, "--recipients", str(size))
        peaks.append(child("--phase", "product", "--url", size_url, "--port", str(port), "--null"))
    growth = peaks[1]["peak_mb"] / peaks[0]["peak_mb"] - 1
    print(
        f"memory (snapshot + send, null transport): peak {peaks[0]['peak_mb']:.0f} MB at "
        f"{sizes[0]:,}, {peaks[1]['peak_mb']:.0f} MB at {sizes[1]:,} ({growth:+.0%}; goal ≤ +20%): "
        f"{'ok' if growth <= 0.2 else 'MISSED'}; built {peaks[1]['rate']:.0f} msg/s, "
        f"{peaks[1]['cpu_ms']:.3f} ms CPU per message without the socket"
    )
    for size, peak in zip(sizes, peaks, strict=True):
        verdict = "ok" if peak["peak_mb"] < MEMORY_GOAL_MB else "MISSED"
        print(
            f"  peak at {size:,}: {peak['peak_mb']:.0f} MB (goal < {MEMORY_GOAL_MB} MB): {verdict}"
        )
    if options.command_recipients:
        command_send(folder, options.command_recipients)


def command_send(folder: Path, recipients: int) -> None:
    """The real ``campaign newsletters send 1`` to the outbox (a maildir), its process's peak
    resident memory measured from outside (``RUSAGE_CHILDREN`` of a fresh parent)."""
    url = database_url(folder, recipients).replace(".db", "-command.db")
    print(f"campaign newsletters send at {recipients:,} (outbox)…", file=sys.stderr)
    child("--phase", "setup", "--url", url, "--recipients", str(recipients))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env.update(
        CAMPAIGN_SECRET_KEY=os.environ["CAMPAIGN_SECRET_KEY"],
        CAMPAIGN_DATABASE_URL=url,
        CAMPAIGN_MAIL_TRANSPORT="outbox",
        CAMPAIGN_MAIL_OUTBOX_DIR=str(folder / "outbox"),
    )
    campaign = str(Path(sys.executable).parent / "campaign")
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, campaign, "newsletter", "send", "1"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"campaign newsletters send failed:\n{result.stderr[-3000:]}")
    seconds, cpu_seconds, peak_kb = result.stdout.split()
    written = len(list((folder / "outbox" / "new").iterdir()))
    peak = int(peak_kb) / 1024
    print(
        f"campaign newsletters send 1 at {recipients:,} (outbox, {written:,} files): "
        f"{float(seconds):.0f} s, {float(cpu_seconds):.0f} s CPU, peak {peak:.0f} MB "
        f"(goal < {MEMORY_GOAL_MB} MB): {'ok' if peak < MEMORY_GOAL_MB else 'MISSED'}"
    )


# Runs a command in a fresh parent, so that the children's peak memory is that command's.
MEASURED = """
import resource, subprocess, sys, time
started = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
if result.returncode:
    sys.exit(result.stderr.decode(errors="replace"))
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


# --- kill -9 at a random moment, then resume -----------------------------------------------------

WINDOW = 0.05  # the commit window the goal allows (issue #18): group commits of at most 50 ms


def kill_runs(options: argparse.Namespace, folder: Path) -> None:
    """Each run: a send killed with SIGKILL once the sink has accepted a random number of its
    messages (between 5% and 95%), then a resume; the copies the sink received are counted.

    Goal: duplicates ≤ connections + the messages the sink accepted in the last commit window
    (50 ms) before the kill, in every run.
    """
    import random
    import signal

    n, c = options.kill_recipients, options.connections
    lines = []
    verdicts = []
    for number in range(1, options.kill_runs + 1):
        print(f"kill run {number}: {n:,} subscribers…", file=sys.stderr)
        url = database_url(folder, n).replace(".db", f"-kill{number}.db")
        child("--phase", "setup", "--url", url, "--recipients", str(n))
        journal = folder / f"kill{number}.journal"
        journal.touch()
        port = free_port()
        sink = subprocess.Popen(
            [sys.executable, str(HERE), "--phase", "recording-sink", "--port", str(port),
             "--journal", str(journal)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
            target = random.randint(n // 20, n * 19 // 20)
            sender = subprocess.Popen(
                [sys.executable, str(HERE), "--phase", "product", "--url", url, "--port",
                 str(port), "--connections", str(c)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + 600
            while _accepted(journal) < target:
                if sender.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"kill run {number}: the send ended before the kill")
                time.sleep(0.002)
            sender.send_signal(signal.SIGKILL)
            killed_at = time.time()
            sender.wait()
            time.sleep(0.2)  # the sink writes what was in flight
            at_kill = _copies(journal)
            moments = sorted(moment for moment, _ in _entries(journal))
            window = sum(1 for moment in moments if killed_at - WINDOW <= moment <= killed_at)
            after = sum(1 for moment in moments if moment > killed_at)
            unrecorded = _unrecorded(url, set(at_kill))
            if os.environ.get("BENCH_DEBUG"):
                print([round(m - killed_at, 4) for m in moments[-40:]], file=sys.stderr)
            child("--phase", "resume", "--url", url, "--port", str(port), "--connections", str(c))
            time.sleep(0.2)
            copies = _copies(journal)
        finally:
            sink.terminate()
            sink.wait()
        twice = sum(1 for count in copies.values() if count > 1)
        missing = n - len(copies)
        bound = c + window
        verdicts.append(twice <= bound and missing == 0 and max(copies.values()) <= 2)
        lines.append(
            f"    run {number}: killed after {sum(at_kill.values()):,} accepted; "
            f"{unrecorded} accepted but not recorded ({after} of them after the kill: in "
            f"flight); {twice} duplicate(s), {missing} missing; bound {c} connections + "
            f"{window} accepted in the last {WINDOW * 1000:.0f} ms = {bound}"
        )
    print(f"kill -9 at a random moment, then resume: {options.kill_runs} runs of {n:,}, {c} "
          f"connections (goal: duplicates ≤ connections + accepted in the commit window, every "
          f"run): {'ok' if all(verdicts) else 'MISSED'}")  # fmt: skip
    for line in lines:
        print(line)


def _unrecorded(url: str, accepted: set[str]) -> int:
    """Messages the sink accepted whose row the killed run had not committed as sent."""
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT email FROM delivery WHERE status = 'sent'")
        sent = {email for (email,) in rows}
    return len(accepted - sent)


def _entries(journal: Path) -> list[tuple[float, str]]:
    entries = []
    for line in journal.read_text().splitlines():
        moment, _, address = line.partition(" ")
        if address:
            entries.append((float(moment), address))
    return entries


def _accepted(journal: Path) -> int:
    with journal.open("rb") as lines:
        return sum(1 for _ in lines)


def _copies(journal: Path) -> dict[str, int]:
    copies: dict[str, int] = {}
    for _, address in _entries(journal):
        copies[address] = copies.get(address, 0) + 1
    return copies


if __name__ == "__main__":
    main()
