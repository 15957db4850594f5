from __future__ import annotations

from bots.bootstrap import Runtime
from core.domain.common import Platform
from core.domain.members import Role
from core.domain.sellers import Seller
from core.ports.repositories import AbstractUnitOfWork
from core.services import find_member
from tests.cli.conftest import Collabbot, assert_clean_failure


def roles_of(collabbot: Collabbot, platform: Platform, user_id: str) -> set[Role]:
    async def look(runtime: Runtime) -> set[Role]:
        member = await find_member(runtime.marketplace, platform, user_id)
        return set(member.roles) if member else set()

    return collabbot.inspect(look)


def seller_named(collabbot: Collabbot, name: str) -> Seller | None:
    async def look(runtime: Runtime) -> Seller | None:
        async def work(uow: AbstractUnitOfWork) -> Seller | None:
            return await uow.sellers.by_name(name)

        return await runtime.marketplace.transaction(work)

    return collabbot.inspect(look)


def test_operator_add_makes_the_chat_account_an_operator(migrated: Collabbot) -> None:
    result = migrated.ok("operator", "add", "telegram:123456")

    assert "telegram:123456 is an operator" in result.stdout
    assert Role.OPERATOR in roles_of(migrated, Platform.TELEGRAM, "123456")


def test_seller_add_with_two_members_makes_both_staff(migrated: Collabbot) -> None:
    result = migrated.ok(
        "seller", "add", "Lumina  Kitchenware", "--member", "telegram:42", "--member", "web:lumina"
    )

    seller = seller_named(migrated, "Lumina Kitchenware")
    assert seller is not None
    assert len(seller.staff) == 2
    assert "Added seller 'Lumina Kitchenware'" in result.stdout
    assert "telegram:42 (member" in result.stdout
    assert "web:lumina (member" in result.stdout
    assert Role.SELLER in roles_of(migrated, Platform.WEB, "lumina")


def test_a_malformed_chat_account_is_refused_with_a_clear_message(migrated: Collabbot) -> None:
    unknown_platform = migrated("operator", "add", "icq:123456")
    no_user_id = migrated("seller", "add", "Acme", "--member", "telegram")

    assert_clean_failure(unknown_platform, "Unknown platform 'icq'", "telegram, discord")
    assert_clean_failure(no_user_id, "PLATFORM:USER_ID", "telegram:123456")
    assert seller_named(migrated, "Acme") is None


def test_a_second_seller_with_the_same_name_is_refused(migrated: Collabbot) -> None:
    migrated.ok("seller", "add", "Acme")

    result = migrated("seller", "add", "Acme", "--member", "discord:77")

    assert_clean_failure(result, "A seller named 'Acme' already exists")
