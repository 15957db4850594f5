"""Members just read are shared by the next read-only units of work for a moment
(``storage.member_snapshots``) — on SQLite and PostgreSQL: no statement for them, a
committed change seen at once, and units of work that change data always reading afresh."""

from __future__ import annotations

from sqlalchemy import text

from core.domain.common import Platform
from core.domain.members import Member
from storage.member_snapshots import MemberSnapshots
from storage.unit_of_work import Database
from tests.contract.factories import stock_marketplace
from tests.contract.watching import watching


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def identity_of(database: Database, member_id: int) -> tuple[Platform, str]:
    async with database.read_unit_of_work() as uow:
        member = await uow.members.get(member_id)
    assert member is not None
    assert member.identities
    return member.identities[0].platform, member.identities[0].user_id


async def switch_to_chinese(database: Database, member_id: int, *, commit: bool) -> None:
    async with database.unit_of_work() as uow:
        member = await uow.members.get(member_id)
        assert member is not None
        member.language = "zh"
        await uow.members.save(member)
        if commit:
            await uow.commit()
        else:
            await uow.rollback()


async def change_elsewhere(database: Database, assignment: str, member_id: int) -> None:
    """What another process does: an UPDATE this process's snapshots do not hear of."""
    async with database.engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE members SET {assignment} WHERE id = :id"), {"id": member_id}
        )


async def read(database: Database, member_id: int) -> Member:
    async with database.read_unit_of_work() as uow:
        member = await uow.members.get(member_id)
    assert member is not None
    return member


async def test_a_member_read_once_is_read_again_without_sql(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    platform, user_id = await identity_of(database, market.creator_id)

    with watching(database) as traffic:
        async with database.read_unit_of_work() as uow:
            by_identity = await uow.members.by_identity(platform, user_id)
            by_id = await uow.members.get(market.creator_id)
    assert traffic.statements == []
    assert by_identity is not None
    assert by_identity is by_id
    assert by_identity.display_name == "Ada"

    # What one unit of work does to its copy stays there.
    by_identity.display_name = "Changed in memory"
    assert (await read(database, market.creator_id)).display_name == "Ada"


async def test_a_committed_change_is_read_at_once(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    await identity_of(database, market.creator_id)  # kept

    await switch_to_chinese(database, market.creator_id, commit=True)
    assert (await read(database, market.creator_id)).language == "zh"


async def test_a_change_rolled_back_leaves_the_snapshot(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    await identity_of(database, market.creator_id)
    await switch_to_chinese(database, market.creator_id, commit=False)
    with watching(database) as traffic:
        seen = await read(database, market.creator_id)
    assert seen.language == "en"
    assert traffic.statements == []


async def test_changing_data_always_reads_the_member_afresh(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    await identity_of(database, market.creator_id)
    # Another process suspends the member: this one's snapshot does not know yet.
    await change_elsewhere(database, "status = 'suspended'", market.creator_id)
    assert (await read(database, market.creator_id)).status.value == "active"

    async with database.unit_of_work() as uow:
        acting = await uow.members.get(market.creator_id)
    assert acting is not None
    assert acting.status.value == "suspended"


async def test_a_snapshot_expires(database: Database) -> None:
    clock = Clock()
    database.member_snapshots = MemberSnapshots(ttl=1.0, clock=clock)
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    await identity_of(database, market.creator_id)
    await change_elsewhere(database, "display_name = 'Ada Two'", market.creator_id)
    clock.now += 0.5
    assert (await read(database, market.creator_id)).display_name == "Ada"
    clock.now += 0.6
    assert (await read(database, market.creator_id)).display_name == "Ada Two"


async def test_a_read_overtaken_by_a_change_is_not_kept(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    snapshots = database.member_snapshots
    async with database.read_unit_of_work() as uow:
        epoch = snapshots.epoch
        stale = await uow.members.get(market.creator_id)
    assert stale is not None
    snapshots.forget([market.creator_id])  # a change committed while the read ran
    snapshots.forget([])
    snapshots.keep(stale, epoch)
    assert snapshots.get(market.creator_id) is None
