"""The safety catches in the real Chromium: cancelling a newsletter through its confirmation
and putting it back to draft, approving all the drafts of a plan, sending a newsletter now
through the running service (scheduler and send worker), once."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.models import (
    Delivery,
    DeliveryStatus,
    Newsletter,
    NewsletterStatus,
    Post,
    PostStatus,
    utcnow,
)
from campaign.scheduling.leader import SoleLeadership
from campaign.scheduling.service import Service
from tests.dashboard.browser import browser_page, screenshot
from tests.dashboard.conftest import PASSWORD, Served
from tests.dashboard.test_safety import _events_on, _local_day, _newsletter, _people

pytestmark = pytest.mark.one_database(
    "a page in a real browser, a door: the stages it calls are tested on both engines"
)


def _engine_name(served: Served) -> str:
    return "postgresql" if "postgresql" in served.settings.database.url else "sqlite"


def _sign_in(page, served: Served, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(served.url + target)
    page.get_by_label("Adresse e-mail").fill("editor@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.wait_for_url(re.compile(re.escape(target) + "$"))


def _status(served: Served, newsletter_id: int) -> str:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        return session.get(Newsletter, newsletter_id).status  # type: ignore[union-attr]


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_cancelling_a_newsletter_through_its_confirmation_then_back_to_draft(
    served: Served,
) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        number = _newsletter(session, NewsletterStatus.scheduled)
    engine = _engine_name(served)
    show = f"/newsletters/{number}"
    with browser_page() as (page, offsite):
        _sign_in(page, served, show)
        # The button only asks: the confirmation says to how many it would have gone.
        page.get_by_role("button", name="Annuler la newsletter").click()
        page.wait_for_url(re.compile(rf"{show}/cancel$"))
        assert page.locator("h1").inner_text() == "Annuler la newsletter « Le Mois commence » ?"
        assert page.locator("[data-count=audience]").inner_text() == "3"
        assert _status(served, number) == NewsletterStatus.scheduled
        screenshot(page, "safety-01-confirmer-annulation", engine)
        # Changing one's mind leaves it as it was.
        page.get_by_role("link", name="Ne pas l'annuler").click()
        page.wait_for_url(re.compile(rf"{show}$"))
        assert _status(served, number) == NewsletterStatus.scheduled
        page.get_by_role("button", name="Annuler la newsletter").click()
        page.get_by_role("button", name="Annuler la newsletter").click()  # the confirmed one
        page.wait_for_url(re.compile(r"fait=newsletter-cancelled$"))
        assert _status(served, number) == NewsletterStatus.cancelled
        assert "La newsletter est annulée" in page.locator("[role=status]").inner_text()
        screenshot(page, "safety-02-annulee", engine)
        # It sent nothing: back to draft, editable again.
        page.get_by_role("button", name="Remettre en brouillon").click()
        page.wait_for_url(re.compile(r"fait=newsletter-draft-again$"))
        assert _status(served, number) == NewsletterStatus.draft
        assert page.get_by_role("link", name="Modifier").is_visible()
        assert page.get_by_role("button", name="Envoyer maintenant").is_visible()
        screenshot(page, "safety-03-brouillon", engine)
    assert offsite.refused == []


def test_approving_all_the_drafts_of_a_plan_at_once(served: Served) -> None:
    first, second = _local_day(served, 3), _local_day(served, 4)
    _events_on(served, [first, second])
    engine = _engine_name(served)
    target = f"/posts/planner?day={first.date().isoformat()}&account=mois_ess"
    with browser_page() as (page, offsite):
        _sign_in(page, served, target)
        page.get_by_label("Heures de publication", exact=False).fill("09:00,12:30")
        page.get_by_label("Jusqu'au", exact=False).fill(second.date().isoformat())
        page.get_by_role("button", name="Préparer les brouillons du jour").click()
        assert "4 brouillons préparés" in page.locator("section.result").inner_text()
        with Session(served.engine) as session:  # type: ignore[arg-type]
            drafts = session.exec(select(Post)).all()
        assert len(drafts) == 4 and {post.status for post in drafts} == {PostStatus.draft}
        # Two days' drafts, one button.
        assert {post.scheduled_at.date() for post in drafts} == {first.date(), second.date()}
        screenshot(page, "safety-04-plan", engine)
        page.get_by_role("button", name="Valider les 4 brouillons préparés").click()
        page.get_by_text("Les publications validées sont programmées : 4").wait_for()
        with Session(served.engine) as session:  # type: ignore[arg-type]
            statuses = {post.status for post in session.exec(select(Post))}
        assert statuses == {PostStatus.scheduled}
        assert page.locator("[data-list=refused]").count() == 0
        screenshot(page, "safety-05-plan-valide", engine)
    assert offsite.refused == []


def test_sending_a_newsletter_now_goes_out_once_through_the_service(served: Served) -> None:
    settings = served.settings
    settings.scheduler.poll_interval = 0.2
    settings.scheduler.leader_retry = 0.2
    settings.scheduler.send_interval = 0.3
    with Session(served.engine) as session:  # type: ignore[arg-type]
        _people(session)
        number = _newsletter(session, NewsletterStatus.scheduled)
    engine = _engine_name(served)
    show = f"/newsletters/{number}"
    service = Service(settings, engine=served.engine, leadership=SoleLeadership())  # type: ignore[arg-type]
    service.start()
    try:
        wait_until(service.leading.is_set)
        with browser_page() as (page, offsite):
            _sign_in(page, served, show)
            page.get_by_role("button", name="Envoyer maintenant").click()
            page.wait_for_url(re.compile(rf"{show}/send-now$"))
            assert page.locator("[data-count=audience]").inner_text() == "3"
            assert "Elle était programmée le" in page.content()
            screenshot(page, "safety-06-confirmer-envoi", engine)
            with Session(served.engine) as session:  # type: ignore[arg-type]
                scheduled_at = session.get(Newsletter, number).scheduled_at  # type: ignore[union-attr]
            assert scheduled_at > utcnow() + timedelta(days=1)
            page.get_by_role("button", name="Envoyer maintenant").click()
            page.wait_for_url(re.compile(r"fait=newsletter-sending-now$"))
            wait_until(lambda: _status(served, number) == NewsletterStatus.sent)
            # Posted confirmed once more (a second tab, a resent form): refused, nothing more.
            page.reload()
            assert page.get_by_role("button", name="Envoyer maintenant").count() == 0
            token = page.locator("input[name=csrf]").first.get_attribute("value")
            again = page.request.post(
                served.url + f"{show}/send-now", form={"csrf": token, "confirm": "oui"}
            )
            assert again.status == 400
            assert "seule une newsletter en brouillon, programmée ou manquée" in again.text()
            screenshot(page, "safety-07-envoyee", engine)
        assert offsite.refused == []
    finally:
        service.stop()
    with Session(served.engine) as session:  # type: ignore[arg-type]
        rows = session.exec(select(Delivery).where(Delivery.newsletter_id == number)).all()
    assert sorted(row.status for row in rows) == [DeliveryStatus.sent] * 3
    messages = [path for path in Path(settings.mail.outbox_dir).rglob("*") if path.is_file()]
    assert len(messages) == 3  # once each
