"""Every public exception is an ItsmError and a builtin, with a message that helps."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import datetime

import pytest

import itsm_core
from itsm_core.errors import (
    ConfigurationError,
    InvalidTransition,
    InvalidValueError,
    ItsmError,
    NaiveDatetimeError,
    PermissionDenied,
    Problem,
)

BUILTIN_BASES = (
    ValueError,
    TypeError,
    LookupError,
    PermissionError,
    RuntimeError,
    ArithmeticError,
    ImportError,  # a missing optional extra
)


def public_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(itsm_core.__path__, "itsm_core."):
        if info.name.split(".")[-1] in {"cli", "__main__"}:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                not name.startswith("_")
                and inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__.startswith("itsm_core")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def test_the_package_defines_public_exceptions() -> None:
    assert ItsmError in public_exceptions()


@pytest.mark.parametrize("exc", public_exceptions(), ids=lambda e: e.__qualname__)
def test_every_public_exception_is_an_itsm_error(exc: type[BaseException]) -> None:
    assert issubclass(exc, ItsmError)


@pytest.mark.parametrize(
    "exc",
    [e for e in public_exceptions() if e is not ItsmError],
    ids=lambda e: e.__qualname__,
)
def test_every_concrete_exception_also_derives_from_a_builtin(exc: type[BaseException]) -> None:
    assert issubclass(exc, BUILTIN_BASES)


def test_an_invalid_value_names_the_field_and_what_would_be_valid() -> None:
    err = InvalidValueError("calendar.weekly.mon[0].start", "25:00", "a time HH:MM")
    assert str(err) == "calendar.weekly.mon[0].start: expected a time HH:MM, got '25:00'"
    assert isinstance(err, ValueError)


def test_a_naive_datetime_error_is_a_value_error_that_says_how_to_fix_it() -> None:
    err = NaiveDatetimeError("start", datetime(2026, 1, 1))
    assert isinstance(err, ValueError)
    assert err.field == "start"
    assert "timezone-aware" in str(err)
    assert "ZoneInfo" in str(err)


def test_an_invalid_transition_lists_what_is_allowed() -> None:
    err = InvalidTransition(state="new", trigger="close", allowed=("assign", "cancel"))
    assert str(err) == "cannot 'close' a ticket in state 'new'; allowed here: assign, cancel"
    final = InvalidTransition(state="closed", trigger="resolve", detail="closed is final")
    assert "nothing (final state)" in str(final)
    assert str(final).endswith("(closed is final)")


def test_permission_denied_is_a_permission_error_and_denies_by_default() -> None:
    err = PermissionDenied(principal="bob", action="view")
    assert isinstance(err, PermissionError)
    assert str(err) == "'bob' may not 'view': denied by default"


def test_a_configuration_error_reports_every_problem_with_its_path() -> None:
    problems = [Problem("a[0]", "bad"), Problem("", "whole document is empty")]
    err = ConfigurationError(problems)
    assert err.problems == tuple(problems)
    assert str(err).splitlines() == [
        "2 problems in the configuration:",
        "  a[0]: bad",
        "  whole document is empty",
    ]


def test_problems_compare_by_value() -> None:
    assert Problem("a", "b") == Problem("a", "b")
    assert Problem("a", "b") != Problem("a", "c")
    assert Problem("a", "b") != ("a", "b")
    assert len({Problem("a", "b"), Problem("a", "b")}) == 1
    assert repr(Problem("a", "b")) == "Problem('a', 'b')"


def test_named_field_errors_name_the_first_field_that_does_not_fit_its_annotation() -> None:
    from typing import Literal

    import attrs

    from itsm_core.errors import InvalidValueError, named_field_errors

    @named_field_errors
    @attrs.frozen(kw_only=True)
    class Record:
        kind: Literal["a", "b"]
        pair: tuple[int, str]
        names: tuple[str, ...] = ()
        ratio: float | None = None
        flag: bool = False

        def __attrs_post_init__(self) -> None:
            len(self.names)
            _ = self.pair[0] + 1
            _ = {"a": 1, "b": 2}[self.kind] + (self.ratio or 0) + self.flag

    assert Record(kind="a", pair=(1, "x"), names=["n"], ratio=1).kind == "a"  # type: ignore[arg-type]
    cases: list[tuple[dict[str, object], str]] = [
        ({"kind": "c", "pair": (1, "x")}, "kind"),
        ({"kind": "a", "pair": ("1", "x")}, "pair"),
        ({"kind": "a", "pair": (1, "x"), "names": 3}, "names"),
        ({"kind": "a", "pair": (1, "x"), "ratio": "1"}, "ratio"),
        ({"kind": "a", "pair": (1, "x"), "ratio": True, "flag": "yes"}, "ratio"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidValueError) as caught:
            Record(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_named_field_errors_name_the_record_when_every_value_fits() -> None:
    import attrs

    from itsm_core.errors import InvalidValueError, named_field_errors

    @named_field_errors
    @attrs.frozen(kw_only=True)
    class Broken:
        count: int

        def __attrs_post_init__(self) -> None:
            raise KeyError(self.count)

    with pytest.raises(InvalidValueError) as caught:
        Broken(count=1)
    assert caught.value.field == "Broken"
    assert caught.value.detail == "1"
