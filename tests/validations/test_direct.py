"""The direct path (validations.direct) judges small frames instead of Great
Expectations: on the same frame it must refuse the same rows for the same reasons,
for every expectation type it takes over, missing values and duplicates included,
and on the demo chain's deliberately broken Opus data."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from connectors.opus.connection import OpusSource, opened
from connectors.opus.reader import OpusReader
from connectors.store.schedules import DatabasePlan
from demo.opus_data import DemoSpec, generate, write
from flows.schedule_sync import Extract, judge_database, publishing_window
from validations import direct, gx
from validations.gx import Rule, failing_rows


def through(way: str, frame: pd.DataFrame, suite: str, rules: list[Rule]) -> pd.Series:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gx, "GX_FROM_ROWS", 0 if way == "great_expectations" else 10**9)
        return failing_rows(frame, suite, rules)


def awkward_frame(rows: int = 240) -> pd.DataFrame:
    """Every dtype the reader and the derived facts give, with missing values and
    duplicates in each, indexed by labels (as the judged frames are)."""
    rng = np.random.default_rng(5)

    def holes(values, missing):
        values = pd.Series(values)
        values[rng.random(rows) < 0.15] = missing
        return values

    start = pd.Timestamp("2027-03-01 08:00")
    starts = start + pd.to_timedelta(rng.integers(0, 500, rows), unit="h")
    ends = starts + pd.to_timedelta(rng.integers(-2, 4, rows) * 30, unit="min")
    frame = pd.DataFrame(
        {
            "id": holes(rng.integers(1, rows, rows), None).astype("Int64"),
            "text": holes(rng.choice(["UPP1", "VAS1", "ENK1", ""], rows), None).astype("string"),
            "amount": holes(rng.integers(-3, 60, rows), None).astype("Int64"),
            "share": holes(rng.normal(0.5, 1, rows), np.nan).astype("float64"),
            "flag": rng.random(rows) < 0.8,
            "start": holes(starts, pd.NaT).astype("datetime64[us]"),
            "end": holes(ends, pd.NaT).astype("datetime64[us]"),
        }
    )
    frame["start_utc"] = frame["start"].dt.tz_localize("UTC")
    frame["end_utc"] = frame["end"].dt.tz_localize("UTC")
    frame.index = [f"row{n}" for n in range(rows)]
    return frame


RULES = [
    *(
        Rule(f"{column}_missing", "ExpectColumnValuesToNotBeNull", {"column": column})
        for column in ("id", "text", "amount", "share", "start", "end_utc")
    ),
    *(
        Rule(f"{column}_twice", "ExpectColumnValuesToBeUnique", {"column": column})
        for column in ("id", "text", "start")
    ),
    Rule("not_flagged", "ExpectColumnValuesToBeInSet", {"column": "flag", "value_set": [True]}),
    Rule("odd_id", "ExpectColumnValuesToBeInSet", {"column": "id", "value_set": [2, 4, 6, 8]}),
    Rule("town", "ExpectColumnValuesToBeInSet", {"column": "text", "value_set": ["UPP1"]}),
    Rule("small", "ExpectColumnValuesToBeBetween", {"column": "amount", "min_value": 1}),
    Rule("big", "ExpectColumnValuesToBeBetween", {"column": "amount", "max_value": 40}),
    Rule(
        "outside",
        "ExpectColumnValuesToBeBetween",
        {"column": "amount", "min_value": 5, "max_value": 30, "strict_min": True},
    ),
    Rule(
        "outside",  # a second rule with the same reason: said once
        "ExpectColumnValuesToBeBetween",
        {"column": "share", "min_value": 0.0, "max_value": 1.0, "strict_max": True},
    ),
    *(
        Rule(
            f"order{or_equal:d}_{a}",
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {
                "column_A": a,
                "column_B": b,
                "or_equal": or_equal,
                "ignore_row_if": "either_value_is_missing",
            },
        )
        for a, b in (("end", "start"), ("end_utc", "start_utc"))
        for or_equal in (False, True)
    ),
]


def test_every_rule_type_refuses_the_same_rows_for_the_same_reasons():
    frame = awkward_frame()
    assert direct.judgeable(RULES)

    by_gx = through("great_expectations", frame, "test_awkward", RULES)
    by_direct = through("direct", frame, "test_awkward", RULES)

    pd.testing.assert_series_equal(by_direct, by_gx)
    reasons = {reason for text in by_gx for reason in text.split(",")}
    assert reasons == {rule.reason for rule in RULES}  # every rule had rows to refuse


def test_a_rule_the_direct_path_does_not_know_goes_through_great_expectations():
    """``mostly`` (and any expectation type the direct path lacks) is GX's alone: the
    whole suite then goes through GX, however short the frame."""
    frame = pd.DataFrame({"name": pd.array(["Anna", None, "Bo"], dtype="string")})
    rules = [
        Rule("name_missing", "ExpectColumnValuesToNotBeNull", {"column": "name"}),
        Rule(
            "name_short", "ExpectColumnValueLengthsToBeBetween", {"column": "name", "min_value": 3}
        ),
    ]
    lenient = [
        Rule("name_missing", "ExpectColumnValuesToNotBeNull", {"column": "name", "mostly": 0.5})
    ]
    assert not direct.judgeable(rules)
    assert not direct.judgeable(lenient)

    assert through("direct", frame, "test_unknown", rules).to_dict() == {
        1: "name_missing",
        2: "name_short",
    }
    # GX's "mostly": the expectation passes as a whole, so no row is refused.
    assert through("direct", frame, "test_mostly", lenient).empty


def test_a_frame_of_gx_from_rows_or_more_goes_through_great_expectations(monkeypatch):
    """The threshold is the frame's length: a frame that long gets a GX data asset
    (named after its suite), a shorter one never reaches GX."""
    frame = pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64")})
    rules = [Rule("x_missing", "ExpectColumnValuesToNotBeNull", {"column": "x"})]

    def assets() -> set[str]:
        return {asset.name for asset in gx._datasource().assets}

    monkeypatch.setattr(gx, "GX_FROM_ROWS", 4)
    assert failing_rows(frame, "test_below_threshold", rules).to_dict() == {1: "x_missing"}
    assert "test_below_threshold" not in assets()
    monkeypatch.setattr(gx, "GX_FROM_ROWS", 3)
    assert failing_rows(frame, "test_at_threshold", rules).to_dict() == {1: "x_missing"}
    assert "test_at_threshold" in assets()


def test_the_demo_chains_broken_rows_are_judged_alike(tmp_path):
    """A full run's judging of the demo chain with its deliberately broken rows: the
    same valid, quarantined (with reasons) and skipped rows, reference data too."""
    start = date.today() + timedelta(days=1)
    demo = generate(DemoSpec(start=start, days=14, bad_rows=True))
    path = tmp_path / "opus.db"
    with sqlite3.connect(path) as connection:
        write(demo, connection, "sqlite")
    members = demo.clinician_clinics
    plan = DatabasePlan(
        id=1,
        tenant_id=1,
        name="Opus",
        connection_ref=f"sqlite:///{path}",
        row_version=0,
        window_start_local=None,
        window_end_local=None,
        fingerprint=None,
        compare_ids=True,
        longest_range_s=0,
        added=frozenset(
            (str(clinic), int(clinician))
            for clinic, clinician in zip(members["ClinicID"], members["ClinicianID"], strict=True)
            if int(clinician) not in demo.not_added
        ),
    )
    now = datetime.now(UTC)
    with opened(OpusSource(plan.name, plan.connection_ref)) as connection:
        reader = OpusReader(connection)
        reference = reader.reference_data()
        ranges = reader.free_ranges(publishing_window(now, 3, "Europe/Stockholm"))
    extract = Extract(plan, reference, ranges, "", now)

    def judged(way: str):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gx, "GX_FROM_ROWS", 0 if way == "great_expectations" else 10**9)
            return judge_database(extract, engine=None)

    by_gx, by_direct = judged("great_expectations"), judged("direct")

    for part in ("valid", "quarantined", "skipped"):
        pd.testing.assert_frame_equal(getattr(by_direct.ranges, part), getattr(by_gx.ranges, part))
    assert len(by_gx.ranges.quarantined) >= 9  # the broken ranges are there to be judged
    for stream, refused in by_gx.reference.quarantined.items():
        pd.testing.assert_frame_equal(by_direct.reference.quarantined[stream], refused)
    for name in ("clinics", "clinicians", "clinician_clinics", "treatments"):
        pd.testing.assert_frame_equal(
            getattr(by_direct.reference.valid, name), getattr(by_gx.reference.valid, name)
        )
