"""The refusals every API route may answer with, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from .models import Problem, ValidationProblem

__all__ = ["ERRORS"]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token, or not a valid one."},
    403: {"model": Problem, "description": "The marketplace's rules do not allow this."},
    404: {"model": Problem, "description": "Not found."},
    409: {"model": Problem, "description": "Not possible in the current state, or done already."},
    422: {"model": ValidationProblem, "description": "The input is not valid."},
    503: {"model": Problem, "description": "Busy, or the database is unreachable; retry."},
}
