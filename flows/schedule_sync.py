"""The schedule sync's steps as plain functions over whole DataFrames, so that the
Prefect flow stays a thin shell and tests and benchmarks can call each step alone.

    plan (store) → extract (Opus) → judge (Great Expectations) → publish (store, one transaction)

A run is *full* the first time and whenever something that decides a range's
validity has changed (clinics, clinicians, treatments, added practitioners, months
to sync): every range in the window is read and judged again. Otherwise it is
*incremental*: only ranges whose row version grew, plus those the moving window has
reached, are read, and removals come from Opus's deletion log. The store then counts
what it holds against Opus's count; on a difference, on a new day and at least hourly,
a run compares every id as well, so a removal the log missed is still found.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from connectors.opus.connection import ConnectLimits, OpusSource, connect_limits, opened
from connectors.opus.reader import (
    FreeRangeExtract,
    OpusReader,
    ReferenceData,
    ReferenceRows,
    Window,
)
from connectors.store import schedules as store
from connectors.store import waitlist_offers
from connectors.store.availability import months_later
from connectors.store.db import session_scope
from connectors.store.schedules import DatabasePlan, StoreIds, TenantPlan
from connectors.store.types import utcnow
from opus_online.config import Settings
from validations.schedules import (
    Judged,
    JudgedReference,
    RangeContext,
    judge_free_ranges,
    judge_reference,
)

# The columns that identify a row of each stream in the quarantine.
STREAM_IDS = {
    "clinic": ("ClinicID",),
    "clinician": ("ClinicianID",),
    "treatment": ("TreatmentID",),
    "clinician_clinic": ("ClinicianID", "ClinicID"),
    "free_range": ("FreeRangeID",),
}


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection within a step. A step over a million ranges makes
    millions of short-lived tuples (driver rows, bound parameters), none of them in a
    cycle, and each allocation burst set off collections that traversed the whole
    heap of the process (Great Expectations, pandas, Prefect): half a second to a
    second of a full run. Reference counting still frees everything; a collection
    left out happens after the step. (Collection is per process: the step enables it
    again only if it was enabled when the step began.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- extract -------------------------------------------------------------------------------


@dataclass
class Extract:
    plan: DatabasePlan
    reference: ReferenceData | None
    """Opus's reference data, read on full runs (an incremental run's is unchanged
    and judged against the store's)."""
    ranges: FreeRangeExtract
    fingerprint: str
    started_at: datetime


def publishing_window(now: datetime, months: int, timezone: str) -> Window:
    """From the start of today to ``months`` from now, in Opus's local time.

    Starting at midnight rather than now means a range leaves the store on the day
    after it ended, in the first run of the day, and not in every run as the day
    goes: the booking pages show only times still to come anyway.
    """
    local_now = now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
    start = local_now.replace(hour=0, minute=0, second=0)
    end = months_later(local_now, months)  # the patient site's horizon too
    return Window(start=start, end=end)


def fingerprint(reference: ReferenceRows, plan: DatabasePlan, months: int) -> str:
    """A digest of everything besides the ranges themselves that decides whether a
    range may be published. Of the rows as the driver gives them, so that a run
    whose reference data is unchanged (most runs) never types it into frames."""
    digest = reference.digest()
    digest.update(repr(sorted(plan.added)).encode())
    digest.update(str(months).encode())
    return digest.hexdigest()


def limits_of(plan: DatabasePlan, settings: Settings) -> ConnectLimits:
    """The connect timeout and retry count for this Opus database: its own where the
    operator set them, else ``OPUS_OPUS_CONNECT_TIMEOUT_S`` / ``OPUS_OPUS_RETRIES``."""
    return connect_limits(
        plan.connect_timeout_s,
        plan.retries,
        default_timeout_s=settings.opus_connect_timeout_s,
        default_retries=settings.opus_retries,
    )


