"""The integration API fuzzed from its own OpenAPI document with schemathesis: valid and
invalid input for every operation, authenticated, against the real app served by uvicorn on
a seeded database (PostgreSQL, whose types are the strictest; SQLite when it is not
there). No input may cause a server error.

The app runs in a thread with its own event loop, since schemathesis calls it synchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from sqlalchemy.engine import make_url

from bots.bootstrap import open_marketplace
from bots.http_app import HttpApp
from bots.settings import load_settings
from core import services as s
from core.domain.common import Platform
from core.domain.members import ShippingAddress
from core.domain.offers import VideoType
from core.services import Actor
from core.services.broadcasts import BroadcastDraft, create_broadcast
from storage.migrate import upgrade
from tests.conftest import DEFAULT_TEST_POSTGRES_URL, REQUIRE_SERVICES
from tests.e2e.test_http_api import free_port

TOKEN = "fuzz-token-0123456789abcdef"
MAX_EXAMPLES = 25


async def _seed(mp: s.Marketplace) -> None:
    """A little of everything, so that small ids hit real rows in every state."""
    system = Actor.system()
    seller = await s.add_seller(mp, system, "Acme", ["telegram:9001"])
    assert seller.id is not None
    creators = []
    for n in range(3):
        member = await s.register_identity(mp, Platform.TELEGRAM, f"10{n}", f"10{n}", f"C{n}")
        assert member.id is not None
        address = ShippingAddress(f"C{n}", "1 Main St", "Austin", "78701", "US", phone="+1555")
        changes = s.ProfileChanges(
            storefront_url="https://www.amazon.com/shop/c",
            categories=["kitchen"],
            country="US",
            address=address,
            finish_onboarding=True,
        )
        await s.update_profile(mp, Actor.member(member.id), changes)
        creators.append(member.id)
    offers = []
    for publish in (True, True, False, True):
        new = s.NewOffer(title="Board", video_type=VideoType.INFLUENCER, slots=2, asin="B0C1234567")
        offer = await s.create_offer(mp, system, seller.id, new, publish=publish)
        assert offer.id is not None
        offers.append(offer.id)
    first = await s.claim_offer(mp, Actor.member(creators[0]), offers[0])
    await s.claim_offer(mp, Actor.member(creators[1]), offers[0])
    assert first.id is not None
    await s.approve_order(mp, system, first.id)
    await s.pause_offer(mp, system, offers[1])
    await create_broadcast(mp, system, BroadcastDraft("Hello"))


def _postgres_database() -> tuple[str, str] | None:
    """A new, empty PostgreSQL database (its URL, and the admin DSN to drop it), if the test
    server is there."""
    url = make_url(os.environ.get("COLLABBOT_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"collabbot_fuzz_{secrets.token_hex(4)}"

    async def create() -> None:
        connection = await asyncpg.connect(admin, timeout=3)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    try:
        asyncio.run(create())
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL is needed for the fuzz test: {error}")
        return None
    served = url.set(drivername="postgresql+asyncpg", database=name)
    return served.render_as_string(hide_password=False), admin


def _drop(admin: str, database: str) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(admin, timeout=3)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


class ServedApp:
    """The HTTP app with the integration API, served in a thread of its own."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fuzzed-app", daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        if not self._ready.wait(60):
            raise AssertionError("the app did not start within 60 s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await upgrade(self.database_url)
        settings = load_settings(
            database_url=self.database_url,
            http_listen=f"127.0.0.1:{self.port}",
            api_tokens=f"fuzz:{TOKEN}",
        )
        async with await open_marketplace(settings) as runtime:
            await _seed(runtime.marketplace)
            http = HttpApp.for_runtime(runtime)
            await http.start()
            try:
                self._ready.set()
                await self._stop.wait()
            finally:
                await http.stop()


def _operations() -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document (built here; the served one is the same)."""
    document = HttpApp("127.0.0.1:0", marketplace=s.Marketplace(lambda: None)).app.openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseSchema]:
    postgres = _postgres_database()
    if postgres is None:
        folder: Path = tmp_path_factory.mktemp("fuzz")
        url, admin = f"sqlite+aiosqlite:///{folder}/fuzz.sqlite3", None
    else:
        url, admin = postgres
    try:
        with ServedApp(url) as app:
            schema = schemathesis.openapi.from_url(f"{app.base_url}/api/openapi.json")
            schema.config.update(base_url=app.base_url)
            # Every call carries the token (below): the input, not the login, is fuzzed here.
            schema.config.generation.update(with_security_parameters=False)
            yield schema
    finally:
        if admin is not None:
            with contextlib.suppress(Exception):
                _drop(admin, make_url(url).database or "")


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
@pytest.mark.parametrize(("method", "path"), _operations(), ids=" ".join)
def test_no_input_causes_a_server_error(
    api_schema: BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    """Valid input (``positive``) and input the document says is invalid (``negative``)."""

    @given(case=api_schema[path][method].as_strategy(mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: Case) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error], timeout=10
        )

    call()
