"""The flat recipient pass gives exactly what Jinja gives, and leaves other templates to Jinja."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaign.config import Settings
from campaign.newsletters.flat import Value, flatten
from campaign.newsletters.recipient_pass import HTML_RECIPIENT_ENV, TEXT_RECIPIENT_ENV
from campaign.newsletters.render import Recipient, render_group

from .test_render import make_event

HOSTILE = Recipient(
    email="o'hara+x@example.org",
    first_name='<script>alert("x")</script> & Zoé',
    last_name="[[ recipient.email ]]",
    organisation="{{ 7*7 }}",
    unsubscribe_url="https://news.example/u/AbC-_?a=1&b=2",
    view_url='https://news.example/v/x"y',
    pixel_url="",
)
PLAIN = Recipient(email="anne@example.org", first_name="Anne", pixel_url="https://p.example/o")
EMPTY = Recipient(email="", first_name="")
LINKS = ["https://a.example/?x=1&y=<2>", "https://b.example/'q'", "https://c.example/"]

SOURCES = [
    "Bonjour [[ recipient.first_name ]] [[ recipient.last_name ]] !",
    "[% if recipient.first_name %]Bonjour [[ recipient.first_name ]],[% else %]Bonjour,"
    '[% endif %]\r\n<a href="[[ link(0) ]]">x</a> [[ link(2) ]]\n',
    "[% if not recipient.pixel_url %]no pixel[% endif %][[ '[' ]]x]] [[ \"<&>\" ]]\n\n",
    "trailing [% if recipient.email %][[ recipient.email ]][% endif %]\r\n",
    "nested [% if recipient.first_name %]a[% if recipient.pixel_url %]"
    '<img src="[[ recipient.pixel_url ]]">[% endif %]b[% endif %]',
    "",
]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("env", [HTML_RECIPIENT_ENV, TEXT_RECIPIENT_ENV], ids=["html", "text"])
def test_flat_output_is_jinjas(env, source) -> None:
    flat = flatten(env, source)
    assert flat is not None
    template = env.from_string(source)
    for recipient in (HOSTILE, PLAIN, EMPTY):
        expected = template.render(recipient=recipient, link=LINKS.__getitem__)
        assert flat.render(recipient, LINKS) == expected


@pytest.mark.parametrize(
    "source",
    [
        "[[ recipient.first_name | upper ]]",
        "[% for x in range(3) %][[ x ]][% endfor %]",
        "[[ recipient.password ]]",
        "[[ other ]]",
        "[% if recipient.first_name %]a[% elif recipient.email %]b[% endif %]",
        "[[ link(n) ]]",
        "[% if recipient.first_name %]",
    ],
)
def test_anything_else_is_left_to_jinja(source) -> None:
    assert flatten(HTML_RECIPIENT_ENV, source) is None


def test_values_are_marked_apart_from_the_literal_chunks() -> None:
    """Literals are the template's own string objects (encoded once per group); values are
    Markup in HTML and Value in text, never plain str."""
    source = "Bonjour [[ recipient.first_name ]], à bientôt"
    html = flatten(HTML_RECIPIENT_ENV, source)
    text = flatten(TEXT_RECIPIENT_ENV, source)
    assert html is not None and text is not None
    first, second = html.chunks(PLAIN, LINKS), html.chunks(HOSTILE, LINKS)
    assert first[0] is second[0] and first[2] is second[2]
    assert type(first[0]) is str and type(first[1]) is not str
    assert type(text.chunks(PLAIN, LINKS)[1]) is Value


def test_shipped_templates_take_the_flat_path_and_match_jinja() -> None:
    settings = Settings()
    events = [make_event(i, "Bretagne", title=f"Fête <b>[[ x ]]</b> n°{i}") for i in range(4)]
    for name, context in (
        ("mois-ess", {"title": "Le Mois", "events": events}),
        (
            "prix-ess",
            {
                "title": "Les Prix <i>[[ x ]]</i>",
                "paragraphs": ["Le vote public est ouvert."],
                "action_url": "https://lemois-ess.org/prix/vote?a=1&b=2",
                "deadline": datetime(2016, 10, 15, 21, 59, tzinfo=UTC),
                "nominees": [{"name": "La [Ressourcerie]", "description": "<b>", "url": ""}],
            },
        ),
    ):
        compiled = render_group(name, context, settings)
        assert compiled._flat_html is not None, name
        assert compiled._flat_text is not None, name
        assert compiled._flat_subject is not None, name
        for recipient in (HOSTILE, PLAIN, EMPTY):
            whole = compiled.personalise(recipient)
            subject, text, chunks = compiled.personalise_chunks(recipient)
            joined = (subject, "".join(text), "".join(chunks))
            assert joined == (whole.subject, whole.text, whole.html)
