"""The marketplace's tables, as SQLAlchemy 2.0 declarative models.

These classes describe the schema (for the migrations and for autogenerate comparisons);
the repositories read and write their tables with Core statements and map rows to the
domain explicitly. Enumerations are stored as their text values, sets as sorted JSON lists.
Alembic migrations create the schema; ``metadata.create_all`` is never used.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import Amount, UTCDateTime, json_column_type

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME = String(255)
CODE = String(32)
CURRENCY = String(3)
PLATFORM = String(16)

#: 64-bit ids where rows are many; SQLite only auto-increments a plain INTEGER key.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 — read by SQLAlchemy at class creation
        datetime: UTCDateTime(),
        Decimal: Amount(),
        dict[str, Any]: json_column_type(),
        list[Any]: json_column_type(),
        str: Text(),
    }


metadata = Base.metadata


# --- people ------------------------------------------------------------------------------


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(NAME)
    language: Mapped[str] = mapped_column(String(16))
    is_creator: Mapped[bool] = mapped_column(Boolean)
    is_seller: Mapped[bool] = mapped_column(Boolean)
    is_operator: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(CODE)
    preferred_platform: Mapped[str | None] = mapped_column(PLATFORM)
    created_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_members_creators", "is_creator", "id"),)


class ChannelIdentityRow(Base):
    """One chat account; (platform, user_id) finds the member behind an incoming message."""

    __tablename__ = "channel_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(PLATFORM)
    user_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str] = mapped_column(String(100))
    reachable: Mapped[bool] = mapped_column(Boolean)
    last_inbound_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("platform", "user_id"),
        UniqueConstraint("member_id", "platform"),
    )


class CreatorProfileRow(Base):
    """A creator's details and counters. ``address`` is personal data: never log it."""

    __tablename__ = "creator_profiles"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    storefront_url: Mapped[str]
    top_creator: Mapped[bool] = mapped_column(Boolean)
    categories: Mapped[list[Any]]
    country: Mapped[str] = mapped_column(String(8))
    languages: Mapped[list[Any]]
    address: Mapped[dict[str, Any] | None]
    announcements_opt_out: Mapped[bool] = mapped_column(Boolean)
    onboarded: Mapped[bool] = mapped_column(Boolean)
    completed_videos: Mapped[int] = mapped_column(Integer)
    on_time_videos: Mapped[int] = mapped_column(Integer)
    redo_orders: Mapped[int] = mapped_column(Integer)
    selected_total: Mapped[int] = mapped_column(Integer)
    last_selected_at: Mapped[datetime | None]


# --- sellers and products ----------------------------------------------------------------


class SellerRow(Base):
    __tablename__ = "sellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    version: Mapped[int] = mapped_column(Integer)


