"""An operator's announcement in Telegram, end to end, through the real client libraries
(aiogram and python-telegram-bot) and the strict fake Bot API: /broadcast composed in chat,
the audience picked and counted, the notices expanded and delivered by the process's own
dispatcher, the progress message refreshed up to the final report, and a running broadcast
cancelled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core import services as s
from core.domain.broadcasts import BroadcastState
from core.domain.common import Platform
from core.services import Actor
from core.services.broadcasts import BroadcastProgress, broadcast_progress
from notifications.broadcasts import expand_due_broadcasts, finish_broadcasts
from tests.e2e.telegram_bot import RunningBot, running_bot
from tests.e2e.telegram_fake import BotMessage, FakeUser

pytestmark = pytest.mark.parametrize("driver", ["aiogram", "ptb"])

SYSTEM = Actor.system()
OPERATOR = 7001
TEXT = "Summer sale week: new offers every day!"


async def creator(
    bot: RunningBot, user_id: int, name: str, country: str, *, opted_out: bool = False
) -> FakeUser:
    """A creator who finished onboarding earlier, with a private chat with the bot."""
    user = bot.tg.user(user_id, name)
    member = await s.register_identity(bot.mp, Platform.TELEGRAM, str(user_id), str(user_id), name)
    changes = s.ProfileChanges(
        country=country, announcements_opt_out=opted_out, finish_onboarding=True
    )
    await s.update_profile(bot.mp, Actor.member(member.id or 0), changes)
    return user


async def compose(op: FakeUser, country: str) -> BotMessage:
    """/broadcast in chat up to the review; returns the message with Send now on it."""
    await op.send_command("/broadcast")
    await op.wait_for_text("Send the text of the announcement")
    await op.send_text(TEXT)
    await op.wait_for_text("address of an image")
    await op.press("Skip")
    await op.wait_for_text("button with a link")
    await op.send_text("See offers https://example.com/offers")
    await op.wait_for_text("Who should get it?")
    await op.press("By country")
    await op.wait_for_text("Creators in which country?")
    await op.press(country)
    return await op.wait_for(
        lambda m: "Send now" in " ".join(m.buttons), description="the Send now button"
    )


async def progress_when(
    bot: RunningBot,
    broadcast_id: int,
    done: Callable[[BroadcastProgress], bool],
    timeout: float = 10,  # noqa: ASYNC109 — the assertion's deadline
) -> BroadcastProgress:
    """The broadcast's progress once ``done`` holds (the dispatcher runs on its own)."""
    deadline = time.monotonic() + timeout
    while True:
        progress = await broadcast_progress(bot.mp, SYSTEM, broadcast_id)
        if done(progress):
            return progress
        if time.monotonic() > deadline:
            raise AssertionError(f"not there after {timeout} s: {progress}")
        await asyncio.sleep(0.05)


def announcements(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.messages if TEXT in m.content]


async def test_an_operator_broadcasts_to_a_country_and_follows_it_to_the_report(
    tmp_path: Path, driver: str
) -> None:
    # Expansion and the report are driven by hand: no scheduler round may run them first.
    async with running_bot(tmp_path, driver, scheduler_enabled=False) as bot:
        await s.add_operator(bot.mp, SYSTEM, f"telegram:{OPERATOR}")
        op = bot.tg.user(OPERATOR, "Olga")
        ana = await creator(bot, 8001, "Ana", "US")
        ben = await creator(bot, 8002, "Ben", "US")
        blocked = await creator(bot, 8003, "Eli", "US")
        dee = await creator(bot, 8004, "Dee", "US", opted_out=True)
        cleo = await creator(bot, 8005, "Cleo", "DE")
        bot.tg.block(blocked.id)

        review = await compose(op, "US")
        count = await op.wait_for_text("This announcement goes to", timeout=1)
        assert "goes to 3 creators: creators in US" in count.content
        preview = next(m for m in op.messages if TEXT in m.content)
        assert preview.buttons == ["See offers"]
        await op.press("Send now", review)
        progress = await op.wait_for_text("📣 Announcement #")
        assert progress.message_id == review.message_id  # the review became the progress
        broadcast_id = int(progress.content.split("#")[1].split()[0])

        assert await expand_due_broadcasts(bot.mp) == 3
        await ana.wait_for_text(TEXT)
        await ben.wait_for_text(TEXT)
        report = await progress_when(bot, broadcast_id, lambda p: p.pending == 0)
        assert await finish_broadcasts(bot.mp) == 1
        await op.press("Refresh", progress)
        done = await op.wait_for_text("· done")

        assert done.message_id == progress.message_id  # edited in place
        assert "Recipients: 3 · sent: 2 · failed: 0 · unreachable: 1 · waiting: 0" in done.content
        assert (report.sent, report.unreachable, report.failed) == (2, 1, 0)
        [delivered] = announcements(ana)
        assert "See offers" in delivered.buttons
        assert announcements(dee) == []
        assert announcements(cleo) == []
        assert announcements(blocked) == []


async def test_a_running_broadcast_is_cancelled_and_the_rest_get_nothing(
    tmp_path: Path, driver: str
) -> None:
    # Expansion is driven by hand here: the scheduler's round (every 5 s) must not start
    # the rest of the broadcast before the operator cancels it.
    async with running_bot(tmp_path, driver, scheduler_enabled=False) as bot:
        await s.add_operator(bot.mp, SYSTEM, f"telegram:{OPERATOR}")
        op = bot.tg.user(OPERATOR, "Olga")
        first = await creator(bot, 8101, "Ana", "GB")
        rest = [await creator(bot, 8102 + n, f"C{n}", "GB") for n in range(3)]

        review = await compose(op, "GB")
        await op.press("Send now", review)
        progress = await op.wait_for_text("📣 Announcement #")
        broadcast_id = int(progress.content.split("#")[1].split()[0])
        # The first batch only, as if the rest were still to come.
        assert await expand_due_broadcasts(bot.mp, batch=1, max_batches=1) == 1
        await first.wait_for_text(TEXT)
        await progress_when(bot, broadcast_id, lambda p: p.sent == 1)

        await op.press("Cancel broadcast", progress)
        await op.wait_for_text("Creators who have not got it yet will not get it")
        await op.press("Yes, stop it")
        stopped = await op.wait_for_text("· cancelled")
        assert await expand_due_broadcasts(bot.mp) == 0
        await asyncio.sleep(0.3)  # a few dispatcher rounds

        assert "sent: 1" in stopped.content
        assert "Did not get it (cancelled): 3" in stopped.content
        assert all(announcements(user) == [] for user in rest)
        final = await broadcast_progress(bot.mp, SYSTEM, broadcast_id)
        assert final.broadcast.state is BroadcastState.CANCELLED
        assert (final.sent, final.not_sent) == (1, 3)
