"""The public subscribe form (embeddable in the events website) and the confirmation link.

``GET /inscription[?liste=NAME]`` shows a small French form; the list must be one of
``[subscribe] lists`` (the first by default) and is written into the form's signed token.
``POST /inscription`` is rate-limited per IP, needs a valid form token, ignores a filled
honeypot, then records the request (:func:`~campaign.audience.subscriptions.request_subscription`,
committed before answering) and answers the same page whatever the address was, no sooner than
:data:`MIN_ANSWER_SECONDS` after the request: the confirmation email is sent after the answer,
so neither the page nor its timing tells whether an address is known.

``GET /confirmation/TOKEN`` shows a page with one button; ``POST`` confirms (double opt-in),
once: a link already used, or older than the person's unsubscription, only says so.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, BackgroundTasks, Path, Query
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from campaign.addresses import InvalidEmail
from campaign.audience.subscriptions import (
    MAX_FIRST_NAME,
    Confirmation,
    ConfirmOutcome,
    InvalidFirstName,
    SubscribeRequest,
    confirm_subscription,
    link_used,
    read_confirm_token,
    request_subscription,
)
from campaign.tracking.network import ip_prefix
from campaign.web.forms import HONEYPOT
from campaign.web.openapi import FORM_BODY, NOT_FOUND, TOKEN, page
from campaign.web.service import WebService

router = APIRouter()

MIN_ANSWER_SECONDS = 0.3
FORM_PATH = "/inscription"

# For the OpenAPI description (campaign.web.openapi); GET and HEAD are two routes so that each
# has its own operation there.
FORM_PAGE: dict = {
    "summary": "Subscribe form (embeddable)",
    "response_class": HTMLResponse,
    "responses": {200: page("The form.")},
}
CONFIRM_PAGE: dict = {
    "summary": "Double opt-in confirmation page (one button; never confirms)",
    "response_class": HTMLResponse,
    "responses": {200: page("The page with the button, or the link has expired."), 404: NOT_FOUND},
}
LIST_NAME = "One of [subscribe] lists (the first when missing or unknown)."


def _web(request: Request) -> WebService:
    return request.app.state.web


def _frame_ancestors(web: WebService) -> str:
    allowed = web.settings.subscribe.frame_ancestors
    return " ".join(allowed) if allowed else "*"


def _form(
    web: WebService,
    list_index: int,
    *,
    status: int = 200,
    error: str = "",
    email: str = "",
    first_name: str = "",
) -> Response:
    names = web.settings.subscribe.lists
    return web.pages.render(
        "subscribe.html.j2",
        status=status,
        frame_ancestors=_frame_ancestors(web),
        state="form",
        error=error,
        max_first_name=MAX_FIRST_NAME,
        email=email,
        first_name=first_name,
        list_name=names[list_index],
        form_token=web.forms.issue(list_index),
        action_url=f"{web.settings.web.public_url}{FORM_PATH}",
        honeypot=HONEYPOT,
    )


def _state(web: WebService, state: str, status: int = 200, **context: object) -> Response:
    return web.pages.render(
        "subscribe.html.j2",
        status=status,
        frame_ancestors=_frame_ancestors(web),
        state=state,
        form_url=f"{web.settings.web.public_url}{FORM_PATH}",
        **context,
    )


@router.get(FORM_PATH, **FORM_PAGE)
@router.head(FORM_PATH, **FORM_PAGE)
def subscribe_form(request: Request, liste: str = Query("", description=LIST_NAME)) -> Response:
    web = _web(request)
    names = web.settings.subscribe.lists
    index = names.index(liste) if liste in names else 0
    return _form(web, index)


async def _pace(started: float) -> None:
    left = MIN_ANSWER_SECONDS - (time.monotonic() - started)
    if left > 0:
        await asyncio.sleep(left)


@router.post(
    FORM_PATH,
    summary="Subscribe (then a confirmation email)",
    response_class=HTMLResponse,
    responses={
        200: page("Thanks: the same page whether the address was known or not."),
        400: page(
            "The form again: its token is missing, forged or too old, or the address is not valid."
        ),
        429: page("Too many posts from this address: try again later."),
    },
    openapi_extra={"requestBody": FORM_BODY},
)
async def subscribe(request: Request, background: BackgroundTasks) -> Response:
    started = time.monotonic()
    web = _web(request)
    address = web.client(request)
    if not web.limiter.allow(address):
        return _state(web, "limited", status=429)
    form = await request.form()
    email = str(form.get("email") or "").strip()[:320]
    typed_name = " ".join(str(form.get("prenom") or "").split())
    first_name = typed_name[:200]  # as shown again; the whole of it is checked
    names = web.settings.subscribe.lists
    list_index, fresh = web.forms.check(str(form.get("jeton") or ""))
    if list_index is None or list_index >= len(names) or not fresh:
        shown = list_index if list_index is not None and list_index < len(names) else 0
        return _form(web, shown, status=400, error="expired", email=email, first_name=first_name)
    if form.get(HONEYPOT):
        await _pace(started)
        return _state(web, "thanks", first_name=first_name)
    subscribe_request = SubscribeRequest(
        email=email,
        first_name=typed_name,
        list_name=names[list_index],
        ip_prefix=ip_prefix(address),
        form_url=f"{web.settings.web.public_url}{FORM_PATH}",
    )
    try:
        confirmation = await run_in_threadpool(_request, web, subscribe_request)
    except InvalidFirstName:
        return _form(
            web, list_index, status=400, error="first_name", email=email, first_name=first_name
        )
    except InvalidEmail:
        return _form(web, list_index, status=400, error="email", email=email, first_name=first_name)
    if confirmation is not None and web.may_send_confirmation(confirmation.subscriber_id):
        background.add_task(_send_confirmation, web, confirmation)
    await _pace(started)
    return _state(web, "thanks", first_name=first_name)


def _request(web: WebService, subscribe_request: SubscribeRequest) -> Confirmation | None:
    with Session(web.engine, expire_on_commit=False) as session:
        return request_subscription(session, web.signer, subscribe_request)


def _send_confirmation(web: WebService, confirmation: Confirmation) -> None:
    message = web.confirmation_email.message(
        to=confirmation.email,
        first_name=confirmation.first_name,
        list_name=confirmation.list_name,
        confirm_url=f"{web.settings.web.public_url}/confirmation/{confirmation.token}",
        valid_days=web.settings.subscribe.confirm_days,
    )
    web.confirmation_email.send(message, confirmation.subscriber_id)


def _confirm_page(web: WebService, token: str, state: str, list_name: str = "") -> Response:
    return web.pages.render(
        "confirm.html.j2",
        state=state,
        list_name=list_name,
        confirm_url=f"{web.settings.web.public_url}/confirmation/{token}",
        form_url=f"{web.settings.web.public_url}{FORM_PATH}",
    )


@router.get("/confirmation/{token}", **CONFIRM_PAGE)
@router.head("/confirmation/{token}", **CONFIRM_PAGE)
def confirm_page(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    target = read_confirm_token(web.signer, token)
    if target is None:
        return web.pages.not_found()
    if target.expired(web.settings.subscribe.confirm_days):
        return _confirm_page(web, token, "expired")
    with Session(web.engine) as session:
        used = link_used(session, target)
    return _confirm_page(web, token, "used" if used else "ask")


@router.post(
    "/confirmation/{token}",
    summary="Confirm a subscription (double opt-in)",
    response_class=HTMLResponse,
    responses={
        200: page("Confirmed, already confirmed, refused or expired (said on the page)."),
        404: NOT_FOUND,
    },
)
def confirm(request: Request, token: str = Path(description=TOKEN)) -> Response:
    web = _web(request)
    target = read_confirm_token(web.signer, token)
    if target is None:
        return web.pages.not_found()
    with Session(web.engine) as session:
        outcome, list_name = confirm_subscription(
            session, target, valid_days=web.settings.subscribe.confirm_days
        )
    if outcome == ConfirmOutcome.expired:
        return _confirm_page(web, token, "expired")
    return _confirm_page(web, token, outcome.value, list_name)
