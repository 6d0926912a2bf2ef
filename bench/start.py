"""Benchmark of command start-up: how much a command costs before it does anything.

`campaign bounces ingest -` is run by the mail server for every bounce (a pipe, one process per
message). The goal (issues #18 and #22): one message ingested in under 0.3 s of CPU and 60 MB of
resident memory. Loading SQLAlchemy and the models alone costs more than that, so when `campaign
serve` runs, the command hands the message to it over its socket ([bounces] socket) before
importing anything heavy (:mod:`campaign.cli.handoff`), and ingests it itself only when no
service answers.

Printed side by side, each the fastest of ``--runs`` runs (wall time, CPU time, peak resident
memory of the command's process): ``python -c pass`` (the interpreter alone), ``campaign
--version`` (the floor of every command that parses its command line), ``campaign bounces
ingest`` of one delivery report **handed to a running service** (``campaign serve --no-web`` in
the same folder), the same **ingested alone** (no service: the in-process path, as before the
hand-off), and the baseline of importing every command group.

The goal is judged on the hand-off line, which is what a mail server pays per bounce when the
service runs. Honestly said: that line's CPU and memory are the command's only; the service's
own work for the message (parsing the report, the database transaction) is done in the service,
already running, and is printed apart ("service CPU per message", from /proc). Its wall time
includes waiting for the service's answer. The in-process line is printed for comparison: it is
what each bounce costs when the service is not running (it misses the goal).

Run: ``.venv/bin/python bench/start.py`` (``--runs 20``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_CPU_SECONDS = 0.3
TARGET_MB = 60
HANDED_OVER = "campaign bounces ingest, handed over"
BIN = Path(sys.executable).parent
REPORT = b"""From: MAILER-DAEMON@relay.example.org
To: bounce+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@example.org
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

The mail could not be delivered.
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.org

Final-Recipient: rfc822; nobody@example.net
Action: failed
Status: 5.1.1
--b--
"""
ALL_GROUPS = (
    "import typer.main, campaign.cli as c; [c.load_command(name) for name in c.LAZY_COMMANDS]"
)


# Runs the command in a fresh parent, so that the children's peak memory is this command's.
WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdin=sys.stdin, capture_output=True)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
if result.returncode:
    sys.exit(result.stderr.decode(errors="replace"))
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def measure(argv: list[str], folder: Path, stdin: bytes = b"") -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of one run of ``argv``."""
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv], cwd=folder, input=stdin, capture_output=True
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {result.stderr.decode(errors='replace')}")
    wall, cpu, peak_kb = result.stdout.split()
    return float(wall), float(cpu), int(peak_kb) // 1024


def start_service(campaign: str, folder: Path) -> subprocess.Popen:
    """``campaign serve --no-web`` in ``folder``, once its bounce socket answers."""
    service = subprocess.Popen(
        [campaign, "serve", "--no-web"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.poll() is not None:
            sys.exit(f"campaign serve exited: {service.communicate()[1].decode()}")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(folder / "bounces.sock"))
                return service
            except OSError:
                time.sleep(0.1)
    service.kill()
    sys.exit("campaign serve never listened on its bounce socket")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def best(argv: list[str], folder: Path, stdin: bytes, runs: int) -> tuple[float, float, int]:
    """Fastest wall and CPU, highest peak memory of ``runs`` runs."""
    measured = [measure(argv, folder, stdin) for _ in range(runs)]
    return (
        min(r[0] for r in measured),
        min(r[1] for r in measured),
        max(r[2] for r in measured),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    campaign = str(BIN / "campaign")
    ingest = [campaign, "bounces", "ingest", "-"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["CAMPAIGN_SECRET_KEY"] = "bench-start-key-not-secret-0123456789"
        subprocess.run([campaign, "init"], cwd=folder, capture_output=True, check=True)
        figures: dict[str, tuple[float, float, int]] = {}
        figures["python -c pass"] = best([sys.executable, "-c", "pass"], folder, b"", args.runs)
        figures["campaign --version"] = best([campaign, "--version"], folder, b"", args.runs)
        service = start_service(campaign, folder)
        try:
            before = process_cpu(service.pid)
            figures[HANDED_OVER] = best(ingest, folder, REPORT, args.runs)
            service_cpu = (process_cpu(service.pid) - before) / args.runs
        finally:
            service.terminate()
            service.wait(timeout=60)
        figures["campaign bounces ingest, alone (in-process)"] = best(
            ingest, folder, REPORT, args.runs
        )
        figures["baseline: every command group imported"] = best(
            [sys.executable, "-c", ALL_GROUPS], folder, b"", args.runs
        )
    print(f"Start-up, fastest of {args.runs} runs; peak RSS: the highest")
    print(f"{'command':<44} {'wall':>8} {'CPU':>8} {'peak RSS':>9}")
    for label, (wall, cpu, peak) in figures.items():
        print(f"{label:<44} {wall:>7.3f}s {cpu:>7.3f}s {peak:>6} MB")
    print(
        f"service CPU per message handed over (the service's side, not counted above): "
        f"{service_cpu:.3f} s"
    )
    _wall, cpu, peak = figures[HANDED_OVER]
    met = cpu < TARGET_CPU_SECONDS and peak < TARGET_MB
    print(
        f"Goal (one bounce under {TARGET_CPU_SECONDS} s of CPU and {TARGET_MB} MB, judged on the "
        f"hand-off line): {'met' if met else 'MISSED'} ({cpu:.3f} s, {peak} MB)."
        + ("" if met else " A busy machine adds time: run it again on a quiet one.")
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
