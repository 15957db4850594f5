"""``/api/v1/broadcasts``: announcements to creators — write one, send it, follow it."""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from core.domain.broadcasts import AudienceKind
from core.domain.errors import InvalidInput
from core.services.broadcasts import (
    BroadcastDraft,
    audience_of,
    broadcast_progress,
    cancel_broadcast,
    create_broadcast,
    recent_broadcasts,
    schedule_broadcast,
)

from .auth import Authenticated
from .models import (
    MAX_ID,
    BroadcastCreate,
    BroadcastList,
    BroadcastOut,
    BroadcastSend,
    BroadcastSummary,
)
from .responses import ERRORS

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/broadcasts", tags=["broadcasts"], responses=ERRORS)

BroadcastId = Annotated[int, Path(ge=1, le=MAX_ID, description="The broadcast's id.")]
_OFFER_ID = re.compile(r"#?[0-9]{1,9}")


@router.post("", status_code=201, summary="Write an announcement; keep it as a draft or send it")
async def create(body: BroadcastCreate, caller: Authenticated) -> BroadcastOut:
    if body.audience.kind is AudienceKind.OFFER_APPLICANTS and not _OFFER_ID.fullmatch(
        body.audience.value.strip()
    ):
        raise InvalidInput("The audience's value must be an offer id.", code="audience_bad_offer")
    if (body.send == "at") != (body.send_at is not None):
        raise InvalidInput(
            "Give `send_at` with `send: at`, and only then.", code="send_at_mismatch"
        )
    draft = BroadcastDraft(
        body.text,
        audience_of(body.audience.kind, body.audience.value),
        body.image_url,
        body.link_label,
        body.link_url,
    )
    send_at = {"draft": None, "now": caller.mp.clock.now(), "at": body.send_at}[body.send]
    broadcast = await create_broadcast(caller.mp, caller.actor, draft, send_at=send_at)
    assert broadcast.id is not None
    logger.info("API client %s wrote broadcast %s (%s)", caller.name, broadcast.id, body.send)
    return BroadcastOut.of(await broadcast_progress(caller.mp, caller.actor, broadcast.id))


@router.get("", summary="The newest broadcasts first")
async def recent(
    caller: Authenticated, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> BroadcastList:
    found = await recent_broadcasts(caller.mp, caller.actor, limit)
    return BroadcastList(broadcasts=[BroadcastSummary.of(b) for b in found])


@router.get("/{broadcast_id}", summary="Where a broadcast stands: sent, failed, still pending")
async def status(broadcast_id: BroadcastId, caller: Authenticated) -> BroadcastOut:
    return BroadcastOut.of(await broadcast_progress(caller.mp, caller.actor, broadcast_id))


@router.post("/{broadcast_id}/send", summary="Send a draft now or at a time")
async def send(
    broadcast_id: BroadcastId,
    caller: Authenticated,
    body: Annotated[BroadcastSend | None, Body()] = None,
) -> BroadcastOut:
    at = body.send_at if body is not None else None
    await schedule_broadcast(caller.mp, caller.actor, broadcast_id, at)
    logger.info("API client %s sent broadcast %s", caller.name, broadcast_id)
    return BroadcastOut.of(await broadcast_progress(caller.mp, caller.actor, broadcast_id))


@router.post(
    "/{broadcast_id}/cancel",
    summary="Stop a broadcast: creators who did not get it yet will not",
)
async def cancel(broadcast_id: BroadcastId, caller: Authenticated) -> BroadcastOut:
    progress = await cancel_broadcast(caller.mp, caller.actor, broadcast_id)
    logger.info("API client %s cancelled broadcast %s", caller.name, broadcast_id)
    return BroadcastOut.of(progress)
