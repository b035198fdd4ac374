"""availability version counters

``availability_version``: two counters per tenant, kept by the database itself, that
an app process polls (a few times a second) to learn whether its in-memory snapshot of
the tenant's availability is stale. ``reference`` counts changes to what decides
which times are free (settings, databases, clinics, practitioners, treatments, keys,
free ranges); ``bookings`` counts changes to the bookings that occupy time. Separate
rows, so that on PostgreSQL a long sync holding the ``reference`` row's lock never
blocks a booking's commit.

Triggers only ever UPDATE a counter, never insert one: the tenant's own AFTER INSERT
trigger makes its two rows, and when a tenant is deleted its cascaded child deletes
bump nothing instead of violating the foreign key.

PostgreSQL: one plpgsql function per shape (how the tenant is found); row-level
triggers on the small tables; statement-level triggers with transition tables on
``free_range``, which a sync writes a million rows at a time (one bump per statement,
not per row); booking triggers are deferred constraint triggers, so that the counter
row is locked only at commit, after all the transaction's booking writes.
SQLite: row-level triggers throughout (it has no statement-level ones).

SQLite drops a table's triggers when a batch migration recreates the table: a later
migration that batch-alters one of these tables must create its triggers again
(tests/connectors/store/test_availability_version.py checks that they are all there).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "tenant_settings",
    "opus_database",
    "clinic",
    "practitioner",
    "clinic_practitioner",
    "treatment",
    "api_key",
)
"""Reference tables with their own ``tenant_id`` and few rows (``free_range`` has
one too, but its own statement-level triggers on PostgreSQL)."""

VIA = {
    "treatment_set": ("opus_database", "opus_database_id"),
    "treatment_set_member": ("treatment", "treatment_id"),
}
"""Reference tables without ``tenant_id``: the table and column that lead to it
(PostgreSQL: function ``availability_version_bump_via_<that table>``)."""

BOOKING_COLUMNS = (
    "status",
    "practitioner_id",
    "clinic_id",
    "blocks_from",
    "blocks_until",
    "hold_expires_at",
    "tenant_id",
)
"""The booking columns that decide availability (``tenant_id`` too: a booking that
changed tenant would change two tenants' times): an update of any other column (the
write-back's bookkeeping, the patient's details) bumps nothing."""

EVENTS = ("insert", "update", "delete")
REFERENCE, BOOKINGS = "'reference'", "'bookings'"


def upgrade() -> None:
    op.create_table(
        "availability_version",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=10), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "topic IN ('reference', 'bookings')",
            name=op.f("ck_availability_version_topic_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_availability_version_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "topic", name=op.f("pk_availability_version")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    # After the triggers: on PostgreSQL, creating them locks tenant against writes
    # until this migration commits, so a tenant added meanwhile gets its rows from
    # either the trigger or this statement, never from neither.
    op.execute(
        "INSERT INTO availability_version (tenant_id, topic, version) "
        "SELECT tenant.id, topics.topic, 0 FROM tenant CROSS JOIN "
        "(SELECT 'reference' AS topic UNION ALL SELECT 'bookings') AS topics"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in _postgresql_trigger_names():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for name in _sqlite_trigger_names():
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("availability_version")


def _bump(topic: str, *tenants: str, among: str | None = None) -> str:
    """SQL that bumps ``topic`` of the tenants that ``tenants`` give (expressions, or
    scalar subqueries; NULL matches nothing), or of those that the query ``among``
    returns. One tenant is compared with ``=``: on SQLite ``IN (x)`` made a bulk
    insert's row trigger over twice as costly (measured)."""
    if among is not None:
        which = f"IN ({among})"
    elif len(tenants) == 1:
        which = f"= {tenants[0]}"
    else:
        which = f"IN ({', '.join(tenants)})"
    return (
        "UPDATE availability_version SET version = version + 1 "
        f"WHERE topic = {topic} AND tenant_id {which}"
    )


