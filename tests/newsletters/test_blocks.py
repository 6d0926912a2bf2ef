"""Content blocks: checked as data, rendered in HTML and text with tracked links, safe Markdown,
the template manifest's checks, the one greeting, the CLI's --blocks and duplicate."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.models import Event, MailingList, Subscriber
from campaign.newsletters import records
from campaign.newsletters.blocks import BlockError, check_blocks
from campaign.newsletters.manifest import ManifestError
from campaign.newsletters.preview import compile_group
from campaign.newsletters.render import Recipient, render_group
from campaign.taxonomy import Taxonomy

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
TAXONOMY = Taxonomy.from_settings(None)


def _tracking(url: str) -> str:
    return "https://suivi.example/c?to=" + url


def _reader(first_name: str = "Zoé") -> Recipient:
    return Recipient(email="zoe@example.org", first_name=first_name, link=_tracking)


def _every_block(media: Path, tmp_path: Path) -> list[dict]:
    (tmp_path / "affiche.png").write_bytes(PNG)
    raw = [
        {"type": "heading", "text": "R&D : la semaine"},
        {
            "type": "text",
            "text": "Premier paragraphe, **gras** et *italique* : [le programme]"
            "(https://lemois-ess.org/programme?a=1&b=2).\n\nSecond paragraphe.\n\n"
            "- un point\n- un autre",
        },
        {
            "type": "image",
            "path": "affiche.png",
            "alt": "L'affiche « R&D » du Mois",
            "url": "https://lemois-ess.org/affiche",
            "width": 300,
        },
        {"type": "button", "label": "Je m'inscris", "url": "https://lemois-ess.org/inscription"},
        {"type": "events", "title": "Près de chez vous", "regions": ["subscriber"]},
        {"type": "callout", "text": "À noter : clôture le **15 octobre**."},
        {"type": "divider"},
    ]
    return check_blocks(raw, taxonomy=TAXONOMY, media_dir=media, base_dir=tmp_path)


def test_every_block_type_renders_in_html_and_text(tmp_path: Path) -> None:
    media = tmp_path / "media"
    blocks = _every_block(media, tmp_path)
    image = blocks[2]
    assert (media / image["file"]).read_bytes() == PNG  # copied into the media folder
    event = Event(
        source_id="1",
        title="Forum des coopératives",
        starts_at=datetime(2026, 11, 7, 14, tzinfo=UTC),
        region="Bretagne",
        city="Rennes",
        url="https://lemois-ess.org/evenements/1",
    )
    blocks[4] = {**blocks[4], "events": [event]}
    settings = Settings()
    for template in ("mois-ess", "prix-ess"):
        context = {
            "title": "Le Mois",
            "events": [],
            "blocks": blocks,
            "action_url": "https://lemois-ess.org/vote",
        }
        compiled = render_group(template, context, settings)
        message = compiled.personalise(_reader())
        html, text = message.html, message.text
        # Every link of every block is the newsletter's, tracked like the template's own.
        for url in (
            "https://lemois-ess.org/programme?a=1&b=2",
            "https://lemois-ess.org/affiche",
            "https://lemois-ess.org/inscription",
            "https://lemois-ess.org/evenements/1",
        ):
            assert url in compiled.links, (template, url)
            assert _tracking(url) in text, (template, url)
        assert (
            'href="https://suivi.example/c?to=https://lemois-ess.org/programme?a=1&amp;b=2"' in html
        )
        assert 'href="https://lemois-ess.org/' not in html  # no untracked link
        # Paragraphs, list, emphasis; the image with its alt text and width; nothing escaped twice.
        assert "<p>Premier paragraphe, <strong>gras</strong> et <em>italique</em>" in html
        assert "<p>Second paragraphe.</p>" in html
        assert "<li>un autre</li>" in html
        assert (
            'alt="L\'affiche « R&amp;D » du Mois"' in html
            or 'alt="L&#39;affiche « R&amp;D » du Mois"' in html
        )
        assert f"{settings.web.public_url}/media/{image['file']}" in html
        assert "R&amp;D : la semaine" in html
        assert "&amp;amp;" not in html and "&amp;#" not in html
        assert "Je m&#39;inscris" in html or "Je m'inscris" in html
        assert "Forum des coopératives" in html
        assert "Près de chez vous" in html
        assert "15 octobre" in html
        assert "Premier paragraphe, gras et italique : le programme (" in text
        assert "\n\nSecond paragraphe.\n\n* un point\n* un autre\n" in text
        assert "== R&D : la semaine ==" in text
        assert "[Image : L'affiche « R&D » du Mois]" in text
        assert f"Je m'inscris : {_tracking('https://lemois-ess.org/inscription')}" in text
        assert "&amp;" not in text
        # The blocks' order holds.
        order = [html.index(part) for part in ("R&amp;D : la semaine", "Second paragraphe",
                                              image["file"], "Je m", "Près de chez vous",
                                              "15 octobre")]  # fmt: skip
        assert order == sorted(order), template


def test_markdown_with_script_or_javascript_links_is_inert(tmp_path: Path) -> None:
    (block,) = check_blocks(
        [
            {
                "type": "text",
                "text": "<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
                "[piège](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=) "
                "[[ recipient.email ]] {{ sender }}",
            }
        ],
        taxonomy=TAXONOMY,
        media_dir=tmp_path,
    )
    compiled = render_group("mois-ess", {"title": "T", "events": [], "blocks": [block]}, Settings())
    message = compiled.personalise(_reader())
    assert "<script" not in message.html and "<img src=x" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert 'href="javascript' not in message.html and 'href="data' not in message.html
    # No link was made of them (the only one is the footer's link to the campaign's account).
    assert compiled.links == ("https://x.com/Mois_ESS",)
    # Recipient-pass syntax typed in a block stays text: no reader's address leaks in.
    assert "[[ recipient.email ]]" in message.html and "[[ recipient.email ]]" in message.text
    assert "{{ sender }}" in message.text


def test_blocks_refuse_what_would_not_work_naming_block_and_field(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "a.txt").write_text("pas une image")
    cases = [
        ({"type": "image", "path": "a.png"}, "Block 1 (image), 'alt'"),
        ({"type": "image", "path": "a.txt", "alt": "x"}, "not a JPEG, PNG"),
        ({"type": "button", "label": "Go", "url": "javascript:alert(1)"}, "'url'"),
        ({"type": "text", "texte": "x"}, "'texte': a text block has no such field"),
        ({"type": "paragraphe", "text": "x"}, "'paragraphe' is not a block type"),
        ({"type": "text", "text": "  "}, "'text': is empty"),
        ({"type": "events", "regions": ["Atlantide"]}, "Unknown region 'Atlantide'"),
        ({"type": "image", "path": "a.png", "alt": "x", "width": 2000}, "'width'"),
    ]
    for raw, message in cases:
        with pytest.raises(BlockError, match=re.escape(message)):
            check_blocks([raw], taxonomy=TAXONOMY, media_dir=tmp_path / "m", base_dir=tmp_path)


def test_one_greeting_with_the_first_name_or_without(tmp_path: Path) -> None:
    settings = Settings()
    compiled = render_group("mois-ess", {"title": "T", "events": []}, settings)
    named, bare = compiled.personalise(_reader("Zoé")), compiled.personalise(_reader(""))
    assert named.html.count("Bonjour") == 1 and "Bonjour Zoé," in named.html
    assert "Bonjour," in bare.html and "Bonjour ," not in bare.html
    assert "Bonjour Zoé,\n" in named.text and "\nBonjour,\n" in bare.text
    # The person's own greeting replaces the default; the template adds none of its own.
    own = render_group(
        "prix-ess",
        {"title": "T", "action_url": "https://x.org", "greeting": "Chère [[ first_name ]] & co,"},
        settings,
    )
    assert "Chère Zoé &amp; co," in own.personalise(_reader()).html
    assert "Bonjour" not in own.personalise(_reader()).html
    assert "Chère & co," in own.personalise(_reader("")).text
    none = render_group("mois-ess", {"title": "T", "events": [], "greeting": ""}, settings)
    assert "Bonjour" not in none.personalise(_reader()).html


@pytest.fixture
def listed(session: Session) -> Session:
    session.add(MailingList(name="L"))
    session.flush()
    return session


def test_the_manifest_refuses_an_unknown_and_a_missing_field(listed: Session) -> None:
    base = {"title": "T", "subject": "S", "list_names": ["L"], "taxonomy": TAXONOMY}
    with pytest.raises(ManifestError, match=r"no field 'action_ur'\. Did you mean 'action_url'"):
        records.create_newsletter(
            listed, template="prix-ess", content={"action_ur": "https://x.org"}, **base
        )
    with pytest.raises(ManifestError, match=r"needs its field 'action_url' \(Lien du bouton\)"):
        records.create_newsletter(listed, template="prix-ess", content={}, **base)
    with pytest.raises(ManifestError, match=r"'more_url'.*web address"):
        records.create_newsletter(listed, template="mois-ess", content={"more_url": "x"}, **base)
    made = records.create_newsletter(
        listed, template="prix-ess", content={"action_url": "https://x.org"}, **base
    )
    with pytest.raises(ManifestError, match="Did you mean 'action_label'"):
        records.edit_newsletter(
            listed, made.id, taxonomy=TAXONOMY, content={"action_lable": "Votez"}
        )
    with pytest.raises(ManifestError, match="needs its field 'action_url'"):
        records.edit_newsletter(listed, made.id, taxonomy=TAXONOMY, content={"action_url": ""})


def test_events_blocks_each_follow_their_own_rule(listed: Session, tmp_path: Path) -> None:
    soon = datetime.now(UTC) + timedelta(days=10)
    listed.add_all(
        [
            Event(source_id="b", title="Atelier breton", starts_at=soon, region="Bretagne"),
            Event(source_id="o", title="Forum occitan", starts_at=soon, region="Occitanie"),
            Subscriber(email="anne@example.org", first_name="Anne", region="Bretagne"),
        ]
    )
    listed.flush()
    blocks = check_blocks(
        [
            {"type": "events", "title": "Dans votre région", "regions": ["subscriber"]},
            {"type": "events", "title": "À la une", "regions": ["Occitanie"], "max": 1},
        ],
        taxonomy=TAXONOMY,
        media_dir=tmp_path,
    )
    newsletter = records.create_newsletter(
        listed,
        title="T",
        subject="S",
        template="prix-ess",  # no events of its own: only the blocks'
        list_names=["L"],
        taxonomy=TAXONOMY,
        content={"action_url": "https://x.org"},
        blocks=blocks,
    )
    compiled, _ = compile_group(listed, newsletter, Settings(), "Bretagne")
    html = compiled.personalise(_reader()).html
    region, highlights = html.index("Dans votre région"), html.index("À la une")
    assert region < html.index("Atelier breton") < highlights < html.index("Forum occitan")
    assert html.count("Atelier breton") == 1


def test_a_duplicate_is_a_draft_with_everything_but_time_and_results(listed: Session) -> None:
    sent = records.create_newsletter(
        listed,
        title="T",
        subject="S",
        template="prix-ess",
        list_names=["L"],
        taxonomy=TAXONOMY,
        content={"action_url": "https://x.org"},
        blocks=[{"type": "heading", "text": "Titre"}],
        segment={"region": ["Bretagne"]},
        from_name="Les Prix ESS",
    )
    sent.status, sent.schedule_key = "sent", "cal/k"
    sent.scheduled_at = sent.sent_at = datetime(2026, 11, 18, 9, tzinfo=UTC)
    copy = records.duplicate_newsletter(listed, sent.id, actor="cli:moi")
    assert copy.id != sent.id
    assert (copy.status, copy.scheduled_at, copy.sent_at, copy.schedule_key) == (
        "draft",
        None,
        None,
        None,
    )
    for name in ("title", "subject", "template", "list_ids", "segment", "event_rule",
                 "content", "blocks", "from_name", "when_no_events"):  # fmt: skip
        assert getattr(copy, name) == getattr(sent, name), name
    assert copy.created_by == "cli:moi"


def test_cli_blocks_file_and_duplicate(cli, tmp_path: Path) -> None:
    assert cli("lists", "create", "L").exit_code == 0
    (tmp_path / "affiche.png").write_bytes(PNG)
    blocks = tmp_path / "corps.toml"
    blocks.write_text(
        '[[block]]\ntype = "text"\ntext = "Bonjour à **toutes et tous**.\\n\\nSuite."\n\n'
        '[[block]]\ntype = "image"\npath = "affiche.png"\nalt = "L\'affiche"\n\n'
        '[[block]]\ntype = "button"\nlabel = "Voter"\nurl = "https://lemois-ess.org/vote"\n',
        encoding="utf-8",
    )
    created = cli(
        "newsletters", "create", "--title", "T", "--subject", "S", "--template", "prix-ess",
        "--list", "L", "--set", "action_url=https://lemois-ess.org/vote", "--blocks", str(blocks),
        "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    data = json.loads(created.stdout)
    assert [block["type"] for block in data["blocks"]] == ["text", "image", "button"]
    assert data["blocks"][1]["alt"] == "L'affiche"
    typo = cli("newsletters", "edit", str(data["id"]), "--set", "action_lable=Votez")
    assert typo.exit_code != 0
    assert "--set" in typo.stderr and "Did you mean 'action_label'" in typo.stderr
    bad = tmp_path / "mauvais.toml"
    bad.write_text('[[block]]\ntype = "image"\npath = "affiche.png"\n', encoding="utf-8")
    refused = cli("newsletters", "edit", str(data["id"]), "--blocks", str(bad))
    assert refused.exit_code != 0
    assert "mauvais.toml" in refused.stderr and "Block 1 (image), 'alt'" in refused.stderr
    copied = cli("newsletters", "duplicate", str(data["id"]), "--json")
    assert copied.exit_code == 0, copied.stderr
    copy = json.loads(copied.stdout)
    assert copy["id"] != data["id"]
    assert copy["status"] == "draft" and copy["scheduled_at"] is None
    for key in ("title", "subject", "template", "lists", "content", "blocks", "events"):
        assert copy[key] == data[key], key


def test_a_calendar_entry_gives_blocks_and_its_set_is_checked(
    tmp_path: Path, session: Session
) -> None:
    from campaign.scheduling.calendar import read_calendar

    (tmp_path / "logo.png").write_bytes(PNG)
    path = tmp_path / "cal.toml"
    entry = """
