"""How each notice reads in chat: text and buttons, in the recipient's language.

The outbox stores ids only; here the dispatcher's notice becomes a message, looking up the
order, offer and product as they are now. Seller notices with the same digest key (new
applications for one offer) are sent as one message. An announcement reads the same for
every creator with the same language, so a batch of them (:class:`BatchAnnouncements`)
reads its broadcast once and builds each language's message once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from core.conversations.actions import Action
from core.conversations.i18n import N_, Translator, translator
from core.conversations.labels import REDO_REASONS, REJECTION_REASONS
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold, italic, link
from core.conversations.messages import Outbound
from core.domain.broadcasts import Broadcast, BroadcastState
from core.domain.errors import NotFound
from core.domain.members import Member
from core.notices import NoticeTemplate as T
from core.ports.repositories import OutboxEntry
from core.services import Actor, Marketplace, OrderView, offer_card, order_view
from core.services.broadcasts import announcement, announcements
from core.services.members import member_name

SYSTEM = Actor.system()
Button = Callable[..., Choice]
ENDED = N_("it ended")
END_REASONS = {
    "deadline": N_("the application deadline passed"),
    "slots_filled": N_("all samples were taken"),
    "closed": N_("you closed it"),
}


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


def _button(label: str, code: str, *ids: int) -> Choice:
    return Choice(label, action=Action(code, tuple(ids)))


class BatchAnnouncements:
    """The announcements of one batch of notices: each broadcast read once (:meth:`load`),
    and its message built once per language and shared by every recipient.

    A broadcast cancelled after the batch was loaded still reaches the rest of the batch,
    as notices a dispatcher holds are left to it when a broadcast is cancelled.
    """

    def __init__(self) -> None:
        self._broadcasts: dict[int, Broadcast | None] = {}
        self._messages: dict[tuple[int, str], Outbound | None] = {}

    async def load(self, mp: Marketplace, entries: Iterable[OutboxEntry]) -> None:
        """Read the broadcasts the announcements among ``entries`` are about."""
        wanted = {
            int(entry.params["broadcast_id"])
            for entry in entries
            if entry.template is T.ANNOUNCEMENT and "broadcast_id" in entry.params
        }
        self._broadcasts.update(await announcements(mp, wanted - self._broadcasts.keys()))

    def knows(self, broadcast_id: int) -> bool:
        return broadcast_id in self._broadcasts

    def message(self, broadcast_id: int, language: str) -> Outbound | None:
        """The announcement in ``language`` (``None`` when the broadcast is gone or
        cancelled); the broadcast must have been loaded."""
        key = (broadcast_id, language)
        if key not in self._messages:
            broadcast = self._broadcasts[broadcast_id]
            self._messages[key] = _announcement_or_none(translator(language), broadcast)
        return self._messages[key]


def _announcement_or_none(t: Translator, broadcast: Broadcast | None) -> Outbound | None:
    if broadcast is None or broadcast.state is BroadcastState.CANCELLED:
        return None  # a cancelled broadcast reaches nobody more
    return announcement_message(t, broadcast)


async def render_notice(
    mp: Marketplace,
    entries: Sequence[OutboxEntry],
    member: Member,
    *,
    batch: BatchAnnouncements | None = None,
) -> Outbound | None:
    """The message for one notice (or one digest of several); ``None`` when what it was about
    is gone, so there is nothing left to say. An announcement whose broadcast ``batch`` has
    loaded is taken from there."""
    entry = entries[0]
    params = entry.params
    if entry.template is T.ANNOUNCEMENT:
        broadcast_id = int(params["broadcast_id"])
        if batch is not None and batch.knows(broadcast_id):
            return batch.message(broadcast_id, member.language)
        broadcast = await announcement(mp, broadcast_id)
        return _announcement_or_none(translator(member.language), broadcast)
    t = translator(member.language)
    b = _button
    try:
        if "order_id" in params:
            view = await order_view(mp, SYSTEM, int(params["order_id"]))
            return await _order_notice(mp, t, b, entry.template, view, entries)
        if "offer_id" in params:
            card = await offer_card(mp, SYSTEM, int(params["offer_id"]))
            offer = card.offer
            assert offer.id is not None
            if entry.template is T.OFFER_ENDED:
                reason = t(END_REASONS.get(str(params.get("reason")), ENDED))
                return Outbound(
                    Markup.lines(
                        Markup.of(bold(card.product.title)),
                        t(
                            "The offer has ended: {reason}. {selected} of {slots} samples taken.",
                            reason=reason,
                            selected=offer.selected_count,
                            slots=offer.slots,
                        ),
                    ),
                    rows=((b(t("Open offer"), "sd", offer.id),),),
                )
            if entry.template is T.OFFER_INVITATION:
                return Outbound(
                    Markup.lines(t("A new offer for you:"), Markup.of(bold(card.product.title))),
                    rows=((b(t("View offer"), "o", offer.id),),),
                    image_url=card.product.image_url,
                )
    except NotFound:
        return None
    return None


def announcement_message(t: Translator, broadcast: Broadcast) -> Outbound:
    """A broadcast as creators see it: the operator's text, its image and link button. The
    operator's preview is this same message."""
    rows: tuple[tuple[Choice, ...], ...] = ()
    if broadcast.link_url:
        rows = ((Choice(broadcast.link_label, url=broadcast.link_url),),)
    return Outbound(
        Markup.lines(
            Markup.of(bold(t("📣 Announcement"))),
            broadcast.text,
            Markup.of(italic(t("You can turn announcements off in /profile."))),
        ),
        rows=rows,
        image_url=broadcast.image_url,
    )


