"""operators and the audit log

``operator``: accounts (argon2id password hashes, login throttling). ``operator_grant``:
an operator's role per tenant. ``operator_session``: logged-in operators (only the
hash of the session id is kept). ``audit_entry``: every setting an operator changed,
with old and new value.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", connectors.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_operator_email_lower")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("email", name=op.f("uq_operator_email")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("operator_email", sa.String(length=254), nullable=False),
        sa.Column("at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("setting", sa.String(length=100), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_audit_entry_operator_id_operator"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_audit_entry_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_tenant_at", ["tenant_id", "at"], unique=False)

    op.create_table(
        "operator_grant",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('administrator', 'operator', 'analyst')",
            name=op.f("ck_operator_grant_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_operator_grant_operator_id_operator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_operator_grant_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operator_id", "tenant_id", name=op.f("pk_operator_grant")),
    )
    with op.batch_alter_table("operator_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_grant_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "operator_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("expires_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", connectors.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_operator_session_operator_id_operator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_session_token_hash")),
    )
    with op.batch_alter_table("operator_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_session_operator_id"), ["operator_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("operator_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_session_operator_id"))

    op.drop_table("operator_session")
    with op.batch_alter_table("operator_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_grant_tenant_id"))

    op.drop_table("operator_grant")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_tenant_at")

    op.drop_table("audit_entry")
    op.drop_table("operator")
