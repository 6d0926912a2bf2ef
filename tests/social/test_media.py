"""Images: checked before scheduling, uploaded with their description, attached to part one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from campaign.config import Settings
from campaign.errors import CampaignError
from campaign.models import PostStatus
from campaign.social import TransportError, x_media
from campaign.social.media import MB, check_images
from campaign.social.networks import transport_for
from campaign.social.posts import create_post, publish_post, schedule_posts
from campaign.social.x import XTransport

from .conftest import FakeX, server_error

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 3
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(200)
GIF = b"GIF89a" + bytes(range(256)) * 10
HEIC = b"\x00\x00\x00\x18ftypheic" + bytes(100)
LONG = " ".join(f"Phrase {i} sur l'économie sociale et solidaire en région." for i in range(12))


def image(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def sized(folder: Path, name: str, head: bytes, size: int) -> Path:
    path = folder / name
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def transport(settings: Settings, naps: list[float] | None = None) -> XTransport:
    options: dict[str, Any] = {"retries": 2, "backoff": 0}
    if naps is not None:
        options["sleep"] = naps.append  # X's "check after" delays, recorded instead of slept
    chosen = transport_for(settings, "mois_ess", **options)
    assert isinstance(chosen, XTransport)
    return chosen


def test_type_is_read_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    checked = check_images(
        [
            {"path": image(tmp_path, "photo.png", JPEG), "alt": "Une salle comble"},
            {"path": image(tmp_path, "b.webp", WEBP), "alt": "Un marché"},
        ]
    )
    assert [item["media_type"] for item in checked] == ["image/jpeg", "image/webp"]
    assert checked[0]["path"] == str((tmp_path / "photo.png").resolve())
    assert checked[0]["size"] == len(JPEG)
    with pytest.raises(CampaignError, match=r"image 1: photo\.jpg is not a JPEG, PNG, WEBP or GIF"):
        check_images([{"path": image(tmp_path, "photo.jpg", HEIC), "alt": "Photo"}])


def test_size_limits_are_5_mb_for_images_and_15_mb_for_a_gif(tmp_path: Path) -> None:
    ok_png = sized(tmp_path, "ok.png", PNG, 5 * MB)
    big_png = sized(tmp_path, "big.png", PNG, 5 * MB + 1)
    big_gif_ok = sized(tmp_path, "anim.gif", GIF, 15 * MB)
    too_big_gif = sized(tmp_path, "huge.gif", GIF, 15 * MB + 1)
    assert check_images([{"path": ok_png, "alt": "a"}])[0]["size"] == 5 * MB
    assert check_images([{"path": big_gif_ok, "alt": "a"}])[0]["media_type"] == "image/gif"
    with pytest.raises(CampaignError, match=r"big\.png is 5\.0 MB; X takes at most 5\.0 MB"):
        check_images([{"path": big_png, "alt": "a"}])
    with pytest.raises(CampaignError, match=r"at most 15\.0 MB for a GIF image"):
        check_images([{"path": too_big_gif, "alt": "a"}])


def test_descriptions_count_and_combinations(tmp_path: Path) -> None:
    png = image(tmp_path, "a.png", PNG)
    gif = image(tmp_path, "a.gif", GIF)
    with pytest.raises(CampaignError, match=r"give a description of a\.png"):
        check_images([{"path": png, "alt": "  "}])
    with pytest.raises(CampaignError, match="1001 characters long; X takes at most 1000"):
        check_images([{"path": png, "alt": "é" * 1001}])
    assert check_images([{"path": png, "alt": "é" * 1000}])[0]["alt"] == "é" * 1000
    with pytest.raises(CampaignError, match="5 images; X takes at most 4"):
        check_images([{"path": png, "alt": "a"}] * 5)
    with pytest.raises(CampaignError, match="a GIF goes alone"):
        check_images([{"path": png, "alt": "a"}, {"path": gif, "alt": "b"}])
    with pytest.raises(CampaignError, match="does not exist"):
        check_images([{"path": tmp_path / "nope.png", "alt": "a"}])


def test_images_are_uploaded_described_and_attached_to_the_first_part(
    session: Session, x_settings: Settings, fake_x: FakeX, tmp_path: Path
) -> None:
    images = [
        {"path": image(tmp_path, "salle.png", PNG), "alt": "La salle du forum, pleine"},
        {"path": image(tmp_path, "stand.jpg", JPEG), "alt": "Un stand de coopérative"},
    ]
    post = create_post(
        session, x_settings, account="mois_ess", text=LONG, split=True, images=images
    )
    assert len(post.parts) > 1
    fake_x.on("POST /2/tweets", server_error(502))  # the images are not uploaded again
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings))
    assert published.status == PostStatus.published

    uploads = fake_x.calls("POST /2/media/upload")
    assert len(uploads) == 2
    assert all(request.user_id == "42" for request in uploads)  # signed like the rest
    assert [request.body["media_category"] for request in uploads] == ["tweet_image"] * 2
    assert [request.body["media"] for request in uploads] == [PNG, JPEG]
    media_ids = list(fake_x.media)
    assert [fake_x.media[m]["alt"] for m in media_ids] == [
        "La salle du forum, pleine",
        "Un stand de coopérative",
    ]
    assert fake_x.created[0]["media_ids"] == media_ids
    assert all(tweet["media_ids"] == [] for tweet in fake_x.created[1:])
    assert len(fake_x.created) == len(post.parts)


def test_a_gif_goes_in_chunks_to_the_current_endpoints_and_waits_for_processing(
    session: Session,
    x_settings: Settings,
    fake_x: FakeX,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(x_media, "MEDIA_CHUNK", 1000)
    fake_x.processing_polls = 1  # X still processes it at the first check
    gif = image(tmp_path, "anim.gif", GIF)
    post = create_post(
        session,
        x_settings,
        account="mois_ess",
        text="Le Mois en images",
        images=[{"path": gif, "alt": "Des bénévoles qui saluent"}],
    )
    naps: list[float] = []
    published = publish_post(session, post.id, x_settings, transport=transport(x_settings, naps))
    assert published.status == PostStatus.published
    assert fake_x.calls("POST /2/media/upload") == []  # not the retired command=INIT form
    (init,) = fake_x.calls("POST /2/media/upload/initialize")
    assert init.body == {
        "media_type": "image/gif",
        "total_bytes": len(GIF),
        "media_category": "tweet_gif",
    }
    (media_id,) = fake_x.media
    appends = fake_x.calls("POST /2/media/upload/:id/append")
    assert [r.path for r in appends] == [f"/2/media/upload/{media_id}/append"] * 3
    assert [r.body["segment_index"] for r in appends] == ["0", "1", "2"]
    (finalize,) = fake_x.calls("POST /2/media/upload/:id/finalize")
    assert finalize.path == f"/2/media/upload/{media_id}/finalize" and finalize.body is None
    every = [init, *appends, finalize]
    assert all(request.user_id == "42" for request in every)  # each one signed
    assert fake_x.media[media_id]["bytes"] == GIF
    status = fake_x.calls("GET /2/media/upload")
    assert [r.query for r in status] == [{"command": ["STATUS"], "media_id": [media_id]}] * 2
    assert naps == [1.0, 1.0]  # X's check_after_secs, after finalize then after "in_progress"
    assert fake_x.created[0]["media_ids"] == [media_id]
    assert fake_x.media[media_id]["alt"] == "Des bénévoles qui saluent"


def test_a_gif_x_keeps_processing_gives_up_at_the_deadline(
    session: Session, x_settings: Settings, fake_x: FakeX, tmp_path: Path
) -> None:
    fake_x.processing_polls = 1000  # never done
    fake_x.check_after = 25
    post = create_post(
        session,
        x_settings,
        account="mois_ess",
        text="Le Mois en images",
        images=[{"path": image(tmp_path, "anim.gif", GIF), "alt": "Des bénévoles"}],
    )
    naps: list[float] = []
    with pytest.raises(TransportError, match=r"still processing \w+\.gif after 60 s") as caught:
        publish_post(session, post.id, x_settings, transport=transport(x_settings, naps))
    assert not caught.value.permanent
    assert naps == [25.0, 25.0, 10.0]  # X's delays up to the 60 s deadline (recorded, not slept)
    assert len(fake_x.calls("GET /2/media/upload")) == 3
    assert fake_x.created == []
    session.refresh(post)
    # Worth another try later: the service schedules one by itself.
    assert post.status == PostStatus.scheduled and post.not_before is not None
    assert "still processing" in post.last_error
    assert "tried again automatically" in post.last_error


@pytest.mark.parametrize("command", ["INIT", "APPEND", "FINALIZE"])
def test_the_double_refuses_the_retired_chunked_form_as_x_does(
    x_settings: Settings, fake_x: FakeX, command: str
) -> None:
    """What the code sent until now gets X's 400 from the double, so the tests above mean it."""
    chosen = transport(x_settings)
    url = x_media.TWEEPY_HOST + x_media.MEDIA_UPLOAD_PATH
    fields = {"command": (None, command), "media_type": (None, "image/gif")}
    answer = chosen.client.session.post(url, files=fields, auth=chosen._signer.apply_auth())
    assert answer.status_code == 400
    body = answer.json()
    assert body["title"] == "Invalid Request"
    assert body["errors"][0]["parameters"] == {"command": [command]}
    assert "/2/media/upload/initialize" in body["errors"][0]["message"]
    assert fake_x.media == {}


