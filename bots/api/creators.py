"""``/api/v1/creators``: who the creators are and how they do — never their addresses or
contact details."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from core.domain.members import MemberStatus
from core.services import portal as use_cases

from .auth import Authenticated
from .models import MAX_ID, Category, CountryCode, CreatorList, CreatorOut, LanguageCode, Text
from .responses import ERRORS

__all__ = ["router"]

router = APIRouter(prefix="/creators", tags=["creators"], responses=ERRORS)


class CreatorQuery(BaseModel):
    """Creators matching every filter given."""

    country: CountryCode | None = Field(None, description="Two-letter code, e.g. `US`.")
    category: Category | None = None
    language: LanguageCode | None = Field(None, description="e.g. `en`.")
    top_creator: bool | None = Field(None, description="With (or without) the badge.")
    onboarded: bool | None = None
    status: MemberStatus | None = None
    name: Text | None = Field(None, max_length=100, description="Part of the name, any case.")
    after: int = Field(0, ge=0, le=MAX_ID, description="Creators with ids above this.")
    limit: int = Field(50, ge=1, le=200)

    def filters(self) -> use_cases.CreatorFilter:
        return use_cases.CreatorFilter(
            country=self.country,
            category=str(self.category) if self.category else None,
            language=self.language,
            top_creator=self.top_creator,
            onboarded=self.onboarded,
            status=self.status,
            name=self.name,
        )


@router.get("", summary="Creators matching the filters, by id, one page at a time")
async def query_creators(
    caller: Authenticated, query: Annotated[CreatorQuery, Query()]
) -> CreatorList:
    page = await use_cases.find_creators(
        caller.mp, caller.actor, query.filters(), after=query.after, limit=query.limit
    )
    return CreatorList(
        creators=[CreatorOut.of(found) for found in page.creators], next_after=page.next_after
    )


@router.get("/{creator_id}", summary="One creator")
async def get_creator(
    creator_id: Annotated[int, Path(ge=1, le=MAX_ID)], caller: Authenticated
) -> CreatorOut:
    return CreatorOut.of(await use_cases.creator_summary(caller.mp, caller.actor, creator_id))
