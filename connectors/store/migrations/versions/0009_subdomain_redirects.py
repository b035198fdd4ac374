"""subdomain redirects

``subdomain_redirect``: a tenant's former subdomain, redirected to its current one
until it expires (the *Underdomän* tab writes it when the name changes).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subdomain_redirect",
        sa.Column("subdomain", sa.String(length=63), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", connectors.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(subdomain) BETWEEN 1 AND 63 AND subdomain = lower(subdomain)",
            name=op.f("ck_subdomain_redirect_subdomain_form"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_subdomain_redirect_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subdomain", name=op.f("pk_subdomain_redirect")),
    )
    op.create_index(
        op.f("ix_subdomain_redirect_tenant_id"), "subdomain_redirect", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_subdomain_redirect_tenant_id"), table_name="subdomain_redirect")
    op.drop_table("subdomain_redirect")
