"""The sender identity's refusals (:class:`~campaign.sender.SenderRefused`) in the team's
words, from ``templates/web/admin/_sender.html``: the stage gives a code and a field, the
dashboard says it in French next to what to fix."""

from __future__ import annotations

from fastapi import Request
from markupsafe import Markup

from campaign.dashboard import pagekit
from campaign.sender import SenderRefused


def refusal_text(request: Request, refusal: SenderRefused) -> Markup:
    module = pagekit.dashboard(request).env.get_template("_sender.html").make_module()
    return Markup(str(module.refusal_text(refusal)).strip())  # type: ignore[attr-defined]
