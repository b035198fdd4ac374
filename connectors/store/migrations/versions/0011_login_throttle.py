"""login throttle

``login_throttle``: failed logins per client address and kind of login in a window,
kept in the store so that every app process counts the same guesses.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column(
            "window_start", connectors.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "client", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
