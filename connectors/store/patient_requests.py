"""A patient's request for their data or for erasure, as an operator carries it out on
the admin pages or the command line: each step audited in the transaction that does
it, and the transactions short (the keyed hash is made before any opens; an export is
read after the audited write has committed, in a reading transaction).

- :func:`export`: audit the look-up, then read the patient's data.
- :func:`preview`: what erasure would do, and whether it may now (audited: it tells
  whether the person is a patient).
- :func:`erase`: erase and audit in one transaction, or audit the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from connectors.store import patient_data, patient_erasure
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import Tenant
from connectors.store.patient_data import Actor, check_rate, counts, describe, record, subject_key
from connectors.store.patient_erasure import Preview
from connectors.store.personal_data import PATIENT_TABLES


@dataclass(frozen=True)
class Erased:
    """What erasure found (``preview``) and did (``done``: rows per table; None when
    a blocker refused it, see ``preview.blockers``)."""

    preview: Preview
    done: dict[str, int] | None

    @property
    def refused(self) -> bool:
        return self.done is None


def export(
    engine: Engine, tenant: Tenant, personal_number: str, actor: Actor, secret: bytes, now: datetime
) -> dict:
    """The patient's data as one JSON-ready document (see :func:`patient_data.export`).
    Raises :class:`patient_data.TooManyLookups` before reading anything."""
    subject = subject_key(secret, tenant.id, personal_number)
    with write_session_scope(engine) as session:
        check_rate(session, actor, now)
        found = counts(session, tenant.id, personal_number)
        _audit(session, tenant.id, actor, "patient.export", subject, describe(found), now)
    with session_scope(engine) as session:
        return patient_data.export(session, tenant, personal_number, now)


def preview(
    engine: Engine, tenant_id: int, personal_number: str, actor: Actor, secret: bytes, now: datetime
) -> Preview:
    subject = subject_key(secret, tenant_id, personal_number)
    with write_session_scope(engine) as session:
        check_rate(session, actor, now)
        found = patient_erasure.preview(session, tenant_id, personal_number, now)
        outcome = describe(found.found)
        if found.blockers:
            outcome += "; would wait for " + ", ".join(found.blockers)
        _audit(session, tenant_id, actor, "patient.erase.preview", subject, outcome, now)
    return found


def erase(
    engine: Engine, tenant_id: int, personal_number: str, actor: Actor, secret: bytes, now: datetime
) -> Erased:
    subject = subject_key(secret, tenant_id, personal_number)
    with write_session_scope(engine) as session:
        check_rate(session, actor, now)
        found = patient_erasure.preview(session, tenant_id, personal_number, now)
        if found.blockers:
            outcome = "refused: waits for " + ", ".join(found.blockers)
            _audit(session, tenant_id, actor, "patient.erase", subject, outcome, now)
            return Erased(found, None)
        done = patient_erasure.erase(session, tenant_id, personal_number, now)
        _audit(session, tenant_id, actor, "patient.erase", subject, _erased(done), now)
    return Erased(found, done)


KEPT = frozenset(t.name for t in PATIENT_TABLES if t.erasure == "keep")


def _erased(done: dict[str, int]) -> str:
    kept = {name: n for name, n in done.items() if name in KEPT}
    erased = {name: n for name, n in done.items() if name not in kept}
    text = "erased " + describe(erased)
    if any(kept.values()):
        text += "; kept without personal data: " + describe(kept)
    return text


def _audit(session, tenant_id, actor, action, subject, outcome, now) -> None:
    record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        subject=subject,
        outcome=outcome,
        now=now,
    )
