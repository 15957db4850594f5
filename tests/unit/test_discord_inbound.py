"""From Discord to the core: slash commands, button presses, answer modals and direct
messages become Inbound events; the chat to write back to is always the person's own."""

from __future__ import annotations

import pytest

from bots.discord.inbound import (
    Attachment,
    Person,
    action_inbound,
    answer_inbound,
    command_inbound,
    direct_message_inbound,
    modal_text,
)
from core.conversations.messages import InboundKind
from core.domain.common import Platform

ANA = Person("111122223333444455", "Ana", "zh-CN", private=True)
IN_A_SERVER = Person("111122223333444455", "Ana", "en-US", private=False)


def test_a_slash_command_is_a_command_with_its_arguments() -> None:
    inbound = command_inbound("900", ANA, "Verify", "#12")
    assert (inbound.platform, inbound.kind, inbound.command, inbound.args) == (
        Platform.DISCORD,
        InboundKind.COMMAND,
        "verify",
        "#12",
    )
    assert inbound.text == "/verify #12"
    assert (inbound.user_id, inbound.chat_id, inbound.event_id) == (ANA.user_id, ANA.user_id, "900")
    assert (inbound.display_name, inbound.language_code, inbound.private) == ("Ana", "zh-CN", True)


def test_a_pressed_button_is_an_action_on_its_message() -> None:
    inbound = action_inbound("901", IN_A_SERVER, "1:m::x:AAAAAAAA#2", "5550")
    assert inbound.kind is InboundKind.ACTION
    assert inbound.payload == "1:m::x:AAAAAAAA"  # the copy mark is not part of the payload
    assert inbound.message_id == "5550"
    assert inbound.private is False
    assert inbound.chat_id == IN_A_SERVER.user_id  # answers in a server go by DM, never there


def test_an_answer_modal_is_typed_text() -> None:
    inbound = answer_inbound("902", ANA, "1Z999AA10123456784")
    assert (inbound.kind, inbound.text, inbound.message_id) == (
        InboundKind.TEXT,
        "1Z999AA10123456784",
        "",
    )


@pytest.mark.parametrize(
    ("components", "text"),
    [
        (
            [
                {
                    "type": 1,
                    "components": [{"type": 4, "custom_id": "note", "value": "Hold it sideways"}],
                }
            ],
            "Hold it sideways",
        ),
        (
            [{"type": 18, "component": {"type": 4, "custom_id": "note", "value": "In a label"}}],
            "In a label",
        ),
        (
            [
                {"type": 1, "components": [{"type": 4, "custom_id": "a", "value": ""}]},
                {"type": 1, "components": [{"type": 4, "custom_id": "b", "value": "second"}]},
            ],
            "second",
        ),
        ([{"type": 10, "content": "text display"}], ""),
        ([], ""),
    ],
)
def test_the_text_of_a_submitted_modal(components: list[dict[str, object]], text: str) -> None:
    assert modal_text(components) == text


def test_direct_messages_are_text_typed_commands_or_files() -> None:
    text = direct_message_inbound("903", ANA, "  Done! https://www.amazon.com/vdp/abc  ")
    assert text is not None
    assert (text.kind, text.text) == (
        InboundKind.TEXT,
        "Done! https://www.amazon.com/vdp/abc",
    )

    typed = direct_message_inbound("904", ANA, "/link ab12cd34")
    assert typed is not None
    assert (typed.kind, typed.command, typed.args) == (
        InboundKind.COMMAND,
        "link",
        "ab12cd34",
    )

    video = Attachment("https://cdn.example/v.mp4", "video/mp4", 1234, "v.mp4")
    filed = direct_message_inbound("905", ANA, "my video", [video])
    assert filed is not None
    assert filed.kind is InboundKind.FILE
    assert filed.file is not None
    assert (filed.file.kind, filed.file.file_id, filed.file.size, filed.text) == (
        "video",
        video.url,
        1234,
        "my video",
    )

    assert direct_message_inbound("906", ANA, "   ") is None


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("image/png", "photo"),
        ("video/quicktime", "video"),
        ("audio/ogg", "audio"),
        ("application/pdf", "document"),
        ("", "document"),
    ],
)
def test_attachment_kinds(content_type: str, kind: str) -> None:
    inbound = direct_message_inbound("907", ANA, "", [Attachment("https://cdn/x", content_type)])
    assert inbound is not None
    assert inbound.file is not None
    assert inbound.file.kind == kind
