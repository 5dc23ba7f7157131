"""Instants and durations cross the API exactly, and naive datetimes are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core._time import from_us, td_to_us, to_us, us_to_td, zone
from itsm_core.errors import InvalidValueError, NaiveDatetimeError


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
