"""``campaign bounces ingest``: read bounce and complaint reports, apply them to deliveries;
read the mailto unsubscribe requests that reach the same mailbox."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.exc import OperationalError

from campaign.bounces import IngestOutcome, UnreadableNotice, ingest_notice, record_unreadable
from campaign.cli import common
from campaign.cli.common import JsonOption, err_console
from campaign.cli.handoff import PIPE_RECIPIENT_ENV
from campaign.errors import CampaignError
from campaign.tracking.tokens import signer_for

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from campaign.config import Settings
    from campaign.tracking.tokens import Signer

SessionScope = Callable[[], AbstractContextManager["Session"]]

app = typer.Typer(help="Bounces and complaints received after sending.")

EX_TEMPFAIL = 75  # sysexits.h: temporary failure, the delivering MTA tries again later
PROBLEMS_FOLDER = ".Problemes"  # where a maildir's unreadable messages are set aside


@dataclass
class _Message:
    """One message to ingest: its name, its bytes (None when unreadable) and its maildir file."""

    name: str
    data: bytes | None
    path: Path | None = None  # in a maildir: moved to cur/ once read, or set aside
    new: bool = False  # in new/: marked read once ingested
    problem: str = ""


def _messages(source: str | None, maildir: Path | None) -> list[_Message]:
    """Every message to ingest, in order; a maildir file that cannot be read is kept with the
    reason, to be set aside like a message that cannot be parsed."""
    found: list[_Message] = []
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)  # bytes as the MTA wrote them
        data: bytes | None = (
            stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        )
        found.append(_Message("<stdin>", data))
    elif source:
        path = Path(source)
        try:
            found.append(_Message(str(path), path.read_bytes()))
        except OSError as exc:
            raise CampaignError(f"Cannot read {path}: {exc.strerror}.") from None
    if maildir is not None:
        if not (maildir / "new").is_dir() or not (maildir / "cur").is_dir():
            raise CampaignError(f"{maildir} is not a maildir (it needs new/ and cur/ folders).")
        for folder in ("new", "cur"):
            for path in sorted((maildir / folder).iterdir()):
                if not path.is_file() or path.name.startswith("."):
                    continue
                try:
                    data = path.read_bytes()
                    problem = ""
                except OSError as exc:
                    data, problem = None, f"it cannot be read from disk ({exc.strerror})"
                found.append(_Message(str(path), data, path, folder == "new", problem))
    if source is None and maildir is None:
        raise CampaignError("Give a FILE, - for standard input, or --maildir DIR.")
    return found


def _seen(path: Path) -> None:
    """Move a maildir message from new/ to cur/ with the Seen flag, as a mail reader would."""
    name = path.name if ":2," in path.name else f"{path.name}:2,S"
    path.rename(path.parent.parent / "cur" / name)


def _set_aside(path: Path) -> Path:
    """Move a message that could not be read into the maildir's ``.Problemes`` folder (a
    Maildir++ subfolder that mail readers show), unread, so later runs never meet it again."""
    folder = path.parent.parent / PROBLEMS_FOLDER
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    name = path.name.split(":2,", 1)[0] + ":2,"
    target = folder / "cur" / name
    path.rename(target)
    return target


def _describe(outcome: IngestOutcome) -> str:
    if outcome.ignored:
        return f"{outcome.source}: ignored ({outcome.note or 'nothing failed'})"
    lines = []
    for failure in outcome.failures:
        what = {
            "hard": "hard bounce",
            "soft": "transient failure",
            "complaint": "complaint",
            "unsubscribe": "unsubscribe (mailto)",
        }[failure.kind]
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


def _database_down(name: str, exc: OperationalError) -> str:
    return (
        f"Error: the database cannot be reached ({type(exc.orig).__name__}); "
        f"{name} was not ingested. Exit status 75 asks a mail server to retry later."
    )


@dataclass
class Printed:
    """What an ingest run prints and its exit status: the same whether the command ran it or
    the running service did for it (see :mod:`campaign.cli.handoff`)."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    status: int = 0

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "stdout": _text(self.out), "stderr": _text(self.err)}


