"""The composer's image upload takes exactly what the network's media policy takes
(:mod:`campaign.social.media`): each type up to its own limit (a GIF up to 15 MB on X, not
the 5 MB of a photo), one byte more refused with the policy's message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from campaign.models import Post
from campaign.social import media
from tests.dashboard.conftest import Served, page_csrf

pytestmark = pytest.mark.one_database(
    "the dashboard's pages and forms, a door: the stages they call are tested on both engines"
)

HEADS = {"image/jpeg": b"\xff\xd8\xff\xe0", "image/gif": b"GIF89a"}


def _image(media_type: str, size: int) -> bytes:
    head = HEADS[media_type]
    return head + b"\0" * (size - len(head))


@pytest.mark.parametrize("media_type", list(HEADS))
def test_the_upload_takes_what_the_policy_takes_and_refuses_one_byte_more(
    served: Served, media_type: str
) -> None:
    editor = served.client("editor")
    page = served.url + "/posts/new"
    limit = media.size_limit(media_type, "x")
    kind = media.NAMES[media_type]
    name = f"image{media.SUFFIXES[media_type]}"
    answers = {}
    for size in (limit, limit + 1):
        answers[size] = editor.post(
            page,
            data={
                "csrf": page_csrf(editor, page),
                "account": "mois_ess",
                "text": f"Image de {size} octets",
                "alt": "Une image",
            },
            files={"image": (name, _image(media_type, size), media_type)},
            allow_redirects=False,
        )
    assert answers[limit].status_code == 303, answers[limit].text[:2000]
    refused = answers[limit + 1]
    assert refused.status_code == 400
    assert f"pèse plus de {media.size_limits('x')[media_type] / media.MB:.1f} MB" in refused.text
    assert f"pour une image {kind}" in refused.text
    with Session(served.engine) as session:  # type: ignore[arg-type]
        (post,) = session.exec(select(Post)).all()
    assert post.images[0]["size"] == limit and post.images[0]["media_type"] == media_type


def test_the_composer_says_the_policy_s_sizes(served: Served) -> None:
    page = served.client("editor").get(served.url + "/posts/new").text
    assert "au plus 5 Mo (GIF : 15 Mo) sur X" in page


def test_an_image_without_a_description_is_refused_and_not_kept(served: Served) -> None:
    editor = served.client("editor")
    page = served.url + "/posts/new"
    folder = Path(served.settings.dashboard.media_dir)
    before = set(folder.iterdir()) if folder.is_dir() else set()
    refused = editor.post(
        page,
        data={
            "csrf": page_csrf(editor, page),
            "account": "mois_ess",
            "text": "Une image",
            "alt": " ",
        },
        files={"image": ("affiche.jpg", _image("image/jpeg", 100), "image/jpeg")},
        allow_redirects=False,
    )
    assert refused.status_code == 400
    assert "Décrivez l&#39;image affiche.jpg pour les personnes" in refused.text
    assert (set(folder.iterdir()) if folder.is_dir() else set()) == before
    with Session(served.engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(Post)).all() == []
