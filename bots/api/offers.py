"""``/api/v1/offers``: create, read, edit drafts of, and move offers through their life."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query

from core import services as s
from core.services import NewOffer
from core.services import portal as use_cases

from .auth import Authenticated
from .models import MAX_ID, OfferCreate, OfferList, OfferOut, OfferUpdate
from .responses import ERRORS

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/offers", tags=["offers"], responses=ERRORS)

OfferId = Annotated[int, Path(ge=1, le=MAX_ID, description="The offer's id.")]


async def _out(caller: Authenticated, offer_id: int) -> OfferOut:
    return OfferOut.of(await s.seller_offer(caller.mp, caller.actor, offer_id))


@router.post("", status_code=201, summary="Create an offer (a draft, or published at once)")
async def create_offer(body: OfferCreate, caller: Authenticated) -> OfferOut:
    product = {
        "title": body.title,
        "marketplace": str(body.marketplace or "amazon.com"),
        "asin": body.asin or "",
        "product_url": body.product_url or "",
        "category": str(body.category or ""),
        "price": body.price.money() if body.price else None,
        "image_url": body.image_url or "",
    }
    new = NewOffer(**(product | body.offer_changes()))
    offer = await s.create_offer(caller.mp, caller.actor, body.seller_id, new, publish=body.publish)
    assert offer.id is not None
    logger.info("API client %s created offer %s", caller.name, offer.id)
    return await _out(caller, offer.id)


@router.get("", summary="A seller's offers, newest first")
async def list_offers(
    caller: Authenticated,
    seller_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    include_finished: Annotated[
        bool, Query(description="Also ended and cancelled offers.")
    ] = False,
) -> OfferList:
    found = await s.seller_offers(
        caller.mp, caller.actor, seller_id, include_finished=include_finished
    )
    return OfferList(offers=[OfferOut.of(offer) for offer in found])


@router.get("/{offer_id}", summary="One offer, with its orders counted by state")
async def get_offer(offer_id: OfferId, caller: Authenticated) -> OfferOut:
    return await _out(caller, offer_id)


@router.patch("/{offer_id}", summary="Change fields of a draft offer")
async def update_offer(offer_id: OfferId, body: OfferUpdate, caller: Authenticated) -> OfferOut:
    await use_cases.update_draft_offer(
        caller.mp, caller.actor, offer_id, body.product_changes(), body.offer_changes()
    )
    logger.info("API client %s edited offer %s", caller.name, offer_id)
    return await _out(caller, offer_id)


@router.post("/{offer_id}/publish", summary="Publish a draft: creators can claim it")
async def publish_offer(offer_id: OfferId, caller: Authenticated) -> OfferOut:
    await s.publish_offer(caller.mp, caller.actor, offer_id)
    logger.info("API client %s published offer %s", caller.name, offer_id)
    return await _out(caller, offer_id)


@router.post("/{offer_id}/pause", summary="Stop taking applications for a while")
async def pause_offer(offer_id: OfferId, caller: Authenticated) -> OfferOut:
    await s.pause_offer(caller.mp, caller.actor, offer_id)
    logger.info("API client %s paused offer %s", caller.name, offer_id)
    return await _out(caller, offer_id)


@router.post("/{offer_id}/resume", summary="Take applications again")
async def resume_offer(offer_id: OfferId, caller: Authenticated) -> OfferOut:
    await s.resume_offer(caller.mp, caller.actor, offer_id)
    logger.info("API client %s resumed offer %s", caller.name, offer_id)
    return await _out(caller, offer_id)


@router.post(
    "/{offer_id}/close",
    summary="End the offer early; applicants still waiting are declined and told",
)
async def close_offer(offer_id: OfferId, caller: Authenticated) -> OfferOut:
    await s.close_offer(caller.mp, caller.actor, offer_id)
    logger.info("API client %s closed offer %s", caller.name, offer_id)
    return await _out(caller, offer_id)


@router.post(
    "/{offer_id}/cancel",
    summary="Withdraw an offer nobody was selected for yet; applicants are told",
)
async def cancel_offer(offer_id: OfferId, caller: Authenticated) -> OfferOut:
    await s.cancel_offer(caller.mp, caller.actor, offer_id)
    logger.info("API client %s cancelled offer %s", caller.name, offer_id)
    return await _out(caller, offer_id)
