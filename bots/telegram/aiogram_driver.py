"""The aiogram 3 driver (the default): a Bot API implementation, a Router to mount into any
aiogram Dispatcher, and polling.

Mounting into an existing aiogram bot::

    from bots.telegram.aiogram_driver import collabbot_router
    dispatcher.include_router(collabbot_router(bridge))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import Bot, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    InputFile,
    Message,
    Update,
)
from aiohttp import FormData, JsonPayload

from bots.telegram.api import classify
from bots.telegram.polling import ALLOWED_UPDATES, POLL_TIMEOUT, UpdateHandler, poll
from bots.telegram.render import TelegramMessage
from core.ports.channel import DeliveryError, TemporaryFailure

_RESPONSE_MODELS: dict[Any, Any] = {}


class KeepResponseModels(BaseRequestMiddleware):
    """Holds on to the ``Response[...]`` model of every Bot API method called.

    aiogram parses each answer with ``Response[<the method's result type>]``, a pydantic
    generic model that pydantic caches only weakly: whenever the garbage collector runs, the
    model can be dropped and is rebuilt (some 30 ms of CPU) on the next call. One strong
    reference per result type keeps it built.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_MODELS:
            _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)


class JsonBodySession(AiohttpSession):
    """aiogram's aiohttp session, posting each call as a JSON body (which the Bot API takes
    as well as forms) unless it uploads a file.

    aiogram's default URL-encodes every call as a form, quoting the message text and the
    keyboard's JSON character by character in Python; ``json.dumps`` does it in C.
    """

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        files: dict[str, InputFile] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":
                body[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        # aiohttp posts any payload given as ``data``; a JSON one sets its content type.
        return JsonPayload(body, dumps=self.json_dumps)  # type: ignore[return-value]


def make_bot(token: str, api_url: str) -> Bot:
    """An aiogram Bot talking to ``api_url`` (the public Bot API, or a self-hosted one)."""
    session = JsonBodySession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    session.middleware(KeepResponseModels())
    return Bot(token, session=session)


def _error(error: Exception) -> DeliveryError:
    if isinstance(error, TelegramRetryAfter):
        return classify(429, error.message, error.retry_after)
    if isinstance(error, TelegramForbiddenError):
        return classify(403, error.message)
    if isinstance(error, TelegramNetworkError | TelegramServerError):
        return TemporaryFailure(type(error).__name__)
    if isinstance(error, TelegramBadRequest | TelegramNotFound | TelegramAPIError):
        return classify(400, error.message)
    return TemporaryFailure(type(error).__name__)


class SendHtml(TelegramMethod[dict[str, Any]]):
    """``sendMessage`` with collabbot's HTML text and inline keyboard as Bot API JSON.

    collabbot builds its keyboards as JSON already (:mod:`bots.telegram.render`); aiogram's
    own ``SendMessage`` would turn every button into a model, serialise it back, and parse
    the message Telegram echoes into models again — work nobody reads. Errors are raised
    exactly as for aiogram's methods.
    """

    __returning__ = dict[str, Any]
    __api_method__ = "sendMessage"

    chat_id: int | str
    text: str
    parse_mode: str = "HTML"
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None


class EditHtml(TelegramMethod[dict[str, Any] | bool]):
    """``editMessageText``, as :class:`SendHtml`."""

    __returning__ = dict[str, Any] | bool
    __api_method__ = "editMessageText"

    chat_id: int | str
    message_id: int
    text: str
    parse_mode: str = "HTML"
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None


class AiogramApi:
    """:class:`bots.telegram.api.BotApi` on an aiogram Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._username = ""

    async def send_message(self, chat_id: str, message: TelegramMessage) -> str:
        try:
            sent = await self.bot(
                SendHtml(
                    chat_id=chat_id,
                    text=message.text,
                    reply_markup=message.reply_markup(),
                    link_preview_options=message.link_preview_options(),
                )
            )
        except TelegramAPIError as error:
            raise _error(error) from None
        return str(sent["message_id"])

    async def edit_message(self, chat_id: str, message_id: str, message: TelegramMessage) -> None:
        try:
            await self.bot(
                EditHtml(
                    chat_id=chat_id,
                    message_id=int(message_id),
                    text=message.text,
                    reply_markup=message.reply_markup(),
                    link_preview_options=message.link_preview_options(),
                )
            )
        except TelegramAPIError as error:
            raise _error(error) from None

    async def answer_callback(self, callback_id: str, text: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_id, text=text or None)
        except TelegramAPIError as error:
            raise _error(error) from None

    async def set_commands(
        self,
        commands: Sequence[tuple[str, str]],
        *,
        chat_id: str | None = None,
        language: str | None = None,
    ) -> None:
        scope = BotCommandScopeChat(chat_id=chat_id) if chat_id else BotCommandScopeDefault()
        try:
            await self.bot.set_my_commands(
                [BotCommand(command=name, description=text[:256]) for name, text in commands],
                scope=scope,
                language_code=language,
            )
        except TelegramAPIError as error:
            raise _error(error) from None

    async def set_webhook(self, url: str, secret: str) -> None:
        try:
            await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramAPIError as error:
            raise _error(error) from None

    async def delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramAPIError as error:
            raise _error(error) from None

    async def username(self) -> str:
        if not self._username:
            me = await self.bot.get_me()
            self._username = me.username or ""
        return self._username


# What the bridge never reads of the message a pressed button sat on: its text and keyboard
# are the bulk of a button press's update.
_PRESSED_ON = {
    "text",
    "entities",
    "reply_markup",
    "caption",
    "caption_entities",
    "link_preview_options",
}


def _raw(update: Update) -> dict[str, Any]:
    return update.model_dump(
        mode="json",
        exclude_unset=True,
        exclude_none=True,
        by_alias=True,
        exclude={"callback_query": {"message": _PRESSED_ON}},
    )


def collabbot_router(handle_update: UpdateHandler) -> Router:
    """An aiogram Router passing messages and button presses to collabbot.

    ``handle_update`` is :meth:`bots.telegram.bridge.TelegramBridge.handle_update`.
    """
    router = Router(name="collabbot")

    @router.message()
    async def on_message(message: Message, event_update: Update) -> None:
        await handle_update(_raw(event_update))

    @router.callback_query()
    async def on_callback(query: CallbackQuery, event_update: Update) -> None:
        await handle_update(_raw(event_update))

    return router


class GetUpdatesRaw(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates``, answered as the Bot API's JSON.

    The polling loop hands updates to collabbot as dicts; aiogram's ``GetUpdates`` would
    first turn every update, with the whole message a pressed button sat on, into models.
    """

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


async def run_polling(bot: Bot, handle_update: UpdateHandler) -> None:
    """Long-poll Telegram until cancelled (:func:`bots.telegram.polling.poll`)."""
    await bot.delete_webhook(drop_pending_updates=False)
    # Longer than the long poll itself, so that waiting for an update is not a timeout.
    request_timeout = int(bot.session.timeout + POLL_TIMEOUT)

    async def fetch(offset: int | None) -> list[dict[str, Any]]:
        request = GetUpdatesRaw(
            offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
        )
        return await bot(request, request_timeout=request_timeout)

    await poll(fetch, handle_update)


Api = AiogramApi


async def open_bot(bot: Bot) -> None:
    """Nothing to prepare: aiogram opens its HTTP session on first use."""


async def close_bot(bot: Bot) -> None:
    await bot.session.close()