# -- PostgreSQL ----------------------------------------------------------------------------

PG_FUNCTIONS = (
    "availability_version_add_tenant",
    "availability_version_bump_tenant",
    "availability_version_bump",
    "availability_version_bump_via_opus_database",
    "availability_version_bump_via_treatment",
    "availability_version_bump_free_ranges",
)


def _pg_row_function(name: str, old_tenant: str, new_tenant: str, topic: str) -> str:
    """A row-level trigger function: bumps the tenant of the old row and of the new
    row (one bump when they are the same tenant)."""
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "DECLARE\n"
        "    old_tenant integer;\n"
        "    new_tenant integer;\n"
        "BEGIN\n"
        f"    IF TG_OP <> 'INSERT' THEN old_tenant := {old_tenant}; END IF;\n"
        f"    IF TG_OP <> 'DELETE' THEN new_tenant := {new_tenant}; END IF;\n"
        f"    {_bump(topic, 'old_tenant', 'new_tenant')};\n"
        "    RETURN NULL;\n"
        "END\n"
        "$$"
    )


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION availability_version_add_tenant() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    INSERT INTO availability_version (tenant_id, topic, version)\n"
        "    VALUES (NEW.id, 'reference', 0), (NEW.id, 'bookings', 0);\n"
        "    RETURN NULL;\n"
        "END\n"
        "$$"
    )
    # The tenant row itself: its own id.
    op.execute(_pg_row_function("availability_version_bump_tenant", "OLD.id", "NEW.id", REFERENCE))
    # Tables with tenant_id; the topic is the trigger's argument (booking: 'bookings').
    op.execute(
        _pg_row_function(
            "availability_version_bump", "OLD.tenant_id", "NEW.tenant_id", "TG_ARGV[0]"
        )
    )
    for parent, column in VIA.values():
        op.execute(
            _pg_row_function(
                f"availability_version_bump_via_{parent}",
                f"(SELECT tenant_id FROM {parent} WHERE id = OLD.{column})",
                f"(SELECT tenant_id FROM {parent} WHERE id = NEW.{column})",
                REFERENCE,
            )
        )
    # free_range: once per statement, over the tenants of the rows it changed.
    in_new = "SELECT DISTINCT tenant_id FROM new_ranges"
    in_old = "SELECT DISTINCT tenant_id FROM old_ranges"
    inserted, deleted = _bump(REFERENCE, among=in_new), _bump(REFERENCE, among=in_old)
    updated = _bump(REFERENCE, among=f"{in_new} UNION {in_old}")
    op.execute(
        "CREATE FUNCTION availability_version_bump_free_ranges() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"    IF TG_OP = 'INSERT' THEN {inserted};\n"
        f"    ELSIF TG_OP = 'UPDATE' THEN {updated};\n"
        f"    ELSE {deleted};\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$$"
    )

    op.execute(
        "CREATE TRIGGER tr_tenant_availability_insert AFTER INSERT ON tenant "
        "FOR EACH ROW EXECUTE FUNCTION availability_version_add_tenant()"
    )
    op.execute(
        "CREATE TRIGGER tr_tenant_availability_update AFTER UPDATE ON tenant "
        "FOR EACH ROW EXECUTE FUNCTION availability_version_bump_tenant()"
    )
    for table in TENANT_TABLES:
        op.execute(
            f"CREATE TRIGGER tr_{table}_availability AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION availability_version_bump('reference')"
        )
    for table, (parent, _) in VIA.items():
        op.execute(
            f"CREATE TRIGGER tr_{table}_availability AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION availability_version_bump_via_{parent}()"
        )
    # A trigger with transition tables takes one event only.
    transitions = {
        "insert": "NEW TABLE AS new_ranges",
        "update": "OLD TABLE AS old_ranges NEW TABLE AS new_ranges",
        "delete": "OLD TABLE AS old_ranges",
    }
    for event, referencing in transitions.items():
        op.execute(
            f"CREATE TRIGGER tr_free_range_availability_{event} AFTER {event.upper()} "
            f"ON free_range REFERENCING {referencing} "
            "FOR EACH STATEMENT EXECUTE FUNCTION availability_version_bump_free_ranges()"
        )
    # Deferred to commit: the counter row is locked only then, after every booking
    # write of the transaction, so that concurrent booking transactions of a tenant
    # queue only over their commits and cannot deadlock over counter and booking rows.
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in BOOKING_COLUMNS)
    events = {
        "insert": "INSERT",
        "update": f"UPDATE OF {', '.join(BOOKING_COLUMNS)}",
        "delete": "DELETE",
    }
    for event, spelled in events.items():
        when = f"WHEN ({changed}) " if event == "update" else ""
        op.execute(
            f"CREATE CONSTRAINT TRIGGER tr_booking_availability_{event} AFTER {spelled} "
            "ON booking DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"{when}EXECUTE FUNCTION availability_version_bump('bookings')"
        )


