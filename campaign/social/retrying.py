"""What the transports share about failed requests: which may be tried again, and whether a
request that failed may have had its effect all the same.

A request that never reached the network (connection refused, a time-out while connecting)
certainly created nothing; one that was sent and then got no answer (a read time-out, a dropped
connection, a server error) may have created the post, which the next attempt must check.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests


class Transient(Exception):
    """A failure worth another try; ``maybe_sent``: the request may have had its effect."""

    def __init__(self, problem: str, *, maybe_sent: bool) -> None:
        super().__init__(problem)
        self.problem = problem
        self.maybe_sent = maybe_sent


def maybe_sent(exc: BaseException | None) -> bool:
    """Whether the request may have reached the network before ``exc`` (a requests error, or
    an error raised while handling one: its ``__context__`` chain is followed)."""
    while exc is not None and not isinstance(exc, requests.RequestException):
        exc = exc.__cause__ or exc.__context__
    if exc is None:
        return True
    if isinstance(exc, requests.ConnectTimeout):
        return False
    cause: BaseException | None = exc
    while cause is not None:  # "connection refused" is wrapped a few levels deep by urllib3
        reason = getattr(cause, "reason", None)
        if type(cause).__name__ == "NewConnectionError" or (
            reason is not None and type(reason).__name__ == "NewConnectionError"
        ):
            return False
        cause = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
    return True


def epoch_time(value: object) -> datetime | None:
    """A reset time given in seconds since 1970 (or None when it is not one)."""
    try:
        return datetime.fromtimestamp(float(str(value)), UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None
