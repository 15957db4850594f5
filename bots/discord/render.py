"""Discord rendering: an Outbound becomes message parts (content, button rows, an image)
within Discord's limits, and a screen that waits for typed text gets an answer button.

Pure apart from encoding button payloads (the codec may keep long actions in the store).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from core.conversations.actions import ActionCodec
from core.conversations.layout import (
    DISCORD_BUTTONS_PER_ROW,
    DISCORD_CUSTOM_ID_MAX,
    DISCORD_LABEL_MAX,
    DISCORD_ROWS_PER_MESSAGE,
    plan,
    shorten,
)
from core.conversations.markup import to_discord
from core.conversations.messages import Outbound, Prompt

ButtonStyle = Literal["primary", "secondary", "success", "danger", "link"]

#: Discord modals: title and text input label at most 45 characters, a text input holds at
#: most 4000, and a placeholder at most 100.
MODAL_TITLE_MAX: Final = 45
TEXT_INPUT_MAX: Final = 4000
PLACEHOLDER_MAX: Final = 100

#: custom_id of the button that opens the answer modal: ``ask|<s|p><max>|<field>|<label>|<hint>``.
ANSWER_PREFIX: Final = "ask|"
#: Two buttons of one message may not share a custom_id; a repeated payload gets ``#2``, ….
COPY_MARK: Final = "#"
ANSWER_ICON: Final = "✍"


@dataclass(frozen=True, slots=True)
class Button:
    """One button: sends ``custom_id`` to the bot, or opens ``url`` (style ``link``)."""

    label: str
    custom_id: str = ""
    url: str = ""
    style: ButtonStyle = "secondary"


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One message's worth: markdown content, up to five rows of buttons, an image."""

    content: str
    rows: tuple[tuple[Button, ...], ...] = ()
    image_url: str = ""

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(button for row in self.rows for button in row)


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """What the answer modal asks for; travels inside the answer button's custom_id, so the
    button still opens the right modal after a restart."""

    field: str
    label: str
    placeholder: str = ""
    multiline: bool = False
    max_length: int = 1000


async def render(outbound: Outbound, codec: ActionCodec) -> list[DiscordMessage]:
    """The messages to send for ``outbound`` (more than one when text or buttons overflow)."""
    messages: list[DiscordMessage] = []
    for index, planned in enumerate(plan("discord", outbound.text, outbound.rows)):
        used: dict[str, int] = {}
        rows: list[tuple[Button, ...]] = []
        for row in planned.rows:
            buttons = []
            for choice in row:
                if choice.url is not None:
                    buttons.append(Button(choice.label, url=choice.url, style="link"))
                    continue
                assert choice.action is not None
                payload = await codec.encode(choice.action)
                buttons.append(Button(choice.label, _unique(payload, used), style=choice.style))
            rows.append(tuple(buttons))
        image = outbound.image_url if index == 0 else ""
        messages.append(DiscordMessage(to_discord(planned.text), tuple(rows), image))
    if outbound.prompt is not None:
        messages = _with_answer_button(messages, outbound.prompt)
    return messages


def _unique(payload: str, used: dict[str, int]) -> str:
    count = used.get(payload, 0) + 1
    used[payload] = count
    return payload if count == 1 else f"{payload}{COPY_MARK}{count}"


def payload_of(custom_id: str) -> str:
    """The button payload behind a custom_id (without the mark that keeps copies apart)."""
    return custom_id.partition(COPY_MARK)[0]


def _with_answer_button(messages: list[DiscordMessage], prompt: Prompt) -> list[DiscordMessage]:
    """The answer button goes on a row of its own under the last message when there is
    room, else at the end of a row with room, else on a message of its own."""
    spec = spec_of(prompt)
    button = Button(
        shorten(f"{ANSWER_ICON} {spec.label}", DISCORD_LABEL_MAX),
        encode_spec(spec),
        style="primary",
    )
    if not messages:
        return [DiscordMessage(spec.label, ((button,),))]
    last = messages[-1]
    rows = list(last.rows)
    if len(rows) < DISCORD_ROWS_PER_MESSAGE:
        rows.append((button,))
    else:
        roomy = [i for i, row in enumerate(rows) if len(row) < DISCORD_BUTTONS_PER_ROW]
        if not roomy:
            return [*messages, DiscordMessage(spec.label, ((button,),))]
        rows[roomy[-1]] = (*rows[roomy[-1]], button)
    return [*messages[:-1], DiscordMessage(last.content, tuple(rows), last.image_url)]


# --- the answer button's custom_id ---------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(text.replace("|", "/").split())


def spec_of(prompt: Prompt) -> PromptSpec:
    """The modal for ``prompt``, within Discord's limits."""
    label = shorten(_clean(prompt.label), MODAL_TITLE_MAX) or "Answer"
    return PromptSpec(
        field=_clean(prompt.field).replace(" ", "_")[:32] or "answer",
        label=label,
        placeholder=shorten(_clean(prompt.placeholder), PLACEHOLDER_MAX),
        multiline=prompt.multiline,
        max_length=max(1, min(prompt.max_length, TEXT_INPUT_MAX)),
    )


def encode_spec(spec: PromptSpec) -> str:
    """``spec`` as an answer button custom_id (the placeholder is cut to fit 100)."""
    style = "p" if spec.multiline else "s"
    head = f"{ANSWER_PREFIX}{style}{spec.max_length}|{spec.field}|{spec.label}|"
    return head + spec.placeholder[: max(0, DISCORD_CUSTOM_ID_MAX - len(head))]


def decode_spec(custom_id: str) -> PromptSpec | None:
    """The modal an answer button asks for, or ``None`` for a custom_id that is not one."""
    if not custom_id.startswith(ANSWER_PREFIX):
        return None
    parts = custom_id[len(ANSWER_PREFIX) :].split("|", 3)
    if len(parts) != 4:
        return None
    shape, field, label, placeholder = parts
    if shape[:1] not in ("s", "p") or not shape[1:].isdigit() or not field or not label:
        return None
    max_length = int(shape[1:])
    if not 1 <= max_length <= TEXT_INPUT_MAX:
        return None
    return PromptSpec(field, label[:MODAL_TITLE_MAX], placeholder, shape[0] == "p", max_length)
