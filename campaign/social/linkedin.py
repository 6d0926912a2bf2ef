"""Publishing as a LinkedIn organization page through LinkedIn's REST Posts API.

Why plain HTTP (``requests``, already a dependency) and no SDK: we need four calls, and doing them
ourselves keeps the error policy the same as the other transports' and every request visible to
the test double (tests/social/fake_linkedin.py).

- **Authentication**: an OAuth 2 access token of a page administrator, with the
  ``w_organization_social`` permission, read from the environment variable the account's
  ``access_token_env`` names (never stored, never logged), sent as ``Authorization: Bearer``.
  Every request names the API version (``LinkedIn-Version: YYYYMM``, ``[social.linkedin]
  version``) and Rest.li's protocol (``X-Restli-Protocol-Version: 2.0.0``).
- **Tokens last 60 days** and LinkedIn gives no refresh token to most apps: the account's
  ``token_expires`` says when, :func:`token_state` warns from 7 days before, and once the day has
  come a post fails at once with the message saying how to renew it (a 401 says the same).
- **Posts**: ``POST /rest/posts`` with the organization as ``author``; the post's URN comes back
  in the ``x-restli-id`` header of the 201. The text (``commentary``) is in LinkedIn's "little"
  text format, where ``\\ | { } @ [ ] ( ) < > # * _ ~`` are markup: unescaped, LinkedIn silently
  cuts the post at the first one, so they are escaped (links and ``#hashtags`` left as they are).
- **Images**: ``POST /rest/images?action=initializeUpload`` gives an upload URL and the image's
  URN; the bytes are PUT there, and the post names the URN with its alt text (``media``), or
  several (``multiImage``).
- **No threads**: a thread's parts are one post (:func:`campaign.social.length.join_thread`).

LinkedIn takes no idempotency key. After an attempt without a clear answer (a time-out, a server
error), the page's latest posts (``GET /rest/posts?q=author``) are searched for the same text
before sending again; if they cannot be read, the post is not sent again but reported uncertain.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from campaign.clock import utcnow
from campaign.messages import message
from campaign.social import (
    AccountFigures,
    Image,
    Mentions,
    OnPublished,
    Outgoing,
    PostFigures,
    TransportError,
    Usage,
)
from campaign.social.retrying import Transient, maybe_sent
from campaign.social.tokens import token_state
from campaign.social.xtext import find_urls

log = logging.getLogger(__name__)

LINKEDIN_API = "https://api.linkedin.com"
DEFAULT_VERSION = "202605"
RESTLI_PROTOCOL = "2.0.0"
RECENT_POSTS = 10  # the page's latest posts read when one may have gone through
CLOCK_SLACK = timedelta(minutes=2)
# Characters of LinkedIn's "little" text format that must be escaped to be shown as written.
_RESERVED = re.compile(r"[\\|{}@\[\]()<>#*_~]")
_HASHTAG = re.compile(r"(?:^|(?<=\s))#(?=\w)")


def escape_commentary(text: str) -> str:
    """``text`` in the "little" format: markup characters escaped, links and hashtags kept."""
    pieces: list[str] = []
    last = 0
    for start, end in find_urls(text):
        pieces.append(_escape_plain(text[last:start]))
        pieces.append(text[start:end])
        last = end
    pieces.append(_escape_plain(text[last:]))
    return "".join(pieces)


def _escape_plain(text: str) -> str:
    tags = {match.start() for match in _HASHTAG.finditer(text)}
    return "".join(
        "\\" + char if _RESERVED.fullmatch(char) and index not in tags else char
        for index, char in enumerate(text)
    )


def unescape_commentary(text: str) -> str:
    """The text a "little" commentary shows (its escapes removed)."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def _retry_after(response: requests.Response, now: datetime) -> datetime:
    """When LinkedIn says to try again (``Retry-After``: seconds or a date); without it, the
    next midnight UTC, when LinkedIn's daily limits start again."""
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    if value:
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.combine(
        now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC
    )