def extract_database(
    plan: DatabasePlan, months: int, *, timezone: str, timeout_s: int, now: datetime | None = None
) -> Extract:
    started = now or utcnow()
    window = publishing_window(started, months, timezone)
    source = OpusSource(plan.name, plan.connection_ref)
    new_day = plan.window_start_local is None or plan.window_start_local != window.start
    # On a new day yesterday's ranges go: only comparing ids finds them.
    compare_ids = plan.compare_ids or new_day
    with gc_paused(), opened(source, timeout_s=timeout_s) as connection:
        reader = OpusReader(connection, timezone)
        reader.check_schema()
        rows = reader.reference_rows()
        digest = fingerprint(rows, plan, months)
        incremental = plan.fingerprint == digest and plan.window_end_local is not None
        reference = None if incremental else rows.frames()
        ranges = reader.free_ranges(
            window,
            changed_since=plan.row_version if incremental else None,
            previous_window_end=plan.window_end_local if incremental else None,
            compare_ids=compare_ids,
        )
    return Extract(plan, reference, ranges, digest, started)


# -- judge ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    extract: Extract
    ranges: Judged
    reference: JudgedReference | None
    """Judged reference data, on full runs; an incremental run's is unchanged."""
    known: store.PublishedReference | None = None
    """The store's reference data an incremental run judged against, which publishing
    reuses (the tenant's sync lease keeps any other run from changing it meanwhile)."""

    @property
    def plan(self) -> DatabasePlan:
        return self.extract.plan


def judge_database(extract: Extract, engine: Engine) -> Verdict:
    with gc_paused():
        return _judge_database(extract, engine)


def _judge_database(extract: Extract, engine: Engine) -> Verdict:
    window = extract.ranges.window
    plan = extract.plan
    if extract.ranges.incremental and extract.ranges.ranges.empty:
        # Nothing changed in Opus: nothing to judge, and no need to ask the store what
        # the changes would be judged against (most runs of most tenants).
        return Verdict(extract, nothing_judged(extract.ranges.ranges), None)
    known = None
    if extract.ranges.incremental:
        with session_scope(engine) as session:
            known = store.published_reference(session, plan)
        reference = None
        context = RangeContext(
            window=window,
            clinic_ids=set(known.ids.clinics),
            clinician_ids=set(known.ids.practitioners),
            treatment_ids=set(known.ids.treatments),
            added=set(plan.added) & known.memberships,
            published=_published_neighbours(extract, engine),
        )
    else:
        reference = judge_reference(extract.reference)
        valid = reference.valid
        members = zip(
            valid.clinician_clinics["ClinicID"],
            valid.clinician_clinics["ClinicianID"].astype(int),
            strict=True,
        )
        context = RangeContext(
            window=window,
            clinic_ids=set(valid.clinics["ClinicID"]),
            clinician_ids=set(valid.clinicians["ClinicianID"].astype(int)),
            treatment_ids=set(valid.treatments["TreatmentID"].astype(int)),
            added=set(plan.added) & set(members),
        )
    ranges = judge_free_ranges(extract.ranges.ranges, extract.ranges.treatments, context)
    return Verdict(extract, ranges, reference, known)


def nothing_judged(ranges: pd.DataFrame) -> Judged:
    """The verdict on an empty batch, shaped as :func:`judge_free_ranges` shapes one."""
    refused = ranges.assign(reasons=pd.Series(dtype="string"))
    return Judged(valid=ranges, quarantined=refused, skipped=refused.copy())


def _published_neighbours(extract: Extract, engine: Engine) -> pd.DataFrame:
    """Published ranges the changed ones could overlap, minus those this run replaces
    or finds removed."""
    batch = extract.ranges.ranges.dropna(subset=["ClinicianID", "starts_at", "ends_at"])
    with engine.begin() as connection:
        neighbours = store.published_neighbours(connection, extract.plan, batch)
    ids = neighbours["opus_range_id"]
    replaced = extract.ranges.ranges["FreeRangeID"].dropna().astype("int64")
    keep = ~ids.isin(replaced) & ~ids.isin(extract.ranges.deleted_ids)
    if extract.ranges.ids_in_window is not None:
        keep &= ids.isin(extract.ranges.ids_in_window)
    return neighbours.loc[keep, ["ClinicianID", "starts_at", "ends_at"]]


# -- publish -------------------------------------------------------------------------------


@dataclass
class Counts:
    database: str
    mode: str
    extracted: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    quarantined: int = 0
    outside_window: int = 0
    count_mismatch: bool = False
    reasons: dict[str, int] = field(default_factory=dict)


