"""Images attached to a post: what X accepts, checked before a post is scheduled.

X takes JPEG, PNG, WEBP and GIF images, at most 5 MB (15 MB for a GIF), at most four per post,
and an animated GIF only on its own. The type is read from the file's first bytes, not from its
name (a ``.jpg`` that is really a HEIC photo from a phone would be refused by X at publication
time, hours after anyone could fix it). Every image needs a description (alt text) of at most
1,000 characters, for people who cannot see it.

A post's images are kept in the dashboard's ``media_dir``: an image given on the command line
or in a calendar is copied there (named after its content, so the same file is one copy), and
the dashboard serves a post's image only from a regular file inside that folder. A stored path
pointing elsewhere (a symlink to the signing key, say) is never served.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from campaign.errors import CampaignError
from campaign.social import Image
from campaign.social.networks import NETWORK_NAMES as NETWORK_TITLES

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
SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif"}


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
        raise CampaignError.of("image.missing", "image", label=label, path=path, name=path.name)
    with path.open("rb") as handle:
        media_type = sniff(handle.read(12))
    if media_type is None:
        raise CampaignError.of("image.not_a_picture", "image", label=label, name=path.name)
    size = path.stat().st_size
    if size > LIMITS[media_type]:
        raise CampaignError.of(
            "image.too_big",
            "image",
            label=label,
            name=path.name,
            size=_size(size),
            limit=_size(LIMITS[media_type]),
            kind=NAMES[media_type],
        )
    if not alt:
        raise CampaignError.of("image.no_alt", "alt", label=label, name=path.name)
    if len(alt) > MAX_ALT_TEXT:
        raise CampaignError.of(
            "image.alt_too_long",
            "alt",
            label=label,
            name=path.name,
            length=len(alt),
            limit=MAX_ALT_TEXT,
            over=len(alt) - MAX_ALT_TEXT,
        )
    return {
        "path": str(path.resolve()),
        "alt": alt,
        "media_type": media_type,
        "size": size,
    }


# Networks that take smaller images than X (Bluesky: app.bsky.embed.images, 1,000,000 bytes).
NETWORK_MAX_BYTES = {"bluesky": 1_000_000}
NETWORK_NAMES = {"bluesky": "Bluesky", "linkedin": "LinkedIn"}
# Networks that take fewer image types than X (LinkedIn's Images API: JPEG, PNG and GIF).
NETWORK_TYPES = {"linkedin": frozenset({"image/jpeg", "image/png", "image/gif"})}


# --- the policy per network: what the dashboard's upload and every check apply --------------


def size_limit(media_type: str, network: str = "x") -> int:
    """The largest image of ``media_type`` a post on ``network`` may carry, in bytes."""
    return min(LIMITS[media_type], NETWORK_MAX_BYTES.get(network, LIMITS[media_type]))


def size_limits(network: str = "x") -> dict[str, int]:
    """Every image type ``network`` takes, with its largest size in bytes."""
    return {media_type: size_limit(media_type, network) for media_type in LIMITS}


def largest_image(network: str = "x") -> int:
    """The largest image of any type ``network`` takes: how much of an upload to read."""
    return max(size_limits(network).values())


def check_upload(data: bytes, *, name: str, network: str = "x", alt: str | None = None) -> str:
    """The media type of an uploaded image (``data``: at most :func:`largest_image` + 1 bytes
    of it), or a message refusing what the network would refuse (type, size). ``alt``: the
    description typed with it, refused first when empty (``image.no_alt``), before the upload
    is kept; None when it comes later. Its length and the count are checked with the post
    (:func:`check_images`)."""
    label = f"Image {name!r}"
    if alt is not None and not alt.strip():
        raise CampaignError.of("image.no_alt", "alt", label=label, name=name)
    media_type = sniff(data[:12])
    if media_type is None:
        raise CampaignError.of("image.not_a_picture", "image", label=label, name=name)
    most = size_limit(media_type, network)
    if len(data) > most:
        raise CampaignError.of(
            "image.upload_too_big",
            "image",
            name=name,
            limit=_size(most),
            kind=NAMES[media_type],
            network_name=NETWORK_TITLES.get(network, network),
        )
    return media_type


def check_images(
    images: Iterable[Mapping[str, Any]], *, post: str = "The post", network: str = "x"
) -> list[dict]:
    """Check every image of a post (``{"path", "alt"}`` mappings) and the set as a whole,
    by X's rules and the account's network's when stricter."""
    checked = [
        check_image(
            str(image.get("path", "")),
            str(image.get("alt", "")),
            label=f"{post}, image {number}",
        )
        for number, image in enumerate(images, 1)
    ]
    taken = NETWORK_TYPES.get(network)
    for number, image in enumerate(checked, 1):
        if taken is not None and image["media_type"] not in taken:
            name = Path(image["path"]).name
            raise CampaignError(
                f"{post}, image {number}: {name} is a {NAMES[image['media_type']]} image; "
                f"{NETWORK_NAMES[network]} takes JPEG, PNG and GIF only: convert it."
            )
    most = NETWORK_MAX_BYTES.get(network)
    for number, image in enumerate(checked, 1):
        if most is not None and image["size"] > most:
            name = Path(image["path"]).name
            raise CampaignError(
                f"{post}, image {number}: {name} is {_size(image['size'])}; "
                f"{NETWORK_NAMES[network]} takes at most {most / 1_000_000:.0f} MB per image: "
                "make it smaller."
            )
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


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and path.is_relative_to(folder)


def keep_image(path: str | Path, media_dir: str | Path, *, copy: bool = True) -> Path:
    """Where the image at ``path`` is kept: itself if already a file inside ``media_dir``, else
    its copy there, named after its content and type (``copy=False`` only names it, for a dry
    run). ``path`` must be an image :func:`check_image` accepted."""
    folder = Path(media_dir).expanduser().resolve()
    try:
        source = Path(path).expanduser().resolve(strict=True)
        data = source.read_bytes() if source.is_file() else None
    except (OSError, RuntimeError):
        data = None
    if data is None:
        raise CampaignError(f"{path} does not exist (or is not a file).")
    if _inside(source, folder):
        return source
    media_type = sniff(data[:12])
    if media_type is None:
        raise CampaignError(f"{source.name} is not a JPEG, PNG, WEBP or GIF image.")
    kept = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{SUFFIXES[media_type]}"
    if copy and not kept.is_file():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial = kept.with_name(f".{kept.name}.{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(kept)  # whole or absent, even with two copies at once
        except OSError as exc:
            raise CampaignError.of(
                "image.not_kept",
                "image",
                name=source.name,
                folder=folder,
                reason=exc.strerror or str(exc),
            ) from None
    return kept


def keep_images(
    checked: Iterable[Mapping[str, Any]], media_dir: str | Path, *, copy: bool = True
) -> list[dict[str, Any]]:
    """Images as :func:`check_images` gives them, each path now its kept copy."""
    return [
        {**image, "path": str(keep_image(image["path"], media_dir, copy=copy))} for image in checked
    ]


def media_file(stored: str, media_dir: str | Path) -> tuple[Path, str] | None:
    """The file a post's stored image path names and its media type, if it may be served: a
    regular file inside ``media_dir`` once every link is followed, and an image. None
    otherwise (a path outside the folder, a link out of it, a folder, a non-image)."""
    if not stored:
        return None
    try:
        folder = Path(media_dir).expanduser().resolve(strict=True)
        path = Path(stored).resolve(strict=True)
        if not _inside(path, folder) or not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as handle:
            media_type = sniff(handle.read(12))
    except (OSError, RuntimeError):
        return None
    return (path, media_type) if media_type else None
