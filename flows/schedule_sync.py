"""The schedule sync's steps as plain functions over whole DataFrames, so that the
Prefect flow stays a thin shell and tests and benchmarks can call each step alone.

    plan (store) → extract (Opus) → judge (Great Expectations) → publish (store, one transaction)

A run is *full* the first time and whenever something that decides a range's
validity has changed (clinics, clinicians, treatments, added practitioners, months
to sync): every range in the window is read and judged again. Otherwise it is
*incremental*: only ranges whose row version grew, plus those the moving window has
reached, are read; ranges gone from Opus are found by comparing ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from connectors.opus.connection import OpusSource, opened
from connectors.opus.reader import FreeRangeExtract, OpusReader, ReferenceData, Window
from connectors.store import schedules as store
from connectors.store.db import session_scope
from connectors.store.schedules import DatabasePlan, TenantPlan
from connectors.store.types import utcnow
from validations.schedules import (
    Judged,
    JudgedReference,
    RangeContext,
    judge_free_ranges,
    judge_reference,
)

STREAM_IDS = {"clinic": "ClinicID", "clinician": "ClinicianID", "treatment": "TreatmentID"}


# -- extract -------------------------------------------------------------------------------


@dataclass
class Extract:
    plan: DatabasePlan
    reference: ReferenceData
    ranges: FreeRangeExtract
    fingerprint: str
    started_at: datetime


def publishing_window(now: datetime, months: int, timezone: str) -> Window:
    local_now = now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
    end = (pd.Timestamp(local_now) + pd.DateOffset(months=months)).to_pydatetime()
    return Window(start=local_now, end=end)


def fingerprint(reference: ReferenceData, plan: DatabasePlan, months: int) -> str:
    """A digest of everything besides the ranges themselves that decides whether a
    range may be published."""
    digest = hashlib.sha256()
    for frame in (
        reference.clinics,
        reference.clinicians,
        reference.clinician_clinics,
        reference.treatments,
    ):
        ordered = frame.sort_values(list(frame.columns[:1])).reset_index(drop=True)
        digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    digest.update(repr(sorted(plan.added)).encode())
    digest.update(str(months).encode())
    return digest.hexdigest()


def extract_database(
    plan: DatabasePlan, months: int, *, timezone: str, timeout_s: int, now: datetime | None = None
) -> Extract:
    started = now or utcnow()
    window = publishing_window(started, months, timezone)
    with opened(OpusSource(plan.name, plan.connection_ref), timeout_s=timeout_s) as connection:
        reader = OpusReader(connection, timezone)
        reader.check_schema()
        reference = reader.reference_data()
        digest = fingerprint(reference, plan, months)
        incremental = plan.fingerprint == digest and plan.window_end_local is not None
        ranges = reader.free_ranges(
            window,
            changed_since=plan.row_version if incremental else None,
            previous_window_end=plan.window_end_local if incremental else None,
        )
    return Extract(plan, reference, ranges, digest, started)


# -- judge ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    extract: Extract
    reference: JudgedReference
    ranges: Judged

    @property
    def plan(self) -> DatabasePlan:
        return self.extract.plan


def judge_database(extract: Extract, engine: Engine) -> Verdict:
    reference = judge_reference(extract.reference)
    valid = reference.valid
    members = set(
        zip(
            valid.clinician_clinics["ClinicID"],
            valid.clinician_clinics["ClinicianID"].astype(int),
            strict=True,
        )
    )
    context = RangeContext(
        window=extract.ranges.window,
        clinic_ids=set(valid.clinics["ClinicID"]),
        clinician_ids=set(valid.clinicians["ClinicianID"].astype(int)),
        treatment_ids=set(valid.treatments["TreatmentID"].astype(int)),
        added=set(extract.plan.added) & members,
    )
    if extract.ranges.incremental:
        context.published = _published_neighbours(extract, engine)
    return Verdict(
        extract,
        reference,
        judge_free_ranges(extract.ranges.ranges, extract.ranges.treatments, context),
    )


def _published_neighbours(extract: Extract, engine: Engine) -> pd.DataFrame:
    """Published ranges the changed ones could overlap, minus those this run replaces
    or finds removed."""
    batch = extract.ranges.ranges.dropna(subset=["ClinicianID", "starts_at", "ends_at"])
    with engine.begin() as connection:
        neighbours = store.published_neighbours(connection, extract.plan.id, batch)
    replaced = extract.ranges.ranges["FreeRangeID"].dropna().astype("int64")
    keep = ~neighbours["opus_range_id"].isin(replaced) & neighbours["opus_range_id"].isin(
        extract.ranges.ids_in_window
    )
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
    reasons: dict[str, int] = field(default_factory=dict)


def publish_tenant(engine: Engine, plan: TenantPlan, verdicts: list[Verdict]) -> list[Counts]:
    """Write every database's results in one transaction: all of this run or none."""
    results = []
    with session_scope(engine) as session:
        connection = session.connection()
        for verdict in verdicts:
            results.append(_publish_database(session, connection, verdict))
    return results


