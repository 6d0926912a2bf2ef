"""Bluesky's rich text: the *facets* that make links, hashtags and mentions of a post's text
live (Bluesky does not find them itself), mentions resolved to DIDs by the caller. Their offsets
are **bytes of the UTF-8 text**, not characters: an accented letter before a link moves it by
two.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from campaign.social.length import graphemes
from campaign.social.xtext import find_urls

MAX_TAG_GRAPHEMES = 64
# A handle as the Bluesky docs match it: labels separated by dots, the last one a letter first.
_MENTION = re.compile(
    r"(?:^|(?<=[\s(]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_HASHTAG = re.compile(r"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D]+)")
_TRAILING_PUNCTUATION = re.compile(r"[.,;:!?…'\")\]»]+$")  # "#MoisESS." tags MoisESS


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """The rich-text facets of ``text``: links, hashtags, and mentions ``resolve`` finds a DID
    for (a handle nobody holds stays plain text). Offsets count UTF-8 bytes."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    for start, end in find_urls(text):
        url = text[start:end]
        if url.lower().startswith(("http://", "https://")):
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": url}
            found.append((start, end, feature))
    taken = [(start, end) for start, end, _ in found]

    def free(start: int, end: int) -> bool:
        return not any(start < other_end and other_start < end for other_start, other_end in taken)

    for match in _MENTION.finditer(text):
        start, end = match.start(), match.end()
        if not free(start, end):
            continue
        did = resolve(match.group(1).lower())
        if did:
            found.append((start, end, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
    for match in _HASHTAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group(1))
        start = match.start()
        end = match.start(1) + len(tag)
        if not tag or tag.isdigit() or graphemes(tag) > MAX_TAG_GRAPHEMES or not free(start, end):
            continue
        found.append((start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    return [
        {
            "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
            "features": [feature],
        }
        for start, end, feature in sorted(found, key=lambda item: item[0])
    ]
