"""The fast conversions at the edges agree with the straightforward ones, DST included.

``to_us`` remembers local midnights per date and ``from_us`` remembers offsets
and dates per UTC day and builds the result from its pickled state; both fall
back to the exact stdlib conversion near a DST change. These properties compare
them with ``to_us_exact`` / ``from_us_exact`` and with the stdlib itself, on
instants drawn close to the offset changes of many zones (gaps, folds, changes
of a whole day, half-hour and 2-hour DST, negative DST), and check that the
calendar's datetime API answers exactly what its integer API answers.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, available_timezones

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core import _time
from itsm_core._time import from_us, from_us_exact, iso_in, shown_in, to_us, to_us_exact
from itsm_core.calendar import BusinessCalendar, WeeklySchedule
from itsm_core.calendar._timeline import MAX_INSTANT_US, MIN_INSTANT_US
from itsm_core.errors import InvalidValueError, NaiveDatetimeError
from itsm_core.testing import DST_TEST_ZONES

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US

#: Zones whose history holds every kind of offset change the fast paths must survive.
ODD_ZONES = (
    "America/Sitka",  # 1867: a whole day back (Alaska purchase)
    "America/Adak",  # likewise, the largest backward change (24 h)
    "Asia/Manila",  # 1844: a whole day forward
    "Pacific/Kwajalein",  # 1993: a day forward
    "Antarctica/Troll",  # 2-hour DST
    "Australia/Adelaide",
    "America/Santiago",
    "Asia/Tehran",
    "Africa/Freetown",  # two changes 95.7 hours apart, the closest in the database
    "America/Caracas",  # -04:30 and back
    "Europe/Lisbon",
    "America/Havana",  # changes at midnight
    "Asia/Gaza",
    "Africa/Cairo",
    "Pacific/Kiritimati",  # +14:00
    "Etc/GMT+12",
)
ZONES = tuple(z for z in DST_TEST_ZONES + ODD_ZONES if z in available_timezones())
#: Years with changes of every kind above (a few, so the changes found are reused).
YEARS = (1844, 1867, 1900, 1916, 1942, 1945, 1969, 1983, 1993, 2011, 2014, 2021, 2037, 2100)


def slow_offset(us: int, name: str) -> timedelta:
    offset = (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(name)).utcoffset()
    assert offset is not None
    return offset


@lru_cache(maxsize=4096)
def changes(name: str, year: int) -> tuple[int, ...]:
    """The instants (µs) a zone's offset changes in a year: daily probes, then bisection."""
    start = (date(year, 1, 1).toordinal() - date(1970, 1, 1).toordinal()) * DAY_US
    found = []
    before = slow_offset(start, name)
    for k in range(1, 367):
        probe = start + k * DAY_US
        after = slow_offset(probe, name)
        if after != before:
            lo, hi = probe - DAY_US, probe  # the change lies in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if slow_offset(mid, name) == before:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            before = after
    return tuple(found)


_SHIFTS = st.one_of(
    st.integers(-3 * HOUR_US, 3 * HOUR_US),
    st.integers(-3 * DAY_US, 3 * DAY_US),
    st.integers(-2, 2),
    st.integers(-3, 3).map(lambda h: h * HOUR_US),
)


@st.composite
def near_a_change(draw: st.DrawFn) -> tuple[int, str]:
    """A zone and an instant, usually within a few days of one of its offset changes."""
    name = draw(st.sampled_from(ZONES))
    year = draw(st.sampled_from(YEARS))
    found = changes(name, year)
    base = (date(year, 1, 1).toordinal() - date(1970, 1, 1).toordinal()) * DAY_US
    if found:
        base = draw(st.sampled_from(found))
    shift = draw(_SHIFTS)
    return base + shift, name


anywhere = st.tuples(st.integers(MIN_INSTANT_US, MAX_INSTANT_US), st.sampled_from(ZONES))
instants_and_zones = st.one_of(near_a_change(), near_a_change(), anywhere)


def same_datetime(fast: pendulum.DateTime, exact: pendulum.DateTime) -> None:
    assert type(fast) is pendulum.DateTime
    assert fast.replace(tzinfo=None) == exact.replace(tzinfo=None)
    assert fast.fold == exact.fold
    assert fast.tzinfo is exact.tzinfo
    assert fast.utcoffset() == exact.utcoffset()


