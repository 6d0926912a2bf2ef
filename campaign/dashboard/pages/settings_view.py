"""What is configured, which credentials are missing, and a test message; never a secret.
Admins also see the dashboard accounts someone failed to sign in to lately, and change the
sender identity (stored in the database over the config file, see :mod:`campaign.sender`).

Only the *names* of the environment variables holding secrets are shown, with whether each is
set; URLs (the database's, the public address) are shown without their password.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from campaign.addresses import InvalidEmail, normalise_email
from campaign.clock import utcnow
from campaign.config import (
    SECRET_KEY_ENV,
    ConfigError,
    Settings,
    SocialAccount,
    mask_url,
    secret_key,
)
from campaign.dashboard import pagekit
from campaign.dashboard.sender_words import refusal_text
from campaign.errors import CampaignError
from campaign.mail import OutgoingMessage, open_transport
from campaign.sender import (
    FIELDS,
    SenderRefused,
    forget_sender,
    placeholder_problems,
    save_sender,
    sender_identity,
    with_sender,
)
from campaign.social.networks import NETWORK_NAMES, missing_credentials
from campaign.social.tokens import token_message, token_state
from campaign.users import roles
from campaign.users.logins import Pressure, login_pressure, slow_after
from campaign.wording.pages import word

router = APIRouter()


def _facts(request: Request) -> dict[str, Any]:
    board = pagekit.dashboard(request)
    settings = board.settings
    with board.session() as session:
        identity = sender_identity(session, settings)
        effective = with_sender(session, settings)
    smtp = settings.mail.smtp
    try:
        secret_key(settings)
        signing_key = True
    except ConfigError:
        signing_key = False
    accounts = [
        {
            "name": name,
            "handle": account.handle,
            "network": NETWORK_NAMES[account.network],
            "missing": missing_credentials(settings, account),
            "token": _token_note(settings, account),
        }
        for name, account in settings.social.accounts.items()
    ]
    return {
        "settings": settings,
        "database": mask_url(settings.database.url),
        "public_url": mask_url(settings.web.public_url),
        "smtp": smtp,
        "smtp_password_set": settings.secret(smtp.password_env) is not None,
        "signing_key": signing_key,
        "secret_key_env": SECRET_KEY_ENV,
        "accounts": accounts,
        "pressure": _pressure(request),
        "identity": identity,
        "sender_fields": FIELDS,
        "placeholders": placeholder_problems(effective.mail),
    }


def _token_note(settings: Settings, account: SocialAccount) -> str:
    """The account's token end, in the pages' words, when it is within 7 days or past."""
    state = token_state(account.token_expires, utcnow().date())
    said = token_message(account.handle, NETWORK_NAMES[account.network], state)
    return word(said, settings.general.language, settings.zone) if said else ""


def _pressure(request: Request) -> list[Pressure]:
    """Failed sign-ins on dashboard accounts, for admins only (it names the accounts)."""
    if not roles.may(request.state.user.role, roles.ADMINISTER):
        return []
    board = pagekit.dashboard(request)
    limits = board.settings.dashboard
    with board.session() as session:
        return login_pressure(
            session, max_per_account=limits.max_failed_logins, slow_after=slow_after(limits)
        )


@router.get("/settings")
def index(request: Request) -> Response:
    return pagekit.render(request, "settings.html", results=[], error="", **_facts(request))


@router.post("/settings/test-message")
def test_message(request: Request, to: str = Form("")) -> Response:
    """A short message through the configured transport, to check that mail goes out."""
    board = pagekit.dashboard(request)
    settings = board.settings
    text = board.env.get_template("test_message.txt.j2")
    html = board.env.get_template("test_message.html.j2")
    results = []
    error: str | CampaignError = ""
    with board.session() as session:
        settings = with_sender(session, settings)  # the identity in force
    try:
        address = to.strip()
        if not address:
            raise CampaignError.of("preview.no_test_address", "to")
        try:
            normalise_email(address)
        except InvalidEmail:
            raise CampaignError.of("mail.invalid_address", "to", address=address) from None
        values = {"settings": settings, "user": request.state.user}
        body = text.make_module(values)
        message = OutgoingMessage(
            from_address=settings.mail.from_address,
            from_name=settings.mail.from_name,
            reply_to=settings.mail.reply_to,
            to=address,
            subject=body.subject,  # type: ignore[attr-defined]
            text=str(body).strip() + "\n",
            html=html.render(values),
        )
        transport = open_transport(settings)
        try:
            results = transport.send([message])
        finally:
            transport.close()
    except CampaignError as exc:
        error = exc
    return pagekit.render(
        request,
        "settings.html",
        status_code=400 if error else 200,
        results=results,
        error=error,
        **_facts(request),
    )


@router.post("/settings/sender", dependencies=[Depends(pagekit.require_admin)])
def save_identity(
    request: Request,
    from_name: str = Form(""),
    from_address: str = Form(""),
    reply_to: str = Form(""),
    postal_address: str = Form(""),
    reset: str = Form(""),
) -> Response:
    """Store the sender identity over the config file's (or, ``reset``, go back to it)."""
    board = pagekit.dashboard(request)
    typed = {
        "from_name": from_name,
        "from_address": from_address,
        "reply_to": reply_to,
        "postal_address": postal_address,
    }
    refusal: SenderRefused | None = None
    try:
        with board.session() as session:
            if reset:
                forget_sender(session)
            else:
                save_sender(session, typed, actor=f"web:{request.state.user.email}")
    except SenderRefused as exc:
        refusal = exc
    return pagekit.render(
        request,
        "settings.html",
        status_code=400 if refusal else 200,
        results=[],
        error="",
        sender_saved="reset" if reset else ("" if refusal else "saved"),
        sender_refusal=refusal,
        sender_error=refusal_text(request, refusal) if refusal else "",
        typed=typed if refusal else None,
        **_facts(request),
    )
