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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypedDict, TypeVar

import css_inline
import jinja2
from markupsafe import Markup, escape
from mjml import mjml2html

from campaign.errors import CampaignError
from campaign.events.ics import calendar_url
from campaign.formatting import date_filters, event_day
from campaign.newsletters import markdown
from campaign.newsletters.blocks import MEDIA_ROUTE
from campaign.newsletters.flat import FlatTemplate, Value, flatten
from campaign.newsletters.manifest import Brand, load_manifest
from campaign.resources import TemplateTree, template_tree
from campaign.social.profiles import profile_links

if TYPE_CHECKING:
    from campaign.config import Settings

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"
SUBJECT_TEMPLATE = "subject.txt.j2"


# Recipient-pass delimiters: chosen so the group pass (standard Jinja) leaves them alone.
class _Syntax(TypedDict):
    """Jinja's delimiters, as keyword arguments of ``jinja2.Environment``."""

    variable_start_string: str
    variable_end_string: str
    block_start_string: str
    block_end_string: str
    comment_start_string: str
    comment_end_string: str


_RECIPIENT_SYNTAX: _Syntax = {
    "variable_start_string": "[[",
    "variable_end_string": "]]",
    "block_start_string": "[%",
    "block_end_string": "%]",
    "comment_start_string": "[#",
    "comment_end_string": "#]",
}
# A literal "[" in the recipient pass (an expression whose value is "[").
_LITERAL_BRACKET = "[[ '[' ]]"
# Stands for a "[" coming from data while the HTML goes through MRML and css-inline: html5ever
# decodes character references such as "&#91;", so an entity would not survive the round trip.
# A rare printable character does (MRML writes non-printable ones in Rust escape notation); it
# is turned into _LITERAL_BRACKET just before compiling, and removed from data beforehand.
_BRACKET_SENTINEL = "\u2045"  # ⁅ LEFT SQUARE BRACKET WITH QUILL

_IGNORE = 'data-css-inline="ignore"'
_MJ_STYLE_INLINE = re.compile(
    r"<mj-style\b[^>]*\binline\s*=\s*[\"']inline[\"'][^>]*>(.*?)</mj-style\s*>", re.S | re.I
)


class RenderError(CampaignError):
    """A template that cannot be rendered: says which file, where, and what is wrong."""

    def __init__(
        self, message: str, *, template: str = "", line: int | None = None, kind: str = ""
    ) -> None:
        super().__init__(message)
        self.template = template
        self.line = line
        self.kind = kind  # "jinja", "undefined", "mjml", "not-found"


# --- recipients ---------------------------------------------------------------------------------


def untracked_link(url: str) -> str:
    """Placeholder click-tracking hook: the URL itself, with no token.

    The tracking stage replaces it with a hook returning a signed redirect URL that names the
    delivery and the link; until then links go straight to their target.
    """
    return url


class SubscriberLike(Protocol):
    email: str | None
    first_name: str
    last_name: str
    organisation: str
    region: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the recipient pass may use: names, the links carrying this person's tokens."""

    email: str
    first_name: str = ""
    last_name: str = ""
    organisation: str = ""
    region: str = ""
    unsubscribe_url: str = ""
    view_url: str = ""
    pixel_url: str = ""
    link: Callable[[str], str] = untracked_link
    # ``link`` of several URLs at once, when the tracker can sign them faster together.
    links: Callable[[Sequence[str]], list[str]] | None = None

    @classmethod
    def from_subscriber(
        cls,
        subscriber: SubscriberLike,
        *,
        unsubscribe_url: str,
        view_url: str,
        pixel_url: str = "",
        link: Callable[[str], str] = untracked_link,
        links: Callable[[Sequence[str]], list[str]] | None = None,
    ) -> Recipient:
        return cls(
            email=subscriber.email or "",
            first_name=subscriber.first_name,
            last_name=subscriber.last_name,
            organisation=subscriber.organisation,
            region=subscriber.region,
            unsubscribe_url=unsubscribe_url,
            view_url=view_url,
            pixel_url=pixel_url,
            link=link,
            links=links,
        )

    def follow(self, urls: Sequence[str]) -> list[str]:
        """The URL each of ``urls`` becomes in this recipient's message."""
        if self.links is not None:
            return self.links(urls)
        return [self.link(url) for url in urls]


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    html: str
    text: str


# --- the compiled, per-group newsletter ---------------------------------------------------------


