"""One media policy per network (:mod:`campaign.social.media`): the sizes the upload check,
the post's checks and the composer all read."""

from __future__ import annotations

import pytest

from campaign.errors import CampaignError
from campaign.messages import Message
from campaign.social import media

JPEG = b"\xff\xd8\xff\xe0"
GIF = b"GIF89a"


def test_each_network_s_largest_image_of_each_type() -> None:
    assert media.size_limits("x") == {
        "image/jpeg": 5 * media.MB,
        "image/png": 5 * media.MB,
        "image/webp": 5 * media.MB,
        "image/gif": 15 * media.MB,
    }
    assert set(media.size_limits("bluesky").values()) == {1_000_000}
    assert media.largest_image("x") == 15 * media.MB
    assert media.largest_image("bluesky") == 1_000_000


@pytest.mark.parametrize(("network", "head"), [("x", GIF), ("x", JPEG), ("bluesky", JPEG)])
def test_an_upload_is_taken_up_to_its_limit_and_refused_one_byte_more(
    network: str, head: bytes
) -> None:
    media_type = media.sniff(head + b"\0" * 8)
    assert media_type is not None
    limit = media.size_limit(media_type, network)
    data = head + b"\0" * (limit - len(head))
    assert media.check_upload(data, name="a", network=network) == media_type
    with pytest.raises(CampaignError) as refused:
        media.check_upload(data + b"\0", name="a", network=network)
    message = refused.value.messages[0]
    assert (message.code, message.field) == ("image.upload_too_big", "image")
    assert message.values["network_name"] == {"x": "X", "bluesky": "Bluesky"}[network]


def test_an_upload_that_is_no_picture_is_refused() -> None:
    with pytest.raises(CampaignError) as refused:
        media.check_upload(b"%PDF-1.7 not an image", name="tract.pdf")
    assert refused.value.messages[0].code == "image.not_a_picture"


def test_an_upload_without_a_description_is_refused_before_its_type_or_size() -> None:
    for alt in ("", "   "):
        with pytest.raises(CampaignError) as refused:
            media.check_upload(b"%PDF-1.7 not an image", name="tract.pdf", alt=alt)
        assert refused.value.messages == [
            Message("image.no_alt", "alt", {"label": "Image 'tract.pdf'", "name": "tract.pdf"})
        ]
    jpeg = JPEG + b"\0" * 8
    assert media.check_upload(jpeg, name="a.jpg", alt="A poster") == "image/jpeg"
