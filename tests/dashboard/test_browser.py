"""End to end in headless Chromium: sign in, import, write and preview a newsletter, plan and
approve the day's event posts, see them on the calendar, read the report; a screenshot of each
main page (``test-artifacts/dashboard/<engine>/``), at laptop and phone widths, and of every
editing form as an admin sees it. Each screenshot first checks that the page fits the window
and that every form field on it has a label."""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.audience.subscribers import add_subscriber
from campaign.mail import OutboxTransport
from campaign.models import Event, Hit, HitKind, Newsletter, Post, PostStatus, Subscriber, utcnow
from campaign.newsletters import queue
from campaign.newsletters.records import EventRule, create_newsletter
from campaign.social.posts import create_post
from campaign.taxonomy import Taxonomy
from tests.dashboard.browser import UNLABELLED_FIELDS, browser_page, screenshot
from tests.dashboard.conftest import PASSWORD, Served

pytestmark = pytest.mark.one_database(
    "a page in a real browser, a door: the stages it calls are tested on both engines"
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SAMPLE_DAY = date(2026, 11, 5)  # a Thursday of the sample Mois, with many events
DATE_COLUMNS = ("Date de début", "Date de fin")


def _engine_name(served: Served) -> str:
    return "postgresql" if "postgresql" in served.settings.database.url else "sqlite"


def _send(served: Served, newsletter_id: int) -> None:
    """Send the newsletter to the outbox with the sending stage, and record one human open."""
    with Session(served.engine) as session:  # type: ignore[arg-type]
        newsletter = session.get(Newsletter, newsletter_id)
        queue.snapshot(session, newsletter)
        session.commit()
    queue.send_newsletter(
        served.engine,  # type: ignore[arg-type]
        newsletter_id,
        served.settings,
        OutboxTransport(served.settings.mail.outbox_dir),
    )
    with Session(served.engine) as session:  # type: ignore[arg-type]
        session.add(Hit(kind=HitKind.open, newsletter_id=newsletter_id))
        session.commit()


def _weeks_ahead(served: Served) -> timedelta:
    """Whole weeks moving the sample's Thursday 5 November to a Thursday still to come, so that
    its posts can be planned and approved (the planner and the approval refuse past times)."""
    tomorrow = utcnow().astimezone(served.settings.zone).date() + timedelta(days=1)
    weeks = max(0, -(-(tomorrow - SAMPLE_DAY).days // 7))
    return timedelta(weeks=weeks)


def _events_file(folder: Path, shift: timedelta) -> Path:
    """The sample events export with every event moved by ``shift`` (local times kept)."""
    with (SAMPLES / "events.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for row in rows:
        for column in DATE_COLUMNS:
            value = row[column]
            # "06/11/2026 18:30", or "06/11/2026" for an all-day event; the sample's bad
            # values ("date à confirmer") stay as they are, for the import to report.
            if re.fullmatch(r"\d\d/\d\d/\d{4}( \d\d:\d\d)?", value):
                fmt = "%d/%m/%Y %H:%M" if " " in value else "%d/%m/%Y"
                row[column] = (datetime.strptime(value, fmt) + shift).strftime(fmt)
    path = folder / "manifestations.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _subscribers_file(folder: Path, rows: int = 80) -> Path:
    """The first rows of the sample subscribers file, as exported (BOM, semicolons, mess):
    small enough for the newsletter to be sent quickly at the end of the test."""
    lines = (SAMPLES / "subscribers.csv").read_bytes().splitlines(keepends=True)
    path = folder / "abonnes-region.csv"
    path.write_bytes(b"".join(lines[: rows + 1]))
    return path


def test_the_team_works_through_the_dashboard_in_a_real_browser(
    served: Served, tmp_path: Path
) -> None:
    engine = _engine_name(served)
    base = served.url
    shift = _weeks_ahead(served)
    the_day = SAMPLE_DAY + shift
    DAY = the_day.isoformat()
    NEXT_DAY = (the_day + timedelta(days=1)).isoformat()
    with browser_page() as (page, offsite):
        # Signing in: any page leads to the sign-in form and back to it afterwards.
        page.goto(f"{base}/subscribers")
        assert "/admin/login" in page.url
        screenshot(page, "01-connexion", engine)
        page.get_by_label("Adresse e-mail").fill("editor@example.org")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_url(re.compile(r"/admin/subscribers$"))

        # Importing subscribers from a CSV, with the report shown.
        page.goto(f"{base}/subscribers/import")
        page.get_by_label("Fichier CSV ou XLSX", exact=False).set_input_files(
            str(_subscribers_file(tmp_path))
        )
        page.get_by_label("Liste où inscrire", exact=False).fill("Newsletter nationale")
        page.get_by_label("Origine du consentement", exact=False).fill("inscriptions 2026")
        page.get_by_role("button", name="Importer").click()
        report = page.locator("section.report")
        assert "abonnés ajoutés" in report.inner_text()
        added = int(report.locator("li strong").first.inner_text())
        assert 50 < added <= 80
        screenshot(page, "02-import-abonnes", engine)
        page.goto(f"{base}/subscribers?region=Bretagne")
        assert page.locator("tbody tr").count() > 0
        screenshot(page, "03-abonnes", engine)
        page.locator("tbody tr a").first.click()
        assert "Registre des consentements" in page.content()
        screenshot(page, "04-abonne", engine)

        # Importing the events export, then browsing the catalogue.
        page.goto(f"{base}/events/import")
        page.get_by_label("Fichier CSV, XLSX ou JSON", exact=False).set_input_files(
            str(_events_file(tmp_path, shift))
        )
        page.get_by_role("button", name="Importer").click()
        assert "évènements ajoutés" in page.locator("section.report").inner_text()
        page.goto(f"{base}/events?date_from={DAY}&date_to={DAY}")
        assert page.locator("tbody tr").count() > 0
        screenshot(page, "05-evenements", engine)

        # A newsletter with an event rule: the live count follows the form.
        page.goto(f"{base}/newsletters/new")
        page.get_by_label("Titre", exact=False).fill("Le Mois de l'ESS commence")
        page.get_by_label("Objet", exact=True).fill(
            "Les évènements de la semaine près de chez vous"
        )
        page.get_by_label("Newsletter nationale").check()
        page.get_by_label("Du", exact=True).fill((the_day - timedelta(days=3)).isoformat())
        page.get_by_label("Au (inclus)").fill((the_day + timedelta(days=3)).isoformat())
        page.get_by_label("Régions des évènements").select_option("subscriber")
        page.get_by_label("Au plus").fill("6")
        count = page.locator("[data-count=events]")
        count.wait_for()
        page.wait_for_function(
            "() => Number(document.querySelector('[data-count=events]').textContent) > 0"
        )
        page.locator("[data-count=audience]").wait_for()
        assert int(page.locator("[data-count=audience]").inner_text()) == added
        screenshot(page, "06-newsletter-formulaire", engine)
        page.get_by_role("button", name="Créer le brouillon").click()
        page.wait_for_url(re.compile(r"/admin/newsletters/\d+\?fait=newsletter-created$"))
        newsletter_id = int(re.search(r"/newsletters/(\d+)", page.url).group(1))
        screenshot(page, "07-newsletter", engine)

        # Its preview: checks inline, the HTML in a frame at desktop then phone width, the text.
        page.get_by_role("link", name="Aperçu et test").click()
        assert page.locator(".checks-box").is_visible()
        assert "ne peut pas partir" not in page.content()
        frame = page.frame_locator("iframe")
        frame.locator("body").wait_for()
        assert "désinscri" in frame.locator("body").inner_text().lower()
        screenshot(page, "08-apercu-ordinateur", engine)
        page.get_by_label("Largeur").select_option("mobile")
        page.get_by_role("button", name="Afficher").click()
        assert page.locator(".frame.mobile iframe").bounding_box()["width"] <= 375
        page.get_by_label("Version").select_option("text")
        page.get_by_role("button", name="Afficher").click()
        assert page.locator("pre.text-part").inner_text().strip()
        # A test send to the outbox.
        page.get_by_label("Adresses", exact=False).fill("relecture@example.org")
        page.get_by_role("button", name="Envoyer le test").click()
        assert "relecture@example.org : écrit dans la boîte d'envoi locale" in page.content()
        screenshot(page, "09-apercu-texte-et-test", engine)

        # The composer counts the way X does (a link is 23, whatever its length).
        page.goto(f"{base}/posts/new")
        page.get_by_label("Texte", exact=True).fill(
            "Le Mois de l'ESS commence ! https://example.org/" + "x" * 80
        )
        page.wait_for_function(
            "() => document.querySelector('[data-count=length] strong')?.textContent === '51'"
        )
        screenshot(page, "10-composer", engine)

        # The day's events: the posts stage's planner drafts them, with its cost estimate.
        page.goto(f"{base}/posts/planner?day={DAY}&account=mois_ess")
        assert page.get_by_label("Heures de publication", exact=False).input_value() == (
            "09:00,12:30,17:30"
        )
        page.get_by_role("button", name="Préparer les brouillons du jour").click()
        assert "3 brouillons préparés" in page.locator("section.result").inner_text()
        assert "Coût estimé chez X" in page.content() and "mode essai" in page.content()
        drafts = page.locator("li.draft")
        assert drafts.count() == 3
        assert "#MoisESS" in drafts.first.inner_text()  # templates/posts/evenement.txt.j2
        screenshot(page, "11-planificateur-brouillons", engine)
        page.get_by_role("button", name="Valider les brouillons cochés").click()
        assert "Les publications validées sont programmées : 3" in page.content()
        with Session(served.engine) as session:  # type: ignore[arg-type]
            posts = session.exec(select(Post)).all()
        assert [post.status for post in posts] == [PostStatus.scheduled] * 3
        assert all(len(post.event_ids) == 1 for post in posts)

        # The calendar shows them, with the newsletter once scheduled.
        page.goto(f"{base}/newsletters/{newsletter_id}")
        page.get_by_label("Envoyer le").fill(f"{DAY}T08:00")
        page.get_by_role("button", name="Programmer").click()
        assert "campaign serve" in page.locator(".notice").inner_text()
        page.goto(f"{base}/calendar?day={DAY}")
        day = page.locator(f'[data-day="{DAY}"]')
        assert day.locator("a.item.k-post.s-scheduled").count() == 3
        assert day.locator("a.item.k-newsletter.s-scheduled").count() == 1
        screenshot(page, "12-calendrier-mois", engine)
        page.goto(f"{base}/calendar?view=week&day={DAY}")
        assert page.locator(f'[data-day="{DAY}"] a.item').count() == 4
        screenshot(page, "13-calendrier-semaine", engine)
        # Dragging the newsletter to the next day moves it, at the same time.
        page.locator(f'[data-day="{DAY}"] a.item.k-newsletter').drag_to(
            page.locator(f'[data-day="{NEXT_DAY}"]')
        )
        page.wait_for_url(re.compile(r"fait=moved"))
        with Session(served.engine) as session:  # type: ignore[arg-type]
            moved = session.get(Newsletter, newsletter_id).scheduled_at
        assert page.locator(f'[data-day="{NEXT_DAY}"] a.item.k-newsletter').count() == 1
        local_moved = moved.astimezone(served.settings.zone)
        assert (local_moved.date().isoformat(), local_moved.strftime("%H:%M")) == (
            NEXT_DAY,
            "08:00",
        )
        day_item = page.locator(f'[data-day="{DAY}"] a.item.k-post').first
        day_item.click()
        assert "/admin/posts/" in page.url

        # Reading the report once the newsletter went out: the reports stage's table (one
        # newsletter: shown upright, one figure a line), its chart and its files.
        _send(served, newsletter_id)
        page.goto(f"{base}/reports")
        table = page.locator("table.upright").first

        def figure(label: str) -> str:
            row = table.locator("tr", has=page.locator(f'th:text-is("{label}")'))
            return row.locator("td").inner_text()

        assert figure("Titre") == "Le Mois de l'ESS commence"
        assert figure("Destinataires") == str(added)
        assert figure("Destinataires réels") == str(added)
        assert figure("Ouvertures") == "1"
        assert page.locator('svg[data-chart="opens_clicks"]').is_visible()
        screenshot(page, "14-bilans", engine)
        link = page.get_by_role("link", name="HTML (à imprimer)")
        bilan = page.request.get(link.get_attribute("href").replace("/admin", base, 1))
        assert bilan.ok and "Le Mois de l&#39;ESS commence" in bilan.text()
        page.goto(f"{base}/newsletters")
        screenshot(page, "15-newsletters", engine)
        page.goto(f"{base}/settings")
        assert "CAMPAIGN_X_MOIS_ESS_CONSUMER_KEY" in page.content()
        screenshot(page, "16-reglages", engine)

    # Nothing but the newsletter's own event images (in the preview frame) left the machine.
    others = [item for item in offsite.refused if not (item[0] == "image" and "preview" in item[1])]
    assert others == []


def test_pages_fit_a_phone_and_work_with_the_keyboard(served: Served) -> None:
    engine = _engine_name(served)
    with browser_page(width=390, height=844) as (page, _offsite):
        page.goto(f"{served.url}/")
        # Keyboard only: the skip link comes first, the form is filled and sent with keys.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
        page.keyboard.press("Tab")
        page.keyboard.type("viewer@example.org")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/admin/$"))
        for path, name in (
            ("/", "phone-calendrier"),
            ("/newsletters", "phone-newsletters"),
            ("/subscribers", "phone-abonnes"),
            ("/posts/planner", "phone-planificateur"),
            ("/reports", "phone-bilans"),
            ("/settings", "phone-reglages"),
        ):
            page.goto(f"{served.url}{path}")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is wider than a phone ({overflow}px too wide)"
            screenshot(page, name, engine)
        # Every link of the navigation is reachable with Tab.
        page.goto(f"{served.url}/")
        reached = set()
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.getAttribute('href') || ''"))
        for path in ("/newsletters", "/posts", "/subscribers", "/events", "/reports", "/settings"):
            assert f"/admin{path}" in reached, path


def _editing_data(served: Served) -> dict[str, int]:
    """What the editing pages need to show their forms: people on a list, an event, a draft
    newsletter and two posts (one a draft, so its page offers every form)."""
    with Session(served.engine) as session:  # type: ignore[arg-type]
        for number in range(3):
            add_subscriber(
                session,
                f"lecteur{number}@example.org",
                list_names=["Newsletter nationale"],
                profile={"first_name": f"Lecteur {number}", "region": "Bretagne"},
                actor="test",
            )
        session.add(
            Event(
                source_id="E1",
                title="Forum de Rennes",
                starts_at=datetime.fromisoformat("2026-11-05T10:00:00+01:00"),
                city="Rennes",
                region="Bretagne",
                theme="Se loger",
            )
        )
        newsletter = create_newsletter(
            session,
            title="Le Mois en Bretagne",
            subject="Les évènements près de chez vous",
            template="mois-ess",
            list_names=["Newsletter nationale"],
            taxonomy=Taxonomy.from_settings(served.settings),
            event_rule=EventRule(regions=["subscriber"]),
            content={"intro": "Bonjour"},
        )
        draft = create_post(
            session, served.settings, account="mois_ess", text="Le Mois de l'ESS arrive"
        )
        create_post(
            session,
            served.settings,
            account="prix_ess",
            text="Les Prix ESS : votez !",
            scheduled_at=utcnow() + timedelta(days=3),
        )
        session.commit()
        person = session.exec(
            select(Subscriber).where(Subscriber.email == "lecteur0@example.org")
        ).one()
        return {"newsletter": newsletter.id, "post": draft.id, "person": person.id}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("device", "width", "height"), [("laptop", 1280, 900), ("phone", 390, 844)]
)
def test_every_editing_form_fits_and_is_labelled_for_an_admin(
    served: Served, device: str, width: int, height: int
) -> None:
    """The forms only an editor or an admin sees, at laptop and phone width: each page fits the
    window and every field has a label (both checked by ``screenshot``)."""
    engine = _engine_name(served)
    ids = _editing_data(served)
    base = served.url
    with browser_page(width=width, height=height) as (page, _offsite):
        page.goto(f"{base}/login")
        page.get_by_label("Adresse e-mail").fill("admin@example.org")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_label("Mot de passe").press("Enter")
        page.wait_for_url(re.compile(r"/admin/$"))

        def shot(name: str) -> None:
            screenshot(page, f"{device}-admin-{name}", engine)

        page.goto(f"{base}/subscribers/import")
        assert page.get_by_label("Fichier CSV ou XLSX", exact=False).is_visible()
        shot("import-abonnes")
        page.goto(f"{base}/subscribers/{ids['person']}")
        assert page.get_by_role("button", name="Effacer ses données").is_visible()
        shot("abonne-effacement")
        page.goto(f"{base}/newsletters/new")
        assert page.get_by_role("button", name="Créer le brouillon").is_visible()
        shot("newsletter-creation")
        page.goto(f"{base}/newsletters/{ids['newsletter']}/edit")
        assert page.get_by_label("Titre", exact=False).input_value() == "Le Mois en Bretagne"
        shot("newsletter-modification")
        page.goto(f"{base}/newsletters/{ids['newsletter']}/preview")
        page.frame_locator("iframe").locator("body").wait_for()
        assert page.get_by_role("button", name="Envoyer le test").is_visible()
        shot("newsletter-apercu")
        page.goto(f"{base}/posts")
        assert page.locator("tbody tr").count() == 2
        shot("publications")
        page.goto(f"{base}/posts/new")
        # The preview is the chosen account's: its handle heads the card.
        page.get_by_label("@Mois_ESS (X)", exact=True).uncheck()
        page.get_by_label("@Prix_ESS (X)", exact=True).check()
        page.get_by_label("Texte", exact=True).fill("Les Prix ESS 2026 sont ouverts")
        page.wait_for_function(
            "() => document.querySelector('#post-length .handle')?.textContent === '@Prix_ESS'"
        )
        page.get_by_label("@Mois_ESS (X)", exact=True).check()
        page.get_by_label("@Prix_ESS (X)", exact=True).uncheck()
        page.wait_for_function(
            "() => document.querySelector('#post-length .handle')?.textContent === '@Mois_ESS'"
        )
        shot("composer")
        page.goto(f"{base}/posts/{ids['post']}")
        assert page.get_by_role("button", name="Enregistrer le texte").is_visible()
        assert page.get_by_role("button", name="Valider et programmer").is_visible()
        shot("publication")
        page.goto(f"{base}/settings")
        assert page.get_by_role("button", name="Envoyer un message de test").is_visible()
        shot("reglages")


def test_the_label_check_names_each_field_without_a_label() -> None:
    """The check every screenshot runs: it passes labelled fields and names the others."""
    with browser_page() as (page, _offsite):
        page.set_content(
            """
            <label for="a">Nom</label><input id="a">
            <label>Ville <input name="b"></label>
            <input aria-label="Recherche" name="c">
            <span id="t">Région</span><select aria-labelledby="t"></select>
            <input type="hidden" name="csrf"><button type="submit">OK</button>
            <input id="bad1" name="sans-label">
            <label for="bad2"></label><textarea id="bad2"></textarea>
            <label><input type="checkbox" name="bad3"></label>
            <select aria-labelledby="nowhere" name="bad4"></select>
            """
        )
        found = page.evaluate(UNLABELLED_FIELDS)
    assert len(found) == 4
    for name in ("bad1", "bad2", "bad3", "bad4"):
        assert sum(name in html for html in found) == 1, (name, found)
