"""Status changes: schedule, send now, pause, resume, cancel, back to draft."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from campaign.dashboard import pagekit
from campaign.dashboard.pages.newsletters.listing import get_or_404, show_page
from campaign.dashboard.sender_words import refusal_text
from campaign.errors import CampaignError
from campaign.models import Newsletter
from campaign.newsletters import allowed, progress, queue, records
from campaign.newsletters.send_checks import check_sendable
from campaign.sender import SenderRefused

router = APIRouter()


@router.post("/newsletters/{newsletter_id}/schedule")
def schedule(request: Request, newsletter_id: pagekit.Id, at: str = Form(...)) -> Response:
    board = pagekit.dashboard(request)
    try:
        when = pagekit.parse_local(at, board.settings, "at")
        with board.session() as session:
            get_or_404(session, newsletter_id)
            records.schedule_newsletter(session, newsletter_id, when, settings=board.settings)
    except SenderRefused as exc:
        error = refusal_text(request, exc)
        return show_page(request, newsletter_id, error=error, status_code=400)
    except CampaignError as exc:
        return show_page(request, newsletter_id, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-scheduled")


def _status_change(request: Request, newsletter_id: int, change: Any, done: str) -> Response:
    board = pagekit.dashboard(request)
    try:
        with board.session() as session:
            get_or_404(session, newsletter_id)
            change(session, newsletter_id)
    except CampaignError as exc:
        return show_page(request, newsletter_id, error=exc, status_code=400)
    return pagekit.see_other(request, f"/newsletters/{newsletter_id}", done)


@router.post("/newsletters/{newsletter_id}/pause")
def pause(request: Request, newsletter_id: pagekit.Id) -> Response:
    return _status_change(request, newsletter_id, queue.pause, "newsletter-paused")


@router.post("/newsletters/{newsletter_id}/resume")
def resume(request: Request, newsletter_id: pagekit.Id) -> Response:
    return _status_change(request, newsletter_id, queue.resume, "newsletter-resumed")


def _situation(session: Session, newsletter: Newsletter) -> dict[str, Any]:
    """What a confirmation page says of a newsletter: who it goes to, what already left."""
    return {
        "newsletter": newsletter,
        "lists": records.list_names(session, newsletter),
        **asdict(progress.situation(session, newsletter)),
    }


@router.post("/newsletters/{newsletter_id}/cancel")
def cancel(request: Request, newsletter_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Nothing more of it will be sent: asked first, naming who would have received it."""
    if pagekit.confirmed(confirm):
        return _status_change(request, newsletter_id, queue.cancel, "newsletter-cancelled")
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = get_or_404(session, newsletter_id)
        refusal = allowed.may(newsletter, allowed.CANCEL)
        if refusal is not None:
            return show_page(request, newsletter_id, CampaignError(refusal), 400)
        context = _situation(session, newsletter)
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            action=f"/newsletters/{newsletter_id}/cancel",
            back=f"/newsletters/{newsletter_id}",
            template="newsletters/confirm_cancel.html",
            context=context,
        ),
    )


@router.post("/newsletters/{newsletter_id}/send-now")
def send_now(request: Request, newsletter_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Send it at once, through the scheduler like any scheduled newsletter: asked first,
    naming how many people it goes to; the checks a send makes are made before asking."""
    board = pagekit.dashboard(request)
    settings = board.settings
    try:
        with board.session() as session:
            newsletter = get_or_404(session, newsletter_id)
            if pagekit.confirmed(confirm):
                records.send_now(session, newsletter_id, settings=settings)
                context = {}
            else:
                check_sendable(session, newsletter, settings)
                context = _situation(session, newsletter)
    except CampaignError as exc:
        return show_page(request, newsletter_id, error=exc, status_code=400)
    if pagekit.confirmed(confirm):
        return pagekit.see_other(request, f"/newsletters/{newsletter_id}", "newsletter-sending-now")
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            action=f"/newsletters/{newsletter_id}/send-now",
            back=f"/newsletters/{newsletter_id}",
            template="newsletters/confirm_send_now.html",
            danger=False,
            context={**context, "poll_interval": settings.scheduler.poll_interval},
        ),
    )


@router.post("/newsletters/{newsletter_id}/draft")
def back_to_draft(request: Request, newsletter_id: pagekit.Id) -> Response:
    """A cancelled newsletter that sent nothing is a draft again (nothing is lost: asked
    without a confirmation step, it can be cancelled again)."""
    return _status_change(request, newsletter_id, queue.back_to_draft, "newsletter-draft-again")
