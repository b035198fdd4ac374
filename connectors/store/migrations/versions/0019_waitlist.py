"""waitlist: the earlier-time waiting list (återbudslista)

- ``tenant_settings``: ``waitlist_enabled`` (off), ``waitlist_hold_minutes`` (15),
  ``waitlist_offers_per_day`` (3). Plain ADD COLUMN on SQLite, checks on the columns:
  the table's change-counter triggers (0010) forbid a batch rebuild.
- ``waitlist_entry``, ``waitlist_opening``, ``waitlist_offer`` with the unique indexes
  that make offers and acceptances happen once (see connectors.store.waitlist_models).
- A trigger on ``booking``: a confirmed booking that is cancelled or moved records its
  freed time as a ``waitlist_opening`` when the tenant has the list on, in the same
  transaction, whichever code path made the change.
- ``outbox_message.kind`` may be ``offer``. SQLite rebuilds ``outbox_message`` (it has
  no triggers).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import connectors.store.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "'code', 'new', 'rebook', 'cancel', 'conflict', 'reminder'"
KINDS_AFTER = "'code', 'new', 'rebook', 'cancel', 'conflict', 'reminder', 'offer'"

_SETTINGS = (
    ("waitlist_enabled", "BOOLEAN NOT NULL DEFAULT false", None),
    (
        "waitlist_hold_minutes",
        "INTEGER NOT NULL DEFAULT 15",
        ("waitlist_hold_range", "waitlist_hold_minutes BETWEEN 5 AND 240"),
    ),
    (
        "waitlist_offers_per_day",
        "INTEGER NOT NULL DEFAULT 3",
        ("waitlist_offers_range", "waitlist_offers_per_day BETWEEN 1 AND 20"),
    ),
)

_OPENING_COLUMNS = (
    "tenant_id, clinic_id, practitioner_id, starts_at, ends_at, treatment_ids, source, "
    "booking_id, status, created_at"
)
_PG_FUNCTION = f"""
CREATE FUNCTION waitlist_booking_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM tenant_settings
               WHERE tenant_id = NEW.tenant_id AND waitlist_enabled) THEN
        INSERT INTO waitlist_opening ({_OPENING_COLUMNS})
        VALUES (NEW.tenant_id, NEW.clinic_id, NEW.practitioner_id, NEW.blocks_from,
                NEW.blocks_until,
                left(concat_ws(',', NEW.treatment_id::text, NEW.opus_range_treatments), 400),
                CASE NEW.status WHEN 'cancelled' THEN 'cancel' ELSE 'rebook' END,
                NEW.id, 'pending', COALESCE(NEW.cancelled_at, NEW.updated_at));
    END IF;
    RETURN NULL;
END
$$
"""
_WHEN = "OLD.status = 'confirmed' AND NEW.status IN ('cancelled', 'rebooked')"
_SQLITE_TRIGGER = f"""
CREATE TRIGGER waitlist_booking_freed AFTER UPDATE OF status ON booking
FOR EACH ROW WHEN {_WHEN}
    AND EXISTS (SELECT 1 FROM tenant_settings
                WHERE tenant_id = NEW.tenant_id AND waitlist_enabled)
BEGIN
    INSERT INTO waitlist_opening ({_OPENING_COLUMNS})
    VALUES (NEW.tenant_id, NEW.clinic_id, NEW.practitioner_id, NEW.blocks_from,
            NEW.blocks_until,
            substr(NEW.treatment_id || COALESCE(',' || NEW.opus_range_treatments, ''), 1, 400),
            CASE NEW.status WHEN 'cancelled' THEN 'cancel' ELSE 'rebook' END,
            NEW.id, 'pending', COALESCE(NEW.cancelled_at, NEW.updated_at));
