"""reminders

Appointment reminders (issue 20, items 1-4):

- ``tenant_settings``: reminders per channel on/off and hours before the visit, whose
  appointments (online bookings or every Opus appointment), quiet hours, and whether
  the reminder's link may cancel or rebook without BankID. Plain ``ADD COLUMN`` with
  column CHECKs: the table has counter triggers, so SQLite must not rebuild it.
- ``opus_appointment``: the patient's mobile number and names, and when the sync first
  saw the appointment (reminders of every Opus appointment).
- ``message_template`` and ``outbox_message``: the kind ``reminder``; the outbox's
  status ``withdrawn`` (a reminder whose appointment was cancelled before it went).
  SQLite rebuilds both (neither has triggers).
- ``reminder``: one row per appointment and channel, planned, queued or skipped.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX_KINDS_BEFORE = "'code', 'new', 'rebook', 'cancel', 'conflict'"
OUTBOX_KINDS_AFTER = "'code', 'new', 'rebook', 'cancel', 'conflict', 'reminder'"
OUTBOX_STATUSES_BEFORE = "'pending', 'sending', 'sent', 'delivered', 'failed'"
OUTBOX_STATUSES_AFTER = "'pending', 'sending', 'sent', 'delivered', 'failed', 'withdrawn'"
TEMPLATE_KINDS_BEFORE = "'new', 'rebook', 'cancel'"
TEMPLATE_KINDS_AFTER = "'new', 'rebook', 'cancel', 'reminder'"


def _settings_columns(false: str) -> list[tuple[str, str]]:
    return [
        ("reminder_email_enabled", f"BOOLEAN NOT NULL DEFAULT {false}"),
        (
            "reminder_email_hours",
            "INTEGER NOT NULL DEFAULT 72 CONSTRAINT ck_tenant_settings_reminder_email_hours_range"
            " CHECK (reminder_email_hours BETWEEN 1 AND 336)",
        ),
        ("reminder_sms_enabled", f"BOOLEAN NOT NULL DEFAULT {false}"),
        (
            "reminder_sms_hours",
            "INTEGER NOT NULL DEFAULT 48 CONSTRAINT ck_tenant_settings_reminder_sms_hours_range"
            " CHECK (reminder_sms_hours BETWEEN 1 AND 336)",
        ),
        (
            "reminder_scope",
            "VARCHAR(6) NOT NULL DEFAULT 'online' CONSTRAINT "
            "ck_tenant_settings_reminder_scope_known CHECK (reminder_scope IN ('online', 'all'))",
        ),
        (
            "reminder_quiet_start",
            "INTEGER NOT NULL DEFAULT 21 CONSTRAINT ck_tenant_settings_reminder_quiet_start_hour"
            " CHECK (reminder_quiet_start BETWEEN 0 AND 23)",
        ),
        (
            "reminder_quiet_end",
            "INTEGER NOT NULL DEFAULT 8 CONSTRAINT ck_tenant_settings_reminder_quiet_end_hour"
            " CHECK (reminder_quiet_end BETWEEN 0 AND 23)",
        ),
        ("manage_without_login", f"BOOLEAN NOT NULL DEFAULT {false}"),
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    when = connectors.store.types.UtcDateTime(timezone=True)
    # A SQLite downgrade leaves them (see downgrade): an upgrade after it keeps them.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("tenant_settings")}
    for name, spec in _settings_columns("0" if sqlite else "false"):
        if name in present:
            continue
        op.execute(f"ALTER TABLE tenant_settings ADD COLUMN {name} {spec}")

    op.add_column("opus_appointment", sa.Column("mobile", sa.String(length=16)))
    op.add_column("opus_appointment", sa.Column("first_name", sa.String(length=50)))
    op.add_column("opus_appointment", sa.Column("last_name", sa.String(length=50)))
    op.add_column("opus_appointment", sa.Column("first_seen_at", when))

    recreate = "always" if sqlite else "auto"
    with op.batch_alter_table("message_template", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f("ck_message_template_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_message_template_kind_known"), f"kind IN ({TEMPLATE_KINDS_AFTER})"
        )
    with op.batch_alter_table("outbox_message", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_kind_known"), f"kind IN ({OUTBOX_KINDS_AFTER})"
        )
        batch_op.drop_constraint(op.f("ck_outbox_message_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_status_known"), f"status IN ({OUTBOX_STATUSES_AFTER})"
        )

    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("opus_appointment_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=5), nullable=False),
        sa.Column("starts_at", when, nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("skip_reason", sa.String(length=20), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_reminder_channel_known")),
        sa.CheckConstraint(
            "status IN ('planned', 'queued', 'skipped')", name=op.f("ck_reminder_status_known")
        ),
        sa.CheckConstraint(
            "(booking_id IS NULL) <> (opus_appointment_id IS NULL)",
            name=op.f("ck_reminder_one_appointment"),
        ),
        sa.CheckConstraint(
            "status <> 'queued' OR outbox_message_id IS NOT NULL",
            name=op.f("ck_reminder_queued_has_message"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_reminder_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opus_appointment_id"],
            ["opus_appointment.id"],
            name=op.f("fk_reminder_opus_appointment_id_opus_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_reminder_outbox_message_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_reminder_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("booking_id", "channel", name=op.f("uq_reminder_booking_id")),
        sa.UniqueConstraint(
            "opus_appointment_id",
            "channel",
            "starts_at",
            name=op.f("uq_reminder_opus_appointment_id"),
        ),
    )
    op.create_index("ix_reminder_due", "reminder", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_reminder_tenant_id"), "reminder", ["tenant_id"], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(op.f("ix_reminder_tenant_id"), table_name="reminder")
    op.drop_index("ix_reminder_due", table_name="reminder")
    op.drop_table("reminder")
    op.execute("DELETE FROM message_template WHERE kind = 'reminder'")
    op.execute("DELETE FROM outbox_message WHERE kind = 'reminder'")
    recreate = "always" if sqlite else "auto"
    with op.batch_alter_table("outbox_message", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_status_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_status_known"), f"status IN ({OUTBOX_STATUSES_BEFORE})"
        )
        batch_op.drop_constraint(op.f("ck_outbox_message_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_kind_known"), f"kind IN ({OUTBOX_KINDS_BEFORE})"
        )
    with op.batch_alter_table("message_template", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f("ck_message_template_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_message_template_kind_known"), f"kind IN ({TEMPLATE_KINDS_BEFORE})"
        )
    for column in ("first_seen_at", "last_name", "first_name", "mobile"):
        op.drop_column("opus_appointment", column)
    # SQLite drops a column only without a CHECK on it: these are left behind there
    # (harmless: nothing reads them once the code is downgraded too).
    if not sqlite:
        for name, _ in reversed(_settings_columns("false")):
            op.drop_column("tenant_settings", name)
