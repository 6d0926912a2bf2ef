"""The render pipeline of a newsletter: render once per audience group, personalise cheaply.

Turning MJML into HTML and inlining CSS costs milliseconds; doing it for each of thousands of
recipients is the bug docs/architecture.md warns about. So rendering runs in two passes:

1. **Group pass** (once per audience group, e.g. once per region): the source templates are
   ordinary Jinja (``{{ }}``, ``{% %}``) that produce MJML. They see the group's context (events,
   texts, sender) but no recipient. Whatever differs per recipient is written with a second,
   distinct syntax that this pass leaves untouched::

       [[ recipient.first_name ]]          [% if recipient.first_name %] … [% endif %]

   Links to follow are written ``{{ track(url) }}``: the URL joins the newsletter's link table
   (:attr:`CompiledNewsletter.links`, the list a click may redirect to) and the pass emits
   ``[[ link(N) ]]`` (``calendar_url(event)`` is the absolute URL of an event's calendar file,
   on ``[web] public_url``). The MJML is compiled by MRML (mjml-python), ``mj-style
   inline="inline"`` rules are inlined by css-inline (MRML only copies them into a ``<style>``
   tag), and the resulting HTML is compiled as a Jinja template with ``[[ ]]`` / ``[% %]``
   delimiters.
2. **Recipient pass** (:meth:`CompiledNewsletter.personalise`): that compiled template is filled
   with one :class:`Recipient`: names, tokens and links only.

Escaping holds in both passes. The group pass autoescapes every value (event titles, texts) and
also neutralises ``[`` in values, so data can never smuggle recipient-pass syntax in; the
recipient pass autoescapes again (a first name ``<script>`` shows as text). The plain-text part
(``email.txt.j2``, written as text, not derived from the HTML) and the subject
(``subject.txt.j2``) follow the same two passes without HTML escaping.

Nothing here touches the network: MRML is given no web fonts (its default Google Fonts link is
dropped), ``mj-include`` is refused, and css-inline never loads remote stylesheets.

This module runs the pipeline; the pieces live beside it: the group pass's Jinja environment
and values in :mod:`~campaign.newsletters.group_pass`, the recipient pass and the compiled
newsletter in :mod:`~campaign.newsletters.recipient_pass`, the error messages in
:mod:`~campaign.newsletters.template_errors`, the audience groups in
:mod:`~campaign.newsletters.audience_groups`. Their public names are importable from here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import css_inline
import jinja2
from mjml import mjml2html

from campaign.events.ics import ics_url
from campaign.newsletters import markdown
from campaign.newsletters.audience_groups import AudienceGroup, group_by_region
from campaign.newsletters.blocks import MEDIA_ROUTE
from campaign.newsletters.flat import flatten
from campaign.newsletters.group_pass import (
    ASSET_ROUTE,
    LinkTable,
    brand_context,
    finalize_text,
    greeting,
    group_environment,
    sender_context,
)
from campaign.newsletters.manifest import load_manifest
from campaign.newsletters.recipient_pass import (
    BRACKET_SENTINEL,
    HTML_RECIPIENT_ENV,
    LITERAL_BRACKET,
    TEXT_RECIPIENT_ENV,
    CompiledNewsletter,
    Recipient,
    RenderedMessage,
    SubscriberLike,
    compile_recipient,
    untracked_link,
)
from campaign.newsletters.template_errors import (
    RenderError,
    locate_mjml_problem,
    mjml_error,
    template_error,
)
from campaign.resources import TemplateTree, template_tree

if TYPE_CHECKING:
    from campaign.config import Settings

__all__ = [
    "ASSET_ROUTE",
    "HTML_TEMPLATE",
    "SUBJECT_TEMPLATE",
    "TEXT_TEMPLATE",
    "AudienceGroup",
    "CompiledNewsletter",
    "Recipient",
    "RenderError",
    "RenderedMessage",
    "SubscriberLike",
    "brand_context",
    "compile_mjml",
    "greeting",
    "group_by_region",
    "group_environment",
    "locate_mjml_problem",
    "mjml_error",
    "newsletter_folder",
    "render_group",
    "render_groups",
    "sender_context",
    "untracked_link",
]

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
SUBJECT_TEMPLATE = "subject.txt.j2"

_IGNORE = 'data-css-inline="ignore"'
_MJ_STYLE_INLINE = re.compile(
    r"<mj-style\b[^>]*\binline\s*=\s*[\"']inline[\"'][^>]*>(.*?)</mj-style\s*>", re.S | re.I
)


def newsletter_folder(
    templates_dir: Path | str | None = None, settings: Settings | None = None
) -> TemplateTree:
    """Where newsletter templates are looked up: ``<templates>/newsletters``, user's first."""
    return template_tree(templates_dir, settings) / "newsletters"