async def _order_notice(
    mp: Marketplace,
    t: Translator,
    b: Button,
    template: T,
    view: OrderView,
    entries: Sequence[OutboxEntry],
) -> Outbound | None:
    order, offer, product = view.order, view.offer, view.product
    assert order.id is not None
    oid = order.id
    number, title = order.number, product.title
    open_order = b(t("Open order"), "od", oid)
    if template is T.ORDER_SELECTED:
        return Outbound(
            Markup.lines(
                Markup.of("🎉 ", bold(t("You were selected for {title}!", title=title))),
                t("Order {number}. We will tell you when the sample ships.", number=number),
            ),
            rows=((open_order,),),
        )
    if template is T.ADDRESS_NEEDED:
        return Outbound(
            Markup.of(
                t(
                    "Please send your shipping address for {number} so the seller can ship.",
                    number=number,
                )
            ),
            rows=((b(t("🏠 Add address"), "ad", oid),),),
        )
    if template in (T.ORDER_NOT_SELECTED, T.OFFER_CLOSED):
        if template is T.OFFER_CLOSED:
            text = t(
                "The offer {title} has closed, so your application {number} ended. Other "
                "offers are waiting for you.",
                title=title,
                number=number,
            )
        else:
            reason = t(REJECTION_REASONS.get(order.reason, REJECTION_REASONS["other"]))
            text = t(
                "Thanks for applying to {title} ({number}). The seller chose other creators "
                "this time: {reason}.",
                title=title,
                number=number,
                reason=reason,
            )
        return Outbound(Markup.of(text), rows=((b(t("🛍 Offers"), "h", 1),),))
    if template is T.ORDER_SHIPPED and order.shipment is not None:
        shipment = order.shipment
        rows: list[tuple[Choice, ...]] = []
        if shipment.tracking_url:
            rows.append((Choice(t("Track parcel"), url=shipment.tracking_url),))
        rows.append((open_order,))
        return Outbound(
            Markup.lines(
                Markup.of("📦 ", bold(t("Your sample for {number} is on its way.", number=number))),
                t(
                    "{title} — {carrier}, tracking {tracking}.",
                    title=title,
                    carrier=shipment.carrier,
                    tracking=shipment.tracking_number,
                ),
                t(
                    "Post your video on Amazon by {due} and paste the link here.",
                    due=_day(order.video_due_at),
                ),
            ),
            rows=tuple(rows),
        )
    if template in (T.VIDEO_OVERDUE, T.VIDEO_REMINDER):
        final = bool(entries[0].params.get("final"))
        head = t("Last reminder") if final else t("Reminder")
        return Outbound(
            Markup.lines(
                Markup.of("⏰ ", bold(head)),
                t(
                    "Your video for {number} ({title}) was due on {due}. Please post it on Amazon "
                    "and send the link.",
                    number=number,
                    title=title,
                    due=_day(order.video_due_at),
                ),
            ),
            rows=((b(t("🎬 Send video"), "sv", oid),),),
        )
    if template is T.REDO_REQUESTED and order.last_redo is not None:
        reasons = ", ".join(t(REDO_REASONS[r]) for r in sorted(order.last_redo.reasons))
        lines: list[Markup | str] = [
            Markup.of("↺ ", bold(t("Redo requested for {number}", number=number))),
            t("What to fix: {reasons}", reasons=reasons),
        ]
        if order.last_redo.note:
            lines.append(t("Seller's note: {note}", note=order.last_redo.note))
        return Outbound(Markup.lines(*lines), rows=((b(t("🎬 Send new video"), "sv", oid),),))
    if template is T.VIDEO_ACCEPTED:
        text = t("✅ The seller accepted your video for {number}. Thank you!", number=number)
        if offer.reward.has_fee and order.payment is None:
            text += " " + t("The fee will follow.")
        return Outbound(Markup.of(text), rows=((open_order,),))
    if template is T.PAYMENT_CONFIRMED and order.payment is not None:
        return Outbound(
            Markup.of(
                t(
                    "💰 Payment of {amount} for {number} was confirmed.",
                    amount=str(order.payment.amount),
                    number=number,
                )
            ),
            rows=((open_order,),),
        )
    if template is T.ORDER_CANCELLED:
        return Outbound(
            Markup.of(
                t(
                    "Order {number} ({title}) was cancelled by the seller: {reason}",
                    number=number,
                    title=title,
                    reason=order.reason,
                )
            )
        )
    return await _seller_notice(mp, t, b, template, view, entries)


