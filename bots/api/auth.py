"""Who calls the integration API: a bearer token from ``COLLABBOT_API_TOKENS``.

Every token is compared with every configured one in constant time, so neither a token nor
which client it belongs to can be guessed from how long a refusal takes. A client acts as
the marketplace itself (:meth:`~core.services.Actor.system`).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.services import Actor, Marketplace

__all__ = ["ApiClients", "ApiContext", "Caller", "authenticated", "bearer"]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token from COLLABBOT_API_TOKENS: `Authorization: Bearer <token>`.",
)


class ApiClients:
    """The configured ``name → token`` pairs."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._tokens = [(name, token.encode()) for name, token in tokens.items()]

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def identify(self, presented: str) -> str | None:
        """The name of the client whose token this is, or ``None``."""
        given = presented.encode("utf-8", "replace")
        found = None
        for name, token in self._tokens:  # no early exit: every comparison is made
            if hmac.compare_digest(given, token):
                found = name
        return found


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What the API's routes work with; kept in the app's ``state``."""

    mp: Marketplace
    clients: ApiClients


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated client: its name (for logs) and how it acts."""

    name: str
    mp: Marketplace
    actor: Actor


def context(request: Request) -> ApiContext:
    found = getattr(request.app.state, "collabbot_api", None)
    if not isinstance(found, ApiContext):
        raise HTTPException(404, "The integration API is not served here.")
    return found


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    api = context(request)
    name = api.clients.identify(credentials.credentials) if credentials is not None else None
    if name is None:
        raise HTTPException(
            401,
            "A valid API token is needed: send `Authorization: Bearer <token>` with a token "
            "from COLLABBOT_API_TOKENS.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Caller(name, api.mp, Actor.system())


Authenticated = Annotated[Caller, Depends(authenticated)]
