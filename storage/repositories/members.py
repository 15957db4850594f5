"""Members, their chat identities and creator profiles."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.broadcasts import AudienceKind, BroadcastAudience
from core.domain.common import Platform
from core.domain.members import (
    ChannelIdentity,
    CreatorProfile,
    Member,
    MemberStatus,
    Role,
    ShippingAddress,
)
from core.ports.clock import Clock
from storage.member_snapshots import MemberSnapshots
from storage.models import ChannelIdentityRow, CreatorProfileRow, MemberRow, OrderRow, table_of
from storage.repositories._base import SqlRepository, Values

members = table_of(MemberRow)
identities = table_of(ChannelIdentityRow)
profiles = table_of(CreatorProfileRow)
orders = table_of(OrderRow)

ROLE_COLUMNS = {Role.CREATOR: "is_creator", Role.SELLER: "is_seller", Role.OPERATOR: "is_operator"}
PROFILE_COLUMNS = tuple(c.name for c in profiles.c if c.name != "member_id")


class SqlMemberRepository(SqlRepository):
    """Members with their profile and identities, one joined query each.

    A member read once is kept for the rest of the unit of work: reading it again by id
    returns the same object (one row per member and transaction, as an identity map does).
    A read-only one also reads and keeps ``snapshots`` (:mod:`storage.member_snapshots`);
    one that changes data lists the members it added or saved in :attr:`changed`.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        clock: Clock,
        *,
        read_only: bool = False,
        snapshots: MemberSnapshots | None = None,
    ) -> None:
        super().__init__(connection, clock, read_only=read_only)
        self._known: dict[int, Member] = {}
        self._snapshots = snapshots if read_only else None
        self.changed: set[int] = set()

    async def get(self, member_id: int) -> Member | None:
        known = self._known.get(member_id)
        if known is not None:
            return known
        if self._snapshots is not None:
            kept = self._snapshots.get(member_id)
            if kept is not None:
                self._known[member_id] = kept
                return kept
        return await self._load_one(_MEMBER_BY_ID, {"member_id": member_id})

    async def get_many(self, member_ids: Iterable[int]) -> dict[int, Member]:
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        return {m.id: m for m in await self._load(members.c.id.in_(ids)) if m.id is not None}

    async def by_identity(self, platform: Platform, user_id: str) -> Member | None:
        if self._snapshots is not None:
            kept = self._snapshots.by_identity(platform, user_id)
            if kept is not None:
                assert kept.id is not None
                return self._known.setdefault(kept.id, kept)
        return await self._load_one(
            _MEMBER_BY_IDENTITY, {"platform": platform.value, "user_id": user_id}
        )

    async def creators_after(self, after_id: int, limit: int) -> list[Member]:
        statement = (
            _member_select()
            .where(members.c.is_creator == true(), members.c.id > after_id)
            .order_by(members.c.id)
            .limit(limit)
        )
        return await self._load_rows(statement)

    async def audience_after(
        self, audience: BroadcastAudience, after_id: int, limit: int
    ) -> list[int]:
        statement = (
            select(members.c.id)
            .select_from(members.join(profiles, profiles.c.member_id == members.c.id))
            .where(*self._in_audience(audience), members.c.id > after_id)
            .order_by(members.c.id)
            .limit(limit)
        )
        return list((await self._execute(statement, what="audience")).scalars())

    async def count_audience(self, audience: BroadcastAudience) -> int:
        statement = (
            select(func.count())
            .select_from(members.join(profiles, profiles.c.member_id == members.c.id))
            .where(*self._in_audience(audience))
        )
        return int((await self._execute(statement, what="audience")).scalar_one())

    def _in_audience(self, audience: BroadcastAudience) -> list[ColumnElement[bool]]:
        """Conditions on ``members`` joined with ``profiles`` for a broadcast's audience."""
        conditions = [
            members.c.is_creator == true(),
            members.c.status == MemberStatus.ACTIVE.value,
            profiles.c.onboarded == true(),
            profiles.c.announcements_opt_out == false(),
        ]
        value = audience.value
        match audience.kind:
            case AudienceKind.PLATFORM:
                conditions.append(
                    exists().where(
                        identities.c.member_id == members.c.id, identities.c.platform == value
                    )
                )
            case AudienceKind.CATEGORY:
                conditions.append(self._listed(profiles.c.categories, value))
            case AudienceKind.COUNTRY:
                conditions.append(profiles.c.country == value.upper())
            case AudienceKind.LANGUAGE:
                conditions.append(self._listed(profiles.c.languages, value))
            case AudienceKind.OFFER_APPLICANTS:
                conditions.append(
                    exists().where(
                        orders.c.creator_id == members.c.id, orders.c.offer_id == int(value)
                    )
                )
            case AudienceKind.TOP_CREATORS:
                conditions.append(profiles.c.top_creator == true())
            case AudienceKind.ALL_CREATORS:
                pass
        return conditions

    def _listed(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        """Whether the JSON list in ``column`` holds the text ``value``."""
        if self._dialect == "postgresql":
            items = func.json_array_elements_text(column).table_valued("value")
        else:
            items = func.json_each(column).table_valued("value")
        return exists().where(items.c.value == value)

    async def count_creators(self) -> dict[str, int]:
        def tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        statement = (
            select(
                func.count().label("total"),
                tally(profiles.c.onboarded == true()).label("onboarded"),
                tally(profiles.c.top_creator == true()).label("top_creators"),
                tally(members.c.status == MemberStatus.SUSPENDED.value).label("suspended"),
            )
            .select_from(members)
            .join(profiles, profiles.c.member_id == members.c.id)
            .where(members.c.is_creator == true())
        )
        row = (await self._execute(statement, what="creator counts")).mappings().one()
        return {
            name: int(row[name]) for name in ("total", "onboarded", "top_creators", "suspended")
        }

    async def add(self, member: Member) -> None:
        if member.created_at is None:
            member.created_at = self._clock.now()
        member.id = await self._insert(members, _member_values(member), what="new member")
        self.changed.add(member.id)
        if member.creator is not None:
            await self._insert_many(
                profiles, [_profile_values(member.id, member.creator)], what="new member"
            )
        await self._insert_many(
            identities,
            [_identity_values(member.id, i) for i in member.identities],
            what="new member's chat identity",
        )

    async def save(self, member: Member) -> None:
        what = f"member {member.id}"
        if member.id is not None:
            self.changed.add(member.id)
        member.version = await self._update_versioned(
            members, member.id, member.version, _member_values(member), what=what
        )
        assert member.id is not None
        await self._save_profile(member.id, member.creator, what=what)
        await self._sync_identities(member.id, member.identities, what=what)

    # --- loading -------------------------------------------------------------------------

    async def _load_one(self, statement: Select[Any], params: Values) -> Member | None:
        """One member with all its chat identities, in a single round trip (every update
        reads the member behind it, so this is on the hot path)."""
        epoch = self._snapshots.epoch if self._snapshots is not None else 0
        rows = (await self._execute(statement, params, what="members")).mappings().all()
        if not rows:
            return None
        found = [
            ChannelIdentity(
                platform=Platform(row["identity_platform"]),
                user_id=row["identity_user_id"],
                chat_id=row["identity_chat_id"],
                reachable=row["identity_reachable"],
                last_inbound_at=row["identity_last_inbound_at"],
            )
            for row in rows
            if row["identity_id"] is not None
        ]
        member = _member(rows[0], found)
        assert member.id is not None
        self._known[member.id] = member
        if self._snapshots is not None:
            self._snapshots.keep(member, epoch)
        return member

    async def _load(self, condition: ColumnElement[bool]) -> list[Member]:
        return await self._load_rows(_member_select().where(condition).order_by(members.c.id))

    async def _load_rows(self, statement: Select[Any]) -> list[Member]:
        rows = (await self._execute(statement, what="members")).mappings().all()
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        by_member: dict[int, list[ChannelIdentity]] = {i: [] for i in ids}
        identity_rows = await self._execute(
            select(identities).where(identities.c.member_id.in_(ids)).order_by(identities.c.id),
            what="chat identities",
        )
        for row in identity_rows.mappings():
            by_member[row["member_id"]].append(_identity(row))
        return [_member(row, by_member[row["id"]]) for row in rows]

    # --- saving --------------------------------------------------------------------------

    async def _save_profile(
        self, member_id: int, profile: CreatorProfile | None, *, what: str
    ) -> None:
        if profile is None:
            await self._execute(
                delete(profiles).where(profiles.c.member_id == member_id), what=what
            )
            return
        values = _profile_values(member_id, profile)
        statement = self._upsert(profiles).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[profiles.c.member_id],
            set_={name: statement.excluded[name] for name in PROFILE_COLUMNS},
        )
        await self._execute(statement, what=what)

    async def _sync_identities(
        self, member_id: int, wanted: Sequence[ChannelIdentity], *, what: str
    ) -> None:
        """Delete identities the member no longer has, update changed ones, insert new ones.

        Identities are matched by (platform, user_id). An identity that another member holds
        makes the insert fail, which surfaces as a conflict.
        """
        stored = {
            (row["platform"], row["user_id"]): row
            for row in (
                await self._execute(
                    select(identities).where(identities.c.member_id == member_id), what=what
                )
            ).mappings()
        }
        by_key = {(i.platform.value, i.user_id): i for i in wanted}
        gone = [row["id"] for key, row in stored.items() if key not in by_key]
        if gone:
            await self._execute(delete(identities).where(identities.c.id.in_(gone)), what=what)
        new = []
        for key, identity in by_key.items():
            row = stored.get(key)
            if row is None:
                new.append(_identity_values(member_id, identity))
                continue
            changes = _identity_changes(row, identity)
            if changes:
                await self._execute(
                    update(identities).where(identities.c.id == row["id"]).values(changes),
                    what=what,
                )
        await self._insert_many(identities, new, what=f"{what}'s chat identity")


