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
    blocks: list[tuple[str, bool]] = []
    prefixes: list[str] = []
    numbers: list[int] = []
    line = ""
    for token in tokens:
        kind = token.type
        if kind == "bullet_list_open":
            numbers.append(0)
        elif kind == "ordered_list_open":
            numbers.append(int(token.attrGet("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
        elif kind == "list_item_open":
            if numbers and numbers[-1]:
                prefixes.append(f"{numbers[-1]}. ")
                numbers[-1] += 1
            else:
                prefixes.append("* ")
        elif kind == "list_item_close":
            prefixes.pop()
        elif kind == "inline":
            line = _inline_text(token.children or [], bracket)
        elif kind in ("code_block", "fence"):
            line = token.content.rstrip("\n").replace("[", bracket)
        elif kind == "hr":
            line = "----"
        if kind in ("paragraph_close", "heading_close", "code_block", "fence", "hr"):
            lead = ("  " * (len(prefixes) - 1) + prefixes[-1]) if prefixes else ""
            blocks.append((lead + line.replace("\n", "\n" + " " * len(lead)), bool(prefixes)))
            if prefixes:
                prefixes[-1] = " " * len(prefixes[-1])  # later paragraphs of the item: indented
            line = ""
    # Items of a list follow each other line by line; other blocks are a blank line apart.
    joined = ""
    after_item = False
    for block, in_item in blocks:
        if joined:
            joined += "\n" if in_item and after_item else "\n\n"
        joined += block
        after_item = in_item
    text_out = _LINK_MARK.sub(lambda match: placeholders[int(match.group(1))], joined)
    return Markup(text_out)


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