def _text(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _ingest_one(
    message: _Message,
    signer: Signer,
    settings: Settings,
    envelope: list[str],
    session_scope: SessionScope,
) -> IngestOutcome:
    """Apply one message, or raise UnreadableNotice when it cannot be read or recorded.

    Only an unreachable database (OperationalError) escapes otherwise: then nothing of this
    message is stored and the run stops with exit status 75, so a mail server tries again.
    """
    if message.data is None:
        raise UnreadableNotice(message.problem)
    try:
        with session_scope() as session:
            return ingest_notice(
                session,
                message.data,
                signer,
                settings,
                source=message.name,
                extra_addresses=envelope if message.name == "<stdin>" else None,
            )
    except (UnreadableNotice, OperationalError):
        raise
    except Exception as exc:  # hostile content the database refused: never block the others
        raise UnreadableNotice(f"it could not be recorded ({type(exc).__name__})") from exc


def _set_aside_one(
    message: _Message, reason: UnreadableNotice, session_scope: SessionScope, printed: Printed
) -> IngestOutcome:
    """Keep an unreadable message as an 'unreadable' bounce row and move it out of the way.

    Raises CampaignError for a file named by hand (its user reads the reason at once) and
    OperationalError when the database is down.
    """
    if message.name != "<stdin>" and message.path is None:  # a file named by hand
        raise CampaignError(f"{message.name} cannot be read: {reason}.") from None
    with session_scope() as session:
        outcome = record_unreadable(session, message.data or b"", str(reason), source=message.name)
    where = ""
    if message.path is not None:
        where = f"; moved to {_set_aside(message.path)}"
    printed.err.append(f"{message.name}: set aside, {reason}{where}.")
    return outcome


def run_ingest(
    messages: list[_Message],
    settings: Settings,
    session_scope: SessionScope,
    envelope: list[str],
    json_output: bool,
) -> Printed:
    """Ingest ``messages`` in order and say what they did, as ``campaign bounces ingest``
    prints it; the status is 75 when the database went away (what was done stays done).

    Raises CampaignError when a file named by hand cannot be read.
    """
    signer = signer_for(settings)
    printed = Printed()
    outcomes: list[IngestOutcome] = []
    set_aside = 0
    for message in messages:
        try:
            try:
                outcome = _ingest_one(message, signer, settings, envelope, session_scope)
            except UnreadableNotice as exc:
                outcomes.append(_set_aside_one(message, exc, session_scope, printed))
                set_aside += 1
                continue
        except OperationalError as exc:  # the database is down: let the mail server retry
            printed.err.append(_database_down(message.name, exc))
            printed.status = EX_TEMPFAIL
            return printed
        if message.new and message.path is not None:
            _seen(message.path)
        outcomes.append(outcome)
    if json_output:
        printed.out.append(
            json.dumps([outcome.as_json() for outcome in outcomes], ensure_ascii=False, indent=2)
        )
    else:
        for outcome in outcomes:
            if not outcome.unreadable:
                (printed.err if outcome.ignored else printed.out).append(_describe(outcome))
    if set_aside:
        printed.err.append(
            f"{set_aside} message(s) could not be read and were set aside "
            "(kept in the bounce table as 'unreadable')."
        )
    return printed


def ingest_handed_over(
    data: bytes,
    source: str,
    envelope: list[str],
    json_output: bool,
    settings: Settings,
    engine: Engine,
) -> Printed:
    """One message the ``bounces ingest`` command handed to the running service: ingested by
    the very code of the command, against the service's database (see
    :mod:`campaign.cli.bounce_service`)."""
    from campaign.db import session_scope

    def scope() -> AbstractContextManager[Session]:
        return session_scope(engine)

    try:
        return run_ingest([_Message(source, data)], settings, scope, envelope, json_output)
    except CampaignError as exc:
        return Printed(err=[f"Error: {exc}"], status=1)


def _write(printed: Printed) -> None:
    """Print a run's lines as they are (a mail server's log keeps them whole, never wrapped)."""
    sys.stdout.write(_text(printed.out))
    sys.stdout.flush()
    sys.stderr.write(_text(printed.err))
    sys.stderr.flush()


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
    """Apply delivery status notifications and complaint (ARF) reports to deliveries, and
    unsubscribe people who wrote to the mailto address of List-Unsubscribe (unsubscribe+TOKEN).

    Usable as a mail server pipe: `| campaign bounces ingest -`. When `campaign serve` runs, a
    message from standard input or a file is handed to it over its socket (\\[bounces] socket),
    which spares loading the database libraries for every bounce; otherwise it is ingested
    here, the same way. Exits 0 when every message was understood, deliberately ignored (not a
    report) or set aside (unreadable: moved to the maildir's .Problemes folder, kept as an
    'unreadable' bounce row); 75 when the database cannot be reached, so that a mail server
    tries again later. The same report twice changes nothing.
    """
    messages = _messages(source, maildir)
    settings = common.settings()
    envelope = [os.environ[name] for name in PIPE_RECIPIENT_ENV if os.environ.get(name)]
    try:
        common.engine()
    except CampaignError as exc:  # a mail server keeps the message and tries again later
        err_console.print(f"Error: {exc}\nNothing was ingested; exit status 75.", highlight=False)
        raise typer.Exit(EX_TEMPFAIL) from None
    printed = run_ingest(messages, settings, common.session, envelope, json_output)
    _write(printed)
    if printed.status:
        raise typer.Exit(printed.status)