@given(instants_and_zones)
def test_from_us_agrees_with_the_exact_conversion_and_the_stdlib_and_round_trips(
    case: tuple[int, str],
) -> None:
    us, name = case
    shown = from_us(us, name)
    same_datetime(shown, from_us_exact(us, name))
    stdlib = (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(name))
    assert shown.replace(tzinfo=None) == stdlib.replace(tzinfo=None)
    assert shown.fold == stdlib.fold
    assert shown.tzinfo is pendulum.timezone(name)
    assert to_us(shown) == us  # and back, exactly


@given(instants_and_zones)
def test_iso_text_is_the_isoformat_of_the_exact_conversion(case: tuple[int, str]) -> None:
    us, name = case
    assert iso_in(name)(us) == from_us_exact(us, name).isoformat()
    assert iso_in(pendulum.timezone(name))(us) == from_us_exact(us, name).isoformat()


@given(instants_and_zones, st.integers(0, 1), st.booleans())
def test_to_us_agrees_with_the_exact_conversion_in_gaps_and_folds(
    case: tuple[int, str], fold: int, as_pendulum: bool
) -> None:
    us, name = case
    shown_in(name)  # the zone is known: to_us takes its remembered path
    # the wall time of the instant, read with either fold (a gap's wall time too)
    e = from_us_exact(us, name)
    tz: tzinfo = pendulum.timezone(name) if as_pendulum else ZoneInfo(name)
    moment = datetime(
        e.year, e.month, e.day, e.hour, e.minute, e.second, e.microsecond, tz, fold=fold
    )
    if as_pendulum:
        moment = pendulum.instance(moment)
    assert to_us(moment) == to_us_exact(moment)
    stdlib = datetime.__sub__(moment, EPOCH)
    assert to_us(moment) == stdlib // timedelta(microseconds=1)


FIXED_OFFSETS = st.one_of(
    st.just(UTC),
    st.builds(
        timezone, st.timedeltas(-timedelta(hours=23, minutes=59), timedelta(hours=23, minutes=59))
    ),
)


@given(st.datetimes(timezones=FIXED_OFFSETS), st.booleans())
def test_to_us_of_a_fixed_offset_agrees_with_the_exact_conversion(
    moment: datetime, as_pendulum: bool
) -> None:
    # UTC itself takes the naive difference from the epoch, other offsets the exact path
    if as_pendulum:
        moment = pendulum.instance(moment)
        assert moment.tzinfo is not None
    assert to_us(moment) == to_us_exact(moment)
    assert to_us(moment) == datetime.__sub__(moment, EPOCH) // timedelta(microseconds=1)


def test_a_zone_given_as_a_tzinfo_shows_as_the_zone_of_its_key() -> None:
    us = 1_700_000_000_000_000
    for tz in (ZoneInfo("Asia/Kathmandu"), pendulum.timezone("Asia/Kathmandu")):
        same_datetime(from_us(us, tz), from_us_exact(us, "Asia/Kathmandu"))
    # a tzinfo without a key is shown in UTC, as before
    same_datetime(from_us(us, UTC), from_us_exact(us, "UTC"))


class UnhashableZone(tzinfo):
    key = "Europe/Moscow"
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnhashableZone)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=3)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "MSK"


def test_an_unhashable_tzinfo_still_names_its_zone() -> None:
    same_datetime(from_us(0, UnhashableZone()), from_us_exact(0, "Europe/Moscow"))


LAST_DAY_NOON = 253_402_257_600_000_000  # 9999-12-31T12:00:00Z
FIRST_DAY_NOON = -62_135_553_600_000_000  # 0001-01-01T12:00:00Z
EDGES = [MIN_INSTANT_US, MAX_INSTANT_US, 0, -1, DAY_US - 1, LAST_DAY_NOON, FIRST_DAY_NOON]
BEYOND = [-63_000_000_000_000_000, 254_000_000_000_000_000]


