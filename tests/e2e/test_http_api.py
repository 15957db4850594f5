"""The integration API end to end: the real process wiring (``bots.runner._serve``) serving
on a real port, on SQLite and on PostgreSQL, called over HTTP the way the web portal calls
it; creators claim through the same use cases the chat calls."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bots.bootstrap import Runtime, open_marketplace
from bots.http_app import CannotListen, HttpApp
from bots.runner import _serve
from bots.settings import load_settings, parse_api_tokens
from core import services as s
from core.domain.common import Platform
from core.domain.members import ShippingAddress
from core.services import EXPORT_COLUMNS, Actor
from storage.migrate import upgrade

TOKEN = "portal-token-0123456789abcdef"
OTHER_TOKEN = "reports-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+15550100777"
STREET = "1 Secret Lane"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of this test's own, SQLite or PostgreSQL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("fresh_postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@dataclass
class Portal:
    """The running app, an HTTP client for it, and the marketplace behind it."""

    http: httpx.AsyncClient
    runtime: Runtime

    @property
    def mp(self) -> s.Marketplace:
        return self.runtime.marketplace

    async def creator(self, user_id: str, name: str, *, country: str = "US") -> int:
        member = await s.register_identity(self.mp, Platform.TELEGRAM, user_id, user_id, name)
        assert member.id is not None
        address = ShippingAddress(name, STREET, "Austin", "78701", "US", phone=PHONE)
        changes = s.ProfileChanges(
            storefront_url=f"https://www.amazon.com/shop/{name.lower()}",
            categories=["kitchen"],
            country=country,
            languages=["en"],
            address=address,
            finish_onboarding=True,
        )
        await s.update_profile(self.mp, Actor.member(member.id), changes)
        return member.id


async def wait_until_listening(base_url: str, serving: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base_url) as client:
        while True:
            if serving.done():
                serving.result()
                raise AssertionError("the app stopped before it listened")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"nothing listened on {base_url}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def portal(database_url: str) -> AsyncIterator[Portal]:
    await upgrade(database_url)
    port = free_port()
    settings = load_settings(
        database_url=database_url,
        http_listen=f"127.0.0.1:{port}",
        api_tokens=f"portal:{TOKEN},reports:{OTHER_TOKEN}",
        scheduler_enabled=False,
        secret_key="api-test-secret-key-0123456789",
    )
    runtime = await open_marketplace(settings)
    stop = asyncio.Event()
    serving = asyncio.create_task(_serve(runtime, stop))
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_listening(base_url, serving)
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=10) as http:
            yield Portal(http, runtime)
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=20)
        await runtime.close()


def offer_body(seller_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "title": "Bamboo cutting board",
        "video_type": 1,
        "slots": 1,
        "asin": "B0C1234567",
        "category": "kitchen",
        "price": {"amount": "24.99", "currency": "USD"},
    } | fields


async def test_an_offer_from_draft_to_export(portal: Portal) -> None:
    http, mp = portal.http, portal.mp
    seller = await s.add_seller(mp, Actor.system(), "Acme", ["telegram:9001"])
    assert seller.id is not None

    # A draft, edited, then published.
    created = await http.post("/api/v1/offers", json=offer_body(seller.id, slots=2))
    assert created.status_code == 201, created.text
    offer = created.json()
    offer_id = offer["id"]
    assert offer["state"] == "draft"
    assert offer["price"] == {"amount": "24.99", "currency": "USD"}
    assert offer["orders_by_state"] == {}

    edited = await http.patch(
        f"/api/v1/offers/{offer_id}",
        json={
            "title": "Bamboo board, large",
            "slots": 1,
            "reward": {"kind": "fee", "fee": {"amount": "15", "currency": "USD"}},
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Bamboo board, large"
    assert edited.json()["slots"] == 1
    assert edited.json()["reward"] == {"kind": "fee", "fee": {"amount": "15.00", "currency": "USD"}}
    assert edited.json()["asin"] == "B0C1234567", "fields not given stay"

    refused = await http.patch(f"/api/v1/offers/{offer_id}", json={"slots": 0})
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_request"
    assert refused.json()["details"][0]["location"] == ["body", "slots"]

    published = await http.post(f"/api/v1/offers/{offer_id}/publish")
    assert published.status_code == 200
    assert published.json()["state"] == "live"
    again = await http.post(f"/api/v1/offers/{offer_id}/publish")
    assert again.status_code == 409
    assert again.json()["error"] == "offer_bad_state"
    assert "live" in again.json()["message"]
    late_edit = await http.patch(f"/api/v1/offers/{offer_id}", json={"slots": 3})
    assert late_edit.status_code == 409
    assert late_edit.json()["error"] == "offer_not_draft"

    listed = await http.get("/api/v1/offers", params={"seller_id": seller.id})
    assert [o["id"] for o in listed.json()["offers"]] == [offer_id]

    # Two creators claim it in chat (the same use case the "Claim" button calls).
    ana = await portal.creator("1001", "Ana")
    bo = await portal.creator("1002", "Bo")
    ana_order = await s.claim_offer(mp, Actor.member(ana), offer_id)
    bo_order = await s.claim_offer(mp, Actor.member(bo), offer_id)
    assert ana_order.id is not None
    assert bo_order.id is not None

    detail = await http.get(f"/api/v1/offers/{offer_id}")
    assert detail.json()["applied_count"] == 2
    assert detail.json()["orders_by_state"] == {"applied": 2}

    # Pause and resume; the seller approves Ana in chat; closing declines Bo.
    assert (await http.post(f"/api/v1/offers/{offer_id}/pause")).json()["state"] == "paused"
    assert (await http.post(f"/api/v1/offers/{offer_id}/resume")).json()["state"] == "live"
    await s.approve_order(mp, Actor.system(), ana_order.id)
    offer_now = (await http.get(f"/api/v1/offers/{offer_id}")).json()
    # One sample, now taken: the offer ended by itself, and Bo was declined.
    assert offer_now["state"] == "ended"
    assert offer_now["orders_by_state"] == {"pending_shipment": 1, "rejected": 1}
    closed = await http.post(f"/api/v1/offers/{offer_id}/close")
    assert closed.status_code == 409

    # The orders, as JSON pages and filtered.
    orders = await http.get("/api/v1/orders", params={"offer_id": offer_id})
    assert orders.status_code == 200, orders.text
    found = orders.json()["orders"]
    assert [(o["creator_name"], o["state"]) for o in found] == [
        ("Ana", "pending_shipment"),
        ("Bo", "rejected"),
    ]
    assert found[0]["number"] == ana_order.number
    assert orders.json()["next_after"] is None
    first = await http.get("/api/v1/orders", params={"offer_id": offer_id, "limit": 1})
    assert len(first.json()["orders"]) == 1
    after = first.json()["next_after"]
    second = await http.get(
        "/api/v1/orders", params={"offer_id": offer_id, "limit": 1, "after": after}
    )
    assert [o["creator_name"] for o in second.json()["orders"]] == ["Bo"]
    rejected = await http.get("/api/v1/orders", params={"state": ["rejected", "withdrawn"]})
    assert [o["id"] for o in rejected.json()["orders"]] == [bo_order.id]

    # The CSV export: the CLI's columns, no address or phone number.
    export = await http.get("/api/v1/orders/export", params={"seller_id": seller.id})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [row[EXPORT_COLUMNS.index("creator_name")] for row in rows[1:]] == ["Ana", "Bo"]
    assert PHONE not in export.text
    assert STREET not in export.text
    empty = await http.get("/api/v1/orders/export", params={"creator_id": 999_999})
    assert list(csv.reader(io.StringIO(empty.text))) == [list(EXPORT_COLUMNS)]

    # A draft nobody claimed can be cancelled; a missing one is a 404.
    spare = (await http.post("/api/v1/offers", json=offer_body(seller.id))).json()
    cancelled = await http.post(f"/api/v1/offers/{spare['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    missing = await http.get("/api/v1/offers/999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "offer_not_found", "message": "This offer no longer exists."}
    nobody = await http.post("/api/v1/offers", json=offer_body(999_999))
    assert nobody.status_code == 404
    assert nobody.json()["error"] == "seller_not_found"


async def test_creators_are_queried_without_addresses_or_phones(portal: Portal) -> None:
    http = portal.http
    ana = await portal.creator("1001", "Ana")
    await portal.creator("1002", "Bo", country="GB")
    await s.add_seller(portal.mp, Actor.system(), "Acme", ["telegram:9001"])  # staff, not creators

    everyone = await http.get("/api/v1/creators")
    assert everyone.status_code == 200, everyone.text
    names = {c["name"] for c in everyone.json()["creators"]}
    assert {"Ana", "Bo"} <= names
    in_us = await http.get("/api/v1/creators", params={"country": "US", "category": "kitchen"})
    [creator] = in_us.json()["creators"]
    assert creator["id"] == ana
    assert creator["country"] == "US"
    assert creator["categories"] == ["kitchen"]
    assert creator["stats"] == {
        "completed_videos": 0,
        "on_time_videos": 0,
        "redo_orders": 0,
        "on_time_rate": None,
    }
    assert not {"address", "phone", "identities", "chat_id"} & set(creator)
    one = await http.get(f"/api/v1/creators/{ana}")
    assert one.json() == creator
    for response in (everyone, in_us, one):
        assert PHONE not in response.text
        assert STREET not in response.text
    by_name = await http.get("/api/v1/creators", params={"name": "b"})
    assert [c["name"] for c in by_name.json()["creators"]] == ["Bo"]
    paged = await http.get("/api/v1/creators", params={"limit": 1})
    assert len(paged.json()["creators"]) == 1
    assert paged.json()["next_after"] == paged.json()["creators"][0]["id"]
    assert (await http.get("/api/v1/creators/999999")).status_code == 404
    bad = await http.get("/api/v1/creators", params={"country": "USA"})
    assert bad.status_code == 422
    assert bad.json()["details"][0]["location"] == ["query", "country"]


async def test_broadcasts_are_written_sent_and_followed(portal: Portal) -> None:
    http = portal.http
    await portal.creator("1001", "Ana")
    await portal.creator("1002", "Bo", country="GB")

    draft = await http.post(
        "/api/v1/broadcasts",
        json={"text": "Summer offers are live!", "audience": {"kind": "country", "value": "us"}},
    )
    assert draft.status_code == 201, draft.text
    body = draft.json()
    assert body["state"] == "draft"
    assert (body["audience_kind"], body["audience_value"]) == ("country", "US")
    assert body["recipients"] == 1
    status = await http.get(f"/api/v1/broadcasts/{body['id']}")
    assert status.json()["pending"] == 1
    sent = await http.post(f"/api/v1/broadcasts/{body['id']}/send")
    assert sent.json()["state"] == "scheduled"
    twice = await http.post(f"/api/v1/broadcasts/{body['id']}/send")
    assert twice.status_code == 409
    cancelled = await http.post(f"/api/v1/broadcasts/{body['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"

    now = await http.post(
        "/api/v1/broadcasts",
        json={
            "text": "Hello creators",
            "link_label": "See offers",
            "link_url": "https://example.com/offers",
            "send": "now",
        },
    )
    assert now.status_code == 201, now.text
    assert now.json()["state"] == "scheduled"
    recent = await http.get("/api/v1/broadcasts")
    assert [b["id"] for b in recent.json()["broadcasts"]] == [now.json()["id"], body["id"]]

    for refused, code in (
        ({"text": "x", "link_label": "Go", "link_url": "http://plain.example"}, 422),
        ({"text": "x", "audience": {"kind": "offer_applicants", "value": "²"}}, 422),
        ({"text": "x", "audience": {"kind": "category", "value": "nonsense"}}, 422),
        ({"text": "x", "send": "at"}, 422),
        ({"text": "   "}, 422),
    ):
        response = await http.post("/api/v1/broadcasts", json=refused)
        assert response.status_code == code, (refused, response.text)
        assert set(response.json()) >= {"error", "message"}
    assert (await http.get("/api/v1/broadcasts/424242")).status_code == 404


async def test_calls_without_a_valid_token_are_refused(portal: Portal) -> None:
    base = str(portal.http.base_url)
    async with httpx.AsyncClient(base_url=base) as anonymous:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-0123456789abcdef"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": "Bearer"},
        ):
            response = await anonymous.get("/api/v1/creators", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"] == "unauthorized"
            assert TOKEN not in response.text
        # Refused before the body is looked at.
        junk = await anonymous.post("/api/v1/offers", content=b"{not json")
        assert junk.status_code == 401
        # The second client's token works too.
        other = {"Authorization": f"Bearer {OTHER_TOKEN}"}
        assert (await anonymous.get("/api/v1/creators", headers=other)).status_code == 200
        # The health checks and the documents need no token.
        assert (await anonymous.get("/healthz")).json() == {"status": "alive"}
        document = await anonymous.get("/api/openapi.json")
        assert document.status_code == 200
        paths = document.json()["paths"]
        assert "/api/v1/offers" in paths
        assert all(path.startswith("/api/v1/") for path in paths)
        docs = await anonymous.get("/api/docs")
        assert docs.status_code == 200
        assert "/api/openapi.json" in docs.text


async def test_bad_requests_get_json_answers(portal: Portal) -> None:
    http = portal.http
    not_json = await http.post(
        "/api/v1/offers", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["error"] == "invalid_request"
    unknown_field = await http.post("/api/v1/offers", json=offer_body(1, colour="red"))
    assert unknown_field.status_code == 422
    nul = await http.post("/api/v1/offers", json=offer_body(1, title="a\x00b"))
    assert nul.status_code == 422
    huge_id = await http.get(f"/api/v1/offers/{2**40}")
    assert huge_id.status_code == 422
    no_route = await http.get("/api/v1/nothing-here")
    assert no_route.status_code == 404
    assert no_route.json()["error"] == "not_found"
    wrong_method = await http.delete("/api/v1/offers")
    assert wrong_method.status_code == 405
    too_big = await http.post("/api/v1/offers", content=b"x" * (1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "too_large"


def test_api_tokens_are_name_token_pairs() -> None:
    assert parse_api_tokens(f"portal:{TOKEN}, reports:{OTHER_TOKEN}") == {
        "portal": TOKEN,
        "reports": OTHER_TOKEN,
    }
    for wrong in (TOKEN, "portal:short", f"por tal:{TOKEN}", f"a:{TOKEN},b:{TOKEN}", "a:b,"):
        with pytest.raises(ValueError, match="COLLABBOT_API_TOKENS entry") as refused:
            parse_api_tokens(wrong)
        assert TOKEN not in str(refused.value)


async def test_stopping_lets_the_request_in_flight_finish() -> None:
    http = HttpApp("127.0.0.1:0")
    started = asyncio.Event()

    async def slow(request: Request) -> Response:
        started.set()
        await asyncio.sleep(0.5)
        return JSONResponse({"done": True})

    http.add_get("/slow", slow)
    assert http.needed
    await http.start()
    base_url = f"http://127.0.0.1:{http.bound_port}"
    async with httpx.AsyncClient(base_url=base_url) as client:
        in_flight = asyncio.create_task(client.get("/slow"))
        await started.wait()
        await http.stop()
        response = await in_flight
        assert response.json() == {"done": True}
        with pytest.raises(httpx.TransportError):
            await client.get("/healthz")


async def test_a_port_in_use_is_said_so() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        http = HttpApp(f"127.0.0.1:{taken.getsockname()[1]}")
        with pytest.raises(CannotListen, match="COLLABBOT_HTTP_LISTEN"):
            await http.start()
