"""The newsletters', posts', calendar's and reports' pages in the language of [general]
language (issue #14, "The team reads French"): in English they show their English sentences and
none of the French ones of their templates; in French, the default, their words are unchanged.

The French sentences looked for are the catalogue's translations of every sentence marked in
these templates; a sentence written in them without its mark is caught by the first test (every
word of their text is marked), one marked without its French by tests/test_i18n.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jinja2.ext import babel_extract

from campaign import i18n
from campaign.config import Settings
from campaign.models import utcnow
from tests.dashboard.test_walk import BASE, _csrf, _dashboard, _sign_in, visible_text

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ROOT / "templates" / "web" / "admin"
CONVERTED = [
    *sorted((ADMIN / "newsletters").glob("*.html")),
    *sorted((ADMIN / "posts").glob("*.html")),
    ADMIN / "calendar.html",
    ADMIN / "reports.html",
]
# What splits a sentence into the runs of words a page shows as they are: its values, its
# markup and its punctuation.
SPLIT = re.compile(r"%\(\w+\)s|<[^>]+>|[():;,.?!«»“”·—]")
# French words a page shows as data, not from its template: the newsletter template prix-ess
# names its own fields so (its template.toml: the template's words, not the page's).
DATA = {"Lien du bouton", "Texte du bouton"}


JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
TRANS = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*[-+]?%}", re.S)
SHOWN = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')
MARKED = re.compile(r"""\b_\(\s*("[^"]*"|'[^']*')""")
LITERAL = re.compile(r""""[^"\n]*"|'[^'\n]*'""")
# Words shown as they are in every language: formats and networks' names.
NAMES = {"HTML", "XLSX", "CSV", '"Mastodon"', '"Bluesky"', '"LinkedIn"'}


def unmarked(source: str) -> list[str]:
    """The words of a template shown without a mark: in its text and the attributes people
    read, and in the strings of its expressions that look like words (a capital, a space
    between two words, an accent; not ``"%d/%m/%Y à %H:%M"``, a date's format)."""
    found = []
    for expression in JINJA.findall(source):
        if expression.startswith("{#"):  # a comment, for the template's readers
            continue
        for literal in LITERAL.findall(MARKED.sub("_(", expression)):
            wordy = re.search(r"[^\W\d_] [^\W\d_]|[^\x00-\x7f]", literal) or re.match(
                r".[A-Z]", literal
            )
            if wordy and re.search(r"[^\W\d_]{2,}", literal):
                found.append(literal)
    text = JINJA.sub(" ", TRANS.sub(" ", source))
    text = re.sub(r"<[^>]*>", " ", text) + " " + " ".join(SHOWN.findall(text))
    found += re.findall(r"[^\W\d_]{2,}", text)
    return [word for word in found if word not in NAMES]


def test_every_word_of_these_templates_is_marked() -> None:
    assert unmarked('<p>Aucun {{ "non" if x else _("yes") }} {{ "Erreur" }}</p>') == [
        '"Erreur"',
        "Aucun",
    ]
    assert unmarked('<a title="Retour">{% trans %}Back{% endtrans %}</a>') == ["Retour"]
    found = {path.name: unmarked(path.read_text(encoding="utf-8")) for path in CONVERTED}
    assert {name: words for name, words in found.items() if words} == {}


def marked_sentences() -> set[str]:
    """The English sentences marked in the converted templates (as ``pybabel extract`` finds
    them)."""
    found: set[str] = set()
    for path in CONVERTED:
        with path.open("rb") as template:
            for _line, _function, message, _comments in babel_extract(
                template, ("_", "gettext", "ngettext"), [], {"extensions": "jinja2.ext.i18n"}
            ):
                found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def runs(sentence: str, *, words: int = 3) -> set[str]:
    """The runs of at least ``words`` words of ``sentence`` between its values and marks."""
    pieces = (" ".join(piece.split()) for piece in SPLIT.split(sentence.replace("%%", "%")))
    return {piece for piece in pieces if len(piece.split()) >= words}


def french_runs() -> set[str]:
    """The French words of the converted templates that are not also their English words."""
    english = set().union(*(runs(text) for text in marked_sentences()))
    french = set().union(*(runs(i18n.gettext_in("fr", text)) for text in marked_sentences()))
    return french - english - DATA


def english_runs() -> set[str]:
    english = set().union(*(runs(text) for text in marked_sentences()))
    french = set().union(*(runs(i18n.gettext_in("fr", text)) for text in marked_sentences()))
    return english - french


LETTER = {
    "title": "Novembre",
    "subject": "Le Mois",
    "template": "mois-ess",
    "lists": "Newsletter nationale",
}


