"""The python-telegram-bot 22 driver: a Bot API implementation, handlers to add to any PTB
Application, and polling.

Mounting into an existing PTB bot::

    from bots.telegram.ptb_driver import collabbot_handlers
    application.add_handlers(collabbot_handlers(bridge.handle_update))
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseHandler, CallbackContext, TypeHandler

from bots.telegram.api import classify
from bots.telegram.polling import ALLOWED_UPDATES, POLL_TIMEOUT, UpdateHandler, poll
from bots.telegram.ptb_request import AiohttpRequest
from bots.telegram.render import TelegramMessage
from core.ports.channel import DeliveryError, TemporaryFailure

CONNECTIONS = 32
"""HTTP connections the Bot keeps for its calls (getUpdates has its own). PTB's default of
one would make updates handled side by side wait for each other to send their answers."""


def make_bot(token: str, api_url: str) -> Bot:
    """A PTB Bot talking to ``api_url`` (the public Bot API, or a self-hosted one), sending
    through aiohttp (:mod:`bots.telegram.ptb_request`)."""
    base = api_url.rstrip("/")
    return Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=AiohttpRequest(CONNECTIONS),
        get_updates_request=AiohttpRequest(1),
    )


def _seconds(error: RetryAfter) -> float:
    # Reading ``retry_after`` as an int is deprecated in PTB 22; both forms are accepted.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _error(error: TelegramError) -> DeliveryError:
    if isinstance(error, RetryAfter):
        return classify(429, str(error), _seconds(error))
    if isinstance(error, Forbidden):
        return classify(403, error.message)
    if isinstance(error, TimedOut | NetworkError) and not isinstance(error, BadRequest):
        return TemporaryFailure(type(error).__name__)
    return classify(400, error.message)


def _preview(message: TelegramMessage, bot: Bot) -> LinkPreviewOptions:
    return LinkPreviewOptions.de_json(message.link_preview_options(), bot)


def _markup(message: TelegramMessage, bot: Bot) -> InlineKeyboardMarkup | None:
    markup = message.reply_markup()
    return InlineKeyboardMarkup.de_json(markup, bot) if markup else None


class PtbApi:
    """:class:`bots.telegram.api.BotApi` on a python-telegram-bot Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._username = ""

    async def send_message(self, chat_id: str, message: TelegramMessage) -> str:
        try:
            sent = await self.bot.send_message(
                chat_id,
                message.text,
                parse_mode="HTML",
                reply_markup=_markup(message, self.bot),
                link_preview_options=_preview(message, self.bot),
            )
        except TelegramError as error:
            raise _error(error) from None
        return str(sent.message_id)

    async def edit_message(self, chat_id: str, message_id: str, message: TelegramMessage) -> None:
        try:
            await self.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=int(message_id),
                parse_mode="HTML",
                reply_markup=_markup(message, self.bot),
                link_preview_options=_preview(message, self.bot),
            )
        except TelegramError as error:
            raise _error(error) from None

    async def answer_callback(self, callback_id: str, text: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text or None)
        except TelegramError as error:
            raise _error(error) from None

    async def set_commands(
        self,
        commands: Sequence[tuple[str, str]],
        *,
        chat_id: str | None = None,
        language: str | None = None,
    ) -> None:
        scope = BotCommandScopeChat(chat_id) if chat_id else BotCommandScopeDefault()
        try:
            await self.bot.set_my_commands(
                [BotCommand(name, text[:256]) for name, text in commands],
                scope=scope,
                language_code=language,
            )
        except TelegramError as error:
            raise _error(error) from None

    async def set_webhook(self, url: str, secret: str) -> None:
        try:
            await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as error:
            raise _error(error) from None

    async def delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as error:
            raise _error(error) from None

    async def username(self) -> str:
        if not self._username:
            me = await self.bot.get_me()
            self._username = me.username or ""
        return self._username


def _raw(update: Update) -> dict[str, Any]:
    """The update as Bot API JSON, for the bridge. Of a button press, the message the
    button sat on is cut down to what the bridge reads (its id and chat): its text and
    keyboard are most of the update and slow to turn back into JSON."""
    query = update.callback_query
    if query is None:
        return update.to_dict()
    raw: dict[str, Any] = {"id": query.id, "from": query.from_user.to_dict()}
    if query.data is not None:
        raw["data"] = query.data
    if query.message is not None:
        chat = query.message.chat
        raw["message"] = {
            "message_id": query.message.message_id,
            "chat": {"id": chat.id, "type": chat.type},
        }
    return {"update_id": update.update_id, "callback_query": raw}


def collabbot_handlers(handle_update: UpdateHandler) -> list[BaseHandler[Any, Any, Any]]:
    """PTB handlers passing messages and button presses to collabbot.

    ``handle_update`` is :meth:`bots.telegram.bridge.TelegramBridge.handle_update`.
    """

    async def on_update(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
        if update.message is not None or update.callback_query is not None:
            await handle_update(_raw(update))

    return [TypeHandler(Update, on_update)]


async def run_polling(bot: Bot, handle_update: UpdateHandler) -> None:
    """Long-poll Telegram until cancelled (:func:`bots.telegram.polling.poll`), through
    ``bot``'s networking; the updates stay Bot API JSON. ``bot`` must be initialized."""
    await bot.delete_webhook(drop_pending_updates=False)
    request = AiohttpRequest(1)
    await request.initialize()
    fixed = {"timeout": POLL_TIMEOUT, "allowed_updates": json.dumps(ALLOWED_UPDATES)}

    async def fetch(offset: int | None) -> list[dict[str, Any]]:
        query = fixed if offset is None else {**fixed, "offset": offset}
        # BaseRequest.post: PTB reads the answer and raises its errors (409, 429, …).
        result = await request.post(
            f"{bot.base_url}/getUpdates?{urlencode(query)}",
            # Longer than the long poll itself, so that waiting is not a timeout.
            read_timeout=POLL_TIMEOUT + request.read_timeout,
        )
        assert isinstance(result, list)
        return result

    try:
        await poll(fetch, handle_update)
    finally:
        await request.shutdown()


Api = PtbApi


async def open_bot(bot: Bot) -> None:
    await bot.initialize()


async def close_bot(bot: Bot) -> None:
    await bot.shutdown()
