"""`opus-online patient export|erase`, run as clinic IT would: a process against a
PostgreSQL store, the personal number on standard input. The export is the patient's
JSON; erasure first only says what it would do, then with --yes erases, leaving the
namesake alone; each run is audited with a keyed hash, and the number is never echoed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import AuditEntry
from connectors.store.patient_data import counts, subject_key
from tests.patients import NAMESAKE, TOLVAN, demo_tenant_id, make_patients, rows_of

SECRET = "cli-test-secret-cli-test-secret"
TYPED = "19121212-1212"  # TOLVAN as an operator types it


def patient_command(store: Engine, *args: str, stdin: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OPUS_STORE_URL": store.url.render_as_string(hide_password=False),
        "OPUS_SECRET_KEY": SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "opus_online.cli", "patient", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )


def _subdomain(store: Engine) -> str:
    from connectors.store.models import Tenant

    with session_scope(store) as session:
        return session.scalars(select(Tenant.subdomain).order_by(Tenant.id)).first()


def test_export_then_erase_from_the_command_line(synced_postgres_store: Engine):
    store = synced_postgres_store
    patients = make_patients(store, TOLVAN, NAMESAKE)
    namesake = rows_of(store, patients[NAMESAKE])
    tenant, sub = demo_tenant_id(store), _subdomain(store)

    exported = patient_command(store, "export", "--tenant", sub, stdin=TYPED + "\n")
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert {b["id"] for b in document["tables"]["booking"]} == set(patients[TOLVAN].booking_ids)
    assert NAMESAKE not in exported.stdout and TOLVAN not in exported.stderr

    looked = patient_command(store, "erase", "--tenant", sub, stdin=TYPED + "\n")
    assert looked.returncode == 0, looked.stderr
    assert "booking: 2 rows (personal data removed)" in looked.stdout
    assert "patient id 8212" in looked.stdout and "journal" in looked.stdout
    assert "--yes" in looked.stdout
    with session_scope(store) as session:
        assert counts(session, tenant, TOLVAN)["booking"] == 2  # nothing changed yet

    erased = patient_command(store, "erase", "--tenant", sub, "--yes", stdin=TYPED + "\n")
    assert erased.returncode == 0, erased.stderr
    assert "Erased (" in erased.stdout
    with session_scope(store) as session:
        assert not any(counts(session, tenant, TOLVAN).values())
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert rows_of(store, patients[NAMESAKE]) == namesake
    for run in (exported, looked, erased):
        assert TOLVAN not in run.stderr and TYPED not in run.stdout + run.stderr
    assert TOLVAN not in looked.stdout + erased.stdout

    subject = subject_key(SECRET.encode(), tenant, TOLVAN)
    assert [e.setting for e in entries] == [
        "patient.export",
        "patient.erase.preview",
        "patient.erase",
    ]
    for entry in entries:
        assert entry.tenant_id == tenant and entry.operator_email.startswith("command line: ")
        assert subject in entry.new_value and TOLVAN not in entry.new_value
    assert "erased booking 2" in entries[-1].new_value


def test_a_mistyped_number_is_refused_without_echoing_it(synced_postgres_store: Engine):
    store = synced_postgres_store
    sub = _subdomain(store)
    typo = "19121212-1213"

    bad = patient_command(store, "erase", "--tenant", sub, "--yes", stdin=typo + "\n")
    assert bad.returncode == 1
    assert "check digit" in bad.stderr and typo not in bad.stderr + bad.stdout

    with session_scope(store) as session:
        assert session.scalars(select(AuditEntry)).all() == []