@dataclass(frozen=True)
class CompiledNewsletter:
    """One audience group's newsletter, MJML and CSS work done; ready to personalise.

    ``html_source``/``text_source``/``subject_source`` are the recipient-pass templates (kept for
    checks and for storing with the newsletter); ``links`` is the table ``[[ link(N) ]]`` refers
    to, i.e. every URL a tracked click of this newsletter may lead to.
    """

    template_name: str
    mjml: str
    html_source: str
    text_source: str
    subject_source: str
    links: tuple[str, ...]
    _html: jinja2.Template = field(repr=False)
    _text: jinja2.Template = field(repr=False)
    _subject: jinja2.Template = field(repr=False)
    # The same three without Jinja's runtime, when they need no more than flat.py handles.
    _flat_html: FlatTemplate | None = field(default=None, repr=False)
    _flat_text: FlatTemplate | None = field(default=None, repr=False)
    _flat_subject: FlatTemplate | None = field(default=None, repr=False)

    def personalise(self, recipient: Recipient) -> RenderedMessage:
        """Fill the compiled templates for one recipient (no MJML, no CSS work here)."""
        links = self.links
        follow = recipient.link

        def link(index: int) -> str:
            return follow(links[index])

        values = {"recipient": recipient, "link": link}
        part = "subject"
        try:
            subject = self._subject.render(values)
            part = "text"
            text = self._text.render(values)
            part = "html"
            html = self._html.render(values)
        except jinja2.TemplateError as exc:
            raise _recipient_pass_error(exc, self.template_name, part) from None
        # A subject is one header line, whatever the data holds.
        subject = " ".join(subject.split())
        return RenderedMessage(subject=subject, html=html, text=text)

    def personalise_chunks(self, recipient: Recipient) -> tuple[str, list[str], list[str]]:
        """Like :meth:`personalise`, with the text and the HTML as the compiled templates'
        output chunks.

        ``"".join(chunks)`` is the text or HTML :meth:`personalise` returns. The template's literal
        chunks are the very same ``str`` objects for every recipient, so a sender can encode
        them once per group and only encode the few per-recipient values (names, tokens) anew;
        see :mod:`campaign.mail.mime`.
        """
        # Each URL followed once (a newsletter names its ~20 links about 60 times), all signed
        # together, and the flat pass rather than Jinja's runtime where the template allows.
        links = recipient.follow(self.links)
        values = {"recipient": recipient, "link": links.__getitem__}
        part = "subject"
        try:
            if self._flat_subject is not None:
                subject = self._flat_subject.render(recipient, links)
            else:
                subject = self._subject.render(values)
            part = "text"
            if self._flat_text is not None:
                text = self._flat_text.chunks(recipient, links)
            else:  # one chunk, marked as a value: it is this recipient's alone
                text = [Value(self._text.render(values))]
            part = "html"
            if self._flat_html is not None:
                chunks = self._flat_html.chunks(recipient, links)
            else:
                chunks = list(self._html.generate(values))
        except (jinja2.TemplateError, IndexError, AttributeError) as exc:
            if not isinstance(exc, jinja2.TemplateError):
                exc = jinja2.TemplateError(f"{type(exc).__name__}: {exc}")
            raise _recipient_pass_error(exc, self.template_name, part) from None
        return " ".join(subject.split()), text, chunks


# --- environments -------------------------------------------------------------------------------


def _as_local(moment: datetime, zone: tzinfo) -> datetime:
    # Stored times are UTC; a naive datetime is taken as UTC as well.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


@dataclass
class ThemeGroup:
    theme: str
    events: list[Any]


@dataclass
class DayGroup:
    day: date
    themes: list[ThemeGroup]


def _by_day(events: Iterable[Any], zone: tzinfo) -> list[DayGroup]:
    """Events grouped by day, then by daily theme, both in chronological order.

    An event's day is the one it starts on in its own zone (``zone``, [general] timezone, for
    events stored without one): 23:30 in Cayenne is on its own evening, not the next Paris day.
    """
    days: dict[date, dict[str, list[Any]]] = {}
    dated = [(event_day(event, zone), _as_local(event.starts_at, UTC), event) for event in events]
    for day, _, event in sorted(dated, key=lambda item: item[:2]):
        days.setdefault(day, {}).setdefault(event.theme or "", []).append(event)
    return [
        DayGroup(day, [ThemeGroup(theme, items) for theme, items in themes.items()])
        for day, themes in days.items()
    ]


