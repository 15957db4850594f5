"""Claiming notices from the outbox, on SQLite and PostgreSQL: leases, reclaiming, the
order per recipient, digest groups, and what retry, dead and revive do to a row."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.notices import Notice, NoticeTemplate
from core.ports.repositories import OutboxEntry
from storage.repositories.outbox import outbox
from storage.unit_of_work import Database
from tests.contract.conftest import postgres_only
from tests.contract.factories import NOW, creator

LEASE = timedelta(seconds=60)
SECOND = timedelta(seconds=1)


async def people(database: Database, count: int) -> list[int]:
    """Store ``count`` members to send notices to."""
    async with database.unit_of_work() as uow:
        members = [creator(f"Creator {n}", user_id=str(1000 + n)) for n in range(count)]
        for member in members:
            await uow.members.add(member)
        await uow.commit()
    return [m.id or 0 for m in members]


def notice(key: str, recipient: int | None, digest: str | None = None) -> Notice:
    template = NoticeTemplate.NEW_APPLICATION if digest else NoticeTemplate.ORDER_SHIPPED
    return Notice(key, template, recipient, {"order_id": 1}, digest)


async def queue(database: Database, *notices: Notice, at: timedelta = timedelta(0)) -> None:
    async with database.unit_of_work() as uow:
        await uow.outbox.add(notices, NOW + at)
        await uow.commit()


async def claim(
    database: Database, at: timedelta = timedelta(0), limit: int = 10
) -> list[OutboxEntry]:
    async with database.unit_of_work() as uow:
        claimed = await uow.outbox.claim(NOW + at, LEASE, limit)
        await uow.commit()
    return claimed


def keys(entries: list[OutboxEntry]) -> list[str]:
    return [entry.key for entry in entries]


async def all_rows(database: Database) -> dict[str, dict[str, Any]]:
    """Every outbox row by key, whatever its status."""
    async with database.unit_of_work() as uow:
        result = await uow.session.execute(select(outbox))
        return {row["key"]: dict(row) for row in result.mappings()}


async def test_due_notices_are_claimed_oldest_first_with_a_lease(database: Database) -> None:
    ana, ben, carla = await people(database, 3)
    await queue(database, notice("a", ana), notice("b", ben))
    await queue(database, notice("later", carla), at=5 * SECOND)

    claimed = await claim(database)

    assert keys(claimed) == ["a", "b"]
    assert {(e.status, e.lease_until, e.attempts) for e in claimed} == {("sending", NOW + LEASE, 0)}
    assert await claim(database) == []  # claimed rows are not handed out twice
    assert keys(await claim(database, at=5 * SECOND)) == ["later"]


async def test_order_notices_go_before_a_broadcasts_announcements(database: Database) -> None:
    people_ids = await people(database, 5)
    await queue(
        database,
        *(
            Notice(f"announcement:1:{p}", NoticeTemplate.ANNOUNCEMENT, p, {"broadcast_id": 1})
            for p in people_ids[:4]
        ),
    )
    await queue(database, notice("shipped", people_ids[4]))

    assert keys(await claim(database, limit=1)) == ["shipped"]


async def test_a_held_digest_does_not_hold_back_newer_notices(database: Database) -> None:
    (seller,) = await people(database, 1)
    async with database.unit_of_work() as uow:
        held = Notice(
            "app:1",
            NoticeTemplate.NEW_APPLICATION,
            seller,
            {"order_id": 1},
            "applications:1",
            timedelta(minutes=5),
        )
        await uow.outbox.add([held], NOW)
        await uow.commit()
    await queue(database, notice("withdrew", seller))

    assert keys(await claim(database)) == ["withdrew"]
    assert keys(await claim(database, at=timedelta(minutes=5))) == ["app:1"]


async def test_the_limit_counts_a_digest_group_once(database: Database) -> None:
    ana, ben, carla = await people(database, 3)
    await queue(
        database,
        notice("a1", ana, "applications:1"),
        notice("b", ben),
        notice("a2", ana, "applications:1"),
        notice("c", carla),
    )

    assert keys(await claim(database, limit=2)) == ["a1", "b", "a2"]
    assert keys(await claim(database, limit=2)) == ["c"]


async def test_a_stalled_claim_is_taken_over_after_its_lease(database: Database) -> None:
    [ana] = await people(database, 1)
    await queue(database, notice("a", ana))
    await claim(database)

    assert await claim(database, at=LEASE - SECOND) == []
    [again] = await claim(database, at=LEASE)

    assert again.key == "a"
    assert again.lease_until == NOW + 2 * LEASE
    assert again.attempts == 1
    assert again.last_error == OutboxEntry.LEASE_EXPIRED


async def test_one_persons_notices_are_claimed_one_after_the_other(database: Database) -> None:
    ana, ben = await people(database, 2)
    await queue(database, notice("ana-1", ana), notice("ana-2", ana), notice("ben-1", ben))

    ana_1, ben_1 = await claim(database)
    assert (ana_1.key, ben_1.key) == ("ana-1", "ben-1")
    assert await claim(database) == []  # ana-2 waits while ana-1 is being sent
    async with database.unit_of_work() as uow:
        await uow.outbox.mark_sent([ana_1.id], NOW, "telegram")
        await uow.commit()
    assert keys(await claim(database)) == ["ana-2"]


async def test_a_notice_waiting_for_a_retry_holds_back_the_persons_newer_ones(
    database: Database,
) -> None:
    ana, ben = await people(database, 2)
    await queue(database, notice("ana-1", ana), notice("ben-1", ben))
    [first, _] = await claim(database)
    async with database.unit_of_work() as uow:
        assert await uow.outbox.retry([first.id], NOW + 30 * SECOND, "RetryLater", failed=False)
        await uow.commit()
    await queue(database, notice("ana-2", ana), notice("ben-2", ben), at=SECOND)

    assert await claim(database, at=SECOND) == []  # ben-2 waits for ben-1, ana-2 for ana-1
    assert keys(await claim(database, at=30 * SECOND)) == ["ana-1"]


async def test_a_digest_group_is_claimed_whole(database: Database) -> None:
    ana, ben = await people(database, 2)
    await queue(
        database,
        notice("apply-1", ana, "applications:7"),
        notice("other-offer", ana, "applications:8"),
        notice("apply-2", ana, "applications:7"),
        notice("ben-apply", ben, "applications:7"),
    )
    await queue(database, notice("apply-3", ana, "applications:7"), at=10 * SECOND)

    first = await claim(database)

    # apply-3 is not due yet but joins its group; the other offer's digest waits its turn
    assert keys(first) == ["apply-1", "apply-2", "ben-apply", "apply-3"]
    async with database.unit_of_work() as uow:
        await uow.outbox.mark_sent([e.id for e in first], NOW, "telegram")
        await uow.commit()
    assert keys(await claim(database)) == ["other-offer"]


async def test_audience_notices_without_a_recipient_are_never_claimed(database: Database) -> None:
    [ana] = await people(database, 1)
    await queue(database, notice("everyone", None), notice("a", ana))

    assert keys(await claim(database)) == ["a"]
    everyone = (await all_rows(database))["everyone"]
    assert (everyone["status"], everyone["attempts"]) == ("pending", 0)


async def test_sent_retry_dead_and_revive_move_a_row_as_described(database: Database) -> None:
    ana, ben, carla = await people(database, 3)
    await queue(database, notice("a", ana), notice("b", ben), notice("c", carla))
    a, b, c = await claim(database)

    async with database.unit_of_work() as uow:
        assert await uow.outbox.mark_sent([a.id], NOW + SECOND, "telegram") == 1
        assert await uow.outbox.retry([b.id], NOW + 9 * SECOND, "TemporaryFailure: " + "x" * 500)
        assert await uow.outbox.dead([c.id], "Unreachable: Forbidden: user is deactivated")
        assert await uow.outbox.mark_sent([a.id], NOW, "discord") == 0  # only unsent rows
        await uow.commit()
    rows = await all_rows(database)

    assert (rows["a"]["status"], rows["a"]["channel"], rows["a"]["sent_at"]) == (
        "sent",
        "telegram",
        NOW + SECOND,
    )
    assert rows["a"]["lease_until"] is None
    b_row = rows["b"]
    assert (b_row["status"], b_row["attempts"], b_row["available_at"]) == (
        "pending",
        1,
        NOW + 9 * SECOND,
    )
    assert b_row["lease_until"] is None
    assert len(b_row["last_error"]) == OutboxEntry.ERROR_MAX
    assert (rows["c"]["status"], rows["c"]["attempts"]) == ("dead", 1)
    async with database.unit_of_work() as uow:
        [dead] = await uow.outbox.dead_letters()
        assert dead.key == "c"
        assert dead.last_error == "Unreachable: Forbidden: user is deactivated"
        assert await uow.outbox.revive([dead.id, a.id], NOW + 2 * SECOND) == 1
        await uow.commit()
    revived = [e for e in await claim(database, at=10 * SECOND) if e.key == "c"]
    assert [(e.attempts, e.available_at) for e in revived] == [(0, NOW + 2 * SECOND)]


async def test_waiting_when_asked_does_not_count_as_a_failed_attempt(database: Database) -> None:
    [ana] = await people(database, 1)
    await queue(database, notice("a", ana))
    [a] = await claim(database)
    async with database.unit_of_work() as uow:
        await uow.outbox.retry([a.id], NOW, "RetryLater: retry after 1", failed=False)
        await uow.commit()

    [again] = await claim(database)

    assert again.attempts == 0
    assert again.last_error == "RetryLater: retry after 1"


@postgres_only
async def test_a_second_claimer_skips_rows_another_is_claiming(database: Database) -> None:
    recipients = await people(database, 6)
    await queue(database, *[notice(f"{r}-{n}", r) for r in recipients for n in range(3)])
    first_has_claimed = asyncio.Event()
    second_is_done = asyncio.Event()

    async def first() -> list[OutboxEntry]:
        async with database.unit_of_work() as uow:
            claimed = await uow.outbox.claim(NOW, LEASE, 3)
            first_has_claimed.set()
            await second_is_done.wait()  # hold the row locks until the second claimed
            await uow.commit()
        return claimed

    async def second() -> list[OutboxEntry]:
        await first_has_claimed.wait()
        try:
            # SKIP LOCKED: the second claimer neither waits for the first nor takes its rows
            return await asyncio.wait_for(claim(database, limit=10), timeout=5)
        finally:
            second_is_done.set()

    one, two = await asyncio.gather(first(), second())

    assert len(one) == 3
    assert len(two) == 3
    assert not {e.id for e in one} & {e.id for e in two}
    assert not {e.recipient_id for e in one} & {e.recipient_id for e in two}


@postgres_only
async def test_concurrent_claimers_never_get_the_same_row(database: Database) -> None:
    recipients = await people(database, 20)
    await queue(database, *[notice(f"{r}-{n}", r) for r in recipients for n in range(5)])
    got: Counter[int] = Counter()
    by_recipient: dict[int, list[int]] = {}

    async def worker() -> None:
        idle = 0
        while idle < 3:
            async with database.unit_of_work() as uow:
                claimed = await uow.outbox.claim(NOW, LEASE, 4)
                await uow.commit()
            if not claimed:
                idle += 1
                await asyncio.sleep(0.01)
                continue
            idle = 0
            for entry in claimed:
                got[entry.id] += 1
                assert entry.recipient_id is not None
                by_recipient.setdefault(entry.recipient_id, []).append(entry.id)
            await asyncio.sleep(0)
            async with database.unit_of_work() as uow:
                await uow.outbox.mark_sent([e.id for e in claimed], NOW, "telegram")
                await uow.commit()

    await asyncio.gather(*(worker() for _ in range(4)))

    assert len(got) == 100
    assert set(got.values()) == {1}
    for ids in by_recipient.values():
        assert ids == sorted(ids)  # each person's notices went out in order
