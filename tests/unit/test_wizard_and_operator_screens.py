"""The offer wizard and the operators' commands, driven through the conversation engine the
way a chat app drives it: commands, typed text and presses of the buttons the bot sent."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from core import services as s
from core.conversations.actions import Action, ActionCodec
from core.conversations.engine import ConversationEngine
from core.conversations.layout import Choice
from core.conversations.messages import Inbound, InboundKind, Outbound
from core.conversations.screens import offer_wizard, operator
from core.domain.common import Money, Platform
from core.domain.members import MemberStatus
from core.domain.offers import OfferState, RewardKind, SelectionMode, VideoType
from core.services import Actor
from storage.kv.memory import MemoryKeyValueStore
from tests.unit.world import START, World

# Imported by name so that these screens are registered even where a test run narrows
# ``screens.MODULES``.
SCREENS = (offer_wizard, operator)
_event_ids = itertools.count(1)
OOPS = "Something went wrong"


@dataclass
class Chat:
    """One person's private chat with the bot."""

    engine: ConversationEngine
    codec: ActionCodec
    user_id: str
    replies: list[Outbound] = field(default_factory=list)

    async def _send(self, kind: InboundKind, **fields: str) -> list[Outbound]:
        inbound = Inbound(
            platform=Platform.TELEGRAM,
            user_id=self.user_id,
            chat_id=self.user_id,
            event_id=str(next(_event_ids)),
            kind=kind,
            display_name="Someone",
            language_code="en",
            message_id="42",
            **fields,
        )
        self.replies = await self.engine.handle(inbound)
        assert self.replies, "the bot did not answer"
        assert OOPS not in self.text, "the screen failed"
        return self.replies

    async def command(self, line: str) -> list[Outbound]:
        name, _, args = line.lstrip("/").partition(" ")
        return await self._send(InboundKind.COMMAND, command=name, args=args, text=line)

    async def type(self, text: str) -> list[Outbound]:
        return await self._send(InboundKind.TEXT, text=text)

    @property
    def text(self) -> str:
        return "\n".join(reply.text.plain() for reply in self.replies)

    @property
    def buttons(self) -> list[Choice]:
        return [choice for reply in self.replies for row in reply.rows for choice in row]

    def button(self, label: str) -> Choice:
        exact = [c for c in self.buttons if c.label == label]
        found = exact or [c for c in self.buttons if label in c.label]
        assert len(found) == 1, f"no single {label!r} among {[c.label for c in self.buttons]}"
        return found[0]

    async def press(self, label: str) -> list[Outbound]:
        action = self.button(label).action
        assert action is not None
        return await self.send_action(action)

    async def send_action(self, action: Action) -> list[Outbound]:
        """A button press, also of a button this person was never shown."""
        return await self._send(InboundKind.ACTION, payload=await self.codec.encode(action))


class Bot:
    def __init__(self, w: World) -> None:
        kv = MemoryKeyValueStore()
        self.codec = ActionCodec(b"a-secret-for-the-tests", kv)
        self.engine = ConversationEngine(w.mp, MemoryKeyValueStore(), self.codec)
        self.w = w

    def chat(self, actor: Actor) -> Chat:
        identity = self.w.member(actor).identities[0]
        return Chat(self.engine, self.codec, identity.user_id)


TITLE = "Bamboo cutting board"


async def fill_wizard(chat: Chat, *, until: str = "preview") -> None:
    """Answer every question of the wizard with good answers, up to the step ``until``."""
    answers = [
        ("title", chat.type, TITLE),
        ("product", chat.type, "https://www.amazon.de/Bamboo-Board/dp/B0C7654321?ref=x"),
        ("marketplace", chat.press, "amazon.de"),
        ("category", chat.press, "Kitchen"),
        ("video_type", chat.press, "Amazon Influencer video (link)"),
        ("slots", chat.type, "5"),
        ("reward", chat.press, "Free product + a fee"),
        ("fee", chat.type, "25 USD"),
        ("flags", chat.press, "Landscape"),
        ("flags", chat.press, "Face visible"),
        ("flags", chat.press, "Done"),
        ("note", chat.type, "Show it cutting fresh bread."),
        ("selection", chat.press, "I pick"),
        ("audience", chat.press, "Everyone who fits"),
        ("deadline", chat.press, "14 days"),
        ("content_days", chat.press, "21 days"),
    ]
    for step, answer, value in answers:
        if step == until:
            return
        await answer(value)


