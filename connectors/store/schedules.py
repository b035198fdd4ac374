"""Store side of the schedule sync: what a run needs to know before it starts, and
how its results are written. Reference data (clinics, practitioners, treatments) is
small and goes through the ORM; free ranges go through :mod:`connectors.store.bulk`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from connectors.privacy import scrub
from connectors.store import bulk
from connectors.store.models import (
    AvailabilityVersion,
    Clinic,
    ClinicPractitioner,
    FreeRange,
    OpusDatabase,
    Practitioner,
    QuarantinedRow,
    SyncRun,
    SyncState,
    Tenant,
    Treatment,
    TreatmentSet,
    TreatmentSetMember,
)
from connectors.store.types import utcnow


@dataclass(frozen=True)
class DatabasePlan:
    """What the store knows of one Opus database before a run."""

    id: int
    tenant_id: int
    name: str
    connection_ref: str
    row_version: int
    window_start_local: datetime | None
    window_end_local: datetime | None
    fingerprint: str | None
    compare_ids: bool
    """Compare every id with Opus this run (see SyncState.count_mismatch)."""
    longest_range_s: int
    added: frozenset[tuple[str, int]]
    """(Opus ClinicID, Opus ClinicianID) of every practitioner the operator added."""
    connect_timeout_s: int | None = None
    retries: int | None = None
    """This database's own Opus connect timeout and retry count; None: the global ones
    (see :func:`connectors.opus.connection.connect_limits`)."""


@dataclass(frozen=True)
class TenantPlan:
    tenant_id: int
    subdomain: str
    publishing: bool
    """*Publicera på "Opus Dental Online"* or *på "Boka vård"*: is anyone to be fed?"""
    months_to_sync: int
    databases: tuple[DatabasePlan, ...]


COMPARE_IDS_EVERY = timedelta(hours=1)
"""How often an incremental run compares every id with Opus even when counts agree."""


def _local(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def tenant_subdomains(session: Session) -> list[str]:
    return list(session.scalars(select(Tenant.subdomain).order_by(Tenant.id)))


def plan_tenant(session: Session, subdomain: str) -> TenantPlan:
    tenant = session.scalars(select(Tenant).where(Tenant.subdomain == subdomain)).one_or_none()
    if tenant is None:
        raise LookupError(f"no tenant with subdomain {subdomain!r}")
    settings = tenant.settings
    databases = []
    for database in tenant.databases:
        if not database.enabled:
            continue
        state = session.get(SyncState, database.id) or SyncState()
        databases.append(
            DatabasePlan(
                id=database.id,
                tenant_id=tenant.id,
                name=database.name,
                connection_ref=database.connection_ref,
                row_version=state.free_range_row_version or 0,
                window_start_local=_local(state.window_start_local),
                window_end_local=_local(state.window_end_local),
                fingerprint=state.reference_fingerprint,
                compare_ids=bool(
                    state.count_mismatch
                    or state.ids_compared_at is None
                    or state.ids_compared_at < utcnow() - COMPARE_IDS_EVERY
                ),
                added=frozenset(_added_practitioners(session, database.id)),
                longest_range_s=state.longest_range_s or 0,
                connect_timeout_s=database.connect_timeout_s,
                retries=database.retries,
            )
        )
    return TenantPlan(
        tenant_id=tenant.id,
        subdomain=tenant.subdomain,
        publishing=settings.publish_opus_online or settings.publish_boka_vard,
        months_to_sync=settings.months_to_sync,
        databases=tuple(databases),
    )


def _added_practitioners(session: Session, database_id: int) -> Iterable[tuple[str, int]]:
    rows = session.execute(
        select(Clinic.opus_clinic_id, Practitioner.opus_clinician_id)
        .join(ClinicPractitioner, ClinicPractitioner.clinic_id == Clinic.id)
        .join(Practitioner, Practitioner.id == ClinicPractitioner.practitioner_id)
        .where(Clinic.opus_database_id == database_id, ClinicPractitioner.added)
    )
    return ((clinic, int(clinician)) for clinic, clinician in rows)


# -- reference data ----------------------------------------------------------------------


@dataclass
class StoreIds:
    """Opus ids → store ids of one database, after reference data is written."""

    clinics: dict[str, int]
    practitioners: dict[int, int]
    treatments: dict[int, int]


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)


def upsert_reference(
    session: Session,
    plan: DatabasePlan,
    clinics: pd.DataFrame,
    clinicians: pd.DataFrame,
    memberships: pd.DataFrame,
    treatments: pd.DataFrame,
) -> StoreIds:
    """Write Opus's fields of clinics, practitioners, memberships and treatments,
    keeping the operator's own fields (group, order, texts, *Lägg till*). Rows that left
    Opus are kept with ``in_opus`` false: bookings and settings still point at them.

    Core statements rather than ORM objects: a large chain has tens of thousands of
    clinicians and memberships, and building an ORM object for each cost seconds of a
    full run. As the ORM did, only rows whose values differ are written, so that an
    unchanged row fires no availability counter trigger."""
    connection = session.connection()
    clinic_rows = {
        str(r.ClinicID): {
            "name": r.Name,
            "address1": _text(r.Address1),
            "address2": _text(r.Address2),
            "postal_code": _text(r.PostalCode),
            "city": _text(r.City),
            "phone": _text(r.Phone),
            "email": _text(r.Email),
        }
        for r in clinics.itertuples()
    }
    clinic_ids = _upsert(connection, Clinic, plan, "opus_clinic_id", clinic_rows, ordered=True)
    practitioner_rows = {
        int(r.ClinicianID): {
            "first_name": _text(r.FirstName),
            "last_name": _text(r.LastName),
            "title": _text(r.Title),
            "active": bool(r.Active) if pd.notna(r.Active) else True,
        }
        for r in clinicians.itertuples()
    }
    practitioner_ids = _upsert(
        connection, Practitioner, plan, "opus_clinician_id", practitioner_rows
    )
    treatment_rows = {
        int(r.TreatmentID): {
            "name": r.Name,
            "description": _text(r.Description),
            "duration_min": int(r.Duration),
            "warm_up_min": int(r.WarmUpDuration) if pd.notna(r.WarmUpDuration) else 0,
            "cool_down_min": int(r.CoolDownDuration) if pd.notna(r.CoolDownDuration) else 0,
            "create_in_web": bool(r.CreateInWeb) if pd.notna(r.CreateInWeb) else False,
            "change_in_web": bool(r.ChangeInWeb) if pd.notna(r.ChangeInWeb) else False,
            "cancel_in_web": bool(r.CancelInWeb) if pd.notna(r.CancelInWeb) else False,
            "change_in_web_limit_hours": int(r.ChangeInWebLimit)
            if pd.notna(r.ChangeInWebLimit)
            else 24,
            "booking_text": _text(r.BookingText),
        }
        for r in treatments.itertuples()
    }
    treatment_ids = _upsert(connection, Treatment, plan, "opus_treatment_id", treatment_rows)
    _upsert_memberships(connection, plan, memberships, clinic_ids, practitioner_ids)
    return StoreIds(clinic_ids, practitioner_ids, treatment_ids)


def _upsert(
    connection: Connection, model, plan: DatabasePlan, key: str, rows: dict, ordered: bool = False
) -> dict:
    """Insert new rows, update changed ones, mark those gone ``in_opus`` false; return
    Opus id → store id of the rows in ``rows``."""
    table = model.__table__
    names = list(next(iter(rows.values()))) if rows else []
    columns = [table.c[name] for name in names]
    # (Opus id, id, in_opus, display_order or id, Opus's fields...) of every row.
    order = table.c.display_order if ordered else table.c.id
    existing = {
        row[0]: row
        for row in connection.execute(
            select(table.c[key], table.c.id, table.c.in_opus, order, *columns).where(
                table.c.opus_database_id == plan.id
            )
        )
    }
    next_order = max((row[3] for row in existing.values()), default=0) + 1 if ordered else 0
    new, changed = [], []
    for opus_id, fields in rows.items():
        row = existing.get(opus_id)
        if row is None:
            extra = {"display_order": next_order + len(new)} if ordered else {}
            new.append({key: opus_id, **fields, **extra})
        elif not row[2] or tuple(row[4:]) != tuple(fields.values()):
            changed.append({"_id": row[1], **fields})
    gone = [row[1] for opus_id, row in existing.items() if opus_id not in rows and row[2]]
    if new:
        connection.execute(
            insert(table).values(tenant_id=plan.tenant_id, opus_database_id=plan.id, in_opus=True),
            new,
        )
    if changed:
        connection.execute(
            # The SET clause takes Opus's fields from the parameters' own keys.
            update(table).where(table.c.id == bindparam("_id")).values(in_opus=True),
            changed,
        )
    _set_in_opus_false(connection, table, gone)
    ids = dict(
        connection.execute(
            select(table.c[key], table.c.id).where(table.c.opus_database_id == plan.id)
        ).all()
    )
    return {opus_id: ids[opus_id] for opus_id in rows}


def _set_in_opus_false(connection: Connection, table, ids: list) -> None:
    for chunk in _chunks(sorted(ids), 500):
        connection.execute(update(table).where(table.c.id.in_(chunk)).values(in_opus=False))


def _upsert_memberships(
    connection: Connection,
    plan: DatabasePlan,
    memberships: pd.DataFrame,
    clinic_ids: dict,
    practitioner_ids: dict,
) -> None:
    table, clinic = ClinicPractitioner.__table__, Clinic.__table__
    wanted = {
        (clinic_ids[str(c)], practitioner_ids[int(p)])
        for c, p in zip(memberships["ClinicID"], memberships["ClinicianID"], strict=True)
    }
    existing = {
        (clinic_id, practitioner_id): (in_opus, order)
        for clinic_id, practitioner_id, in_opus, order in connection.execute(
            select(
                table.c.clinic_id, table.c.practitioner_id, table.c.in_opus, table.c.display_order
            )
            .join(clinic, clinic.c.id == table.c.clinic_id)
            .where(clinic.c.opus_database_id == plan.id)
        )
    }
    orders: dict[int, int] = {}
    for (clinic_id, _), (_, order) in existing.items():
        orders[clinic_id] = max(orders.get(clinic_id, 0), order)
    new, flips = [], []
    for pair in sorted(wanted):
        known = existing.get(pair)
        if known is None:
            orders[pair[0]] = orders.get(pair[0], 0) + 1
            new.append(
                {
                    "clinic_id": pair[0],
                    "practitioner_id": pair[1],
                    "tenant_id": plan.tenant_id,
                    "display_order": orders[pair[0]],
                    "in_opus": True,
                }
            )
        elif not known[0]:
            flips.append({"c": pair[0], "p": pair[1], "v": True})
    flips += [
        {"c": pair[0], "p": pair[1], "v": False}
        for pair, (in_opus, _) in existing.items()
        if in_opus and pair not in wanted
    ]
    if new:
        connection.execute(insert(table), new)
    if flips:
        connection.execute(
            update(table)
            .where(table.c.clinic_id == bindparam("c"), table.c.practitioner_id == bindparam("p"))
            .values(in_opus=bindparam("v")),
            flips,
        )


@dataclass(frozen=True)
class PublishedReference:
    """The reference data the last full run found valid, as the store keeps it."""

    ids: StoreIds
    memberships: frozenset[tuple[str, int]]
    """(Opus ClinicID, Opus ClinicianID) of clinicians working at clinics."""


def published_reference(session: Session, plan: DatabasePlan) -> PublishedReference:
    """What an incremental run judges ranges against: unchanged reference data means
    the last full run's verdict on it still holds, and the store has that verdict.
    (Core rows, not ORM entities: a large chain has tens of thousands of memberships.)"""
    connection = session.connection()

    def ids(model, key: str) -> dict:
        table = model.__table__
        rows = connection.execute(
            select(table.c[key], table.c.id).where(
                table.c.opus_database_id == plan.id, table.c.in_opus
            )
        )
        return dict(rows.all())

    clinic, practitioner = Clinic.__table__, Practitioner.__table__
    membership = ClinicPractitioner.__table__
    memberships = connection.execute(
        select(clinic.c.opus_clinic_id, practitioner.c.opus_clinician_id)
        .select_from(membership)
        .join(clinic, clinic.c.id == membership.c.clinic_id)
        .join(practitioner, practitioner.c.id == membership.c.practitioner_id)
        .where(clinic.c.opus_database_id == plan.id, membership.c.in_opus)
    )
    return PublishedReference(
        ids=StoreIds(
            clinics=ids(Clinic, "opus_clinic_id"),
            practitioners=ids(Practitioner, "opus_clinician_id"),
            treatments=ids(Treatment, "opus_treatment_id"),
        ),
        memberships=frozenset((clinic, int(clinician)) for clinic, clinician in memberships),
    )


# -- treatment sets ----------------------------------------------------------------------


def treatment_set_ids(
    session: Session, plan: DatabasePlan, keys: Iterable[str], ids: StoreIds
) -> dict[str, int]:
    """Store id of each treatment set ("1,4,7"), creating the sets not seen before."""
    keys = set(keys)
    known = dict(
        session.execute(
            select(TreatmentSet.opus_treatment_ids, TreatmentSet.id).where(
                TreatmentSet.opus_database_id == plan.id
            )
        ).all()
    )
    for key in sorted(keys - known.keys()):
        treatment_set = TreatmentSet(opus_database_id=plan.id, opus_treatment_ids=key)
        session.add(treatment_set)
        session.flush()
        session.add_all(
            TreatmentSetMember(
                treatment_set_id=treatment_set.id, treatment_id=ids.treatments[int(t)]
            )
            for t in key.split(",")
        )
        known[key] = treatment_set.id
    session.flush()
    return known


# -- free ranges -------------------------------------------------------------------------


def published_ids(connection: Connection, database_id: int) -> np.ndarray:
    """Sorted Opus ids of every published range of one database."""
    return bulk.read_int_columns(
        connection,
        "SELECT opus_range_id FROM free_range WHERE opus_database_id = :db ORDER BY opus_range_id",
        {"db": database_id},
    ).ravel()


def published_versions(
    connection: Connection, database_id: int, only: np.ndarray | None = None
) -> pd.Series:
    """Row version of published ranges by Opus id: all of them, or those in ``only``."""
    if only is None:
        values = bulk.read_int_columns(
            connection,
            "SELECT opus_range_id, row_version FROM free_range WHERE opus_database_id = :db",
            {"db": database_id},
            width=2,
        )
    else:
        rows = bulk.select_joined(
            connection,
            pd.DataFrame({"id": only}),
            "SELECT f.opus_range_id, f.row_version FROM {batch} b CROSS JOIN free_range f "
            "WHERE f.opus_database_id = :db AND f.opus_range_id = b.id",
            {"db": database_id},
        )
        values = np.array(rows, dtype=np.int64).reshape(-1, 2)
    return pd.Series(values[:, 1], index=values[:, 0], name="row_version")


def published_count(connection: Connection, database_id: int) -> int:
    return connection.execute(
        select(func.count()).select_from(FreeRange).where(FreeRange.opus_database_id == database_id)
    ).scalar_one()


def quarantined_ids(session: Session, plan: DatabasePlan, stream: str) -> list[str]:
    return list(
        session.scalars(
            select(QuarantinedRow.source_id).where(
                QuarantinedRow.opus_database_id == plan.id, QuarantinedRow.stream == stream
            )
        )
    )


def published_neighbours(
    connection: Connection, plan: DatabasePlan, batch: pd.DataFrame
) -> pd.DataFrame:
    """Published ranges that overlap a range of ``batch`` (Opus ``ClinicianID``,
    ``starts_at``, ``ends_at``) of the same clinician: the only ones a batch of changed
    ranges can collide with. Keyed by Opus ids like the batch."""
    columns = ["opus_range_id", "ClinicianID", "starts_at", "ends_at"]
    rows: list[tuple] = []
    if not batch.empty:
        rows = _neighbour_rows(connection, plan, batch)
    result = pd.DataFrame(rows, columns=columns).drop_duplicates("opus_range_id")
    for column in ("starts_at", "ends_at"):
        result[column] = pd.to_datetime(result[column], utc=True, format="ISO8601")
    return result


def _neighbour_rows(connection: Connection, plan: DatabasePlan, batch: pd.DataFrame) -> list[tuple]:
    batch = batch.reset_index(drop=True)
    starts = batch["starts_at"].astype("datetime64[us, UTC]")
    frame = pd.DataFrame(
        {
            "clinician": batch["ClinicianID"].astype("int64"),
            "starts_at": starts,
            "ends_at": batch["ends_at"].astype("datetime64[us, UTC]"),
            # No published range is longer than longest_range_s, so none that starts
            # earlier than this can reach the batch range.
            "earliest": starts - pd.Timedelta(seconds=plan.longest_range_s),
        }
    )
    return bulk.select_joined(
        connection,
        frame,
        # CROSS JOIN fixes SQLite's join order: batch row → practitioner → that
        # practitioner's ranges by (practitioner_id, starts_at) from `earliest` on.
        "SELECT f.opus_range_id, p.opus_clinician_id, f.starts_at, f.ends_at "
        "FROM {batch} b CROSS JOIN practitioner p CROSS JOIN free_range f "
        "WHERE p.opus_database_id = :db AND p.opus_clinician_id = b.clinician "
        "AND f.practitioner_id = p.id AND f.starts_at >= b.earliest "
        "AND f.starts_at < b.ends_at AND f.ends_at > b.starts_at",
        {"db": plan.id},
    )


def replace_ranges(
    connection: Connection,
    database_id: int,
    remove: np.ndarray,
    insert: pd.DataFrame,
    changed: pd.DataFrame | None = None,
) -> None:
    """Delete the ranges with Opus ids in ``remove``, insert ``insert``, and rewrite
    ``changed`` (ranges already published) in place, by their key.

    Every change to ``free_range`` bumps its tenant's ``reference`` counter (triggers
    of migration 0010). PostgreSQL's triggers there are statement-level: one bump per
    statement. SQLite has only row triggers, and merely firing one per range cost a
    third of a million-range sync's writing; so on SQLite these statements run
    with the counter triggers of ``free_range`` suspended, and the counter is bumped
    here once if they changed a row, as the triggers would have.
    """
    table = FreeRange.__tablename__
    changed = changed if changed is not None else insert.iloc[:0]
    key = ("opus_database_id", "opus_range_id")
    if connection.dialect.name != "sqlite":
        bulk.delete_keys(
            connection, table, {"opus_database_id": database_id}, "opus_range_id", remove
        )
        bulk.update_frame(connection, table, changed, key)
        bulk.insert_frame(connection, table, insert)
        return
    if len(remove) == 0 and insert.empty and changed.empty:
        return
    with _counter_triggers_suspended(connection, table):
        removed = bulk.delete_keys(
            connection, table, {"opus_database_id": database_id}, "opus_range_id", remove
        )
        written = bulk.update_frame(connection, table, changed, key, _INDEXED)
        written += bulk.insert_frame(connection, table, insert)
    tenants = set()
    if written:
        tenants = set(pd.concat([insert["tenant_id"], changed["tenant_id"]]).unique().tolist())
    if removed:
        tenants.add(
            connection.scalar(select(OpusDatabase.tenant_id).where(OpusDatabase.id == database_id))
        )
    for tenant_id in sorted(tenants):
        connection.execute(
            update(AvailabilityVersion)
            .where(
                AvailabilityVersion.tenant_id == tenant_id, AvailabilityVersion.topic == "reference"
            )
            .values(version=AvailabilityVersion.version + 1)
        )


_INDEXED = ("practitioner_id", "starts_at")
"""``free_range``'s columns in its secondary index (ix_free_range_practitioner_start)."""


