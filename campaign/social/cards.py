"""Link cards of posts announcing events, from the events' own data.

Mastodon and X fetch the page a post links to and build its card themselves. Bluesky does not:
its apps build the card before posting, so a post sent through the API shows a bare link unless
the client sends an ``app.bsky.embed.external`` with it. We build that card from what the events
export already told us (the event's address, title and description) and an image only when it
is on this machine already: the export's ``image`` naming a file of the media folder, or a web
address whose file was put in the media folder under the same name. Nothing is ever fetched
from the internet: a card without a local image goes without a thumbnail.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlmodel import Session

from campaign.config import Settings
from campaign.models import Event, Post
from campaign.social import Image, LinkCard
from campaign.social.media import media_file
from campaign.social.networks import network_of

CARD_NETWORKS = ("bluesky",)  # those that take a card from the client
MAX_THUMB_BYTES = 1_000_000  # app.bsky.embed.external: thumb maxSize
MAX_DESCRIPTION = 300  # characters shown under the title; the page says the rest
_SPACES = re.compile(r"\s+")


def _short(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return f"{cut}…"


def local_image(image: str, media_dir: str | Path) -> Image | None:
    """The event's image if it is a file of the media folder (a path in it, or the file a web
    address names, already saved there), small enough for a card; None otherwise."""
    image = image.strip()
    if not image:
        return None
    folder = Path(media_dir).expanduser()
    split = urlsplit(image)
    if split.scheme in ("http", "https"):
        name = Path(unquote(split.path)).name
        candidate = folder / name if name else None
    elif split.scheme == "file":
        candidate = Path(unquote(split.path))
    else:
        path = Path(image).expanduser()
        candidate = path if path.is_absolute() else folder / path
    found = media_file(str(candidate), folder) if candidate is not None else None
    if found is None:
        return None
    path, media_type = found
    if path.stat().st_size > MAX_THUMB_BYTES:
        return None
    return Image(path=str(path), alt="", media_type=media_type)


def event_card(event: Event, media_dir: str | Path) -> LinkCard | None:
    """The card of ``event``'s page, or None when it has no web address."""
    if not event.url.lower().startswith(("https://", "http://")):
        return None
    return LinkCard(
        uri=event.url,
        title=_short(event.title, 300),
        description=_short(event.description),
        thumb=local_image(event.image_url, media_dir),
    )


def card_for(session: Session, settings: Settings, post: Post) -> LinkCard | None:
    """The card of a post announcing events, on a network that takes one from us: the first
    event's (with its own address); None for a post with images (one embed a post)."""
    if network_of(settings, post.account) not in CARD_NETWORKS or post.images:
        return None
    for event_id in post.event_ids:
        event = session.get(Event, event_id)
        card = event_card(event, settings.dashboard.media_dir) if event is not None else None
        if card is not None:
            return card
    return None
