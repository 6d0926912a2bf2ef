"""The newsletters' list with their figures, and a newsletter's own page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from campaign.dashboard import pagekit
from campaign.errors import CampaignError
from campaign.models import Newsletter, NewsletterStatus
from campaign.newsletters import allowed, queue, records
from campaign.reports import Period
from campaign.reports.queries import NewsletterFigures, newsletter_figures

router = APIRouter()


def _figures(session: Session, settings: Any, ids: list[int]) -> dict[int, NewsletterFigures]:
    """The reports stage's figures of these sent newsletters, by newsletter."""
    if not ids:
        return {}
    found = newsletter_figures(session, Period(None, None, settings.zone), ids)
    return {figure.id: figure for figure in found}


def get_or_404(session: Session, newsletter_id: int) -> Newsletter:
    try:
        return records.get_newsletter(session, newsletter_id)
    except CampaignError:
        raise HTTPException(404) from None


@router.get("/newsletters")
def index(request: Request) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletters = list(reversed(records.list_newsletters(session)))
        figures = _figures(session, board.settings, [n.id for n in newsletters if n.sent_at])  # type: ignore[misc]
    return pagekit.render(
        request, "newsletters/list.html", newsletters=newsletters, figures=figures
    )


@router.get("/newsletters/{newsletter_id}")
def show(request: Request, newsletter_id: pagekit.Id) -> Response:
    return show_page(request, newsletter_id)


def show_page(
    request: Request, newsletter_id: int, error: str | CampaignError = "", status_code: int = 200
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = get_or_404(session, newsletter_id)
        data = records.newsletter_json(session, newsletter, board.settings)
        audience = (
            records.count_audience(session, newsletter)
            if allowed.may(newsletter, allowed.EDIT) is None
            else None
        )
        figures = _figures(session, board.settings, [newsletter_id]).get(newsletter_id)
        counts = queue.counts(session, newsletter_id)
        restorable = allowed.may(newsletter, allowed.RESTORE) is None and queue.sent_nothing(
            session, newsletter_id
        )
    return pagekit.render(
        request,
        "newsletters/show.html",
        status_code=status_code,
        newsletter=newsletter,
        data=data,
        audience=audience,
        figures=figures,
        counts=counts,
        editable=allowed.may(newsletter, allowed.EDIT) is None,
        schedule_value=pagekit.input_value(newsletter.scheduled_at, board.settings),
        schedulable=allowed.may(newsletter, allowed.MOVE) is None,
        sendable=allowed.may(newsletter, allowed.SEND) is None,
        cancellable=allowed.may(newsletter, allowed.CANCEL) is None,
        pausable=allowed.may(newsletter, allowed.PAUSE) is None,
        resumable=allowed.may(newsletter, allowed.RESUME) is None,
        restorable=restorable,
        labels=board.labels,
        poll_interval=board.settings.scheduler.poll_interval,
        error=error,
        statuses=NewsletterStatus,
    )