def test_the_double_refuses_undeclared_parameters(x_settings: Settings, fake_x: FakeX) -> None:
    chosen = transport(x_settings)
    session, auth = chosen.client.session, chosen._signer.apply_auth()
    base = x_media.TWEEPY_HOST
    unknown_query = session.get(f"{base}/2/users/me", params={"colour": "blue"}, auth=auth)
    assert unknown_query.status_code == 400
    assert "The query parameter [colour] is not one of" in unknown_query.text
    unknown_field = session.post(
        f"{base}/2/media/upload/initialize",
        json={"media_type": "image/gif", "total_bytes": 3, "media_category": "tweet_gif",
              "media_id": "1"},
        auth=auth,
    )  # fmt: skip
    assert unknown_field.status_code == 400
    assert unknown_field.json()["errors"][0]["parameters"] == {"media_id": ["1"]}
    nested = session.post(f"{base}/2/tweets", json={"text": "a", "reply": {"to": "1"}}, auth=auth)
    assert nested.status_code == 400 and "reply.to" in nested.text
    assert fake_x.created == [] and fake_x.media == {}


def test_an_image_gone_before_publication_fails_the_post_clearly(
    session: Session, x_settings: Settings, fake_x: FakeX, tmp_path: Path
) -> None:
    path = image(tmp_path, "affiche.png", PNG)
    post = create_post(
        session,
        x_settings,
        account="mois_ess",
        text="L'affiche du Mois",
        images=[{"path": path, "alt": "L'affiche"}],
    )
    kept = Path(post.images[0]["path"])  # the copy in the media folder the post uses
    kept.unlink()
    with pytest.raises(CampaignError, match=rf"Post \d+, image 1: {kept} does not exist"):
        publish_post(session, post.id, x_settings, transport=transport(x_settings))
    session.refresh(post)
    assert post.status == PostStatus.failed
    assert "does not exist" in post.last_error
    assert fake_x.requests == []


