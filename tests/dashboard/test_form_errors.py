"""A refused form says why in French, next to the field concerned and summed up at the top,
and keeps everything the person typed."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlmodel import Session, select

from campaign.audience.subscribers import add_subscriber
from campaign.models import Newsletter
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)


def _one_list(served: Served) -> None:
    with Session(served.engine) as session:  # type: ignore[arg-type]
        add_subscriber(session, "p@example.org", list_names=["Newsletter nationale"], actor="test")
        session.commit()


def test_an_end_date_before_the_start_date_is_said_by_the_au_inclus_field(
    served: Served,
) -> None:
    _one_list(served)
    editor = served.client("editor")
    page = served.url + "/newsletters/new"
    form = {
        "title": "Novembre en régions",
        "subject": "Le Mois de l'ESS près de chez vous",
        "preheader": "Les évènements de la semaine",
        "template": "mois-ess",
        "lists": "Newsletter nationale",
        "segment_regions": "Bretagne",
        "events_from": "2026-11-20",
        "events_to": "2026-11-05",
        "events_max": "4",
        "events_order": "title",
        "when_no_events": "text",
        "no_events_text": "Rien près de chez vous cette semaine.",
        "intro": "Bonjour à toutes et à tous",
    }
    refused = editor.post(
        page, data={"csrf": page_csrf(editor, page), **form}, allow_redirects=False
    )
    assert refused.status_code == 400
    text = unescape(refused.text)

    # Next to the "Au (inclus)" field, in French, and the field marked as the one to fix.
    field = re.search(
        r'<label for="events_to">Au \(inclus\)</label><input id="events_to"[^>]*>'
        r'<p id="events_to-error" class="field-error" role="alert">(.*?)</p>',
        text,
        re.S,
    )
    assert field, "the message is right after the Au (inclus) field"
    assert field.group(1) == (
        "La date de fin (jeudi 5 novembre 2026) est avant la date de début (vendredi 20 "
        "novembre 2026) : choisissez une date de fin le même jour ou après."
    )
    assert 'aria-invalid="true" aria-describedby="events_to-error"' in field.group(0)
    # Summed up at the top, linking to the field; no monospace box, no CLI wording.
    summary = re.search(r'<div class="error error-summary"[^>]*>(.*?)</div>', text, re.S)
    assert summary and '<a href="#events_to">La date de fin' in summary.group(1)
    assert "<pre>" not in summary.group(1) and "Impossible pour l'instant" not in text
    assert "--events" not in text and "is before" not in text

    # Everything typed is still there.
    for name in ("title", "subject", "preheader", "events_from", "events_to", "events_max"):
        assert re.search(rf'<input id="{name}"[^>]*value="{re.escape(form[name])}"', text), name
    assert re.search(r'value="Newsletter nationale"[^>]*checked', text)
    assert "<option selected>Bretagne</option>" in text
    assert re.search(r'<option value="title" selected>', text)
    assert re.search(r'value="text" checked', text)
    assert ">Rien près de chez vous cette semaine.</textarea>" in text
    assert ">Bonjour à toutes et à tous</textarea>" in text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(Newsletter)).all() == []


def test_several_refusals_are_each_shown_by_their_own_field(served: Served) -> None:
    editor = served.client("editor")
    page = served.url + "/newsletters/new"
    form = {"title": "Novembre", "subject": "Le Mois", "template": "mois-ess"}
    refused = editor.post(
        page, data={"csrf": page_csrf(editor, page), **form}, allow_redirects=False
    )
    assert refused.status_code == 400
    text = unescape(refused.text)
    error = re.search(r'<p id="lists-error" class="field-error" role="alert">(.*?)</p>', text)
    assert error and error.group(1) == (
        "Cochez au moins une liste : la newsletter part à ses abonnés."
    )
    assert "--list" not in text