def render_group(
    template_name: str,
    context: Mapping[str, Any],
    settings: Settings,
    *,
    templates_dir: Path | str | None = None,
) -> CompiledNewsletter:
    """Run Jinja → MJML → HTML → inlined CSS once for one audience group.

    ``template_name`` names a folder of ``<templates>/newsletters`` holding ``email.mjml.j2``,
    ``email.txt.j2`` and optionally ``subject.txt.j2`` (otherwise ``context["subject"]``).
    Raises :class:`RenderError` with the file, line and cause when a template is wrong.
    """
    folder = newsletter_folder(templates_dir, settings)
    zone = settings.general.timezone
    html_env = group_environment(folder, zone, True)
    text_env = group_environment(folder, zone, False)
    links = LinkTable()
    track = links.track
    public_url = settings.web.public_url
    manifest = load_manifest(folder, template_name)
    values = {
        "sender": sender_context(settings),
        "brand": brand_context(manifest.brand, template_name, settings),
        # The fields the person left out take the manifest's defaults (the greeting…), and
        # dates typed as text are moments in the configured zone.
        **manifest.defaults(),
        **manifest.typed(context, settings.zone),
        "track": track,
        # Absolute, from [web] public_url, so it works from a preview or a test send too.
        "calendar_url": lambda event: ics_url(public_url, event.id),
        "media_url": lambda name: f"{public_url}{MEDIA_ROUTE}/{name}",
    }
    html_values = {
        **values,
        "greet": lambda text: greeting(text, html=True),
        "markdown": lambda text: markdown.to_html(
            text, track, bracket=BRACKET_SENTINEL, sentinel=BRACKET_SENTINEL
        ),
    }
    text_values = {
        **values,
        "greet": lambda text: greeting(text, html=False),
        "markdown": lambda text: markdown.to_text(text, track, bracket=LITERAL_BRACKET),
    }

    mjml_source = _render_source(html_env, f"{template_name}/{HTML_TEMPLATE}", html_values, folder)
    text_source = _render_source(text_env, f"{template_name}/{TEXT_TEMPLATE}", text_values, folder)
    subject_name = f"{template_name}/{SUBJECT_TEMPLATE}"
    if folder.is_file(subject_name):
        subject_source = _render_source(text_env, subject_name, text_values, folder)
    elif "subject" in context:
        subject_source = finalize_text(context["subject"])
    else:
        raise RenderError(
            f"{template_name} (in {folder}): no {SUBJECT_TEMPLATE} and no 'subject' in the "
            "context: give the newsletter a subject.",
            template=subject_name,
            kind="jinja",
        )

    html_source = compile_mjml(mjml_source, template=f"{template_name}/{HTML_TEMPLATE}")
    html_source = html_source.replace(BRACKET_SENTINEL, LITERAL_BRACKET)
    html = compile_recipient(HTML_RECIPIENT_ENV, html_source, template_name, "html")
    text = compile_recipient(TEXT_RECIPIENT_ENV, text_source, template_name, "text")
    subject = compile_recipient(TEXT_RECIPIENT_ENV, subject_source, template_name, "subject")
    return CompiledNewsletter(
        template_name=template_name,
        mjml=mjml_source,
        html_source=html_source,
        text_source=text_source,
        subject_source=subject_source,
        links=tuple(links.urls),
        _html=html,
        _text=text,
        _subject=subject,
        _flat_html=flatten(HTML_RECIPIENT_ENV, html_source),
        _flat_text=flatten(TEXT_RECIPIENT_ENV, text_source),
        _flat_subject=flatten(TEXT_RECIPIENT_ENV, subject_source),
    )


def _render_source(
    env: jinja2.Environment, name: str, values: Mapping[str, Any], folder: TemplateTree
) -> str:
    try:
        return env.get_template(name).render(values)
    except jinja2.TemplateError as exc:
        raise template_error(exc, folder, name) from None


def compile_mjml(source: str, *, template: str = "<mjml>") -> str:
    """MJML → HTML with ``mj-style inline="inline"`` rules inlined; never touches the network."""
    inline_css = "\n".join(match.group(1) for match in _MJ_STYLE_INLINE.finditer(source))
    source = _MJ_STYLE_INLINE.sub("", source)
    try:
        html = mjml2html(source, fonts={}, include_loader=_refuse_include)
    except ValueError as exc:
        raise mjml_error(source, str(exc), template) from None
    # Only mj-style inline="inline" rules are inlined (as MJML's own juice step does): MRML's
    # <style> tags (resets, media queries, ordinary mj-style) stay as they are, so they are
    # marked for css-inline to leave alone, and the attribute is removed afterwards.
    html = html.replace("<style", f"<style {_IGNORE}")
    inliner = css_inline.CSSInliner(
        keep_style_tags=True,
        keep_at_rules=True,  # @media in an inline mj-style lands in a <style> tag
        load_remote_stylesheets=False,
        extra_css=inline_css or None,
    )
    return inliner.inline(html).replace(f" {_IGNORE}", "")


def _refuse_include(path: str) -> str:
    raise ValueError(f"mj-include of {path!r} is not supported: use a Jinja include instead")


def render_groups(
    template_name: str,
    groups: Iterable[AudienceGroup[Any]],
    context: Mapping[str, Any],
    settings: Settings,
    *,
    templates_dir: Path | str | None = None,
) -> dict[str, CompiledNewsletter]:
    """Render each group once: ``context`` shared, each group's own context on top."""
    return {
        group.key: render_group(
            template_name, {**context, **group.context}, settings, templates_dir=templates_dir
        )
        for group in groups
    }
