"""X's v2 media upload, which tweepy 4.17 has no client for: the requests are made here, on the
transport's rebased session and signed the same way as tweepy's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import tweepy

from campaign.social import Image, TransportError

TWEEPY_HOST = "https://api.twitter.com"  # what tweepy calls; rebased on api_base_url
MEDIA_UPLOAD_PATH = "/2/media/upload"
MEDIA_METADATA_PATH = "/2/media/metadata"
MEDIA_CHUNK = 4 * 1024 * 1024  # GIFs go in chunks (X's chunked upload); images in one request
# A multipart upload's fields, as requests reads them: (file name, content[, content type]).
_Multipart = dict[str, tuple[str | None, str | bytes] | tuple[str | None, str | bytes, str]]
MEDIA_PROCESSING_WAIT = 60.0  # seconds we wait for X to process an uploaded GIF


def _raise_for_status(response: requests.Response) -> None:
    """The errors tweepy raises for its own requests, for the ones we make ourselves."""
    status = response.status_code
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset else None)
    errors: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    if not 200 <= status < 300:
        raise tweepy.HTTPException(response)


def _media_data(response: requests.Response) -> dict[str, Any]:
    _raise_for_status(response)
    try:
        data = response.json()["data"]
        str(data["id"])
    except (ValueError, KeyError, TypeError):
        raise TransportError(
            f"X answered the media upload without a media id: {response.text[:200]}",
            permanent=True,
        ) from None
    return data


def _upload_url(*parts: str) -> str:
    return "/".join([TWEEPY_HOST + MEDIA_UPLOAD_PATH, *parts])


def upload_media(
    session: requests.Session,
    auth: Any,
    image: Image,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Upload one image to X's v2 media endpoints; returns its media id.

    The one place that knows the shape of X's media upload, so that a change at X is a change
    here. JPEG, PNG and WEBP go in one multipart ``POST /2/media/upload`` (``media`` and
    ``media_category=tweet_image``). Animated GIFs go in chunks, as X requires for
    ``tweet_gif``: ``POST /2/media/upload/initialize`` (JSON: type, size, category), one
    ``POST /2/media/upload/{id}/append`` per chunk (multipart: ``media``, ``segment_index``),
    ``POST /2/media/upload/{id}/finalize``, then ``GET /2/media/upload?command=STATUS`` while X
    processes it, for at most ``MEDIA_PROCESSING_WAIT`` seconds. (The older
    ``command=INIT/APPEND/FINALIZE`` form of ``POST /2/media/upload`` is retired.) ``session``
    is the transport's rebased session and ``auth`` its OAuth 1.0a signer, so the requests go
    where the others go and are signed the same way.
    """
    content = Path(image.path).read_bytes()
    name = Path(image.path).name
    if image.media_type != "image/gif":
        fields: _Multipart = {
            "media": (name, content, image.media_type),
            "media_category": (None, "tweet_image"),
        }
        return str(_media_data(session.post(_upload_url(), files=fields, auth=auth))["id"])

    init: dict[str, str | int] = {
        "media_type": image.media_type,
        "total_bytes": len(content),
        "media_category": "tweet_gif",
    }
    response = session.post(_upload_url("initialize"), json=init, auth=auth)
    media_id = str(_media_data(response)["id"])
    for index, start in enumerate(range(0, len(content), MEDIA_CHUNK)):
        chunk: _Multipart = {
            "media": (name, content[start : start + MEDIA_CHUNK], "application/octet-stream"),
            "segment_index": (None, str(index)),
        }
        _raise_for_status(session.post(_upload_url(media_id, "append"), files=chunk, auth=auth))
    data = _media_data(session.post(_upload_url(media_id, "finalize"), auth=auth))
    waited = 0.0
    while (info := data.get("processing_info")) and info.get("state") != "succeeded":
        if info.get("state") == "failed":
            reason = (info.get("error") or {}).get("message", "no reason given")
            raise TransportError(f"X could not process {name}: {reason}.", permanent=True)
        if waited >= MEDIA_PROCESSING_WAIT:
            raise TransportError(
                f"X was still processing {name} after {waited:.0f} s.", permanent=False
            )
        # X's "check after" delay, but no wait past the deadline.
        delay = min(float(info.get("check_after_secs") or 1), MEDIA_PROCESSING_WAIT - waited)
        sleep(delay)
        waited += delay
        params = {"command": "STATUS", "media_id": media_id}
        data = _media_data(session.get(_upload_url(), params=params, auth=auth))
    return media_id


def set_alt_text(session: requests.Session, auth: Any, media_id: str, alt: str) -> None:
    """Describe an uploaded image for people who cannot see it (``POST /2/media/metadata``)."""
    body: dict[str, str | dict[str, dict[str, str]]] = {
        "id": media_id,
        "metadata": {"alt_text": {"text": alt}},
    }
    _raise_for_status(session.post(TWEEPY_HOST + MEDIA_METADATA_PATH, json=body, auth=auth))
