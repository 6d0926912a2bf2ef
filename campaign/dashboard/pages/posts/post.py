"""A post's page: edit, move, approve, cancel, publish now, its image."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session

from campaign.dashboard import pagekit, queries
from campaign.dashboard.pages.posts.shared import get_or_404, handles_by_account
from campaign.errors import CampaignError
from campaign.models import Event, Post, PostStatus
from campaign.social import TransportError, allowed
from campaign.social.cost import account_networks, estimate, usage_of
from campaign.social.length import check_length, limit_for
from campaign.social.limits import account_limit
from campaign.social.media import media_file
from campaign.social.moving import MoveRefused
from campaign.social.networks import network_of, transport_for
from campaign.social.posts import (
    ScheduleResult,
    cancel_post,
    edit_post,
    publish_post,
    schedule_post,
    thread_parts,
)

router = APIRouter()


def _as_typed(post: Post) -> tuple[str, bool]:
    """A post's text as the composer shows it: a thread's parts between ``---`` lines."""
    if len(post.parts) > 1:
        return "\n---\n".join(post.parts), True
    return post.text, False


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
        post = get_or_404(session, post_id)
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
        handle=handles_by_account(request).get(post.account, post.account),
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
        post = get_or_404(session, post_id)
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
            get_or_404(session, post_id)
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
            get_or_404(session, post_id)
            when = pagekit.parse_local(at, settings, "at") if at.strip() else None
            result = schedule_post(session, settings, post_id, when)
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
            get_or_404(session, post_id)
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
        post = get_or_404(session, post_id)
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
                "handle": handles_by_account(request).get(post.account, post.account),
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