def _postgresql_trigger_names() -> list[tuple[str, str]]:
    return [
        ("tr_tenant_availability_insert", "tenant"),
        ("tr_tenant_availability_update", "tenant"),
        *((f"tr_{table}_availability", table) for table in (*TENANT_TABLES, *VIA)),
        *((f"tr_free_range_availability_{event}", "free_range") for event in EVENTS),
        *((f"tr_booking_availability_{event}", "booking") for event in EVENTS),
    ]


# -- SQLite --------------------------------------------------------------------------------


def _sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER tr_tenant_availability_insert AFTER INSERT ON tenant BEGIN "
        "INSERT INTO availability_version (tenant_id, topic, version) "
        "VALUES (NEW.id, 'reference', 0), (NEW.id, 'bookings', 0); END"
    )
    op.execute(
        "CREATE TRIGGER tr_tenant_availability_update AFTER UPDATE ON tenant BEGIN "
        f"{_bump(REFERENCE, 'OLD.id', 'NEW.id')}; END"
    )
    tenant_of = {table: "{row}.tenant_id" for table in (*TENANT_TABLES, "free_range")}
    for table, (parent, column) in VIA.items():
        tenant_of[table] = f"(SELECT tenant_id FROM {parent} WHERE id = {{row}}.{column})"
    for table, tenant in tenant_of.items():
        rows = {
            "insert": (tenant.format(row="NEW"),),
            "update": (tenant.format(row="OLD"), tenant.format(row="NEW")),
            "delete": (tenant.format(row="OLD"),),
        }
        for event, tenants in rows.items():
            op.execute(
                f"CREATE TRIGGER tr_{table}_availability_{event} AFTER {event.upper()} "
                f"ON {table} BEGIN {_bump(REFERENCE, *tenants)}; END"
            )
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in BOOKING_COLUMNS)
    rows = {
        "insert": ("INSERT", "", ("NEW.tenant_id",)),
        "update": (
            f"UPDATE OF {', '.join(BOOKING_COLUMNS)}",
            f"WHEN {changed} ",
            ("OLD.tenant_id", "NEW.tenant_id"),
        ),
        "delete": ("DELETE", "", ("OLD.tenant_id",)),
    }
    for event, (spelled, when, tenants) in rows.items():
        op.execute(
            f"CREATE TRIGGER tr_booking_availability_{event} AFTER {spelled} ON booking "
            f"{when}BEGIN {_bump(BOOKINGS, *tenants)}; END"
        )


def _sqlite_trigger_names() -> list[str]:
    tables = (*TENANT_TABLES, *VIA, "free_range", "booking")
    return [
        "tr_tenant_availability_insert",
        "tr_tenant_availability_update",
        *(f"tr_{table}_availability_{event}" for table in tables for event in EVENTS),
    ]
