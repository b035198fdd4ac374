"""booking write-back to Opus, rebookings

Adds the ``worker_lease`` table (one write-back at a time) and, to ``booking``, what
write-back needs (change/written sequence numbers, the Opus
appointment and patient ids, retry bookkeeping, the conflict reason), the shared
``appointment_key`` of a booking and its rebookings, and the status ``rebooked``.

SQLite cannot alter a CHECK constraint in place: the table is rebuilt, which drops its
triggers, so the overlap triggers of 0002 are created again afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES_BEFORE = "'held', 'confirmed', 'cancelled', 'expired', 'conflict'"
STATUSES_AFTER = STATUSES_BEFORE + ", 'rebooked'"
ACTIVE = "('held', 'confirmed')"
DUE = "change_seq > written_seq"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    when = connectors.store.types.UtcDateTime(timezone=True)
    with op.batch_alter_table("booking", recreate="always" if sqlite else "auto") as batch_op:
        batch_op.add_column(sa.Column("appointment_key", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("rebooked_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("change_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("written_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("write_back_next_at", when, nullable=True))
        batch_op.add_column(
            sa.Column("write_back_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("write_back_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("written_back_at", when, nullable=True))
        batch_op.add_column(sa.Column("opus_appointment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("opus_patient_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("opus_range_treatments", sa.String(400), nullable=True))
        batch_op.add_column(sa.Column("conflict_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", when, nullable=True))
        batch_op.drop_constraint(op.f("ck_booking_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_booking_status_known"), f"status IN ({STATUSES_AFTER})"
        )
        batch_op.create_check_constraint(
            op.f("ck_booking_written_not_ahead"), "written_seq <= change_seq"
        )
        batch_op.create_foreign_key(
            op.f("fk_booking_rebooked_from_id_booking"), "booking", ["rebooked_from_id"], ["id"]
        )
    op.execute("UPDATE booking SET appointment_key = idempotency_key")
    # Bookings confirmed before write-back existed are due once.
    op.execute("UPDATE booking SET change_seq = 1 WHERE status = 'confirmed'")
    with op.batch_alter_table("booking", recreate="always" if sqlite else "auto") as batch_op:
        batch_op.alter_column("appointment_key", existing_type=sa.String(36), nullable=False)
        batch_op.create_index("ix_booking_appointment_key", ["appointment_key"])
        batch_op.create_index(
            "ix_booking_write_back_due",
            ["write_back_next_at"],
            sqlite_where=sa.text(DUE),
            postgresql_where=sa.text(DUE),
        )
    op.create_table(
        "worker_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_lease")),
    )
    if sqlite:
        _create_overlap_triggers()


def _create_overlap_triggers() -> None:
    # The same triggers as 0002 (kept literal: migrations do not import each other).
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS tr_booking_no_overlap_{event.lower()} "
            f"BEFORE {event} ON booking "
            f"WHEN NEW.status IN {ACTIVE} "
            "BEGIN SELECT RAISE(ABORT, 'ex_booking_practitioner_time: the time is taken') "
            "WHERE EXISTS (SELECT 1 FROM booking b WHERE b.practitioner_id = NEW.practitioner_id "
            f"AND b.id IS NOT NEW.id AND b.status IN {ACTIVE} "
            "AND b.blocks_from < NEW.blocks_until AND b.blocks_until > NEW.blocks_from); END"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("worker_lease")
    op.execute("UPDATE booking SET status = 'cancelled' WHERE status = 'rebooked'")
    with op.batch_alter_table("booking", recreate="always" if sqlite else "auto") as batch_op:
        batch_op.drop_index("ix_booking_write_back_due")
        batch_op.drop_index("ix_booking_appointment_key")
        batch_op.drop_constraint(op.f("fk_booking_rebooked_from_id_booking"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_booking_written_not_ahead"), type_="check")
        batch_op.drop_constraint(op.f("ck_booking_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_booking_status_known"), f"status IN ({STATUSES_BEFORE})"
        )
        for column in (
            "cancelled_at",
            "conflict_reason",
            "opus_range_treatments",
            "opus_patient_id",
            "opus_appointment_id",
            "written_back_at",
            "write_back_error",
            "write_back_attempts",
            "write_back_next_at",
            "written_seq",
            "change_seq",
            "rebooked_from_id",
            "appointment_key",
        ):
            batch_op.drop_column(column)
    if sqlite:
        _create_overlap_triggers()