def publish_tenant(engine: Engine, plan: TenantPlan, verdicts: list[Verdict]) -> list[Counts]:
    """Write every database's results in one transaction: all of this run or none."""
    results = []
    with gc_paused(), session_scope(engine) as session:
        connection = session.connection()
        for verdict in verdicts:
            results.append(_publish_database(session, connection, verdict))
    return results


def _publish_database(session: Session, connection: Connection, verdict: Verdict) -> Counts:
    extract, plan, ranges = verdict.extract, verdict.plan, verdict.ranges
    batch = extract.ranges
    if verdict.reference is not None:
        ids = _publish_reference(session, plan, verdict.reference)
    elif not ranges.valid.empty:
        known = verdict.known or store.published_reference(session, plan)
        ids = known.ids
    else:  # no range to write: no store ids needed
        ids = None
    counts = Counts(plan.name, "incremental" if batch.incremental else "full")
    counts.extracted = len(batch.ranges)
    counts.quarantined = len(ranges.quarantined)
    counts.outside_window = len(ranges.skipped)
    for reasons in ranges.quarantined["reasons"]:
        for reason in reasons.split(","):
            counts.reasons[reason] = counts.reasons.get(reason, 0) + 1

    rows = _store_rows(session, plan, ranges.valid, batch.treatments, ids)
    refused = pd.concat([ranges.quarantined["FreeRangeID"], ranges.skipped["FreeRangeID"]])
    refused = np.unique(refused.dropna().astype("int64").to_numpy())
    versions, published_ids = _published_state(connection, plan, batch, rows, refused)
    version_then = versions.astype("Int64").reindex(rows["opus_range_id"].to_numpy())
    was_published = version_then.notna().to_numpy()
    unchanged = version_then.fillna(-1).to_numpy("int64") == rows["row_version"].to_numpy()
    changed = was_published & ~unchanged
    counts.added = int((~was_published).sum())
    counts.changed = int(changed.sum())
    counts.unchanged = int(unchanged.sum())

    gone, withdrawn = _withdrawals(batch, published_ids, refused, rows)
    counts.removed = len(withdrawn)
    # Changed ranges are rewritten in place rather than deleted and inserted again:
    # fewer pages written (a third less SQLite WAL to check back in at commit).
    store.replace_ranges(
        connection,
        plan.id,
        np.setdiff1d(withdrawn, rows.loc[changed, "opus_range_id"].to_numpy()),
        rows[~was_published],
        rows[changed],
    )
    # New free time for the waiting list (only where someone waits for an earlier one).
    waitlist_offers.record_sync_openings(session, rows[~unchanged], extract.started_at)
    _record_quarantine(session, plan, batch, ranges, gone)
    counts.count_mismatch = _count_mismatch(session, connection, batch, plan)
    store.save_state(
        session,
        plan,
        row_version=batch.watermark,
        window_start_local=batch.window.start,
        window_end_local=batch.window.end,
        fingerprint=extract.fingerprint,
        ids_compared=not batch.incremental or batch.ids_in_window is not None,
        count_mismatch=counts.count_mismatch,
        longest_range_s=_longest_range_s(rows, plan.longest_range_s if batch.incremental else 0),
    )
    store.record_run(
        session,
        plan,
        started_at=extract.started_at,
        status="succeeded",
        mode=counts.mode,
        extracted=counts.extracted,
        added=counts.added,
        changed=counts.changed,
        removed=counts.removed,
        quarantined=counts.quarantined,
    )
    return counts


def _published_state(
    connection: Connection,
    plan: DatabasePlan,
    batch: FreeRangeExtract,
    rows: pd.DataFrame,
    refused: np.ndarray,
) -> tuple[pd.Series, np.ndarray]:
    """Row versions of the published ranges this run touches, and the sorted ids of
    those it must know about: all of them, unless an incremental run need not
    compare every id (then only the touched ones, a few thousand, not a million)."""
    if not batch.incremental:
        versions = store.published_versions(connection, plan.id)
        return versions, np.sort(versions.index.to_numpy())
    touched = np.unique(
        np.concatenate([rows["opus_range_id"].to_numpy(), refused, batch.deleted_ids])
    )
    versions = store.published_versions(connection, plan.id, touched)
    if batch.ids_in_window is not None:
        return versions, store.published_ids(connection, plan.id)
    return versions, np.sort(versions.index.to_numpy())


