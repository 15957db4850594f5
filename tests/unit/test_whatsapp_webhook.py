"""The WhatsApp webhook endpoint: Meta's verification challenge and signed updates, refused
before parsing when the signature is missing or wrong."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bots.http_app import HttpApp
from bots.whatsapp.webhook import (
    SIGNATURE_HEADER,
    signature,
    signature_valid,
    update_handler,
    verification_handler,
)

SECRET = "app-secret-0123456789"
VERIFY = "my-verify-token"
BODY = json.dumps({"object": "whatsapp_business_account", "entry": [], "note": "café"}).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_signature_is_the_hmac_of_the_raw_body() -> None:
    assert signature(SECRET.encode(), BODY) == signed(BODY)
    assert signature_valid(SECRET.encode(), BODY, signed(BODY))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        signed(BODY, "another-secret"),
        signed(BODY).removeprefix("sha256="),
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
        signed(BODY)[:-1] + "0",
    ],
    ids=["missing", "empty", "prefix-only", "other-secret", "no-prefix", "sha1", "one-digit-off"],
)
def test_a_wrong_or_missing_signature_is_not_valid(header: str | None) -> None:
    assert not signature_valid(SECRET.encode(), BODY, header)


def test_a_tampered_body_does_not_match_its_old_signature() -> None:
    tampered = BODY.replace(b"caf", b"CAF")
    assert not signature_valid(SECRET.encode(), tampered, signed(BODY))


def test_a_re_serialised_body_does_not_match() -> None:
    # Meta signs the bytes it sent: checking a re-encoded JSON would fail real calls.
    raw = json.dumps({"text": "café"}, ensure_ascii=False).encode()
    reencoded = json.dumps(json.loads(raw)).encode()
    assert raw != reencoded
    assert signature_valid(SECRET.encode(), raw, signed(raw))
    assert not signature_valid(SECRET.encode(), reencoded, signed(raw))


def test_no_app_secret_accepts_nothing() -> None:
    assert not signature_valid(b"", BODY, signature(b"", BODY))


Client = tuple[httpx.AsyncClient, list[Any]]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """The process's HTTP app with the WhatsApp routes, called in process."""
    accepted: list[Any] = []
    http = HttpApp("127.0.0.1:0")
    http.add_get("/whatsapp/webhook", verification_handler(VERIFY))
    http.add_post("/whatsapp/webhook", update_handler(SECRET, accepted.append))
    transport = httpx.ASGITransport(app=http.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://collabbot") as test_client:
        yield test_client, accepted


async def test_a_signed_update_is_accepted(client: Client) -> None:
    http, accepted = client
    response = await http.post(
        "/whatsapp/webhook", content=BODY, headers={SIGNATURE_HEADER: signed(BODY)}
    )
    assert response.status_code == 200
    assert accepted == [json.loads(BODY)]


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (BODY, None),
        (BODY, signed(BODY, "guessed")),
        (BODY.replace(b"caf", b"CAF"), signed(BODY)),
        (b"{definitely not json", "sha256=" + "0" * 64),
    ],
    ids=["unsigned", "wrong-secret", "tampered", "junk-unsigned"],
)
async def test_an_unsigned_or_forged_update_is_refused_before_parsing(
    client: Client, body: bytes, header: str | None
) -> None:
    http, accepted = client
    headers = {SIGNATURE_HEADER: header} if header is not None else {}
    response = await http.post("/whatsapp/webhook", content=body, headers=headers)
    # 403 even for junk: the body is not looked at before the signature holds.
    assert response.status_code == 403
    assert accepted == []


async def test_a_signed_body_that_is_not_json_is_a_bad_request(
    client: Client,
) -> None:
    http, accepted = client
    junk = b"{not json"
    response = await http.post(
        "/whatsapp/webhook", content=junk, headers={SIGNATURE_HEADER: signed(junk)}
    )
    assert response.status_code == 400
    assert accepted == []


async def test_the_verification_challenge_is_echoed_for_the_right_token(
    client: Client,
) -> None:
    http, _ = client
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = await http.get("/whatsapp/webhook", params=query)
    assert response.status_code == 200
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {},
    ],
    ids=["wrong-token", "no-token", "wrong-mode", "nothing"],
)
async def test_the_verification_is_refused_without_the_right_token(
    client: Client, query: dict[str, str]
) -> None:
    http, _ = client
    response = await http.get("/whatsapp/webhook", params=query)
    assert response.status_code == 403
    assert "1" not in response.text


async def test_a_verification_without_a_challenge_is_a_bad_request(
    client: Client,
) -> None:
    http, _ = client
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY}
    response = await http.get("/whatsapp/webhook", params=query)
    assert response.status_code == 400


async def test_a_body_over_a_mebibyte_is_refused_unread(client: Client) -> None:
    http, accepted = client
    big = b"{" + b" " * (1024 * 1024) + b"}"
    response = await http.post(
        "/whatsapp/webhook", content=big, headers={SIGNATURE_HEADER: signed(big)}
    )
    assert response.status_code == 413
    assert accepted == []