def _finalize_html(value: Any) -> Any:
    """Group pass, HTML: escape data and hide its "[" from the recipient pass."""
    if isinstance(value, Markup):  # template text or already finalised output (includes, macros)
        return value
    if value is None:
        value = ""
    text = str(value).replace(_BRACKET_SENTINEL, "")
    return Markup(str(escape(text)).replace("[", _BRACKET_SENTINEL))


def _finalize_text(value: Any) -> Any:
    """Group pass, plain text: data's "[" becomes a recipient-pass literal."""
    if isinstance(value, Markup):  # track() placeholders
        return str(value)
    if value is None:
        return ""
    return str(value).replace("[", _LITERAL_BRACKET)


# "[[ first_name ]]" in a greeting a person wrote (the only recipient value a greeting takes),
# with the spaces before it: they go with the name when there is none.
_FIRST_NAME = re.compile(r"\s*\[\[\s*(?:recipient\.)?first_name\s*\]\]")


def greeting(text: Any, *, html: bool) -> Markup:
    """The greeting a person wrote, for the group pass: ``[[ first_name ]]`` becomes the
    reader's first name, and when a reader has none the greeting goes without it
    ("Bonjour [[ first_name ]]," → "Bonjour,"). Everything else is the person's text, escaped
    once (HTML) and with its "[" neutralised for the recipient pass."""
    finalize = _finalize_html if html else _finalize_text
    text = str(text or "").strip()
    if not text:
        return Markup("")
    pieces = _FIRST_NAME.split(text)
    if len(pieces) == 1:
        return Markup(finalize(text))
    spaces = [match.group(0)[: match.group(0).index("[")] for match in _FIRST_NAME.finditer(text)]
    named = str(finalize(pieces[0]))
    for space, piece in zip(spaces, pieces[1:], strict=True):
        named += str(finalize(space)) + "[[ recipient.first_name ]]" + str(finalize(piece))
    bare = "".join(str(finalize(piece)) for piece in pieces)
    return Markup(f"[% if recipient.first_name %]{named}[% else %]{bare}[% endif %]")


class _LinkTable:
    """Collects the URLs a template asks to track and hands out their placeholders."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._index: dict[str, int] = {}

    def track(self, url: Any) -> Markup:
        url = str(url).strip()
        index = self._index.get(url)
        if index is None:
            index = self._index[url] = len(self.urls)
            self.urls.append(url)
        return Markup(f"[[ link({index}) ]]")


@lru_cache(maxsize=16)
def group_environment(folder: TemplateTree, zone_name: str, html: bool) -> jinja2.Environment:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder.search_path()),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize_html if html else _finalize_text,
        keep_trailing_newline=True,
        trim_blocks=not html,
        lstrip_blocks=not html,
    )
    env.filters.update(date_filters(zone, with_year=True))
    env.filters["by_day"] = lambda events: _by_day(events, zone)
    return env


_HTML_RECIPIENT_ENV = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, **_RECIPIENT_SYNTAX
)
_TEXT_RECIPIENT_ENV = jinja2.Environment(
    autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    **_RECIPIENT_SYNTAX,
)  # fmt: skip


# --- the group pass -----------------------------------------------------------------------------


def newsletter_folder(
    templates_dir: Path | str | None = None, settings: Settings | None = None
) -> TemplateTree:
    """Where newsletter templates are looked up: ``<templates>/newsletters``, user's first."""
    return template_tree(templates_dir, settings) / "newsletters"


ASSET_ROUTE = "/assets/newsletters"
"""Where the web service serves the images of a template folder (its logo): mail clients load
them from ``[web] public_url`` + this + ``/TEMPLATE/FILE``."""


def brand_context(brand: Brand, template_name: str, settings: Settings) -> dict[str, Any]:
    """The template's logo (absolute URL and alt text), colour and social account links."""
    public_url = settings.web.public_url.rstrip("/")
    logo = f"{public_url}{ASSET_ROUTE}/{template_name}/{brand.logo}" if brand.logo else ""
    return {
        "logo_url": logo,
        "logo_alt": brand.logo_alt or settings.mail.from_name,
        "color": brand.color,
        "tint": _tint(brand.color),
        "accounts": profile_links(settings, brand.accounts),
    }


