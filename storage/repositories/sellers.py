"""Sellers (with their staff and blocklist) and their products."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, delete, literal, select, union_all

from core.domain.common import Money
from core.domain.sellers import Product, Seller
from storage.models import ProductRow, SellerBlockRow, SellerRow, SellerStaffRow, table_of
from storage.repositories._base import OneOf, SqlRepository

sellers = table_of(SellerRow)
staff = table_of(SellerStaffRow)
blocks = table_of(SellerBlockRow)
products = table_of(ProductRow)

_PRODUCTS_BY_IDS = select(products).where(OneOf(products.c.id, "ids"))

STAFF = "staff"
BLOCKED = "blocked"

_PEOPLE = union_all(
    select(staff.c.seller_id, staff.c.member_id, literal(STAFF).label("kind")).where(
        OneOf(staff.c.seller_id, "seller_ids")
    ),
    select(blocks.c.seller_id, blocks.c.creator_id, literal(BLOCKED).label("kind")).where(
        OneOf(blocks.c.seller_id, "seller_ids")
    ),
)
"""Staff and blocked creators of the sellers ``:seller_ids``; an offer's card reads it."""


class SqlSellerRepository(SqlRepository):
    async def get(self, seller_id: int) -> Seller | None:
        found = await self._load(select(sellers).where(sellers.c.id == seller_id))
        return found[0] if found else None

    async def by_name(self, name: str) -> Seller | None:
        found = await self._load(select(sellers).where(sellers.c.name == name))
        return found[0] if found else None

    async def for_member(self, member_id: int) -> list[Seller]:
        statement = (
            select(sellers)
            .join(staff, staff.c.seller_id == sellers.c.id)
            .where(staff.c.member_id == member_id)
            .order_by(sellers.c.id)
        )
        return await self._load(statement)

    async def blocking(self, creator_id: int) -> set[int]:
        statement = select(blocks.c.seller_id).where(blocks.c.creator_id == creator_id)
        return set((await self._execute(statement, what="blocks")).scalars())

    async def staff_of(self, seller_id: int) -> set[int]:
        statement = select(staff.c.member_id).where(staff.c.seller_id == seller_id)
        return set((await self._execute(statement, what="seller staff")).scalars())

    async def add(self, seller: Seller) -> None:
        what = f"new seller {seller.name!r}"
        seller.id = await self._insert(
            sellers, {"name": seller.name, "version": seller.version}, what=what
        )
        await self._add_people(seller.id, STAFF, seller.staff, what=what)
        await self._add_people(seller.id, BLOCKED, seller.blocked, what=what)

    async def save(self, seller: Seller) -> None:
        what = f"seller {seller.id}"
        seller.version = await self._update_versioned(
            sellers, seller.id, seller.version, {"name": seller.name}, what=what
        )
        assert seller.id is not None
        stored = (await self._people([seller.id]))[seller.id]
        for kind, wanted in ((STAFF, seller.staff), (BLOCKED, seller.blocked)):
            await self._remove_people(seller.id, kind, stored[kind] - wanted, what=what)
            await self._add_people(seller.id, kind, wanted - stored[kind], what=what)

    # --- staff and blocks ----------------------------------------------------------------

    async def _load(self, statement: Select[Any]) -> list[Seller]:
        rows = (await self._execute(statement, what="sellers")).mappings().all()
        if not rows:
            return []
        people = await self._people([row["id"] for row in rows])
        return [
            Seller(
                id=row["id"],
                name=row["name"],
                staff=people[row["id"]][STAFF],
                blocked=people[row["id"]][BLOCKED],
                version=row["version"],
            )
            for row in rows
        ]

    async def _people(self, seller_ids: list[int]) -> dict[int, dict[str, set[int]]]:
        """Staff and blocked creators of the sellers, in one query."""
        people: dict[int, dict[str, set[int]]] = {
            i: {STAFF: set(), BLOCKED: set()} for i in seller_ids
        }
        found = await self._execute(_PEOPLE, {"seller_ids": seller_ids}, what="staff")
        for row in found.mappings():
            people[row["seller_id"]][row["kind"]].add(row["member_id"])
        return people

    async def _add_people(
        self, seller_id: int, kind: str, member_ids: set[int], *, what: str
    ) -> None:
        table, column = (staff, "member_id") if kind == STAFF else (blocks, "creator_id")
        await self._insert_many(
            table,
            [{"seller_id": seller_id, column: member_id} for member_id in sorted(member_ids)],
            what=what,
        )

    async def _remove_people(
        self, seller_id: int, kind: str, member_ids: set[int], *, what: str
    ) -> None:
        if not member_ids:
            return
        table, column = (staff, "member_id") if kind == STAFF else (blocks, "creator_id")
        await self._execute(
            delete(table).where(
                table.c.seller_id == seller_id, table.c[column].in_(sorted(member_ids))
            ),
            what=what,
        )


class SqlProductRepository(SqlRepository):
    async def get(self, product_id: int) -> Product | None:
        row = (
            (
                await self._execute(
                    select(products).where(products.c.id == product_id), what="product"
                )
            )
            .mappings()
            .first()
        )
        return product_from_row(row) if row is not None else None

    async def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]:
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        result = await self._execute(_PRODUCTS_BY_IDS, {"ids": ids}, what="products")
        return {row["id"]: product_from_row(row) for row in result.mappings()}

    async def add(self, product: Product) -> None:
        price = product.price
        product.id = await self._insert(
            products,
            {
                "seller_id": product.seller_id,
                "title": product.title,
                "marketplace": product.marketplace,
                "asin": product.asin,
                "url": product.url,
                "category": product.category,
                "price_amount": price.amount if price else None,
                "price_currency": price.currency if price else None,
                "image_url": product.image_url,
            },
            what="new product",
        )


def product_from_row(row: Mapping[Any, Any]) -> Product:
    """A product from its row (its columns by name)."""
    amount, currency = row["price_amount"], row["price_currency"]
    return Product(
        id=row["id"],
        seller_id=row["seller_id"],
        title=row["title"],
        marketplace=row["marketplace"],
        asin=row["asin"],
        url=row["url"],
        category=row["category"],
        price=Money(amount, currency) if amount is not None and currency else None,
        image_url=row["image_url"],
    )
