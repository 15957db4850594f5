"""Two people acting at the same moment change a record once, never twice.

PostgreSQL runs the units of work truly side by side (READ COMMITTED plus the version
check). SQLite starts every transaction with ``BEGIN IMMEDIATE``, so the second writer waits
for the first to finish instead of failing; the tests check that too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from core.domain.errors import ConcurrencyConflict
from storage.unit_of_work import Database
from tests.contract.conftest import postgres_only
from tests.contract.factories import NOW, Marketplace, order, stock_marketplace


async def _marketplace(database: Database) -> Marketplace:
    async with database.unit_of_work() as uow:
        return await stock_marketplace(uow)


async def _outcomes(*attempts: Awaitable[None]) -> list[str]:
    results = await asyncio.gather(*attempts, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ConcurrencyConflict):
            raise result
    return sorted("conflict" if isinstance(r, ConcurrencyConflict) else "won" for r in results)


@postgres_only  # SQLite runs write transactions one after the other: nothing interleaves
async def test_two_sellers_approving_one_order_at_once_change_it_once(
    database: Database,
) -> None:
    market = await _marketplace(database)
    claim = order(market.offer, market.creator_id)
    async with database.unit_of_work() as uow:
        await uow.orders.add(claim)
        await uow.commit()
    both_have_read = asyncio.Barrier(2)

    async def approve() -> None:
        async with database.unit_of_work() as uow:
            current = await uow.orders.get(claim.id or 0)
            assert current is not None
            await both_have_read.wait()
            current.select(NOW, has_address=True, automatic=False)
            await uow.orders.save(current)
            await uow.commit()

    assert await _outcomes(approve(), approve()) == ["conflict", "won"]
    async with database.unit_of_work() as uow:
        stored = await uow.orders.get(claim.id or 0)
    assert stored is not None
    assert stored.version == 1


async def test_two_claims_of_one_offer_by_one_creator_at_once_store_one_order(
    database: Database,
) -> None:
    market = await _marketplace(database)
    # On SQLite the second transaction cannot start before the first ends, so only
    # PostgreSQL can be made to interleave.
    interleave = asyncio.Barrier(2) if database.dialect == "postgresql" else None

    async def claim() -> None:
        async with database.unit_of_work() as uow:
            assert await uow.orders.by_creator_and_offer(market.creator_id, market.offer_id) is None
            if interleave is not None:
                await interleave.wait()
            await uow.orders.add(order(market.offer, market.creator_id))
            await uow.commit()

    if interleave is None:
        # the later claim sees the first one, as the claim use case would
        outcomes = await asyncio.gather(claim(), claim(), return_exceptions=True)
        assert sum(o is None for o in outcomes) == 1
        assert sum(isinstance(o, AssertionError) for o in outcomes) == 1
    else:
        assert await _outcomes(claim(), claim()) == ["conflict", "won"]
    async with database.unit_of_work() as uow:
        assert len(await uow.orders.for_offer(market.offer_id)) == 1


async def test_many_concurrent_changes_with_retries_all_count(database: Database) -> None:
    market = await _marketplace(database)
    conflicts = 0

    async def retrying(change: Callable[[], Awaitable[None]]) -> None:
        nonlocal conflicts
        while True:
            try:
                return await change()
            except ConcurrencyConflict:
                conflicts += 1

    async def count_application() -> None:
        async with database.unit_of_work() as uow:
            live = await uow.offers.get(market.offer_id)
            assert live is not None
            await asyncio.sleep(0)  # let the others read the same version
            live.count_application()
            await uow.offers.save(live)
            await uow.commit()

    await asyncio.gather(*(retrying(count_application) for _ in range(8)))

    async with database.unit_of_work() as uow:
        stored = await uow.offers.get(market.offer_id)
    assert stored is not None
    assert stored.applied_count == 8
    if database.dialect == "sqlite":
        assert conflicts == 0, "BEGIN IMMEDIATE should make SQLite writers wait, not conflict"


async def test_locking_reads_make_concurrent_changes_wait_instead_of_conflict(
    database: Database,
) -> None:
    market = await _marketplace(database)

    async def take_slot() -> None:
        async with database.unit_of_work() as uow:
            live = await uow.offers.get(market.offer_id, for_update=True)
            assert live is not None
            await asyncio.sleep(0.01)
            live.take_slot()
            await uow.offers.save(live)
            await uow.commit()

    assert await _outcomes(take_slot(), take_slot(), take_slot()) == ["won"] * 3
    async with database.unit_of_work() as uow:
        stored = await uow.offers.get(market.offer_id)
    assert stored is not None
    assert stored.selected_count == 3
