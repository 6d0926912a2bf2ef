"""Messages as data and their catalogues: every code worded by every door, every marked
sentence translated into French, the CLI's words as they always were."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from campaign import i18n
from campaign.errors import CampaignError
from campaign.messages import Message, message
from campaign.wording import cli, pages

ROOT = Path(__file__).resolve().parent.parent
FLAG = re.compile(r"--[a-z]")
SETTINGS_PATH = re.compile(r"\[[a-z_.]+\]")


CODE_CALL = re.compile(
    r'(?:CampaignError\.of|\bmessage|\bMessage|RowError)\(\s*(f?)"([a-z_{}]+\.[a-z_{}]+)"'
)


def used_codes() -> tuple[set[str], list[re.Pattern[str]]]:
    """The codes the library raises or returns (``CampaignError.of``, ``message``, ``Message``,
    ``RowError``), and those built from a value (f"newsletter.cannot_be_{verb}") as patterns."""
    codes: set[str] = set()
    built: list[re.Pattern[str]] = []
    for path in (ROOT / "campaign").rglob("*.py"):
        if "wording" in path.parts:
            continue
        for f_string, code in CODE_CALL.findall(path.read_text(encoding="utf-8")):
            if f_string and "{" in code:
                built.append(re.compile(re.sub(r"\{\w+\}", "[a-z_]+", code) + "$"))
            else:
                codes.add(code)
    return codes, built


def marked_messages() -> set[str]:
    """What ``pybabel extract -F babel.cfg`` finds: the sentences marked for translation."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str] = set()
    for _file, _line, text, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.update([text] if isinstance(text, str) else [t for t in text if t])
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_code_the_library_uses_is_worded_by_both_doors() -> None:
    codes, built = used_codes()
    assert "newsletter.no_list" in codes and "planner.slot_past" in codes
    assert "import.no_title" in codes, "RowError's codes are found too"
    assert len(built) >= 4, "codes built from a value are found"
    assert sorted(codes - set(cli.SENTENCES)) == []
    assert sorted(codes - set(pages.SENTENCES)) == []
    assert set(cli.SENTENCES) == set(pages.SENTENCES)
    # No sentence without a use: each code of the catalogues is raised or returned somewhere.
    source = "".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "campaign").rglob("*.py")
        if "wording" not in path.parts
    )
    unused = [
        code
        for code in cli.SENTENCES
        if f'"{code}"' not in source and not any(pattern.match(code) for pattern in built)
    ]
    assert unused == []


def test_every_marked_message_has_a_french_translation() -> None:
    marked = marked_messages()
    assert set(pages.SENTENCES.values()) <= marked, "pybabel extract finds the pages' catalogue"
    with i18n.po_path("fr").open("rb") as po_file:
        catalog = read_po(po_file, locale="fr")
    translated = {
        entry.id: entry.string
        for entry in catalog
        if entry.id and entry.string and "fuzzy" not in entry.flags
    }
    missing = sorted(text for text in marked if text not in translated)
    assert missing == [], "run pybabel update and translate these (see the README)"
    for text in marked:  # a translation shows the same values as the sentence
        assert fields(translated[text]) == fields(text), text


def test_the_pages_words_name_no_flag_and_no_settings_path() -> None:
    for code, sentence in pages.SENTENCES.items():
        for language in ("en", "fr"):
            worded = i18n.gettext_in(language, sentence)
            assert not FLAG.search(worded), (code, worded)
            assert not SETTINGS_PATH.search(worded), (code, worded)


def test_the_cli_words_are_unchanged_and_name_the_flags() -> None:
    error = CampaignError.of("newsletter.no_list", "lists")
    assert str(error) == "A newsletter needs at least one list: give --list NAME."
    assert error.messages == [Message("newsletter.no_list", "lists", {})]
    late = message(
        "newsletter.events_end_before_start",
        "events.to",
        start=date(2026, 11, 20),
        end=date(2026, 11, 5),
    )
    assert str(late) == "--events-to (05/11/2026) is before --events-from (20/11/2026)."
    assert str(message("newsletter.empty_text", "subject")) == "--subject cannot be empty."
    assert str(message("newsletter.bad_pair", "content", pair="x")) == (
        "--set: 'x' is not KEY=VALUE (e.g. region=Bretagne)."
    )
    assert str(message("post.too_long", "text", post_id=7, length=300, over=20, limit=280)) == (
        "Post 7 is 300 characters long as X counts them, 20 too many (at most 280; a link "
        "counts 23, an emoji 2): shorten it, or use --split to publish it as a thread."
    )


def test_the_pages_word_the_same_message_in_french_or_in_english() -> None:
    late = message(
        "newsletter.events_end_before_start",
        "events.to",
        start=date(2026, 11, 20),
        end=date(2026, 11, 5),
    )
    assert pages.word(late, "fr") == (
        "La date de fin (jeudi 5 novembre 2026) est avant la date de début (vendredi 20 "
        "novembre 2026) : choisissez une date de fin le même jour ou après."
    )
    assert pages.word(late, "en").startswith("The end date (Thursday 5 November 2026) is before")


def test_a_plain_sentence_error_keeps_its_words() -> None:
    error = CampaignError("Cannot read x.csv.")
    assert str(error) == "Cannot read x.csv." and error.messages == []


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="No translations"):
        i18n.translations("xx")


def test_the_language_setting_names_a_language_with_a_catalogue() -> None:
    from campaign.config import Settings

    assert Settings.model_validate({"general": {"language": "en"}}).general.language == "en"
    with pytest.raises(ValueError, match="unknown language 'br': use one of en, fr"):
        Settings.model_validate({"general": {"language": "br"}})


def test_messages_compare_and_hash_by_code_field_and_values() -> None:
    one = message("import.suppressed", count=2, rows=[3, 4], more="")
    assert one == message("import.suppressed", count=2, rows=[3, 4], more="")
    assert one != message("import.suppressed", count=2, rows=[3, 5], more="")
    assert len({one, message("import.suppressed", count=2, rows=[3, 4], more="")}) == 1
