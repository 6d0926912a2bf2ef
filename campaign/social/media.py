"""Images attached to a post: what X accepts, checked before a post is scheduled.

X takes JPEG, PNG, WEBP and GIF images, at most 5 MB (15 MB for a GIF), at most four per post,
and an animated GIF only on its own. The type is read from the file's first bytes, not from its
name (a ``.jpg`` that is really a HEIC photo from a phone would be refused by X at publication
time, hours after anyone could fix it). Every image needs a description (alt text) of at most
1,000 characters, for people who cannot see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from campaign.errors import CampaignError
from campaign.social import Image

MB = 1024 * 1024
MAX_IMAGES = 4
MAX_ALT_TEXT = 1000
LIMITS = {
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 5 * MB,
    "image/gif": 15 * MB,
}
NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def sniff(head: bytes) -> str | None:
    """The media type of an image from its first 12 bytes, or None if X would not take it."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _size(count: int) -> str:
    return f"{count / MB:.1f} MB"


def check_image(path: str | Path, alt: str, *, label: str) -> dict[str, Any]:
    """One image as stored on a post (absolute path, alt, type, size), or a clear error."""
    path = Path(path).expanduser()
    alt = (alt or "").strip()
    if not path.is_file():
        raise CampaignError(f"{label}: {path} does not exist (or is not a file).")
    with path.open("rb") as handle:
        media_type = sniff(handle.read(12))
    if media_type is None:
        raise CampaignError(
            f"{label}: {path.name} is not a JPEG, PNG, WEBP or GIF image (X takes only "
            "those): convert it, e.g. to JPEG."
        )
    size = path.stat().st_size
    if size > LIMITS[media_type]:
        raise CampaignError(
            f"{label}: {path.name} is {_size(size)}; X takes at most "
            f"{_size(LIMITS[media_type])} for a {NAMES[media_type]} image: make it smaller."
        )
    if not alt:
        raise CampaignError(
            f"{label}: give a description of {path.name} (--alt) for people who cannot see it."
        )
    if len(alt) > MAX_ALT_TEXT:
        raise CampaignError(
            f"{label}: the description of {path.name} is {len(alt)} characters long; X takes "
            f"at most {MAX_ALT_TEXT}: shorten it by {len(alt) - MAX_ALT_TEXT}."
        )
    return {
        "path": str(path.resolve()),
        "alt": alt,
        "media_type": media_type,
        "size": size,
    }


def check_images(images: Iterable[Mapping[str, Any]], *, post: str = "The post") -> list[dict]:
    """Check every image of a post (``{"path", "alt"}`` mappings) and the set as a whole."""
    checked = [
        check_image(
            str(image.get("path", "")),
            str(image.get("alt", "")),
            label=f"{post}, image {number}",
        )
        for number, image in enumerate(images, 1)
    ]
    if len(checked) > MAX_IMAGES:
        raise CampaignError(
            f"{post} has {len(checked)} images; X takes at most {MAX_IMAGES} per post."
        )
    if len(checked) > 1 and any(image["media_type"] == "image/gif" for image in checked):
        raise CampaignError(
            f"{post}: a GIF goes alone on a post (X attaches up to four photos or one GIF)."
        )
    return checked


def outgoing_images(stored: Iterable[Mapping[str, Any]], *, post: str) -> tuple[Image, ...]:
    """The stored images of a post, checked again (the files may have changed since)."""
    return tuple(
        Image(path=image["path"], alt=image["alt"], media_type=image["media_type"])
        for image in check_images(stored, post=post)
    )