@pytest.mark.parametrize("us", EDGES + BEYOND)
@pytest.mark.parametrize("name", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Moscow"])
def test_at_and_beyond_the_edges_of_the_range_the_fast_path_answers_like_the_exact_one(
    us: int, name: str
) -> None:
    try:
        exact = from_us_exact(us, name)
    except (OverflowError, ValueError, OSError) as error:
        with pytest.raises(type(error)):
            from_us(us, name)
        return
    same_datetime(from_us(us, name), exact)
    assert to_us(from_us(us, name)) == us


def zone_file(key: str) -> bytes:
    """The TZif bytes of a zone, from the system's database or the ``tzdata`` package."""
    for root in TZPATH:
        if Path(root, key).is_file():
            return Path(root, key).read_bytes()
    return resources.files("tzdata.zoneinfo").joinpath(key).read_bytes()


def test_a_zone_first_met_as_an_input_is_remembered_when_it_is_the_shared_object_of_its_key() -> (
    None
):
    shared = ZoneInfo("America/Bahia_Banderas")
    moment = datetime(2015, 3, 1, 12, tzinfo=shared)
    assert to_us(moment) == to_us_exact(moment)
    assert id(shared) in _time._KNOWN
    # objects that are not the shared one of their key stay on the exact path
    fresh = ZoneInfo.no_cache("America/Bahia_Banderas")
    unknown = ZoneInfo.from_file(io.BytesIO(zone_file("America/Bahia_Banderas")), key="Not/A_Zone")
    for tz in (fresh, unknown):
        moment = datetime(2015, 3, 1, 12, tzinfo=tz)
        assert to_us(moment) == to_us_exact(moment)
        assert id(tz) not in _time._KNOWN


def test_bad_inputs_are_refused_by_both_paths() -> None:
    for convert in (to_us, to_us_exact):
        with pytest.raises(InvalidValueError):
            convert("2026-03-06", "start")  # type: ignore[arg-type]
        with pytest.raises(NaiveDatetimeError):
            convert(datetime(2026, 3, 6), "start")


def test_the_remembered_days_are_forgotten_past_the_limit_and_answers_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_time, "_CACHE_LIMIT", 3)
    monkeypatch.setattr(_time, "_SHOWS_LIMIT", 2)
    for name in ("Asia/Tokyo", "Europe/Paris", ZoneInfo("Asia/Tokyo"), "Asia/Tokyo"):
        same_datetime(from_us(DAY_US, name), from_us_exact(DAY_US, name))
    for k in range(12):
        us = 1_600_000_000_000_000 + k * 7 * DAY_US + k * 1_234_567
        same_datetime(from_us(us, "America/New_York"), from_us_exact(us, "America/New_York"))
        moment = from_us_exact(us, "America/New_York")
        assert to_us(moment) == to_us_exact(moment)


CALENDARS = [
    BusinessCalendar(
        timezone=name,
        weekly=WeeklySchedule.same(["00:30-03:30", "09:00-13:00", "14:00-18:00", "22:00-24:00"]),
    )
    for name in ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia")
]


@given(
    st.sampled_from(CALENDARS),
    st.integers(to_us(datetime(2010, 1, 1, tzinfo=UTC)), to_us(datetime(2014, 1, 1, tzinfo=UTC))),
    st.integers(-50 * HOUR_US, 50 * HOUR_US),
    st.booleans(),
)
def test_the_datetime_api_answers_what_the_integer_api_answers(
    cal: BusinessCalendar, start_us: int, duration_us: int, as_pendulum: bool
) -> None:
    start: datetime = from_us_exact(start_us, cal.timezone)
    if not as_pendulum:
        start = (EPOCH + timedelta(microseconds=start_us)).astimezone(ZoneInfo(cal.timezone))
    duration = timedelta(microseconds=duration_us)
    same_datetime(
        cal.add(start, duration), from_us_exact(cal.add_us(start_us, duration_us), cal.timezone)
    )
    same_datetime(
        cal.subtract(start, duration),
        from_us_exact(cal.subtract_us(start_us, duration_us), cal.timezone),
    )
    opened = cal.next_open(start)
    same_datetime(opened, from_us_exact(cal.next_open_us(start_us), cal.timezone))


def test_the_changes_helper_finds_known_changes() -> None:
    # 2021-03-14 07:00 UTC: New York springs forward; 2021-11-07 06:00 UTC: falls back
    spring = to_us(datetime(2021, 3, 14, 7, tzinfo=UTC))
    fall = to_us(datetime(2021, 11, 7, 6, tzinfo=UTC))
    assert changes("America/New_York", 2021) == (spring, fall)
    assert changes("Europe/Moscow", 2021) == ()