def _tint(color: str, keep: float = 0.08) -> str:
    """``color`` mixed with white (8% of it): a call-out's background in the campaign's colour,
    as a plain #rrggbb every mail client reads (Outlook ignores transparency)."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - part) * keep) for part in (red, green, blue))
    return "#" + "".join(f"{part:02x}" for part in mixed)


def sender_context(settings: Settings) -> dict[str, str]:
    """What the legal footer needs, from the settings."""
    return {
        "name": settings.mail.from_name,
        "postal_address": settings.mail.postal_address,
        "public_url": settings.web.public_url,
    }


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
    links = _LinkTable()
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
        "calendar_url": lambda event: calendar_url(public_url, event.id),
        "media_url": lambda name: f"{public_url}{MEDIA_ROUTE}/{name}",
    }
    html_values = {
        **values,
        "greet": lambda text: greeting(text, html=True),
        "markdown": lambda text: markdown.to_html(
            text, track, bracket=_BRACKET_SENTINEL, sentinel=_BRACKET_SENTINEL
        ),
    }
    text_values = {
        **values,
        "greet": lambda text: greeting(text, html=False),
        "markdown": lambda text: markdown.to_text(text, track, bracket=_LITERAL_BRACKET),
    }

    mjml_source = _render_source(html_env, f"{template_name}/{HTML_TEMPLATE}", html_values, folder)
    text_source = _render_source(text_env, f"{template_name}/{TEXT_TEMPLATE}", text_values, folder)
    subject_name = f"{template_name}/{SUBJECT_TEMPLATE}"
    if folder.is_file(subject_name):
        subject_source = _render_source(text_env, subject_name, text_values, folder)
    elif "subject" in context:
        subject_source = _finalize_text(context["subject"])
    else:
        raise RenderError(
            f"{template_name} (in {folder}): no {SUBJECT_TEMPLATE} and no 'subject' in the "
            "context: give the newsletter a subject.",
            template=subject_name,
            kind="jinja",
        )

    html_source = compile_mjml(mjml_source, template=f"{template_name}/{HTML_TEMPLATE}")
    html_source = html_source.replace(_BRACKET_SENTINEL, _LITERAL_BRACKET)
    html = _compile_recipient(_HTML_RECIPIENT_ENV, html_source, template_name, "html")
    text = _compile_recipient(_TEXT_RECIPIENT_ENV, text_source, template_name, "text")
    subject = _compile_recipient(_TEXT_RECIPIENT_ENV, subject_source, template_name, "subject")
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
        _flat_html=flatten(_HTML_RECIPIENT_ENV, html_source),
        _flat_text=flatten(_TEXT_RECIPIENT_ENV, text_source),
        _flat_subject=flatten(_TEXT_RECIPIENT_ENV, subject_source),
    )


def _render_source(
    env: jinja2.Environment, name: str, values: Mapping[str, Any], folder: TemplateTree
) -> str:
    try:
        return env.get_template(name).render(values)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            f"{exc.name}: template not found (looked in {folder}).",
            template=str(exc.name),
            kind="not-found",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise RenderError(
            f"{where}, line {exc.lineno}: template syntax error: {exc.message}",
            template=exc.name or name,
            line=exc.lineno,
            kind="jinja",
        ) from None
    except jinja2.UndefinedError as exc:
        where, line = _template_frame(exc.__traceback__, folder, name)
        hint = ""
        if "'recipient' is undefined" in str(exc):
            hint = " (per-recipient values are written [[ recipient.… ]], not {{ recipient.… }})"
        raise RenderError(
            f"{where}, line {line}: {exc.message}{hint}",
            template=where,
            line=line,
            kind="undefined",
        ) from None
    except jinja2.TemplateError as exc:
        where, line = _template_frame(exc.__traceback__, folder, name)
        raise RenderError(
            f"{where}, line {line}: {exc}", template=where, line=line, kind="jinja"
        ) from None


def _template_frame(
    traceback: TracebackType | None, folder: TemplateTree, default: str
) -> tuple[str, int | None]:
    """The innermost template file and line of a Jinja runtime error's traceback."""
    where, line = default, None
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if folder.owns(filename) or filename == "<template>":
            where, line = filename, traceback.tb_lineno
        traceback = traceback.tb_next
    return where, line


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


