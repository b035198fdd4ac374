"""notifications: outbox claims and SMS delivery reports

``outbox_message`` gets the statuses ``sending`` (claimed by a worker, whose lease ends
at ``next_attempt_at``) and ``delivered`` (the SMS gateway's delivery report), the
gateway's id of a sent SMS, the delivery time, and an index on ``booking_id`` (a
booking's messages go out in order).

SQLite cannot alter a CHECK constraint in place: ``outbox_message`` is rebuilt. It has
no triggers (unlike ``booking``), so nothing needs creating again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_BEFORE = "'pending', 'sent', 'failed'"
STATUSES_AFTER = "'pending', 'sending', 'sent', 'delivered', 'failed'"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    when = connectors.store.types.UtcDateTime(timezone=True)
    with op.batch_alter_table(
        "outbox_message", recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", when, nullable=True))
        batch_op.drop_constraint(op.f("ck_outbox_message_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_status_known"), f"status IN ({STATUSES_AFTER})"
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_booking_id"), ["booking_id"], unique=False
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # A claimed message was not sent yet; a delivered one was sent.
    op.execute("UPDATE outbox_message SET status = 'pending' WHERE status = 'sending'")
    op.execute("UPDATE outbox_message SET status = 'sent' WHERE status = 'delivered'")
    with op.batch_alter_table(
        "outbox_message", recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_booking_id"))
        batch_op.drop_constraint(op.f("ck_outbox_message_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_status_known"), f"status IN ({STATUSES_BEFORE})"
        )
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("provider_id")
