"""The recipient pass: a group's compiled templates filled for one recipient.

The group pass (:mod:`campaign.newsletters.render`) leaves a second, distinct Jinja syntax
untouched (``[[ ]]``, ``[% %]``); it is compiled here, once per group, and filled with one
:class:`Recipient` at a time: names, tokens and links only, autoescaped again in HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypedDict

import jinja2

from campaign.newsletters.flat import FlatTemplate, Value
from campaign.newsletters.template_errors import RenderError


# Recipient-pass delimiters: chosen so the group pass (standard Jinja) leaves them alone.
class _Syntax(TypedDict):
    """Jinja's delimiters, as keyword arguments of ``jinja2.Environment``."""

    variable_start_string: str
    variable_end_string: str
    block_start_string: str
    block_end_string: str
    comment_start_string: str
    comment_end_string: str


RECIPIENT_SYNTAX: _Syntax = {
    "variable_start_string": "[[",
    "variable_end_string": "]]",
    "block_start_string": "[%",
    "block_end_string": "%]",
    "comment_start_string": "[#",
    "comment_end_string": "#]",
}
# A literal "[" in the recipient pass (an expression whose value is "[").
LITERAL_BRACKET = "[[ '[' ]]"
# Stands for a "[" coming from data while the HTML goes through MRML and css-inline: html5ever
# decodes character references such as "&#91;", so an entity would not survive the round trip.
# A rare printable character does (MRML writes non-printable ones in Rust escape notation); it
# is turned into LITERAL_BRACKET just before compiling, and removed from data beforehand.
BRACKET_SENTINEL = "\u2045"  # ⁅ LEFT SQUARE BRACKET WITH QUILL

HTML_RECIPIENT_ENV = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, **RECIPIENT_SYNTAX
)
TEXT_RECIPIENT_ENV = jinja2.Environment(
    autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    **RECIPIENT_SYNTAX,
)  # fmt: skip


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
            raise _pass_error(exc, self.template_name, part) from None
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
            raise _pass_error(exc, self.template_name, part) from None
        return " ".join(subject.split()), text, chunks


def compile_recipient(
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


def _pass_error(exc: jinja2.TemplateError, template_name: str, part: str) -> RenderError:
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
