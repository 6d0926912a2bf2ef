"""How long a post is for each network, and how to cut a long text into a thread.

Each network counts in its own way, and a post it refuses is found out only at publication
time, so we count as the network does rather than with ``len()``:

- **X** counts a *weighted* length (most Latin, Greek and Cyrillic letters weigh 1, CJK
  characters and emoji 2, every URL 23 whatever its length) against a limit of 280.
  :mod:`campaign.social.xtext` counts by X's published rules and passes every conformance
  case of X's configuration v3.
- **Mastodon** counts user-perceived characters (grapheme clusters: an emoji with its skin tone
  or a flag is one), every ``http(s)://`` link as 23 whatever its length, and a mention of an
  account on another instance (``@name@instance.org``) as its ``@name`` only; 500 by default,
  but each instance sets its own: a ``limit`` given to the functions below replaces the
  network's (see :mod:`campaign.social.limits`).
- **Bluesky** counts grapheme clusters, links in full (the text is stored as written), at most
  300; the text may also not exceed 3,000 bytes in UTF-8.
- **LinkedIn** takes a post's ``commentary`` of at most 3,000 characters, counted as written
  (links in full); it has no threads, so the parts of a thread become one post, their
  paragraphs separated by a blank line (:func:`join_thread`), and a text too long for one post
  is refused rather than cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import regex

from campaign.social.xtext import MAX_WEIGHTED_LENGTH, count, find_urls

__all__ = [
    "MAX_WEIGHTED_LENGTH",
    "check_length",
    "graphemes",
    "join_thread",
    "limit_for",
    "mastodon_length",
    "split_thread",
    "weighted_length",
]
MASTODON_LIMIT = 500
MASTODON_URL_LENGTH = 23
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000
LINKEDIN_LIMIT = 3000
# Networks on which a post cannot reply to the previous one: a thread is published as one post.
NO_THREADS = frozenset({"linkedin"})
# Mastodon's own pattern for a mention (Account::MENTION_RE): @name, optionally @name@domain.
_MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?", re.IGNORECASE
)
_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Mastodon and Bluesky count."""
    return len(_GRAPHEME.findall(text))


def _mastodon_countable(text: str) -> str:
    """``text`` with each link as 23 characters and each remote mention as its local part."""
    spans: list[tuple[int, int, str]] = []
    for start, end in find_urls(text):
        if text[start:end].lower().startswith(("http://", "https://")):
            spans.append((start, end, "x" * MASTODON_URL_LENGTH))
    for match in _MASTODON_MENTION.finditer(text):
        if not any(start < match.end() and match.start() < end for start, end, _ in spans):
            spans.append((match.start(), match.end(), "@" + match.group(1)))
    pieces, last = [], 0
    for start, end, replacement in sorted(spans):
        pieces.extend([text[last:start], replacement])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def mastodon_length(text: str) -> int:
    """The length Mastodon counts for ``text``."""
    return graphemes(_mastodon_countable(text))


@dataclass(frozen=True)
class LengthRule:
    """How one network measures a post, and its limit."""

    network: str
    limit: int
    measure: Callable[[str], int]
    extra: Callable[[str], bool] = lambda _text: True  # any other condition (Bluesky's bytes)

    def check(self, text: str) -> tuple[int, bool]:
        length = self.measure(text)
        return length, bool(text.strip()) and length <= self.limit and self.extra(text)


def _x_length(text: str) -> int:
    return count(text).weighted_length


RULES = {
    "x": LengthRule("x", MAX_WEIGHTED_LENGTH, _x_length),
    "mastodon": LengthRule("mastodon", MASTODON_LIMIT, mastodon_length),
    "bluesky": LengthRule(
        "bluesky",
        BLUESKY_LIMIT,
        graphemes,
        lambda text: len(text.encode("utf-8")) <= BLUESKY_MAX_BYTES,
    ),
    "linkedin": LengthRule("linkedin", LINKEDIN_LIMIT, len),
}


def join_thread(parts: list[str], network: str) -> list[str]:
    """The parts as ``network`` publishes them: one post on a network without threads."""
    kept = [part.strip() for part in parts if part.strip()]
    if network in NO_THREADS and len(kept) > 1:
        return ["\n\n".join(kept)]
    return kept


