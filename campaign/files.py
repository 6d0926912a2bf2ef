"""Files and folders the product writes, readable by their owner only.

The database, the outbox and every export hold personal data (addresses, names, who opened
what), so they are created 0600 (folders 0700) whatever the umask: a shared server's other
accounts, or a backup agent running as another user, have no business reading them. The mode
given to ``open``/``mkdir`` is only a ceiling that the umask lowers further, so each new file or
folder is also chmod-ed explicitly.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO, Any

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def _tighten(fd: int) -> None:
    # Only a regular file of ours: ``--out /dev/stdout`` or a file someone else owns and lets
    # us write keeps its mode (chmod would fail, or change a device for the whole machine).
    found = os.fstat(fd)
    mine = stat.S_ISREG(found.st_mode) and found.st_uid == os.geteuid()
    if mine and stat.S_IMODE(found.st_mode) != PRIVATE_FILE:
        os.fchmod(fd, PRIVATE_FILE)


def open_private(path: str | Path, mode: str = "w", **options: Any) -> IO[Any]:
    """``open(path, mode)`` for writing, the file made owner-only (0600) before any byte."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_private writes files: mode 'w' or 'wb', not {mode!r}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        _tighten(fd)
        return os.fdopen(fd, mode, **options)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """``Path.write_text``/``write_bytes`` with an owner-only file."""
    if isinstance(data, bytes):
        with open_private(path, "wb") as handle:
            handle.write(data)
    else:
        with open_private(path, "w", encoding=encoding) as handle:
            handle.write(data)


def create_private(path: str | Path) -> bool:
    """Create ``path`` empty and owner-only if it is missing; whether it was created.

    An existing file is left as it is: its owner may have chosen its mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        _tighten(fd)
    finally:
        os.close(fd)
    return True


def make_private_folder(path: str | Path) -> None:
    """``mkdir -p path``, each folder created here owner-only (0700); existing ones untouched."""
    folder = Path(path)
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # made meanwhile by another process: theirs to set
            continue
        os.chmod(folder, PRIVATE_FOLDER)
    if not Path(path).is_dir():  # something else stands where the folder should be
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
