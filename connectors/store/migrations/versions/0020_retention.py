"""retention

How long personal data is kept, per tenant (*Avancerat* → *Gallring*): visit events
(days), bookings' personal data after the visit (months), sent messages' recipients
and contents (days), each with a check on its range; and ``booking.pseudonymised_at``,
set when retention has removed a booking's personal data, with a partial index that
finds the bookings still holding it, and one that finds the messages whose recipient
retention has not cleared yet (connectors.store.retention).

Plain ADD COLUMN on both stores (no batch rebuild): SQLite keeps the triggers of
``tenant_settings`` and ``booking`` this way. SQLite takes a named CHECK in the
column's definition; PostgreSQL gets the same constraint by name.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = {
    # name: (default, low, high), as connectors.store.models.RETENTION_RANGES
    "retention_visit_event_days": (400, 7, 400),
    "retention_booking_months": (24, 1, 24),
    "retention_message_days": (30, 1, 30),
}


def _check_name(column: str) -> str:
    return f"ck_tenant_settings_{column}_range"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, (default, low, high) in SETTINGS.items():
        check = f"{column} BETWEEN {low} AND {high}"
        if sqlite:
            op.execute(
                f"ALTER TABLE tenant_settings ADD COLUMN {column} INTEGER NOT NULL "
                f"DEFAULT {default} CONSTRAINT {_check_name(column)} CHECK ({check})"
            )
        else:
            op.add_column(
                "tenant_settings",
                sa.Column(column, sa.Integer(), nullable=False, server_default=str(default)),
            )
            op.create_check_constraint(op.f(_check_name(column)), "tenant_settings", check)
    op.add_column(
        "booking",
        sa.Column("pseudonymised_at", connectors.store.types.UtcDateTime(timezone=True)),
    )
    op.create_index(
        "ix_booking_not_pseudonymised",
        "booking",
        ["ends_at"],
        sqlite_where=sa.text("pseudonymised_at IS NULL"),
        postgresql_where=sa.text("pseudonymised_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_message_not_cleared",
        "outbox_message",
        ["created_at"],
        sqlite_where=sa.text("recipient <> ''"),
        postgresql_where=sa.text("recipient <> ''"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_message_not_cleared", "outbox_message")
    op.drop_index("ix_booking_not_pseudonymised", "booking")
    op.drop_column("booking", "pseudonymised_at")
    for column in reversed(SETTINGS):
        op.drop_column("tenant_settings", column)
