"""python-telegram-bot's networking on aiohttp: a :class:`telegram.request.BaseRequest`.

PTB sends through httpx by default. Each call then goes through httpx, httpcore and anyio
(and, without the ``sniffio`` package, a failed import on every request), which costs the
bot several times the CPU of the call through aiohttp — the HTTP client the rest of
collabbot already runs on. PTB keeps everything else: building each call's parameters,
reading Telegram's answer, and turning errors (429, 403, 400, …) into its exceptions.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0
"""PTB's own defaults for its httpx requests, in seconds."""


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session of at most ``connections`` connections.

    Calls without files go as a JSON body; calls with files as multipart form data. A call
    that times out raises :class:`telegram.error.TimedOut`, any other network failure
    :class:`telegram.error.NetworkError` — naming the kind of failure, never the URL (it
    holds the bot's token).
    """

    __slots__ = ("_connections", "_session")

    def __init__(self, connections: int = 1) -> None:
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized: call initialize()")
        files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, READ_TIMEOUT)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        # aiohttp's connect phase includes waiting for a free connection of the pool.
        connect = _plus(
            _given(connect_timeout, CONNECT_TIMEOUT), _given(pool_timeout, POOL_TIMEOUT)
        )
        # No separate write timeout in aiohttp: sending the body counts towards reading.
        timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_read=_plus(read, write))
        body: Any = None
        headers: dict[str, str] = {}
        if request_data is not None and files:
            body = _form(request_data)
        elif request_data is not None:
            body = json.dumps(request_data.parameters).encode()
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # The type only: aiohttp's messages can carry the request's URL, and the token.
            raise NetworkError(f"aiohttp.{type(error).__name__}") from error


def _given(value: ODVInput[float], default: float) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _plus(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else first + second


def _form(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        if isinstance(part, tuple):
            filename, content, *rest = part
            form.add_field(
                name,
                content,
                filename=filename,
                content_type=rest[0] if rest else "application/octet-stream",
            )
        else:
            form.add_field(name, part)
    return form
