"""patient lookup

An index on a booking's tenant and personal number: a patient's bookings are found by
it (Mina bokningar, and the operators' export and erasure of a patient's data, which
update them inside a short write transaction and must not scan a tenant's bookings).
A plain CREATE INDEX, not a batch rebuild: on SQLite the change-counter triggers name
the booking table (migration 0010).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_booking_tenant_personal_number", "booking", ["tenant_id", "personal_number"]
    )


def downgrade() -> None:
    op.drop_index("ix_booking_tenant_personal_number", table_name="booking")
