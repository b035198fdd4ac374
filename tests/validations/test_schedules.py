"""The schedule suites on hand-built frames, every test twice: run for real through
Great Expectations, and through the direct path that judges small frames
(validations.direct), which must give the same rows the same reasons."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
import pytest

from connectors.opus.reader import ReferenceData, Window, local_to_utc
from validations import gx
from validations.gx import Rule, failing_rows
from validations.reasons import REASONS, describe
from validations.schedules import (
    CLINIC_RULES,
    CLINICIAN_RULES,
    FREE_RANGE_RULES,
    MEMBERSHIP_RULES,
    TREATMENT_RULES,
    RangeContext,
    judge_free_ranges,
    judge_reference,
)

WINDOW = Window(start=datetime(2027, 3, 1), end=datetime(2027, 6, 1))
TZ = "Europe/Stockholm"


@pytest.fixture(scope="module", params=["great_expectations", "direct"], autouse=True)
def judged_through(request):
    """Judge every frame of a test through Great Expectations, or directly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gx, "GX_FROM_ROWS", 0 if request.param == "great_expectations" else 10**9)
        yield request.param


def _t(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(f"2027-{text}")


def ranges_frame(rows: dict[str, tuple]) -> pd.DataFrame:
    """Ranges as the reader gives them, one per case name (the index):
    case → (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) with times as
    'MM-DD HH:MM' in 2027, local Stockholm time."""
    frame = pd.DataFrame(
        {
            "FreeRangeID": pd.array([r[0] for r in rows.values()], dtype="Int64"),
            "ClinicID": pd.array([r[1] for r in rows.values()], dtype="string"),
            "ClinicianID": pd.array([r[2] for r in rows.values()], dtype="Int64"),
            "StartTime": pd.Series([_t(r[3]) for r in rows.values()], dtype="datetime64[us]"),
            "EndTime": pd.Series([_t(r[4]) for r in rows.values()], dtype="datetime64[us]"),
            "RowVersion": pd.array(range(1, len(rows) + 1), dtype="Int64"),
        },
    )
    frame.index = list(rows)
    frame["starts_at"] = local_to_utc(frame["StartTime"], TZ)
    frame["ends_at"] = local_to_utc(frame["EndTime"], TZ)
    return frame


def links_frame(links: dict[int, tuple[int, ...]]) -> pd.DataFrame:
    pairs = [(r, t) for r, treatments in links.items() for t in treatments]
    return pd.DataFrame(
        {
            "FreeRangeID": pd.array([p[0] for p in pairs], dtype="Int64"),
            "TreatmentID": pd.array([p[1] for p in pairs], dtype="Int64"),
        }
    )


def context(**overrides) -> RangeContext:
    values = {
        "window": WINDOW,
        "clinic_ids": {"A", "B"},
        "clinician_ids": {1, 2, 3, 4},
        "treatment_ids": {1, 2},
        "added": {("A", 1), ("A", 2), ("B", 3), ("A", 4)},
    }
    values.update(overrides)
    return RangeContext(**values)


def reasons_by_case(frame: pd.DataFrame) -> dict[str, str]:
    return frame["reasons"].to_dict()


# -- free ranges: one reason per bad row -----------------------------------------------------

CASES = {
    # case: (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime)
    "valid": (1, "A", 1, "03-10 09:00", "03-10 10:00"),
    "valid_other_clinic": (2, "B", 3, "03-10 09:00", "03-10 10:00"),
    "clinician_missing": (3, "A", None, "03-10 13:00", "03-10 14:00"),
    "clinic_unknown": (4, "Z", 1, "03-11 09:00", "03-11 10:00"),
    "clinician_unknown": (5, "A", 99, "03-10 09:00", "03-10 10:00"),
    "practitioner_not_added": (6, "B", 1, "03-12 09:00", "03-12 10:00"),
    "start_missing": (7, "A", 2, None, "03-10 10:00"),
    "end_before_start": (8, "A", 2, "03-11 11:00", "03-11 10:00"),
    "local_time_invalid": (9, "A", 2, "03-28 02:30", "03-28 03:30"),  # spring forward
    "no_treatments": (10, "A", 1, "03-13 09:00", "03-13 10:00"),
    "treatment_unknown": (11, "A", 1, "03-14 09:00", "03-14 10:00"),
    "overlaps_1": (12, "A", 2, "03-15 09:00", "03-15 11:00"),
    "overlaps_2": (13, "A", 2, "03-15 10:00", "03-15 12:00"),
    "id_duplicate_1": (14, "A", 1, "03-16 09:00", "03-16 10:00"),
    "id_duplicate_2": (14, "A", 2, "03-16 13:00", "03-16 14:00"),
    "end_missing": (16, "A", 2, "03-17 09:00", None),
    "clinic_missing": (17, None, 1, "03-18 09:00", "03-18 10:00"),
    "outside_window": (15, "A", 1, "07-01 09:00", "07-01 10:00"),
}
LINKS = {
    **{case[0]: (1,) for case in CASES.values()},
    2: (1, 2),
    10: (),
    11: (1, 77),
}


@pytest.fixture(scope="module")
def judged(judged_through):
    return judge_free_ranges(ranges_frame(CASES), links_frame(LINKS), context())


def test_each_bad_range_gets_exactly_its_reason(judged) -> None:
    expected = {
        case: re.sub(r"_\d$", "", case)  # the case's name is its reason
        for case in CASES
        if case not in {"valid", "valid_other_clinic", "outside_window"}
    }
    assert reasons_by_case(judged.quarantined) == expected


def test_valid_ranges_stay_valid_and_keep_the_readers_columns(judged) -> None:
    assert sorted(judged.valid.index) == ["valid", "valid_other_clinic"]
    assert list(judged.valid.columns) == list(ranges_frame(CASES).columns)
    assert list(judged.quarantined.columns) == [*ranges_frame(CASES).columns, "reasons"]


def test_a_range_outside_the_window_is_skipped_not_quarantined(judged) -> None:
    assert reasons_by_case(judged.skipped) == {"outside_window": "outside_horizon"}
    assert "outside_window" not in judged.quarantined.index


def test_every_row_lands_in_exactly_one_place(judged) -> None:
    places = [*judged.valid.index, *judged.quarantined.index, *judged.skipped.index]
    assert sorted(places) == sorted(CASES)


def test_not_added_is_not_reported_for_an_unknown_clinician_or_clinic() -> None:
    rows = {
        "unknown_clinician": (1, "A", 99, "03-10 09:00", "03-10 10:00"),
        "unknown_clinic": (2, "Z", 3, "03-10 09:00", "03-10 10:00"),
    }
    # nobody is added at all: only the unknown id may be reported
    result = judge_free_ranges(
        ranges_frame(rows), links_frame({1: (1,), 2: (1,)}), context(added=set())
    )
    assert reasons_by_case(result.quarantined) == {
        "unknown_clinician": "clinician_unknown",
        "unknown_clinic": "clinic_unknown",
    }


def test_a_known_clinician_not_added_anywhere_is_reported() -> None:
    rows = {"not_added": (1, "A", 1, "03-10 09:00", "03-10 10:00")}
    result = judge_free_ranges(ranges_frame(rows), links_frame({1: (1,)}), context(added=set()))
    assert reasons_by_case(result.quarantined) == {"not_added": "practitioner_not_added"}


def test_a_row_with_several_faults_gets_every_reason() -> None:
    rows = {"bad": (1, "A", 1, "03-10 11:00", "03-10 10:00")}
    result = judge_free_ranges(ranges_frame(rows), links_frame({1: (77,)}), context())
    assert set(result.quarantined.loc["bad", "reasons"].split(",")) == {
        "end_before_start",
        "treatment_unknown",
    }


# -- overlaps --------------------------------------------------------------------------------


def test_touching_ranges_do_not_overlap() -> None:
    rows = {
        "morning": (1, "A", 1, "03-10 10:00", "03-10 11:00"),
        "late_morning": (2, "A", 1, "03-10 11:00", "03-10 12:00"),
    }
    result = judge_free_ranges(ranges_frame(rows), links_frame({1: (1,), 2: (1,)}), context())
    assert result.quarantined.empty
    assert sorted(result.valid.index) == ["late_morning", "morning"]


def test_a_long_range_covering_two_short_ones_flags_all_three() -> None:
    rows = {
        "long": (1, "A", 4, "03-10 08:00", "03-10 12:00"),
        "short_1": (2, "A", 4, "03-10 09:00", "03-10 10:00"),
        "short_2": (3, "A", 4, "03-10 10:30", "03-10 11:30"),
        "afternoon": (4, "A", 4, "03-10 13:00", "03-10 14:00"),
        "other_clinician": (5, "A", 1, "03-10 09:00", "03-10 10:00"),
    }
    links = links_frame({i: (1,) for i in range(1, 6)})
    result = judge_free_ranges(ranges_frame(rows), links, context())
    assert reasons_by_case(result.quarantined) == {
        "long": "overlaps",
        "short_1": "overlaps",
        "short_2": "overlaps",
    }
    assert sorted(result.valid.index) == ["afternoon", "other_clinician"]


def test_an_overlap_with_a_published_range_flags_only_the_batch_row() -> None:
    published = pd.DataFrame(
        {
            "ClinicianID": pd.array([1], dtype="Int64"),
            # 09:00–10:00 Stockholm (UTC+1 in March before the change)
            "starts_at": pd.Series([pd.Timestamp("2027-03-20 08:00", tz="UTC")]).astype(
                "datetime64[us, UTC]"
            ),
            "ends_at": pd.Series([pd.Timestamp("2027-03-20 09:00", tz="UTC")]).astype(
                "datetime64[us, UTC]"
            ),
        }
    )
    rows = {
        "overlapping": (1, "A", 1, "03-20 09:30", "03-20 10:30"),
        "touching": (2, "A", 1, "03-20 10:30", "03-20 11:30"),
        "other_clinician": (3, "A", 2, "03-20 09:30", "03-20 10:30"),
    }
    links = links_frame({1: (1,), 2: (1,), 3: (1,)})
    result = judge_free_ranges(ranges_frame(rows), links, context(published=published))
    assert reasons_by_case(result.quarantined) == {"overlapping": "overlaps"}
    assert sorted(result.valid.index) == ["other_clinician", "touching"]

    # the same batch without the published range is all valid
    alone = judge_free_ranges(ranges_frame(rows), links, context())
    assert alone.quarantined.empty


# -- reference data --------------------------------------------------------------------------


def _reference() -> ReferenceData:
    clinics = pd.DataFrame(
        {
            "ClinicID": pd.array(["UPP1", "UPP2", "VAS1"], dtype="string"),
            "Name": pd.array(["Centrum", None, "Stora torget"], dtype="string"),
            "City": pd.array(["Uppsala", "Uppsala", "Västerås"], dtype="string"),
        }
    )
    clinicians = pd.DataFrame(
        {
            "ClinicianID": pd.array([1, 2, 2, 3, 4], dtype="Int64"),
            "FirstName": pd.array(["Anna", "Erik", "Maria", None, None], dtype="string"),
            "LastName": pd.array(["Berg", "Ek", "Lind", None, "Holm"], dtype="string"),
            "Active": pd.array([True] * 5, dtype="boolean"),
        }
    )
    treatments = pd.DataFrame(
        {
            "TreatmentID": pd.array([1, 2, 3, 4], dtype="Int64"),
            "Name": pd.array(["Undersökning", "Akut", "Trasig", "Utan längd"], dtype="string"),
            "Duration": pd.array([45, 30, 0, None], dtype="Int64"),
        }
    )
    memberships = pd.DataFrame(
        {
            "ClinicianID": pd.array([1, 1, 2, 4, 3], dtype="Int64"),
            "ClinicID": pd.array(["UPP1", "UPP2", "UPP1", "VAS1", "VAS1"], dtype="string"),
        }
    )
    return ReferenceData(clinics, clinicians, memberships, treatments)


def _ids(frame: pd.DataFrame, *columns: str) -> list:
    return sorted(frame[list(columns)].itertuples(index=False, name=None))


def test_judge_reference_quarantines_bad_rows_with_reasons() -> None:
    judged = judge_reference(_reference())
    q = judged.quarantined

    assert _ids(q["clinic"], "ClinicID", "reasons") == [("UPP2", "name_missing")]
    assert _ids(q["clinician"], "ClinicianID", "reasons") == [
        (2, "id_duplicate"),
        (2, "id_duplicate"),
        (3, "name_missing"),
    ]
    assert _ids(q["treatment"], "TreatmentID", "reasons") == [
        (3, "duration_invalid"),
        (4, "duration_invalid"),
    ]
    assert "has_name" not in q["clinician"].columns

    valid = judged.valid
    assert valid.clinics["ClinicID"].tolist() == ["UPP1", "VAS1"]
    assert valid.clinicians["ClinicianID"].tolist() == [1, 4]  # 4 has a last name only
    assert "has_name" not in valid.clinicians.columns
    assert valid.treatments["TreatmentID"].tolist() == [1, 2]


def test_memberships_pointing_at_quarantined_rows_are_quarantined() -> None:
    judged = judge_reference(_reference())
    assert _ids(judged.quarantined["clinician_clinic"], "ClinicianID", "ClinicID", "reasons") == [
        (1, "UPP2", "clinic_unknown"),  # UPP2 has no name
        (2, "UPP1", "clinician_unknown"),  # 2 is duplicated
        (3, "VAS1", "clinician_unknown"),  # 3 has no name
    ]
    assert _ids(judged.valid.clinician_clinics, "ClinicianID", "ClinicID") == [
        (1, "UPP1"),
        (4, "VAS1"),
    ]


# -- reasons ---------------------------------------------------------------------------------


def test_describe_gives_swedish_and_english() -> None:
    assert describe("end_before_start,overlaps") == (
        "Sluttiden är före eller lika med starttiden; "
        "Överlappar en annan ledig tid för samma behandlare"
    )
    assert describe("end_before_start,overlaps", "en") == (
        "EndTime is not after StartTime; overlaps another free range of the same clinician"
    )
    assert describe(["no_treatments"], "en") == "no treatment is allowed in the range"


def test_describe_passes_unknown_codes_through_and_skips_empty_ones() -> None:
    assert describe("something_new,,start_missing") == "something_new; Starttid saknas"
    assert describe("") == ""


def test_every_reason_the_suites_can_give_has_words() -> None:
    rules = [
        *CLINIC_RULES,
        *CLINICIAN_RULES,
        *TREATMENT_RULES,
        *MEMBERSHIP_RULES,
        *FREE_RANGE_RULES,
    ]
    missing = {rule.reason for rule in rules} - REASONS.keys()
    assert not missing
    for reason in REASONS.values():
        assert reason.sv and reason.en and reason.sv != reason.en


# -- failing_rows ----------------------------------------------------------------------------


def test_failing_rows_of_an_empty_frame_is_an_empty_series() -> None:
    frame = pd.DataFrame({"x": pd.Series([], dtype="Int64")}, index=pd.Index([], name="key"))
    result = failing_rows(
        frame, "test_empty", [Rule("x_missing", "ExpectColumnValuesToNotBeNull", {"column": "x"})]
    )
    assert isinstance(result, pd.Series)
    assert result.empty
    assert str(result.dtype) == "string"
    assert result.index.name == "key"


def test_failing_rows_is_indexed_like_the_input_frame() -> None:
    frame = pd.DataFrame(
        {
            "x": pd.array([1, None, 3, None], dtype="Int64"),
            "y": pd.array([5, 5, 0, 0], dtype="Int64"),
        },
        index=pd.Index([110, 120, 130, 140], name="opus_id"),
    )
    rules = [
        Rule("x_missing", "ExpectColumnValuesToNotBeNull", {"column": "x"}),
        Rule("y_small", "ExpectColumnValuesToBeBetween", {"column": "y", "min_value": 1}),
        Rule("y_small", "ExpectColumnValuesToBeBetween", {"column": "y", "min_value": 2}),
    ]
    result = failing_rows(frame, "test_index", rules)
    assert result.sort_index().to_dict() == {
        120: "x_missing",
        130: "y_small",  # two rules with the same reason: said once
        140: "x_missing,y_small",
    }
    assert result.index.name == "opus_id"
    assert 110 not in result.index


def test_failing_rows_raises_when_an_expectation_cannot_run() -> None:
    frame = pd.DataFrame({"x": [1, 2]}, index=["a", "b"])
    with pytest.raises(RuntimeError, match="could not run"):
        failing_rows(
            frame, "test_broken", [Rule("r", "ExpectColumnValuesToNotBeNull", {"column": "nope"})]
        )
