"""Unsubscribing and resubscribing a person: each goes through a confirmation page that says
what will happen, posted again with ``confirm=oui``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campaign.audience import subscribers as audience
from campaign.dashboard import pagekit
from campaign.dashboard.pages.subscribers.person import person_page
from campaign.dashboard.pages.subscribers.shared import (
    ADMIN,
    METHOD,
    list_memberships,
    person_or_404,
)
from campaign.errors import CampaignError
from campaign.i18n import N_
from campaign.models import SubscriberStatus

router = APIRouter()


def _when(moment: datetime | None, request: Request) -> str:
    settings = pagekit.dashboard(request).settings
    date, time = (
        pagekit.local(moment, settings, "%d/%m/%Y"),
        pagekit.local(moment, settings, "%H:%M"),
    )
    return pagekit.say(request, N_("{date} at {time}"), date=date, time=time)


@router.post("/subscribers/{subscriber_id}/unsubscribe", dependencies=ADMIN)
def unsubscribe(
    request: Request,
    subscriber_id: pagekit.Id,
    list_name: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    board = pagekit.dashboard(request)
    with board.session() as session:
        subscriber = person_or_404(session, subscriber_id)
        email = subscriber.email or ""
        current = [m["list"] for m in list_memberships(session, subscriber) if not m["left"]]
    if list_name and list_name not in current:
        return person_page(
            request,
            subscriber_id,
            pagekit.say(request, N_("This person is not subscribed to “{name}”."), name=list_name),
            400,
        )
    if confirm != "oui":
        what = (
            pagekit.say(request, N_("the list “{name}”"), name=list_name)
            if list_name
            else pagekit.say(request, N_("all newsletters (whatever their lists)"))
        )
        return pagekit.confirm_page(
            request,
            pagekit.Confirmation(
                title=pagekit.say(request, N_("Unsubscribe this person?")),
                lines=[
                    pagekit.say(
                        request,
                        N_("1 person, {email}, will be unsubscribed from {what}."),
                        email=email,
                        what=what,
                    ),
                    pagekit.say(
                        request,
                        N_(
                            "They will no longer receive these newsletters. This will be noted "
                            "in the consent log, in your name. Only their new consent will "
                            "allow subscribing them again."
                        ),
                    ),
                ],
                action=f"/subscribers/{subscriber_id}/unsubscribe",
                button=pagekit.say(request, N_("Unsubscribe them")),
                back=f"/subscribers/{subscriber_id}",
                fields={"list_name": list_name},
            ),
        )
    with board.session() as session:
        audience.unsubscribe(
            session,
            email,
            actor=f"web:{request.state.user.email}",
            method=METHOD,
            list_name=list_name or None,
        )
    return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-unsubscribed")


@router.post("/subscribers/{subscriber_id}/resubscribe", dependencies=ADMIN)
def resubscribe(
    request: Request,
    subscriber_id: pagekit.Id,
    list_name: str = Form(""),
    confirm: str = Form(""),
    consent: str = Form(""),
    force: str = Form(""),
) -> Response:
    board = pagekit.dashboard(request)
    try:
        with board.session() as session:
            subscriber = person_or_404(session, subscriber_id)
            check = audience.resubscription(session, subscriber, list_name or None)
    except CampaignError:
        missing = pagekit.say(request, N_("The list “{name}” does not exist."), name=list_name)
        return person_page(request, subscriber_id, missing, 400)
    if check.pending:
        return person_page(
            request,
            subscriber_id,
            pagekit.say(
                request,
                N_(
                    "This person has not confirmed their address yet: only their confirmation "
                    "makes them active."
                ),
            ),
            400,
        )
    if not check.undo:
        return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-resubscribed")
    given = {"consent": consent == "oui", "force": force == "oui"}
    needed = {"consent": check.self_at is not None, "force": bool(check.blocked)}
    if confirm != "oui" or any(needed[key] and not given[key] for key in needed):
        status = 400 if confirm == "oui" else 200
        return _confirm_resubscribe(request, subscriber_id, list_name, check, status)
    try:
        with board.session() as session:
            audience.resubscribe(
                session,
                check.email,
                actor=f"web:{request.state.user.email}",
                method=METHOD,
                list_name=list_name or None,
                consent=given["consent"],
                force=given["force"],
            )
    except CampaignError as exc:
        return person_page(request, subscriber_id, exc, 400)
    return pagekit.see_other(request, f"/subscribers/{subscriber_id}", "person-resubscribed")


def _confirm_resubscribe(
    request: Request,
    subscriber_id: int,
    list_name: str,
    check: audience.Resubscription,
    status_code: int,
) -> Response:
    """What resubscribing will do, and the boxes the law asks to tick first (``check``: what
    the stage says it needs)."""
    where = (
        pagekit.say(request, N_("the list “{name}”"), name=check.list_name)
        if check.list_name
        else pagekit.say(request, N_("their newsletters"))
    )
    will = N_("1 person, {email}, will be subscribed again to {where}.")
    lines = [pagekit.say(request, will, email=check.email, where=where)]
    checks = []
    if check.blocked:
        lines.append(
            pagekit.say(request, N_("Their address is in error (messages do not reach them)."))
            if check.blocked == SubscriberStatus.bounced
            else pagekit.say(request, N_("They reported a newsletter as junk (complaint)."))
        )
        works = N_("I know their address works again and they want to receive the newsletters")
        checks.append(("force", pagekit.say(request, works)))
    if check.self_at is not None:
        lines.append(
            pagekit.say(
                request,
                N_(
                    "They unsubscribed themselves on {when}. The GDPR allows subscribing them "
                    "again only with their new consent."
                ),
                when=_when(check.self_at, request),
            )
        )
        again = N_("This person gave me their consent again to receive the newsletters")
        checks.append(("consent", pagekit.say(request, again)))
    lines.append(pagekit.say(request, N_("This will be noted in the consent log, in your name.")))
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            title=pagekit.say(request, N_("Subscribe this person again?")),
            lines=lines,
            action=f"/subscribers/{subscriber_id}/resubscribe",
            button=pagekit.say(request, N_("Subscribe them again")),
            back=f"/subscribers/{subscriber_id}",
            fields={"list_name": list_name},
            checks=checks,
            danger=False,
        ),
        status_code=status_code,
    )
