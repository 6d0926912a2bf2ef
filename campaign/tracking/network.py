"""Where a hit comes from, kept no more precisely than needed.

A hit stores the requester's network, never their address: IPv4 addresses are cut to their /24
and IPv6 addresses to their /48 (:func:`ip_prefix`). The full address lives only in memory while
the request is answered, long enough to check it against Apple's relay ranges (:class:`Ranges`)
and to rate-limit the subscribe form.

Behind reverse proxies the connection comes from the nearest proxy; ``[web]
trusted_proxy_depth`` says how many proxies append to ``X-Forwarded-For`` and so which entry of
it is the client (:func:`client_address`, :func:`request_client`). With 0, the default, the
header is ignored: anyone can write anything in it.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from campaign.errors import CampaignError

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
APPLE_RANGES_FILE = DATA_DIR / "apple_relay_ranges.txt"


def client_address(peer: str | None, forwarded_for: str | None, depth: int) -> str:
    """The client's address: the connection's peer, or the entry ``depth`` proxies back.

    Each trusted proxy appends the address it received the request from, so with ``depth``
    proxies the client is the ``depth``-th entry from the right; entries further left were
    written by the client itself and are not believed.
    """
    if depth <= 0 or not forwarded_for:
        return peer or ""
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if not entries:
        return peer or ""
    return entries[max(len(entries) - depth, 0)]


def request_client(request: HTTPConnection, depth: int) -> str:
    """The client's address of a request, ``depth`` being ``[web] trusted_proxy_depth``.

    The one place that reads it: the public routes (hits, the subscribe form's limit) and the
    dashboard's sign-in limits must agree, or behind a proxy one of them counts the proxy.
    """
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), depth)


@lru_cache(maxsize=65536)
def ip_prefix(address: str) -> str:
    """The network stored with a hit: ``203.0.113.0/24``, ``2001:db8:1::/48``, or ``""``."""
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return ""
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    bits = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{bits}", strict=False))


class Ranges:
    """A set of IP networks answering "is this address in one of them?" by binary search."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for prefix in prefixes:
            network = ipaddress.ip_network(prefix, strict=False)
            spans[network.version].append(
                (int(network.network_address), int(network.broadcast_address))
            )
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        for version, items in spans.items():
            merged: list[tuple[int, int]] = []
            for start, end in sorted(items):
                if merged and start <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._starts[version] = [start for start, _ in merged]
            self._ends[version] = [end for _, end in merged]
        self.size = sum(len(starts) for starts in self._starts.values())

    def __contains__(self, address: object) -> bool:
        try:
            parsed = ipaddress.ip_address(str(address).strip().strip("[]"))
        except ValueError:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        value = int(parsed)
        starts = self._starts[parsed.version]
        index = bisect.bisect_right(starts, value) - 1
        return index >= 0 and value <= self._ends[parsed.version][index]

    @classmethod
    def from_file(cls, path: str | Path) -> Ranges:
        """Read prefixes, one a line (the first comma-separated field; ``#`` comments skipped).

        Apple's published ``egress-ip-ranges.csv`` reads as it is. A line that is not a prefix
        is an error naming the file and line, not a silent gap in the list.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CampaignError.of(
                "tracking.cannot_read_ranges",
                "tracking.apple_ranges",
                path=str(path),
                reason=str(exc),
            ) from None
        prefixes = []
        for number, line in enumerate(text.splitlines(), start=1):
            field = line.split(",", 1)[0].strip()
            if not field or field.startswith("#"):
                continue
            try:
                ipaddress.ip_network(field, strict=False)
            except ValueError:
                raise CampaignError.of(
                    "tracking.bad_prefix",
                    "tracking.apple_ranges",
                    path=str(path),
                    line=number,
                    prefix=field,
                ) from None
            prefixes.append(field)
        return cls(prefixes)


def apple_ranges(path: str = "") -> Ranges:
    """Apple's relay ranges: the file ``path`` if given, else the built-in summary."""
    return Ranges.from_file(path or APPLE_RANGES_FILE)