def pages(client: TestClient, ids: dict[str, int]) -> dict[str, str]:
    """The visible text of every page of the converted templates, by a name for the failure."""
    newsletter = f"/newsletters/{ids['newsletter_id']}"
    post = f"/posts/{ids['post_id']}"
    # The day of the walk's event and post, five days ahead.
    day = (utcnow().astimezone(Settings().zone).date() + timedelta(days=5)).isoformat()
    got = {}
    for path in (
        "/newsletters",
        "/newsletters/new",
        newsletter,
        f"{newsletter}/edit",
        f"{newsletter}/preview",
        "/newsletters/live?lists=Newsletter+nationale&events_regions=subscriber&events_max=1",
        "/posts",
        "/posts/new",
        "/posts/length?account=mois_ess&text=Bonjour",
        post,
        f"/posts/planner?day={day}&account=mois_ess",
        "/calendar",
        "/calendar?view=week",
        "/reports",
    ):
        answer = client.get(BASE + path)
        assert answer.status_code == 200, path
        got[f"GET {path}"] = visible_text(answer.text)
    for page, action, data in (
        (newsletter, f"{newsletter}/cancel", {}),
        (newsletter, f"{newsletter}/send-now", {}),
        (post, f"{post}/publish", {}),
        (post, f"{post}/cancel", {}),
        ("/newsletters/new", "/newsletters/new", {**LETTER, "block_action": "add:image"}),
        ("/newsletters/new", "/newsletters/new", {**LETTER, "block_action": "add:events"}),
        (f"{newsletter}/preview", f"{newsletter}/test", {"to": "pas-une-adresse"}),
    ):
        answer = client.post(BASE + action, data={"csrf": _csrf(client, page), **data})
        assert answer.status_code in (200, 400), (action, answer.status_code)
        got[f"POST {action} {data}"] = visible_text(answer.text)
    return got


@pytest.fixture
def english(tmp_path: Path, secret_key: str) -> Iterator[dict[str, str]]:
    for client, ids in _dashboard(tmp_path, "en"):
        _sign_in(client)
        yield pages(client, ids)


@pytest.fixture
def french(tmp_path: Path, secret_key: str) -> Iterator[dict[str, str]]:
    for client, ids in _dashboard(tmp_path, "fr"):
        _sign_in(client)
        yield pages(client, ids)


def test_the_runs_looked_for_are_the_templates_sentences() -> None:
    marked = marked_sentences()
    assert "Message content, block by block" in marked and "Followers typed in by hand" in marked
    assert "Abonnés saisis à la main" in french_runs()
    assert "Followers typed in by hand" in english_runs()


def test_in_english_the_pages_show_english_and_none_of_their_french(english) -> None:  # type: ignore[no-untyped-def]
    text = english
    expected = {
        "GET /newsletters": ["New newsletter", "Actual recipients", "Opens", "Clicks"],
        "GET /newsletters/new": [
            "Message content, block by block",
            "Title (shown at the top of the message and in the reports)",
            "Featured events",
            "Send them the events of every region",
            "Refresh the preview",
        ],
        "GET /posts": ["Posts on the networks", "Events of the day", "New post", "Filter"],
        "GET /posts/new": [
            "Thread written by hand: one post per paragraph",
            "Publish on (empty: draft)",
            "File (PNG, JPEG, GIF or WebP; at most 5 MB (GIF: 15 MB) on X",
            "Write the text: the count follows the rules of X (a link counts 23, an emoji 2).",
        ],
        "GET /posts/length?account=mois_ess&text=Bonjour": ["7 / 280 characters (as X counts"],
        "GET /calendar": ["Month", "Week", "Everything", "Today"],
        "GET /calendar?view=week": ["Week of", "Previous week", "Next week"],
        "GET /reports": ["To (included)", "Download", "Followers typed in by hand"],
    }
    planner = next(words for name, words in text.items() if "/posts/planner" in name)
    assert "Already featured" in planner and "1 event that day" in planner
    for page, sentences in expected.items():
        for sentence in sentences:
            assert sentence in text[page], (page, sentence)
    joined = "\n".join(f"{name}: {words}" for name, words in text.items())
    for sentence in (
        "Preview and test",
        "Readers without events",
        "the events of every region",
        "Edit “Novembre”",
        "Preview of “Novembre”",
        "Send a test",
        "recipient today.",
        "Cancel the newsletter “Novembre”?",
        "Do not cancel it",
        "Send “Novembre” now?",
        "Publish now on @",
        "Do not publish",
        "Cancel this post on @",
        "Planned for",
        "Edit the text",
        "Block 1: ",
        "Image file (JPEG, PNG, WEBP or GIF, 5 MB at most) (block 1)",
        "Move up",
        "Themes of the day (none: all) (block 1)",
        "This address is not valid: “pas-une-adresse”",
    ):
        assert sentence in joined, sentence
    french = french_runs()
    found = {name: sorted(run for run in french if run in words) for name, words in text.items()}
    assert {name: runs for name, runs in found.items() if runs} == {}


def test_in_french_the_pages_keep_their_words(french) -> None:  # type: ignore[no-untyped-def]
    text = french
    assert "Contenu du message, bloc par bloc" in text["GET /newsletters/new"]
    assert "Leur envoyer les évènements de toutes les régions" in text["GET /newsletters/new"]
    assert "Publications sur les réseaux" in text["GET /posts"]
    assert "Abonnés saisis à la main" in text["GET /reports"]
    assert "Semaine du" in text["GET /calendar?view=week"]
    joined = "\n".join(text.values())
    for sentence in (
        "Annuler la newsletter « Novembre » ?",
        "Envoyer maintenant « Novembre » ?",
        "Ne pas l'annuler",
        "Publier maintenant sur @",
        "Bloc 1 : ",
        "Fichier de l'image (JPEG, PNG, WEBP ou GIF, 5 Mo au plus) (bloc 1)",
        "Cette adresse n'est pas valide : « pas-une-adresse ». Vérifiez-la",
        "destinataire aujourd'hui.",
        "Écrivez le texte : le décompte suit les règles de X",
        "Fichier (PNG, JPEG, GIF ou WebP ; au plus 5 Mo (GIF : 15 Mo) sur X",
    ):
        assert sentence in joined, sentence
    english = english_runs()
    found = {name: sorted(run for run in english if run in words) for name, words in text.items()}
    assert {name: runs for name, runs in found.items() if runs} == {}
