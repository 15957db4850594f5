from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bots.bootstrap import Runtime
from core.domain.common import Platform
from core.services import EXPORT_COLUMNS, Actor, ProfileChanges, find_member, update_profile
from tests.cli.conftest import Collabbot, assert_clean_failure

# Parts of the demo creators' shipping addresses: none may ever leave in an export.
ADDRESS_PARTS = ("Alder Street", "Magnolia Ave", "Wellington Road", "LS1 4AP", "78704", "Pine")


def export(collabbot: Collabbot, *args: str) -> list[dict[str, str]]:
    result = collabbot.ok("orders", "export", *args)
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
    return list(reader)


def day(offset: int) -> str:
    return (datetime.now(UTC) + timedelta(days=offset)).date().isoformat()


def test_the_export_has_every_order_and_no_address_or_phone(demo_database: str) -> None:
    result = Collabbot(demo_database).ok("orders", "export")

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 16
    assert [r["order_number"] for r in rows][:3] == ["CB-1", "CB-2", "CB-3"]
    for part in ADDRESS_PARTS:
        assert part not in result.stdout
    assert "+1" not in result.stdout


def test_the_export_keeps_only_the_asked_states(demo_database: str) -> None:
    rows = export(Collabbot(demo_database), "--state", "paid", "--state", "REDO_REQUESTED")

    assert sorted(r["state"] for r in rows) == ["paid", "paid", "paid", "redo_requested"]


def test_the_export_keeps_only_one_offer(demo_database: str) -> None:
    everything = export(Collabbot(demo_database))
    skillet = next(r["offer_id"] for r in everything if r["product"].startswith("Pre-Seasoned"))

    rows = export(Collabbot(demo_database), "--offer", skillet)

    assert len(rows) == 3
    assert {r["offer_id"] for r in rows} == {skillet}


def test_the_export_keeps_orders_applied_since_a_date(demo_database: str) -> None:
    collabbot = Collabbot(demo_database)

    assert len(export(collabbot, "--since", day(-25))) == 16
    assert export(collabbot, "--since", day(-15)) == []
    assert export(collabbot, "--until", day(-25)) == []
    assert len(export(collabbot, "--since", day(-25), "--until", day(0))) == 16


def test_the_export_keeps_one_seller_or_one_creator(demo_database: str) -> None:
    collabbot = Collabbot(demo_database)

    glow = export(collabbot, "--seller", "Glow Theory Beauty")
    jordan = export(collabbot, "--creator", "web:demo-creator-2")

    assert {r["seller"] for r in glow} == {"Glow Theory Beauty"}
    assert len(glow) == 4
    assert {r["creator_name"] for r in jordan} == {"Jordan Blake"}
    assert len(jordan) == 2


def test_the_export_can_go_to_a_file(demo_database: str, tmp_path: Path) -> None:
    target = tmp_path / "orders.csv"

    result = Collabbot(demo_database).ok(
        "orders", "export", "--state", "shipped", "-o", str(target)
    )

    assert "Exported 1 order to" in result.stderr
    assert result.stdout == ""
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["state"] for r in rows] == ["shipped"]
    assert not (tmp_path / "orders.csv.part").exists()


def test_bad_export_filters_are_refused_clearly(demo_database: str) -> None:
    collabbot = Collabbot(demo_database)

    assert_clean_failure(collabbot("orders", "export", "--since", "1/3/2026"), "is not a date")
    assert_clean_failure(
        collabbot("orders", "export", "--seller", "Nobody Inc"), "no seller named 'Nobody Inc'"
    )
    assert_clean_failure(collabbot("orders", "export", "--offer", "999"), "no offer 999")
    assert_clean_failure(
        collabbot("orders", "export", "--creator", "telegram:404"), "Nobody uses the telegram"
    )
    assert_clean_failure(
        collabbot("orders", "export", "--since", day(0), "--until", day(-3)),
        "--until is before --since",
    )


def test_an_export_file_that_cannot_be_written_is_explained(
    demo_database: str, tmp_path: Path
) -> None:
    target = tmp_path / "no such folder" / "orders.csv"

    result = Collabbot(demo_database)("orders", "export", "--output", str(target))

    assert_clean_failure(result, f"cannot write {target}: No such file or directory")


def test_a_creator_name_cannot_become_a_spreadsheet_formula(migrated: Collabbot) -> None:
    migrated.ok("demo", "seed")

    async def rename(runtime: Runtime) -> None:
        maya = await find_member(runtime.marketplace, Platform.WEB, "demo-creator-1")
        assert maya is not None
        assert maya.id is not None
        changes = ProfileChanges(display_name='=HYPERLINK("https://evil.example","Maya")')
        await update_profile(runtime.marketplace, Actor.member(maya.id), changes)

    migrated.inspect(rename)
    rows = export(migrated, "--creator", "web:demo-creator-1")

    assert {r["creator_name"] for r in rows} == {'\'=HYPERLINK("https://evil.example","Maya")'}
