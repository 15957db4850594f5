"""Validation of the structured parameters: keyboards, bot commands, scopes, menu buttons.

Descriptions are Telegram's. Where Telegram is lenient in a way that hides a bug, the fake is
stricter and says so: a button with two actions (Telegram silently keeps the first).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request

MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS = 100
MAX_ROW_LENGTH = 8
MAX_COMMANDS = 100
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)
_BUTTON_URL = re.compile(r"(?:https?|tg)://\S+|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:[/?#]\S*)?", re.I)
_COMMAND = re.compile(r"[a-z0-9_]+")
_SCOPES_WITHOUT_CHAT = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
)


def _text_field(obj: dict[str, Any], name: str, *, required: bool) -> str:
    if name not in obj:
        if required:
            raise ValueError(f'Can\'t find field "{name}"')
        return ""
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f'Field "{name}" must be of type String')
    return value if isinstance(value, str) else str(value)


def reply_markup(value: Any) -> dict[str, Any] | None:
    """The markup as Telegram keeps it, or None when it attaches nothing."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("object expected as reply markup")
    keyboard = value.get("keyboard")
    if "keyboard" in value and not isinstance(keyboard, list):
        raise bad_request('field "keyboard" must be of type Array')
    if keyboard:
        return _reply_keyboard(value, keyboard)
    inline = value.get("inline_keyboard")
    if "inline_keyboard" in value and not isinstance(inline, list):
        raise bad_request('field "inline_keyboard" must be of type Array')
    if inline:
        return {"inline_keyboard": _inline_rows(inline)}
    if value.get("remove_keyboard") or value.get("hide_keyboard"):
        return {"remove_keyboard": True}
    if value.get("force_reply"):
        return {"force_reply": True}
    return None


def _reply_keyboard(value: dict[str, Any], keyboard: list[Any]) -> dict[str, Any]:
    rows = []
    for row in keyboard:
        if not isinstance(row, list):
            raise bad_request('field "keyboard" must be an Array of Arrays')
        buttons = []
        for button in row:
            if isinstance(button, str):
                buttons.append({"text": button})
            elif isinstance(button, dict):
                try:
                    buttons.append({**button, "text": _text_field(button, "text", required=True)})
                except ValueError as error:
                    raise bad_request(f"can't parse keyboard button: {error}") from None
            else:
                raise bad_request(
                    "can't parse keyboard button: KeyboardButton must be a String or an Object"
                )
        rows.append(buttons)
    return {**value, "keyboard": rows}


def _inline_rows(rows: list[Any]) -> list[list[dict[str, Any]]]:
    checked = []
    total = 0
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        if len(row) > MAX_ROW_LENGTH:
            raise bad_request("BUTTONS_TOO_MUCH")
        total += len(row)
        checked.append([_inline_button(button) for button in row])
    if total > MAX_BUTTONS:
        raise bad_request("BUTTONS_TOO_MUCH")
    return checked


def _inline_button(button: Any) -> dict[str, Any]:
    try:
        if not isinstance(button, dict):
            raise ValueError("InlineKeyboardButton must be an Object")
        text = _text_field(button, "text", required=True)
        action = next((name for name in _BUTTON_ACTIONS if _has_action(button, name)), None)
        if action is None:
            raise ValueError("Text buttons are unallowed in the inline keyboard")
    except ValueError as error:
        raise bad_request(f"can't parse inline keyboard button: {error}") from None
    # Telegram keeps the first action it finds and drops any other without a word.
    others = [name for name in _BUTTON_ACTIONS if name != action and _is_set(button, name)]
    if others:
        raise bad_request("BUTTON_TYPE_INVALID")
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    checked = {"text": text, action: button[action]}
    if action == "callback_data":
        data = str(button[action])
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        checked[action] = data
    elif action == "url" and not _BUTTON_URL.fullmatch(str(button[action]).strip()):
        raise bad_request("BUTTON_URL_INVALID")
    return checked


def _has_action(button: dict[str, Any], name: str) -> bool:
    """Whether Telegram reads the button as this kind (a null field counts for most)."""
    if name not in button:
        return False
    if name in ("url", "callback_data"):
        # an empty string counts as absent, as in Telegram
        return _text_field(button, name, required=False) != ""
    return True


def _is_set(button: dict[str, Any], name: str) -> bool:
    return button.get(name) not in (None, "")


def commands(value: Any) -> list[dict[str, str]]:
    """The commands of ``setMyCommands``, trimmed as Telegram stores them."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("expected an Array of BotCommand")
    if len(value) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked = []
    for item in value:
        try:
            if not isinstance(item, dict):
                raise ValueError("expected an Object")
            command = _text_field(item, "command", required=True).strip().removeprefix("/")
            description = _text_field(item, "description", required=True).strip()
        except ValueError as error:
            raise bad_request(f"can't parse BotCommand: {error}") from None
        if not command:
            raise bad_request("command must be non-empty")
        if len(command) > 32:
            raise bad_request("command length must not exceed 32")
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("command description length must not exceed 256")
        checked.append({"command": command, "description": description})
    return checked


def command_scope(value: Any) -> str:
    """A key naming the scope: ``default``, ``chat:42``, ``chat_member:-100:42``, ..."""
    if value is None:
        return "default"
    try:
        if not isinstance(value, dict):
            raise ValueError("BotCommandScope must be an Object")
        kind = _text_field(value, "type", required=True)
        if kind in _SCOPES_WITHOUT_CHAT:
            return kind
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise ValueError("Unsupported type specified")
        chat_id = _text_field(value, "chat_id", required=True)
        if not chat_id:
            raise ValueError("Empty chat_id specified")
        if kind != "chat_member":
            return f"{kind}:{chat_id}"
        user_id = value.get("user_id")
        if "user_id" not in value:
            raise ValueError('Can\'t find field "user_id"')
        if not re.fullmatch(r"-?\d+", str(user_id)) or int(str(user_id)) <= 0:
            raise ValueError("Invalid user_id specified")
        return f"{kind}:{chat_id}:{user_id}"
    except ValueError as error:
        raise bad_request(f"can't parse BotCommandScope: {error}") from None


def language_code(value: str | None) -> str:
    code = value or ""
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code


def menu_button(value: Any) -> dict[str, Any]:
    if value is None:
        return {"type": "default"}
    try:
        if not isinstance(value, dict):
            raise ValueError("MenuButton must be an Object")
        kind = _text_field(value, "type", required=True)
        if kind in ("default", "commands"):
            return {"type": kind}
        if kind != "web_app":
            raise ValueError("MenuButton has unsupported type")
        text = _text_field(value, "text", required=True)
        web_app = value.get("web_app")
        if not isinstance(web_app, dict):
            raise ValueError('Field "web_app" must be of type Object')
        url = _text_field(web_app, "url", required=True)
    except ValueError as error:
        raise bad_request(f"can't parse menu button: {error}") from None
    return {"type": "web_app", "text": text, "web_app": {"url": url}}
