"""The integration API for the marketplace's web portal, under ``/api/v1``.

Offers, orders, creators and broadcasts, through the same use cases the chat calls
(:mod:`core.services`). Clients authenticate with a bearer token from
``COLLABBOT_API_TOKENS`` (:mod:`bots.api.auth`); refusals are JSON
``{"error": code, "message": text}`` (:mod:`bots.api.errors`). The OpenAPI document is served
at ``/api/openapi.json`` and describes these routes only; the interactive docs at
``/api/docs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from core.services import Marketplace

from . import broadcasts, creators, offers, orders
from .auth import ApiClients, ApiContext

__all__ = ["API_PREFIX", "DOCS_URL", "OPENAPI_URL", "mount_api"]

API_PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
VERSION = "1.0.0"

DESCRIPTION = """\
The marketplace's offers, orders, creators and broadcasts, for the web portal. Every call
does what the same action in chat does, with the same rules and the same notices to the
people concerned.

**Authentication**: `Authorization: Bearer <token>`, with a token from the setting
`COLLABBOT_API_TOKENS`. Clients act as the marketplace itself.

**Errors** are JSON `{"error": code, "message": text}`: 401 without a valid token, 403 not
allowed, 404 not found, 409 not possible in the current state (or done already), 422 invalid
input, 503 busy or the database unreachable (retry after `Retry-After` seconds).

**Pages**: lists of orders and creators come in pages by ascending id; pass the answer's
`next_after` as `after` to get the next one, until it is null.
"""


def mount_api(app: FastAPI, mp: Marketplace, tokens: Mapping[str, str]) -> None:
    """Add the API's routes to ``app`` and serve its OpenAPI document."""
    app.state.collabbot_api = ApiContext(mp, ApiClients(tokens))
    api = APIRouter(prefix=API_PREFIX)
    for module in (offers, orders, creators, broadcasts):
        api.include_router(module.router)
    app.include_router(api)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title="collabbot integration API",
                version=VERSION,
                description=DESCRIPTION,
                routes=app.routes,
            )
            paths = schema.get("paths", {})
            schema["paths"] = {path: paths[path] for path in paths if _in_api(path)}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _in_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")
