"""Loopback ports for the servers the tests start, safe when tests run in parallel.

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` comes from the ephemeral range
(``/proc/sys/net/ipv4/ip_local_port_range``, 32768-60999 by default), the same range every
outgoing connection takes its local port from: between the probe closing and the server binding,
a client connection (to PostgreSQL, to another test's server) may take it, and two pytest-xdist
workers probing at once may be handed the same one. So the ports come from below that range,
from a slice of their own for each xdist worker, each probed by binding it, and none handed out
twice by one process.
"""

from __future__ import annotations

import os
import random
import socket

LOWEST = 20000  # above the well-known and registered ports the machine's own services use
SLICE = 1500  # ports per xdist worker: gw0 gets 20000-21499, gw1 21500-22999, ...
_given: set[int] = set()


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as numbers:
            return int(numbers.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3"; absent without xdist
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def free_port() -> int:
    """A loopback port nothing listens on now, that no other worker of this run will pick."""
    low = LOWEST + _worker_number() * SLICE
    high = low + SLICE
    if high > _ephemeral_low():  # a machine with a wide ephemeral range or many workers
        low, high = LOWEST, _ephemeral_low()
    candidates = list(range(low, high))
    # Random order: two runs of the suite at once on the same machine rarely probe alike.
    random.Random(os.getpid()).shuffle(candidates)
    for port in candidates:
        if port in _given:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free loopback port between {low} and {high}")
