"""outbox dismissed

``outbox_message.dismissed_at``: when an operator dismissed a message that failed for
good (*Att hantera* → *Avfärda*). The message stays ``failed`` (it was never sent, and
the notification statistics say so); a dismissed one is no longer listed as something
to do. Empty for every other message.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-13
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outbox_message",
        sa.Column("dismissed_at", connectors.store.types.UtcDateTime(timezone=True)),
    )


def downgrade() -> None:
    # Plain DROP COLUMN, no batch rebuild (SQLite's triggers name other tables' columns).
    op.drop_column("outbox_message", "dismissed_at")
