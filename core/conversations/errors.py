"""What a person reads when a rule says no: one message id per domain error code."""

from __future__ import annotations

from core.conversations.i18n import N_, Translator
from core.conversations.labels import offer_state_name, order_state_name
from core.domain.errors import DomainError

ERROR_MESSAGES: dict[str, str] = {
    # people and profiles
    "address_bad_country": N_("The country must be a two-letter code such as US, GB or DE."),
    "address_field_too_long": N_("One line of the address is too long (at most 200 characters)."),
    "address_hidden": N_("The address is shown only for selected orders that are still open."),
    "address_missing_fields": N_(
        "The address is missing: {missing}. Please send the full address."
    ),
    "address_not_yet": N_(
        "The creator has not sent a shipping address yet. You will be told as soon as they do."
    ),
    "address_format": N_(
        "Please send the address on separate lines: name, street, apartment (or -), city, "
        "state (or -), postal code, country code, phone (or -)."
    ),
    "already_linked": N_("This chat is already linked to your account."),
    "link_code_invalid": N_(
        "That link code is not valid any more. Send /link again to get a new one."
    ),
    "link_has_history": N_(
        "This chat account already has its own orders or roles, so it cannot be joined to "
        "another account. Please contact the marketplace team."
    ),
    "bad_country": N_("Send your country as a two-letter code such as US, GB or DE."),
    "bad_category": N_("Unknown category. Choose from the list."),
    "bad_identity": N_("Write a chat account as PLATFORM:USER_ID, e.g. telegram:123456."),
    "bad_language": N_("Choose one of the offered languages."),
    "bad_languages": N_("Send the languages you speak as two-letter codes, e.g. en, es, zh."),
    "bad_platform": N_("Unknown chat platform. Use telegram, discord, whatsapp or web."),
    "bad_storefront": N_(
        "That is not an Amazon storefront address. It looks like "
        "https://www.amazon.com/shop/yourname — copy it from your Amazon Influencer page."
    ),
    "bad_user_id": N_("That user id is not valid."),
    "country_missing": N_("Please tell us your country first."),
    "creator_missing": N_("Which creator? Send their creator number."),
    "creator_not_found": N_("There is no creator with that number."),
    "creators_only": N_("Only creators can do this."),
    "member_required": N_("Please send /start first."),
    "member_suspended": N_("Your account is suspended. Please contact the marketplace team."),
    "name_empty": N_("Please send a name."),
    "name_too_long": N_("That name is too long (at most 64 characters)."),
    "not_onboarded": N_("Please finish setting up your profile first: send /start."),
    "operators_only": N_("Only marketplace operators can do this."),
    "platform_already_linked": N_(
        "This account already has a login on that chat app. Unlink it first, then link the new one."
    ),
    "platform_not_linked": N_("You have not linked that chat app yet. Use /link there first."),
    "suspend_self": N_("You cannot suspend yourself."),
    "too_many_categories": N_("Choose at most 8 categories."),
    "unknown_member": N_("Please send /start first."),
    # sellers and offers
    "bad_asin": N_("An ASIN has 10 letters and digits, such as B0C1234567."),
    "bad_content_deadline": N_("The content deadline must be between 1 and 365 days."),
    "bad_days": N_("Give a number of days between 1 and 365."),
    "bad_deadline": N_("Send the deadline as a number of days (14) or a date (2026-12-31)."),
    "bad_min_length": N_("The minimum video length must be between 0 and 3600 seconds."),
    "bad_price": N_("The price must be above zero."),
    "bad_slots": N_("The number of samples must be between 1 and 10,000."),
    "blocked_by_seller": N_("This offer is not available to you."),
    "deadline_in_past": N_("That deadline is in the past. Send a later one."),
    "fee_missing": N_("A fee reward needs an amount above zero."),
    "fee_on_free_offer": N_("A free-product reward has no fee."),
    "needs_storefront": N_(
        "This offer needs an Amazon Influencer storefront. Add your storefront URL in /profile."
    ),
    "needs_top_creator": N_(
        "This offer is for creators with the Top Creator badge. Ask the marketplace team to "
        "verify your badge."
    ),
    "negative_amount": N_("An amount cannot be negative."),
    "not_in_audience": N_("This offer is for a different group of creators."),
    "not_seller_staff": N_("This is not for you: you are not on this seller's team."),
    "offer_bad_state": N_("This offer is {state}, so that cannot be done now."),
    "offer_field_fixed": N_("Some of these fields cannot be changed on an offer."),
    "offer_not_draft": N_("This offer is {state}; only a draft can be edited."),
    "offer_full": N_("All samples of this offer are already taken."),
    "offer_has_selected": N_(
        "Creators were already selected for this offer. Close it early instead, or cancel "
        "their orders one by one with a reason."
    ),
    "offer_not_found": N_("This offer no longer exists."),
    "offer_not_live": N_("This offer is not open for applications any more."),
    "offer_not_open": N_("This offer has ended; nobody more can be selected."),
    "offer_past_deadline": N_("The application deadline for this offer has passed."),
    "product_title_missing": N_("The product needs a title."),
    "product_title_too_long": N_("The product title is too long (at most 200 characters)."),
    "requirements_too_long": N_("The requirements are too long (at most 2000 characters)."),
    "seller_exists": N_("A seller with that name already exists."),
    "seller_name_missing": N_("The seller needs a name."),
    "seller_name_too_long": N_("That seller name is too long."),
    "seller_not_found": N_("That seller does not exist."),
    "unknown_currency": N_("Unknown currency. Use a code such as USD, EUR or GBP."),
    "unknown_marketplace": N_(
        "Unknown Amazon marketplace. Use one such as amazon.com or amazon.de."
    ),
    # orders
    "already_accepted": N_("This video was already accepted."),
    "already_cancelled": N_("This order was already cancelled."),
    "already_claimed": N_("You already claimed this offer: your order is {order}."),
    "already_paid": N_("Payment was already confirmed."),
    "already_rejected": N_("This application was already declined."),
    "already_selected": N_("This creator is already selected."),
    "already_shipped": N_("Tracking was already entered for this order."),
    "already_withdrawn": N_("You already withdrew from this offer."),
    "bad_reject_reason": N_("Please choose a reason from the list."),
    "bad_tracking_number": N_(
        "That tracking number does not look right: use only letters and digits, at most 40."
    ),
    "batch_empty": N_("Choose at least one applicant."),
    "batch_too_large": N_("Choose at most 100 at a time."),
    "busy": N_("Many people are doing the same thing right now. Please try again in a moment."),
    "cancel_reason_missing": N_("Cancelling an order needs a reason the creator will see."),
    "cancel_reason_too_long": N_("The reason is too long (at most 500 characters)."),
    "carrier_too_long": N_("That carrier name is too long."),
    "file_ref_too_long": N_("That file cannot be used. Please send it again."),
    "no_carrier": N_("Choose or type the carrier (e.g. UPS, USPS, DHL)."),
    "no_fee_to_pay": N_("This offer pays no fee; accept the video instead."),
    "not_due_yet": N_("The video is not due yet."),
    "not_overdue": N_("No video is overdue for this order."),
    "not_your_order": N_("This is not your order."),
    "order_bad_state": N_("This order is {state}, so that cannot be done now."),
    "order_not_found": N_("There is no such order. Check the order number."),
    "redo_already_requested": N_("A redo was already requested."),
    "redo_no_reason": N_("Tick at least one reason for the redo."),
    "redo_note_too_long": N_("The note is too long (at most 1000 characters)."),
    "redo_other_needs_note": N_(
        "You ticked “Other”: please add a short note saying what to change."
    ),
    "reminder_not_due": N_("No reminder is due yet."),
    "video_already_submitted": N_("This video was already submitted for this order."),
    "video_file_missing": N_("This offer also needs the video file. Please send the video file."),
    "video_link_missing": N_(
        "Please send the Amazon link of your video (it starts with amazon.com/vdp/ or amzn.to/)."
    ),
    "video_link_reused": N_(
        "This video was already submitted for another order. Each order needs its own video: "
        "please send the link of the video you made for this product."
    ),
    "withdraw_after_shipping": N_(
        "The sample is already on its way, so you can no longer withdraw. Please submit your "
        "video, or contact the marketplace team."
    ),
    # pasted links
    "video_link_not_a_url": N_(
        "That is not a link. Please paste the Amazon link of your video, like "
        "https://www.amazon.com/vdp/…"
    ),
    "video_link_not_amazon": N_(
        "That link is not on Amazon. Please paste the Amazon link of your video, like "
        "https://www.amazon.com/vdp/…"
    ),
    "video_link_not_a_video": N_(
        "That Amazon link is not a video. Open your video on Amazon, tap Share and paste that link."
    ),
    "video_link_product_page": N_(
        "That is a product page, not a video. Open your video on Amazon, tap Share and paste "
        "that link."
    ),
    "video_link_storefront": N_(
        "That is your storefront page, not a video. Open the video itself and paste its link."
    ),
    "video_link_malformed_id": N_(
        "That video link looks cut off. Please copy the whole link again."
    ),
    "video_link_too_long": N_("That link is far too long. Please paste only the video link."),
    # broadcasts
    "audience_bad_offer": N_("Unknown offer."),
    "audience_bad_platform": N_("Unknown channel."),
    "audience_value_missing": N_("Choose who to send to."),
    "broadcast_bad_link": N_("The link must start with https://"),
    "broadcast_bad_state": N_("This announcement was already sent or cancelled."),
    "broadcast_empty": N_("An announcement needs some text."),
    "broadcast_link_incomplete": N_("A link button needs both a label and a URL."),
    "broadcast_too_long": N_("The announcement is too long (at most 3500 characters)."),
}


def error_text(t: Translator, error: DomainError) -> str:
    """The message for ``error`` in the person's language."""
    if t.language == "en" or error.code not in ERROR_MESSAGES:
        return error.message
    params = {k: str(v) for k, v in error.params.items()}
    if "state" in params:
        state = params["state"]
        name = order_state_name if error.code.startswith("order") else offer_state_name
        params["state"] = name(t, state)
    try:
        return t.raw(ERROR_MESSAGES[error.code]).format(**params)
    except (KeyError, IndexError, ValueError):
        return error.message