async def seller_chat() -> tuple[World, Chat, int]:
    """A seller's staff member who just sent /newoffer."""
    w = World()
    seller_id, staff = await w.seller("Acme")
    chat = Bot(w).chat(staff)
    await chat.command("/newoffer")
    return w, chat, seller_id


# --- the wizard -----------------------------------------------------------------------------


async def test_a_seller_publishes_an_offer_that_creators_then_find_in_the_offer_hall() -> None:
    w, chat, seller_id = await seller_chat()
    creator = await w.creator("Ana")
    assert "new offer for Acme" in chat.text
    assert "What is the product called?" in chat.text

    await fill_wizard(chat)

    preview = chat.text
    assert "how creators will see your offer" in preview
    for shown in (
        TITLE,
        "Reward: free sample + 25.00 USD",
        "Video: Amazon Influencer video (link)",
        "Samples: 5 of 5 left",
        "Apply by: 2026-03-16",
        "Video due: 21 days after shipping",
        "landscape, face visible, at least 60 seconds",
        "Show it cutting fresh bread.",
        "View on Amazon",
        "B0C7654321 on amazon.de",
    ):
        assert shown in preview, shown

    await chat.press("Publish")

    [offer] = w.store.offers.values()
    assert offer.id is not None
    assert f"Offer #{offer.id} is live" in chat.text
    view = chat.button("View the offer").action
    assert view is not None
    assert (view.code, view.ids) == ("sd", (offer.id,))
    assert offer.state is OfferState.LIVE
    assert offer.seller_id == seller_id
    assert offer.video_type is VideoType.INFLUENCER
    assert offer.slots == 5
    assert offer.reward.kind is RewardKind.FEE
    assert offer.reward.fee == Money(Decimal("25.00"), "USD")
    assert offer.requirements.landscape
    assert offer.requirements.face_visible
    assert not offer.requirements.outdoor
    assert offer.requirements.text == "Show it cutting fresh bread."
    assert offer.selection is SelectionMode.SELLER
    assert offer.audience.public
    assert offer.application_deadline == START + timedelta(days=14)
    assert offer.content_deadline_days == 21
    product = w.store.products[offer.product_id]
    assert (product.title, product.asin, product.marketplace, product.category) == (
        TITLE,
        "B0C7654321",
        "amazon.de",
        "kitchen",
    )

    hall = await s.offer_hall(w.mp, creator)
    assert [card.offer.id for card in hall.cards] == [offer.id]


async def test_the_main_menu_button_starts_the_wizard() -> None:
    w = World()
    _, staff = await w.seller("Acme")
    chat = Bot(w).chat(staff)
    await chat.command("/start")

    await chat.press("New offer")

    assert "What is the product called?" in chat.text