async def _seller_notice(
    mp: Marketplace,
    t: Translator,
    b: Button,
    template: T,
    view: OrderView,
    entries: Sequence[OutboxEntry],
) -> Outbound | None:
    order, offer, product = view.order, view.offer, view.product
    assert order.id is not None
    assert offer.id is not None
    oid, title, number = order.id, product.title, order.number
    name = await member_name(mp, order.creator_id)
    if template is T.NEW_APPLICATION:
        count = len(entries)
        text = (
            t("{count} new applications for {title}.", count=count, title=title)
            if (count > 1)
            else t("{name} applied for {title} ({number}).", name=name, title=title, number=number)
        )
        return Outbound(Markup.of(text), rows=((b(t("Review applications"), "ap", offer.id, 1),),))
    if template is T.READY_TO_SHIP:
        return Outbound(
            Markup.of(
                t(
                    "📦 {number} for {title} is ready to ship to {name}.",
                    number=number,
                    title=title,
                    name=name,
                )
            ),
            rows=((b(t("Enter tracking"), "tr", oid),),),
        )
    if template in (T.VIDEO_SUBMITTED, T.VIDEO_RESUBMITTED):
        head = t("New video after the redo") if template is T.VIDEO_RESUBMITTED else t("New video")
        url = order.video.url if order.video else ""
        lines: list[Markup | str] = [
            Markup.of("🎬 ", bold(head), f" · {number} · {name}"),
            title,
        ]
        if url:
            lines.append(Markup.of(link(url, url)))
        buttons = [b(t("✓ Accept"), "va", oid), b(t("↺ Request redo"), "rd", oid)]
        return Outbound(
            Markup.lines(*lines), rows=(tuple(buttons), (b(t("Open order"), "od", oid),))
        )
    if template is T.CREATOR_WITHDREW:
        text = t("{name} withdrew from {title} ({number}).", name=name, title=title, number=number)
        if entries[0].params.get("was_selected"):
            text += " " + t("Their sample is free again.")
        return Outbound(Markup.of(text), rows=((b(t("Open offer"), "sd", offer.id),),))
    return None
