"""The Markdown a person writes in a newsletter's text blocks, as safe HTML and as plain text.

Parsed once by markdown-it-py (CommonMark) with raw HTML off: a ``<script>`` typed in a block
is shown as text, and a link whose target is not a web, mail or relative address
(``javascript:``, ``data:``…) is refused by markdown-it's own link check and stays literal text.
Every link goes through the render's ``track`` so it joins the newsletter's link table like the
template's own links.

Both outputs are for the group pass of :mod:`campaign.newsletters.render`: they are returned as
:class:`~markupsafe.Markup` (already escaped once, by markdown-it, never again), with every
``[`` of the person's text neutralised for the recipient pass and the links written as the
recipient-pass placeholders ``track`` hands out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# Stands for link N while markdown-it renders (no "[" in it, nothing markdown-it escapes).
_MARK = "\u2046"
_LINK_MARK = re.compile(_MARK + r"(\d+)" + _MARK)

Track = Callable[[str], Any]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Images are blocks of their own (uploaded, with alt text): no remote image from a text.
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def _parse(text: str, strip: Sequence[str]) -> list[Token]:
    text = str(text or "")
    for char in (_MARK, *strip):
        text = text.replace(char, "")
    return _parser().parse(text)


def _mark_links(tokens: list[Token], track: Track) -> list[str]:
    """Point each link at a mark; return the placeholders, by mark number."""
    placeholders: list[str] = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                child.attrSet("href", f"{_MARK}{len(placeholders)}{_MARK}")
                placeholders.append(str(track(href)))
    return placeholders


def to_html(text: str, track: Track, *, bracket: str, sentinel: str) -> Markup:
    """``text`` as HTML: each ``[`` written ``bracket``, ``sentinel`` removed from the input."""
    tokens = _parse(text, (sentinel,))
    placeholders = _mark_links(tokens, track)
    html = _parser().renderer.render(tokens, _parser().options, {})
    html = html.replace("[", bracket)
    return Markup(_LINK_MARK.sub(lambda match: placeholders[int(match.group(1))], html).strip())


def to_text(text: str, track: Track, *, bracket: str) -> Markup:
    """``text`` as plain text: paragraphs apart, list items marked, each link's address after
    its words; each ``[`` of the text written ``bracket``."""
    tokens = _parse(text, ())
    placeholders = _mark_links(tokens, track)
    layout = _TextLayout(bracket)
    for token in tokens:
        layout.feed(token)
    joined = _join_blocks(layout.blocks)
    text_out = _LINK_MARK.sub(lambda match: placeholders[int(match.group(1))], joined)
    return Markup(text_out)


# The tokens that end a block of text (a paragraph, a heading, code, a rule).
_BLOCK_ENDS = ("paragraph_close", "heading_close", "code_block", "fence", "hr")
_LIST_TOKENS = (
    "bullet_list_open",
    "ordered_list_open",
    "bullet_list_close",
    "ordered_list_close",
    "list_item_open",
    "list_item_close",
)


class _TextLayout:
    """The plain-text blocks of a token stream, each with whether it is in a list item."""

    def __init__(self, bracket: str) -> None:
        self.bracket = bracket
        self.blocks: list[tuple[str, bool]] = []
        self.prefixes: list[str] = []  # the marker of each open list item ("* ", "2. ")
        self.numbers: list[int] = []  # each open list's next number (0: a bullet list)
        self.line = ""

    def feed(self, token: Token) -> None:
        if token.type in _LIST_TOKENS:
            self._list(token)
        else:
            self._content(token)
        if token.type in _BLOCK_ENDS:
            self._end_block()

    def _list(self, token: Token) -> None:
        kind = token.type
        if kind == "bullet_list_open":
            self.numbers.append(0)
        elif kind == "ordered_list_open":
            self.numbers.append(int(token.attrGet("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.numbers.pop()
        elif kind == "list_item_open":
            if self.numbers and self.numbers[-1]:
                self.prefixes.append(f"{self.numbers[-1]}. ")
                self.numbers[-1] += 1
            else:
                self.prefixes.append("* ")
        else:  # list_item_close
            self.prefixes.pop()

    def _content(self, token: Token) -> None:
        kind = token.type
        if kind == "inline":
            self.line = _inline_text(token.children or [], self.bracket)
        elif kind in ("code_block", "fence"):
            self.line = token.content.rstrip("\n").replace("[", self.bracket)
        elif kind == "hr":
            self.line = "----"

    def _end_block(self) -> None:
        prefixes = self.prefixes
        lead = ("  " * (len(prefixes) - 1) + prefixes[-1]) if prefixes else ""
        self.blocks.append((lead + self.line.replace("\n", "\n" + " " * len(lead)), bool(prefixes)))
        if prefixes:
            prefixes[-1] = " " * len(prefixes[-1])  # later paragraphs of the item: indented
        self.line = ""


def _join_blocks(blocks: list[tuple[str, bool]]) -> str:
    """Items of a list follow each other line by line; other blocks are a blank line apart."""
    joined = ""
    after_item = False
    for block, in_item in blocks:
        if joined:
            joined += "\n" if in_item and after_item else "\n\n"
        joined += block
        after_item = in_item
    return joined


def _inline_text(children: list[Token], bracket: str) -> str:
    out: list[str] = []
    href = ""
    for child in children:
        kind = child.type
        if kind == "text" or kind == "code_inline":
            out.append(child.content.replace("[", bracket))
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "link_open":
            href = str(child.attrGet("href") or "")
        elif kind == "link_close":
            out.append(f" ({href})")
    return "".join(out)
