"""A pytest plugin with fixtures for the usual calendars, matrices, lifecycles and policies.

The plugin is opt-in: installing itsm-core never loads it into anyone's test
run. Enable it in your top-level ``conftest.py``::

    pytest_plugins = ["itsm_core.testing.pytest_plugin"]

or for one run with ``pytest -p itsm_core.testing.pytest_plugin`` (or the
``addopts`` of your pytest configuration). It needs the ``testing`` extra
(``pip install "itsm-core[testing]"``). Any test may then ask for these
fixtures by name:

* ``itsm_now``: Monday 2 March 2026, 09:00 in Moscow (an aware datetime);
* ``itsm_calendar_24x7``: always open, UTC;
* ``itsm_calendar_8x5``: 09:00-17:00 Monday to Friday, Europe/Moscow;
* ``itsm_calendar_8x5_ru``: the same with the Russian public holidays of 2025 to
  2027 (needs ``itsm-core[holidays]``; the test is skipped without it);
* ``itsm_matrix``: the ITIL 3x3 priority matrix;
* ``itsm_lifecycles``: the default lifecycles over that matrix and the 8x5 calendar;
* ``itsm_sla_policy``: first response, next response and resolution of every
  ticket, P1 to P5, over the 8x5 calendar;
* ``itsm_converter``: a converter for every public type (``make_converter()``).

The fixtures are function-scoped and cheap: the values are frozen, and equal
calendars share their compiled timeline.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import cattrs
import pytest

from itsm_core.calendar import BusinessCalendar
from itsm_core.lifecycle import Lifecycles, default_lifecycles
from itsm_core.priority import PriorityMatrix
from itsm_core.sla import SlaPolicy
from itsm_core.testing._sla_strategies import standard_policy

__all__ = [
    "itsm_calendar_8x5",
    "itsm_calendar_8x5_ru",
    "itsm_calendar_24x7",
    "itsm_converter",
    "itsm_lifecycles",
    "itsm_matrix",
    "itsm_now",
    "itsm_sla_policy",
    "standard_policy",
]

_MOSCOW = "Europe/Moscow"


@pytest.fixture
def itsm_now() -> datetime:
    """Monday 2 March 2026, 09:00 in Moscow: the opening of a business day."""
    return datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(_MOSCOW))


@pytest.fixture
def itsm_calendar_24x7() -> BusinessCalendar:
    """Always open, in UTC."""
    return BusinessCalendar.always_open("UTC")


@pytest.fixture
def itsm_calendar_8x5() -> BusinessCalendar:
    """09:00-17:00, Monday to Friday, in Europe/Moscow."""
    return BusinessCalendar.eight_by_five(_MOSCOW)


@pytest.fixture
def itsm_calendar_8x5_ru(itsm_calendar_8x5: BusinessCalendar) -> BusinessCalendar:
    """The Moscow 8x5 calendar closed on the Russian public holidays of 2025 to 2027."""
    pytest.importorskip("holidays")
    return itsm_calendar_8x5.with_country_holidays("RU", [2025, 2026, 2027]).with_name("8x5-ru")


@pytest.fixture
def itsm_matrix() -> PriorityMatrix:
    """The ITIL 3x3 priority matrix (P1 Critical to P5 Planning)."""
    return PriorityMatrix.itil_3x3()


@pytest.fixture
def itsm_lifecycles(itsm_matrix: PriorityMatrix, itsm_calendar_8x5: BusinessCalendar) -> Lifecycles:
    """The default lifecycles, deriving priorities with the ITIL matrix, counting 8x5 days."""
    return default_lifecycles(matrix=itsm_matrix, calendar=itsm_calendar_8x5)


@pytest.fixture
def itsm_sla_policy(itsm_calendar_8x5: BusinessCalendar) -> SlaPolicy:
    """The standard three-metric policy (see :func:`standard_policy`) over the 8x5 calendar."""
    return standard_policy(itsm_calendar_8x5)


@pytest.fixture
def itsm_converter() -> cattrs.Converter:
    """A converter for every public type, as ``make_converter()`` makes it."""
    from itsm_core.serialization import make_converter

    return make_converter()