END
"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    when = connectors.store.types.UtcDateTime(timezone=True)
    for name, definition, check in _SETTINGS:
        if sqlite:
            inline = (
                f" CONSTRAINT ck_tenant_settings_{check[0]} CHECK ({check[1]})" if check else ""
            )
            op.execute(f"ALTER TABLE tenant_settings ADD COLUMN {name} {definition}{inline}")
        else:
            op.execute(f"ALTER TABLE tenant_settings ADD COLUMN {name} {definition}")
            if check:
                op.create_check_constraint(
                    op.f(f"ck_tenant_settings_{check[0]}"), "tenant_settings", check[1]
                )

    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.Column("earliest_minute", sa.Integer(), nullable=True),
        sa.Column("latest_minute", sa.Integer(), nullable=True),
        sa.Column("not_before", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("offers_day", sa.Date(), nullable=True),
        sa.Column("offers_on_day", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("ended_at", when, nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'done', 'left', 'ended')",
            name=op.f("ck_waitlist_entry_status_known"),
        ),
        sa.CheckConstraint(
            "earliest_minute IS NULL OR earliest_minute BETWEEN 0 AND 1439",
            name=op.f("ck_waitlist_entry_earliest_in_day"),
        ),
        sa.CheckConstraint(
            "latest_minute IS NULL OR latest_minute BETWEEN 0 AND 1439",
            name=op.f("ck_waitlist_entry_latest_in_day"),
        ),
        sa.CheckConstraint(
            "earliest_minute IS NULL OR latest_minute IS NULL OR earliest_minute < latest_minute",
            name=op.f("ck_waitlist_entry_earliest_before_latest"),
        ),
        sa.CheckConstraint(
            "length(weekdays) BETWEEN 1 AND 7", name=op.f("ck_waitlist_entry_weekdays_given")
        ),
        sa.CheckConstraint("offers_on_day >= 0", name=op.f("ck_waitlist_entry_offers_counted")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_waitlist_entry_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_waitlist_entry_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    op.create_index(
        "uq_waitlist_entry_active_booking",
        "waitlist_entry",
        ["booking_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_waitlist_entry_line",
        "waitlist_entry",
        ["tenant_id", "clinic_id", "status", "created_at"],
    )

    op.create_table(
        "waitlist_opening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", when, nullable=False),
        sa.Column("ends_at", when, nullable=False),
        sa.Column("treatment_ids", sa.String(length=400), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("processed_at", when, nullable=True),
        sa.Column("first_offer_at", when, nullable=True),
        sa.CheckConstraint(
            "source IN ('cancel', 'rebook', 'sync', 'offer')",
            name=op.f("ck_waitlist_opening_source_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'done')", name=op.f("ck_waitlist_opening_status_known")
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_waitlist_opening_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_waitlist_opening_booking_id_booking"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_waitlist_opening_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_opening")),
    )
    op.create_index("ix_waitlist_opening_pending", "waitlist_opening", ["status", "id"])
    op.create_index(
        "ix_waitlist_opening_tenant_created", "waitlist_opening", ["tenant_id", "created_at"]
    )

    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=True),
        sa.Column("held_booking_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", when, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("answered_at", when, nullable=True),
        sa.CheckConstraint(
            "status IN ('offered', 'accepted', 'expired', 'declined', 'void')",
            name=op.f("ck_waitlist_offer_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entry.id"],
            name=op.f("fk_waitlist_offer_entry_id_waitlist_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["held_booking_id"],
            ["booking.id"],
            name=op.f("fk_waitlist_offer_held_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opening_id"],
            ["waitlist_opening.id"],
            name=op.f("fk_waitlist_offer_opening_id_waitlist_opening"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_waitlist_offer_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offer")),
        sa.UniqueConstraint("held_booking_id", name=op.f("uq_waitlist_offer_held_booking_id")),
    )
    for name, columns, status in (
        ("uq_waitlist_offer_open_per_entry", ["entry_id"], "offered"),
        ("uq_waitlist_offer_accepted_per_entry", ["entry_id"], "accepted"),
        ("uq_waitlist_offer_open_time", ["practitioner_id", "starts_at"], "offered"),
    ):
        where = sa.text(f"status = '{status}'")
        op.create_index(
            name, "waitlist_offer", columns, unique=True, sqlite_where=where, postgresql_where=where
        )
    op.create_index(
        "uq_waitlist_offer_entry_time",
        "waitlist_offer",
        ["entry_id", "practitioner_id", "starts_at"],
        unique=True,
    )
    op.create_index("ix_waitlist_offer_due", "waitlist_offer", ["status", "expires_at"])
    op.create_index(
        "ix_waitlist_offer_tenant_created", "waitlist_offer", ["tenant_id", "created_at"]
    )

    if sqlite:
        op.execute(_SQLITE_TRIGGER)
    else:
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER waitlist_booking_freed AFTER UPDATE OF status ON booking "
            f"FOR EACH ROW WHEN ({_WHEN}) EXECUTE FUNCTION waitlist_booking_freed()"
        )
    _outbox_kinds(KINDS_AFTER, sqlite)


def _outbox_kinds(kinds: str, sqlite: bool) -> None:
    with op.batch_alter_table(
        "outbox_message", recreate="always" if sqlite else "auto"
    ) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_message_kind_known"), f"kind IN ({kinds})")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DELETE FROM outbox_message WHERE kind = 'offer'")
    _outbox_kinds(KINDS_BEFORE, sqlite)
    op.execute("DROP TRIGGER waitlist_booking_freed" + ("" if sqlite else " ON booking"))
    if not sqlite:
        op.execute("DROP FUNCTION waitlist_booking_freed()")
    op.drop_table("waitlist_offer")
    op.drop_table("waitlist_opening")
    op.drop_table("waitlist_entry")
    for name, _, check in reversed(_SETTINGS):
        if check and not sqlite:
            op.drop_constraint(op.f(f"ck_tenant_settings_{check[0]}"), "tenant_settings")
        # Plain DROP COLUMN (SQLite 3.35+; its CHECK is the column's own, which SQLite
        # drops with it): no rebuild of a table the counter triggers name.
        op.execute(f"ALTER TABLE tenant_settings DROP COLUMN {name}")
