"""Keeping robots off the subscribe form: form tokens, a honeypot, a per-IP rate limit.

**Form token (CSRF).** The form carries a token signed by the service naming the moment it was
served and the list it subscribes to; a post without a valid, recent token is refused and writes
nothing. There is no session or cookie to protect here (the form acts for nobody logged in), and
the form is meant to be embedded in an iframe on the events website, where browsers increasingly
withhold third-party cookies, so the token is stateless rather than tied to a cookie: it proves
the post comes from a form this service served less than ``[subscribe] form_max_age_hours`` ago,
and that the list was not changed on the way.

**Honeypot.** A field hidden from people (``site_web``) that robots filling every input fill in;
such a post gets the usual thank-you page and nothing happens.

**Rate limit.** At most ``[subscribe] rate_limit`` posts per IP address per
``rate_window_minutes``, counted in memory (the address is never stored); beyond, a 429 page.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from campaign.tracking.tokens import Signer

FORM = "subscribe-form"
HONEYPOT = "site_web"


@dataclass(frozen=True)
class FormTokens:
    signer: Signer
    max_age: float  # seconds

    def issue(self, list_index: int, now: float | None = None) -> str:
        """A token for a form subscribing to ``[subscribe] lists[list_index]``."""
        return self.signer.sign(FORM, int(time.time() if now is None else now), list_index)

    def check(self, token: str, now: float | None = None) -> tuple[int | None, bool]:
        """(the list of a genuine form token, whether it is recent enough).

        ``(None, False)`` for a missing, forged or altered token; ``(list, False)`` for a
        genuine but old one (the form is shown again for the same list).
        """
        ids = self.signer.verify(token or "", FORM, 2)
        if ids is None:
            return None, False
        issued, list_index = ids
        age = (time.time() if now is None else now) - issued
        return list_index, -60 <= age <= self.max_age  # a minute of clock skew between processes


class SubmissionLimiter:
    """Submissions of a public form per key (the client's address) in a sliding window, refused
    past ``limit``; bounded to ``max_keys`` keys (the oldest forgotten)."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one request for ``key``; False when it is over the limit (not counted then)."""
        now = time.monotonic() if now is None else now
        times = self._hits.pop(key, None) or deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        allowed = len(times) < self.limit
        if allowed:
            times.append(now)
        self._hits[key] = times
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return allowed
