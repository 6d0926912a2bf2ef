"""The calendar: a month or a week of newsletters and posts, and moving a pending one."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campaign.dashboard import stages, web
from campaign.dashboard.calendar import build_period
from campaign.errors import CampaignError
from campaign.models import utcnow

router = APIRouter()


@router.get("/")
def home(request: Request, view: str = "month", day: str = "", account: str = "") -> Response:
    return _page(request, view, day, account)


def _page(
    request: Request, view: str, day: str, account: str, error: str = "", status_code: int = 200
) -> Response:
    board = web.dashboard(request)
    settings = board.settings
    around = web.parse_day(day) or utcnow().astimezone(settings.zone).date()
    with board.session() as session:
        period = build_period(session, view, around, settings.zone, account)
    return web.render(
        request,
        "calendar.html",
        period=period,
        account=account,
        accounts=settings.social.accounts,
        today=utcnow().astimezone(settings.zone).date(),
        months=web.MONTHS,
        weekdays=web.WEEKDAYS,
        error=error,
        status_code=status_code,
    )


@router.get("/calendar")
def calendar(request: Request, view: str = "month", day: str = "", account: str = "") -> Response:
    return _page(request, view, day, account)


@router.post("/calendar/move")
def move(
    request: Request,
    kind: str = Form(...),
    item_id: int = Form(...),
    at: str = Form(...),
    view: str = Form("month"),
    day: str = Form(""),
    account: str = Form(""),
) -> Response:
    """Reschedule a pending newsletter or post (the calendar's drag and drop, or its form)."""
    board = web.dashboard(request)
    settings = board.settings
    try:
        when = web.parse_local(at, settings, "at")
        with board.session() as session:
            if kind == "newsletter":
                stages.schedule_newsletter(session, item_id, when)
            elif kind == "post":
                stages.move_post(session, item_id, when)
            else:
                raise CampaignError(f"Unknown kind {kind!r}.")
    except CampaignError as exc:
        return _page(request, view, day, account, str(exc), 400)
    query = f"?view={web.quote(view)}&day={web.quote(day)}&account={web.quote(account)}"
    return web.see_other(request, f"/calendar{query}", "moved")
