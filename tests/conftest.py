"""Configuration of the test modules (the Hypothesis profiles are in the root ``conftest.py``).

Coverage: when the run measures coverage (``--cov``), each test is traced for
its first ``TRACED_EXAMPLES`` Hypothesis examples (half the ``dev`` profile's
count) and runs the rest untraced; a test without Hypothesis is traced whole.
Tracing doubles the cost of an example, and examples past the first fifty rarely
reach a line the first fifty did not, so the measured coverage is a lower bound
of what the whole run reaches, at about half the price.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import core as hypothesis_core

TRACED_EXAMPLES = 50


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the collector off what collection built, and run it less often.

    Hypothesis allocates many short-lived objects per example; the cyclic collector
    then walks the whole heap of a long test process, most of it the modules and
    strategies built while collecting. Those are frozen (never scanned again) and
    the youngest generation is collected every 50,000 allocations instead of 700.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _tracer() -> Any:
    """The coverage measurement running in this process, if any."""
    try:
        from coverage import Coverage
    except ImportError:  # pragma: no cover - coverage is a dev dependency
        return None
    return Coverage.current()


def _pause_coverage() -> list[Any]:
    """Stop every coverage measurement of this process; return them, latest first.

    There can be more than one: in an xdist worker pytest-cov starts one measurement
    for the worker and, before it, one it never reports. Stopping only the latest
    resumes the one beneath it, which then traces everything at the same cost.
    """
    stopped = []
    while (tracer := _tracer()) is not None:
        tracer.stop()
        stopped.append(tracer)
    return stopped


def _resume_coverage(stopped: list[Any]) -> None:
    """Start again what ``_pause_coverage`` stopped, in the order they were started."""
    for tracer in reversed(stopped):
        tracer.start()


#: Where Hypothesis runs one example (drawing its arguments and calling the test). It is
#: not public API: if a release renames it, every test is traced whole (slower, still
#: correct) and ``test_the_coverage_hook_finds_where_hypothesis_runs_an_example`` fails.
_EXAMPLE_RUNNER = getattr(hypothesis_core, "StateForActualGivenExecution", None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Trace a test's first ``TRACED_EXAMPLES`` Hypothesis examples, run the rest untraced.

    Counting at the point where Hypothesis runs an example covers every way a test
    reaches Hypothesis: ``@given`` on the test, a property built and run inside the
    test (parametrized round trips), stateful machines and doctests.
    """
    tracer = _tracer()
    original = getattr(_EXAMPLE_RUNNER, "execute_once", None)
    if tracer is None or original is None:
        yield
        return
    calls = 0
    paused: list[Any] = []
    finished = False

    def execute_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        # ``finished``: a copy of this wrapper that outlives its test (a test that
        # patched the runner and restored it later) counts nothing and pauses nothing.
        if calls > TRACED_EXAMPLES and not paused and not finished:
            paused.extend(_pause_coverage())
        return original(self, *args, **kwargs)

    _EXAMPLE_RUNNER.execute_once = execute_once  # type: ignore[union-attr]
    try:
        yield
    finally:
        finished = True
        _EXAMPLE_RUNNER.execute_once = original  # type: ignore[union-attr]
        _resume_coverage(paused)
