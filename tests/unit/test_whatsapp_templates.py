"""Notices outside the 24-hour window: the template message, its one-line text, the language,
and what its "Open" button does; and how Graph API refusals are classified."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bots.whatsapp.graph import OutsideWindow, refusal
from bots.whatsapp.templates import OPEN_PREFIX, PARAM_MAX, NoticeTemplate, notice_text
from core.conversations.actions import Action, ActionCodec
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound
from core.ports.channel import DeliveryError, RetryLater, TemporaryFailure, Unreachable
from storage.kv.memory import MemoryKeyValueStore
from tests.e2e.whatsapp_fake.errors import GraphError
from tests.e2e.whatsapp_fake.records import Template
from tests.e2e.whatsapp_fake.validate import validate

APPROVED = {
    ("collabbot_notice", "en"): Template("collabbot_notice", "en", "collabbot: {{1}}", ("Open",)),
    ("collabbot_notice", "zh_CN"): Template("collabbot_notice", "zh_CN", "{{1}}", ("打开",)),
}


class RecordingStore(MemoryKeyValueStore):
    """Remembers every value written, to check what is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    async def set(self, key: str, value: str, *, ttl: timedelta | None = None) -> None:
        self.written.append(value)
        await super().set(key, value, ttl=ttl)


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture
def template(store: RecordingStore) -> NoticeTemplate:
    codec = ActionCodec(b"whatsapp-template-test-secret", store)
    return NoticeTemplate("collabbot_notice", ["en", "zh_CN"], codec, store)


def payload_of(message_content: dict[str, object]) -> str:
    components = message_content["components"]
    assert isinstance(components, list)
    return str(components[1]["parameters"][0]["payload"])


def test_the_notice_text_is_one_line_with_its_links_written_out() -> None:
    notice = Outbound(
        Markup.lines(Markup.of("📦 ", bold("On its way")), "UPS,    tracking 1Z", "", "Due soon"),
        rows=[
            [Choice("Track parcel", url="https://ups.com/t/1Z")],
            [Choice("Open order", action=Action("od", (1,)))],
        ],
    )
    assert notice_text(notice) == (
        "📦 *On its way* · UPS, tracking 1Z · Due soon · Track parcel: https://ups.com/t/1Z"
    )


def test_a_long_notice_is_shortened_for_the_template() -> None:
    text = notice_text(Outbound(Markup.of("word " * 1000)))
    assert len(text) <= PARAM_MAX
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("member", "code"), [("en", "en"), ("zh", "zh_CN"), ("de", "en"), (None, "en")]
)
def test_the_template_language_follows_the_member(
    template: NoticeTemplate, member: str | None, code: str
) -> None:
    assert template.language_for(member) == code


async def test_the_template_message_passes_the_cloud_api_checks(template: NoticeTemplate) -> None:
    notice = Outbound(Markup.lines("Line one", "Line two " + "x" * 2000))
    message = await template.message(notice, "en")
    assert validate(message.payload("15550001001"), APPROVED) is not None


async def test_open_does_what_the_only_button_does(template: NoticeTemplate) -> None:
    notice = Outbound(
        Markup.of("Selected"), rows=[[Choice("Open order", action=Action("od", (7,)))]]
    )
    payload = payload_of((await template.message(notice, "en")).content)
    assert await template.codec.decode(payload) == Action("od", (7,))


async def test_open_on_a_notice_without_buttons_shows_the_menu(template: NoticeTemplate) -> None:
    payload = payload_of((await template.message(Outbound(Markup.of("Cancelled")), "en")).content)
    assert await template.codec.decode(payload) == Action("m")


async def test_open_on_a_notice_with_several_buttons_keeps_only_the_buttons(
    template: NoticeTemplate, store: RecordingStore
) -> None:
    secret_text = "New video from Ana at https://www.amazon.com/vdp/abc"
    notice = Outbound(
        Markup.of(secret_text),
        rows=[
            [
                Choice("✓ Accept", action=Action("va", (3,))),
                Choice("↺ Request redo", action=Action("rd", (3,))),
            ],
            [Choice("Open order", action=Action("od", (3,)))],
        ],
    )
    payload = payload_of((await template.message(notice, "en")).content)
    assert payload.startswith(OPEN_PREFIX)
    rows = await template.buttons(payload)
    assert rows is not None
    assert [[c.label for c in row] for row in rows] == [
        ["✓ Accept", "↺ Request redo"],
        ["Open order"],
    ]
    assert rows[0][0].action == Action("va", (3,))
    assert store.written
    assert all(secret_text not in value and "Ana" not in value for value in store.written)


async def test_buttons_of_an_unknown_or_expired_open_are_none(template: NoticeTemplate) -> None:
    assert await template.buttons(OPEN_PREFIX + "nothing-here") is None
    assert await template.buttons("1:od:1::abcdefgh") is None


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (131047, 400, OutsideWindow),
        (130429, 400, RetryLater),
        (131056, 400, RetryLater),
        (80007, 400, RetryLater),
        (4, 400, RetryLater),
        (131026, 400, Unreachable),
        (131030, 400, Unreachable),
        (131021, 400, Unreachable),
        (131000, 500, TemporaryFailure),
        (1, 500, TemporaryFailure),
        (131009, 400, DeliveryError),
        (132001, 404, DeliveryError),
        (190, 401, DeliveryError),
    ],
)
def test_graph_refusals_become_the_channel_errors(
    code: int, status: int, expected: type[DeliveryError]
) -> None:
    error = refusal(status, GraphError(code, status=status).body())
    assert type(error) is expected


def test_a_rate_limit_says_how_long_to_wait() -> None:
    error = refusal(400, GraphError(131056).body())
    assert isinstance(error, RetryLater)
    assert error.seconds > 0


def test_refusals_never_quote_a_phone_number() -> None:
    body = {"error": {"code": 131026, "message": "Undeliverable to +1 555 000 1001 (15550001001)"}}
    assert "1001" not in str(refusal(400, body))


def test_a_refusal_without_a_json_body_is_still_classified() -> None:
    assert isinstance(refusal(502, None), TemporaryFailure)
    assert type(refusal(400, "nonsense")) is DeliveryError
