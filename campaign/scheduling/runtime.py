"""What a job needs at run time, held by the running service.

A stored job names a function and ids, nothing else (see :mod:`.jobstore`), so the function
finds the settings and the database here: the service installs its :class:`Runtime` when it
starts, and every job and the send worker read it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from campaign.config import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    # Set when the service is asked to stop: sends end after their current batch.
    stopping: threading.Event = field(default_factory=threading.Event)


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no scheduler service is running in this process")
    return _current
