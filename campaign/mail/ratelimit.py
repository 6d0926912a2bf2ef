"""The sending rate limit every relay imposes: messages per second and per hour.

One :class:`MessagePacer` is shared by all the connections of a transport. Each message takes a
slot with :meth:`MessagePacer.wait`, which gives it a start time and sleeps until then:

- per second: slots are spaced ``1 / rate_per_second`` apart, so the rate is smooth rather than
  bursts at the top of each second (a relay counting per second never sees more than the rate);
- per hour: a sliding window of the last ``rate_per_hour`` slots; a slot may start only an hour
  after the slot that many places before it, so no hour-long window ever holds more.

Slots are handed out in order under a lock and slept for outside it, so several connections
share the budget fairly. The clock and the sleep are injectable: tests check the schedule
without waiting for it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

HOUR = 3600.0


class MessagePacer:
    """Paces the messages of one transport: each gets a start time within both rates."""

    def __init__(
        self,
        per_second: float = 0,
        per_hour: int = 0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_hour = int(per_hour)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")  # earliest start of the next slot (per second)
        self._window: deque[float] = deque(maxlen=self.per_hour or 1)

    @property
    def limited(self) -> bool:
        return bool(self.interval or self.per_hour)

    def reserve(self) -> float:
        """Take the next slot and return its start time on the clock (no sleeping)."""
        with self._lock:
            start = max(self._clock(), self._next)
            if self.per_hour and len(self._window) == self.per_hour:
                start = max(start, self._window[0] + HOUR)
            if self.interval:
                self._next = start + self.interval
            if self.per_hour:
                self._window.append(start)
            return start

    def wait(self) -> None:
        """Block until this caller may send one message."""
        if not self.limited:
            return
        start = self.reserve()
        delay = start - self._clock()
        if delay > 0:
            self._sleep(delay)