async def test_bad_answers_are_explained_and_asked_again_without_losing_earlier_ones() -> None:
    w, chat, _ = await seller_chat()

    await chat.type("x" * 201)
    assert "too long" in chat.text
    await chat.type(TITLE)

    await chat.type("https://example.com/dp/B0C1234567")
    assert "Send the product's ASIN (10 letters and digits" in chat.text
    await chat.type("www.amazon.com/gp/product/b0c1234567/")
    assert "Which Amazon marketplace" in chat.text

    await chat.type("amazon.moon")
    assert "Unknown Amazon marketplace" in chat.text
    await chat.type("co.uk")

    await chat.type("cooking pots")
    assert "Unknown category" in chat.text
    await chat.type("Kitchen")

    await chat.type("the best one")
    assert "Please choose one of the buttons." in chat.text
    assert "Which kind of video" in chat.text
    await chat.press("Amateur video (file)")

    for bad in ("0", "lots", "10001"):
        await chat.type(bad)
        assert "number from 1 to 10,000" in chat.text
    await chat.type("1,000")

    await chat.press("Free product + a fee")
    await chat.type("25")
    assert "amount and a currency, e.g. 25 USD" in chat.text
    await chat.type("25 XYZ")
    assert "Unknown currency" in chat.text
    await chat.type("0 EUR")
    assert "above zero" in chat.text
    await chat.type("19,99 eur")

    await chat.type("landscape please")
    assert "Please choose one of the buttons." in chat.text
    await chat.press("Done")
    await chat.press("Skip")
    await chat.press("Automatic")

    await chat.press("Creators in some countries")
    await chat.type("USA, G")
    assert "two-letter country codes" in chat.text
    await chat.type("us, gb")

    await chat.type("2020-01-01")
    assert "in the past" in chat.text
    await chat.type("400")
    assert "between 1 and 365" in chat.text
    await chat.type("2026-04-30")

    await chat.type("0")
    assert "between 1 and 365" in chat.text
    await chat.type("10")

    preview = chat.text
    for kept in (
        TITLE,
        "B0C1234567 on amazon.co.uk",
        "Kitchen",
        "Amateur video (file)",
        "Samples: 1000 of 1000 left",
        "free sample + 19.99 EUR",
        "Apply by: 2026-04-30",
        "Video due: 10 days after shipping",
        "Selection: automatic",
        "creators in GB, US",
    ):
        assert kept in preview, kept
    await chat.press("Save as draft")
    [offer] = w.store.offers.values()
    assert offer.audience.countries == frozenset({"US", "GB"})
    assert offer.selection is SelectionMode.AUTO


async def test_a_draft_is_saved_but_not_shown_to_creators() -> None:
    w, chat, _ = await seller_chat()
    creator = await w.creator("Ana")
    await fill_wizard(chat)

    await chat.press("Save as draft")

    [offer] = w.store.offers.values()
    assert offer.state is OfferState.DRAFT
    assert f"offer #{offer.id}" in chat.text
    assert chat.button("View the offer").action is not None
    assert (await s.offer_hall(w.mp, creator)).cards == ()


async def test_a_product_without_asin_and_for_top_creators_only() -> None:
    w, chat, _ = await seller_chat()
    await chat.type(TITLE)
    await chat.press("Skip")
    await chat.press("amazon.com")
    await chat.press("Kitchen")
    await chat.press("Top Creator video (link)")
    await chat.type("3")
    await chat.press("Free product")
    assert "What must the video show?" in chat.text  # no question about a fee
    await chat.press("Done")
    await chat.type("skip")
    await chat.press("I pick")
    await chat.press("Top Creators only")
    assert "Until when may creators apply?" in chat.text  # no question about countries
    await chat.type("30 days")
    await chat.type("7d")
    assert "no ASIN on amazon.com" in chat.text
    assert "Who may claim it: Top Creators only" in chat.text

    await chat.press("Publish")

    [offer] = w.store.offers.values()
    assert offer.reward.kind is RewardKind.FREE_PRODUCT
    assert offer.audience.top_creators_only
    assert not offer.audience.public
    assert offer.requirements.text == ""
    assert w.store.products[offer.product_id].asin == ""


async def test_cancel_stops_the_wizard_and_saves_nothing() -> None:
    w, chat, _ = await seller_chat()
    await fill_wizard(chat, until="reward")

    await chat.press("Cancel")

    assert "Stopped. Nothing was saved." in chat.text
    assert w.store.offers == {}
    await chat.type("Free product")
    assert "did not understand" in chat.text


async def test_cancel_on_the_preview_and_a_late_press_of_publish() -> None:
    w, chat, _ = await seller_chat()
    await fill_wizard(chat)
    publish = chat.button("Publish").action
    assert publish is not None

    await chat.press("Cancel")
    await chat.send_action(publish)

    assert "expired" in chat.text
    assert w.store.offers == {}


async def test_start_over_asks_again_from_the_title() -> None:
    w, chat, _ = await seller_chat()
    await fill_wizard(chat)

    await chat.press("Start over")
    assert "What is the product called?" in chat.text
    await chat.type("Walnut serving tray")
    answers = [
        ("type", "B0C1111111"),
        ("press", "amazon.com"),
        ("press", "Home"),
        ("press", "Amateur video (file)"),
        ("type", "2"),
        ("press", "Free product"),
        ("press", "Done"),
        ("press", "Skip"),
        ("press", "I pick"),
        ("press", "Everyone who fits"),
        ("press", "7 days"),
        ("press", "14 days"),
    ]
    for how, value in answers:
        await (chat.type(value) if how == "type" else chat.press(value))
    assert "Walnut serving tray" in chat.text
    await chat.press("Publish")

    [offer] = w.store.offers.values()
    assert w.store.products[offer.product_id].title == "Walnut serving tray"


