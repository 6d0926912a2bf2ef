"""Posts: the composer with X's weighted count, thread parts (cut automatically or written by
hand) and an image with its description; a post's page (edit, move, cancel, publish now); the
"events of the day" planner with its drafts to review and approve, and what they cost on X.

Every change is one call to :mod:`campaign.social.posts` or :mod:`campaign.social.planning`.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlmodel import Session

from campaign.dashboard import pagekit, queries
from campaign.errors import CampaignError
from campaign.events.catalogue import EventQuery, find_events
from campaign.models import Event, Post, PostStatus, utcnow
from campaign.social import TransportError, allowed, media
from campaign.social.cost import account_networks, estimate, usage_of
from campaign.social.length import NO_THREADS, check_length, join_thread, limit_for
from campaign.social.limits import account_limit, account_limits
from campaign.social.media import media_file
from campaign.social.moving import MoveRefused
from campaign.social.networks import NETWORK_NAMES, network_of, transport_for
from campaign.social.planning import Plan, featured_event_ids, parse_times, plan_event_posts
from campaign.social.posts import (
    ScheduleResult,
    cancel_post,
    checked_parts,
    create_posts,
    edit_post,
    get_post,
    list_posts,
    publish_post,
    reschedule_post,
    schedule_posts,
    thread_parts,
)

router = APIRouter()

DEFAULT_TIMES = "09:00,12:30,17:30"  # three or four events a day: what worked (2011 report)


def _get(session: Session, post_id: int) -> Post:
    try:
        return get_post(session, post_id)
    except CampaignError:
        raise HTTPException(404) from None


def _handles(request: Request) -> dict[str, str]:
    return {
        name: account.handle
        for name, account in pagekit.dashboard(request).settings.social.accounts.items()
    }


def _networks(request: Request) -> dict[str, str]:
    """The network of each configured account."""
    accounts = pagekit.dashboard(request).settings.social.accounts
    return {name: account.network for name, account in accounts.items()}


def _network(request: Request, account: str) -> str:
    """The network of ``account`` (X's rules for an unknown or empty one)."""
    return network_of(pagekit.dashboard(request).settings, account)


def _pieces(
    text: str, *, split: bool, thread: bool, network: str = "x", limit: int | None = None
) -> list[str]:
    """The parts as typed: the whole text, or a thread written by hand (paragraphs, or parts
    between ``---`` lines); with ``split``, each part too long (past ``limit``, the account's
    server's own when known) becomes several."""
    text = text.strip()
    if not text:
        return []
    pieces = join_thread(thread_parts(text) if thread else [text], network)
    if network in NO_THREADS:  # LinkedIn: one post, never cut (shown too long if it is)
        return pieces
    return checked_parts(pieces, split=True, network=network, limit=limit) if split else pieces


def _parts(
    text: str, split: bool, thread: bool = False, network: str = "x", limit: int | None = None
) -> list[dict[str, Any]]:
    """Each part the text would be published as, with its length as its network counts it
    (valid: within ``limit``, the account's server's own when known)."""
    return [
        {"text": part, "length": length, "valid": valid}
        for part in _pieces(text, split=split, thread=thread, network=network, limit=limit)
        for length, valid in [check_length(part, network, limit)]
    ]


def _limits(request: Request) -> dict[str, int]:
    """The limit of each account whose server said its own (a Mastodon instance's, read by a
    metrics sync): the counters use it rather than the network's default."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        return account_limits(session, board.settings)


def _as_typed(post: Post) -> tuple[str, bool]:
    """A post's text as the composer shows it: a thread's parts between ``---`` lines."""
    if len(post.parts) > 1:
        return "\n---\n".join(post.parts), True
    return post.text, False


@router.get("/posts")
def index(request: Request, account: str = "", status: str = "", created: str = "") -> Response:
    """The posts, with those the composer just created (``created``: their ids) listed first."""
    board = pagekit.dashboard(request)
    pagekit.check_choice(status, [item.value for item in PostStatus], "status")
    ids = [
        int(item)
        for item in created.split(",")[:20]
        if item.strip().isdigit() and 0 < int(item) < 2**31  # an id the database can hold
    ]
    with board.session() as session:
        posts = list_posts(session, account=account or None, status=status or None)
        new_posts = [post for post in (session.get(Post, i) for i in ids) if post is not None]
    return pagekit.render(
        request,
        "posts/list.html",
        created=new_posts,
        networks=_networks(request),
        network_names=NETWORK_NAMES,
        posts=posts,
        account=account,
        status=status,
        handles=_handles(request),
        statuses=[item.value for item in PostStatus],
    )


def _chosen(request: Request, accounts: list[str], account: str = "") -> list[str]:
    """The accounts ticked (or the one named by ``account``, as before several could be)."""
    return list(dict.fromkeys(accounts or ([account] if account else [])))


def _overrides(names: list[str], texts: list[str], chosen: list[str]) -> dict[str, str]:
    """Each ticked account's own text, when one was typed (the form sends the accounts' names
    and their texts as two lists in the same order)."""
    return {
        name: text.strip()
        for name, text in zip(names, texts, strict=False)
        if text.strip() and name in chosen
    }


def _previews(
    request: Request,
    accounts: list[str],
    text: str,
    overrides: dict[str, str],
    *,
    split: bool,
    thread: bool,
) -> list[dict[str, Any]]:
    """One live counter per network and limit (and per account with its own text): each part
    as that network counts it against the account's own limit when its server set one, and the
    accounts it goes to."""
    handles = _handles(request)
    limits = _limits(request)
    groups: dict[tuple[str, int | None, str], dict[str, Any]] = {}
    for name in accounts or [""]:
        network = _network(request, name)
        own = limits.get(name)
        words = overrides.get(name) or text
        group = groups.get((network, own, words))
        if group is None:
            try:
                parts = _parts(words, split, thread, network, own)
            except CampaignError:
                parts = []
            group = groups[(network, own, words)] = {
                "network": network,
                "limit": limit_for(network, own),
                "parts": parts,
                "handles": [],
                "own": name in overrides,
            }
        group["handles"].append(handles.get(name, name))
    return list(groups.values())


def _composer(
    request: Request,
    *,
    accounts: list[str] | None = None,
    text: str = "",
    at: str = "",
    split: bool = False,
    thread: bool = False,
    alt: str = "",
    overrides: dict[str, str] | None = None,
    error: str | CampaignError = "",
    status_code: int = 200,
) -> Response:
    handles = _handles(request)
    chosen = [name for name in accounts or [] if name in handles] or list(handles)[:1]
    overrides = overrides or {}
    return pagekit.render(
        request,
        "posts/compose.html",
        status_code=status_code,
        handles=handles,
        chosen=chosen,
        networks=_networks(request),
        network_names=NETWORK_NAMES,
        text=text,
        at=at,
        split=split,
        thread=thread,
        alt=alt,
        overrides=overrides,
        previews=_previews(request, chosen, text, overrides, split=split, thread=thread),
        image_sizes=_image_sizes(request),
        error=error,
        error_inputs={"accounts": f"account-{chosen[0]}" if chosen else "accounts"},
    )


def _image_sizes(request: Request) -> list[dict[str, Any]]:
    """The largest image each network of the accounts takes, in MB (the composer says it)."""
    settings = pagekit.dashboard(request).settings
    networks = sorted({network_of(settings, name) for name in settings.social.accounts} or {"x"})
    found = []
    for network in networks:
        sizes = media.size_limits(network)
        found.append(
            {
                "network": NETWORK_NAMES.get(network, network),
                "still": round(sizes["image/jpeg"] / media.MB),
                "gif": round(sizes["image/gif"] / media.MB),
            }
        )
    return found


@router.get("/posts/new", dependencies=[Depends(pagekit.require_editor)])
def new(request: Request) -> Response:
    return _composer(request)


@router.get("/posts/length", response_class=HTMLResponse)
def length(
    request: Request,
    text: str = "",
    account: str = "",
    accounts: list[str] = Query([]),
    split: str = "",
    thread: str = "",
    override_account: list[str] = Query([]),
    override_text: list[str] = Query([]),
) -> Response:
    """The live counters: each part's length as each ticked account's network counts it (one
    counter per network, and one per account given its own text), with the previews."""
    chosen = _chosen(request, accounts, account)
    overrides = _overrides(override_account, override_text, chosen)
    return pagekit.render(
        request,
        "posts/_lengths.html",
        previews=_previews(
            request, chosen, text, overrides, split=bool(split), thread=bool(thread)
        ),
        network_names=NETWORK_NAMES,
        split=bool(split),
    )


def _save_image(request: Request, image: UploadFile, network: str) -> Path:
    """Keep an uploaded image if ``network``'s policy takes it (:mod:`campaign.social.media`)."""
    data = image.file.read(media.largest_image(network) + 1)
    suffix = media.SUFFIXES[media.check_upload(data, name=image.filename or "", network=network)]
    folder = Path(pagekit.dashboard(request).settings.dashboard.media_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}{suffix}"
    path.write_bytes(data)
    return path.resolve()


