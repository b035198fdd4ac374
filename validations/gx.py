"""Run a suite of Great Expectations over a DataFrame and say which rows failed why.

Suites are plain data (:class:`Rule`), so defining them costs nothing; Great
Expectations itself is imported on the first validation, because importing it takes
seconds that the booking site and the CLI should not pay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

_ROW = "__row"


@dataclass(frozen=True)
class Rule:
    """One expectation and the quarantine reason of the rows that break it.

    ``expectation`` is the class name in ``great_expectations.expectations``
    (e.g. ``"ExpectColumnValuesToNotBeNull"``); ``kwargs`` are its arguments.
    """

    reason: str
    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def failing_rows(frame: pd.DataFrame, suite_name: str, rules: list[Rule]) -> pd.Series:
    """Reason codes of every row that fails a rule, comma-joined, indexed like ``frame``.

    Rows that pass every rule are absent from the result.
    """
    if frame.empty or not rules:
        return pd.Series([], dtype="string", index=frame.index[:0])
    gx = _gx()
    numbered = frame.assign(**{_ROW: np.arange(len(frame))})
    context = gx.get_context(mode="ephemeral")
    _quiet(context)
    batch = (
        context.data_sources.add_pandas(suite_name)
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe(suite_name)
        .get_batch(batch_parameters={"dataframe": numbered})
    )
    suite = gx.ExpectationSuite(name=suite_name)
    for rule in rules:
        expectation_class = getattr(gx.expectations, rule.expectation)
        suite.add_expectation(expectation_class(**rule.kwargs, meta={"reason": rule.reason}))
    outcome = batch.validate(
        suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [_ROW],
            "return_unexpected_index_query": False,
        },
    )
    reasons: dict[int, list[str]] = {}
    for result in outcome.results:
        if result.success:
            continue
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {result.expectation_config.type} of suite {suite_name} could not "
                f"run: {result.exception_info.get('exception_message')}"
            )
        reason = result.expectation_config.meta["reason"]
        for item in result.result.get("unexpected_index_list") or []:
            reasons.setdefault(int(item[_ROW]), []).append(reason)
    positions = np.fromiter(reasons, dtype=np.int64, count=len(reasons))
    return pd.Series(
        [",".join(dict.fromkeys(reasons[p])) for p in positions],
        index=frame.index[positions],
        dtype="string",
    )


def _gx() -> Any:
    # Great Expectations reports usage to its makers unless told not to; a clinic's
    # sync must not talk to anyone it was not asked to.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


def _quiet(context: Any) -> None:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
