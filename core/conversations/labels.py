"""Names of marketplace things (states, video types, reasons, categories) in every language."""

from __future__ import annotations

from core.conversations.i18n import N_, Translator
from core.domain.offers import VideoType
from core.domain.orders import RedoReason

ORDER_STATES = {
    "applied": N_("matching"),
    "awaiting_address": N_("selected – address needed"),
    "pending_shipment": N_("selected – waiting for shipment"),
    "shipped": N_("shipped"),
    "video_overdue": N_("video overdue"),
    "completed": N_("video submitted"),
    "redo_requested": N_("redo requested"),
    "paid": N_("done"),
    "rejected": N_("not selected"),
    "withdrawn": N_("withdrawn"),
    "cancelled": N_("cancelled"),
}

OFFER_STATES = {
    "draft": N_("draft"),
    "live": N_("live"),
    "paused": N_("paused"),
    "ended": N_("ended"),
    "cancelled": N_("cancelled"),
}

VIDEO_TYPES = {
    VideoType.INFLUENCER: N_("Amazon Influencer video (link)"),
    VideoType.INFLUENCER_WITH_FILE: N_("Amazon Influencer video (link + file)"),
    VideoType.AMATEUR_WITH_FILE: N_("Amateur video (file)"),
    VideoType.TOP_CREATOR: N_("Top Creator video (link)"),
    VideoType.TOP_CREATOR_WITH_FILE: N_("Top Creator video (link + file)"),
}

REDO_REASONS = {
    RedoReason.PORTRAIT: N_("Portrait instead of landscape"),
    RedoReason.BLURRY: N_("Blurry"),
    RedoReason.SHAKY: N_("Shaky"),
    RedoReason.TOO_SHORT: N_("Shorter than one minute"),
    RedoReason.NO_AUDIO: N_("No audio"),
    RedoReason.NOT_OUTDOORS: N_("Indoors where outdoors was asked"),
    RedoReason.CHILDREN_OR_PETS_MISSING: N_("Children or pets missing"),
    RedoReason.PRODUCT_NOT_CLEAR: N_("Product not shown clearly"),
    RedoReason.OTHER: N_("Other"),
}

REJECTION_REASONS = {
    "not_a_fit": N_("Not a fit for this product"),
    "profile_incomplete": N_("Profile incomplete"),
    "slots_filled": N_("All samples taken"),
    "offer_closed": N_("Offer closed"),
    "other": N_("Other"),
}

CATEGORY_NAMES = {
    "beauty": N_("Beauty"),
    "personal_care": N_("Personal care"),
    "health": N_("Health"),
    "baby": N_("Baby"),
    "kids": N_("Kids"),
    "toys": N_("Toys"),
    "pets": N_("Pets"),
    "home": N_("Home"),
    "kitchen": N_("Kitchen"),
    "garden": N_("Garden"),
    "outdoors": N_("Outdoors"),
    "sports": N_("Sports"),
    "fitness": N_("Fitness"),
    "electronics": N_("Electronics"),
    "office": N_("Office"),
    "tools": N_("Tools"),
    "automotive": N_("Automotive"),
    "fashion": N_("Fashion"),
    "jewelry": N_("Jewelry"),
    "books": N_("Books"),
    "grocery": N_("Grocery"),
    "other": N_("Other"),
}


def order_state_name(t: Translator, state: str) -> str:
    return t(ORDER_STATES[state]) if state in ORDER_STATES else state


def offer_state_name(t: Translator, state: str) -> str:
    return t(OFFER_STATES[state]) if state in OFFER_STATES else state


def video_type_name(t: Translator, video_type: VideoType) -> str:
    return t(VIDEO_TYPES[video_type])


def category_name(t: Translator, category: str) -> str:
    return t(CATEGORY_NAMES[category]) if category in CATEGORY_NAMES else category


def rate_text(rate: float | None) -> str:
    """A share as a whole percentage ("75%"), or "–" when there is nothing to count yet."""
    return "–" if rate is None else f"{rate * 100:.0f}%"
