"""The demo: the product's main job on its embedded defaults, from the shipped sample files.

It initialises the database, imports the sample subscribers (a clean export and a messy French
Excel one) and the sample events, creates a newsletter featuring each reader's regional events
of the first week and writes what its first reader would receive. Then it plays the sample
campaign calendar (``schedules/mois-ess-2026.toml``) from now, one entry every couple of
seconds: the service (scheduler, send worker and web app, as ``campaign serve`` runs them)
sends the newsletters to the outbox and publishes the posts in dry run, and the demo stops when
everything has gone out. To keep it to a minute, the replayed newsletters go to one region's
subscribers only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from campaign.audience.importer import import_subscribers
from campaign.config import Settings
from campaign.db import session_scope
from campaign.errors import CampaignError
from campaign.events.importer import import_events
from campaign.files import write_private
from campaign.importing import ImportSummary
from campaign.models import Delivery, DeliveryStatus, Newsletter, NewsletterStatus, Post, PostStatus
from campaign.models.base import utcnow
from campaign.newsletters.preview import preview
from campaign.newsletters.records import EventRule, create_newsletter
from campaign.resources import shipped
from campaign.taxonomy import Taxonomy

DEMO_LIST = "Newsletter nationale"
SUBSCRIBER_FILES = ("subscribers.csv", "subscribers-excel-1252.csv")
EVENT_FILE = "events.json"
DEMO_TITLE = "Le Mois de l'ESS, c'est maintenant ! (démo)"
PREVIEW_FILE = Path("demo-preview.html")
CALENDAR_FILE = "mois-ess-2026.toml"
DEMO_REGION = "Bretagne"
REPLAY_PREFIX = "demo-mois-ess-2026/"
NEWSLETTER_DONE = {NewsletterStatus.sent, NewsletterStatus.missed, NewsletterStatus.cancelled}
POST_DONE = {PostStatus.published, PostStatus.failed, PostStatus.missed, PostStatus.cancelled}


def find_calendar() -> Path:
    """The sample calendar: ./schedules/…, else the one shipped with the package."""
    candidates = (Path("schedules") / CALENDAR_FILE, shipped("schedules") / CALENDAR_FILE)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise CampaignError.of("demo.no_calendar", looked=[str(path) for path in candidates])


def find_samples(explicit: Path | None = None) -> Path:
    """The samples folder: given, else ./samples, else the one shipped with the package."""
    candidates = [explicit] if explicit else [Path("samples"), shipped("samples")]
    for folder in candidates:
        if folder and (folder / EVENT_FILE).is_file():
            return folder
    tried = [str(c) for c in candidates if c]
    raise CampaignError.of("demo.no_samples", "samples", looked=tried, file=EVENT_FILE)


@dataclass
class DemoResult:
    summaries: list[ImportSummary]
    newsletter_id: int
    preview_for: str
    preview_file: Path


def run_demo(engine: Engine, settings: Settings, samples: Path, actor: str) -> DemoResult:
    taxonomy = Taxonomy.from_settings(settings)
    summaries = []
    for name in SUBSCRIBER_FILES:
        with session_scope(engine) as session:
            summaries.append(
                import_subscribers(
                    session,
                    samples / name,
                    list_name=DEMO_LIST,
                    dry_run=False,
                    actor=actor,
                    taxonomy=taxonomy,
                )
            )
    with session_scope(engine) as session:
        summaries.append(
            import_events(
                session, samples / EVENT_FILE, dry_run=False, taxonomy=taxonomy, zone=settings.zone
            )
        )
    with session_scope(engine) as session:
        newsletter = session.exec(select(Newsletter).where(Newsletter.title == DEMO_TITLE)).first()
        if newsletter is None:
            newsletter = create_newsletter(
                session,
                title=DEMO_TITLE,
                subject="Le Mois de l'ESS près de chez vous",
                template="mois-ess",
                list_names=[DEMO_LIST],
                taxonomy=taxonomy,
                preheader="Les rendez-vous de la première semaine dans votre région",
                event_rule=EventRule(
                    date_from=date(2026, 11, 1),
                    date_to=date(2026, 11, 7),
                    regions=["subscriber"],
                    limit=6,
                ),
                actor=actor,
            )
        shown = preview(session, newsletter, settings)
        write_private(PREVIEW_FILE, shown.message.html)
        assert newsletter.id is not None  # a saved row, found or created
        return DemoResult(summaries, newsletter.id, shown.subscriber.email or "", PREVIEW_FILE)


# --- playing the calendar -----------------------------------------------------------------------


@dataclass
class Playback:
    """Where the replayed campaign stands (the demo's rows, by their schedule key)."""

    newsletters: list[Newsletter] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    sent: dict[int, int] = field(default_factory=dict)  # newsletter id -> messages sent
    web_url: str = ""  # where the web app answered while playing ("" if it could not start)
    replayed: int = 0  # entries this run scheduled (0: an earlier demo played them all)

    @property
    def total(self) -> int:
        return len(self.newsletters) + len(self.posts)

    @property
    def done(self) -> int:
        return sum(n.status in NEWSLETTER_DONE for n in self.newsletters) + sum(
            p.status in POST_DONE for p in self.posts
        )


def playback(engine: Engine) -> Playback:
    """The replayed campaign's rows and how many messages each newsletter has sent."""
    with Session(engine, expire_on_commit=False) as session:
        newsletters = list(
            session.exec(
                select(Newsletter)
                .where(col(Newsletter.schedule_key).startswith(REPLAY_PREFIX))
                .order_by(col(Newsletter.scheduled_at))
            )
        )
        posts = list(
            session.exec(
                select(Post)
                .where(col(Post.schedule_key).startswith(REPLAY_PREFIX))
                .order_by(col(Post.scheduled_at))
            )
        )
        sent = dict(
            session.exec(
                select(Delivery.newsletter_id, func.count())
                .where(
                    col(Delivery.newsletter_id).in_([n.id for n in newsletters]),
                    Delivery.status == DeliveryStatus.sent,
                )
                .group_by(col(Delivery.newsletter_id))
            ).all()
        )
    return Playback(newsletters, posts, sent)


def replay_sample_calendar(
    engine: Engine, settings: Settings, *, gap: timedelta, region: str = DEMO_REGION
) -> int:
    """Sync the sample calendar replayed from a few seconds from now; the rows created.

    Entries already played by an earlier demo (sent, published) are never touched again.
    """
    from campaign.scheduling.shift import replay_calendar

    with Session(engine, expire_on_commit=False) as session:
        summary = replay_calendar(
            session,
            settings,
            find_calendar(),
            start=utcnow().replace(microsecond=0) + timedelta(seconds=3),
            gap=gap,
            segment={"region": [region]},
        )
    return summary.count("create") + summary.count("update")


def _start_web(settings: Settings, engine: Engine) -> tuple[Callable[[], None], str]:
    """Serve the web app in a thread, as `campaign serve` does; (stop, URL) or a no-op and ""."""
    import uvicorn

    from campaign.web.app import create_app
    from campaign.web.server import uvicorn_config

    host, port = settings.web.host, settings.web.port
    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn_config(app, host, port, log_level="error"))
    thread = threading.Thread(target=server.run, name="demo-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:  # the port is taken, say: the demo goes on without the web app
        server.should_exit = True
        return (lambda: None), ""

    def stop() -> None:
        server.should_exit = True
        thread.join(30)

    return stop, f"http://{host}:{port}"


def play_calendar(
    engine: Engine,
    settings: Settings,
    *,
    gap: timedelta = timedelta(seconds=2),
    timeout: float = 300.0,
    progress: Callable[[Playback], None] | None = None,
) -> Playback:
    """Replay the sample calendar and run the service until every entry has gone out.

    The service is the one `campaign serve` runs (scheduler, send worker, web app), with a
    shorter poll so that the demo moves briskly. Stops after ``timeout`` seconds at most.
    """
    from campaign.scheduling.service import Service

    replayed = replay_sample_calendar(engine, settings, gap=gap)
    quick = settings.model_copy(deep=True)
    quick.scheduler.poll_interval = 0.5
    quick.scheduler.send_interval = 1.0
    service = Service(quick, engine=engine)
    stop_web, web_url = _start_web(quick, engine)
    service.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            state = playback(engine)
            state.web_url, state.replayed = web_url, replayed
            if progress is not None:
                progress(state)
            if state.done >= state.total or time.monotonic() > deadline:
                return state
            time.sleep(0.5)
    finally:
        service.stop()
        stop_web()
