"""patient e-ID login: BankID orders, patient sessions, Opus appointments

``bankid_order``: a login in progress, bound to the browser by a hashed cookie.
``patient_session``: a logged-in patient (only the hash of the session id is kept);
one order makes at most one session. ``opus_appointment``: the appointments in the
Opus books with their patient's personal number, for *Mina bokningar*.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bankid_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("auto_start_token", sa.String(length=64), nullable=False),
        sa.Column("qr_start_token", sa.String(length=64), nullable=False),
        sa.Column("qr_start_secret", sa.String(length=64), nullable=True),
        sa.Column("method", sa.String(length=3), nullable=False),
        sa.Column("return_to", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("hint_code", sa.String(length=40), nullable=True),
        sa.Column("started_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", connectors.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("method IN ('qr', 'app')", name=op.f("ck_bankid_order_method_known")),
        sa.CheckConstraint(
            "status IN ('pending', 'complete', 'failed', 'cancelled')",
            name=op.f("ck_bankid_order_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_bankid_order_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bankid_order")),
        sa.UniqueConstraint("browser_hash", name=op.f("uq_bankid_order_browser_hash")),
        sa.UniqueConstraint("order_ref", name=op.f("uq_bankid_order_order_ref")),
    )
    with op.batch_alter_table("bankid_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bankid_order_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "patient_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("personal_number", sa.String(length=12), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("surname", sa.String(length=100), nullable=True),
        sa.Column("created_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("expires_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", connectors.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(personal_number) = 12", name=op.f("ck_patient_session_personal_number_form")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["bankid_order.id"],
            name=op.f("fk_patient_session_order_id_bankid_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_patient_session_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_session")),
        sa.UniqueConstraint("order_id", name=op.f("uq_patient_session_order_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_session_token_hash")),
    )
    with op.batch_alter_table("patient_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_session_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "opus_appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("opus_database_id", sa.Integer(), nullable=False),
        sa.Column("opus_appointment_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("treatment_id", sa.Integer(), nullable=True),
        sa.Column("personal_number", sa.String(length=12), nullable=True),
        sa.Column("starts_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("row_version", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_opus_appointment_clinic_id_clinic"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opus_database_id"],
            ["opus_database.id"],
            name=op.f("fk_opus_appointment_opus_database_id_opus_database"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioner.id"],
            name=op.f("fk_opus_appointment_practitioner_id_practitioner"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_opus_appointment_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"],
            ["treatment.id"],
            name=op.f("fk_opus_appointment_treatment_id_treatment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opus_appointment")),
        sa.UniqueConstraint(
            "opus_database_id",
            "opus_appointment_id",
            name=op.f("uq_opus_appointment_opus_database_id"),
        ),
    )
    with op.batch_alter_table("opus_appointment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_opus_appointment_patient",
            ["tenant_id", "personal_number", "starts_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("opus_appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_opus_appointment_patient")

    op.drop_table("opus_appointment")
    with op.batch_alter_table("patient_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_session_tenant_id"))

    op.drop_table("patient_session")
    with op.batch_alter_table("bankid_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bankid_order_tenant_id"))

    op.drop_table("bankid_order")
