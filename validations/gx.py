"""Run a suite of Great Expectations over a DataFrame and say which rows failed why.

Suites are plain data (:class:`Rule`), so defining them costs nothing; Great
Expectations itself is imported on the first validation, because importing it takes
seconds that the booking site and the CLI should not pay.

A frame shorter than :data:`GX_FROM_ROWS` is judged by the same rules evaluated
directly (:mod:`validations.direct`): GX's cost per suite is mostly fixed, and an
incremental sync's few changed rows would pay it in full, per tenant and run.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cache
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


GX_FROM_ROWS = 50_000
"""Frames at least this long go through Great Expectations; shorter ones are judged
directly. Below it GX's fixed cost (about 0.1 s a suite) is most of the judging; at
a full run of a large chain (a million ranges) it is a small part of it. Tests set it
to 0 or past any frame to run one way or the other."""


def failing_rows(frame: pd.DataFrame, suite_name: str, rules: list[Rule]) -> pd.Series:
    """Reason codes of every row that fails a rule, comma-joined, indexed like ``frame``.

    Rows that pass every rule are absent from the result; rows come in the frame's
    order, and each row's reasons in the order of the rules (each said once).
    """
    if frame.empty or not rules:
        return pd.Series([], dtype="string", index=frame.index[:0])
    from validations import direct

    if len(frame) < GX_FROM_ROWS and direct.judgeable(rules):
        masks = direct.failing_masks(frame, suite_name, rules)
    else:
        masks = _gx_failing_masks(frame, suite_name, rules)
    return _reasons(frame.index, rules, masks)


def _reasons(index: pd.Index, rules: list[Rule], masks: list[np.ndarray]) -> pd.Series:
    """One comma-joined text of reasons per failing row, from a mask per rule."""
    failing = np.logical_or.reduce(masks) if masks else np.zeros(len(index), bool)
    positions = np.flatnonzero(failing)
    if len(positions) == 0:
        return pd.Series([], dtype="string", index=index[:0])
    broken = [(rule.reason, mask[positions]) for rule, mask in zip(rules, masks, strict=True)]
    broken = [(reason, hits) for reason, hits in broken if hits.any()]
    texts = [
        ",".join(dict.fromkeys(reason for reason, hits in broken if hits[i]))
        for i in range(len(positions))
    ]
    return pd.Series(texts, index=index[positions], dtype="string")


def _gx_failing_masks(frame: pd.DataFrame, suite_name: str, rules: list[Rule]) -> list[np.ndarray]:
    gx = _gx()
    # GX reads a named index as index columns and then cannot find _ROW: give it positions.
    numbered = frame.assign(**{_ROW: np.arange(len(frame))}).set_axis(pd.RangeIndex(len(frame)))
    with _lock:
        batch = _batch_definition(suite_name).get_batch(batch_parameters={"dataframe": numbered})
    suite = gx.ExpectationSuite(name=suite_name)
    for number, rule in enumerate(rules):
        expectation_class = getattr(gx.expectations, rule.expectation)
        suite.add_expectation(expectation_class(**rule.kwargs, meta={"rule": number}))
    outcome = batch.validate(
        suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [_ROW],
            "return_unexpected_index_query": False,
        },
    )
    masks = [np.zeros(len(frame), dtype=bool) for _ in rules]
    for result in outcome.results:
        if result.success:
            continue
        problem = _exception_message(result.exception_info)
        if problem is not None:
            raise RuntimeError(
                f"expectation {result.expectation_config.type} of suite {suite_name} could not "
                f"run: {problem}"
            )
        rows = [int(item[_ROW]) for item in result.result.get("unexpected_index_list") or []]
        masks[int(result.expectation_config.meta["rule"])][rows] = True
    return masks


def _exception_message(info: dict | None) -> str | None:
    """The message of an exception GX caught while running an expectation, if any.
    GX reports it either flat or per metric ({metric id: {"raised_exception": ...}})."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def warm_up() -> None:
    """Import Great Expectations and build its context now, not in the first run."""
    _datasource()


_lock = threading.Lock()


@cache
def _batch_definition(suite_name: str) -> Any:
    """One in-memory GX context per process, one DataFrame asset per suite. (A new
    context per call would leave a temporary docs directory behind each time.)"""
    return (
        _datasource()
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe(suite_name)
    )


@cache
def _datasource() -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = _gx().get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_pandas("opus")


def _gx() -> Any:
    # Great Expectations reports usage to its makers unless told not to; a clinic's
    # sync must not talk to anyone it was not asked to.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations
