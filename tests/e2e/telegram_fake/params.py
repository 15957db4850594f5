"""The parameters of one Bot API call, read the way Telegram reads them.

Telegram takes the query string, ``application/json``, ``application/x-www-form-urlencoded``
and ``multipart/form-data`` alike and turns each parameter into a string: in a JSON body a
string stays a string and any other value keeps its JSON text, so ``"reply_markup"`` may be a
nested object in JSON but arrives as a JSON string in a form. An empty value counts as absent.
The typed getters here are stricter than Telegram (which quietly reads ``"abc"`` as 0): a
value of the wrong type is refused with a description naming the parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from .errors import ApiError, bad_request

_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
MAX_BODY_BYTES = 52 * 1024 * 1024  # uploads of 50 MB and the form around them


class _JsonNull:
    """A parameter that is JSON ``null``: present, unlike a missing one, and no object."""

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL: Any = _JsonNull()


@dataclass(frozen=True)
class Arg:
    """One parameter; ``json_literal`` when a JSON body gave a number, bool, object or null."""

    text: str
    json_literal: bool = False


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart body."""

    field: str
    filename: str
    content_type: str
    data: bytes


class Params:
    """Typed, strict access to a call's parameters."""

    def __init__(self, args: Mapping[str, Arg], files: Mapping[str, UploadedFile]) -> None:
        self._args = dict(args)
        self._files = dict(files)

    def raw(self, name: str) -> str | None:
        arg = self._args.get(name)
        return arg.text if arg is not None and arg.text != "" else None

    def has(self, name: str) -> bool:
        return self.raw(name) is not None or name in self._files

    def string(self, name: str, *, kind: str = "String") -> str | None:
        """A text parameter; a JSON number counts as its digits, as in Telegram."""
        arg = self._args.get(name)
        if arg is None or arg.text == "":
            return None
        if arg.json_literal and not _is_json_number(arg.text):
            raise bad_request(f'field "{name}" must be of type {kind}')
        return arg.text

    def integer(self, name: str) -> int | None:
        text = self.raw(name)
        if text is None:
            return None
        if not _INTEGER.fullmatch(text):
            raise bad_request(f'field "{name}" must be a valid Number')
        return int(text)

    def boolean(self, name: str) -> bool:
        text = self.raw(name)
        if text is None:
            return False
        value = text.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise bad_request(f'field "{name}" must be of type Boolean')

    def json(self, name: str, what: str) -> Any:
        """The parameter decoded as JSON, or None when absent; ``what`` names it in errors.

        A JSON ``null`` comes back as ``JSON_NULL``, which is neither an object nor an
        array, so ``"reply_markup": null`` is refused as Telegram refuses it.
        """
        text = self.raw(name)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise bad_request(f"can't parse {what} JSON object") from None
        return JSON_NULL if value is None else value

    def file(self, name: str) -> UploadedFile | None:
        return self._files.get(name)

    def logged(self) -> dict[str, str]:
        """Every parameter as text, files as ``<file NAME, N bytes>``, for the call log."""
        shown = {name: arg.text for name, arg in self._args.items()}
        for name, upload in self._files.items():
            shown[name] = f"<file {upload.filename}, {len(upload.data)} bytes>"
        return shown


def _is_json_number(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, int | float) and not isinstance(value, bool)


def _args_from_json(raw: bytes) -> dict[str, Arg]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("JSON object expected")
    return {
        str(key): Arg(value)
        if isinstance(value, str)
        else Arg(json.dumps(value, ensure_ascii=False), json_literal=True)
        for key, value in body.items()
    }


async def read_params(request: web.Request) -> Params:
    """Decode a request to the API into parameters, whatever encoding the client chose."""
    args = {name: Arg(value) for name, value in request.query.items()}
    files: dict[str, UploadedFile] = {}
    content_type = request.content_type
    try:
        if content_type == "application/json":
            args.update(_args_from_json(await request.read()))
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[name] = UploadedFile(
                        name, value.filename, value.content_type, value.file.read()
                    )
                else:
                    args[name] = Arg(str(value))
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    return Params(args, files)


async def read_webhook_reply(response: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """The method call a webhook may answer an update with, if its reply holds one."""
    args: dict[str, Arg] = {}
    files: dict[str, UploadedFile] = {}
    if response.content_type == "application/json":
        try:
            args = _args_from_json(await response.read())
        except ApiError:
            return None
    elif response.content_type == "multipart/form-data":
        reader = aiohttp.MultipartReader.from_response(response)
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files[part.name] = UploadedFile(
                    part.name, part.filename, content_type, bytes(await part.read())
                )
            else:
                args[part.name] = Arg(await part.text())
    method = args.pop("method", None)
    if method is None or method.json_literal or not method.text:
        return None
    return method.text, Params(args, files)
