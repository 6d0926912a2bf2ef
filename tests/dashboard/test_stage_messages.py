"""The stages' refusals on the dashboard: each worded in French from the catalogue, never the
command line's English sentence (which names its commands and options)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from campaign.models import Post, PostStatus
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)


def _post(client, url: str, form_page: str, data: dict):  # type: ignore[no-untyped-def]
    return client.post(
        url, data={"csrf": page_csrf(client, form_page), **data}, allow_redirects=False
    )


def _cancelled_post(served: Served) -> str:
    """A post written then cancelled on the dashboard; its page's address."""
    editor = served.client("editor")
    created = _post(
        editor,
        served.url + "/posts/new",
        served.url + "/posts/new",
        {"account": "mois_ess", "text": "Le Mois commence"},
    )
    post_id = int(re.search(r"/posts/(\d+)", created.headers["location"]).group(1))
    show = f"{served.url}/posts/{post_id}"
    assert _post(editor, f"{show}/cancel", show, {"confirm": "oui"}).status_code == 303
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.get(Post, post_id).status == PostStatus.cancelled
    return show


def test_the_actions_on_a_cancelled_post_are_refused_in_french(served: Served) -> None:
    editor = served.client("editor")
    show = _cancelled_post(served)
    asked = _post(editor, f"{show}/publish", show, {})
    assert asked.status_code == 400
    assert "Cette publication a le statut « annulé » : elle ne peut pas être publiée." in asked.text
    published = _post(editor, f"{show}/publish", show, {"confirm": "oui"})
    assert published.status_code == 400
    assert (
        "Cette publication a le statut « annulé » : elle ne peut pas être publiée."
        in published.text
    )
    scheduled = _post(editor, f"{show}/schedule", show, {"at": ""})
    assert scheduled.status_code == 400
    assert "seul un brouillon peut être programmé" in scheduled.text
    for answer in (asked, published, scheduled):
        assert "Post " not in answer.text and "campaign post" not in answer.text


def test_an_unknown_post_is_a_missing_page(served: Served) -> None:
    """The dashboard's own check comes first: no post, no page (not a sentence)."""
    assert served.client("viewer").get(served.url + "/posts/999999").status_code == 404


def test_the_block_editor_names_its_kinds_and_refuses_a_file_in_french(served: Served) -> None:
    editor = served.client("editor")
    page = served.url + "/newsletters/new"
    form = editor.get(page).text
    for label in ("Texte", "Intertitre", "Image", "Bouton", "Évènements", "Encadré", "Séparateur"):
        assert f"+ {label}</button>" in form
    assert "Text block" not in form and "Subheading" not in form
    letter = {"title": "N", "subject": "S", "template": "mois-ess", "lists": "Newsletter nationale"}
    blocks = {"block_count": "1", "block-0-type": "image", "block-0-alt": "Une affiche"}
    refused = editor.post(
        page,
        data={"csrf": page_csrf(editor, page), **letter, **blocks},
        files={"block-0-upload": ("affiche.png", b"not an image at all", "image/png")},
        allow_redirects=False,
    )
    assert refused.status_code == 400
    assert "Bloc 1 : « affiche.png » n&#39;est pas une image JPEG, PNG, WEBP ou GIF" in refused.text
    assert "is not a JPEG" not in refused.text
