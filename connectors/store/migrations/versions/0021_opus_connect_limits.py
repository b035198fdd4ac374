"""opus connect limits

An Opus database's own connect timeout (1 to 300 s) and retry count (0 to 10), set on
the *Kliniker* tab, are checked by the database: PostgreSQL with CHECK constraints,
SQLite with triggers (a CHECK there would need a batch rebuild of ``opus_database``,
which the change-counter triggers of migration 0010 name). Empty stays allowed: the
global ``OPUS_OPUS_CONNECT_TIMEOUT_S`` / ``OPUS_OPUS_RETRIES``.

Values outside the ranges become empty first; the only ones that could exist (a
timeout of 0, negative retries) already meant "the global setting" or nothing usable.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, constraint name as models.OpusDatabase names it, lowest, highest)
CHECKS = (
    ("connect_timeout_s", "ck_opus_database_connect_timeout_range", 1, 300),
    ("retries", "ck_opus_database_retries_range", 0, 10),
)


def upgrade() -> None:
    for column, _, low, high in CHECKS:
        op.execute(
            f"UPDATE opus_database SET {column} = NULL WHERE {column} NOT BETWEEN {low} AND {high}"
        )
    if op.get_bind().dialect.name == "postgresql":
        for column, name, low, high in CHECKS:
            op.execute(
                f"ALTER TABLE opus_database ADD CONSTRAINT {name} "
                f"CHECK ({column} BETWEEN {low} AND {high})"
            )
        return
    for column, name, low, high in CHECKS:
        for event in ("INSERT", f"UPDATE OF {column}"):
            op.execute(
                f"CREATE TRIGGER tr_{name}_{event.split()[0].lower()} "
                f"BEFORE {event} ON opus_database "
                f"WHEN NEW.{column} IS NOT NULL AND NEW.{column} NOT BETWEEN {low} AND {high} "
                f"BEGIN SELECT RAISE(ABORT, '{name}: {column} out of range'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for _, name, _, _ in CHECKS:
            op.execute(f"ALTER TABLE opus_database DROP CONSTRAINT {name}")
        return
    for _, name, _, _ in CHECKS:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER tr_{name}_{event}")
