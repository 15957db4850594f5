from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bots.bootstrap import Runtime
from core.domain.common import Money
from core.domain.offers import OfferState, RewardKind, SelectionMode, VideoType
from core.ports.repositories import AbstractUnitOfWork
from core.services import Actor, SellerOffer, seller_offers
from tests.cli.conftest import Collabbot, assert_clean_failure

SELLER = "Glow Theory Beauty"


@pytest.fixture
def shop(migrated: Collabbot) -> Collabbot:
    migrated.ok("seller", "add", SELLER, "--member", "whatsapp:15550100101")
    return migrated


def offers_of(collabbot: Collabbot, seller: str = SELLER) -> list[SellerOffer]:
    async def look(runtime: Runtime) -> list[SellerOffer]:
        async def seller_id(uow: AbstractUnitOfWork) -> int:
            found = await uow.sellers.by_name(seller)
            assert found is not None
            assert found.id is not None
            return found.id

        mp = runtime.marketplace
        found = await seller_offers(
            mp, Actor.system(), await mp.transaction(seller_id), include_finished=True
        )
        return sorted(found, key=lambda o: o.card.offer.id or 0)

    return collabbot.inspect(look)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_offers_are_imported_from_a_json_list(shop: Collabbot, tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "serums.json",
        json.dumps(
            [
                {
                    "title": "Vitamin C Brightening Serum, 30 ml",
                    "asin": "b0cg7vcs30",
                    "category": "beauty",
                    "price": 24,
                    "video_type": 4,
                    "slots": 2,
                    "fee": "60.00",
                    "face_visible": True,
                    "audience_countries": ["us", "GB"],
                    "application_deadline": "2099-12-31",
                },
                {
                    "title": "Mulberry Silk Sleep Mask",
                    "product_url": "https://www.amazon.co.uk/dp/B0CG7SLM01",
                    "marketplace": "amazon.co.uk",
                    "price": "18.50",
                    "video_type": "5",
                    "slots": 3,
                    "selection": "auto",
                    "min_length_seconds": 45,
                    "publish": False,
                },
            ]
        ),
    )

    result = shop.ok("offer", "import", str(file), "--seller", SELLER, "--publish")

    serum, mask = (o.card for o in offers_of(shop))
    assert "Imported 2 offers for 'Glow Theory Beauty' (1 live, 1 draft)" in result.stdout
    assert serum.offer.state is OfferState.LIVE
    assert serum.offer.video_type is VideoType.TOP_CREATOR
    assert serum.offer.reward.kind is RewardKind.FEE
    assert serum.offer.reward.fee == Money(Decimal("60.00"), "USD")
    assert serum.offer.requirements.face_visible
    assert not serum.offer.audience.public
    assert serum.offer.audience.countries == {"US", "GB"}
    assert serum.offer.application_deadline == datetime(2099, 12, 31, 23, 59, tzinfo=UTC)
    assert serum.product.asin == "B0CG7VCS30"
    assert mask.offer.state is OfferState.DRAFT
    assert mask.offer.selection is SelectionMode.AUTO
    assert mask.offer.requirements.min_length_seconds == 45
    assert mask.offer.audience.public
    assert mask.product.price == Money(Decimal("18.50"), "GBP")
    assert f"offer {serum.offer.id} [live] Vitamin C Brightening Serum" in result.stdout


def test_offers_are_imported_from_a_json_object_with_an_offers_list(
    shop: Collabbot, tmp_path: Path
) -> None:
    offer = {"title": "Rose Lip Balm", "asin": "B0CG7LPB01", "video_type": 3, "slots": 10}
    file = write(tmp_path, "balm.json", json.dumps({"offers": [offer]}))

    shop.ok("offer", "import", str(file), "--seller", SELLER)

    (imported,) = offers_of(shop)
    assert imported.card.offer.state is OfferState.DRAFT
    assert imported.card.offer.slots == 10


def test_offers_are_imported_from_csv_with_a_header_row(shop: Collabbot, tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "offers.csv",
        "title,asin,category,video_type,slots,reward,fee,fee_currency,with_pets,"
        "audience_categories,content_deadline_days\n"
        '"Cat Water Fountain, 2.5 L",B0CP4WFT25,pets,3,4,free,,,yes,,21\n'
        "Dog Harness,B0CP4HRN02,pets,1,3,fee,15,EUR,no,pets;outdoors,\n",
    )

    result = shop.ok("offer", "import", str(file), "--seller", SELLER, "--publish")

    fountain, harness = (o.card.offer for o in offers_of(shop))
    assert "Imported 2 offers" in result.stdout
    assert fountain.state is OfferState.LIVE
    assert fountain.requirements.with_pets
    assert fountain.content_deadline_days == 21
    assert fountain.reward.kind is RewardKind.FREE_PRODUCT
    assert harness.reward.fee == Money(Decimal("15"), "EUR")
    assert harness.audience.categories == {"pets", "outdoors"}
    assert harness.content_deadline_days == 14


