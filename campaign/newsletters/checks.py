"""Checks run before a newsletter is sent: what would break it, what readers would notice.

Each finding is an :class:`Issue` with a message a person can act on (file, line, what to do),
never a traceback. Errors block sending (broken template, no unsubscribe link, a link no mail
client should follow); warnings deserve a look (Gmail clips messages over ~100 KB, images
without alternative text, a newsletter of events with no event in it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jinja2
from jinja2 import meta

from campaign.messages import Message, message
from campaign.newsletters.render import (
    HTML_TEMPLATE,
    CompiledNewsletter,
    Recipient,
    RenderError,
    group_environment,
    locate_mjml_problem,
    newsletter_folder,
    render_group,
)

if TYPE_CHECKING:
    from campaign.config import Settings

MAX_HTML_BYTES = 100 * 1024  # Gmail clips messages past 102 KB, hiding the footer
ALLOWED_SCHEMES = ("http://", "https://", "mailto:")

_LINK_PLACEHOLDER = re.compile(r"^\[\[\s*link\((\d+)\)\s*\]\]$")
_SAMPLE = Recipient(
    email="prenom.nom@example.org",
    first_name="Prénom",
    last_name="Nom",
    organisation="Organisation",
    region="Région",
    unsubscribe_url="https://example.org/unsubscribe",
    view_url="https://example.org/view",
    pixel_url="https://example.org/pixel.gif",
)


@dataclass(frozen=True)
class Issue:
    level: Literal["error", "warning"]
    message: Message | str  # a message each door words (a render error: its own text)


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.level == "error" for issue in issues)


def check_newsletter(
    template_name: str,
    context: Mapping[str, Any],
    settings: Settings,
    *,
    templates_dir: Path | str | None = None,
) -> list[Issue]:
    """Render ``template_name`` for ``context`` (one audience group) and check the result."""
    try:
        compiled = render_group(template_name, context, settings, templates_dir=templates_dir)
    except RenderError as exc:
        return [Issue("error", str(exc))]
    issues = check_compiled(compiled)
    if _expects_events(template_name, settings, templates_dir) and not context.get("events"):
        issues.append(
            Issue("warning", message("check.no_events", "events", template=template_name))
        )
    return issues


def check_compiled(compiled: CompiledNewsletter) -> list[Issue]:
    """Checks on a rendered newsletter: MJML as written, size, unsubscribe link, images, links."""
    name = compiled.template_name
    try:
        sample = compiled.personalise(_SAMPLE)
    except RenderError as exc:
        return [Issue("error", str(exc))]

    issues: list[Issue] = []
    problem = locate_mjml_problem(compiled.mjml)
    if problem is not None:  # MRML accepted it, but not as written: the layout may be wrong
        what, line, column, near = problem
        issues.append(
            Issue(
                "error",
                message(
                    "check.invalid_mjml",
                    template=f"{name}/{HTML_TEMPLATE}",
                    line=line,
                    column=column,
                    what=what,
                    near=near,
                ),
            )
        )
    size = len(sample.html.encode("utf-8"))
    if size > MAX_HTML_BYTES:
        issues.append(
            Issue("warning", message("check.too_heavy", template=name, kilobytes=size // 1024))
        )

    page = _Anchors()
    page.feed(compiled.html_source)
    page.close()
    if not any("recipient.unsubscribe_url" in href for href in page.hrefs):
        issues.append(Issue("error", message("check.no_unsubscribe_html", template=name)))
    if "recipient.unsubscribe_url" not in compiled.text_source:
        issues.append(Issue("error", message("check.no_unsubscribe_text", template=name)))
    for src in page.images_without_alt:
        issues.append(Issue("warning", message("check.image_without_alt", template=name, src=src)))
    for url in _literal_urls(page.hrefs, compiled.links):
        if not url.lower().startswith(ALLOWED_SCHEMES):
            issues.append(Issue("error", message("check.bad_link", template=name, url=url)))
    return issues


def _literal_urls(hrefs: list[str], links: tuple[str, ...]) -> list[str]:
    """Every target a reader may follow: tracked URLs plus hrefs written as they are."""
    urls = list(links)
    for href in hrefs:
        if _LINK_PLACEHOLDER.match(href.strip()) or "[[" in href or "[%" in href:
            continue  # tracked (checked through `links`) or per-recipient (our own URLs)
        if href not in urls:
            urls.append(href)
    return urls


def _expects_events(
    template_name: str, settings: Settings, templates_dir: Path | str | None
) -> bool:
    folder = newsletter_folder(templates_dir, settings)
    env = group_environment(folder, settings.general.timezone, True)
    try:
        path = folder.find(f"{template_name}/{HTML_TEMPLATE}")
        if path is None:
            return False  # already reported by the render
        source = path.read_text(encoding="utf-8")
        return "events" in meta.find_undeclared_variables(env.parse(source))
    except (OSError, jinja2.TemplateError):
        return False  # already reported by the render


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.images_without_alt: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href") is not None:
            self.hrefs.append(values["href"] or "")
        elif tag == "img" and values.get("alt") is None:
            self.images_without_alt.append(values.get("src") or "")
