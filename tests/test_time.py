"""Instants and durations cross the API exactly, and naive datetimes are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core._time import from_us, td_to_us, to_us, us_to_td, zone
from itsm_core.errors import InvalidValueError, NaiveDatetimeError
from itsm_core.testing import DST_TEST_ZONES, instants


def test_a_naive_datetime_is_refused_with_the_field_named() -> None:
    with pytest.raises(NaiveDatetimeError, match=r"^start: "):
        to_us(datetime(2026, 1, 1), "start")


def test_a_non_datetime_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"^at: expected a timezone-aware datetime"):
        to_us("2026-01-01", "at")  # type: ignore[arg-type]


def test_stdlib_and_pendulum_datetimes_give_the_same_instant() -> None:
    std = datetime(2026, 3, 6, 16, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    pdt = pendulum.datetime(2026, 3, 6, 16, 0, tz="Europe/Moscow")
    assert to_us(std) == to_us(pdt) == to_us(std.astimezone(UTC))


@given(st.datetimes(timezones=st.just(UTC)))
def test_instants_round_trip_exactly_through_microseconds(dt: datetime) -> None:
    back = from_us(to_us(dt))
    assert back == dt
    assert isinstance(back, pendulum.DateTime)


@given(st.timedeltas())
def test_durations_round_trip_exactly(td: timedelta) -> None:
    assert us_to_td(td_to_us(td)) == td


def test_from_us_shows_the_instant_in_the_requested_zone() -> None:
    shown = from_us(0, ZoneInfo("Asia/Kathmandu"))
    assert shown.isoformat() == "1970-01-01T05:30:00+05:30"
    assert from_us(0, UTC).isoformat() == "1970-01-01T00:00:00+00:00"


def test_a_non_timedelta_duration_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"^duration: "):
        td_to_us(8)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Mars/Olympus", "", " Europe/Moscow", "../etc/passwd", 5])
def test_an_unknown_timezone_names_the_field(name: object) -> None:
    with pytest.raises(InvalidValueError, match=r"^calendar.timezone: expected an IANA"):
        zone(name, "calendar.timezone")


SLOW_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
zones_with_changes = st.sampled_from(DST_TEST_ZONES)
any_instant = st.one_of(
    instants(),
    instants(first=date(1890, 1, 1), last=date(1925, 1, 1)),
    st.integers(-60_000_000_000_000_000, 200_000_000_000_000_000),
)


def slow_us(moment: datetime) -> int:
    delta = moment - SLOW_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@given(any_instant, zones_with_changes)
def test_from_us_agrees_with_the_stdlib_conversion_fold_included(us: int, name: str) -> None:
    expected = (SLOW_EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(name))
    shown = from_us(us, name)
    assert isinstance(shown, pendulum.DateTime)
    assert shown.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert shown.fold == expected.fold
    assert shown.utcoffset() == expected.utcoffset()
    assert to_us(shown) == us


@given(
    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2200, 1, 1)),
    zones_with_changes,
    st.integers(0, 1),
    st.booleans(),
)
def test_to_us_agrees_with_the_stdlib_subtraction_in_gaps_and_folds_too(
    wall: datetime, name: str, fold: int, as_pendulum: bool
) -> None:
    tz = pendulum.timezone(name) if as_pendulum else ZoneInfo(name)
    moment = wall.replace(tzinfo=tz, fold=fold)
    if as_pendulum:
        moment = pendulum.instance(moment)
        assert moment.fold == fold
    from_us(0, name)  # the zone is now known: to_us takes its cached path
    assert to_us(moment) == slow_us(moment)
