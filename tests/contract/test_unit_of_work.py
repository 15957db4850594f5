"""The unit of work: all or nothing, notices queued with the change that caused them, and
few statements per read — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from core.domain.common import Platform
from core.notices import Notice, NoticeTemplate
from storage.unit_of_work import Database
from tests.contract.conftest import postgres_only
from tests.contract.factories import NOW, creator, order, seller, stock_marketplace
from tests.contract.watching import counting_statements


class Boom(Exception):
    pass


async def test_leaving_without_commit_keeps_nothing(database: Database) -> None:
    async with database.unit_of_work() as uow:
        ada = creator()
        await uow.members.add(ada)
        await uow.sellers.add(seller())

    async with database.unit_of_work() as uow:
        await uow.members.add(creator("Bob", user_id="2002"))
        await uow.rollback()
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.members.creators_after(0, 10) == []
        assert await uow.sellers.by_name(seller().name) is None


async def test_the_outbox_stores_each_key_once_and_hands_out_the_oldest_first(
    database: Database,
) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        staff = market.staff_id
    later = Notice(
        "offer_ended:1:m1", NoticeTemplate.OFFER_ENDED, staff, {"offer_id": 1, "reason": "deadline"}
    )
    first = Notice(
        "new_application:7:m1",
        NoticeTemplate.NEW_APPLICATION,
        staff,
        {"order_id": 7, "offer_id": 1},
        digest="applications:1",
    )
    second = Notice(
        "offer_invitation:1",
        NoticeTemplate.OFFER_INVITATION,
        None,
        {"offer_id": 1, "targeted": True},
    )

    async with database.unit_of_work() as uow:
        assert await uow.outbox.add([later], NOW + timedelta(minutes=1)) == 1
        assert await uow.outbox.add([first, second, first], NOW) == 2
        assert await uow.outbox.add([later, second], NOW) == 0
        await uow.commit()

    async with database.unit_of_work() as uow:
        pending = await uow.outbox.pending()
        assert [entry.key for entry in await uow.outbox.pending(limit=1)] == [first.key]

    assert [entry.key for entry in pending] == [first.key, second.key, later.key]
    entry = pending[0]
    assert (entry.template, entry.recipient_id, entry.params, entry.digest, entry.status) == (
        NoticeTemplate.NEW_APPLICATION,
        staff,
        {"order_id": 7, "offer_id": 1},
        "applications:1",
        "pending",
    )
    assert entry.created_at == NOW
    assert pending[1].recipient_id is None
    assert pending[1].params["targeted"] is True


async def test_a_committed_change_and_its_notices_are_stored_together(
    database: Database,
) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        claim = order(market.offer, market.creator_id)
        await uow.orders.add(claim)
        claim.applied()
        await uow.commit()
        assert uow.orders.seen == []

    async with database.unit_of_work() as uow:
        assert await uow.orders.get(claim.id or 0) == claim
        [notice] = await uow.outbox.pending()
    assert notice.key == f"new_application:{claim.id}:m{market.staff_id}"
    assert notice.recipient_id == market.staff_id


async def test_a_failure_before_commit_stores_neither_change_nor_notices(
    database: Database,
) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)

    async def claim_then_fail() -> None:
        async with database.unit_of_work() as uow:
            claim = order(market.offer, market.creator_id)
            await uow.orders.add(claim)
            claim.applied()
            await uow.outbox.add(
                [Notice("direct", NoticeTemplate.ANNOUNCEMENT, market.creator_id)], NOW
            )
            raise Boom

    with pytest.raises(Boom):
        await claim_then_fail()

    async with database.unit_of_work() as uow:
        assert await uow.orders.for_offer(market.offer_id) == []
        assert await uow.outbox.pending() == []


async def test_reads_take_few_statements(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        claim = order(market.offer, market.creator_id)
        await uow.orders.add(claim)
        await uow.commit()

    async with database.unit_of_work() as uow:
        await uow.sellers.staff_of(market.seller_id)  # connect before counting
        with counting_statements(database) as member_by_identity:
            member = await uow.members.by_identity(Platform.TELEGRAM, "1001")
        with counting_statements(database) as order_by_id:
            stored = await uow.orders.get(claim.id or 0, for_update=True)
        with counting_statements(database) as offer_by_id:
            await uow.offers.get(market.offer_id)

    assert member == market.creator
    assert stored == claim
    assert len(member_by_identity) == 1  # the member, its profile and chat accounts together
    assert len(order_by_id) == 1
    if database.dialect == "postgresql":
        assert "FOR UPDATE" in order_by_id[0]
    assert len(offer_by_id) == 1


async def test_a_unit_of_work_cannot_be_entered_twice(database: Database) -> None:
    uow = database.unit_of_work()
    async with uow:
        with pytest.raises(RuntimeError):
            await uow.__aenter__()


async def test_a_read_only_unit_of_work_refuses_changes(database: Database) -> None:
    async with database.read_unit_of_work() as uow:
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.members.add(creator())
        with pytest.raises(RuntimeError, match="nothing to commit"):
            await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.members.creators_after(0, 10) == []


async def test_a_member_is_read_once_per_unit_of_work(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await uow.members.add(creator())
        await uow.commit()

    async with database.read_unit_of_work() as uow:
        by_account = await uow.members.by_identity(Platform.TELEGRAM, "1001")
        assert by_account is not None
        assert by_account.id is not None
        with counting_statements(database) as again:
            by_id = await uow.members.get(by_account.id)
    assert by_id is by_account
    assert again == []


async def test_reading_never_waits_for_a_writer(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await uow.members.add(creator())
        await uow.commit()

    async with database.unit_of_work() as writer:
        await writer.members.add(creator("Bob", user_id="2002"))  # holds the write lock
        async with database.read_unit_of_work() as reader:
            # Sees what was committed, not the writer's change in progress; no waiting.
            found = await reader.members.creators_after(0, 10)
        assert [m.display_name for m in found] == ["Ada"]
        await writer.commit()

    async with database.read_unit_of_work() as reader:
        assert len(await reader.members.creators_after(0, 10)) == 2


@postgres_only
async def test_a_connection_closed_by_the_server_while_idle_is_replaced(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.database

    async with database.read_unit_of_work() as uow:
        pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    async with database.read_unit_of_work() as uow:
        # Handed out again at once: the same connection, not checked (no round trip).
        with counting_statements(database) as statements:
            same = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert same == pid
    assert len(statements) == 1

    other = Database.connect(database.engine.url.render_as_string(False), database.clock)
    try:
        async with other.read_unit_of_work() as uow:
            await uow.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()
    monkeypatch.setattr(storage.database, "PING_AFTER_IDLE_SECONDS", 0.0)

    async with database.read_unit_of_work() as uow:
        fresh = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert fresh != pid
