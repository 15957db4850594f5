"""/broadcast and /broadcasts in chat, driven as an operator drives them: typed answers and
presses of the buttons the bot sent."""

from __future__ import annotations

import pytest

from core import services as s
from core.conversations.screens import broadcast
from core.domain.broadcasts import BroadcastState
from core.domain.common import Platform
from notifications.broadcasts import expand_due_broadcasts, finish_broadcasts
from tests.unit.chat import ChatUser, engine_for
from tests.unit.test_broadcasts import Inbox, deliver_all, dispatcher
from tests.unit.world import World

# Imported by name so that the screen is registered even where a run narrows the modules.
SCREENS = (broadcast,)
OPERATOR = "9001"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLABBOT_TIMEZONE", raising=False)


class Desk:
    """An operator in a private chat, and three creators: two in the US, one in Germany."""

    async def setup(self, language: str = "en") -> Desk:
        self.w = World()
        await s.add_operator(self.w.mp, self.w.system, f"telegram:{OPERATOR}")
        self.engine = engine_for(self.w)
        self.op = ChatUser(self.engine, OPERATOR, "Olga", language_code=language)
        self.ana = await self.w.creator("Ana", country="US")
        self.ben = await self.w.creator("Ben", country="US", top=True)
        self.cleo = await self.w.creator("Cleo", country="DE")
        return self

    def chat(self, name: str) -> str:
        member = self.w.member(getattr(self, name))
        return member.delivery_order()[0].chat_id

    async def compose(self, text: str = "Summer sale!\nNew offers every day.") -> None:
        await self.op.command("broadcast")
        await self.op.say(text)
        await self.op.press("Skip")
        await self.op.say("See offers https://example.com/offers")

    def stored(self) -> list[int]:
        return sorted(self.w.store.broadcasts)


@pytest.fixture
async def desk() -> Desk:
    return await Desk().setup()


async def test_an_operator_composes_sees_the_count_and_preview_and_sends(desk: Desk) -> None:
    op = desk.op
    await op.command("broadcast")
    assert "Send the text of the announcement" in op.last_text
    await op.say("Summer sale!\nNew offers every day.")
    assert "address of an image" in op.last_text
    await op.say("https://images.example.com/sale.jpg")
    assert "button with a link" in op.last_text
    await op.say("See offers\nhttps://example.com/offers")
    assert "Who should get it?" in op.last_text
    assert op.labels()[:7] == [
        "All creators",
        "By channel",
        "By category",
        "By country",
        "By language",
        "Applicants of an offer",
        "Top Creators",
    ]
    await op.press("By country")
    replies = await op.press("US")

    summary, preview, decision = replies
    assert "goes to 2 creators: creators in US" in summary.text.plain()
    assert "Summer sale!\nNew offers every day." in preview.text.plain()
    assert preview.image_url == "https://images.example.com/sale.jpg"
    assert [(c.label, c.url) for row in preview.rows for c in row] == [
        ("See offers", "https://example.com/offers")
    ]
    assert op.labels(decision) == ["🚀 Send now", "🕒 Schedule", "👥 Change audience", "✖ Cancel"]

    [progress] = await op.press("Send now")

    [broadcast_id] = desk.stored()
    assert progress.edit
    assert f"Announcement #{broadcast_id}" in progress.text.plain()
    assert "Recipients: 2" in progress.text.plain()
    assert op.labels(progress) == ["↻ Refresh", "✖ Cancel broadcast"]
    assert desk.w.store.broadcasts[broadcast_id].state is BroadcastState.SCHEDULED


async def test_refresh_redraws_the_progress_in_place_up_to_the_final_report(desk: Desk) -> None:
    inbox = Inbox()
    await deliver_all(dispatcher(desk.w, inbox))
    await desk.compose()
    await desk.op.press("All creators")
    await desk.op.press("Send now")
    inbox.blocked.add(desk.chat("cleo"))

    await expand_due_broadcasts(desk.w.mp)
    [sending] = await desk.op.press("Refresh")
    await deliver_all(dispatcher(desk.w, inbox))
    await finish_broadcasts(desk.w.mp)
    [done] = await desk.op.press("Refresh")

    assert sending.edit
    assert done.edit
    assert "sending" in sending.text.plain()
    assert "waiting: 3" in sending.text.plain()
    assert "· done" in done.text.plain()
    assert "Recipients: 3 · sent: 2 · failed: 0 · unreachable: 1 · waiting: 0" in done.text.plain()
    assert desk.op.labels(done) == ["↻ Refresh", "📣 Announcements"]
    assert any("Summer sale!" in text for text in inbox.texts(desk.chat("ana")))


