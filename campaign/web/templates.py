"""The public pages and the confirmation email, in the language of ``[general] language``.

Pages live in ``templates/web/`` and the confirmation email in ``templates/emails/confirm/``
(the user's templates folder first, file by file, then the shipped one). Their sentences are
written in English in the templates (``_("…")``) and translated by the pages' catalogue
(``campaign/locale/``, French by default), so the people who subscribe read the same language
as the team's settings say. Autoescaping is on for every HTML template, so a subscriber's
name or a newsletter's title shows as text whatever it holds.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import jinja2
from sqlalchemy import Engine
from starlette.responses import HTMLResponse

from campaign import i18n
from campaign.mail import OutgoingMessage, open_transport
from campaign.resources import TemplateTree, template_tree
from campaign.sender import CurrentSender

log = logging.getLogger(__name__)

# Pages hold no script and load nothing from elsewhere; a page carrying a token in its URL tells
# no other site about it (no referrer).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}


def origin(url: str) -> str:
    """``https://news.example.org`` of ``https://news.example.org/path``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(
    frame_ancestors: str = "'none'", images: str = "'self' data:", forms: str = "'self'"
) -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"img-src {images}; form-action {forms}; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def environment(folder: TemplateTree, language: str, **options: Any) -> jinja2.Environment:
    """Templates of ``folder`` with ``_()`` and ``{% trans %}`` over the catalogue of
    ``language`` and ``page_language`` for ``<html lang>``; ``options``: Jinja's own."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder.search_path()),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        **options,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(language), newstyle=True
    )
    env.globals["page_language"] = i18n.base_language(language)
    return env


class Pages:
    """Renders ``templates/web/NAME`` into an HTML response with the common context."""

    def __init__(
        self, settings: Any, folder: TemplateTree | None = None, *, engine: Engine | None = None
    ) -> None:
        self.settings = settings
        self.sender = CurrentSender(settings, engine)  # the footer names the identity in force
        folder = folder or template_tree(settings=settings) / "web"
        self.env = environment(
            folder, settings.general.language, autoescape=True, auto_reload=False
        )
        self.common = {
            "sender_name": settings.mail.from_name,
            "postal_address": settings.mail.postal_address,
            "public_url": settings.web.public_url,
        }

    def render(
        self,
        name: str,
        *,
        status: int = 200,
        frame_ancestors: str = "'none'",
        **context: Any,
    ) -> HTMLResponse:
        mail = self.sender.mail()
        common = {
            **self.common,
            "sender_name": mail.from_name,
            "postal_address": mail.postal_address,
        }
        html = self.env.get_template(name).render({**common, **context})
        # Forms post to the public URL, which may be another origin than the one asked.
        forms = f"'self' {origin(self.settings.web.public_url)}"
        headers = {**PAGE_HEADERS, "Content-Security-Policy": csp(frame_ancestors, forms=forms)}
        if frame_ancestors == "'none'":
            headers["X-Frame-Options"] = "DENY"
        return HTMLResponse(html, status_code=status, headers=headers)

    def not_found(self) -> HTMLResponse:
        """The one answer to a forged, truncated or altered token, and to unknown pages."""
        return self.render("not_found.html.j2", status=404)

    def error(self, status: int, message: str = "") -> HTMLResponse:
        return self.render("error.html.j2", status=status, status_code=status, message=message)


class ConfirmationEmail:
    """The double opt-in email (``templates/emails/confirm/``) and its sending."""

    def __init__(
        self, settings: Any, folder: TemplateTree | None = None, *, engine: Engine | None = None
    ) -> None:
        self.settings = settings
        self.folder = folder or template_tree(settings=settings) / "emails" / "confirm"
        self.sender = CurrentSender(settings, engine)

    @cached_property
    def _html(self) -> jinja2.Environment:
        return environment(self.folder, self.settings.general.language, autoescape=True)

    @cached_property
    def _text(self) -> jinja2.Environment:
        return environment(
            self.folder,
            self.settings.general.language,
            autoescape=False,
            keep_trailing_newline=True,
        )

    def message(
        self, *, to: str, first_name: str, list_name: str, confirm_url: str, valid_days: int
    ) -> OutgoingMessage:
        mail = self.sender.mail()
        context = {
            "first_name": first_name,
            "list_name": list_name,
            "confirm_url": confirm_url,
            "valid_days": valid_days,
            "sender_name": mail.from_name,
            "postal_address": mail.postal_address,
        }
        subject = " ".join(self._text.get_template("subject.txt.j2").render(context).split())
        return OutgoingMessage(
            from_address=mail.from_address,
            from_name=mail.from_name,
            reply_to=mail.reply_to,
            to=to,
            subject=subject,
            text=self._text.get_template("body.txt.j2").render(context),
            html=self._html.get_template("body.html.j2").render(context),
        )

    def send(self, message: OutgoingMessage, subscriber_id: int) -> bool:
        """Send through the configured transport (the outbox by default); True if accepted.

        Runs after the page has answered, so a slow relay neither delays the page nor tells
        anyone whether an address was known. A failure is logged (naming the subscriber's
        number, not their address); the person can send the form again.
        """
        try:
            transport = open_transport(self.settings)
            try:
                results = transport.send([message])
            finally:
                transport.close()
        except Exception:
            log.exception("confirmation email to subscriber %d not sent", subscriber_id)
            return False
        if not results or not results[0].ok:
            error = results[0].error if results else "no result"
            log.error("confirmation email to subscriber %d refused: %s", subscriber_id, error)
            return False
        return True