[[newsletter]]
key = "k"
at = 2099-10-20 10:00:00
title = "T"
subject = "S"
template = "prix-ess"
lists = ["L"]
set = { action_url = "https://x.org"%s }
blocks = [
  { type = "heading", text = "Les nommés" },
  { type = "image", path = "logo.png", alt = "Logo" },
  { type = "events", title = "À la une", regions = ["Bretagne"], max = 3 },
]
"""
    path.write_text(entry % "", encoding="utf-8")
    settings = Settings()
    settings.dashboard.media_dir = str(tmp_path / "media")
    calendar = read_calendar(path, settings, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert calendar.problems == []
    (newsletter,) = calendar.newsletters
    heading, image, events = newsletter.blocks
    assert heading == {"type": "heading", "text": "Les nommés"}
    assert image["alt"] == "Logo" and image["file"].endswith(".png")
    assert events["rule"]["regions"] == ["Bretagne"] and events["rule"]["max"] == 3
    assert newsletter.block_images == [tmp_path / "logo.png"]
    path.write_text(entry % ', action_lable = "Go"', encoding="utf-8")
    calendar = read_calendar(path, settings, now=datetime(2026, 1, 1, tzinfo=UTC))
    (problem,) = calendar.errors
    assert "Did you mean 'action_label'" in problem.message


def test_a_date_field_typed_as_text_is_a_moment_in_the_configured_zone() -> None:
    compiled = render_group(
        "prix-ess",
        {"title": "T", "action_url": "https://x.org", "deadline": "2016-10-15T23:59"},
        Settings(),
    )
    message = compiled.personalise(_reader())
    assert "Jusqu'au samedi 15 octobre 2016 à 23h59." in message.text


def test_an_intro_written_before_blocks_keeps_its_paragraphs() -> None:
    intro = "Premier paragraphe.\n\nSecond paragraphe, & une suite."
    compiled = render_group("mois-ess", {"title": "T", "events": [], "intro": intro}, Settings())
    message = compiled.personalise(_reader())
    assert "<p>Premier paragraphe.</p>" in message.html
    assert "<p>Second paragraphe, &amp; une suite.</p>" in message.html
    assert "Premier paragraphe.\n\nSecond paragraphe, & une suite." in message.text
