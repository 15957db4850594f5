"""The methods about the bot itself and its chats: identity, commands, menu, files, answers."""

from __future__ import annotations

import time
from typing import Any

from . import markup
from .errors import bad_request
from .formatting import utf16_len
from .params import Params
from .records import CallbackAnswer
from .state import TelegramState

MAX_CALLBACK_ANSWER = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


async def get_me(state: TelegramState, params: Params) -> dict[str, Any]:
    return {
        **state.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_chat(state: TelegramState, params: Params) -> dict[str, Any]:
    chat = state.find_chat(params)
    return {
        **chat.info,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


async def get_file(state: TelegramState, params: Params) -> dict[str, Any]:
    stored = state.files.get(params.string("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


async def answer_callback_query(state: TelegramState, params: Params) -> bool:
    now = time.monotonic()
    query = state.callbacks.get(params.string("callback_query_id") or "")
    if query is None or query.answer is not None:
        raise bad_request(_QUERY_TOO_OLD)
    if now - query.created_at > state.callback_timeout:
        raise bad_request(_QUERY_TOO_OLD)
    text = params.string("text")
    if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    answer = CallbackAnswer(
        query_id=query.id,
        user_id=query.user_id,
        message_id=query.message_id,
        data=query.data,
        text=text,
        show_alert=params.boolean("show_alert"),
        url=params.string("url"),
        cache_time=params.integer("cache_time") or 0,
        delay=now - query.created_at,
    )
    query.answer = answer
    state.answered_callbacks.append(answer)
    state.changes.fire()
    return True


def _commands_key(state: TelegramState, params: Params) -> tuple[str, str]:
    scope = markup.command_scope(params.json("scope", "BotCommandScope"))
    if ":" in scope:
        chat_id = scope.split(":")[1]
        if not chat_id.lstrip("-").isdigit() or int(chat_id) not in state.chats:
            raise bad_request("chat not found")
    return scope, markup.language_code(params.string("language_code"))


async def set_my_commands(state: TelegramState, params: Params) -> bool:
    commands = markup.commands(params.json("commands", "commands"))
    key = _commands_key(state, params)
    if commands:
        state.commands[key] = commands
    else:
        state.commands.pop(key, None)
    return True


async def get_my_commands(state: TelegramState, params: Params) -> list[dict[str, str]]:
    return list(state.commands.get(_commands_key(state, params), []))


async def delete_my_commands(state: TelegramState, params: Params) -> bool:
    state.commands.pop(_commands_key(state, params), None)
    return True


async def set_chat_menu_button(state: TelegramState, params: Params) -> bool:
    chat_id = None
    if params.has("chat_id"):
        chat = state.find_chat(params)
        if chat.type != "private":
            raise bad_request("chat not found")
        chat_id = chat.id
    state.menu_buttons[chat_id] = markup.menu_button(params.json("menu_button", "menu button"))
    return True


async def get_chat_menu_button(state: TelegramState, params: Params) -> dict[str, Any]:
    chat_id = state.find_chat(params).id if params.has("chat_id") else None
    return state.menu_buttons.get(chat_id) or state.menu_buttons.get(None) or {"type": "default"}
