"""The rate limiter's schedule, on an injected clock: no test waits for real time."""

from __future__ import annotations

import threading

import pytest

from campaign.mail.ratelimit import HOUR, MessagePacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_no_limit_never_sleeps() -> None:
    clock = FakeClock()
    limiter = MessagePacer(clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        limiter.wait()
    assert clock.slept == [] and not limiter.limited


def test_messages_per_second_are_spaced_evenly() -> None:
    clock = FakeClock()
    limiter = MessagePacer(per_second=4, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(9):
        limiter.wait()
        starts.append(clock.now)
    assert starts == [1000 + 0.25 * n for n in range(9)]  # 9 messages in 2 seconds


def test_an_idle_sender_does_not_save_up_a_burst() -> None:
    clock = FakeClock()
    limiter = MessagePacer(per_second=2, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 60  # a minute without sending
    limiter.wait()
    limiter.wait()
    assert clock.slept == [0.5]


def test_no_hour_long_window_holds_more_than_the_hourly_rate() -> None:
    clock = FakeClock()
    limiter = MessagePacer(per_hour=3, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.wait()
        starts.append(clock.now)
        clock.now += 10  # sending itself takes ten seconds
    assert starts == [1000, 1010, 1020, 1000 + HOUR, 1010 + HOUR, 1020 + HOUR, 1000 + 2 * HOUR]
    for first in starts:
        assert sum(first <= start < first + HOUR for start in starts) <= 3


def test_both_limits_at_once() -> None:
    clock = FakeClock()
    limiter = MessagePacer(per_second=1, per_hour=2, clock=clock, sleep=clock.sleep)
    starts = [limiter.reserve() for _ in range(4)]
    assert starts == [1000, 1001, 1000 + HOUR, 1001 + HOUR]


def test_threads_sharing_a_limiter_get_distinct_slots() -> None:
    clock = FakeClock()
    limiter = MessagePacer(per_second=10, clock=clock, sleep=lambda seconds: None)
    slots: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            slot = limiter.reserve()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slots) == pytest.approx([1000 + n / 10 for n in range(200)])
