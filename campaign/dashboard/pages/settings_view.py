"""What is configured, which credentials are missing, and a test message; never a secret.
Admins also see the dashboard accounts someone failed to sign in to lately.

Only the *names* of the environment variables holding secrets are shown, with whether each is
set; URLs (the database's, the public address) are shown without their password.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from campaign.audience.emails import InvalidEmail, normalise_email
from campaign.config import SECRET_KEY_ENV, ConfigError, mask_url, secret_key
from campaign.dashboard import web
from campaign.dashboard.sessions import Pressure, login_pressure, slow_after
from campaign.errors import CampaignError
from campaign.mail import OutgoingMessage, open_transport
from campaign.models import Role
from campaign.social.x import missing_credentials

router = APIRouter()


def _facts(request: Request) -> dict[str, object]:
    board = web.dashboard(request)
    settings = board.settings
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
            "missing": missing_credentials(settings, account),
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
    }


def _pressure(request: Request) -> list[Pressure]:
    """Failed sign-ins on dashboard accounts, for admins only (it names the accounts)."""
    if request.state.user.role != Role.admin:
        return []
    board = web.dashboard(request)
    limits = board.settings.dashboard
    with board.session() as session:
        return login_pressure(
            session, max_per_account=limits.max_failed_logins, slow_after=slow_after(limits)
        )


@router.get("/settings")
def index(request: Request) -> Response:
    return web.render(request, "settings.html", results=[], error="", **_facts(request))


@router.post("/settings/test-message")
def test_message(request: Request, to: str = Form("")) -> Response:
    """A short message through the configured transport, to check that mail goes out."""
    board = web.dashboard(request)
    settings = board.settings
    text = board.env.get_template("test_message.txt.j2")
    html = board.env.get_template("test_message.html.j2")
    results = []
    error: str | CampaignError = ""
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
    return web.render(
        request,
        "settings.html",
        status_code=400 if error else 200,
        results=results,
        error=error,
        **_facts(request),
    )
