"""client limits

Holds and code messages limited per client (booking_app.limits): the holding client's
keyed hashes on ``booking``, codes sent and wrong tries over a hold's life, the
tenant's allowed SMS country codes and hourly cap on code messages, and
``limit_hit``: how often each limit refused someone, per tenant.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): SQLite keeps booking's triggers this way.
    op.add_column(
        "booking", sa.Column("codes_sent", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "booking", sa.Column("code_wrong_tries", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("booking", sa.Column("client_address_key", sa.String(length=64)))
    op.add_column("booking", sa.Column("client_cookie_key", sa.String(length=64)))
    op.create_index(
        "ix_booking_client_address_key", "booking", ["client_address_key", "hold_expires_at"]
    )
    op.create_index(
        "ix_booking_client_cookie_key", "booking", ["client_cookie_key", "hold_expires_at"]
    )
    op.create_index(
        "ix_outbox_message_kind_recipient", "outbox_message", ["kind", "recipient", "created_at"]
    )
    op.add_column(
        "tenant_settings",
        sa.Column(
            "sms_country_codes", sa.String(length=64), nullable=False, server_default="46,47,45,358"
        ),
    )
    op.add_column(
        "tenant_settings",
        sa.Column("code_messages_per_hour", sa.Integer(), nullable=False, server_default="100"),
    )
    op.create_table(
        "limit_hit",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("last_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_limit_hit_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "kind", name=op.f("pk_limit_hit")),
    )


def downgrade() -> None:
    op.drop_table("limit_hit")
    op.drop_column("tenant_settings", "code_messages_per_hour")
    op.drop_column("tenant_settings", "sms_country_codes")
    op.drop_index("ix_outbox_message_kind_recipient", "outbox_message")
    op.drop_index("ix_booking_client_cookie_key", "booking")
    op.drop_index("ix_booking_client_address_key", "booking")
    op.drop_column("booking", "client_cookie_key")
    op.drop_column("booking", "client_address_key")
    op.drop_column("booking", "code_wrong_tries")
    op.drop_column("booking", "codes_sent")
