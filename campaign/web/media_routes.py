"""``GET /media/NAME``: the images of newsletter blocks, for mail clients to load.

An image a person puts in a newsletter is copied into the media folder (``[dashboard]
media_dir``) under a name made of its content's hash and its type (``3f…a1.png``), so a name
is unguessable enough, and the same for every message and preview. Only such a name is served
(anything else gets the plain 404 page), only from a regular file inside that folder (see
:func:`campaign.social.media.media_file`), with its sniffed type, never the file name's. A file
never changes under its name, so it may be cached for long.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from campaign.newsletters.blocks import MEDIA_ROUTE
from campaign.social.media import media_file

router = APIRouter()

NAME_PATTERN = r"^[0-9a-f]{32}\.(jpg|png|webp|gif)$"
_HTML = {"text/html": {"schema": {"type": "string"}}}
MEDIA: dict[str, Any] = {
    "summary": "An image of a newsletter block",
    "response_class": Response,
    "responses": {
        200: {
            "description": "The image; cacheable for a year (a name never changes content).",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "image/webp", "image/gif")
            },
        },
        404: {"description": "The plain 404 page: no such image.", "content": _HTML},
    },
}


@router.get(MEDIA_ROUTE + "/{name}", **MEDIA)
@router.head(MEDIA_ROUTE + "/{name}", **MEDIA)
def media(
    request: Request,
    name: str = Path(description="The image's name in the media folder.", pattern=NAME_PATTERN),
) -> Response:
    web = request.app.state.web
    folder = FilePath(web.settings.dashboard.media_dir)
    found = media_file(str(folder.expanduser().resolve() / name), folder)
    if found is None:
        return web.pages.not_found()
    path, media_type = found
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
