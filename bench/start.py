"""Benchmark of command start-up: how long a command takes before it does anything.

`campaign bounces ingest` is run by the mail server for every bounce (a pipe, one process per
message) and `campaign --version` is the floor of every command: both must start in under
0.3 s on a quiet machine. The root command loads each command group only when it is run, so a
command imports the libraries it needs and not FastAPI, the dashboard, MJML or X's text rules.

Printed side by side, each the fastest of ``--runs`` runs (wall time, CPU time, peak resident
memory): ``python -c pass`` (the interpreter alone), ``campaign --version``, ``campaign bounces
ingest`` reading one delivery report in an initialised folder, and the baseline of importing
every command group, as every command did before groups were loaded lazily.

Run: ``.venv/bin/python bench/start.py`` (``--runs 20``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_SECONDS = 0.3
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    campaign = str(BIN / "campaign")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["CAMPAIGN_SECRET_KEY"] = "bench-start-key-not-secret-0123456789"
        subprocess.run([campaign, "init"], cwd=folder, capture_output=True, check=True)
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"], b""),
            ("campaign --version", [campaign, "--version"], b""),
            ("campaign bounces ingest (one report)", [campaign, "bounces", "ingest", "-"], REPORT),
            ("baseline: every command group imported", [sys.executable, "-c", ALL_GROUPS], b""),
        ]
        print(f"Start-up, fastest of {args.runs} runs (goal: under {TARGET_SECONDS} s)")
        print(f"{'command':<42} {'wall':>8} {'CPU':>8} {'peak RSS':>9}")
        missed = []
        for label, argv, stdin in cases:
            runs = [measure(argv, folder, stdin) for _ in range(args.runs)]
            wall = min(r[0] for r in runs)
            cpu = min(r[1] for r in runs)
            peak = max(r[2] for r in runs)
            print(f"{label:<42} {wall:>7.3f}s {cpu:>7.3f}s {peak:>6} MB")
            if label.startswith("campaign") and wall >= TARGET_SECONDS:
                missed.append(label)
        print(
            "Goal met."
            if not missed
            else f"Goal missed by: {', '.join(missed)} (a busy machine "
            "adds time: run it again on a quiet one)."
        )
        sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
