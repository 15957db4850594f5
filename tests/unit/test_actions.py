"""Button payloads: small enough for every platform, and a forged or stale one is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.conversations.actions import (
    MAX_ARG_LENGTH,
    MAX_IDS,
    PAYLOAD_MAX_BYTES,
    Action,
    ActionCodec,
    is_action_payload,
)
from storage.kv.memory import MemoryKeyValueStore

SECRET = b"s" * 32
OTHER_SECRET = b"o" * 32
PAYLOAD_ALPHABET = string.ascii_letters + string.digits + ".-_~:"
DISCORD_CUSTOM_ID_MAX = 100

APPROVE = Action("ap", (1234,))
BATCH = Action("ba", tuple(range(10_000, 10_020)), "top")
REASONED = Action("rj", (7,), "wrong size, see photo")


class CountingStore(MemoryKeyValueStore):
    """A memory store that counts reads, to show what a payload check never reaches, and
    remembers the keys written."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.keys_written: set[str] = set()

    async def get(self, key: str) -> str | None:
        self.reads += 1
        return await super().get(key)

    async def set(self, key: str, value: str, *, ttl: timedelta | None = None) -> None:
        self.keys_written.add(key)
        await super().set(key, value, ttl=ttl)


def sign(body: str, secret: bytes = SECRET) -> str:
    """A payload signed the way the documented format says, for hand-made payloads."""
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:6]
    return f"{body}:{base64.urlsafe_b64encode(digest).decode()}"


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def codec(store: CountingStore) -> ActionCodec:
    return ActionCodec(SECRET, store)


# --- the format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        (Action("ap"), sign("1:ap::")),
        (Action("ap", (1234,)), sign("1:ap:ya:")),
        (Action("x", (0, 35, 36)), sign("1:x:0.z.10:")),
        (Action("of9", (), "beauty.tiktok-video_1"), sign("1:of9::beauty.tiktok-video_1")),
        (Action("rj", (7, 8), "late"), sign("1:rj:7.8:late")),
    ],
)
async def test_small_actions_are_packed_into_the_payload_itself(
    codec: ActionCodec, store: CountingStore, action: Action, payload: str
) -> None:
    assert await codec.encode(action) == payload
    assert len(store) == 0
    assert await codec.decode(payload) == action
    assert store.reads == 0


@pytest.mark.parametrize("action", [BATCH, REASONED, Action("ap", (10**200,))])
async def test_actions_that_do_not_fit_are_stored_under_a_token(
    codec: ActionCodec, store: CountingStore, action: Action
) -> None:
    payload = await codec.encode(action)
    assert payload.startswith("1~")
    assert len(payload) <= PAYLOAD_MAX_BYTES
    assert len(store) == 1
    assert await codec.decode(payload) == action


async def test_the_same_long_action_gets_the_same_token_every_time(
    codec: ActionCodec, store: CountingStore
) -> None:
    # A screen shown a thousand times stores its long buttons once, not a thousand times.
    first, second = await codec.encode(BATCH), await codec.encode(BATCH)
    other = await codec.encode(Action("ba", BATCH.ids, "all"))
    assert first == second != other
    assert await codec.decode(first) == BATCH
    assert len(store.keys_written) == 2


async def test_tokens_depend_on_the_secret(store: CountingStore) -> None:
    # Knowing an action is not enough to name its token: the token is keyed by the secret.
    ours = await ActionCodec(SECRET, store).encode(BATCH)
    theirs = await ActionCodec(b"another secret of at least 32 bytes!", store).encode(BATCH)
    assert ours.split(":")[0] != theirs.split(":")[0]


def test_is_action_payload_is_a_cheap_shape_check() -> None:
    assert is_action_payload(sign("1:ap:ya:"))
    assert is_action_payload("1~" + "A" * 22 + ":" + "b" * 8)
    assert is_action_payload("1:ap:ya::" + "x" * 8)  # shape only, the signature is not checked
    for text in ["", "/start", "1:ap:ya:", "2:ap:ya::xxxxxxxx", "1:AP:ya::xxxxxxxx"]:
        assert not is_action_payload(text)
    assert not is_action_payload(None)  # type: ignore[arg-type]


# --- round trips --------------------------------------------------------------------------

codes = st.from_regex(r"[a-z0-9]{1,3}", fullmatch=True)
ids = st.lists(st.one_of(st.integers(0, 10**12), st.integers(min_value=0)), max_size=20).map(tuple)
args = st.one_of(
    st.from_regex(r"[A-Za-z0-9._-]{0,40}", fullmatch=True),
    st.text(max_size=200),
)
actions = st.builds(Action, codes, ids, args)


@settings(max_examples=300)
@given(action=actions)
async def test_every_action_round_trips_through_a_payload_every_platform_accepts(
    action: Action,
) -> None:
    codec = ActionCodec(SECRET, MemoryKeyValueStore())
    payload = await codec.encode(action)
    assert len(payload.encode()) <= PAYLOAD_MAX_BYTES
    assert len(payload) <= DISCORD_CUSTOM_ID_MAX
    assert set(payload) <= set(PAYLOAD_ALPHABET)
    assert is_action_payload(payload)
    assert await codec.decode(payload) == action


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", [APPROVE, Action("x"), REASONED])
async def test_changing_any_single_character_is_refused(
    codec: ActionCodec, store: CountingStore, action: Action
) -> None:
    payload = await codec.encode(action)
    reads_before = store.reads
    for index in range(len(payload)):
        for char in PAYLOAD_ALPHABET:
            if char != payload[index]:
                tampered = payload[:index] + char + payload[index + 1 :]
                assert await codec.decode(tampered) is None, tampered
        assert await codec.decode(payload[:index] + payload[index + 1 :]) is None
    assert store.reads == reads_before  # refused by the signature, the store never asked


