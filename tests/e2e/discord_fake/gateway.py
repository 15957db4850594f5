"""The fake gateway: a websocket speaking Discord's gateway protocol (v10, JSON, optional
zlib-stream transport compression) — HELLO, IDENTIFY → READY, heartbeats, RESUME — and
dispatching the events the test makes people cause."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .state import DiscordState

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
PRIVILEGED_INTENTS = {
    1 << 1: "GUILD_MEMBERS",
    1 << 8: "GUILD_PRESENCES",
    1 << 15: "MESSAGE_CONTENT",
}
DIRECT_MESSAGES = 1 << 12
#: Which intent each event needs (events not listed always arrive).
EVENT_INTENTS = {"MESSAGE_CREATE": DIRECT_MESSAGES}


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


class Connection:
    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self._compressor = zlib.compressobj() if compress else None
        self.session: Session | None = None
        self.heartbeats = 0

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload)
        if self._compressor is None:
            await self.ws.send_str(data)
            return
        packed = self._compressor.compress(data.encode()) + self._compressor.flush(
            zlib.Z_SYNC_FLUSH
        )
        await self.ws.send_bytes(packed)


class Gateway:
    """One bot connection at a time (no sharding); events wait while it is away."""

    def __init__(self, state: DiscordState, *, heartbeat_interval_ms: int) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, Session] = {}
        self.active: Connection | None = None
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.filtered: list[tuple[str, dict[str, Any]]] = []
        self.identifies: list[int] = []
        self.resumes = 0
        self.closed_with: list[int] = []
        self.compressed: list[bool] = []
        self.ready = asyncio.Event()
        self._sending = asyncio.Lock()
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    # --- events -------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the bot now, or as soon as it is connected again."""
        if self.active is None or self.active.session is None:
            self.pending.append((event, data))
            return
        self._spawn(self._deliver(self.active, event, data))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, conn: Connection, event: str, data: dict[str, Any]) -> None:
        session = conn.session
        assert session is not None
        needed = EVENT_INTENTS.get(event)
        if needed is not None and not session.intents & needed:
            self.filtered.append((event, data))
            return
        async with self._sending:
            session.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.log.append(payload)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.send(payload)

    # --- the websocket ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if request.query.get("v") != "10" or request.query.get("encoding", "json") != "json":
            await ws.close(code=4012, message=b"Invalid API version")
            self.closed_with.append(4012)
            return ws
        compress = request.query.get("compress") == "zlib-stream"
        self.compressed.append(compress)
        conn = Connection(ws, compress)
        self._connections.add(conn)
        try:
            await conn.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                await self._receive(conn, json.loads(frame.data))
        finally:
            self._connections.discard(conn)
            if self.active is conn:
                self.active = None
                self.ready.clear()
        return ws

    async def _receive(self, conn: Connection, message: dict[str, Any]) -> None:
        op, data = message.get("op"), message.get("d")
        if op == HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        self.closed_with.append(code)
        await conn.ws.close(code=code, message=reason.encode())

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.state.token:
            await self._close(conn, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await self._close(conn, 4013, "Invalid intent(s).")
            return
        if any(intents & bit for bit in PRIVILEGED_INTENTS):
            await self._close(conn, 4014, "Disallowed intent(s).")
            return
        self.identifies.append(intents)
        session = Session(secrets.token_hex(16), intents)
        self.sessions[session.id] = session
        conn.session = session
        ready = {
            "v": 10,
            "user": self.state.bot.json(),
            "guilds": [],
            "session_id": session.id,
            "resume_gateway_url": self.url,
            "application": {"id": str(self.state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._deliver(conn, "READY", ready)
        self._activate(conn)

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.state.token:
            await conn.send({"op": INVALID_SESSION, "d": False})
            return
        self.resumes += 1
        conn.session = session
        after = int(data.get("seq") or 0)
        for payload in [p for p in session.log if p["s"] > after]:
            await conn.send(payload)
        await self._deliver(conn, "RESUMED", {})
        self._activate(conn)

    def _activate(self, conn: Connection) -> None:
        self.active = conn
        waiting, self.pending = self.pending, []
        for event, data in waiting:
            self._spawn(self._deliver(conn, event, data))
        self.ready.set()

    async def reconnect(self) -> None:
        """Ask the bot to reconnect and resume (op 7), as Discord does now and then."""
        if self.active is not None:
            await self.active.send({"op": RECONNECT, "d": None})

    async def close(self) -> None:
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"Going away")
        for task in list(self._tasks):
            task.cancel()
