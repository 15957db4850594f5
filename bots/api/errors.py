"""Every refusal as JSON ``{"error": code, "message": text}`` with the fitting status.

The marketplace's own refusals map by kind: not found 404, not allowed 403, an invalid move
or a repeated one 409, bad input 422. Input the models refuse is a 422 that lists the fields.
A database that cannot be reached, or too many people changing the same thing at once, is a
503 with ``Retry-After``. Anything else is a bug: logged, and answered with a bare 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from core.domain.errors import (
    AlreadyDone,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
)
from core.services import Busy

__all__ = ["install_error_handlers", "problem", "status_of"]

logger = logging.getLogger(__name__)

RETRY_AFTER = "2"
_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (NotAllowed, 403),
    (InvalidTransition, 409),
    (AlreadyDone, 409),
    (InvalidInput, 422),
    (Busy, 503),
)
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def status_of(error: DomainError) -> int:
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 400)


def problem(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = status_of(error)
    headers = {"Retry-After": RETRY_AFTER} if status == 503 else None
    return problem(status, error.code, error.message, headers)


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = []
    for item in error.errors():
        location = [part if isinstance(part, int) else str(part) for part in item.get("loc", ())]
        details.append({"location": location, "message": str(item.get("msg", "invalid"))})
    where = ", ".join(".".join(map(str, d["location"])) for d in details[:5])
    message = f"The request is not valid: {where}." if where else "The request is not valid."
    return problem(422, "invalid_request", message, details=details)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    try:
        default = HTTPStatus(error.status_code).phrase
    except ValueError:
        default = "Refused"
    message = error.detail if isinstance(error.detail, str) else default
    return problem(error.status_code, code, message, dict(error.headers or {}))


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    logger.warning(
        "%s %s: the database is unreachable (%s)",
        request.method,
        request.url.path,
        type(error).__name__,
    )
    return problem(
        503,
        "unavailable",
        "The marketplace's database cannot be reached right now. Try again shortly.",
        {"Retry-After": RETRY_AFTER},
    )


async def _bug(request: Request, error: Exception) -> JSONResponse:
    # The server logs the traceback as well (the exception goes on to it).
    logger.error("%s %s failed: %s", request.method, request.url.path, type(error).__name__)
    return problem(500, "internal_error", "Something went wrong on our side.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(InterfaceError, _unavailable)
    app.add_exception_handler(ConnectionError, _unavailable)
    app.add_exception_handler(TimeoutError, _unavailable)
    app.add_exception_handler(Exception, _bug)
