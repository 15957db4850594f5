from __future__ import annotations

import csv
import io

from bots.bootstrap import Runtime
from core.domain.common import Platform
from core.domain.members import Role
from core.services import find_member, parse_identity
from tests.cli.conftest import Collabbot

STATES = {
    "applied",
    "awaiting_address",
    "pending_shipment",
    "shipped",
    "video_overdue",
    "completed",
    "redo_requested",
    "paid",
    "rejected",
    "withdrawn",
}


def roles(collabbot: Collabbot, identity: str) -> set[Role]:
    async def look(runtime: Runtime) -> set[Role]:
        member = await find_member(runtime.marketplace, *parse_identity(identity))
        return set(member.roles) if member else set()

    return collabbot.inspect(look)


def test_the_demo_has_orders_of_every_state_and_offers_of_every_video_type(
    demo_database: str,
) -> None:
    rows = list(csv.DictReader(io.StringIO(Collabbot(demo_database).ok("orders", "export").stdout)))

    assert {r["state"] for r in rows} >= STATES
    assert {r["video_type"] for r in rows} == {"1", "2", "3", "4", "5"}
    assert {r["payment_amount"] for r in rows if r["state"] == "paid"} == {"", "25.00", "60.00"}


def test_the_demo_has_staff_on_every_platform_and_creators_on_the_web(
    demo_database: str,
) -> None:
    collabbot = Collabbot(demo_database)

    for staff in ("telegram:7100000001", "discord:1180000000000000001", "whatsapp:15550100101"):
        assert Role.SELLER in roles(collabbot, staff)
    assert Role.SELLER in roles(collabbot, "web:demo-seller-glow")
    assert Role.OPERATOR in roles(collabbot, "web:demo-operator")
    for number in range(1, 9):
        assert Role.CREATOR in roles(collabbot, f"web:demo-creator-{number}")

    async def maya_is_top(runtime: Runtime) -> bool:
        maya = await find_member(runtime.marketplace, Platform.WEB, "demo-creator-1")
        return bool(maya and maya.creator and maya.creator.top_creator)

    assert collabbot.inspect(maya_is_top)


def test_seeding_the_demo_twice_changes_nothing(migrated: Collabbot) -> None:
    first = migrated.ok("demo", "seed")
    before = migrated.ok("orders", "export").stdout

    second = migrated.ok("demo", "seed")

    assert "Seeded the demo marketplace: 3 sellers, 8 creators, 7 offers, 16 orders" in (
        first.stdout
    )
    assert "web:demo-creator-1" in first.stdout
    assert "The demo data is already there; nothing was changed." in second.stdout
    assert migrated.ok("orders", "export").stdout == before


def test_demo_export_on_postgresql(fresh_postgres_url: str) -> None:
    collabbot = Collabbot(fresh_postgres_url)

    collabbot.ok("db", "upgrade")
    collabbot.ok("demo", "seed")
    paid = collabbot.ok("orders", "export", "--state", "paid").stdout

    rows = list(csv.DictReader(io.StringIO(paid)))
    assert len(rows) == 3
    assert {r["state"] for r in rows} == {"paid"}
