"""The suites' rules evaluated directly with pandas, for small frames.

Great Expectations spends about a tenth of a second per suite before it looks at a
row (it builds a metric graph and validates every configuration), whatever the
frame's length: over a thousand tenants whose incremental runs each carry a handful
of changed ranges, that fixed cost is most of the sync's work. The rules stay the
same data (:class:`validations.gx.Rule`); here each expectation type the suites use
is the same condition that GX's pandas engine computes, with GX's handling of missing
values: a missing value fails only "not null", and a pair rule skips a row that lacks
either value. ``tests/validations`` runs every suite through both and compares.

A rule of a type (or with an argument) not listed here is not judged here at all:
:func:`judgeable` says so and the caller runs the whole suite through GX.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from validations.gx import Rule

_KWARGS = {
    "ExpectColumnValuesToNotBeNull": {"column"},
    "ExpectColumnValuesToBeUnique": {"column"},
    "ExpectColumnValuesToBeInSet": {"column", "value_set"},
    "ExpectColumnValuesToBeBetween": {
        "column",
        "min_value",
        "max_value",
        "strict_min",
        "strict_max",
    },
    "ExpectColumnPairValuesAToBeGreaterThanB": {
        "column_A",
        "column_B",
        "or_equal",
        "ignore_row_if",
    },
}
"""The expectation types judged here, with the arguments each may have."""


def judgeable(rules: list[Rule]) -> bool:
    """Can every rule be judged here exactly as GX judges it?"""
    return all(
        rule.expectation in _KWARGS
        and set(rule.kwargs) <= _KWARGS[rule.expectation]
        and rule.kwargs.get("ignore_row_if", "either_value_is_missing") == "either_value_is_missing"
        for rule in rules
    )


def failing_masks(frame: pd.DataFrame, suite_name: str, rules: list[Rule]) -> list[np.ndarray]:
    """For each rule, a boolean array: does the row at that position break it?"""
    masks = []
    for rule in rules:
        try:
            masks.append(_unexpected(frame, rule))
        except Exception as exc:  # as GX: a rule that cannot run is an error, not a pass
            raise RuntimeError(
                f"expectation {_snake(rule.expectation)} of suite {suite_name} could not "
                f"run: {exc!r}"
            ) from exc
    return masks


def _unexpected(frame: pd.DataFrame, rule: Rule) -> np.ndarray:
    kwargs = rule.kwargs
    if rule.expectation == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = frame[kwargs["column_A"]], frame[kwargs["column_B"]]
        present = (a.notna() & b.notna()).to_numpy(bool)
        a, b = a[present], b[present]
        ok = a >= b if kwargs.get("or_equal") else a > b
        return _place(present, ok)
    column = frame[kwargs["column"]]
    if rule.expectation == "ExpectColumnValuesToNotBeNull":
        return column.isna().to_numpy(bool)
    present = column.notna().to_numpy(bool)
    values = column[present]
    if rule.expectation == "ExpectColumnValuesToBeUnique":
        ok = ~values.duplicated(keep=False)
    elif rule.expectation == "ExpectColumnValuesToBeInSet":
        ok = values.isin(kwargs["value_set"])
    else:  # ExpectColumnValuesToBeBetween
        ok = _between(values, kwargs)
    return _place(present, ok)


def _between(values: pd.Series, kwargs: dict) -> pd.Series:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is None and high is None:
        raise ValueError("min_value and max_value cannot both be None")
    ok = pd.Series(True, index=values.index)
    if low is not None:
        ok &= values > low if kwargs.get("strict_min") else values >= low
    if high is not None:
        ok &= values < high if kwargs.get("strict_max") else values <= high
    return ok


def _place(present: np.ndarray, ok: pd.Series) -> np.ndarray:
    """Rows present and not ok: the failing ones, over the whole frame."""
    failing = np.zeros(len(present), dtype=bool)
    failing[present] = ~np.asarray(ok, dtype=bool)
    return failing


def _snake(name: str) -> str:
    """ "ExpectColumnValuesToBeUnique" → "expect_column_values_to_be_unique", GX's name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
