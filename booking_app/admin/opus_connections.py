"""*Kliniker* → *Anslutning till Opus*: each Opus database's own connect timeout and
retry count (columns ``connect_timeout_s`` and ``retries``), used by the schedule sync,
the appointment mirror and write-back. Empty: the service's global settings
(``OPUS_OPUS_CONNECT_TIMEOUT_S``, ``OPUS_OPUS_RETRIES``).

Checked here (whole numbers in range, or empty) and again by the store (migration
0017); every change audited as ``database <id>.connect_timeout_s`` / ``.retries``.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from booking_app.admin.deps import AdminFormDep, ChangeGrantDep
from booking_app.admin.forms import whole_number
from booking_app.admin.tabs import clinics_page, opus_databases
from booking_app.deps import NowDep, SettingsDep, WriteSessionDep
from connectors.store import audit
from connectors.store.models import CONNECT_TIMEOUT_S_RANGE, RETRIES_RANGE, OpusDatabase

router = APIRouter(prefix="/admin/{tenant_id}/kliniker/anslutning")

FIELDS: dict[str, tuple[int, int]] = {
    "connect_timeout_s": CONNECT_TIMEOUT_S_RANGE,
    "retries": RETRIES_RANGE,
}
"""Each field's range; a field is posted as ``<name>_<database id>``."""
_POSTED = re.compile(rf"({'|'.join(FIELDS)})_(\d+)")


def parse(
    form: dict[str, str], databases: list[OpusDatabase]
) -> tuple[dict[int, dict[str, int | None]], dict[int, dict[str, str]]]:
    """Per database id: the values to store (None: the global setting), and the message
    keys of what is wrong. A database whose fields were not posted is left as it is."""
    values: dict[int, dict[str, int | None]] = {}
    errors: dict[int, dict[str, str]] = {}
    for database in databases:
        for name, (low, high) in FIELDS.items():
            raw = form.get(f"{name}_{database.id}")
            if raw is None:
                continue
            raw = raw.strip()
            if not raw:
                values.setdefault(database.id, {})[name] = None
            elif (number := whole_number(raw, (low, high))) is not None:
                values.setdefault(database.id, {})[name] = number
            else:
                errors.setdefault(database.id, {})[name] = f"admin_error_opus_{name}"
    return values, errors


def _only_own(form: dict[str, str], databases: list[OpusDatabase]) -> None:
    """Another tenant's database id in the form answers 404, as if it did not exist."""
    own = {str(d.id) for d in databases}
    for key in form:
        posted = _POSTED.fullmatch(key)
        if posted is not None and posted.group(2) not in own:
            raise HTTPException(status_code=404)


@router.post("")
def save_connection_limits(
    request: Request,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    databases = opus_databases(session, grant.tenant.id)
    _only_own(form, databases)
    values, errors = parse(form, databases)
    if errors:  # nothing saved; the page shows what was typed and what is wrong where
        keys = sorted({key for wrong in errors.values() for key in wrong.values()})
        return clinics_page(
            request,
            grant,
            session,
            settings,
            errors=keys,
            connection_shown={
                f"{name}_{d.id}": form.get(f"{name}_{d.id}", "")
                for d in databases
                for name in FIELDS
            },
            connection_errors=errors,
        )
    for database in databases:
        audit.apply_changes(
            session,
            database,
            values.get(database.id, {}),
            tenant_id=grant.tenant.id,
            operator=grant.operator,
            now=now,
            prefix=f"database {database.id}.",
        )
    return RedirectResponse(
        f"/admin/{grant.tenant.id}/kliniker?sparat=1#opus-anslutning", status_code=303
    )
