"""Running one Bot API call: which method, forced failures, flood control, the call log."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import bot, messages
from .errors import ApiError, method_not_found, too_many_requests
from .limits import SENDING_METHODS, Faults, FloodControl
from .params import Params
from .records import ApiCall
from .state import TelegramState
from .updates import UpdateDelivery

logger = logging.getLogger(__name__)
Handler = Callable[[Params], Awaitable[Any]]
_CHAT_ID = re.compile(r"-?\d+")


class BotApi:
    """The methods the fake serves, looked up case-insensitively as Telegram does."""

    def __init__(self, state: TelegramState, delivery: UpdateDelivery) -> None:
        self.state = state
        self.calls: list[ApiCall] = []
        self.throttled = 0  # how many 429 answers were given
        self.flood = FloodControl()
        self.faults = Faults()

        def bound(function: Callable[..., Awaitable[Any]]) -> Handler:
            return functools.partial(function, state)

        async def webhook_info(params: Params) -> dict[str, Any]:
            return delivery.webhook_info()

        table: list[tuple[str, Handler]] = [
            ("getMe", bound(bot.get_me)),
            ("getChat", bound(bot.get_chat)),
            ("getFile", bound(bot.get_file)),
            ("answerCallbackQuery", bound(bot.answer_callback_query)),
            ("setMyCommands", bound(bot.set_my_commands)),
            ("getMyCommands", bound(bot.get_my_commands)),
            ("deleteMyCommands", bound(bot.delete_my_commands)),
            ("setChatMenuButton", bound(bot.set_chat_menu_button)),
            ("getChatMenuButton", bound(bot.get_chat_menu_button)),
            ("sendMessage", bound(messages.send_message)),
            ("sendPhoto", bound(messages.send_photo)),
            ("sendVideo", bound(messages.send_video)),
            ("sendDocument", bound(messages.send_document)),
            ("editMessageText", bound(messages.edit_message_text)),
            ("editMessageCaption", bound(messages.edit_message_caption)),
            ("editMessageReplyMarkup", bound(messages.edit_message_reply_markup)),
            ("deleteMessage", bound(messages.delete_message)),
            ("sendChatAction", bound(messages.send_chat_action)),
            ("getUpdates", delivery.get_updates),
            ("setWebhook", delivery.set_webhook),
            ("deleteWebhook", delivery.delete_webhook),
            ("getWebhookInfo", webhook_info),
        ]
        self._methods = {name.lower(): (name, handler) for name, handler in table}

    async def call(
        self, method: str, params: Params, *, via: str = "http"
    ) -> tuple[int, dict[str, Any]]:
        """Run one call; returns the HTTP status and the JSON body Telegram would send."""
        known = self._methods.get(method.lower())
        record = ApiCall(known[0] if known else method, params.logged(), time.monotonic(), via)
        self.calls.append(record)
        try:
            status, body = 200, await self._run(known, params)
        except ApiError as error:
            status, body = error.code, error.body()
        except Exception as error:  # a bug in the fake must not pass for Telegram's answer
            logger.exception("the fake Telegram failed on %s", method)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {error!r}",
            }
        if status == 429:
            self.throttled += 1
        record.status, record.result = status, body.get("result")
        record.description = body.get("description")
        self.state.changes.fire()
        return status, body

    async def _run(self, known: tuple[str, Handler] | None, params: Params) -> dict[str, Any]:
        if known is None:
            raise method_not_found()
        name, handler = known
        if (fault := self.faults.take(name)) is not None:
            raise fault
        sends = name in SENDING_METHODS
        chat_id = _chat_id(params) if sends else None
        if sends and (wait := self.flood.wait_for(chat_id, time.monotonic())) is not None:
            raise too_many_requests(wait)
        result = await handler(params)
        if sends:
            self.flood.record(chat_id, time.monotonic())
        if isinstance(result, tuple):  # (result, description), as setWebhook answers
            return {"ok": True, "result": result[0], "description": result[1]}
        return {"ok": True, "result": result}


def _chat_id(params: Params) -> int | None:
    raw = params.raw("chat_id")
    return int(raw) if raw is not None and _CHAT_ID.fullmatch(raw) else None
