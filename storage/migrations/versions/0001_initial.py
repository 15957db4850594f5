"""The marketplace's first schema: people, sellers, offers, orders, broadcasts, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-01-05

Times are ``timestamptz`` on PostgreSQL and naive UTC text on SQLite (the application always
reads them back as UTC). Money is ``NUMERIC(12, 2)`` plus a currency code. Sets and small
documents are JSON. Every constraint and index has a fixed name, so later migrations can
refer to it on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _time(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _amount(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(12, 2), nullable=True)


def _json(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.JSON(), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _string(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _flag(name: str, *, nullable: bool = False) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=nullable)


def _fk(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    # --- people --------------------------------------------------------------------------
    op.create_table(
        "members",
        _id(),
        _string("display_name", 255),
        _string("language", 16),
        _flag("is_creator"),
        _flag("is_seller"),
        _flag("is_operator"),
        _string("status", 32),
        _string("preferred_platform", 16, nullable=True),
        _time("created_at"),
        _int("version"),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
    )
    op.create_index("ix_members_creators", "members", ["is_creator", "id"])

    op.create_table(
        "channel_identities",
        _id(),
        _int("member_id"),
        _string("platform", 16),
        _string("user_id", 100),
        _string("chat_id", 100),
        _flag("reachable"),
        _time("last_inbound_at"),
        sa.PrimaryKeyConstraint("id", name="pk_channel_identities"),
        _fk("channel_identities", "member_id", "members", ondelete="CASCADE"),
        # finds the member behind an incoming message
        sa.UniqueConstraint("platform", "user_id", name="uq_channel_identities_platform_user_id"),
        sa.UniqueConstraint(
            "member_id", "platform", name="uq_channel_identities_member_id_platform"
        ),
    )

    op.create_table(
        "creator_profiles",
        _int("member_id"),
        _text("storefront_url"),
        _flag("top_creator"),
        _json("categories"),
        _string("country", 8),
        _json("languages"),
        _json("address", nullable=True),  # personal data
        _flag("announcements_opt_out"),
        _flag("onboarded"),
        _int("completed_videos"),
        _int("on_time_videos"),
        _int("redo_orders"),
        _int("selected_total"),
        _time("last_selected_at"),
        sa.PrimaryKeyConstraint("member_id", name="pk_creator_profiles"),
        _fk("creator_profiles", "member_id", "members", ondelete="CASCADE"),
    )

    # --- sellers and products ------------------------------------------------------------
    op.create_table(
        "sellers",
        _id(),
        _string("name", 255),
        _int("version"),
        sa.PrimaryKeyConstraint("id", name="pk_sellers"),
        sa.UniqueConstraint("name", name="uq_sellers_name"),
    )

    op.create_table(
        "seller_staff",
        _int("seller_id"),
        _int("member_id"),
        sa.PrimaryKeyConstraint("seller_id", "member_id", name="pk_seller_staff"),
        _fk("seller_staff", "seller_id", "sellers", ondelete="CASCADE"),
        _fk("seller_staff", "member_id", "members", ondelete="CASCADE"),
    )
    op.create_index("ix_seller_staff_member_id", "seller_staff", ["member_id"])

    op.create_table(
        "seller_blocks",
        _int("seller_id"),
        _int("creator_id"),
        sa.PrimaryKeyConstraint("seller_id", "creator_id", name="pk_seller_blocks"),
        _fk("seller_blocks", "seller_id", "sellers", ondelete="CASCADE"),
        _fk("seller_blocks", "creator_id", "members", ondelete="CASCADE"),
    )
    op.create_index("ix_seller_blocks_creator_id", "seller_blocks", ["creator_id"])

    op.create_table(
        "products",
        _id(),
        _int("seller_id"),
        _string("title", 200),
        _string("marketplace", 32),
        _string("asin", 10),
        _text("url"),
        _string("category", 100),
        _amount("price_amount"),
        _string("price_currency", 3, nullable=True),
        _text("image_url"),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        _fk("products", "seller_id", "sellers"),
    )
    op.create_index("ix_products_seller_id", "products", ["seller_id"])

    # --- offers --------------------------------------------------------------------------
    op.create_table(
        "offers",
        _id(),
        _int("seller_id"),
        _int("product_id"),
        sa.Column("video_type", sa.SmallInteger(), nullable=False),
        _int("slots"),
        _time("application_deadline", nullable=False),
        _string("reward_kind", 32),
        _amount("reward_amount"),
        _string("reward_currency", 3, nullable=True),
        _text("requirements_text"),
        _flag("landscape"),
        _int("min_length_seconds"),
        _flag("outdoor"),
        _flag("with_children"),
        _flag("with_pets"),
        _flag("face_visible"),
        _string("selection", 32),
        _json("audience"),
        _int("content_deadline_days"),
        _string("state", 32),
        _int("applied_count"),
        _int("selected_count"),
        _time("created_at"),
        _time("published_at"),
        _time("ended_at"),
        _string("end_reason", 64),
        _string("category", 100),  # the product's, for the offer hall filter
        _int("version"),
        sa.PrimaryKeyConstraint("id", name="pk_offers"),
        _fk("offers", "seller_id", "sellers"),
        _fk("offers", "product_id", "products"),
    )
    op.create_index("ix_offers_product_id", "offers", ["product_id"])
    op.create_index("ix_offers_seller", "offers", ["seller_id", "state"])
    # the offer hall and the deadline sweep
    op.create_index("ix_offers_state_deadline", "offers", ["state", "application_deadline"])
    op.create_index("ix_offers_auto_selection", "offers", ["state", "selection"])

    # --- orders --------------------------------------------------------------------------
    op.create_table(
        "orders",
        _id(),
        _int("offer_id"),
        _int("seller_id"),
        _int("creator_id"),
        _string("state", 32),
        _time("applied_at"),
        _time("selected_at"),
        # shipment
        _string("carrier", 100, nullable=True),
        _string("tracking_number", 100, nullable=True),
        _text("tracking_url", nullable=True),
        _time("shipped_at"),
        _time("video_due_at"),
        _int("reminders_sent"),
        _time("next_reminder_at"),
        # the current video
        _int("video_number", nullable=True),
        _text("video_url", nullable=True),
        _string("video_key", 255, nullable=True),
        _time("video_submitted_at"),
        _text("video_file_ref", nullable=True),
        _int("submissions"),
        _flag("completion_counted"),
        _flag("on_time", nullable=True),
        _int("redo_count"),
        _json("last_redo", nullable=True),
        _time("accepted_at"),
        # payment
        _amount("payment_amount"),
        _string("payment_currency", 3, nullable=True),
        _time("payment_confirmed_at"),
        _int("payment_confirmed_by", nullable=True),
        _string("payment_reference", 100, nullable=True),
        _text("reason"),
        _time("closed_at"),
        _int("version"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        _fk("orders", "offer_id", "offers"),
        _fk("orders", "seller_id", "sellers"),
        _fk("orders", "creator_id", "members"),
        _fk("orders", "payment_confirmed_by", "members"),
        # one claim per creator per offer; one video link per order
        sa.UniqueConstraint("creator_id", "offer_id", name="uq_orders_creator_id_offer_id"),
        sa.UniqueConstraint("video_key", name="uq_orders_video_key"),
    )
    op.create_index("ix_orders_offer_state", "orders", ["offer_id", "state"])
    op.create_index("ix_orders_creator_state", "orders", ["creator_id", "state"])
    op.create_index("ix_orders_video_due", "orders", ["state", "video_due_at"])
    op.create_index("ix_orders_reminder_due", "orders", ["state", "next_reminder_at"])
    op.create_index("ix_orders_seller_applied", "orders", ["seller_id", "applied_at"])
    op.create_index("ix_orders_applied", "orders", ["applied_at"])

    op.create_table(
        "video_submissions",
        _id(),
        _int("order_id"),
        _int("number"),
        _text("url"),
        _string("key", 255),
        _time("submitted_at", nullable=False),
        _text("file_ref"),
        sa.PrimaryKeyConstraint("id", name="pk_video_submissions"),
        _fk("video_submissions", "order_id", "orders", ondelete="CASCADE"),
        sa.UniqueConstraint("order_id", "number", name="uq_video_submissions_order_id_number"),
    )

    op.create_table(
        "redo_requests",
        _id(),
        _int("order_id"),
        _int("number"),
        _json("reasons"),
        _text("note"),
        _time("requested_at", nullable=False),
        _int("requested_by"),
        sa.PrimaryKeyConstraint("id", name="pk_redo_requests"),
        _fk("redo_requests", "order_id", "orders", ondelete="CASCADE"),
        _fk("redo_requests", "requested_by", "members"),
        sa.UniqueConstraint("order_id", "number", name="uq_redo_requests_order_id_number"),
    )

    # --- broadcasts and the outbox -------------------------------------------------------
    op.create_table(
        "broadcasts",
        _id(),
        _int("author_id"),
        _text("text"),
        _string("audience_kind", 32),
        _string("audience_value", 255),
        _text("image_url"),
        _text("link_label"),
        _text("link_url"),
        _string("state", 32),
        _time("scheduled_at"),
        _time("created_at"),
        _time("started_at"),
        _time("finished_at"),
        _int("recipients"),
        _int("sent"),
        _int("failed"),
        _int("unreachable"),
        _int("version"),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
        _fk("broadcasts", "author_id", "members"),
    )
    op.create_index("ix_broadcasts_state_scheduled", "broadcasts", ["state", "scheduled_at"])

    op.create_table(
        "outbox",
        # 64-bit on PostgreSQL; SQLite only auto-increments a plain INTEGER key.
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        _string("key", 255),
        _string("template", 64),
        _int("recipient_member_id", nullable=True),
        _json("params"),
        _string("digest", 255, nullable=True),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _time("available_at", nullable=False),
        _time("lease_until"),
        _time("created_at", nullable=False),
        _time("sent_at"),
        _text("last_error", nullable=True),
        _string("channel", 16, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        _fk("outbox", "recipient_member_id", "members", ondelete="CASCADE"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "available_at"])
    op.create_index("ix_outbox_recipient", "outbox", ["recipient_member_id", "id"])


def downgrade() -> None:
    for table in (
        "outbox",
        "broadcasts",
        "redo_requests",
        "video_submissions",
        "orders",
        "offers",
        "products",
        "seller_blocks",
        "seller_staff",
        "sellers",
        "creator_profiles",
        "channel_identities",
        "members",
    ):
        op.drop_table(table)