def rule_for(network: str, limit: int | None = None) -> LengthRule:
    """The length rule of ``network`` (X's for an unknown one: the strictest of the three);
    ``limit``: the account's server's own limit, when it sets one (a Mastodon instance)."""
    rule = RULES.get(network, RULES["x"])
    return replace(rule, limit=limit) if limit and network != "x" else rule


def limit_for(network: str, limit: int | None = None) -> int:
    return rule_for(network, limit).limit


# A sentence ends with . ! ? or … (possibly followed by a closing quote or bracket) and a space,
# but not before a French closing guillemet (« Fin. » stays whole); a blank line ends a
# paragraph. These are the places where a thread may be cut.
_BOUNDARY = re.compile(r"(\n\s*\n|(?<=[.!?…])\s+(?![»\"])|(?<=[.!?…][\"')\]»])\s+)")


def weighted_length(text: str) -> int:
    """The length X counts for ``text``."""
    return count(text).weighted_length


def check_length(text: str, network: str = "x", limit: int | None = None) -> tuple[int, bool]:
    """``(length, valid)`` as ``network`` counts: valid means it takes it as one post
    (``limit``: the account's own, as for :func:`rule_for`)."""
    if network == "x":
        result = count(text)
        return result.weighted_length, result.valid
    return rule_for(network, limit).check(text)


def _fitter(network: str, limit: int | None = None) -> Callable[[str], bool]:
    if network == "x":
        return lambda text: count(text).valid
    rule = rule_for(network, limit)
    return lambda text: rule.check(text)[1]


def _sentences(text: str) -> list[tuple[str, str]]:
    """``(sentence, separator before the next one)`` pairs, the separator normalised."""
    pieces = _BOUNDARY.split(text)
    pairs: list[tuple[str, str]] = []
    for index in range(0, len(pieces), 2):
        chunk = pieces[index]
        raw_sep = pieces[index + 1] if index + 1 < len(pieces) else ""
        sentence = chunk.strip()
        separator = "\n\n" if raw_sep.count("\n") >= 2 else ("\n" if "\n" in raw_sep else " ")
        if sentence:
            pairs.append((sentence, separator))
    return pairs


def _hard_cut(word: str, fits: Callable[[str], bool]) -> list[str]:
    """Cut a single word that does not fit (no space anywhere) at the longest prefix that fits."""
    parts: list[str] = []
    while word and not fits(word):
        low, high = 1, len(word)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(word[:middle]):
                low = middle
            else:
                high = middle - 1
        parts.append(word[:low])
        word = word[low:]
    if word:
        parts.append(word)
    return parts


def _split_words(sentence: str, fits: Callable[[str], bool]) -> list[str]:
    """Cut a sentence too long for one post between words."""
    parts: list[str] = []
    current = ""
    for word in sentence.split():
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            parts.append(current)
        if fits(word):
            current = word
        else:
            *whole, current = _hard_cut(word, fits)
            parts.extend(whole)
    if current:
        parts.append(current)
    return parts


def split_thread(text: str, network: str = "x", limit: int | None = None) -> list[str]:
    """Cut ``text`` into posts that each fit ``network``, at sentence ends where possible.

    Sentences are packed greedily; a sentence longer than a post is cut between words, and a
    single "word" longer than a post (which only happens with pasted junk) at the longest prefix
    that fits. Returns ``[]`` for blank text. ``limit``: the account's own, as for
    :func:`rule_for`.
    """
    fits = _fitter(network, limit)
    text = text.strip()
    if not text:
        return []
    if fits(text) or network in NO_THREADS:  # no threads: one post, refused later if too long
        return [text]
    parts: list[str] = []
    current = ""
    separator = ""
    for sentence, next_separator in _sentences(text):
        candidate = f"{current}{separator}{sentence}" if current else sentence
        if fits(candidate):
            current = candidate
        else:
            if current:
                parts.append(current)
            if fits(sentence):
                current = sentence
            else:
                *whole, current = _split_words(sentence, fits)
                parts.extend(whole)
        separator = next_separator
    if current:
        parts.append(current)
    return parts
