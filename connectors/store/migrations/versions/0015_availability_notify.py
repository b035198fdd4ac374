"""availability notify

PostgreSQL only: every change of an ``availability_version`` row (a counter bumped, a
tenant's counters added or deleted) sends ``NOTIFY opus_availability, '<tenant id>'``.
The app processes LISTEN on one connection each and reload that tenant's snapshot at
once, instead of at their next poll (booking_app.api.snapshots).

On the counter row itself, so that it fits however the counters are bumped (per row,
per statement, per publish). The payload is the tenant alone: PostgreSQL delivers
identical notifications of one transaction once, so a sync that bumps a counter many
times sends one. Delivered at commit, like the counter the listeners then read.
SQLite has no NOTIFY: its app is one process, and it polls.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "opus_availability"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION availability_version_notify() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    IF TG_OP = 'DELETE' THEN\n"
        f"        PERFORM pg_notify('{CHANNEL}', OLD.tenant_id::text);\n"
        "    ELSE\n"
        f"        PERFORM pg_notify('{CHANNEL}', NEW.tenant_id::text);\n"
        "    END IF;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$$"
    )
    op.execute(
        "CREATE TRIGGER availability_version_notify "
        "AFTER INSERT OR UPDATE OR DELETE ON availability_version "
        "FOR EACH ROW EXECUTE FUNCTION availability_version_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER availability_version_notify ON availability_version")
    op.execute("DROP FUNCTION availability_version_notify()")