class SellerStaffRow(Base):
    __tablename__ = "seller_staff"

    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SellerBlockRow(Base):
    """A creator the seller does not want on its future offers."""

    __tablename__ = "seller_blocks"

    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProductRow(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    marketplace: Mapped[str] = mapped_column(CODE)
    asin: Mapped[str] = mapped_column(String(10))
    url: Mapped[str]
    category: Mapped[str] = mapped_column(String(100))
    price_amount: Mapped[Decimal | None]
    price_currency: Mapped[str | None] = mapped_column(CURRENCY)
    image_url: Mapped[str]


# --- offers ------------------------------------------------------------------------------


class OfferRow(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    video_type: Mapped[int] = mapped_column(SmallInteger)
    slots: Mapped[int] = mapped_column(Integer)
    application_deadline: Mapped[datetime]
    reward_kind: Mapped[str] = mapped_column(CODE)
    reward_amount: Mapped[Decimal | None]
    reward_currency: Mapped[str | None] = mapped_column(CURRENCY)
    requirements_text: Mapped[str]
    landscape: Mapped[bool] = mapped_column(Boolean)
    min_length_seconds: Mapped[int] = mapped_column(Integer)
    outdoor: Mapped[bool] = mapped_column(Boolean)
    with_children: Mapped[bool] = mapped_column(Boolean)
    with_pets: Mapped[bool] = mapped_column(Boolean)
    face_visible: Mapped[bool] = mapped_column(Boolean)
    selection: Mapped[str] = mapped_column(CODE)
    audience: Mapped[dict[str, Any]]
    content_deadline_days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(CODE)
    applied_count: Mapped[int] = mapped_column(Integer)
    selected_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # the offer hall and the deadline sweep
        Index("ix_offers_state_deadline", "state", "application_deadline"),
        Index("ix_offers_seller", "seller_id", "state"),
        Index("ix_offers_auto_selection", "state", "selection"),
    )


# --- orders ------------------------------------------------------------------------------


class OrderRow(Base):
    """A creator's claim of an offer, flattened: shipment, current video, payment."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    state: Mapped[str] = mapped_column(CODE)
    applied_at: Mapped[datetime | None]
    selected_at: Mapped[datetime | None]
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_url: Mapped[str | None]
    shipped_at: Mapped[datetime | None]
    video_due_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer)
    next_reminder_at: Mapped[datetime | None]
    video_number: Mapped[int | None] = mapped_column(Integer)
    video_url: Mapped[str | None]
    # One video link belongs to one order: the same link for a second order is refused.
    video_key: Mapped[str | None] = mapped_column(NAME, unique=True)
    video_submitted_at: Mapped[datetime | None]
    video_file_ref: Mapped[str | None]
    submissions: Mapped[int] = mapped_column(Integer)
    completion_counted: Mapped[bool] = mapped_column(Boolean)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    redo_count: Mapped[int] = mapped_column(Integer)
    last_redo: Mapped[dict[str, Any] | None]
    accepted_at: Mapped[datetime | None]
    payment_amount: Mapped[Decimal | None]
    payment_currency: Mapped[str | None] = mapped_column(CURRENCY)
    payment_confirmed_at: Mapped[datetime | None]
    payment_confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # One claim per creator per offer.
        UniqueConstraint("creator_id", "offer_id"),
        Index("ix_orders_offer_state", "offer_id", "state"),
        Index("ix_orders_creator_state", "creator_id", "state"),
        Index("ix_orders_video_due", "state", "video_due_at"),
        Index("ix_orders_reminder_due", "state", "next_reminder_at"),
        Index("ix_orders_seller_applied", "seller_id", "applied_at"),
        Index("ix_orders_applied", "applied_at"),
    )


class VideoSubmissionRow(Base):
    """Every video handed in for an order, in order."""

    __tablename__ = "video_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str]
    key: Mapped[str] = mapped_column(NAME)
    submitted_at: Mapped[datetime]
    file_ref: Mapped[str]

    __table_args__ = (UniqueConstraint("order_id", "number"),)


class RedoRequestRow(Base):
    """Every redo a seller asked for on an order, in order."""

    __tablename__ = "redo_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[Any]]
    note: Mapped[str]
    requested_at: Mapped[datetime]
    requested_by: Mapped[int] = mapped_column(ForeignKey("members.id"))

    __table_args__ = (UniqueConstraint("order_id", "number"),)


# --- broadcasts and the outbox -------------------------------------------------------------


# ``text`` names a column of BroadcastRow, which hides sqlalchemy's text() in its class body.
_ZERO = text("0")


class BroadcastRow(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL when the system (the command line) wrote it.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str]
    audience_kind: Mapped[str] = mapped_column(CODE)
    audience_value: Mapped[str] = mapped_column(NAME)
    image_url: Mapped[str]
    link_label: Mapped[str]
    link_url: Mapped[str]
    state: Mapped[str] = mapped_column(CODE)
    scheduled_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    recipients: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    unreachable: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    # The audience is queued in batches by ascending member id: the last id queued, and
    # when the whole audience was.
    expansion_cursor: Mapped[int] = mapped_column(Integer, server_default=_ZERO)
    expanded_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_broadcasts_state_scheduled", "state", "scheduled_at"),)


class OutboxRow(Base):
    """A notice waiting to be sent, being sent, sent, or given up on (``dead``).

    ``key`` makes queuing idempotent. ``params`` holds ids and codes only, never personal
    data. A dispatcher claims a row by setting ``status = 'sending'`` and ``lease_until``.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    key: Mapped[str] = mapped_column(NAME, unique=True)
    template: Mapped[str] = mapped_column(String(64))
    recipient_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE")
    )
    params: Mapped[dict[str, Any]]
    digest: Mapped[str | None] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    available_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    channel: Mapped[str | None] = mapped_column(PLATFORM)
    # The broadcast an announcement belongs to, to count and cancel its notices together.
    broadcast_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_outbox_due", "status", "available_at"),
        Index("ix_outbox_recipient", "recipient_member_id", "id"),
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
    )


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model: the repositories build their statements on it."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
