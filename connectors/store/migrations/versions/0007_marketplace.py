"""boka vard publication

``marketplace_account``: a tenant's Boka vård account, its activation state as last
seen and the reference to its bearer token. ``marketplace_resource``: the publish
state, one row per FHIR resource the marketplace accepted (with the hash of what it
accepted). ``marketplace_appointment``: Appointments booked on the marketplace and
what became of each (a booking, a conflict, or refused as invalid).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "marketplace_account",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("token_ref", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("checked_at", connectors.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_success_at", connectors.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('unknown', 'waiting', 'active', 'refused')",
            name=op.f("ck_marketplace_account_state_known"),
        ),
        sa.CheckConstraint(
            "token_ref IS NULL OR token_ref LIKE 'env:%' OR token_ref LIKE 'prefect-secret:%'",
            name=op.f("ck_marketplace_account_token_ref_is_a_reference"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_marketplace_account_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_marketplace_account")),
    )
    op.create_table(
        "marketplace_resource",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=20), nullable=False),
        sa.Column("identifier", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "published_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint(
            "resource_type IN ('Location', 'Practitioner', 'PractitionerRole', "
            "'HealthcareService', 'Schedule', 'Slot')",
            name=op.f("ck_marketplace_resource_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_marketplace_resource_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "resource_type", "identifier", name=op.f("pk_marketplace_resource")
        ),
    )
    op.create_table(
        "marketplace_appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.String(length=64), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("taken_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("told_at", connectors.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('booked', 'conflict', 'invalid')",
            name=op.f("ck_marketplace_appointment_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_marketplace_appointment_booking_id_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_marketplace_appointment_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_appointment")),
        sa.UniqueConstraint(
            "tenant_id", "appointment_id", name=op.f("uq_marketplace_appointment_tenant_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("marketplace_appointment")
    op.drop_table("marketplace_resource")
    op.drop_table("marketplace_account")