def _withdrawals(
    batch: FreeRangeExtract, published_ids: np.ndarray, refused: np.ndarray, rows: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Published ranges gone from Opus's window, and all published ranges to withdraw.

    A full run has seen every range in the window, so whatever it did not find valid
    goes. An incremental run withdraws the ranges in Opus's deletion log, those of its
    batch it now refuses, and, when it compares ids, every published range the window
    no longer holds.
    """
    if not batch.incremental:
        gone = _missing_from(published_ids, np.sort(rows["opus_range_id"].to_numpy()))
        return gone, gone
    gone = _found_in(batch.deleted_ids, published_ids)
    if batch.ids_in_window is not None:
        gone = np.union1d(gone, _missing_from(published_ids, batch.ids_in_window))
    return gone, np.union1d(gone, _found_in(refused, published_ids))


def _record_quarantine(
    session: Session, plan: DatabasePlan, batch: FreeRangeExtract, ranges: Judged, gone: np.ndarray
) -> None:
    """Refused ranges into the quarantine; entries of ranges now fine or gone out."""
    cleared = None  # a full run has seen the whole stream: every other entry goes
    if (
        batch.incremental
        and batch.ranges.empty
        and len(gone) == 0
        and len(batch.deleted_ids) == 0
        and batch.ids_in_window is None
    ):
        return  # nothing refused, nothing that could clear an entry
    if batch.incremental:
        fine = pd.concat([ranges.valid["FreeRangeID"], ranges.skipped["FreeRangeID"]])
        cleared = set(fine.astype(str)) | {str(i) for i in np.union1d(gone, batch.deleted_ids)}
        if batch.ids_in_window is not None:
            in_window = set(batch.ids_in_window.tolist())
            stale = store.quarantined_ids(session, plan, "free_range")
            cleared |= {s for s in stale if not s.isdigit() or int(s) not in in_window}
    store.replace_quarantine(
        session,
        plan,
        "free_range",
        ranges.quarantined.drop(columns=["starts_at", "ends_at"]),
        STREAM_IDS["free_range"],
        cleared,
    )


def _longest_range_s(rows: pd.DataFrame, longest_before: int) -> int:
    """The longest range published after this run, or a little more: removals do not
    shrink it, which only makes the neighbour search a little wider."""
    if rows.empty:
        return longest_before
    durations = (rows["ends_at"] - rows["starts_at"]).dt.total_seconds()
    return max(longest_before, int(np.ceil(durations.max())))


def _count_mismatch(session: Session, connection: Connection, batch, plan) -> bool:
    """Does the store, after this run, track as many ranges as Opus's window holds?
    If not, a removal escaped the deletion log: the next run compares every id."""
    if not batch.incremental or batch.ids_in_window is not None:
        return False
    tracked = store.published_count(connection, plan.id) + len(
        store.quarantined_ids(session, plan, "free_range")
    )
    return tracked != batch.count_in_window


def _publish_reference(session: Session, plan: DatabasePlan, reference: JudgedReference):
    valid = reference.valid
    ids = store.upsert_reference(
        session,
        plan,
        valid.clinics,
        valid.clinicians,
        valid.clinician_clinics,
        valid.treatments,
    )
    for stream, refused in reference.quarantined.items():
        store.replace_quarantine(session, plan, stream, refused, STREAM_IDS[stream], None)
    return ids


def _store_rows(
    session: Session,
    plan: DatabasePlan,
    valid: pd.DataFrame,
    links: pd.DataFrame,
    ids: StoreIds | None,
) -> pd.DataFrame:
    """Valid Opus ranges as ``free_range`` rows."""
    if valid.empty:
        return _NO_ROWS
    valid = valid.reset_index(drop=True)
    set_keys = treatment_set_keys(valid["FreeRangeID"], links)
    set_ids = store.treatment_set_ids(session, plan, set(set_keys.unique()), ids)
    return pd.DataFrame(
        {
            "opus_database_id": plan.id,
            "opus_range_id": valid["FreeRangeID"].astype("int64"),
            "tenant_id": plan.tenant_id,
            "clinic_id": _mapped(valid["ClinicID"], ids.clinics),
            "practitioner_id": _mapped(valid["ClinicianID"], ids.practitioners),
            "treatment_set_id": _mapped(set_keys, set_ids),
            "starts_at": valid["starts_at"].astype("datetime64[us, UTC]"),
            "ends_at": valid["ends_at"].astype("datetime64[us, UTC]"),
            "row_version": valid["RowVersion"].astype("int64"),
        }
    )


_NO_ROWS = pd.DataFrame(
    {
        "opus_database_id": pd.Series(dtype="int64"),
        "opus_range_id": pd.Series(dtype="int64"),
        "tenant_id": pd.Series(dtype="int64"),
        "clinic_id": pd.Series(dtype="int64"),
        "practitioner_id": pd.Series(dtype="int64"),
        "treatment_set_id": pd.Series(dtype="int64"),
        "starts_at": pd.Series(dtype="datetime64[us, UTC]"),
        "ends_at": pd.Series(dtype="datetime64[us, UTC]"),
        "row_version": pd.Series(dtype="int64"),
    }
)
"""``free_range`` rows of a run with no valid range (read only: callers filter it)."""


def treatment_set_keys(range_ids: pd.Series, links: pd.DataFrame) -> pd.Series:
    """For each range id, its allowed treatment ids as a sorted key "1,4,7" (None for
    a range without any).

    A million ranges share a few distinct sets, so each range's set becomes a bit mask
    over the distinct treatments (one 64-bit word per 64 of them), the masks are
    numbered, and each text key is built once per set, not once per range. A set is a
    set: a link listed twice counts once.
    """
    wanted = range_ids.astype("int64").to_numpy()
    ids, back = np.unique(wanted, return_inverse=True)
    position = pd.Index(ids).get_indexer(links["FreeRangeID"].to_numpy("int64"))
    mine = position >= 0  # links of other ranges (refused ones) are left out
    owner, treatment = position[mine], links["TreatmentID"].to_numpy("int64")[mine]
    if len(owner) == 0:
        return pd.Series([None] * len(range_ids), dtype=object, index=range_ids.index)
    code, distinct = pd.factorize(treatment, sort=True)
    masks = np.zeros((len(ids), (len(distinct) + 63) // 64), dtype=np.uint64)
    bit = np.left_shift(np.uint64(1), (code % 64).astype(np.uint64))
    for word in range(masks.shape[1]):
        here = code // 64 == word
        np.bitwise_or.at(masks[:, word], owner[here], bit[here])
    if masks.shape[1] == 1:
        set_number = pd.factorize(masks[:, 0])[0]
    else:
        set_number = pd.DataFrame(masks).groupby(list(range(masks.shape[1]))).ngroup().to_numpy()
    first_of_set = np.unique(set_number, return_index=True)[1]
    keys = np.array([_set_key(masks[i], distinct) for i in first_of_set], dtype=object)
    return pd.Series(keys[set_number][back], index=range_ids.index)


def _set_key(mask: np.ndarray, treatments: np.ndarray) -> str | None:
    """The text key of one bit mask over ``treatments`` (sorted): "1,4,7"."""
    codes = [
        64 * word + b for word, bits in enumerate(mask.tolist()) for b in range(64) if bits >> b & 1
    ]
    return ",".join(str(t) for t in treatments[codes]) if codes else None


def _mapped(values: pd.Series, mapping: dict) -> np.ndarray:
    """``values.map(mapping)``, but a million rows hold a few thousand distinct ids:
    map those once."""
    codes, distinct = pd.factorize(values)
    return np.array([mapping[v] for v in distinct], dtype=np.int64)[codes]


def _found_in(ids: np.ndarray, sorted_pool: np.ndarray) -> np.ndarray:
    """The ids also in ``sorted_pool`` (sorted, unique), sorted and unique: what
    ``np.intersect1d`` gives, by binary search, without sorting a million published
    ids again for a few deleted ones."""
    if len(sorted_pool) == 0 or len(ids) == 0:
        return np.empty(0, dtype=np.int64)
    ids = np.unique(ids)
    at = np.searchsorted(sorted_pool, ids).clip(max=len(sorted_pool) - 1)
    return ids[sorted_pool[at] == ids]


def _missing_from(ids: np.ndarray, sorted_pool: np.ndarray) -> np.ndarray:
    """The ids not in ``sorted_pool`` (sorted, unique), by binary search."""
    if len(sorted_pool) == 0:
        return ids
    at = np.searchsorted(sorted_pool, ids).clip(max=len(sorted_pool) - 1)
    return ids[sorted_pool[at] != ids]
