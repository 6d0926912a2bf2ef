"""``campaign bounces ingest``: read bounce and complaint reports, apply them to deliveries."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError

from campaign.bounces import IngestOutcome, ingest_report
from campaign.cli import common
from campaign.cli.common import JsonOption, console, err_console
from campaign.errors import CampaignError
from campaign.tracking.tokens import signer_for

app = typer.Typer(help="Bounces and complaints received after sending.")

EX_TEMPFAIL = 75  # sysexits.h: temporary failure, the delivering MTA tries again later

# Envelope recipients a delivering MTA's pipe sets (Postfix pipe(8), Exim pipe transport).
_PIPE_RECIPIENT_ENV = ("ORIGINAL_RECIPIENT", "RECIPIENT", "LOCAL_PART_SUFFIX")


def _messages(source: str | None, maildir: Path | None) -> list[tuple[str, bytes, Path | None]]:
    """(name, bytes, maildir file to mark as read) of every message to ingest."""
    found: list[tuple[str, bytes, Path | None]] = []
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)  # bytes as the MTA wrote them
        data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        found.append(("<stdin>", data, None))
    elif source:
        path = Path(source)
        try:
            found.append((str(path), path.read_bytes(), None))
        except OSError as exc:
            raise CampaignError(f"Cannot read {path}: {exc.strerror}.") from None
    if maildir is not None:
        if not (maildir / "new").is_dir() or not (maildir / "cur").is_dir():
            raise CampaignError(f"{maildir} is not a maildir (it needs new/ and cur/ folders).")
        for folder in ("new", "cur"):
            for path in sorted((maildir / folder).iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    found.append((str(path), path.read_bytes(), path if folder == "new" else None))
    if source is None and maildir is None:
        raise CampaignError("Give a FILE, - for standard input, or --maildir DIR.")
    return found


def _seen(path: Path) -> None:
    """Move a maildir message from new/ to cur/ with the Seen flag, as a mail reader would."""
    name = path.name if ":2," in path.name else f"{path.name}:2,S"
    path.rename(path.parent.parent / "cur" / name)


def _describe(outcome: IngestOutcome) -> str:
    if outcome.ignored:
        return f"{outcome.source}: ignored ({outcome.note or 'nothing failed'})"
    lines = []
    for failure in outcome.failures:
        what = {"hard": "hard bounce", "soft": "transient failure", "complaint": "complaint"}[
            failure.kind
        ]
        code = f" ({failure.status})" if failure.status else ""
        if failure.duplicate:
            effect = "already recorded, nothing changed"
        elif failure.delivery_id is None:
            effect = "no delivery matched; recorded"
        else:
            effect = f"delivery {failure.delivery_id} by {failure.matched_by}: " + (
                ", ".join(failure.changes) or "recorded, nothing to change"
            )
        lines.append(f"{outcome.source}: {what} of {failure.email or '?'}{code}; {effect}")
    return "\n".join(lines)


@app.command()
def ingest(
    source: str = typer.Argument(
        None,
        metavar="[FILE|-]",
        help="A message file (.eml), or - to read one from standard input.",
    ),
    maildir: Path = typer.Option(
        None, "--maildir", help="Read every message of this maildir (new ones are marked read)."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Apply delivery status notifications and complaint (ARF) reports to deliveries.

    Usable as a mail server pipe: `| campaign bounces ingest -`. Exits 0 when every message was
    understood or deliberately ignored (not a report); the same report twice changes nothing.
    """
    messages = _messages(source, maildir)
    settings = common.settings()
    signer = signer_for(settings)
    envelope = [os.environ[name] for name in _PIPE_RECIPIENT_ENV if os.environ.get(name)]
    try:
        common.engine()
    except CampaignError as exc:  # a mail server keeps the message and tries again later
        err_console.print(f"Error: {exc}\nNothing was ingested; exit status 75.", highlight=False)
        raise typer.Exit(EX_TEMPFAIL) from None
    outcomes: list[IngestOutcome] = []
    for name, data, new_file in messages:
        if not data.strip():
            raise CampaignError(f"{name} is empty: no message to read.")
        if b":" not in data.split(b"\n", 1)[0]:
            raise CampaignError(f"{name} is not an email message (it does not start with headers).")
        try:
            with common.session() as session:
                outcomes.append(
                    ingest_report(
                        session,
                        data,
                        signer,
                        settings,
                        source=name,
                        extra_addresses=envelope if name == "<stdin>" else None,
                    )
                )
        except OperationalError as exc:  # the database is down: let the mail server retry
            err_console.print(
                f"Error: the database cannot be reached ({type(exc.orig).__name__}); "
                f"{name} was not ingested. Exit status 75 asks a mail server to retry later.",
                highlight=False,
            )
            raise typer.Exit(EX_TEMPFAIL) from None
        if new_file is not None:
            _seen(new_file)
    if json_output:
        common.print_json([outcome.as_json() for outcome in outcomes])
        return
    for outcome in outcomes:
        (err_console if outcome.ignored else console).print(_describe(outcome), highlight=False)
