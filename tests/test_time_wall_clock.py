"""``to_us`` reads an input's local date and time of day from one subtraction in C.

An aware datetime minus 1970-01-01 00:00 in the very same tzinfo object (its
zone's anchor) is the wall-clock time since the epoch: Python ignores the
offsets of two datetimes that share a tzinfo. The local midnight of that date
comes from the zone's table; a date holding an offset change is converted the
exact way. The reference is ``to_us_exact`` (the datetime's own ``utcoffset``),
and ``datetime_op`` (the calendar's datetime ``add``) is compared with
``datetime_op_exact``, on real IANA zones, near their changes, with either
``fold``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core import _time
from itsm_core._time import (
    datetime_op,
    datetime_op_exact,
    from_us_exact,
    to_us,
    to_us_exact,
)
from itsm_core.testing import DST_TEST_ZONES, instants

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
#: Years with changes in every zone of the list (and Apia's skipped day, Moscow's shifts).
NEAR_CHANGES = instants(zones=DST_TEST_ZONES, first=date(2010, 1, 1), last=date(2015, 12, 31))


def plus(at_us: int, duration_us: int) -> int:
    return at_us + duration_us


def as_input(us: int, name: str, kind: str, fold: int) -> datetime:
    """An instant as a caller may hand it over, in the zone or elsewhere."""
    if kind == "pendulum":
        return from_us_exact(us, name)
    local = (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(name))
    if kind == "stdlib, other fold":
        return local.replace(fold=1 - local.fold)  # the other reading of the same wall time
    if kind == "stdlib, fold 1":
        return local.replace(fold=fold)
    return local


@settings(max_examples=max(50, settings().max_examples // 4))
@given(
    st.sampled_from(DST_TEST_ZONES),
    NEAR_CHANGES,
    st.sampled_from(("pendulum", "stdlib", "stdlib, other fold", "stdlib, fold 1")),
    st.integers(0, 1),
    st.integers(-50 * HOUR_US, 50 * HOUR_US),
)
def test_the_wall_clock_subtraction_gives_the_exact_instant_on_real_zones_either_fold(
    name: str, us: int, kind: str, fold: int, duration_us: int
) -> None:
    moment = as_input(us, name, kind, fold)
    assert to_us(moment) == to_us_exact(moment)
    duration = timedelta(microseconds=duration_us)
    fast = datetime_op(plus, name)(moment, duration)
    exact = datetime_op_exact(plus, name)(moment, duration)
    assert type(fast) is pendulum.DateTime
    assert (fast.replace(tzinfo=None), fast.fold) == (exact.replace(tzinfo=None), exact.fold)
    assert fast.tzinfo is exact.tzinfo
    assert to_us_exact(fast) == to_us_exact(exact) == to_us_exact(moment) + duration_us


def test_each_tzinfo_object_of_a_zone_has_its_own_anchor_at_the_epoch_wall_time() -> None:
    moment = pendulum.datetime(2026, 3, 6, 12, tz="Europe/Moscow")
    to_us(moment)
    for tz in (pendulum.timezone("Europe/Moscow"), ZoneInfo("Europe/Moscow")):
        anchor, midnights = _time._KNOWN[id(tz)]
        assert anchor.tzinfo is tz
        assert anchor.replace(tzinfo=None) == datetime(1970, 1, 1)
        # 2026-03-06 is day 20518 after the epoch; Moscow's midnight is 21:00 UTC the day before
        wall = datetime.__sub__(moment.replace(tzinfo=tz), anchor)
        assert (wall.days, wall.seconds) == (20_518, 12 * 3600)
        assert midnights[20_518] == to_us_exact(datetime(2026, 3, 5, 21, tzinfo=UTC))


def test_a_zone_object_that_is_not_the_shared_one_is_converted_exactly() -> None:
    # its own anchor would be needed for the subtraction to ignore the offsets
    fresh = ZoneInfo.no_cache("America/New_York")
    for hour, fold in ((1, 0), (1, 1), (12, 0)):
        moment = datetime(2026, 11, 1, hour, 30, tzinfo=fresh, fold=fold)
        assert to_us(moment) == to_us_exact(moment)
        later = datetime_op(plus, "America/New_York")(moment, timedelta(0))
        assert to_us_exact(later) == to_us_exact(moment)