@router.post("/posts/new")
def create(
    request: Request,
    account: str = Form(""),
    accounts: list[str] = Form([]),
    text: str = Form(""),
    at: str = Form(""),
    split: str = Form(""),
    thread: str = Form(""),
    alt: str = Form(""),
    override_account: list[str] = Form([]),
    override_text: list[str] = Form([]),
    image: UploadFile | None = File(None),
) -> Response:
    """One post per ticked account, each with the common text or its own, each checked by its
    network's rules before any is stored; one post opens its page, several are listed."""
    board = pagekit.dashboard(request)
    settings = board.settings
    chosen = _chosen(request, accounts, account)
    overrides = _overrides(override_account, override_text, chosen)
    try:
        when = pagekit.parse_local(at, settings, "at") if at.strip() else None
        images = []
        if image is not None and image.filename:
            if not alt.strip():
                raise CampaignError.of(
                    "image.no_alt", "alt", label=f"Image {image.filename!r}", name=image.filename
                )
            # Kept if the first account's network takes it; create_posts checks it by each
            # ticked account's network before any post is stored.
            saved = _save_image(request, image, _network(request, chosen[0] if chosen else ""))
            images.append({"path": str(saved), "alt": alt.strip()})
        with board.session() as session:
            posts = create_posts(
                session,
                settings,
                accounts=chosen,
                text=None if thread else text,
                parts=thread_parts(text) if thread else None,
                variants={
                    name: thread_parts(own) if thread else [own] for name, own in overrides.items()
                },
                scheduled_at=when,
                split=bool(split),
                images=images,
            )
            ids = [post.id for post in posts]
    except CampaignError as exc:
        return _composer(
            request,
            accounts=chosen,
            text=text,
            at=at,
            split=bool(split),
            thread=bool(thread),
            alt=alt,
            overrides=overrides,
            error=exc,
            status_code=400,
        )
    if len(ids) == 1:
        return pagekit.see_other(request, f"/posts/{ids[0]}", "post-created")
    return pagekit.see_other(request, f"/posts?created={','.join(str(i) for i in ids)}")


