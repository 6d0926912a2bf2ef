"""A newsletter's preview (as one subscriber would receive it) and its test send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape

from campaign.addresses import InvalidEmail, normalise_email
from campaign.dashboard import pagekit, queries
from campaign.dashboard.pages.newsletters.listing import get_or_404
from campaign.errors import CampaignError
from campaign.i18n import N_
from campaign.mail import open_transport
from campaign.newsletters.preview import addressed_to, preview

router = APIRouter()

PREVIEW_CSP = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src data:; sandbox"
)


@router.get("/newsletters/{newsletter_id}/preview")
def preview_page(
    request: Request,
    newsletter_id: pagekit.Id,
    as_email: str = "",
    width: str = "desktop",
    part: str = "html",
) -> Response:
    pagekit.check_choice(width, ("desktop", "mobile"), "width")
    pagekit.check_choice(part, ("html", "text"), "part")
    return _preview(request, newsletter_id, as_email, width, part)


def _preview(
    request: Request,
    newsletter_id: int,
    as_email: str = "",
    width: str = "desktop",
    part: str = "html",
    sent: list[Any] | None = None,
    error: str | CampaignError = "",
    status_code: int = 200,
    to: str | None = None,
    invalid_to: list[str] | None = None,
) -> Response:
    """The preview page; after a test send, ``sent`` (each address's result, shown at the top),
    ``to`` (the addresses as typed) and ``invalid_to`` (those refused, shown by the field)."""
    board = pagekit.dashboard(request)
    result = None
    problem = ""
    with board.session() as session:
        newsletter = get_or_404(session, newsletter_id)
        sample = queries.audience_sample(session, newsletter)
        try:
            result = preview(
                session,
                newsletter,
                board.settings,
                as_email.strip() or None,
                templates_dir=board.templates_dir,
            )
        except CampaignError as exc:
            problem = " ".join(
                sentence for _, sentence in pagekit.FormErrors.of(exc, board.settings).summary
            )
    return pagekit.render(
        request,
        "newsletters/preview.html",
        status_code=status_code,
        newsletter=newsletter,
        result=result,
        problem=problem,
        as_email=as_email.strip() or (result.subscriber.email if result else ""),
        sample=sample,
        width="mobile" if width == "mobile" else "desktop",
        part="text" if part == "text" else "html",
        sent=sent or [],
        error=error,
        to=to,
        invalid_to=invalid_to or [],
    )


@router.get("/newsletters/{newsletter_id}/preview.html", response_class=HTMLResponse)
def preview_html(request: Request, newsletter_id: pagekit.Id, as_email: str = "") -> Response:
    """The HTML one subscriber would receive, for the preview's iframe (sandboxed, no script)."""
    board = pagekit.dashboard(request)
    with board.session() as session:
        newsletter = get_or_404(session, newsletter_id)
        try:
            result = preview(
                session,
                newsletter,
                board.settings,
                as_email.strip() or None,
                templates_dir=board.templates_dir,
            )
        except CampaignError:
            impossible = pagekit.say(request, N_("No preview possible: see the checks."))
            return HTMLResponse(
                f"<p>{escape(impossible)}</p>",
                headers={"content-security-policy": PREVIEW_CSP},
            )
    return HTMLResponse(result.message.html, headers={"content-security-policy": PREVIEW_CSP})


@router.post("/newsletters/{newsletter_id}/test")
def send_test(
    request: Request, newsletter_id: pagekit.Id, to: str = Form(""), as_email: str = Form("")
) -> Response:
    board = pagekit.dashboard(request)
    settings = board.settings
    addresses = [item.strip() for item in to.replace(";", ",").split(",") if item.strip()]
    invalid = [address for address in addresses if not _mailable(address)]
    if invalid or not addresses:
        return _preview(
            request, newsletter_id, as_email, status_code=400, to=to, invalid_to=invalid or [""]
        )
    try:
        with board.session() as session:
            newsletter = get_or_404(session, newsletter_id)
            result = preview(
                session,
                newsletter,
                settings,
                as_email.strip() or None,
                templates_dir=board.templates_dir,
            )
            messages = addressed_to(result, newsletter, settings, addresses)
        transport = open_transport(settings)
        try:
            sent = transport.send(messages)
        finally:
            transport.close()
    except CampaignError as exc:
        return _preview(request, newsletter_id, as_email, error=exc, status_code=400, to=to)
    return _preview(request, newsletter_id, as_email, sent=sent, to=to)


def _mailable(address: str) -> bool:
    """Whether a test address is one a message can be sent to (``moi@cncress``, without a
    dot in its domain, is not)."""
    try:
        normalise_email(address)
    except InvalidEmail:
        return False
    return True
