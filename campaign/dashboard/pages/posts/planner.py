"""The "events of the day" planner: drafts to review and approve, and what they cost on X."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campaign.dashboard import pagekit, queries
from campaign.dashboard.pages.posts.shared import handles_by_account, networks_by_account
from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery, find_events
from campaign.models import Event, PostStatus, utcnow
from campaign.social.cost import account_networks, estimate, usage_of
from campaign.social.length import check_length
from campaign.social.networks import NETWORK_NAMES, network_of, transport_for
from campaign.social.planning import Plan, featured_event_ids, parse_times, plan_event_posts
from campaign.social.posts import ScheduleResult, schedule_posts

router = APIRouter()

DEFAULT_TIMES = "09:00,12:30,17:30"  # three or four events a day: what worked (2011 report)


def _planner(
    request: Request,
    day: date,
    account: str,
    *,
    error: str | CampaignError = "",
    status_code: int = 200,
    plan: Plan | None = None,
    approval: ScheduleResult | None = None,
    times: str = DEFAULT_TIMES,
    until: str = "",
    theme: bool = False,
    also: list[str] | None = None,
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    handles = handles_by_account(request)
    account = account if account in handles else next(iter(handles), "")
    start = datetime.combine(day, time.min, tzinfo=settings.zone)
    with board.session() as session:
        events = find_events(session, EventQuery(start=start, end=start + timedelta(days=1)))
        drafts = queries.day_event_posts(session, settings.zone, day, account)
        featured = featured_event_ids(session)
        by_id: dict[int, Event] = {event.id: event for event in events}  # type: ignore[misc]
        for post in drafts:
            for event_id in post.event_ids:
                if event_id not in by_id:
                    found = session.get(Event, event_id)
                    if found is not None:
                        by_id[event_id] = found
        # Every draft of the planner still waiting on this account, whatever its day: the
        # drafts of a plan over several days, to approve at once.
        all_waiting = queries.waiting_event_drafts(session, account, utcnow())
    waiting = [post for post in drafts if post.status == PostStatus.draft]
    planned_days: dict[date, int] = {}
    for planned in plan.planned if plan else []:
        planned_days[planned.day] = planned_days.get(planned.day, 0) + 1
    return pagekit.render(
        request,
        "posts/planner.html",
        status_code=status_code,
        day=day,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        account=account,
        handles=handles,
        events=events,
        drafts=drafts,
        featured=featured,
        events_by_id=by_id,
        parts_of=lambda post: [
            {"text": part, "length": check_length(part, network_of(settings, post.account))[0]}
            for part in post.parts
        ],
        waiting_cost=estimate(
            usage_of(waiting, account_networks(settings)), settings.social.x.prices
        ),
        dry_run=bool(account) and transport_for(settings, account).dry_run,
        prices=settings.social.x.prices,
        plan=plan,
        planned_days=sorted(planned_days.items()),
        approval=approval,
        all_waiting=all_waiting,
        waiting_days=sorted(
            {post.scheduled_at.astimezone(settings.zone).date() for post in all_waiting}  # type: ignore[union-attr]
        ),
        times=times,
        until=until,
        theme=theme,
        also=also or [],
        networks=networks_by_account(request),
        network_names=NETWORK_NAMES,
        poll_interval=settings.scheduler.poll_interval,
        error=error,
    )


def _day(text: str, request: Request) -> date:
    return (
        pagekit.parse_day(text)
        or utcnow().astimezone(pagekit.dashboard(request).settings.zone).date()
    )


@router.get("/posts/planner")
def planner(request: Request, day: str = "", account: str = "") -> Response:
    pagekit.query_day(day, "day")
    return _planner(request, _day(day, request), account)


@router.post("/posts/planner")
def plan(
    request: Request,
    day: str = Form(""),
    account: str = Form(""),
    until: str = Form(""),
    times: str = Form(DEFAULT_TIMES),
    theme: str = Form(""),
    also: list[str] = Form([]),
) -> Response:
    """Draft the event posts of the day (or of the days up to ``until``) with the planner of the
    posts stage, on the page's account and those ticked in ``also`` (one draft per account for
    each event), then show its notes and what publishing the drafts would cost."""
    board = pagekit.dashboard(request)
    first = _day(day, request)
    typed: dict[str, Any] = {"times": times, "until": until, "theme": bool(theme), "also": also}
    try:
        last = pagekit.parse_day(until) if until.strip() else first
        if last is None:
            raise CampaignError.of("form.not_a_day", "until", text=until)
        with board.session() as session:
            result = plan_event_posts(
                session,
                board.settings,
                account=account,
                accounts=also,
                date_from=first,
                date_to=last,
                times=parse_times(times),
                theme_of_the_day=bool(theme),
                templates_dir=board.templates_dir,
            )
    except CampaignError as exc:
        return _planner(request, first, account, error=exc, status_code=400, **typed)
    return _planner(request, first, account, plan=result, **typed)


NOTHING_TICKED = "nothing-ticked"  # the planner page words it next to the drafts


@router.post("/posts/planner/approve")
def approve(
    request: Request,
    day: str = Form(""),
    account: str = Form(""),
    post_ids: list[pagekit.ListedId] = Form([]),
) -> Response:
    """Schedule the ticked drafts (or all those of a plan, sent as the same list), each
    checked again; those refused are listed with why, the others go through."""
    board = pagekit.dashboard(request)
    the_day = _day(day, request)
    if not post_ids:
        return _planner(request, the_day, account, error=NOTHING_TICKED, status_code=400)
    try:
        with board.session() as session:
            result = schedule_posts(session, board.settings, post_ids)
    except CampaignError as exc:
        return _planner(request, the_day, account, error=exc, status_code=400)
    status_code = 200 if result.scheduled else 400
    return _planner(request, the_day, account, approval=result, status_code=status_code)