_IDENTITY_FIELDS = ("id", "platform", "user_id", "chat_id", "reachable", "last_inbound_at")


def _member_select() -> Select[Any]:
    return select(members, profiles).outerjoin(profiles, profiles.c.member_id == members.c.id)


def _with_identities(statement: Select[Any]) -> Select[Any]:
    """``statement`` (members) with every chat identity of each member, one row each."""
    every = identities.alias("every_identity")
    return (
        statement.add_columns(
            *(every.c[name].label(f"identity_{name}") for name in _IDENTITY_FIELDS)
        )
        .outerjoin(every, every.c.member_id == members.c.id)
        .order_by(every.c.id)
    )


# Built once: these run for every update, and building a statement costs more CPU than
# running it.
_MEMBER_BY_ID = _with_identities(_member_select().where(members.c.id == bindparam("member_id")))
_MEMBER_BY_IDENTITY = _with_identities(
    _member_select()
    .join(identities, identities.c.member_id == members.c.id)
    .where(
        identities.c.platform == bindparam("platform"),
        identities.c.user_id == bindparam("user_id"),
    )
)


# --- rows ⇄ domain ---------------------------------------------------------------------------


def _member(row: RowMapping, member_identities: list[ChannelIdentity]) -> Member:
    preferred = row["preferred_platform"]
    return Member(
        id=row["id"],
        display_name=row["display_name"],
        language=row["language"],
        roles=frozenset(role for role, column in ROLE_COLUMNS.items() if row[column]),
        status=MemberStatus(row["status"]),
        preferred_platform=Platform(preferred) if preferred else None,
        identities=member_identities,
        creator=_profile(row) if row["member_id"] is not None else None,
        created_at=row["created_at"],
        version=row["version"],
    )


