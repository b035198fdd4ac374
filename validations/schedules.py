"""The suites for what the schedule sync reads from Opus.

Each stream has a suite of :class:`Rule` s. What one row shows by itself (a value
present, ids unique, end after start) is a plain expectation. Facts that need other
data (is the clinician known? is the practitioner added? does the range overlap
another of the same clinician? is it in the window?) are first derived into boolean
columns with vectorised pandas, and the suite expects them true. Besides keeping
each rule one declarative expectation with one reason, this keeps GX fast: a value
set of thousands of ids is serialised into every result, and GX's datetime
comparisons convert row by row (seconds per million rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectors.opus.reader import ReferenceData, Window
from validations.gx import Rule, failing_rows

SKIP_REASONS = frozenset({"outside_horizon"})
"""Rows with these reasons are not published but are not errors either: a range
moved beyond the window is simply not due yet."""


def _not_null(column: str, reason: str) -> Rule:
    return Rule(reason, "ExpectColumnValuesToNotBeNull", {"column": column})


def _unique(column: str) -> Rule:
    return Rule("id_duplicate", "ExpectColumnValuesToBeUnique", {"column": column})


def _is_true(column: str, reason: str) -> Rule:
    return Rule(reason, "ExpectColumnValuesToBeInSet", {"column": column, "value_set": [True]})


CLINIC_RULES = [
    _not_null("ClinicID", "id_missing"),
    _unique("ClinicID"),
    _not_null("Name", "name_missing"),
]
CLINICIAN_RULES = [
    _not_null("ClinicianID", "id_missing"),
    _unique("ClinicianID"),
    _is_true("has_name", "name_missing"),
]
TREATMENT_RULES = [
    _not_null("TreatmentID", "id_missing"),
    _unique("TreatmentID"),
    _not_null("Name", "name_missing"),
    _not_null("Duration", "duration_invalid"),
    Rule(
        "duration_invalid", "ExpectColumnValuesToBeBetween", {"column": "Duration", "min_value": 1}
    ),
]


MEMBERSHIP_RULES = [
    _is_true("clinic_known", "clinic_unknown"),
    _is_true("clinician_known", "clinician_unknown"),
]

FREE_RANGE_RULES = [
    _not_null("FreeRangeID", "id_missing"),
    _unique("FreeRangeID"),
    _not_null("ClinicID", "clinic_missing"),
    _is_true("clinic_known", "clinic_unknown"),
    _not_null("ClinicianID", "clinician_missing"),
    _is_true("clinician_known", "clinician_unknown"),
    _is_true("practitioner_added", "practitioner_not_added"),
    _not_null("StartTime", "start_missing"),
    _not_null("EndTime", "end_missing"),
    Rule(
        "end_before_start",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": "EndTime",
            "column_B": "StartTime",
            "or_equal": False,
            "ignore_row_if": "either_value_is_missing",
        },
    ),
    _is_true("local_time_valid", "local_time_invalid"),
    _is_true("in_window", "outside_horizon"),
    _is_true("has_treatments", "no_treatments"),
    _is_true("treatments_known", "treatment_unknown"),
    _is_true("no_overlap", "overlaps"),
]
_RANGE_FACTS = [
    "clinic_known",
    "clinician_known",
    "practitioner_added",
    "local_time_valid",
    "in_window",
    "has_treatments",
    "treatments_known",
    "no_overlap",
]


@dataclass
class RangeContext:
    """What a free range is judged against."""

    window: Window
    clinic_ids: set[str]
    clinician_ids: set[int]
    treatment_ids: set[int]
    added: set[tuple[str, int]]
    """(ClinicID, ClinicianID) of every practitioner the operator added at a clinic."""
    published: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "ClinicianID": pd.Series(dtype="Int64"),
                "starts_at": pd.Series(dtype="datetime64[us, UTC]"),
                "ends_at": pd.Series(dtype="datetime64[us, UTC]"),
            }
        )
    )
    """Ranges already published that the batch must not overlap (incremental runs)."""


@dataclass
class Judged:
    """A stream split three ways. ``quarantined`` has a ``reasons`` column."""

    valid: pd.DataFrame
    quarantined: pd.DataFrame
    skipped: pd.DataFrame


def judge(frame: pd.DataFrame, suite_name: str, rules: list[Rule]) -> Judged:
    reasons = failing_rows(frame, suite_name, rules)
    failed = frame.loc[reasons.index].assign(reasons=reasons)
    skip = failed["reasons"].map(lambda r: bool(SKIP_REASONS.intersection(r.split(","))))
    skip = skip.astype(bool)
    return Judged(
        valid=frame.drop(index=reasons.index),
        quarantined=failed[~skip],
        skipped=failed[skip],
    )


# -- reference data ------------------------------------------------------------------


@dataclass
class JudgedReference:
    valid: ReferenceData
    quarantined: dict[str, pd.DataFrame]
    """Per stream ("clinic", "clinician", ...), the refused rows with their reasons."""


def judge_reference(reference: ReferenceData) -> JudgedReference:
    clinics = judge(reference.clinics, "clinics", CLINIC_RULES)
    clinicians = judge(
        reference.clinicians.assign(
            has_name=reference.clinicians["FirstName"].notna()
            | reference.clinicians["LastName"].notna()
        ),
        "clinicians",
        CLINICIAN_RULES,
    )
    treatments = judge(reference.treatments, "treatments", TREATMENT_RULES)
    links = reference.clinician_clinics
    memberships = judge(
        links.assign(
            clinic_known=_known(links["ClinicID"], clinics.valid["ClinicID"]),
            clinician_known=_known(links["ClinicianID"], clinicians.valid["ClinicianID"]),
        ),
        "clinician_clinics",
        MEMBERSHIP_RULES,
    )
    return JudgedReference(
        valid=ReferenceData(
            clinics=clinics.valid,
            clinicians=clinicians.valid.drop(columns="has_name"),
            clinician_clinics=memberships.valid.drop(columns=["clinic_known", "clinician_known"]),
            treatments=treatments.valid,
        ),
        quarantined={
            "clinic": clinics.quarantined,
            "clinician": clinicians.quarantined.drop(columns="has_name"),
            "treatment": treatments.quarantined,
            "clinician_clinic": memberships.quarantined.drop(
                columns=["clinic_known", "clinician_known"]
            ),
        },
    )


# -- free ranges ---------------------------------------------------------------------


def judge_free_ranges(ranges: pd.DataFrame, links: pd.DataFrame, context: RangeContext) -> Judged:
    """Judge extracted ranges (with UTC ``starts_at``/``ends_at`` from the reader)."""
    derived = ranges.assign(
        clinic_known=_known(ranges["ClinicID"], context.clinic_ids),
        clinician_known=_known(ranges["ClinicianID"], context.clinician_ids),
        practitioner_added=_practitioner_added(ranges, context),
        local_time_valid=_local_time_valid(ranges),
        in_window=_in_window(ranges, context.window),
        **_treatment_facts(ranges, links, context.treatment_ids),
        no_overlap=~_overlaps(ranges, context.published),
    )
    judged = judge(derived, "free_ranges", FREE_RANGE_RULES)
    return Judged(
        valid=judged.valid.drop(columns=_RANGE_FACTS),
        quarantined=judged.quarantined.drop(columns=_RANGE_FACTS),
        skipped=judged.skipped.drop(columns=_RANGE_FACTS),
    )


def _known(values: pd.Series, known) -> np.ndarray:
    """Is each value one of ``known``? A missing value counts as known: its own rule
    reports it, once."""
    return (values.isna() | values.isin(list(known))).to_numpy(bool)


def _in_window(ranges: pd.DataFrame, window: Window) -> np.ndarray:
    """Does the range reach into the publishing window? Missing times count as inside
    (their own rules report them)."""
    start, end = ranges["StartTime"], ranges["EndTime"]
    inside = (end > window.start) & (start < window.end)
    return (inside.fillna(True) | start.isna() | end.isna()).to_numpy(bool)


def _practitioner_added(ranges: pd.DataFrame, context: RangeContext) -> np.ndarray:
    """True when added, and also when clinic or clinician is missing or unknown: those
    rows already fail for that reason, and "not added" would only add noise.

    Each (clinic, clinician) pair becomes one integer (the clinic's position among the
    added pairs' clinics, and the clinician id), so that the lookup is one ``np.isin``
    rather than a MultiIndex of tuples (a tenth of a second for ten thousand pairs)."""
    clinic, clinician = ranges["ClinicID"], ranges["ClinicianID"]
    judgeable = clinic.isin(context.clinic_ids).fillna(False).to_numpy(bool) & clinician.isin(
        context.clinician_ids
    ).fillna(False).to_numpy(bool)
    if not context.added:
        return ~judgeable
    numbers = {c: i for i, c in enumerate({c for c, _ in context.added})}
    wanted = [numbers[c] << 32 | int(p) & 0xFFFFFFFF for c, p in context.added]
    codes, distinct = pd.factorize(clinic)  # a few clinics: look each up once
    numbered = np.array([numbers.get(c, -1) for c in distinct] + [-1], dtype=np.int64)
    position = numbered[codes]  # a missing clinic's code is -1: the -1 at the end
    keys = position << 32 | clinician.fillna(-1).to_numpy("int64") & 0xFFFFFFFF
    added = (position >= 0) & np.isin(keys, wanted)
    return added | ~judgeable


def _local_time_valid(ranges: pd.DataFrame) -> np.ndarray:
    """A local time that exists exactly once in Stockholm converts to UTC; missing
    times are reported by their own rule."""
    start_ok = ranges["StartTime"].isna() | ranges["starts_at"].notna()
    end_ok = ranges["EndTime"].isna() | ranges["ends_at"].notna()
    return (start_ok & end_ok).to_numpy(bool)


def _treatment_facts(
    ranges: pd.DataFrame, links: pd.DataFrame, known: set[int]
) -> dict[str, np.ndarray]:
    linked = ranges["FreeRangeID"].isin(links["FreeRangeID"]).fillna(False).to_numpy(bool)
    unknown_links = links.loc[~links["TreatmentID"].isin(known).fillna(False), "FreeRangeID"]
    has_unknown = ranges["FreeRangeID"].isin(unknown_links).fillna(False).to_numpy(bool)
    return {"has_treatments": linked, "treatments_known": ~has_unknown}


def _overlaps(ranges: pd.DataFrame, published: pd.DataFrame) -> np.ndarray:
    """Does each range overlap another range of the same clinician (in the batch or
    among ``published``)? Touching ends (10:00–11:00, 11:00–12:00) do not overlap.

    In numpy alone, without a DataFrame or a grouping: for the handful of ranges of a
    small tenant's incremental run, pandas' fixed costs were most of the judging."""
    valid = (
        ranges["starts_at"].notna() & ranges["ends_at"].notna() & ranges["ClinicianID"].notna()
    ).to_numpy(bool)
    clinician = np.concatenate(
        [
            ranges.loc[valid, "ClinicianID"].to_numpy("int64"),
            published["ClinicianID"].to_numpy("int64"),
        ]
    )
    start = np.concatenate(
        [_micros(ranges.loc[valid, "starts_at"]), _micros(published["starts_at"])]
    )
    end = np.concatenate([_micros(ranges.loc[valid, "ends_at"]), _micros(published["ends_at"])])
    position = np.concatenate([np.flatnonzero(valid), np.full(len(published), -1)])
    result = np.zeros(len(ranges), dtype=bool)
    if len(clinician) == 0:
        return result
    order = np.lexsort((end, start, clinician))  # by clinician, start, end
    clinician, start, end, position = clinician[order], start[order], end[order], position[order]
    first = np.r_[True, clinician[1:] != clinician[:-1]]  # first range of its clinician
    last = np.r_[first[1:], True]
    # The latest end so far within each clinician's ranges: one running maximum over
    # all of them once each clinician's moments are lifted above the previous ones'
    # (moments as ranks among all moments, so that the lifted values fit in 64 bits).
    moments, rank = np.unique(np.concatenate([start, end]), return_inverse=True)
    start_rank, end_rank = rank[: len(start)], rank[len(start) :]
    lift = (np.cumsum(first) - 1) * len(moments)
    latest_end = np.maximum.accumulate(end_rank + lift) - lift
    # Overlaps an earlier range: starts before the latest end seen before it.
    overlaps_earlier = ~first & (start_rank < np.r_[0, latest_end[:-1]])
    # Overlaps a later range: the next range starts before this one ends. (An earlier
    # long range may cover several later ones; each later one sees it through the
    # running maximum, and the long one sees the next start.)
    overlaps_later = ~last & (np.r_[start_rank[1:], 0] < end_rank)
    flagged = position[(overlaps_earlier | overlaps_later) & (position >= 0)]
    result[flagged] = True
    return result


def _micros(moments: pd.Series) -> np.ndarray:
    """UTC moments as integer microseconds: cheap to sort and compare. (A moment is
    held as UTC whatever its zone: the integers are read, not converted.)"""
    return moments.astype("datetime64[us, UTC]").array.asi8
