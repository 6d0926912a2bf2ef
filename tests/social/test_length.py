"""Weighted length against X's own conformance cases, and thread splitting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from campaign.social.length import (
    MAX_WEIGHTED_LENGTH,
    check_length,
    split_thread,
    weighted_length,
)
from campaign.social.xtext import find_urls

REFERENCE = Path(__file__).parent / "reference" / "x-weighted-length"  # copied from shared/
SECTION = "WeightedTweetsWithDiscountedEmojiCounterTest"


def _yaml_string(raw: str) -> str:
    """A YAML double-quoted scalar (the file only uses \\n, \\", \\\\, \\uXXXX and \\UXXXXXXXX)."""
    simple = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}

    def unescape(match: re.Match[str]) -> str:
        code = match.group(1)
        return simple[code] if code in simple else chr(int(code[1:], 16))

    return re.sub(r'\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[nt"\\])', unescape, raw)


def _v3_cases() -> list[tuple[str, str, int, bool]]:
    """``(description, text, weightedLength, valid)`` of the v3 section of validate.yml.

    PyYAML is not a dependency; the section has a fixed shape, read line by line. A missing file
    is an error, not a skip: these cases are what proves we count like X.
    """
    lines = (REFERENCE / "validate.yml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{SECTION}:")
    cases: list[tuple[str, str, int, bool]] = []
    current: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if line and not line.startswith("    "):
            break  # next section
        match = re.match(r'\s+(?:- )?(\w+): (".*"|\S+)\s*$', line)
        if not match:
            continue
        key, value = match.groups()
        if key == "description":
            current = {"description": value.strip('"')}
        elif key == "text":
            current["text"] = _yaml_string(value[1:-1])
        elif key == "weightedLength":
            current["weightedLength"] = value
        elif key == "valid":
            cases.append(
                (
                    current["description"],
                    current["text"],
                    int(current["weightedLength"]),
                    value == "true",
                )
            )
    return cases


CASES = _v3_cases()


def test_reference_data_is_complete() -> None:
    assert len(CASES) == 22
    config = json.loads((REFERENCE / "v3.json").read_text(encoding="utf-8"))
    assert config["maxWeightedTweetLength"] == MAX_WEIGHTED_LENGTH
    assert config["transformedURLLength"] == 23


@pytest.mark.parametrize(
    ("description", "text", "expected", "valid"), [pytest.param(*c, id=c[0]) for c in CASES]
)
def test_conformance_v3(description: str, text: str, expected: int, valid: bool) -> None:
    assert check_length(text) == (expected, valid), description


def test_urls_count_23_whatever_their_length() -> None:
    short = "Programme : https://lemois-ess.org"
    long = "Programme : https://lemois-ess.org/" + "a" * 200
    assert weighted_length(short) == weighted_length(long) == len("Programme : ") + 23
    assert check_length(long)[1]


def links(text: str) -> list[str]:
    return [text[start:end] for start, end in find_urls(text)]


def test_links_are_found_as_x_finds_them() -> None:
    # With a protocol, or a bare domain under a real top-level domain.
    assert links("Programme : lemois-ess.org et https://www.prix-ess.fr/vote?id=3.") == [
        "lemois-ess.org",
        "https://www.prix-ess.fr/vote?id=3",
    ]
    # The sentence's punctuation stays outside; a bracket the link opened stays inside.
    assert links(
        "« https://lemois-ess.org/agenda », (voir https://fr.wikipedia.org/wiki/ESS_(x))."
    )[1] == ("https://fr.wikipedia.org/wiki/ESS_(x)")
    assert links("https://lemois-ess.org/a)b") == ["https://lemois-ess.org/a"]
    # Not links: an email address, a made-up top-level domain, a mention or a hashtag.
    assert links("contact@cress.fr, fin.demain, fichier.inconnu, @lemois.org #ess.org") == []
    # A domain label longer than DNS allows (63) is not a domain.
    assert links("a" * 64 + ".com") == [] and links("a" * 63 + ".com") == ["a" * 63 + ".com"]


def test_accents_weigh_one_and_emoji_two() -> None:
    assert weighted_length("économie sociale et solidaire") == 29
    assert weighted_length("é" * 280) == 280
    assert check_length("é" * 281) == (281, False)
    assert weighted_length("🎉") == 2
    assert weighted_length("👩‍👩‍👧‍👦") == 2  # one family, not four people
    assert check_length("") == (0, False)


def test_short_text_is_one_part() -> None:
    assert split_thread("  Le Mois de l'ESS commence !  ") == ["Le Mois de l'ESS commence !"]
    assert split_thread("   ") == []


def test_split_cuts_at_sentence_ends() -> None:
    sentences = [f"Phrase {i} sur l'économie sociale et solidaire en région." for i in range(15)]
    parts = split_thread(" ".join(sentences))
    assert len(parts) > 1
    for part in parts:
        assert check_length(part)[1]
        assert part.endswith(".")
    assert " ".join(parts) == " ".join(sentences)


def test_split_keeps_urls_whole_and_counts_them_as_23() -> None:
    url = "https://lemois-ess.org/evenements/" + "x" * 150
    text = " ".join(f"Événement {i} : {url} ." for i in range(12))
    parts = split_thread(text)
    assert all(check_length(part)[1] for part in parts)
    assert sum(part.count(url) for part in parts) == 12


def test_split_long_sentence_between_words_and_long_word_hard() -> None:
    sentence = " ".join(["solidaire"] * 80)
    parts = split_thread(sentence)
    assert len(parts) == 3
    assert all(check_length(part)[1] for part in parts)
    assert " ".join(parts) == sentence
    blob = "x" * 600
    cut = split_thread(blob)
    assert [len(part) for part in cut] == [280, 280, 40]


def test_split_respects_emoji_weight() -> None:
    text = "🎉" * 200
    parts = split_thread(text)
    assert [weighted_length(part) for part in parts] == [280, 120]


def test_edge_cases_french_posts_meet() -> None:
    # Accents typed decomposed (e + combining accent, as some Mac exports do) count once.
    assert weighted_length("e\u0301") == weighted_length("é") == 1
    # A bare domain is a link for X, counted 23 like any other; "a.b" is not.
    assert weighted_length("lemois-ess.org") == 23
    assert weighted_length("www.lemois-ess.org/programme") == 23
    assert weighted_length("a.b") == 3
    # Emoji with a skin tone or a flag are one emoji each, weighing 2.
    assert weighted_length("👍🏽") == weighted_length("🇫🇷") == 2
    assert weighted_length("中文") == 4
    # 257 letters and a link fill a post exactly; one more letter is too many.
    exact = "é" * 256 + " https://lemois-ess.example.org/programme-complet-du-mois"
    assert check_length(exact) == (280, True)
    assert check_length("é" + exact) == (281, False)


def test_an_instance_limit_replaces_mastodons_default_but_never_xs() -> None:
    from campaign.social.length import check_length, limit_for, split_thread

    text = "Une phrase du Mois de l'ESS. " * 20  # 580 characters
    assert check_length(text, "mastodon") == (len(text), False)
    assert check_length(text, "mastodon", 1000) == (len(text), True)
    assert limit_for("mastodon", 1000) == 1000 and limit_for("mastodon") == 500
    assert len(split_thread(text, "mastodon")) == 2
    assert split_thread(text, "mastodon", 1000) == [text.strip()]
    assert limit_for("x", 1000) == 280  # X's limit is X's, whatever is stored
