"""The fake Telegram holds up against the real clients: aiogram and python-telegram-bot.

Each test runs the library's own HTTP code against ``FakeTelegram`` on 127.0.0.1 and checks
that Telegram's answers (errors, 429s, updates, webhooks) reach the bot as they would in
production, so the journeys built on this fake test what users will meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiogram import Bot as AiogramBot
from aiogram import Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import BotCommand, BotCommandScopeChat, BufferedInputFile
from aiogram.types import CallbackQuery as AiogramCallbackQuery
from aiogram.types import InlineKeyboardButton as AiogramButton
from aiogram.types import InlineKeyboardMarkup as AiogramKeyboard
from aiogram.types import Message as AiogramMessage
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from telegram import Bot as PtbBot
from telegram import InlineKeyboardButton as PtbButton
from telegram import InlineKeyboardMarkup as PtbKeyboard
from telegram import Update
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.e2e.telegram_fake import FakeTelegram

TOKEN = "123456:TEST-token_for-the-fake"
ANA = 5001
BEN = 5002
CARLA = 5003
NOT_MODIFIED = r"(?i)message is not modified"  # PTB capitalises what it shows
ENCODINGS = ("json", "form", "multipart")
CallApi = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def aiogram_bot(tg: FakeTelegram) -> AsyncIterator[AiogramBot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
    bot = AiogramBot(TOKEN, session=session)
    yield bot
    await bot.session.close()


@pytest.fixture
async def ptb_bot(tg: FakeTelegram) -> AsyncIterator[PtbBot]:
    bot = PtbBot(TOKEN, base_url=f"{tg.base_url}/bot", base_file_url=f"{tg.base_url}/file/bot")
    async with bot:
        yield bot


@pytest.fixture
async def api(tg: FakeTelegram) -> AsyncIterator[CallApi]:
    """Call the fake with a hand-made body in one of the encodings Telegram accepts."""
    async with aiohttp.ClientSession() as session:

        async def call(method: str, encoding: str = "json", **params: Any) -> tuple[int, Any]:
            url = tg.api_url(method)
            if encoding == "json":
                request = session.post(url, json=params)
            else:
                fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
                form = aiohttp.FormData(fields, default_to_multipart=encoding == "multipart")
                request = session.post(url, data=form)
            async with request as response:
                return response.status, await response.json()

        yield call


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run an aiohttp app, such as a bot's webhook, on a free 127.0.0.1 port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def offer_keyboard() -> AiogramKeyboard:
    return AiogramKeyboard(
        inline_keyboard=[
            [AiogramButton(text="Claim sample", callback_data="offer:7:claim")],
            [AiogramButton(text="Details", url="https://example.com/offers/7")],
        ]
    )


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- aiogram -----------------------------------------------------------------------------


async def test_aiogram_sends_and_edits_an_offer_and_learns_when_nothing_changed(
    tg: FakeTelegram, aiogram_bot: AiogramBot
) -> None:
    ana = tg.user(ANA, "Ana")

    sent = await aiogram_bot.send_message(
        ANA, "<b>New offer</b>: desk lamp", parse_mode="HTML", reply_markup=offer_keyboard()
    )
    edited = await aiogram_bot.edit_message_text(
        "<b>New offer</b>: desk lamp (2 left)",
        chat_id=ANA,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=offer_keyboard(),
    )
    with pytest.raises(TelegramBadRequest, match=NOT_MODIFIED):
        await aiogram_bot.edit_message_text(
            "<b>New offer</b>: desk lamp (2 left)",
            chat_id=ANA,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=offer_keyboard(),
        )

    assert isinstance(edited, AiogramMessage)
    assert edited.edit_date is not None
    assert edited.entities is not None
    assert edited.entities[0].type == "bold"
    message = ana.last
    assert message is not None
    assert message.message_id == sent.message_id
    assert message.text == "New offer: desk lamp (2 left)"
    assert [version.text for version in message.edits] == ["New offer: desk lamp"]
    assert ana.buttons() == ["Claim sample", "Details"]
    assert [call.status for call in tg.calls_to("editMessageText")] == [200, 400]


async def test_aiogram_meets_forbidden_chat_not_found_and_flood_control(
    tg: FakeTelegram, aiogram_bot: AiogramBot
) -> None:
    tg.user(ANA)
    tg.user(BEN)
    tg.user(CARLA, "Carla", started=False)
    tg.block(BEN)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aiogram_bot.send_message(BEN, "Your sample shipped")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await aiogram_bot.send_message(CARLA, "Hi, want a free lamp?")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await aiogram_bot.send_message(777, "Hello?")

    tg.limit(per_chat_per_second=1)
    await aiogram_bot.send_message(ANA, "one")
    with pytest.raises(TelegramRetryAfter) as flood:
        await aiogram_bot.send_message(ANA, "two")

    assert flood.value.retry_after == 1
    assert tg.throttled == 1
    assert tg.pending_updates[0]["my_chat_member"]["new_chat_member"]["status"] == "kicked"


async def test_aiogram_uploads_a_photo_as_multipart_and_downloads_it_back(
    tg: FakeTelegram, aiogram_bot: AiogramBot
) -> None:
    ana = tg.user(ANA)
    png = (await ana.send_photo()).payload["photo"][-1]

    sent = await aiogram_bot.send_photo(
        ANA, BufferedInputFile(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "label.png"), caption="Label"
    )
    again = await aiogram_bot.send_photo(ANA, sent.photo[-1].file_id, caption="Label again")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await aiogram_bot.send_photo(ANA, BufferedInputFile(b"not an image", "x.png"))
    downloaded = await aiogram_bot.download(png["file_id"])

    assert again.photo is not None
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    assert downloaded is not None
    assert downloaded.read().startswith(b"\x89PNG")
    assert [m.caption for m in ana.messages] == ["Label", "Label again"]


async def test_aiogram_dispatcher_answers_a_message_and_a_button_press_by_polling(
    tg: FakeTelegram, aiogram_bot: AiogramBot
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def offer_on_request(message: AiogramMessage) -> None:
        await message.answer(f"Offer for {message.text}", reply_markup=offer_keyboard())

    @dispatcher.callback_query(F.data == "offer:7:claim")
    async def claim(query: AiogramCallbackQuery) -> None:
        await query.answer("Sample claimed")
        assert isinstance(query.message, AiogramMessage)
        await query.message.edit_text("Claimed ✅")

    polling = asyncio.create_task(
        dispatcher.start_polling(
            aiogram_bot, polling_timeout=1, handle_signals=False, close_bot_session=False
        )
    )
    try:
        ana = tg.user(ANA, "Ana")
        await ana.send_text("lamps")
        offer = await ana.wait_for_text("Offer for lamps")
        query_id = await ana.press("Claim")
        answer = await ana.wait_for_answer(query_id)
        claimed = await ana.wait_for_text("Claimed")
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)

    assert answer.text == "Sample claimed"
    assert answer.delay < 1
    assert claimed.message_id == offer.message_id
    assert claimed.buttons == []
    assert tg.unanswered_callbacks == []
    polls = tg.calls_to("getUpdates")
    assert sorted(json.loads(polls[0].params["allowed_updates"])) == ["callback_query", "message"]


async def test_aiogram_webhook_handler_replies_inside_the_webhook_response(
    tg: FakeTelegram, aiogram_bot: AiogramBot
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.text == "/start")
    async def welcome(message: AiogramMessage) -> Any:
        return message.answer("Welcome to the sample marketplace")

    app = web.Application()
    SimpleRequestHandler(dispatcher, aiogram_bot, handle_in_background=False).register(
        app, path="/telegram"
    )
    async with serve(app) as base:
        await aiogram_bot.set_webhook(f"{base}/telegram")
        await tg.user(ANA).send_command("start")
        welcome_text = await tg.user(ANA).wait_for_text("Welcome")

    assert welcome_text.text == "Welcome to the sample marketplace"
    assert [call.via for call in tg.calls_to("sendMessage")] == ["webhook reply"]


# --- python-telegram-bot -----------------------------------------------------------------


# PTB 22 warns about retry_after turning into a timedelta, on its own when it raises RetryAfter.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_bot_sees_bad_request_forbidden_and_retry_after(
    tg: FakeTelegram, ptb_bot: PtbBot
) -> None:
    tg.user(ANA)
    tg.user(BEN)
    tg.deactivate(BEN)
    keyboard = PtbKeyboard([[PtbButton("Claim sample", callback_data="offer:7:claim")]])

    sent = await ptb_bot.send_message(ANA, "Desk lamp", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=NOT_MODIFIED):
        await ptb_bot.edit_message_text(
            "Desk lamp", chat_id=ANA, message_id=sent.message_id, reply_markup=keyboard
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await ptb_bot.edit_message_text("Desk lamp", chat_id=ANA, message_id=999)
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await ptb_bot.send_message(BEN, "Your sample shipped")
    tg.inject_error("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await ptb_bot.send_message(ANA, "Another lamp")
    removed = await ptb_bot.edit_message_reply_markup(ANA, sent.message_id, reply_markup=None)

    assert retry_after_seconds(flood.value) == 7
    assert removed is not True
    assert removed.reply_markup is None
    assert tg.user(ANA).buttons() == []
    assert tg.throttled == 1


async def test_ptb_application_answers_a_command_by_polling(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Hello, args={context.args}")

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{tg.base_url}/bot")
        .base_file_url(f"{tg.base_url}/file/bot")
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    ana = tg.user(ANA, "Ana")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1, poll_interval=0)
        try:
            await ana.send_command("/start", args="ref_42")
            reply = await ana.wait_for_text("Hello")
        finally:
            await application.updater.stop()
            await application.stop()

    assert reply.text == "Hello, args=['ref_42']"
    assert tg.pending_updates == []  # PTB confirmed what it fetched on the way out
    assert tg.calls_to("deleteWebhook")[0].ok  # PTB's polling starts by removing a webhook


# --- webhooks ----------------------------------------------------------------------------


async def test_webhook_gets_updates_with_the_secret_retried_after_500_and_duplicated(
    tg: FakeTelegram, aiogram_bot: AiogramBot
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    four_arrived = asyncio.Event()

    async def endpoint(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        if len(received) == 4:
            four_arrived.set()
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    async with serve(app) as base:
        assert await aiogram_bot.set_webhook(f"{base}/hook", secret_token="s3cret_-Token")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await aiogram_bot.get_updates()
        ana = tg.user(ANA)
        await ana.send_text("first")
        tg.deliver_next_twice()
        await ana.send_text("second")
        await asyncio.wait_for(four_arrived.wait(), 5)
        info = await aiogram_bot.get_webhook_info()

    assert {secret for secret, _ in received} == {"s3cret_-Token"}
    update_ids = [update["update_id"] for _, update in received]
    assert update_ids[0] == update_ids[1] < update_ids[2] == update_ids[3]
    assert [update["message"]["text"] for _, update in received] == [
        "first",
        "first",
        "second",
        "second",
    ]
    assert [d.status for d in tg.webhook_deliveries] == [500, 200, 200, 200]
    assert info.url.endswith("/hook")
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_webhook_can_be_set_once_a_second_and_deleted(
    api: CallApi,
) -> None:
    first = await api("setWebhook", url="http://127.0.0.1:9/hook")
    too_soon = await api("setWebhook", url="http://127.0.0.1:9/other")
    deleted = await api("deleteWebhook", drop_pending_updates=True)
    again = await api("deleteWebhook")

    assert first[1] == {"ok": True, "result": True, "description": "Webhook was set"}
    assert too_soon[0] == 429
    assert too_soon[1]["parameters"] == {"retry_after": 1}
    assert deleted[1] == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert again[1]["description"] == "Webhook is already deleted"


@pytest.mark.parametrize(
    ("settings", "description"),
    [
        ({"secret_token": "no spaces"}, "secret token contains unallowed characters"),
        ({"secret_token": "s" * 257}, "secret token is too long"),
        ({"url": "ftp://127.0.0.1/hook"}, "invalid webhook URL specified"),
    ],
)
async def test_webhook_settings_are_checked_like_telegram_does(
    api: CallApi, settings: dict[str, str], description: str
) -> None:
    status, body = await api("setWebhook", **{"url": "http://127.0.0.1:9/hook", **settings})

    assert (status, body["description"]) == (400, f"Bad Request: {description}")


# --- updates by polling ------------------------------------------------------------------


async def test_long_poll_wakes_for_a_new_update_and_offset_confirms_older_ones(
    tg: FakeTelegram, api: CallApi
) -> None:
    ana = tg.user(ANA)
    await ana.send_text("one")

    _, first = await api("getUpdates", timeout=0)
    waiting = asyncio.create_task(
        api("getUpdates", offset=first["result"][0]["update_id"] + 1, timeout=5)
    )
    await asyncio.sleep(0.1)
    await ana.send_text("two")
    _, second = await asyncio.wait_for(waiting, 2)

    assert [u["message"]["text"] for u in second["result"]] == ["two"]
    assert [u["message"]["text"] for u in tg.pending_updates] == ["two"]
    assert second["result"][0]["update_id"] == first["result"][0]["update_id"] + 1


async def test_a_second_long_poll_ends_the_first_with_a_conflict(
    tg: FakeTelegram, api: CallApi
) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(api("getUpdates", timeout=1))

    status, body = await asyncio.wait_for(first, 2)
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second

    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_callback_data_may_take_64_bytes_but_not_65(
    tg: FakeTelegram, api: CallApi, encoding: str
) -> None:
    tg.user(ANA)

    def keyboard(data: str) -> dict[str, Any]:
        return {"inline_keyboard": [[{"text": "Claim", "callback_data": data}]]}

    fits = await api(
        "sendMessage", encoding, chat_id=ANA, text="x", reply_markup=keyboard("é" * 32)
    )
    too_long = await api(
        "sendMessage", encoding, chat_id=ANA, text="x", reply_markup=keyboard("a" * 65)
    )

    assert fits[0] == 200
    assert too_long == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"},
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_text_may_take_4096_characters_after_parsing_but_not_4097(
    tg: FakeTelegram, api: CallApi, encoding: str
) -> None:
    tg.user(ANA)

    fits = await api(
        "sendMessage", encoding, chat_id=ANA, text=f"<b>{'a' * 4096}</b>", parse_mode="HTML"
    )
    too_long = await api("sendMessage", encoding, chat_id=ANA, text="a" * 4097)

    assert fits[0] == 200
    assert too_long[1]["description"] == "Bad Request: message is too long"


@pytest.mark.parametrize(
    ("text", "parse_mode", "reason"),
    [
        (
            "<b>Order 12 approved",
            "HTML",
            'Can\'t find end tag corresponding to start tag "b"',
        ),
        (
            "<b>Order</i>",
            "HTML",
            'Unmatched end tag at byte offset 8, expected "</b>", found "</i>"',
        ),
        ("Free <br> shipping", "HTML", 'Unsupported start tag "br" at byte offset 5'),
        (
            "Price: 9.99",
            "MarkdownV2",
            "Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        ("*Order 12", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
    ],
)
async def test_badly_formatted_text_is_refused_with_telegrams_reason(
    tg: FakeTelegram,
    api: CallApi,
    text: str,
    parse_mode: str,
    reason: str,
) -> None:
    tg.user(ANA)

    status, body = await api("sendMessage", chat_id=ANA, text=text, parse_mode=parse_mode)

    assert (status, body["description"]) == (400, f"Bad Request: can't parse entities: {reason}")
    assert tg.user(ANA).messages == []


async def test_well_formatted_text_is_shown_without_its_markup(
    tg: FakeTelegram, api: CallApi
) -> None:
    ana = tg.user(ANA)

    await api("sendMessage", chat_id=ANA, text="Price: 9\\.99 *now*", parse_mode="MarkdownV2")
    await api("sendMessage", chat_id=ANA, text="A &lt;b&gt; &amp; <i>co</i>", parse_mode="HTML")

    assert [m.text for m in ana.messages] == ["Price: 9.99 now", "A <b> & co"]
    assert ana.messages[1].entities == [{"type": "italic", "offset": 8, "length": 2}]


async def test_parameters_of_the_wrong_type_or_shape_are_refused(
    tg: FakeTelegram, api: CallApi
) -> None:
    tg.user(ANA)
    text_button = {"inline_keyboard": [[{"text": "Just text"}]]}

    answers = [
        await api("sendMessage", chat_id=ANA, text={"not": "text"}),
        await api("sendMessage", chat_id=ANA, text="x", disable_notification="sometimes"),
        await api("getUpdates", limit="ten"),
        await api("sendMessage", chat_id=ANA, text="x", reply_markup=text_button),
        await api("sendMessage", chat_id=ANA, text="x", reply_markup="[1]"),
        await api("sendMessage", chat_id=ANA, text="   "),
        await api("sendMessage", text="x"),
        await api("sendMessage", chat_id=ANA, text="x", unknown_parameter=1),
    ]

    assert [description for _, description in _described(answers)] == [
        'Bad Request: field "text" must be of type String',
        'Bad Request: field "disable_notification" must be of type Boolean',
        'Bad Request: field "limit" must be a valid Number',
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard",
        "Bad Request: object expected as reply markup",
        "Bad Request: message text is empty",
        "Bad Request: chat_id is empty",
        None,
    ]


def _described(answers: list[tuple[int, Any]]) -> list[tuple[int, str | None]]:
    return [(status, body.get("description")) for status, body in answers]


async def test_wrong_token_and_unknown_method_are_refused(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{tg.base_url}/bot999:WRONG/getMe") as wrong_token:
            unauthorized = (wrong_token.status, await wrong_token.json())
        async with session.post(tg.api_url("sendTelepathy")) as unknown:
            not_found = (unknown.status, await unknown.json())

    assert unauthorized == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert not_found == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )


async def test_a_callback_query_can_be_answered_once_with_at_most_200_characters(
    tg: FakeTelegram, ptb_bot: PtbBot
) -> None:
    ana = tg.user(ANA)
    keyboard = PtbKeyboard([[PtbButton("Claim sample", callback_data="offer:7:claim")]])
    await ptb_bot.send_message(ANA, "Desk lamp", reply_markup=keyboard)
    query_id = await ana.press("Claim")

    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await ptb_bot.answer_callback_query(query_id, text="x" * 201)
    assert await ptb_bot.answer_callback_query(query_id, text="Claimed")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await ptb_bot.answer_callback_query(query_id, text="Claimed again")
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await ptb_bot.answer_callback_query("12345")

    assert [a.text for a in tg.answered_callbacks] == ["Claimed"]
    assert tg.pending_updates[-1]["callback_query"]["data"] == "offer:7:claim"


async def test_pressing_a_missing_button_lists_the_buttons_there_are(
    tg: FakeTelegram, ptb_bot: PtbBot
) -> None:
    ana = tg.user(ANA)
    keyboard = PtbKeyboard(
        [[PtbButton("Claim sample", callback_data="c"), PtbButton("Skip", callback_data="s")]]
    )
    await ptb_bot.send_message(ANA, "Desk lamp", reply_markup=keyboard)

    with pytest.raises(AssertionError, match=r"no button 'Order'.*\['Claim sample', 'Skip'\]"):
        await ana.press("Order")
    with pytest.raises(AssertionError, match=r"no matching message within 0\.2 s"):
        await ana.wait_for(lambda message: "never" in message.content, timeout=0.2)


async def test_commands_are_kept_per_scope_and_language(
    tg: FakeTelegram, aiogram_bot: AiogramBot, api: CallApi
) -> None:
    tg.user(ANA)

    await aiogram_bot.set_my_commands([BotCommand(command="offers", description="Open offers")])
    await aiogram_bot.set_my_commands(
        [BotCommand(command="orders", description="Meine Bestellungen")],
        scope=BotCommandScopeChat(chat_id=ANA),
        language_code="de",
    )
    german = await aiogram_bot.get_my_commands(
        scope=BotCommandScopeChat(chat_id=ANA), language_code="de"
    )
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await aiogram_bot.set_my_commands([BotCommand(command="Offers", description="x")])
    too_many = await api(
        "setMyCommands",
        commands=[{"command": f"c{i}", "description": "d"} for i in range(101)],
    )

    assert [c.command for c in german] == ["orders"]
    assert tg.commands == {
        ("default", ""): [{"command": "offers", "description": "Open offers"}],
        (f"chat:{ANA}", "de"): [{"command": "orders", "description": "Meine Bestellungen"}],
    }
    assert too_many[1]["description"] == "Bad Request: BOT_COMMANDS_TOO_MUCH"
