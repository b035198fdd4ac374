"""write-back fleet

Each Opus database's own connection timeout and retry count (empty: the global
``OPUS_OPUS_CONNECT_TIMEOUT_S`` / ``OPUS_OPUS_RETRIES``), so one slow site can be given
more time, or a flaky one fewer retries, without touching the others.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("opus_database", sa.Column("connect_timeout_s", sa.Integer()))
    op.add_column("opus_database", sa.Column("retries", sa.Integer()))


def downgrade() -> None:
    # Plain DROP COLUMN, no batch rebuild: rebuilding opus_database on SQLite would
    # break the change-counter triggers that name it (migration 0010).
    op.drop_column("opus_database", "retries")
    op.drop_column("opus_database", "connect_timeout_s")
