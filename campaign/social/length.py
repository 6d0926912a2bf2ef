"""How long a post is for X, and how to cut a long text into a thread.

X does not count characters: it counts a *weighted* length (most Latin, Greek and Cyrillic
letters weigh 1, CJK characters and emoji 2, every URL 23 whatever its length) against a limit
of 280. :mod:`campaign.social.xtext` counts by X's published rules and passes every conformance
case of X's configuration v3, so we rely on it rather than on ``len()``, which would let
through posts X refuses (or refuse posts X accepts, since a long URL counts as 23).
"""

from __future__ import annotations

import re

from campaign.social.xtext import MAX_WEIGHTED_LENGTH, count

__all__ = ["MAX_WEIGHTED_LENGTH", "check_length", "split_thread", "weighted_length"]

# A sentence ends with . ! ? or … (possibly followed by a closing quote or bracket) and a space,
# but not before a French closing guillemet (« Fin. » stays whole); a blank line ends a
# paragraph. These are the places where a thread may be cut.
_BOUNDARY = re.compile(r"(\n\s*\n|(?<=[.!?…])\s+(?![»\"])|(?<=[.!?…][\"')\]»])\s+)")


def weighted_length(text: str) -> int:
    """The length X counts for ``text``."""
    return count(text).weighted_length


def check_length(text: str) -> tuple[int, bool]:
    """``(weighted length, valid)``: valid means X accepts it as one post (not empty, ≤ 280)."""
    result = count(text)
    return result.weighted_length, result.valid


def _fits(text: str) -> bool:
    return count(text).valid


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


def _hard_cut(word: str) -> list[str]:
    """Cut a single word that does not fit (no space anywhere) at the longest prefix that fits."""
    parts: list[str] = []
    while word and not _fits(word):
        low, high = 1, len(word)
        while low < high:
            middle = (low + high + 1) // 2
            if _fits(word[:middle]):
                low = middle
            else:
                high = middle - 1
        parts.append(word[:low])
        word = word[low:]
    if word:
        parts.append(word)
    return parts


def _split_words(sentence: str) -> list[str]:
    """Cut a sentence too long for one post between words."""
    parts: list[str] = []
    current = ""
    for word in sentence.split():
        candidate = f"{current} {word}" if current else word
        if _fits(candidate):
            current = candidate
            continue
        if current:
            parts.append(current)
        if _fits(word):
            current = word
        else:
            *whole, current = _hard_cut(word)
            parts.extend(whole)
    if current:
        parts.append(current)
    return parts


def split_thread(text: str) -> list[str]:
    """Cut ``text`` into posts that each fit, at sentence ends where possible.

    Sentences are packed greedily; a sentence longer than a post is cut between words, and a
    single "word" longer than a post (which only happens with pasted junk) at the longest prefix
    that fits. Returns ``[]`` for blank text.
    """
    text = text.strip()
    if not text:
        return []
    if _fits(text):
        return [text]
    parts: list[str] = []
    current = ""
    separator = ""
    for sentence, next_separator in _sentences(text):
        candidate = f"{current}{separator}{sentence}" if current else sentence
        if _fits(candidate):
            current = candidate
        else:
            if current:
                parts.append(current)
            if _fits(sentence):
                current = sentence
            else:
                *whole, current = _split_words(sentence)
                parts.extend(whole)
        separator = next_separator
    if current:
        parts.append(current)
    return parts