@contextmanager
def _counter_triggers_suspended(connection: Connection, table: str) -> Iterator[None]:
    """Drop ``table``'s availability counter triggers (SQLite), and create them again
    from their own stored SQL on the way out, all inside the caller's transaction:
    SQLite's schema changes are transactional and it has one writer at a time, so no
    other connection ever sees the triggers missing, and a rollback brings them back.
    On an error they are created again too (unless the rollback already did), in case
    the caller goes on with its transaction."""
    triggers = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table "
            "AND name LIKE :pattern"
        ),
        {"table": table, "pattern": f"tr_{table}_availability_%"},
    ).all()
    for name, _ in triggers:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        present = set(
            connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        )
        for name, sql in triggers:
            if name not in present:
                connection.exec_driver_sql(sql)


# -- quarantine, state, runs -------------------------------------------------------------


def replace_quarantine(
    session: Session,
    plan: DatabasePlan,
    stream: str,
    refused: pd.DataFrame,
    id_columns: tuple[str, ...],
    clear_ids: Iterable[str] | None,
) -> None:
    """Record refused rows. ``clear_ids`` lists entries to drop (rows now valid or
    gone); ``None`` means this run saw the whole stream, so every other entry goes."""
    now = utcnow()
    in_stream = (QuarantinedRow.opus_database_id == plan.id, QuarantinedRow.stream == stream)
    records = refused.to_dict("records")
    refused_ids = [_source_id(r, id_columns) for r in records]
    existing = {q.source_id: q for q in session.scalars(select(QuarantinedRow).where(*in_stream))}
    # Most cleared ids were never quarantined: delete only the entries there are.
    stale = (
        set(existing) - set(refused_ids)
        if clear_ids is None
        else set(existing).intersection(clear_ids) - set(refused_ids)
    )
    for chunk in _chunks(sorted(stale), 500):
        session.execute(
            delete(QuarantinedRow)
            .where(*in_stream, QuarantinedRow.source_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    for source_id, row in zip(refused_ids, records, strict=True):
        entry = existing.get(source_id)
        if entry is None:
            entry = QuarantinedRow(
                tenant_id=plan.tenant_id,
                opus_database_id=plan.id,
                stream=stream,
                source_id=source_id,
                first_seen_at=now,
            )
            session.add(entry)
            existing[source_id] = entry
        entry.reasons = row.pop("reasons")
        entry.row_data = json.dumps(row, default=str, ensure_ascii=False)
        entry.last_seen_at = now
    session.flush()


def _source_id(row: dict, id_columns: tuple[str, ...]) -> str:
    """The row's id in Opus ("123", or "7@UPP1" for a pair); a row without one gets
    a digest of its content, so that it is still one stable quarantine entry."""
    values = [row.get(column) for column in id_columns]
    if any(v is None or pd.isna(v) for v in values):
        digest = hashlib.sha1(json.dumps(row, default=str, sort_keys=True).encode()).hexdigest()
        return f"#{digest[:16]}"
    return "@".join(str(v) for v in values)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def save_state(
    session: Session,
    plan: DatabasePlan,
    *,
    row_version: int,
    window_start_local: datetime,
    window_end_local: datetime,
    fingerprint: str,
    ids_compared: bool,
    count_mismatch: bool,
    longest_range_s: int,
) -> None:
    state = session.get(SyncState, plan.id) or SyncState(opus_database_id=plan.id)
    state.free_range_row_version = row_version
    state.window_start_local = window_start_local.isoformat(sep=" ", timespec="seconds")
    state.window_end_local = window_end_local.isoformat(sep=" ", timespec="seconds")
    state.reference_fingerprint = fingerprint
    state.count_mismatch = count_mismatch
    state.longest_range_s = longest_range_s
    state.last_success_at = utcnow()
    if ids_compared:
        state.ids_compared_at = state.last_success_at
    session.add(state)


def record_run(session: Session, plan: DatabasePlan, **fields) -> SyncRun:
    if fields.get("message"):  # a failure's words: the driver's, maybe quoting a patient
        fields["message"] = scrub(fields["message"])[:2000]
    run = SyncRun(
        tenant_id=plan.tenant_id, opus_database_id=plan.id, finished_at=utcnow(), **fields
    )
    session.add(run)
    return run
