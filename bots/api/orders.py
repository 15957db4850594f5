"""``/api/v1/orders``: the orders "data review", page by page as JSON or whole as CSV.

Both read through :func:`core.services.export_orders`, as ``collabbot orders export`` does,
so they hold the same orders and columns: no addresses or contact details.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from bots.orders_export import _cell as plain_cell
from core.domain.orders import OrderState
from core.ports.repositories import OrderQuery
from core.services import EXPORT_COLUMNS, OrderRow, export_orders

from .auth import Authenticated
from .models import MAX_ID, Moment, OrderList, OrderOut
from .responses import ERRORS

__all__ = ["router"]

router = APIRouter(prefix="/orders", tags=["orders"], responses=ERRORS)

CSV_BATCH = 500


class OrderFilter(BaseModel):
    """Orders matching every filter given."""

    since: Moment | None = Field(None, description="Applied at or after this moment.")
    until: Moment | None = Field(None, description="Applied before this moment.")
    offer_id: int | None = Field(None, ge=1, le=MAX_ID)
    seller_id: int | None = Field(None, ge=1, le=MAX_ID)
    creator_id: int | None = Field(None, ge=1, le=MAX_ID)
    state: list[OrderState] | None = Field(None, description="Any of these states.")

    def query(self, after: int = 0) -> OrderQuery:
        return OrderQuery(
            since=self.since,
            until=self.until,
            offer_id=self.offer_id,
            seller_id=self.seller_id,
            creator_id=self.creator_id,
            states=frozenset(self.state) if self.state else None,
            after_id=after,
        )


class OrderPage(OrderFilter):
    after: int = Field(0, ge=0, le=MAX_ID, description="Orders with ids above this.")
    limit: int = Field(100, ge=1, le=500)


@router.get("", summary="Orders matching the filters, by id, one page at a time")
async def query_orders(caller: Authenticated, page: Annotated[OrderPage, Query()]) -> OrderList:
    query = page.query(page.after)
    found: list[OrderOut] = []
    found_rows = export_orders(caller.mp, caller.actor, query, batch=page.limit)
    async with contextlib.aclosing(cast(AsyncGenerator[OrderRow, None], found_rows)) as rows:
        async for row in rows:
            found.append(OrderOut.of(row))
            if len(found) == page.limit:
                break
    next_after = found[-1].id if len(found) == page.limit else None
    return OrderList(orders=found, next_after=next_after)


@router.get(
    "/export",
    summary="Every order matching the filters as CSV (the columns of `collabbot orders export`)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "A CSV file, oldest first."}},
)
async def export_csv(
    caller: Authenticated, filters: Annotated[OrderFilter, Query()]
) -> StreamingResponse:
    rows = cast(
        AsyncGenerator[OrderRow, None],
        export_orders(caller.mp, caller.actor, filters.query(), batch=CSV_BATCH),
    )
    try:
        # A refusal comes before the first row: answer it as JSON, not as a broken file.
        first = await anext(rows, None)
    except BaseException:
        await rows.aclose()
        raise
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        _csv(rows, first),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="orders-{stamp}.csv"'},
    )


async def _csv(rows: AsyncGenerator[OrderRow, None], first: OrderRow | None) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)

    def write(row: OrderRow) -> None:
        values = row.values()
        writer.writerow([plain_cell(values[column]) for column in EXPORT_COLUMNS])

    async with contextlib.aclosing(rows):
        if first is not None:
            write(first)
            count = 1
            async for row in rows:
                write(row)
                count += 1
                if count % CSV_BATCH == 0:
                    yield _take(buffer)
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
