"""Import files kept between the dry run ("Essai") and the import, so nobody chooses them twice.

A file uploaded to the import page waits in ``[dashboard] import_dir``, each in a folder of its
own named by a random token (the only thing the page carries: never a path from the browser),
owner-only like every file holding personal data (:mod:`campaign.files`). It belongs to the
person who uploaded it: another account's token finds nothing. It is deleted once imported,
and in any case :data:`HOLD` after it was uploaded (every visit of the dashboard sweeps the
expired ones, see :meth:`HeldUploads.sweep`).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from campaign.files import make_private_folder, open_private, write_private
from campaign.models import utcnow

HOLD = timedelta(hours=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_META = ".upload.json"  # uploaded names never start with a dot (see upload_name)
_CHUNK = 1024 * 1024


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name (it goes to the consent log and the report), made safe."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .") or "import"
    return name[:120]


@dataclass(frozen=True)
class HeldFile:
    token: str
    path: Path  # the file, under its uploaded name made safe (the report and log name it)
    expires_at: datetime

    @property
    def name(self) -> str:
        return self.path.name


class HeldUploads:
    """The folder of kept import files; ``clock`` is the time (tests move it)."""

    def __init__(
        self, folder: str | Path, hold: timedelta = HOLD, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.folder = Path(folder)
        self.hold = hold
        self.clock = clock

    def keep(self, stream: BinaryIO, name: str, owner: str) -> HeldFile:
        """Copy ``stream`` to a new owner-only folder; ``name`` is already a safe file name."""
        self.sweep()
        make_private_folder(self.folder)
        token = secrets.token_urlsafe(24)
        home = self.folder / token
        make_private_folder(home)
        path = home / name
        with open_private(path, "wb") as handle:
            while chunk := stream.read(_CHUNK):
                handle.write(chunk)
        kept_at = self.clock()
        meta = {"owner": owner, "name": name, "kept_at": kept_at.isoformat()}
        write_private(home / _META, json.dumps(meta))
        return HeldFile(token, path, kept_at + self.hold)

    def find(self, token: str, owner: str) -> HeldFile | None:
        """The file ``owner`` kept under ``token``, if it is still there and not expired."""
        self.sweep()
        if not _TOKEN.fullmatch(token or ""):
            return None
        home = self.folder / token
        meta = _read_meta(home)
        if meta is None or meta.get("owner") != owner:
            return None
        path = home / str(meta.get("name", ""))
        if path.parent != home or not path.is_file():
            return None
        return HeldFile(token, path, datetime.fromisoformat(meta["kept_at"]) + self.hold)

    def discard(self, token: str) -> None:
        if _TOKEN.fullmatch(token or ""):
            shutil.rmtree(self.folder / token, ignore_errors=True)

    def sweep(self) -> int:
        """Delete the files kept longer than the hold (and any stray entry); how many."""
        if not self.folder.is_dir():
            return 0
        limit = self.clock() - self.hold
        removed = 0
        for entry in self.folder.iterdir():
            meta = _read_meta(entry) if entry.is_dir() else None
            try:
                kept_at = datetime.fromisoformat(meta["kept_at"]) if meta else None
            except (KeyError, TypeError, ValueError):
                kept_at = None
            if kept_at is not None and kept_at > limit:
                continue
            if kept_at is None and _modified(entry) > limit:
                continue  # being written right now: its description comes last
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        return removed


def _read_meta(home: Path) -> dict[str, str] | None:
    try:
        meta = json.loads((home / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _modified(entry: Path) -> datetime:
    try:
        stamp = entry.lstat().st_mtime
    except OSError:
        stamp = 0.0
    return datetime.fromtimestamp(stamp).astimezone()


SWEEP_EVERY = timedelta(minutes=1)
_last_sweep: dict[Path, datetime] = {}


def sweep_now_and_then(folder: str | Path) -> None:
    """Sweep ``folder`` at most once a :data:`SWEEP_EVERY` (run on every dashboard request, so
    an expired file goes even if nobody opens the import page again)."""
    path = Path(folder).resolve()
    now = utcnow()
    last = _last_sweep.get(path)
    if last is not None and now - last < SWEEP_EVERY:
        return
    _last_sweep[path] = now
    HeldUploads(path).sweep()
