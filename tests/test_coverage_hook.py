"""The suite's coverage hook (``tests/conftest.py``) counts Hypothesis examples where
Hypothesis runs them, so properties built inside a test are traced for their first
examples only, like any other property."""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests import conftest


def test_the_coverage_hook_finds_where_hypothesis_runs_an_example() -> None:
    runner = conftest._EXAMPLE_RUNNER
    assert runner is not None
    # Restored before this test's call ends: the hook restores the runner then, and a
    # fixture's teardown would put back the hook's wrapper of this test for good.
    original = runner.execute_once
    seen: list[int] = []

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(1)
        return original(self, *args, **kwargs)

    @settings(max_examples=7, database=None, derandomize=True)
    @given(st.integers(0, 10**6))
    def check(value: int) -> None:
        assert value >= 0

    runner.execute_once = counting
    try:
        check()
    finally:
        runner.execute_once = original
    assert len(seen) >= 7
    assert runner.execute_once is original


def test_examples_past_the_traced_ones_run_with_no_tracer_at_all() -> None:
    # Under ``--cov`` the first examples run traced, the rest with no tracer installed:
    # not even a second measurement beneath the one the hook found (an xdist worker
    # runs two). Without coverage no example is traced. The hook starts them all again
    # when the test ends.
    measuring = conftest._tracer() is not None
    traced: list[bool] = []

    @settings(max_examples=conftest.TRACED_EXAMPLES + 50, database=None, derandomize=True)
    @given(st.integers(0, 10**6))
    def check(value: int) -> None:
        traced.append(sys.gettrace() is not None)

    check()
    assert len(traced) > conftest.TRACED_EXAMPLES
    assert not any(traced[conftest.TRACED_EXAMPLES :])
    assert all(traced[: conftest.TRACED_EXAMPLES]) is measuring
