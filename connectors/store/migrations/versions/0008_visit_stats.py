"""visit statistics

``visit_event``: page views from the booking sites' beacon, with nothing personal in
them (a salted visitor hash, a route template, a source host, a device class);
``visit_salt``: the per tenant, per day salts of those hashes, deleted after the day.
``stats_*_daily``: the visit-stats flow's daily tables, rewritten a day at a time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_booking_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("rebooked", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("with_campaign_code", sa.Integer(), nullable=False),
        sa.Column("lead_time_minutes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_booking_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "day",
            "clinic_id",
            "practitioner_id",
            "treatment_id",
            "channel",
            name=op.f("pk_stats_booking_daily"),
        ),
    )
    op.create_table(
        "stats_campaign_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("campaign_code", sa.String(length=30), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_campaign_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "clinic_id", "campaign_code", name=op.f("pk_stats_campaign_daily")
        ),
    )
    op.create_table(
        "stats_device_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("device", sa.String(length=7), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_device_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "device", name=op.f("pk_stats_device_daily")),
    )
    op.create_table(
        "stats_funnel_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=10), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_funnel_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "step", name=op.f("pk_stats_funnel_daily")),
    )
    op.create_table(
        "stats_source_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_source_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", "source", name=op.f("pk_stats_source_daily")),
    )
    op.create_table(
        "stats_utilisation_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("published_minutes", sa.Integer(), nullable=False),
        sa.Column("booked_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_utilisation_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "clinic_id", "hour", name=op.f("pk_stats_utilisation_daily")
        ),
    )
    op.create_table(
        "stats_visits_daily",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pageviews", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stats_visits_daily_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", name=op.f("pk_stats_visits_daily")),
    )
    op.create_table(
        "visit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("visitor", sa.BigInteger(), nullable=False),
        sa.Column("page", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=True),
        sa.Column("device", sa.String(length=7), nullable=False),
        sa.CheckConstraint(
            "device IN ('mobile', 'tablet', 'desktop')", name=op.f("ck_visit_event_device_known")
        ),
        sa.CheckConstraint(
            "page IN ('start', 'klinik', 'behandling', 'behandlare', 'tid', 'uppgifter', 'kod', 'bekraftad', 'sida')",
            name=op.f("ck_visit_event_page_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_visit_event_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_event")),
    )
    op.create_index(op.f("ix_visit_event_at"), "visit_event", ["at"], unique=False)
    op.create_table(
        "visit_salt",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_visit_salt_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", name=op.f("pk_visit_salt")),
    )


def downgrade() -> None:
    op.drop_table("visit_salt")
    op.drop_index(op.f("ix_visit_event_at"), table_name="visit_event")
    op.drop_table("visit_event")
    op.drop_table("stats_visits_daily")
    op.drop_table("stats_utilisation_daily")
    op.drop_table("stats_source_daily")
    op.drop_table("stats_funnel_daily")
    op.drop_table("stats_device_daily")
    op.drop_table("stats_campaign_daily")
    op.drop_table("stats_booking_daily")
