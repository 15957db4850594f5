"""Reading WhatsApp webhooks: messages become neutral inbound events, statuses are recorded,
and nothing in a malformed payload raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.whatsapp.inbound import MessageStatus, parse_webhook
from core.conversations.messages import FileRef, InboundKind
from core.domain.common import Platform

NUMBER_ID = "109876543210987"
ANA = "15550001001"


def webhook(
    *messages: dict[str, Any],
    statuses: list[dict[str, Any]] | None = None,
    number_id: str = NUMBER_ID,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550009999", "phone_number_id": number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Ana Lima"}, "wa_id": ANA}]
        value["messages"] = [
            {"from": ANA, "id": f"wamid.{i}", "timestamp": "1700000000", **m}
            for i, m in enumerate(messages)
        ]
    if statuses:
        value["statuses"] = statuses
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def only(body: dict[str, Any]) -> Any:
    events = parse_webhook(body, NUMBER_ID)
    assert len(events.messages) == 1
    return events.messages[0]


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def test_a_text_message_is_text_from_that_number() -> None:
    inbound = only(webhook(text("Hello there, I love the board")))
    assert inbound.kind is InboundKind.TEXT
    assert inbound.text == "Hello there, I love the board"
    assert inbound.platform is Platform.WHATSAPP
    assert (inbound.user_id, inbound.chat_id) == (ANA, ANA)
    assert inbound.event_id == "wamid.0"
    assert inbound.display_name == "Ana Lima"


@pytest.mark.parametrize(
    ("typed", "command", "args"),
    [
        ("/offers", "offers", ""),
        ("/Orders please", "orders", "please"),
        ("offers", "offers", ""),
        ("Help", "help", ""),
        ("  menu ", "start", ""),
        ("Hi!", "start", ""),
        ("cancel", "cancel", ""),
        ("/frobnicate", "frobnicate", ""),
    ],
)
def test_commands_are_typed_with_a_slash_or_as_one_word(
    typed: str, command: str, args: str
) -> None:
    inbound = only(webhook(text(typed)))
    assert inbound.kind is InboundKind.COMMAND
    assert (inbound.command, inbound.args) == (command, args)


@pytest.mark.parametrize("typed", ["my offers", "help me with the address", "/", "offers?!x"])
def test_other_text_is_not_a_command(typed: str) -> None:
    assert only(webhook(text(typed))).kind is InboundKind.TEXT


def test_a_reply_button_is_an_action_with_its_id() -> None:
    inbound = only(
        webhook(
            {
                "type": "interactive",
                "context": {"from": "15550009999", "id": "wamid.menu"},
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "1:h:1::abcdefgh", "title": "Offers"},
                },
            }
        )
    )
    assert inbound.kind is InboundKind.ACTION
    assert inbound.payload == "1:h:1::abcdefgh"
    assert inbound.message_id == "wamid.menu"


def test_a_list_row_is_an_action_with_its_id() -> None:
    inbound = only(
        webhook(
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "1:os:1::abcdefgh", "title": "My orders"},
                },
            }
        )
    )
    assert (inbound.kind, inbound.payload) == (InboundKind.ACTION, "1:os:1::abcdefgh")


def test_a_template_quick_reply_is_an_action_with_its_payload() -> None:
    inbound = only(webhook({"type": "button", "button": {"payload": "wo~tok", "text": "Open"}}))
    assert (inbound.kind, inbound.payload) == (InboundKind.ACTION, "wo~tok")


@pytest.mark.parametrize(
    ("kind", "media", "expected"),
    [
        (
            "image",
            {"id": "m1", "mime_type": "image/jpeg", "caption": "box"},
            FileRef("photo", "m1", "image/jpeg"),
        ),
        ("video", {"id": "m2", "mime_type": "video/mp4"}, FileRef("video", "m2", "video/mp4")),
        (
            "document",
            {"id": "m3", "mime_type": "application/pdf", "filename": "a.pdf"},
            FileRef("document", "m3", "application/pdf", name="a.pdf"),
        ),
    ],
)
def test_media_is_a_file_by_its_media_id(
    kind: str, media: dict[str, Any], expected: FileRef
) -> None:
    inbound = only(webhook({"type": kind, kind: media}))
    assert inbound.kind is InboundKind.FILE
    assert inbound.file == expected
    assert inbound.text == media.get("caption", "")


def test_a_location_is_a_contact_event() -> None:
    inbound = only(webhook({"type": "location", "location": {"latitude": 1, "longitude": 2}}))
    assert inbound.kind is InboundKind.CONTACT


@pytest.mark.parametrize(
    "message",
    [
        {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}},
        {"type": "unsupported", "errors": [{"code": 131051}]},
        {"type": "text", "text": {"body": "   "}},
        {"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}},
        {"type": "image", "image": {}},
    ],
)
def test_what_collabbot_does_not_handle_is_ignored(message: dict[str, Any]) -> None:
    events = parse_webhook(webhook(message), NUMBER_ID)
    assert events.messages == []
    assert events.ignored == 1


def test_updates_for_another_business_number_are_ignored() -> None:
    events = parse_webhook(webhook(text("hi"), number_id="999"), NUMBER_ID)
    assert events.messages == []


def test_statuses_are_read_with_their_error_codes() -> None:
    statuses = [
        {"id": "wamid.a", "status": "delivered", "timestamp": "1", "recipient_id": ANA},
        {
            "id": "wamid.b",
            "status": "failed",
            "timestamp": "1",
            "recipient_id": ANA,
            "errors": [{"code": 131047, "title": "Re-engagement message"}],
        },
    ]
    events = parse_webhook(webhook(statuses=statuses), NUMBER_ID)
    assert events.statuses == [
        MessageStatus("delivered", "wamid.a", ANA),
        MessageStatus("failed", "wamid.b", ANA, (131047,)),
    ]


def test_no_phone_number_or_message_id_is_printed() -> None:
    inbound = only(webhook(text("hello")))
    status = MessageStatus("failed", "wamid.HBgLMTU1NTAwMDEwMDE", ANA, (131026,))
    for shown in (repr(inbound), str(inbound), repr(status)):
        assert ANA not in shown
        assert "HBgL" not in shown


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(json_values)
def test_any_json_is_read_without_raising(body: Any) -> None:
    parse_webhook(body, NUMBER_ID)


@given(
    st.dictionaries(
        st.sampled_from(
            ["from", "id", "type", "text", "interactive", "button", "image", "context"]
        ),
        json_values,
        max_size=6,
    )
)
def test_any_malformed_message_is_read_without_raising(message: dict[str, Any]) -> None:
    value = {"metadata": {"phone_number_id": NUMBER_ID}, "messages": [message]}
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": value}]}],
    }
    parse_webhook(body, NUMBER_ID)