async def test_a_deadline_that_passed_while_the_preview_waited_is_asked_again() -> None:
    w, chat, _ = await seller_chat()
    await fill_wizard(chat, until="deadline")
    await chat.type("2026-03-05")
    await chat.press("14 days")
    assert "Apply by: 2026-03-05" in chat.text

    w.later(days=4)
    await chat.press("Publish")

    assert "in the past" in chat.text
    assert "Until when may creators apply?" in chat.text
    assert w.store.offers == {}
    await chat.press("7 days")
    assert "Apply by: 2026-03-13" in chat.text  # straight back to the preview
    await chat.press("Publish")
    [offer] = w.store.offers.values()
    assert offer.state is OfferState.LIVE


async def test_publish_pressed_twice_at_once_creates_one_offer() -> None:
    w, chat, _ = await seller_chat()
    await fill_wizard(chat)
    publish = chat.button("Publish").action
    assert publish is not None

    answers = await asyncio.gather(chat.send_action(publish), chat.send_action(publish))

    assert len(w.store.offers) == 1
    said = [" ".join(reply.text.plain() for reply in replies) for replies in answers]
    assert sum("is live" in text for text in said) == 1
    assert sum("expired" in text for text in said) == 1


async def test_someone_on_two_sellers_teams_chooses_the_seller_first() -> None:
    w = World()
    _, staff = await w.seller("Acme")
    second = await s.add_seller(w.mp, w.system, "Birch & Co")
    assert second.id is not None
    identity = w.member(staff).identities[0]
    await s.add_seller_staff(w.mp, w.system, second.id, f"telegram:{identity.user_id}")
    chat = Bot(w).chat(staff)

    await chat.command("/newoffer")
    assert "Which seller is this offer for?" in chat.text
    assert {c.label for c in chat.buttons} >= {"Acme", "Birch & Co"}

    await chat.press("Birch & Co")
    await fill_wizard(chat)
    await chat.press("Publish")

    [offer] = w.store.offers.values()
    assert offer.seller_id == second.id


async def test_an_operator_types_the_number_of_any_seller() -> None:
    w = World()
    seller_id, _ = await w.seller("Acme")
    operator = await w.operator()
    chat = Bot(w).chat(operator)

    await chat.command("/newoffer")
    assert "send the number of any seller" in chat.text
    await chat.type("Acme")
    assert "Send the seller's number" in chat.text
    await chat.type("9999")
    assert "That seller does not exist." in chat.text
    await chat.type(f"#{seller_id}")
    assert "What is the product called?" in chat.text
    await fill_wizard(chat)
    assert f"Seller: Acme (#{seller_id})" in chat.text
    await chat.press("Publish")

    [offer] = w.store.offers.values()
    assert offer.seller_id == seller_id


async def test_a_creator_cannot_post_offers_or_read_the_stats() -> None:
    w = World()
    creator = await w.creator("Ana")
    chat = Bot(w).chat(creator)

    for command in ("/newoffer", "/stats", "/verify 1", "/addstaff 1 telegram:5"):
        await chat.command(command)
        assert "This command is not available to you." in chat.text, command

    await chat.command("/start")
    assert not {"➕ New offer", "📊 Stats"} & {c.label for c in chat.buttons}


async def test_menu_buttons_pressed_by_a_creator_do_not_open_seller_or_operator_screens() -> None:
    w = World()
    creator = await w.creator("Ana")
    chat = Bot(w).chat(creator)

    await chat.send_action(Action("nw"))
    assert "This command is not available to you." in chat.text
    await chat.send_action(Action("st"))
    assert "Only marketplace operators can do this." in chat.text
    assert w.store.offers == {}


# --- operators ------------------------------------------------------------------------------


async def operator_chat() -> tuple[World, Chat]:
    w = World()
    operator = await w.operator()
    return w, Bot(w).chat(operator)


