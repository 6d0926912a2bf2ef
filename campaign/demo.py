"""The demo: the product's main job on its embedded defaults, from the shipped sample files.

It initialises the database, imports the sample subscribers (a clean export and a messy French
Excel one) and the sample events, creates a newsletter featuring each reader's regional events
of the first week and writes what its first reader would receive. Later stages extend it (send
to the outbox, post in dry-run) so that one command shows the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from campaign.audience.importer import import_subscribers
from campaign.config import Settings
from campaign.db import session_scope
from campaign.errors import CampaignError
from campaign.events.importer import import_events
from campaign.importing import ImportReport
from campaign.models import Newsletter
from campaign.newsletters.preview import preview
from campaign.newsletters.records import EventRule, create_newsletter
from campaign.taxonomy import Taxonomy

DEMO_LIST = "Newsletter nationale"
SUBSCRIBER_FILES = ("subscribers.csv", "subscribers-excel-1252.csv")
EVENT_FILE = "events.json"
DEMO_TITLE = "Le Mois de l'ESS, c'est maintenant ! (démo)"
PREVIEW_FILE = Path("demo-preview.html")


def find_samples(explicit: Path | None = None) -> Path:
    """The samples folder: given, else ./samples, else the one beside the source tree."""
    candidates = (
        [explicit] if explicit else [Path("samples"), Path(__file__).parents[1] / "samples"]
    )
    for folder in candidates:
        if folder and (folder / EVENT_FILE).is_file():
            return folder
    tried = ", ".join(str(c) for c in candidates if c)
    raise CampaignError(
        f"No sample files found (looked in {tried}). Run the demo from the project folder "
        "or pass --samples DIR."
    )


@dataclass
class DemoResult:
    reports: list[ImportReport]
    newsletter_id: int
    preview_for: str
    preview_file: Path


def run_demo(engine: Engine, settings: Settings, samples: Path, actor: str) -> DemoResult:
    taxonomy = Taxonomy.from_settings(settings)
    reports = []
    for name in SUBSCRIBER_FILES:
        with session_scope(engine) as session:
            reports.append(
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
        reports.append(
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
        PREVIEW_FILE.write_text(shown.message.html, encoding="utf-8")
        return DemoResult(reports, newsletter.id, shown.subscriber.email or "", PREVIEW_FILE)
