"""Keep-alive HTTP/1.1 connections to the Bot API, for the notice sender.

Only what sending notices needs: a request to one host (TLS for ``https`` addresses), one
response read by ``Content-Length`` or chunked, and the connection kept for the next
request. No redirects, proxies or compression — the Bot API uses none. At a thousand
requests a second a general client's per-request bookkeeping (headers as multidicts, URL
objects, cookie jars, tracing hooks) costs about as much CPU as everything else a notice
needs; here a request is one write and its answer one parse.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from typing import cast
from urllib.parse import urlsplit

__all__ = ["BotApiConnections", "ConnectionFailed"]

MAX_HEAD = 64 * 1024
"""Longest status line and headers accepted."""


class ConnectionFailed(Exception):
    """The request got no complete answer: the connection broke or the answer was not HTTP."""


class _Connection(asyncio.Protocol):
    """One connection: a request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.open = True
        self.reusable = True
        self.used_at = time.monotonic()
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._length: int | None = None
        self._chunked = False
        self._head_done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self._answer is not None and not self._answer.done():
            if self._head_done and self._length is None and not self._chunked:
                self._answer.set_result((self._status, bytes(self._buffer)))  # ended by close
            else:
                self._answer.set_exception(ConnectionFailed("the connection was closed"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._answer is not None and not self._answer.done():
            try:
                self._parse()
            except (ValueError, IndexError) as error:
                self.reusable = False
                self._answer.set_exception(ConnectionFailed(f"not an HTTP answer: {error}"))

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._head_done, self._chunked, self._length, self._status = False, False, None, 0
        self._buffer.clear()
        self.transport.write(data)
        return self._answer

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()

    def _parse(self) -> None:
        if not self._head_done:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise ValueError("the headers are too long")
                return
            lines = self._buffer[:end].decode("latin-1").split("\r\n")
            del self._buffer[: end + 4]
            version, status = lines[0].split(" ", 2)[:2]
            self._status = int(status)
            self._head_done = True
            keep = version == "HTTP/1.1"
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    self._length = int(value)
                elif name == "transfer-encoding":
                    self._chunked = "chunked" in value
                elif name == "connection":
                    keep = (keep and value != "close") or value == "keep-alive"
            self.reusable = keep and (self._chunked or self._length is not None)
        assert self._answer is not None
        if self._chunked:
            body = self._chunks()
            if body is not None:
                self._answer.set_result((self._status, body))
        elif self._length is not None and len(self._buffer) >= self._length:
            body = bytes(self._buffer[: self._length])
            self.reusable = self.reusable and len(self._buffer) == self._length
            self._answer.set_result((self._status, body))

    def _chunks(self) -> bytes | None:
        """The whole chunked body once it has arrived, else ``None``."""
        body, at = bytearray(), 0
        while True:
            end = self._buffer.find(b"\r\n", at)
            if end < 0:
                return None
            size = int(bytes(self._buffer[at:end]).split(b";")[0], 16)
            start = end + 2
            if size == 0:
                if self._buffer.find(b"\r\n", start) < 0:
                    return None  # the (empty) trailer is still to come
                return bytes(body)
            if len(self._buffer) < start + size + 2:
                return None
            body += self._buffer[start : start + size]
            at = start + size + 2


class BotApiConnections:
    """Requests to one Bot API server over at most ``limit`` kept-alive connections.

    ``timeout`` bounds one request, connecting included; a connection idle for longer than
    ``idle`` seconds is closed rather than reused (servers drop idle ones).
    """

    def __init__(
        self, api_url: str, *, limit: int = 100, timeout: float = 30.0, idle: float = 30.0
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {api_url!r}")
        secure = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if secure else 80)
        self._ssl = ssl.create_default_context() if secure else None
        default_port = self._port == (443 if secure else 80)
        host = self._host if default_port else f"{self._host}:{self._port}"
        self._host_header = host.encode("idna")
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self.idle = idle
        self._slots = asyncio.Semaphore(limit)
        self._idle: deque[_Connection] = deque()

    async def request(
        self, method: str, path: str, body: bytes = b"", *, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        """``(status, body)`` of one request to ``path`` (below the API address).

        Raises :class:`ConnectionFailed`, :class:`OSError` (could not connect) or
        :class:`TimeoutError`.
        """
        head = [
            f"{method} {self.base_path}{path} HTTP/1.1".encode("latin-1"),
            b"Host: " + self._host_header,
            b"Accept: application/json",
        ]
        if body or method == "POST":
            head.append(f"Content-Type: {content_type}".encode("latin-1"))
            head.append(b"Content-Length: " + str(len(body)).encode())
        data = b"\r\n".join(head) + b"\r\n\r\n" + body
        async with self._slots:
            async with asyncio.timeout(self.timeout):
                connection = self._reuse() or await self._connect()
                try:
                    answer = await connection.request(data)
                except BaseException:
                    connection.close()
                    raise
        if connection.reusable and connection.open:
            connection.used_at = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: least likely dropped
            if connection.open and now - connection.used_at < self.idle:
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection,
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._host if self._ssl else None,
        )
        return connection

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
        await asyncio.sleep(0)  # let the transports finish closing
