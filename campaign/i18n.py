"""The pages' languages: gettext catalogues managed with Babel.

Sentences meant for the dashboard and the public pages are written in English in the code
(marked ``N_("…")`` where they are defined, ``_("…")`` or ``{% trans %}`` in templates) and
translated in ``campaign/locale/LANG/LC_MESSAGES/messages.po``, the file translators edit
(``pybabel extract/update``, see the README). The ``.po`` is compiled in memory the first time a
language is used: no compiled ``.mo`` to keep in step with it, and a fuzzy or empty entry falls
back to the English sentence instead of failing. English needs no catalogue.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
"""The language the sentences are written in, in the code and the templates."""


def N_(text: str) -> str:
    """Marks ``text`` for extraction (``pybabel extract``) where it is defined; the door
    translates it when it words it."""
    return text


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> tuple[str, ...]:
    """English and every language with a catalogue in the repository."""
    catalogues = LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    found = sorted(path.parent.parent.name for path in catalogues)
    return (SOURCE_LANGUAGE, *found)


def base_language(language: str) -> str:
    """The language without its region ("fr" of "fr_FR" or "fr-FR"): the catalogue's name and
    the pages' ``<html lang>``."""
    return language.replace("-", "_").split("_")[0].lower()


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The translations into ``language`` ("fr", "fr_FR"; "en": none), compiled on first use.

    An unknown language is an error: ``[general] language`` is checked against
    :func:`languages` when the settings are read.
    """
    base = base_language(language)
    if base == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    path = po_path(base)
    if not path.is_file():
        raise ValueError(f"No translations into {language!r}: {path} does not exist.")
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=base, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext_in(language: str, text: str) -> str:
    """``text`` (an English sentence of the catalogue) in ``language``."""
    return translations(language).gettext(text)
