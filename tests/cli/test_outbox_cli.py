"""``collabbot outbox``: notices counted by state, the dead ones listed and queued again; and
``collabbot run --role worker``, which drains the outbox, refusing to start with nothing to
send through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bots.bootstrap import Runtime
from core.domain.common import Platform
from core.domain.members import ChannelIdentity, Member, Role
from core.notices import Notice, NoticeTemplate
from core.ports.repositories import AbstractUnitOfWork, OutboxEntry
from tests.cli.conftest import Collabbot, assert_clean_failure

CHAT_ID = "5550142"
NAME = "Ana Lopez"
BLOCKED = "Unreachable: Forbidden: bot was blocked by the user"
BAD_GATEWAY = "TemporaryFailure: Bad Gateway"


@dataclass(frozen=True)
class Notices:
    """Ids of notices in each state, and their recipient."""

    member_id: int
    sent: list[int]
    dead: list[int]
    sending: int
    pending: int


@pytest.fixture
def notices(migrated: Collabbot) -> Notices:
    """Seven notices to Ana: three sent, two dead (after 3 and 1 failed attempts), one being
    sent and one waiting behind it."""

    async def fill(runtime: Runtime) -> Notices:
        async def work(uow: AbstractUnitOfWork) -> Notices:
            now = runtime.clock.now()
            ana = Member(id=None, display_name=NAME, created_at=now)
            ana.grant(Role.CREATOR)
            ana.attach(ChannelIdentity(Platform.TELEGRAM, CHAT_ID, CHAT_ID, True, now))
            await uow.members.add(ana)
            assert ana.id is not None
            queued = [
                Notice(f"cli:{n}", NoticeTemplate.ORDER_SHIPPED, ana.id, {"order_id": n})
                for n in range(1, 8)
            ]
            await uow.outbox.add(queued, now)
            ids = [entry.id for entry in await uow.outbox.pending(limit=10)]
            sent, dead, rest = ids[:3], ids[3:5], ids[5:]
            await uow.outbox.mark_sent(sent, now, "telegram")
            for _ in range(2):
                await uow.outbox.retry(dead[:1], now, BAD_GATEWAY)
            await uow.outbox.dead(dead[:1], BAD_GATEWAY)
            await uow.outbox.dead(dead[1:], BLOCKED)
            claimed = await uow.outbox.claim(now, timedelta(minutes=5), 10)
            assert [entry.id for entry in claimed] == rest[:1]
            return Notices(ana.id, sent, dead, rest[0], rest[1])

        return await runtime.marketplace.transaction(work)

    return migrated.inspect(fill)


def outbox_rows(collabbot: Collabbot) -> dict[int, OutboxEntry]:
    async def look(runtime: Runtime) -> dict[int, OutboxEntry]:
        async def work(uow: AbstractUnitOfWork) -> dict[int, OutboxEntry]:
            entries = [*await uow.outbox.pending(100), *await uow.outbox.dead_letters(100)]
            return {entry.id: entry for entry in entries}

        return await runtime.marketplace.transaction(work)

    return collabbot.inspect(look)


def counts(output: str) -> dict[str, int]:
    pairs = (line.split() for line in output.splitlines())
    return {words[0]: int(words[1]) for words in pairs if len(words) == 2 and words[1].isdigit()}


# --- counts ----------------------------------------------------------------------------------


def test_outbox_counts_the_notices_in_each_state(migrated: Collabbot, notices: Notices) -> None:
    result = migrated.ok("outbox")

    assert counts(result.stdout) == {"pending": 1, "sending": 1, "sent": 3, "dead": 2}
    assert "collabbot outbox dead" in result.stdout


def test_outbox_of_a_new_database_counts_nothing(migrated: Collabbot) -> None:
    result = migrated.ok("outbox")

    assert counts(result.stdout) == {"pending": 0, "sending": 0, "sent": 0, "dead": 0}
    assert "dead ones" not in result.stdout


def test_outbox_before_the_schema_exists_says_what_to_run(collabbot: Collabbot) -> None:
    assert_clean_failure(collabbot("outbox"), "collabbot db upgrade")


# --- dead letters ----------------------------------------------------------------------------


def test_dead_lists_each_notice_with_its_attempts_and_last_error_but_nothing_personal(
    migrated: Collabbot, notices: Notices
) -> None:
    result = migrated.ok("outbox", "dead")

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "template", "member", "attempts", "last", "error"]
    first, second = (line.split(maxsplit=4) for line in lines[1:3])
    member = str(notices.member_id)
    assert first == [str(notices.dead[0]), "order_shipped", member, "3", BAD_GATEWAY]
    assert second == [str(notices.dead[1]), "order_shipped", member, "1", BLOCKED]
    assert "collabbot outbox retry" in result.stdout
    assert CHAT_ID not in result.stdout
    assert "Ana" not in result.stdout


def test_dead_with_a_limit_shows_the_oldest_and_says_how_many_there_are(
    migrated: Collabbot, notices: Notices
) -> None:
    result = migrated.ok("outbox", "dead", "--limit", "1")

    assert str(notices.dead[0]) in result.stdout
    assert BLOCKED not in result.stdout
    assert "The oldest 1 of 2 dead notices" in result.stdout


def test_dead_without_dead_notices_says_so(migrated: Collabbot) -> None:
    assert migrated.ok("outbox", "dead").stdout == "No dead notices.\n"


# --- retry -----------------------------------------------------------------------------------


def test_retry_queues_the_given_dead_notice_again_with_its_attempts_reset(
    migrated: Collabbot, notices: Notices
) -> None:
    revived, still_dead = notices.dead

    result = migrated.ok("outbox", "retry", str(revived))

    assert result.stdout == f"Queued 1 dead notice again: {revived}\n"
    rows = outbox_rows(migrated)
    assert rows[revived].status == "pending"
    assert rows[revived].attempts == 0
    assert rows[still_dead].status == "dead"
    assert counts(migrated.ok("outbox").stdout)["dead"] == 1


def test_retry_all_dead_queues_every_dead_notice_again(
    migrated: Collabbot, notices: Notices
) -> None:
    result = migrated.ok("outbox", "retry", "--all-dead")

    assert result.stdout == f"Queued 2 dead notices again: {notices.dead[0]}, {notices.dead[1]}\n"
    assert counts(migrated.ok("outbox").stdout) == {
        "pending": 3,
        "sending": 1,
        "sent": 3,
        "dead": 0,
    }
    assert migrated.ok("outbox", "retry", "--all-dead").stdout == "There are no dead notices.\n"


def test_retry_of_unknown_or_undead_notices_is_refused_and_changes_nothing(
    migrated: Collabbot, notices: Notices
) -> None:
    dead = notices.dead[0]

    result = migrated("outbox", "retry", str(dead), str(notices.sent[0]), "999")

    assert_clean_failure(
        result,
        "there is no notice 999",
        f"notice {notices.sent[0]} is sent",
        "Only dead notices can be queued again",
        "nothing was changed",
    )
    assert outbox_rows(migrated)[dead].status == "dead"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "give the ids of dead notices"),
        (("4", "--all-dead"), "not both"),
        (("four",), "positive whole numbers, not 'four'"),
        (("0",), "positive whole numbers, not '0'"),
    ],
    ids=["nothing", "ids and all", "a word", "zero"],
)
def test_retry_needs_dead_notice_ids_or_all_dead(
    migrated: Collabbot, notices: Notices, args: tuple[str, ...], expected: str
) -> None:
    assert_clean_failure(migrated("outbox", "retry", *args), expected)
    assert counts(migrated.ok("outbox").stdout)["dead"] == 2


@pytest.mark.parametrize("command", [[], ["dead"], ["retry"]])
def test_every_outbox_command_has_help(migrated: Collabbot, command: list[str]) -> None:
    assert migrated.ok("outbox", *command, "--help").stdout.startswith("Usage: ")


# --- the worker that drains it ---------------------------------------------------------------


def test_a_worker_without_a_chat_platform_is_refused(migrated: Collabbot) -> None:
    result = migrated("run", "--role", "worker")

    assert_clean_failure(result, "a worker sends notices", "COLLABBOT_TELEGRAM_TOKEN")
