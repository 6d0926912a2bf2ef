"""The calendar: a month or a week of newsletters, posts and recurring jobs; moving a pending
newsletter or post (the newsletters' and posts' own scheduling functions decide)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campaign import formatting
from campaign.dashboard import pagekit
from campaign.dashboard.calendar import build_period, missed_items
from campaign.dashboard.sender_words import refusal_text
from campaign.errors import CampaignError
from campaign.i18n import N_
from campaign.models import utcnow
from campaign.newsletters.records import schedule_newsletter
from campaign.sender import SenderRefused
from campaign.social.moving import MoveRefused
from campaign.social.posts import reschedule_post

router = APIRouter()


VIEWS = ("month", "week")


@router.get("/")
def home(request: Request, view: str = "month", day: str = "", account: str = "") -> Response:
    return calendar(request, view, day, account)


def _page(
    request: Request,
    view: str,
    day: str,
    account: str,
    error: str | CampaignError = "",
    status_code: int = 200,
    refusal: MoveRefused | None = None,
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    around = pagekit.parse_day(day) or utcnow().astimezone(settings.zone).date()
    with board.session() as session:
        period = build_period(session, settings, view, around, account)
        missed = missed_items(session, settings)
    shown = {(item.kind, item.id) for week in period.weeks for cell in week for item in cell.items}
    return pagekit.render(
        request,
        "calendar.html",
        period=period,
        missed=missed,
        account=account,
        accounts=settings.social.accounts,
        today=utcnow().astimezone(settings.zone).date(),
        months=formatting.month_names(settings.general.language),
        weekdays=formatting.weekday_names(settings.general.language),
        poll_interval=settings.scheduler.poll_interval,
        error=error,
        refusal=refusal,
        refusal_shown=refusal is not None and ("post", refusal.post_id) in shown,
        status_code=status_code,
    )


@router.get("/calendar")
def calendar(request: Request, view: str = "month", day: str = "", account: str = "") -> Response:
    pagekit.check_choice(view, VIEWS, "view")
    pagekit.query_day(day, "day")
    return _page(request, view, day, account)


@router.post("/calendar/move")
def move(
    request: Request,
    item_id: pagekit.FormId,
    kind: str = Form(...),
    at: str = Form(...),
    view: str = Form("month"),
    day: str = Form(""),
    account: str = Form(""),
) -> Response:
    """Give a pending newsletter or post a new time (the drag and drop, or its form)."""
    board = pagekit.dashboard(request)
    settings = board.settings
    try:
        when = pagekit.parse_local(at, settings, "at")
        with board.session() as session:
            if kind == "newsletter":
                schedule_newsletter(session, item_id, when, settings=settings)
            elif kind == "post":
                reschedule_post(session, settings, item_id, when)
            else:
                unknown = N_("“{kind}” is neither a newsletter nor a post.")
                raise CampaignError(pagekit.say(request, unknown, kind=kind))
    except MoveRefused as exc:  # said in French next to the post, which keeps its time
        return _page(request, view, day, account, status_code=400, refusal=exc)
    except SenderRefused as exc:  # a newsletter over SMTP from the sample identity
        return _page(request, view, day, account, refusal_text(request, exc), 400)
    except CampaignError as exc:
        return _page(request, view, day, account, exc, 400)
    query = f"?view={pagekit.quote(view)}&day={pagekit.quote(day)}&account={pagekit.quote(account)}"
    return pagekit.see_other(request, f"/calendar{query}", "moved")