async def test_stats_show_creators_offers_orders_and_waiting_notices() -> None:
    w, chat = await operator_chat()
    seller_id, staff = await w.seller()
    ana = await w.creator("Ana", top=True)
    ben = await w.creator("Ben")
    await w.person("Cleo")
    live = await w.offer(seller_id)
    await w.offer(seller_id, publish=False)
    assert live.id is not None
    order = await s.claim_offer(w.mp, ana, live.id)
    await s.claim_offer(w.mp, ben, live.id)
    assert order.id is not None
    await s.approve_order(w.mp, staff, order.id)
    waiting = len(w.store.outbox)

    await chat.command("/stats")

    assert "Creators: 3 · onboarded 2 · Top Creators 1 · suspended 0" in chat.text
    assert "Offers: 2 (draft 1 · live 1)" in chat.text
    assert "Orders: 2 (matching 1 · selected – waiting for shipment 1)" in chat.text
    assert f"Notices waiting to be sent: {waiting}" in chat.text

    await s.suspend_creator(w.mp, w.system, ben.member_id or 0)
    await chat.press("Refresh")
    assert "suspended 1" in chat.text
    assert chat.replies[0].edit


async def test_the_main_menu_of_an_operator_leads_to_the_stats() -> None:
    _, chat = await operator_chat()
    await chat.command("/start")

    await chat.press("Stats")

    assert "Creators: 0" in chat.text


async def test_verify_and_unverify_a_creators_top_creator_badge() -> None:
    w, chat = await operator_chat()
    ana = await w.creator("Ana")
    number = ana.member_id

    await chat.command(f"/verify #{number}")
    assert f"Ana (#{number}) now has the Top Creator badge." in chat.text
    assert w.member(ana).creator.top_creator  # type: ignore[union-attr]

    await chat.command(f"/unverify {number}")
    assert f"Ana (#{number}) no longer has the Top Creator badge." in chat.text
    assert not w.member(ana).creator.top_creator  # type: ignore[union-attr]


async def test_suspend_and_unsuspend_a_creator() -> None:
    w, chat = await operator_chat()
    ana = await w.creator("Ana")
    number = ana.member_id

    await chat.command(f"/suspend {number}")
    assert "is suspended: they cannot claim new offers" in chat.text
    assert w.member(ana).status is MemberStatus.SUSPENDED

    await chat.command(f"/unsuspend {number}")
    assert f"Ana (#{number}) is active again." in chat.text
    assert w.member(ana).status is MemberStatus.ACTIVE


async def test_creator_commands_explain_their_usage_when_the_number_is_missing_or_wrong() -> None:
    w, chat = await operator_chat()
    await w.creator("Ana")

    for line in ("/verify", "/unverify Ana", "/suspend 12 13", "/unsuspend #"):
        await chat.command(line)
        command = line.split()[0]
        assert f"e.g. {command} 123" in chat.text, line
        assert "shown as #123" in chat.text

    await chat.command("/verify 9999")
    assert "There is no such creator." in chat.text
    _, staff = await w.seller()
    await chat.command(f"/suspend {staff.member_id}")  # seller staff are not creators
    assert "There is no such creator." in chat.text


async def test_add_staff_to_a_seller() -> None:
    w, chat = await operator_chat()
    seller_id, _ = await w.seller("Acme")

    for line in ("/addstaff", f"/addstaff {seller_id}", "/addstaff Acme telegram:5550001"):
        await chat.command(line)
        assert "e.g. /addstaff 12 telegram:123456" in chat.text, line
    await chat.command(f"/addstaff {seller_id} 5550001")
    assert "PLATFORM:USER_ID" in chat.text
    await chat.command("/addstaff 9999 telegram:5550001")
    assert "That seller does not exist." in chat.text

    await chat.command(f"/addstaff #{seller_id} telegram:5550001")

    member = await s.find_member(w.mp, Platform.TELEGRAM, "5550001")
    assert member is not None
    assert member.id in w.store.sellers[seller_id].staff
    assert f"member #{member.id}) to the team of Acme (#{seller_id})" in chat.text
    new_staff = Bot(w).chat(Actor.member(member.id or 0))
    await new_staff.command("/newoffer")
    assert "new offer for Acme" in new_staff.text