async def test_a_running_broadcast_is_cancelled_from_its_progress_message(desk: Desk) -> None:
    await desk.compose()
    await desk.op.press("Top Creators")
    await desk.op.press("Send now")

    [ask] = await desk.op.press("Cancel broadcast")
    assert ask.edit
    assert "Creators who have not got it yet will not get it" in ask.text.plain()
    [kept] = await desk.op.press("No, keep it")
    assert "scheduled" in kept.text.plain()
    await desk.op.press("Cancel broadcast")
    [stopped] = await desk.op.press("Yes, stop it")

    [broadcast_id] = desk.stored()
    assert "· cancelled" in stopped.text.plain()
    assert stopped.toast == f"Announcement #{broadcast_id} is stopped."
    assert desk.w.store.broadcasts[broadcast_id].state is BroadcastState.CANCELLED
    assert await expand_due_broadcasts(desk.w.mp) == 0


async def test_an_announcement_is_scheduled_for_a_time_typed_in_the_timezone(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABBOT_TIMEZONE", "Asia/Shanghai")
    await desk.compose()
    await desk.op.press("All creators")
    await desk.op.press("Schedule")
    assert "Asia/Shanghai" in desk.op.last_text

    await desk.op.say("yesterday")
    assert "⚠️ Send the time as YYYY-MM-DD HH:MM" in desk.op.last_text
    await desk.op.say("2026-03-02 10:00")
    assert "⚠️ That time has passed" in desk.op.last_text
    [progress] = await desk.op.say("2026-03-02 20:00")

    assert "Goes out at 2026-03-02 20:00 (Asia/Shanghai)." in progress.text.plain()
    [broadcast_id] = desk.stored()
    stored = desk.w.store.broadcasts[broadcast_id]
    assert stored.scheduled_at is not None
    assert stored.scheduled_at.hour == 12  # UTC


async def test_bad_answers_are_explained_and_asked_again(desk: Desk) -> None:
    op = desk.op
    await op.command("broadcast")
    await op.say("Hello creators")
    await op.say("ftp://example.com/a.jpg")
    assert "⚠️ The image must be the https:// address of a picture." in op.last_text
    await op.press("Skip")
    await op.say("Shop http://example.com")
    assert "⚠️ The link must start with https://" in op.last_text
    await op.say("https://example.com")
    assert "⚠️ A link button needs both a label and a URL." in op.last_text
    await op.press("Skip")
    await op.say("everyone")
    assert "⚠️ Please choose one of the buttons." in op.last_text
    await op.press("Applicants of an offer")
    await op.say("the first one")
    assert "⚠️ Send the offer number, e.g. 12." in op.last_text
    await op.say("999")
    assert "⚠️ Unknown offer." in op.last_text
    await op.press("Cancel")
    assert desk.stored() == []


async def test_an_audience_that_reaches_nobody_cannot_be_sent(desk: Desk) -> None:
    await desk.compose()
    await desk.op.press("By country")
    await desk.op.say("fr")

    assert "No creator matches creators in FR right now" in desk.op.last_text
    assert desk.op.labels() == ["👥 Change audience", "✖ Cancel"]
    await desk.op.press("Change audience")
    await desk.op.press("By channel")
    await desk.op.press("Telegram")
    assert "goes to 3 creators: creators on Telegram" in desk.op.history[-3].text.plain()


async def test_audiences_by_category_and_language_are_picked_or_typed(desk: Desk) -> None:
    await desk.compose()
    await desk.op.press("By category")
    await desk.op.press("Beauty")
    assert "goes to 3 creators: creators in Beauty" in desk.op.history[-3].text.plain()
    await desk.op.press("Change audience")
    await desk.op.press("By language")
    await desk.op.say("ES")
    assert "No creator matches creators who speak es" in desk.op.last_text


async def test_the_list_shows_recent_announcements_and_opens_one(desk: Desk) -> None:
    [empty] = await desk.op.command("broadcasts")
    assert "No announcements yet" in empty.text.plain()
    await desk.compose("First news")
    await desk.op.press("All creators")
    await desk.op.press("Send now")

    [listing] = await desk.op.command("broadcasts")
    [broadcast_id] = desk.stored()
    assert f"#{broadcast_id} · scheduled · all creators" in listing.text.plain()
    assert "“First news”" in listing.text.plain()
    [opened] = await desk.op.press(f"#{broadcast_id} · scheduled")
    assert f"Announcement #{broadcast_id}" in opened.text.plain()


async def test_creators_cannot_broadcast(desk: Desk) -> None:
    creator = ChatUser(desk.engine, "1001", "Ana")
    await creator.command("broadcast")
    assert "This command is not available to you." in creator.last_text
    await creator.command("broadcasts")
    assert "This command is not available to you." in creator.last_text


async def test_a_chinese_operator_is_asked_in_chinese() -> None:
    desk = await Desk().setup(language="zh")
    member = await s.find_member(desk.w.mp, Platform.TELEGRAM, OPERATOR)
    assert member is not None
    desk.w.store.members[member.id or 0].language = "zh"

    await desk.op.command("broadcast")

    assert any("\u4e00" <= c <= "\u9fff" for c in desk.op.last_text)