@given(mac=st.from_regex(r"[A-Za-z0-9_-]{8}", fullmatch=True))
async def test_forged_signatures_are_refused(mac: str) -> None:
    codec = ActionCodec(SECRET, MemoryKeyValueStore())
    genuine = sign("1:ap:ya:")
    forged = f"1:ap:ya::{mac}"
    if forged != genuine:
        assert await codec.decode(forged) is None


async def test_a_payload_from_another_secret_is_refused(store: CountingStore) -> None:
    ours, theirs = ActionCodec(SECRET, store), ActionCodec(OTHER_SECRET, store)
    for action in (APPROVE, BATCH):
        payload = await theirs.encode(action)
        assert await theirs.decode(payload) == action
        reads_before = store.reads
        assert await ours.decode(payload) is None
        assert store.reads == reads_before


async def test_a_forged_token_never_reaches_the_store(
    codec: ActionCodec, store: CountingStore
) -> None:
    assert await codec.decode("1~" + "A" * 22 + ":" + "b" * 8) is None
    assert store.reads == 0


async def test_an_expired_token_is_refused() -> None:
    now = [1000.0]
    codec = ActionCodec(
        SECRET, MemoryKeyValueStore(clock=lambda: now[0]), token_ttl=timedelta(hours=1)
    )
    payload = await codec.encode(BATCH)
    now[0] += 3599
    assert await codec.decode(payload) == BATCH
    now[0] += 2
    assert await codec.decode(payload) is None


async def test_a_token_missing_from_the_store_is_refused(codec: ActionCodec) -> None:
    payload = await codec.encode(BATCH)
    other_process = ActionCodec(SECRET, MemoryKeyValueStore())
    assert await other_process.decode(payload) is None


@pytest.mark.parametrize(
    "payload",
    [
        "",
        " ",
        "1",
        "1:",
        "1:ap",
        "1:ap::",
        "1:ap:::",
        sign("1:ap::") + "x",
        " " + sign("1:ap::"),
        sign("1:ap::") + "\n",
        sign("1:ap::").upper(),
        sign("1:ap::").replace("1:", "2:", 1),
        sign("1:ap::") + "é",
        "1:ap::" + "a" * 60 + ":xxxxxxxx",
        "1:ap:ya:\u0430rg:xxxxxxxx",
        "\x00" * 10,
        "1~" + "A" * 100,
    ],
)
async def test_malformed_payloads_are_refused(codec: ActionCodec, payload: str) -> None:
    assert await codec.decode(payload) is None


@pytest.mark.parametrize(
    "body",
    [
        "1:ap:01:",  # a leading zero: not the one canonical form
        "1:ap:YA:",  # upper case is not base 36 here
        "1:ap:1..2:",
        "1:ap:.:",
        "1:AP::",
        "1:abcd::",
        "1::1:",
        "2:ap::",
        "1:ap:1:2:3",
    ],
)
async def test_signed_but_malformed_payloads_are_refused(codec: ActionCodec, body: str) -> None:
    assert await codec.decode(sign(body)) is None


@pytest.mark.parametrize(
    "stored",
    [
        "not json",
        "[1, 2]",
        '{"c": "ap"}',
        '{"c": "ap", "i": [-1], "a": ""}',
        '{"c": "ap", "i": [true], "a": ""}',
        '{"c": "ap", "i": ["1"], "a": ""}',
        '{"c": "ap", "i": [1.5], "a": ""}',
        '{"c": "APPROVE", "i": [], "a": ""}',
        '{"c": "ap", "i": {}, "a": ""}',
        '{"c": "ap", "i": [], "a": 7}',
        "[" * 100_000,
    ],
)
async def test_a_damaged_stored_action_is_refused(
    codec: ActionCodec, store: CountingStore, stored: str
) -> None:
    token = "A" * 22
    await store.set(f"button-action:{token}", stored)
    assert await codec.decode(sign(f"1~{token}")) is None


@given(st.one_of(st.text(), st.text(alphabet=PAYLOAD_ALPHABET, max_size=70)))
async def test_garbage_is_refused_and_never_raises(garbage: str) -> None:
    codec = ActionCodec(SECRET, MemoryKeyValueStore())
    assert await codec.decode(garbage) is None


# --- what an action may hold --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "action_ids", "arg"),
    [
        ("", (), ""),
        ("abcd", (), ""),
        ("Ap", (), ""),
        ("a-", (), ""),
        ("ap", (-1,), ""),
        ("ap", (True,), ""),
        ("ap", (1.0,), ""),
        ("ap", [1, 2], ""),
        ("ap", tuple(range(MAX_IDS + 1)), ""),
        ("ap", (), "x" * (MAX_ARG_LENGTH + 1)),
    ],
)
def test_an_action_refuses_what_it_cannot_carry(
    code: str, action_ids: tuple[int, ...], arg: str
) -> None:
    with pytest.raises(ValueError, match=r"(?i)action"):
        Action(code, action_ids, arg)


def test_a_codec_needs_a_real_secret_and_a_positive_ttl() -> None:
    with pytest.raises(ValueError, match="secret"):
        ActionCodec(b"short", MemoryKeyValueStore())
    with pytest.raises(ValueError, match="ttl"):
        ActionCodec(SECRET, MemoryKeyValueStore(), token_ttl=timedelta(0))