class LinkedInTransport:
    """One LinkedIn organization page, written to with a page administrator's access token."""

    dry_run = False
    measures = False  # no figures: sync-metrics skips the page instead of recording zeros

    def __init__(
        self,
        handle: str,
        organization_id: str,
        access_token: str,
        *,
        token_env: str = "",
        token_expires: date | None = None,
        api_base_url: str = LINKEDIN_API,
        version: str = DEFAULT_VERSION,
        retries: int = 3,
        backoff: float = 2.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.handle = handle.lstrip("@")
        self.organization_id = organization_id
        self.author = f"urn:li:organization:{organization_id}"
        self.token_env = token_env
        self.token_expires = token_expires
        self.api_base_url = api_base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.timeout = (min(10.0, timeout), timeout)
        self.sleep = sleep
        self.clock = clock
        self.usage = Usage()  # LinkedIn bills nothing; kept at zero
        self.http = requests.Session()
        self.http.headers.update(
            {
                "Authorization": f"Bearer {access_token}",
                "LinkedIn-Version": version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
                "User-Agent": "campaign",
            }
        )

    @property
    def label(self) -> str:
        return f"{self.handle} (LinkedIn page {self.organization_id})"

    def _refuse(
        self,
        code: str,
        *,
        permanent: bool = True,
        retry_at: datetime | None = None,
        **values: Any,
    ) -> TransportError:
        """The refusal as a message the doors word (``str()`` is the CLI's English)."""
        values = {"label": self.label, "env": self.token_env, **values}
        return TransportError(
            message(code, "", **values),
            permanent=permanent,
            retry_at=retry_at,
        )

    # --- requests -----------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if not url.startswith(("http://", "https://")):
            url = f"{self.api_base_url}{url}"
        try:
            return self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise Transient(
                f"no answer from LinkedIn ({type(exc).__name__})", maybe_sent=maybe_sent(exc)
            ) from None

    @staticmethod
    def _reason(response: requests.Response) -> str:
        """LinkedIn's own words: ``message`` of its error body (``code`` or status else)."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        words = str(body.get("message") or body.get("code") or response.reason or "").strip()
        return " ".join(words.split())[:500]

    def _check(self, response: requests.Response, what: str) -> None:
        """Raise for a failed answer: refusals final, 429 with its time, 5xx a ``Transient``."""
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = self._reason(response)
        if status == 401:
            raise self._refuse("linkedin.token_refused", reason=reason)
        if status == 403:
            raise self._refuse("linkedin.forbidden", what=what, reason=reason)
        if status == 429:
            retry_at = _retry_after(response, self.clock())
            raise self._refuse(
                "linkedin.rate_limited", permanent=False, retry_at=retry_at, what=what, at=retry_at
            )
        if status >= 500:
            raise Transient(f"LinkedIn failed ({status} {reason})".strip(), maybe_sent=True)
        if status == 413:
            raise self._refuse("linkedin.too_large", what=what)
        raise self._refuse("linkedin.refused", what=what, status=status, reason=reason)

    def _call(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        """One request with bounded retries for server errors and time-outs (not creations)."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                response = self._send(method, url, **kwargs)
                self._check(response, what)
                return response
            except Transient as failure:
                problem = failure.problem
            if attempt < self.retries:
                log.warning("%s: %s; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to {what}, {self.retries + 1} attempts.",
            permanent=False,
        )

    # --- building a post ----------------------------------------------------------------------

    def _upload(self, image: Image) -> dict[str, str]:
        """The image given to LinkedIn: its URN and alt text, for the post's ``content``."""
        name = Path(image.path).name
        answer = self._call(
            "POST",
            "/rest/images?action=initializeUpload",
            f"prepare the upload of {name}",
            json={"initializeUploadRequest": {"owner": self.author}},
        ).json()
        value = answer.get("value") or {}
        upload_url, urn = value.get("uploadUrl"), value.get("image")
        if not upload_url or not urn:
            raise self._refuse(
                "linkedin.refused",
                what=f"prepare the upload of {name}",
                status=200,
                reason="no uploadUrl or image in the answer",
            )
        self._call(
            "PUT",
            upload_url,
            f"upload the image {name}",
            data=Path(image.path).read_bytes(),
            headers={"Content-Type": image.media_type},
        )
        return {"id": urn, "altText": image.alt}

    def _body(self, commentary: str, media: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": self.author,
            "commentary": commentary,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if len(media) == 1:
            body["content"] = {"media": media[0]}
        elif media:
            body["content"] = {"multiImage": {"images": media}}
        return body

    def _find_published(self, commentary: str, since: datetime) -> str | None:
        """The URN of a post of the page since ``since`` with this text, if any."""
        author = quote(self.author, safe="")
        try:
            answer = self._call(
                "GET",
                f"/rest/posts?author={author}&q=author&count={RECENT_POSTS}",
                "look for the post among the page's latest ones",
                headers={"X-RestLi-Method": "FINDER"},
            ).json()
        except TransportError as exc:
            raise TransportError(
                f"{exc} The post may be on LinkedIn already (an attempt got no clear answer), so "
                "it is not sent again until its absence is checked: look at the page first.",
                permanent=exc.permanent,
                retry_at=exc.retry_at,
                uncertain=True,
            ) from None
        wanted = unescape_commentary(commentary)
        for element in reversed(answer.get("elements") or []):  # oldest first
            created = element.get("createdAt") or element.get("publishedAt")
            if created and datetime.fromtimestamp(created / 1000, UTC) < since - CLOCK_SLACK:
                continue
            if unescape_commentary(str(element.get("commentary") or "")) == wanted:
                return str(element.get("id") or "") or None
        return None

    def _create(self, body: dict[str, Any], check_since: datetime | None) -> str:
        """Create the post, retrying without ever creating it twice."""
        problem = ""
        for attempt in range(self.retries + 1):
            if check_since is not None:
                found = self._find_published(body["commentary"], check_since)
                if found:
                    log.info("%s: post %s had gone through; not sent again", self.label, found)
                    return found
            started = self.clock()
            try:
                response = self._send("POST", "/rest/posts", json=body)
                self._check(response, "publish a post")
            except Transient as failure:
                problem = failure.problem
                if failure.maybe_sent and check_since is None:
                    check_since = started
            except TransportError as exc:
                exc.uncertain = exc.uncertain or check_since is not None
                raise
            else:
                urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
                if not urn:
                    raise self._refuse(
                        "linkedin.refused",
                        what="publish a post",
                        status=response.status_code,
                        reason="no x-restli-id header in the answer",
                    )
                return urn
            if attempt < self.retries:
                log.warning("%s: %s while publishing; retrying", self.label, problem)
                self.sleep(self.backoff * (2**attempt))
        raise TransportError(
            f"{self.label}: {problem} while trying to publish a post, {self.retries + 1} attempts.",
            permanent=False,
            uncertain=check_since is not None,
        )

    # --- the transport interface --------------------------------------------------------------

    def check_token(self) -> None:
        """Refuse at once when the token's end day (``token_expires``) has come."""
        state = token_state(self.token_expires, self.clock().date())
        if state.state == "expired":
            raise self._refuse("linkedin.token_expired", date=self.token_expires)

    def publish(self, post: Outgoing, *, on_published: OnPublished | None = None) -> list[str]:
        """Publish ``post.parts`` as one LinkedIn post (LinkedIn has no threads)."""
        if post.reply_to:
            raise self._refuse(
                "linkedin.refused",
                what="publish the rest of a thread",
                status=0,
                reason="LinkedIn has no threads: publish the post again as one text",
            )
        self.check_token()
        text = "\n\n".join(part.strip() for part in post.parts if part.strip())
        media = [self._upload(image) for image in post.images]
        urn = self._create(self._body(escape_commentary(text), media), post.check_since)
        if on_published is not None:
            on_published(0, urn)
        return [urn]

    def fetch_metrics(
        self, remote_ids: Sequence[str], *, non_public: bool = True
    ) -> dict[str, PostFigures]:
        """Nothing: a page's post statistics need a permission (r_organization_social) the
        posting token does not ask for; LinkedIn's own page analytics show them."""
        return {}

    def account(self) -> AccountFigures:
        """The page the token writes to: its public name (``vanityName``) is the handle."""
        self.check_token()
        page = self._call(
            "GET", f"/rest/organizations/{self.organization_id}", "read the page"
        ).json()
        return AccountFigures(
            user_id=self.author,
            username=str(page.get("vanityName") or page.get("localizedName") or ""),
            followers=0,
            posts=0,
        )

    def mentions(self, since_id: str | None, *, since_time: datetime | None = None) -> Mentions:
        """Not counted on LinkedIn (its notifications API needs another permission)."""
        return Mentions(count=0, newest_id=since_id)