def _publish_database(session, connection, verdict: Verdict) -> Counts:
    extract, plan = verdict.extract, verdict.plan
    valid_reference = verdict.reference.valid
    ids = store.upsert_reference(
        session,
        plan,
        valid_reference.clinics,
        valid_reference.clinicians,
        valid_reference.clinician_clinics,
        valid_reference.treatments,
    )
    for stream, refused in verdict.reference.quarantined.items():
        store.replace_quarantine(
            session, plan, stream, refused, STREAM_IDS.get(stream, "ClinicianID"), None
        )

    counts = Counts(plan.name, "incremental" if extract.ranges.incremental else "full")
    counts.extracted = len(extract.ranges.ranges)
    ranges = verdict.ranges
    rows = _store_rows(session, plan, ranges.valid, extract.ranges.treatments, ids)

    published = store.published_versions(connection, plan.id)
    is_published = rows["opus_range_id"].isin(published["opus_range_id"])
    versions = published.set_index("opus_range_id")["row_version"]
    same = is_published & (rows["opus_range_id"].map(versions) == rows["row_version"])
    counts.added = int((~is_published).sum())
    counts.changed = int((is_published & ~same).sum())
    counts.unchanged = int(same.sum())

    # Published ranges that must go: gone from Opus or out of the window, or now refused.
    refused_ids = pd.concat(
        [ranges.quarantined["FreeRangeID"], ranges.skipped["FreeRangeID"]]
    ).dropna()
    gone = np.setdiff1d(published["opus_range_id"].to_numpy(), extract.ranges.ids_in_window)
    refused = np.intersect1d(
        refused_ids.astype("int64").to_numpy(), published["opus_range_id"].to_numpy()
    )
    if not extract.ranges.incremental:  # a full run has seen every range: the rest is gone
        gone = np.setdiff1d(published["opus_range_id"].to_numpy(), rows["opus_range_id"].to_numpy())
        refused = np.empty(0, dtype=np.int64)
    removed = np.union1d(gone, refused)
    counts.removed = len(removed)
    changed_ids = rows.loc[is_published & ~same, "opus_range_id"].to_numpy()
    store.replace_ranges(connection, plan.id, np.union1d(removed, changed_ids), rows[~same])

    counts.quarantined = len(ranges.quarantined)
    counts.outside_window = len(ranges.skipped)
    for reasons in ranges.quarantined["reasons"]:
        for reason in reasons.split(","):
            counts.reasons[reason] = counts.reasons.get(reason, 0) + 1
    clear = None
    if extract.ranges.incremental:
        now_fine = pd.concat([ranges.valid["FreeRangeID"], ranges.skipped["FreeRangeID"]]).astype(
            str
        )
        clear = set(now_fine) | set(map(str, gone.tolist()))
    store.replace_quarantine(
        session,
        plan,
        "free_range",
        ranges.quarantined.drop(columns=["starts_at", "ends_at"]),
        "FreeRangeID",
        clear,
    )
    store.save_state(
        session, plan, extract.ranges.watermark, extract.ranges.window.end, extract.fingerprint
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


def _store_rows(
    session, plan: DatabasePlan, valid: pd.DataFrame, links: pd.DataFrame, ids
) -> pd.DataFrame:
    """Valid Opus ranges as ``free_range`` rows."""
    set_keys = treatment_set_keys(valid["FreeRangeID"], links)
    set_ids = store.treatment_set_ids(session, plan, set(set_keys), ids)
    return pd.DataFrame(
        {
            "opus_database_id": plan.id,
            "opus_range_id": valid["FreeRangeID"].astype("int64").to_numpy(),
            "tenant_id": plan.tenant_id,
            "clinic_id": valid["ClinicID"].map(ids.clinics).astype("int64").to_numpy(),
            "practitioner_id": valid["ClinicianID"]
            .map(ids.practitioners)
            .astype("int64")
            .to_numpy(),
            "treatment_set_id": set_keys.map(set_ids).astype("int64").to_numpy(),
            "starts_at": valid["starts_at"].to_numpy(),
            "ends_at": valid["ends_at"].to_numpy(),
            "row_version": valid["RowVersion"].astype("int64").to_numpy(),
        }
    ).astype({"starts_at": "datetime64[us, UTC]", "ends_at": "datetime64[us, UTC]"})


def treatment_set_keys(range_ids: pd.Series, links: pd.DataFrame) -> pd.Series:
    """For each range id, its allowed treatment ids as a sorted key "1,4,7".

    Ranges share a few distinct sets, so we find those with ``np.unique`` over rows
    of a padded matrix (one row per range, its sorted treatment ids, -1 after) and
    build the text key once per distinct set instead of once per range.
    """
    wanted = range_ids.astype("int64").to_numpy()
    mine = (
        links[links["FreeRangeID"].isin(wanted)]
        .astype("int64")
        .sort_values(["FreeRangeID", "TreatmentID"])
    )
    if mine.empty:
        return pd.Series([], dtype=object, index=range_ids.index)
    owner, position = np.unique(mine["FreeRangeID"].to_numpy(), return_inverse=True)
    column = mine.groupby("FreeRangeID").cumcount().to_numpy()
    matrix = np.full((len(owner), column.max() + 1), -1, dtype=np.int64)
    matrix[position, column] = mine["TreatmentID"].to_numpy()
    distinct, which = np.unique(matrix, axis=0, return_inverse=True)
    keys = np.array([",".join(str(t) for t in row if t >= 0) for row in distinct], dtype=object)
    by_range = pd.Series(keys[which.ravel()], index=owner)
    return pd.Series(by_range.reindex(wanted).to_numpy(), index=range_ids.index)


def now_utc() -> datetime:
    return datetime.now(UTC)