def test_a_csv_with_bad_rows_lists_every_problem_and_imports_nothing(
    shop: Collabbot, tmp_path: Path
) -> None:
    file = write(
        tmp_path,
        "offers.csv",
        "title,asin,video_type,slots,reward,fee\n"  # line 1
        "Bamboo Board,B0C1234567,1,5,free,\n"  # line 2: fine
        ",B0C1234568,1,5,free,\n"  # line 3: no title
        "Mug,NOT-AN-ASIN,7,zero,fee,\n"  # line 4: four problems
        '"Two-line\ntitle",B0C1234569,1,2,,\n'  # lines 5-6: fine
        "Lamp,B0C1234570,1,3,free,10\n",  # line 7: a fee on a free offer
    )

    result = shop("offer", "import", str(file), "--seller", SELLER)

    assert_clean_failure(
        result,
        "offers.csv: 6 problems found, nothing was imported",
        "line 3, title: missing",
        "line 4, asin: An ASIN has 10 letters and digits",
        "line 4, video_type: '7' is not a video type",
        "line 4, slots: 'zero' is not a whole number",
        "line 4, fee: missing: the reward is a fee",
        "line 7, reward: is free, but a fee is given",
    )
    assert offers_of(shop) == []


def test_a_json_file_with_bad_entries_names_them_by_index(shop: Collabbot, tmp_path: Path) -> None:
    offers = [
        {"title": "Good", "asin": "B0C1234567", "video_type": 1, "slots": 1},
        {"title": "Bad", "asin": "B0C1234568", "video_type": 1, "slots": 0, "colour": "red"},
        {"title": "Late", "asin": "B0C1234569", "video_type": 2, "slots": 1, "price": "$5"},
        {
            "title": "Old",
            "asin": "B0C1234560",
            "video_type": 1,
            "slots": 1,
            "application_deadline": "2001-01-01",
            "marketplace": "amazon.moon",
        },
    ]
    file = write(tmp_path, "offers.json", json.dumps(offers))

    result = shop("offer", "import", str(file), "--seller", SELLER)

    assert_clean_failure(
        result,
        "5 problems found",
        "index 1, slots: must be between 1 and 10000, not 0",
        "index 1, colour: unknown column",
        "index 2, price: '$5' is not an amount",
        "index 3, application_deadline: That date is in the past",
        "index 3, marketplace: unknown Amazon marketplace 'amazon.moon'",
    )
    assert offers_of(shop) == []


def test_an_unknown_csv_column_is_reported_with_a_suggestion(
    shop: Collabbot, tmp_path: Path
) -> None:
    file = write(tmp_path, "offers.csv", "title,asin,video_type,slot\nBoard,B0C1234567,1,5\n")

    result = shop("offer", "import", str(file), "--seller", SELLER)

    assert_clean_failure(result, "line 1, slot: unknown column. Did you mean 'slots'?")


def test_importing_for_a_seller_that_does_not_exist_imports_nothing(
    shop: Collabbot, tmp_path: Path
) -> None:
    file = write(
        tmp_path,
        "o.json",
        '[{"title": "Board", "asin": "B0C1234567", "video_type": 1, "slots": 5}]',
    )

    result = shop("offer", "import", str(file), "--seller", "Glow Theory")

    assert_clean_failure(result, "There is no seller named 'Glow Theory'", "collabbot seller add")
    assert offers_of(shop) == []


def test_a_missing_or_broken_file_is_explained(shop: Collabbot, tmp_path: Path) -> None:
    missing = shop("offer", "import", str(tmp_path / "nope.csv"), "--seller", SELLER)
    broken = shop(
        "offer", "import", str(write(tmp_path, "o.json", '[{"title": }]')), "--seller", SELLER
    )
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("title,asin,video_type,slots\nCrème,B0C1234567,1,5\n".encode("latin-1"))
    not_utf8 = shop("offer", "import", str(latin1), "--seller", SELLER)

    assert_clean_failure(missing, "nope.csv: there is no such file")
    assert_clean_failure(broken, "line 1: not valid JSON")
    assert_clean_failure(not_utf8, "latin1.csv is not UTF-8 text (line 2)")


def examples_in_the_docs(language: str) -> list[str]:
    docs = Path(__file__).resolve().parents[2] / "docs" / "offer-import.md"
    return re.findall(rf"```{language}\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize(("language", "count"), [("csv", 3), ("json", 2)])
def test_the_examples_in_the_import_docs_import(
    shop: Collabbot, tmp_path: Path, language: str, count: int
) -> None:
    (example,) = examples_in_the_docs(language)
    file = write(tmp_path, f"example.{language}", example)

    result = shop.ok("offer", "import", str(file), "--seller", SELLER)

    assert f"Imported {count} offers" in result.stdout
    assert len(offers_of(shop)) == count
