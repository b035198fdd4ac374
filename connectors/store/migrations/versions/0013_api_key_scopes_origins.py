"""api key scopes and origins

What a key to the public API may do (``scopes``: read times, book, act on a patient's
bookings) and which web pages may call the API with it from a browser
(``allowed_origins``, one origin a line, for CORS and the booking widget).

Keys made before keep every scope and no origin, so existing clients work unchanged.
A key that may act on patients' bookings is a server's secret: it gets no origins
(the database refuses that pair, not only the form).

Plain ADD COLUMN with column CHECKs (no batch rebuild): SQLite keeps api_key's
change-counter triggers (migration 0010), which bump the tenant's version whenever a
key changes, so snapshots see new scopes and origins as they see revocations.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE_SETS = (
    "read",
    "book",
    "patient",
    "read book",
    "read patient",
    "book patient",
    "read book patient",
)


def upgrade() -> None:
    known = ", ".join(f"'{scopes}'" for scopes in SCOPE_SETS)
    op.execute(
        "ALTER TABLE api_key ADD COLUMN scopes VARCHAR(30) DEFAULT 'read book patient' NOT NULL "
        f"CONSTRAINT ck_api_key_scopes_known CHECK (scopes IN ({known}))"
    )
    op.execute(
        "ALTER TABLE api_key ADD COLUMN allowed_origins TEXT DEFAULT '' NOT NULL "
        "CONSTRAINT ck_api_key_no_origins_for_patient_keys "
        "CHECK (allowed_origins = '' OR scopes NOT LIKE '%patient%')"
    )


def downgrade() -> None:
    # Each CHECK belongs to its own column, so SQLite drops them too (origins first:
    # its CHECK names scopes).
    op.drop_column("api_key", "allowed_origins")
    op.drop_column("api_key", "scopes")
