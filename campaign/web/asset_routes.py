"""``GET /assets/newsletters/TEMPLATE/FILE``: a newsletter template's images (its logo).

Mail clients load a letter's logo from ``[web] public_url``. Only an image file named in a
plain way (``logo.png``) inside a template folder is served — the user's own templates folder
first, then the shipped one, as the letters are rendered — with its type from its name and a
cache of a day (a team may replace its logo); anything else gets the plain 404 page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from campaign.newsletters.render import ASSET_ROUTE, newsletter_folder

router = APIRouter()

TEMPLATE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FILE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(png|jpg|gif|webp)$"
TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
_HTML = {"text/html": {"schema": {"type": "string"}}}
ASSET: dict[str, Any] = {
    "summary": "An image of a newsletter template (its logo)",
    "response_class": Response,
    "responses": {
        200: {
            "description": "The image, cacheable for a day.",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in TYPES.values()
            },
        },
        404: {"description": "The plain 404 page: no such image.", "content": _HTML},
    },
}


@router.get(ASSET_ROUTE + "/{template}/{name}", **ASSET)
@router.head(ASSET_ROUTE + "/{template}/{name}", **ASSET)
def asset(
    request: Request,
    template: str = Path(description="The template's folder name.", pattern=TEMPLATE_PATTERN),
    name: str = Path(description="The image's file name.", pattern=FILE_PATTERN),
) -> Response:
    web = request.app.state.web
    path = newsletter_folder(settings=web.settings).find(f"{template}/{name}")
    if path is None or not path.is_file() or path.is_symlink():
        return web.pages.not_found()
    return FileResponse(
        path,
        media_type=TYPES[name.rsplit(".", 1)[1]],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
