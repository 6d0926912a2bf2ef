"""The OpenAPI description of the public routes, served at ``/openapi.json``.

It describes what an email's links and the subscribe form can reach, so the routes can be
fuzzed from it (the tests run schemathesis against it). The dashboard under ``/admin`` is not
in it (a mounted app of its own, which publishes nothing), and there is no Swagger or ReDoc
page: those load their scripts from a CDN.

FastAPI builds the description from the routes; the responses they can give are declared on
each route with the shared pieces below. FastAPI would also announce a 422 JSON answer for any
route with a parameter, but this app has none: a request that fails validation gets the plain
404 page (``campaign.web.app``), and no parameter here can fail it (tokens and ``liste`` are any
string). So :func:`public_openapi` leaves those out.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

OPENAPI_PATH = "/openapi.json"

_HTML = {"text/html": {"schema": {"type": "string"}}}

TOKEN = (
    "A signed token from an email (base64url): one that is forged, altered, truncated, "
    "of another kind or naming nothing any more gets the 404 page."
)


def page(description: str) -> dict[str, Any]:
    """A response that is an HTML page (French)."""
    return {"description": description, "content": _HTML}


NOT_FOUND = page("The one plain page for an unknown path or a token that does not verify.")

PIXEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A 1×1 transparent GIF, never cached (the open was recorded).",
        "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
    },
    404: NOT_FOUND,
}

CLICK_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {
        "description": "To the link's stored URL (the click was recorded).",
        "headers": {
            "Location": {
                "description": "The URL the newsletter linked to, never one from the request.",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    },
    404: NOT_FOUND,
}

FORM_BODY = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["jeton", "email"],
                "properties": {
                    "jeton": {"type": "string", "description": "The form's signed token."},
                    "email": {"type": "string"},
                    "prenom": {"type": "string"},
                    "site_web": {
                        "type": "string",
                        "description": "Hidden from people: a post filling it is ignored.",
                    },
                },
            }
        }
    },
}

ONE_CLICK_BODY = {
    "required": False,
    "description": "Any body: the page's button sends none, a mail client's one-click "
    "request (RFC 8058) sends List-Unsubscribe=One-Click.",
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
            }
        }
    },
}


def public_openapi(app: FastAPI) -> dict[str, Any]:
    """The description of ``app``'s routes in the schema (made once, then kept)."""
    if app.openapi_schema is None:
        description = get_openapi(
            title="campaign: public routes",
            version=app.version,
            description="The links newsletters carry and the subscribe form.",
            routes=app.routes,
        )
        for operations in description.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = description.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        if "components" in description and not schemas:
            description["components"].pop("schemas", None)
            if not description["components"]:
                del description["components"]
        app.openapi_schema = description
    return app.openapi_schema