# --- the planner (before /posts/{id}, whose path would match it) ---------------------------------


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
    handles = _handles(request)
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
        networks=_networks(request),
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


# --- one post ------------------------------------------------------------------------------------


def _show(
    request: Request,
    post_id: int,
    error: str | CampaignError = "",
    status_code: int = 200,
    approval: ScheduleResult | None = None,
    refusal: MoveRefused | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    """A post's page; ``typed``: the edit form as sent (text, thread, split, at), when it was
    refused, so that nothing typed is lost."""
    board = pagekit.dashboard(request)
    settings = board.settings
    with board.session() as session:
        post = _get(session, post_id)
        events = [e for e in (session.get(Event, i) for i in post.event_ids) if e is not None]
        own = account_limit(session, settings, post.account)  # its instance's, when known
    text, thread = _as_typed(post)
    typed = typed or {}
    edit_error = ""
    if typed:  # the refusal goes by the text it concerns, in the pages' words
        if isinstance(error, CampaignError):
            worded = pagekit.FormErrors.of(error, settings)
            error = "\n".join(sentence for _input, sentence in worded.summary)
        edit_error, error = error, ""
    pending = post.status not in (PostStatus.published, PostStatus.cancelled)
    return pagekit.render(
        request,
        "posts/show.html",
        status_code=status_code,
        post=post,
        events=events,
        handle=_handles(request).get(post.account, post.account),
        limit=limit_for(network_of(settings, post.account), own),
        network=network_of(settings, post.account),
        parts=[
            {"text": part, "length": check_length(part, network_of(settings, post.account))[0]}
            for part in post.parts
        ],
        images=[{"alt": image.get("alt", ""), "index": n} for n, image in enumerate(post.images)],
        movable=allowed.may(post, allowed.MOVE) is None,
        editable=allowed.may(post, allowed.EDIT) is None,
        publishable=allowed.may(post, allowed.PUBLISH) is None,
        cancellable=allowed.may(post, allowed.CANCEL) is None,
        cost=estimate(usage_of([post], account_networks(settings)), settings.social.x.prices)
        if pending
        else None,
        prices=settings.social.x.prices,
        at_value=pagekit.input_value(post.scheduled_at, settings),
        text=typed.get("text", text),
        thread=typed.get("thread", thread),
        split=typed.get("split", False),
        edit_at=typed.get("at", ""),
        edit_error=edit_error,
        approval=approval,
        poll_interval=settings.scheduler.poll_interval,
        error=error,
        refusal=refusal,
    )


@router.get("/posts/{post_id}")
def show(request: Request, post_id: pagekit.Id) -> Response:
    return _show(request, post_id)


@router.get("/posts/{post_id}/image/{index}")
def image(request: Request, post_id: pagekit.Id, index: int) -> Response:
    """An image attached to a post, only from the media folder: a stored path leading
    anywhere else (by itself or through a link) is not found, whatever file it names."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        post = _get(session, post_id)
    if not 0 <= index < len(post.images):
        raise HTTPException(404)
    found = media_file(str(post.images[index].get("path", "")), board.settings.dashboard.media_dir)
    if found is None:
        raise HTTPException(404)
    path, media_type = found
    return FileResponse(path, media_type=media_type)


def _change(request: Request, post_id: int, action: Any, done: str) -> Response:
    board = pagekit.dashboard(request)
    try:
        with board.session() as session:
            _get(session, post_id)
            action(session)
    except CampaignError as exc:
        return _show(request, post_id, exc, 400)
    return pagekit.see_other(request, f"/posts/{post_id}", done)


@router.post("/posts/{post_id}/schedule")
def schedule(request: Request, post_id: pagekit.Id, at: str = Form("")) -> Response:
    """Give the post its time (``at``) and, a draft, approve it: it is then scheduled."""
    board = pagekit.dashboard(request)
    settings = board.settings
    try:
        with board.session() as session:
            post = _get(session, post_id)
            allowed.check(post, allowed.MOVE if at.strip() else allowed.SCHEDULE)
            if at.strip():
                when = pagekit.parse_local(at, settings, "at")
                post = reschedule_post(session, settings, post_id, when)
            if post.status != PostStatus.draft:
                return pagekit.see_other(request, f"/posts/{post_id}", "post-scheduled")
            result = schedule_posts(session, settings, [post_id])
    except MoveRefused as exc:
        return _show(request, post_id, status_code=400, refusal=exc)
    except CampaignError as exc:
        return _show(request, post_id, exc, 400)
    if result.refused:
        return _show(request, post_id, status_code=400, approval=result)
    return pagekit.see_other(request, f"/posts/{post_id}", "post-scheduled")


@router.post("/posts/{post_id}/edit")
def edit(
    request: Request,
    post_id: pagekit.Id,
    text: str = Form(""),
    split: str = Form(""),
    thread: str = Form(""),
    at: str = Form(""),
) -> Response:
    """A new text for a post not yet published (its status is kept), and a new time with it
    when given: the text is then the person's for that time (a post generated from events
    whose text was edited by hand moves only so). Refused, the page keeps what was typed."""
    board = pagekit.dashboard(request)
    settings = board.settings
    try:
        with board.session() as session:
            _get(session, post_id)
            changes: dict[str, Any] = {"split": bool(split)}
            if at.strip():
                changes["scheduled_at"] = pagekit.parse_local(at, settings, "at")
            if thread:
                edit_post(session, settings, post_id, parts=thread_parts(text), **changes)
            else:
                edit_post(session, settings, post_id, text=text, **changes)
    except CampaignError as exc:
        typed = {"text": text, "thread": bool(thread), "split": bool(split), "at": at}
        return _show(request, post_id, exc, 400, typed=typed)
    return pagekit.see_other(request, f"/posts/{post_id}", "post-edited")


def _confirm_post(request: Request, post_id: int, what: str) -> Response:
    """The confirmation page of a post's irreversible action: its text, its account and how
    many follow it (the last count known), its time."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        post = _get(session, post_id)
        followers = queries.latest_followers(session, post.account)
    refusal = allowed.may(post, what)  # what: "publish" or "cancel"
    if refusal is not None:  # nothing to confirm: said as the action itself says it
        return _show(request, post_id, CampaignError(refusal), 400)
    return pagekit.confirm_page(
        request,
        pagekit.Confirmation(
            action=f"/posts/{post_id}/{what}",
            back=f"/posts/{post_id}",
            template=f"posts/confirm_{what}.html",
            danger=what == "cancel",
            context={
                "post": post,
                "handle": _handles(request).get(post.account, post.account),
                "followers": followers,
                "dry_run": transport_for(board.settings, post.account).dry_run,
            },
        ),
    )


@router.post("/posts/{post_id}/cancel")
def cancel(request: Request, post_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Never published: a cancelled post cannot be scheduled again, so it is asked first."""
    if not pagekit.confirmed(confirm):
        return _confirm_post(request, post_id, "cancel")
    return _change(
        request, post_id, lambda session: cancel_post(session, post_id), "post-cancelled"
    )


@router.post("/posts/{post_id}/publish")
def publish(request: Request, post_id: pagekit.Id, confirm: str = Form("")) -> Response:
    """Published on X at once, for everyone following the account: asked first."""
    if not pagekit.confirmed(confirm):
        return _confirm_post(request, post_id, "publish")
    settings = pagekit.dashboard(request).settings

    def action(session: Session) -> None:
        try:
            publish_post(session, post_id, settings)
        except TransportError as exc:
            raise CampaignError(*exc.messages or (str(exc),)) from None

    return _change(request, post_id, action, "post-published")
