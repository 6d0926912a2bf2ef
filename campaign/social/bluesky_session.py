"""The connection to a Bluesky account's server (PDS) over XRPC, the AT Protocol's HTTP calls.

- **Session**: ``com.atproto.server.createSession`` with the handle and the app password (read
  from the environment, never written anywhere); the access token goes in ``Authorization:
  Bearer``. When the server says ``ExpiredToken``, ``com.atproto.server.refreshSession`` (with
  the refresh token) gives a new pair, and a refused refresh opens a new session.
- **Errors**: a 429 is reported with the server's reset time, a refusal is final, and a server
  error or a time-out is a :class:`~campaign.social.retrying.Transient` that calls which create
  nothing try again a bounded number of times.
- **Handles** are resolved to DIDs (``com.atproto.identity.resolveHandle``), once per client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests

from campaign.clock import utcnow
from campaign.social import TransportError, Usage
from campaign.social.retrying import Transient, epoch_time, maybe_sent

log = logging.getLogger("campaign.social.bluesky")  # the transport's: its records keep their name

BSKY_SERVICE = "https://bsky.social"


class BlueskyClient:
    """One Bluesky account's session on its server, signed in with an app password."""

    def __init__(
        self,
        handle: str,
        app_password: str,
        *,
        service_url: str = BSKY_SERVICE,
        retries: int = 3,
        backoff: float = 2.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.handle = handle.lstrip("@")
        self.service_url = service_url.rstrip("/")
        self._password = app_password
        self.retries = retries
        self.backoff = backoff
        self.timeout = (min(10.0, timeout), timeout)
        self.sleep = sleep
        self.clock = clock
        self.usage = Usage()  # Bluesky bills nothing; kept at zero
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "campaign"
        self._access: str | None = None
        self._refresh: str | None = None
        self.did: str | None = None
        self._dids: dict[str, str | None] = {}

    @property
    def label(self) -> str:
        return f"@{self.handle} (Bluesky)"

    # --- requests -----------------------------------------------------------------------------

    def _send(
        self, method: str, nsid: str, *, token: str | None, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self.http.request(
                method,
                f"{self.service_url}/xrpc/{nsid}",
                headers=headers,
                timeout=self.timeout,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise Transient(
                f"no answer from the server ({type(exc).__name__})", maybe_sent=maybe_sent(exc)
            ) from None

    @staticmethod
    def _error(response: requests.Response) -> tuple[str, str]:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return str(body.get("error") or ""), str(body.get("message") or response.reason or "")

    def _login(self) -> None:
        """Open a session (``createSession``): the app password is used here only."""
        response = self._send(
            "POST",
            "com.atproto.server.createSession",
            token=None,
            json={"identifier": self.handle, "password": self._password},
        )
        if response.status_code in (400, 401):
            code, message = self._error(response)
            raise TransportError(
                f"{self.label}: Bluesky refused the app password ({response.status_code} "
                f"{code}: {message}). Create a new app password in Settings > Privacy and "
                "security > App passwords and set it again.",
                permanent=True,
            )
        self._check(response, "open a session")
        self._keep(response.json())

    def _keep(self, session: dict[str, Any]) -> None:
        self._access = session["accessJwt"]
        self._refresh = session["refreshJwt"]
        self.did = session["did"]

    def _refresh_session(self) -> None:
        """New tokens from the refresh token; a new session when that is refused too."""
        response = self._send("POST", "com.atproto.server.refreshSession", token=self._refresh)
        if response.status_code in (400, 401):
            self._login()
            return
        self._check(response, "refresh the session")
        self._keep(response.json())

    def _check(self, response: requests.Response, what: str) -> None:
        """Raise for a failed response: 429 and refusals final, 5xx a ``Transient``."""
        status = response.status_code
        if 200 <= status < 300:
            return
        code, message = self._error(response)
        if status == 429:
            retry_at = epoch_time(response.headers.get("ratelimit-reset"))
            when = f"; try again after {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at else ""
            raise TransportError(
                f"{self.label}: Bluesky's rate limit was reached while trying to {what}{when}.",
                permanent=False,
                retry_at=retry_at or self.clock() + timedelta(minutes=5),
            )
        if status >= 500:
            raise Transient(f"the server failed ({status} {code})".strip(), maybe_sent=True)
        hint = ""
        if status == 413 or code == "BlobTooLarge":
            hint = " Bluesky takes images of at most 1 MB: make it smaller."
        raise TransportError(
            f"{self.label}: Bluesky refused to {what} ({status} {code}: {message}).{hint}",
            permanent=True,
        )

    def _xrpc(self, method: str, nsid: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """One authenticated call, signing in or refreshing the session as needed."""
        if self._access is None:
            self._login()
        response = self._send(method, nsid, token=self._access, **kwargs)
        if response.status_code in (400, 401) and self._error(response)[0] in (
            "ExpiredToken",
            "InvalidToken",
        ):
            self._refresh_session()
            response = self._send(method, nsid, token=self._access, **kwargs)
        self._check(response, what)
        return response.json() if response.content else {}

    def _call(self, method: str, nsid: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """:meth:`_xrpc` with bounded retries for server errors and time-outs (not creations)."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return self._xrpc(method, nsid, what, **kwargs)
            except Transient as failure:
                problem = failure.problem
            if attempt < self.retries:
                log.warning("%s: %s; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
        )

    def _repo(self) -> str:
        if self.did is None:
            self._login()
        assert self.did is not None
        return self.did

    def resolve(self, handle: str) -> str | None:
        """The DID of ``handle``, or None when no account holds it (cached per transport)."""
        if handle not in self._dids:
            try:
                answer = self._call(
                    "GET",
                    "com.atproto.identity.resolveHandle",
                    f"find the account @{handle}",
                    params={"handle": handle},
                )
                self._dids[handle] = answer.get("did")
            except TransportError as exc:
                if not exc.permanent:
                    raise
                self._dids[handle] = None  # unknown handle: the mention stays plain text
        return self._dids[handle]