def _member_values(member: Member) -> dict[str, Any]:
    return {
        "display_name": member.display_name,
        "language": member.language,
        **{column: role in member.roles for role, column in ROLE_COLUMNS.items()},
        "status": member.status.value,
        "preferred_platform": member.preferred_platform.value
        if member.preferred_platform
        else None,
        "created_at": member.created_at,
        "version": member.version,
    }


def _profile(row: RowMapping) -> CreatorProfile:
    address = row["address"]
    return CreatorProfile(
        storefront_url=row["storefront_url"],
        top_creator=row["top_creator"],
        categories=frozenset(row["categories"]),
        country=row["country"],
        languages=frozenset(row["languages"]),
        address=ShippingAddress(**address) if address is not None else None,
        announcements_opt_out=row["announcements_opt_out"],
        onboarded=row["onboarded"],
        completed_videos=row["completed_videos"],
        on_time_videos=row["on_time_videos"],
        redo_orders=row["redo_orders"],
        selected_total=row["selected_total"],
        last_selected_at=row["last_selected_at"],
    )


def _profile_values(member_id: int, profile: CreatorProfile) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "storefront_url": profile.storefront_url,
        "top_creator": profile.top_creator,
        "categories": sorted(profile.categories),
        "country": profile.country,
        "languages": sorted(profile.languages),
        "address": dataclasses.asdict(profile.address) if profile.address else None,
        "announcements_opt_out": profile.announcements_opt_out,
        "onboarded": profile.onboarded,
        "completed_videos": profile.completed_videos,
        "on_time_videos": profile.on_time_videos,
        "redo_orders": profile.redo_orders,
        "selected_total": profile.selected_total,
        "last_selected_at": profile.last_selected_at,
    }


def _identity(row: RowMapping) -> ChannelIdentity:
    return ChannelIdentity(
        platform=Platform(row["platform"]),
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        reachable=row["reachable"],
        last_inbound_at=row["last_inbound_at"],
    )


def _identity_values(member_id: int, identity: ChannelIdentity) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "platform": identity.platform.value,
        "user_id": identity.user_id,
        "chat_id": identity.chat_id,
        "reachable": identity.reachable,
        "last_inbound_at": identity.last_inbound_at,
    }


def _identity_changes(row: RowMapping, identity: ChannelIdentity) -> dict[str, Any]:
    wanted = {
        "chat_id": identity.chat_id,
        "reachable": identity.reachable,
        "last_inbound_at": identity.last_inbound_at,
    }
    return {name: value for name, value in wanted.items() if row[name] != value}