def test_an_image_gone_or_changed_before_scheduling_keeps_the_draft_with_the_reason(
    session: Session, x_settings: Settings, fake_x: FakeX, tmp_path: Path
) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    gone = image(tmp_path, "affiche.png", PNG)
    changed = image(tmp_path, "photo.jpg", JPEG)
    fine = image(tmp_path, "salle.png", PNG + b"\0")  # not the same copy as the first
    drafts = [
        create_post(session, x_settings, account="mois_ess", text=text, scheduled_at=later,
                    draft=True, images=[{"path": path, "alt": "Une image"}])
        for text, path in [("Affiche", gone), ("Photo", changed), ("Salle", fine)]
    ]  # fmt: skip
    assert [draft.status for draft in drafts] == [PostStatus.draft] * 3
    # What the posts use are their copies in the media folder.
    gone, changed = (Path(draft.images[0]["path"]) for draft in drafts[:2])
    gone.unlink()
    changed.write_bytes(HEIC)  # a phone photo saved over the JPEG
    first, second, third = (draft.id for draft in drafts)

    result = schedule_posts(session, x_settings, [first, second, third])
    assert [post.id for post in result.scheduled] == [third]
    reasons = {post_id: str(reason) for post_id, reason in result.refused}
    assert [reason.code for _, reason in result.refused] == ["image.missing", "image.not_a_picture"]
    assert reasons[first] == (
        f"Post {first}, image 1: {gone.resolve()} does not exist (or is not a file)."
    )
    assert reasons[second].startswith(
        f"Post {second}, image 1: {changed.name} is not a JPEG, PNG, WEBP or GIF image"
    )
    for draft in drafts[:2]:
        session.refresh(draft)
        assert draft.status == PostStatus.draft
    session.refresh(drafts[2])
    assert drafts[2].status == PostStatus.scheduled
    assert fake_x.requests == []