def _compile_recipient(
    env: jinja2.Environment, source: str, template_name: str, part: str
) -> jinja2.Template:
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        line = source.splitlines()[exc.lineno - 1] if exc.lineno else ""
        raise RenderError(
            f"{template_name} ({part} part): per-recipient [[ ]] / [% %] syntax error on line "
            f"{exc.lineno} of the rendered {part}: {exc.message}: {line.strip()[:120]!r}",
            template=template_name,
            line=exc.lineno,
            kind="jinja",
        ) from None


def _recipient_pass_error(exc: jinja2.TemplateError, template_name: str, part: str) -> RenderError:
    line = None
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    kind = "undefined" if isinstance(exc, jinja2.UndefinedError) else "jinja"
    return RenderError(
        f"{template_name} ({part} part, per-recipient [[ ]]), line {line} of the rendered "
        f"{part}: {exc}",
        template=template_name,
        line=line,
        kind=kind,
    )


# --- MJML error positions -----------------------------------------------------------------------


class _MjmlBalance(HTMLParser):
    """Finds the first unbalanced MJML tag: MRML's own messages carry no position."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[int, int]]] = []
        self.problem: tuple[str, tuple[int, int]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.startswith("mj") and self.problem is None:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # self-closed: balanced by construction

    def handle_endtag(self, tag: str) -> None:
        if not tag.startswith("mj") or self.problem is not None:
            return
        if not self.stack:
            self.problem = (f"closing </{tag}> without an opening tag", self.getpos())
            return
        opened, position = self.stack[-1]
        if opened != tag:
            self.problem = (
                f"</{tag}> closes <{opened}> opened at line {position[0]}, "
                f"column {position[1] + 1}",
                self.getpos(),
            )
            return
        self.stack.pop()


def locate_mjml_problem(source: str) -> tuple[str, int, int, str] | None:
    """The first unbalanced MJML tag as (what, line, column, text of the line), or None."""
    checker = _MjmlBalance()
    try:
        checker.feed(source)
        checker.close()
    except Exception:  # the locator is best effort; MRML's own verdict still stands
        return None
    problem = checker.problem
    if problem is None and checker.stack:
        tag, position = checker.stack[-1]
        problem = (f"<{tag}> is never closed", position)
    if problem is None:
        return None
    what, (line, column) = problem
    lines = source.splitlines()
    near = lines[line - 1].strip()[:120] if line <= len(lines) else ""
    return what, line, column + 1, near


def mjml_error(source: str, mrml_message: str, template: str) -> RenderError:
    """A RenderError for MJML that MRML refused, with the position when it can be found."""
    problem = locate_mjml_problem(source)
    if problem is None:
        return RenderError(
            f"{template}: invalid MJML after the Jinja pass: {mrml_message}",
            template=template,
            kind="mjml",
        )
    what, line, column, near = problem
    return RenderError(
        f"{template}: invalid MJML at line {line}, column {column} of the rendered MJML: "
        f"{what} ({mrml_message}). Near: {near!r}",
        template=template,
        line=line,
        kind="mjml",
    )


# --- audience groups ----------------------------------------------------------------------------

S = TypeVar("S")


@dataclass
class AudienceGroup(Generic[S]):
    """Recipients who get the same rendering, and what their rendering depends on."""

    key: str
    members: list[S]
    context: dict[str, Any] = field(default_factory=dict)


def group_by_region(
    subscribers: Iterable[S],
    events: Iterable[Any],
    *,
    limit: int | None = None,
    fallback_events: Sequence[Any] = (),
) -> list[AudienceGroup[S]]:
    """Rule "events in the subscriber's region": one group per region present in the audience.

    Each group's context holds ``events`` (its region's events, chronological, at most
    ``limit``) and ``region``. Subscribers with no region get ``fallback_events`` (empty unless
    the caller chooses national highlights). Regions are compared as stored (canonical names,
    see :mod:`campaign.taxonomy`).
    """
    by_region: dict[str, list[Any]] = {}
    for event in events:
        by_region.setdefault(event.region or "", []).append(event)
    members: dict[str, list[S]] = {}
    for subscriber in subscribers:
        members.setdefault(getattr(subscriber, "region", "") or "", []).append(subscriber)
    groups = []
    for region, people in members.items():
        chosen = by_region.get(region, []) if region else list(fallback_events)
        chosen = sorted(chosen, key=lambda event: _as_local(event.starts_at, UTC))
        groups.append(AudienceGroup(region, people, {"region": region, "events": chosen[:limit]}))
    return groups


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
