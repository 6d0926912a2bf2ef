"""What the routes share: settings, database, signer, the hit recorder, pages and caches.

One :class:`WebService` per app (``app.state.web``). The routes are thin: they check a token,
call one function here or in :mod:`campaign.audience.subscriptions`, and render a page.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from campaign.models import Delivery, Link, Newsletter, Subscriber
from campaign.newsletters.preview import compile_group
from campaign.newsletters.recipients import tracked_recipient
from campaign.newsletters.render import CompiledNewsletter
from campaign.operations import ServiceMetrics
from campaign.tracking.classify import APPLE_MPP_AGENT, PendingHit, Rules
from campaign.tracking.hits import HitRecorder
from campaign.tracking.links import TrackedLinks, register_links
from campaign.tracking.network import Ranges, apple_ranges, ip_prefix, request_client
from campaign.tracking.tokens import Signer
from campaign.web.forms import FormTokens, SubmissionLimiter
from campaign.web.templates import ConfirmationEmail, Pages

_CACHE_LIMIT = 100_000


class ClickTargets:
    """Where a click goes: the :class:`Link` row named by the token, if it belongs to the
    newsletter named by the token.

    Links never change newsletter or URL, and a newsletter has a few dozen of them, so they are
    cached (bounded): a click answers without touching the database. On a miss, one read by
    primary key runs in the thread pool, never on the event loop.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._links: dict[int, tuple[int, str]] = {}  # link -> (newsletter, url)

    async def url(self, newsletter_id: int, link_id: int) -> str | None:
        """The stored URL of the link, or None when it is not that newsletter's."""
        link = self._links.get(link_id)
        if link is None:
            await run_in_threadpool(self._load, link_id)
            link = self._links.get(link_id)
        if link is None or link[0] != newsletter_id:
            return None
        return link[1]

    def _load(self, link_id: int) -> None:
        if len(self._links) > _CACHE_LIMIT:
            self._links.clear()
        with Session(self.engine) as session:
            link = session.get(Link, link_id)
            if link is not None:
                self._links[link_id] = (link.newsletter_id, link.url)


@dataclass
class _Version:
    compiled: CompiledNewsletter
    link_ids: dict[str, int]
    made: float


@dataclass
class WebVersions:
    """The "view in the browser" page: the delivery's audience group rendered again, then
    personalised for that delivery with its real signed links.

    A group's rendering (MJML, CSS) is kept a few minutes, so a reader reloading the page or
    many readers of one newsletter do not each pay for it.
    """

    engine: Engine
    settings: Any
    signer: Signer
    ttl: float = 300.0
    size: int = 32
    _cache: dict[tuple[int, str, datetime], _Version] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def html(self, delivery_id: int) -> str | None:
        """The HTML that delivery's recipient received; None if it names nobody any more.

        Raises :class:`~campaign.errors.CampaignError` when the newsletter cannot be rendered.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None or delivery.subscriber_id is None:
                return None
            subscriber = session.get(Subscriber, delivery.subscriber_id)
            newsletter = session.get(Newsletter, delivery.newsletter_id)
            if subscriber is None or subscriber.erased_at is not None or not subscriber.email:
                return None
            if newsletter is None or newsletter.id is None:
                return None
            version = self._version(session, newsletter, delivery.group_key)
            tracked = TrackedLinks(
                public_url=self.settings.web.public_url,
                signer=self.signer,
                newsletter_id=newsletter.id,
                link_ids=version.link_ids,
                anonymous=newsletter.anonymous_tracking or self.settings.tracking.anonymous,
            )
            return version.compiled.personalise(
                tracked_recipient(tracked, subscriber, delivery_id)
            ).html

    def _version(self, session: Session, newsletter: Newsletter, group_key: str) -> _Version:
        assert newsletter.id is not None
        key = (newsletter.id, group_key, newsletter.updated_at)
        now = time.monotonic()
        with self._lock:
            found = self._cache.get(key)
            if found is not None and now - found.made < self.ttl:
                return found
        # The events as of the sending (not of today): the version in the browser is the one
        # that was mailed, with its events even once they are over.
        compiled, _ = compile_group(
            session, newsletter, self.settings, group_key, now=newsletter.sent_at
        )
        link_ids = register_links(session, newsletter.id, compiled.links)
        session.commit()
        version = _Version(compiled, link_ids, now)
        with self._lock:
            if len(self._cache) >= self.size:
                self._cache.pop(min(self._cache, key=lambda k: self._cache[k].made))
            self._cache[key] = version
        return version


class WebService:
    """Everything the routes need, built once per app."""

    def __init__(
        self,
        settings: Any,
        engine: Engine,
        signer: Signer,
        *,
        apple: Ranges | None = None,
        rules: Rules | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.signer = signer
        self.apple = (
            apple if apple is not None else apple_ranges(settings.tracking.apple_ranges_file)
        )
        self.rules = rules or Rules.from_settings(settings)
        self.recorder = HitRecorder(
            engine,
            self.rules,
            flush_seconds=settings.tracking.flush_seconds,
            stop_timeout=settings.tracking.stop_timeout,
        )
        self.metrics = ServiceMetrics(engine, self.recorder)
        self.pages = Pages(settings, engine=engine)
        self.confirmation_email = ConfirmationEmail(settings, engine=engine)
        subscribe = settings.subscribe
        self.forms = FormTokens(signer, subscribe.form_max_age_hours * 3600)
        self.limiter = SubmissionLimiter(subscribe.rate_limit, subscribe.rate_window_minutes * 60)
        self.targets = ClickTargets(engine)
        self.versions = WebVersions(engine, settings, signer)
        self.proxy_depth = settings.web.trusted_proxy_depth
        self._confirmations_sent: dict[int, float] = {}  # subscriber -> when (monotonic)

    def client(self, request: Request) -> str:
        """The client's full address (in memory only: :mod:`campaign.tracking.network`)."""
        return request_client(request, self.proxy_depth)

    def record(
        self,
        request: Request,
        kind: str,
        delivery_id: int | None,
        newsletter_id: int | None,
        link_id: int | None,
    ) -> None:
        """Queue one hit for the writer thread; returns at once."""
        address = self.client(request)
        agent = request.headers.get("user-agent", "")[:500]
        self.recorder.record(
            PendingHit(
                kind=kind,
                at=time.time(),
                delivery_id=delivery_id,
                newsletter_id=newsletter_id,
                link_id=link_id,
                user_agent=agent,
                ip_prefix=ip_prefix(address),
                head=request.method == "HEAD",
                apple=agent == APPLE_MPP_AGENT and address in self.apple,
            )
        )

    def may_send_confirmation(self, subscriber_id: int, every: float = 600.0) -> bool:
        """At most one confirmation email per person per ``every`` seconds (no mail bombing
        an address through the form from many networks)."""
        now = time.monotonic()
        last = self._confirmations_sent.get(subscriber_id)
        if last is not None and now - last < every:
            return False
        if len(self._confirmations_sent) > _CACHE_LIMIT:
            self._confirmations_sent.clear()
        self._confirmations_sent[subscriber_id] = now
        return True
