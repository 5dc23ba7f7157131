"""Exact time at the edges: aware datetimes in, epoch microseconds inside.

Private module shared by every room. Inside the library an instant is an
``int`` of microseconds since 1970-01-01T00:00:00Z, so arithmetic is exact;
``pendulum`` and ``zoneinfo`` serve at the edges.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pendulum

from itsm_core.errors import InvalidValueError, NaiveDatetimeError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
# ``pendulum.DateTime.__sub__`` builds an Interval (about 15 µs); the stdlib
# subtraction gives the same exact timedelta in well under a microsecond.
_sub = datetime.__sub__
US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - wall times, asked of a zone
_add = datetime.__add__
_fromtimestamp = datetime.fromtimestamp
_CACHE_LIMIT = 1 << 16  # local dates remembered per zone
_DAY_BUT_ONE = timedelta(microseconds=US_PER_DAY - 1)
_ONE_US = timedelta(microseconds=1)
_td_floordiv = timedelta.__floordiv__


class _Zone:
    """One IANA zone at the edges: its pendulum and stdlib forms, and caches of offsets.

    The stdlib ``ZoneInfo`` answers the offset of a ``pendulum.DateTime`` (any
    subclass) through slow attribute calls, and pendulum's own zone is slower
    still. Most local dates have one offset all day; for those the offset is
    remembered per date. A date holding a DST change is marked irregular and
    converted the exact stdlib way (:func:`to_us_exact`). This relies on no zone changing its offset
    twice within one day: in the tz database two changes are at least 95 hours
    apart (checked over every zone).

    Local midnights are remembered per date (:attr:`midnights`), so an input
    costs its date's look-up and the time of day. Both are read from one
    subtraction in C: an aware datetime minus the epoch's wall time in the same
    tzinfo object (:attr:`anchors`) is the wall-clock ``timedelta`` since
    1970-01-01 00:00 (Python ignores the offsets of two datetimes sharing a
    tzinfo), whose ``days`` are the local date and whose ``seconds`` and
    ``microseconds`` are the time of day: cheaper than ``toordinal()`` and four
    fields. Shown the other way
    (:meth:`show`, epoch microseconds to a local ``pendulum.DateTime``), the
    offset and local dates are remembered per UTC day (:attr:`utc_days`) when
    the offset holds from two days before that day to its end: no change in the
    day, and none in the two days before, so no instant of the day repeats a
    wall time (``fold`` is 0; no DST change takes back 48 hours). The result is
    built from its pickled state (ten bytes: the remembered date, the time of
    day computed), several times cheaper than passing seven fields to the
    constructor. Other days take the exact stdlib conversion (:meth:`show_exact`).
    """

    __slots__ = ("anchors", "iso_days", "midnights", "pendulum", "plain", "utc_days")

    def __init__(self, name: str) -> None:
        self.pendulum = pendulum.timezone(name)
        plain: tzinfo = ZoneInfo(name) if isinstance(self.pendulum, ZoneInfo) else self.pendulum
        self.plain = plain
        #: local date (days since 1970-01-01) -> the UTC instant (µs) of its midnight;
        #: None for a date holding a DST change (or at the edge of the range)
        self.midnights: dict[int, int | None] = {}
        #: 1970-01-01 00:00 wall time in each tzinfo object of the zone (pendulum, plain)
        self.anchors = tuple(datetime(1970, 1, 1, tzinfo=tz) for tz in (self.pendulum, plain))
        #: UTC day since the epoch -> what :meth:`show` needs of it (see :meth:`utc_day`)
        self.utc_days: dict[int, tuple[int, int, int, int] | None] = {}
        #: UTC day since the epoch -> what :meth:`iso` needs of it (see :meth:`iso_day`)
        self.iso_days: dict[int, tuple[int, int, str, str, str] | None] = {}
        for tz, anchor in zip((self.pendulum, plain), self.anchors, strict=True):
            _KNOWN[id(tz)] = (anchor, self.midnights)
            _ZONES[id(tz)] = self

    def midnight(self, day: int) -> int | None:
        """Fill :attr:`midnights` for a local date (days since 1970-01-01) and answer it."""
        first = _add(_NAIVE_EPOCH, timedelta(days=day))
        last = _add(first, _DAY_BUT_ONE)
        plain = self.plain
        offsets = {
            plain.utcoffset(x) for x in (first, first.replace(fold=1), last, last.replace(fold=1))
        }
        found = offsets.pop()
        value = None
        if not offsets and found is not None:
            value = day * US_PER_DAY - td_to_us(found)
        if len(self.midnights) >= _CACHE_LIMIT:
            self.midnights.clear()
        self.midnights[day] = value
        return value

    def utc_day(self, day: int) -> tuple[int, int, int, int] | None:
        """Fill :attr:`utc_days` for a UTC day and answer it; None near a change or the range edge.

        ``(split, midnight, date_state, next_date_state)``: the day's instants
        before ``split`` (the UTC instant of a local midnight) fall on the local
        date that began at ``midnight`` (UTC µs), the others on the next one;
        each date as the date part of a datetime's pickled state. A day is kept
        only if its offset holds from two days before it to its end.
        """
        plain = self.plain
        value: tuple[int, int, int, int] | None = None
        try:
            probes = [_add(_EPOCH, timedelta(days=day + k)).astimezone(plain) for k in (-2, -1, 0)]
            probes.append(_add(_EPOCH, timedelta(days=day + 1, microseconds=-1)).astimezone(plain))
        except (OverflowError, ValueError):
            pass
        else:
            offsets = {p.utcoffset() for p in probes}
            found = offsets.pop()
            if not offsets and found is not None:
                offset = td_to_us(found)
                local_day = (day * US_PER_DAY + offset) // US_PER_DAY
                first, second = _date_state(local_day), _date_state(local_day + 1)
                if first is not None and second is not None:
                    midnight = local_day * US_PER_DAY - offset
                    value = (midnight + US_PER_DAY, midnight, first, second)
        if len(self.utc_days) >= _CACHE_LIMIT:
            self.utc_days.clear()
        self.utc_days[day] = value
        return value

    def show(self, us: int) -> pendulum.DateTime:
        """The ``pendulum.DateTime`` of an epoch-microsecond instant here (see the class)."""
        try:
            split, micros, state, later = self.utc_days[us // US_PER_DAY]  # type: ignore[misc]
        except KeyError:
            self.utc_day(us // US_PER_DAY)
            return self.show(us)
        except TypeError:  # None: a day near a change
            return self.show_exact(us)
        if us < split:
            micros = us - micros
        else:
            micros = us - split
            state = later
        minute, micros = divmod(micros, US_PER_MINUTE)
        # the seconds go 24 bits up: ``µs + s * (2**24 - 10**6)`` is ``s << 24 | µs``
        state += _MINUTE_STATES[minute] + micros + micros // US_PER_SECOND * _SECOND_SHIFT
        return _DateTime(state.to_bytes(10, "big"), self.pendulum)  # type: ignore[call-arg, arg-type]

    def iso(self, us: int) -> str:
        """``show(us).isoformat()``, written from the UTC day's texts (see :meth:`iso_day`)."""
        try:
            split, midnight, first, second, offset = self.iso_days[us // US_PER_DAY]  # type: ignore[misc]
        except KeyError:
            self.iso_day(us // US_PER_DAY)
            return self.iso(us)
        except TypeError:  # None: a day near a change
            return self.show_exact(us).isoformat()
        if us < split:
            micros, day = us - midnight, first
        else:
            micros, day = us - split, second
        seconds, micro = divmod(micros, US_PER_SECOND)
        minutes, second_ = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        if micro:
            return f"{day}{hour:02d}:{minute:02d}:{second_:02d}.{micro:06d}{offset}"
        return f"{day}{hour:02d}:{minute:02d}:{second_:02d}{offset}"

    def iso_day(self, day: int) -> tuple[int, int, str, str, str] | None:
        """Fill :attr:`iso_days` for a UTC day and answer it; None where :attr:`utc_days` is.

        ``(split, midnight, first, second, offset)``: as :meth:`utc_day`, with
        the two local dates as ISO text up to the ``T`` and the day's offset
        as ``isoformat`` writes it (``+03:00``).
        """
        found = self.utc_days[day] if day in self.utc_days else self.utc_day(day)
        value: tuple[int, int, str, str, str] | None = None
        if found is not None:
            split, midnight, _, _ = found
            local = self.show_exact(midnight)  # the first local date's midnight
            first = local.date()
            value = (
                split,
                midnight,
                f"{first.isoformat()}T",
                f"{(first + timedelta(days=1)).isoformat()}T",
                local.isoformat()[19:],
            )
        if len(self.iso_days) >= _CACHE_LIMIT:
            self.iso_days.clear()
        self.iso_days[day] = value
        return value

    def show_exact(self, us: int) -> pendulum.DateTime:
        """:meth:`show` the straightforward way: the stdlib conversion, then the fields.

        Converted by ``ZoneInfo.fromutc`` (through ``fromtimestamp`` on whole
        seconds), keeping ``fold`` so a repeated local time names the right instant.
        """
        seconds, micro = divmod(us, US_PER_SECOND)
        local = _fromtimestamp(seconds, self.plain)
        if local.fold:
            return pendulum.DateTime(
                local.year,
                local.month,
                local.day,
                local.hour,
                local.minute,
                local.second,
                micro,
                self.pendulum,
                fold=1,
            )
        # Without the keyword: passing ``fold`` doubles the cost of the constructor.
        return pendulum.DateTime(
            local.year,
            local.month,
            local.day,
            local.hour,
            local.minute,
            local.second,
            micro,
            self.pendulum,
        )


_DateTime = pendulum.DateTime
_SECOND_SHIFT = (1 << 24) - US_PER_SECOND
#: ``h << 40 | m << 32`` for every minute of a day: that part of a datetime's pickled state.
_MINUTE_STATES = tuple((m // 60) << 40 | (m % 60) << 32 for m in range(24 * 60))


def _date_state(day: int) -> int | None:
    """``year << 64 | month << 56 | day << 48`` (the date part of a datetime's pickled state).

    ``day`` counts days since the epoch; None outside years 1-9999.
    """
    try:
        found = date.fromordinal(day + _EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        return None
    return found.year << 64 | found.month << 56 | found.day << 48


#: ``id(tzinfo) -> (its anchor, its zone's local midnights)`` for the zones met so far
#: (ids of live objects only: the zone keeps both tzinfo objects alive, and they stay
#: here). The anchor is 1970-01-01 00:00 in that very tzinfo object (see :class:`_Zone`).
_KNOWN: dict[int, tuple[datetime, dict[int, int | None]]] = {}
#: ``id(tzinfo) -> its zone``, alike.
_ZONES: dict[int, _Zone] = {}


@lru_cache(maxsize=512)
def _zone_named(name: str) -> _Zone:
    return _Zone(name)


def to_us(value: datetime, field: str = "at") -> int:
    """Microseconds since the epoch of an aware datetime; naive or non-datetimes raise.

    >>> from datetime import datetime, timezone
    >>> to_us(datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    1000000
    """
    if isinstance(value, datetime):
        tz = value.tzinfo
        if tz is UTC:  # the epoch's own tzinfo: the naive difference, in C
            since = _sub(value, _EPOCH)
            return (since.days * 86_400 + since.seconds) * US_PER_SECOND + since.microseconds
        if type(tz) is timezone:  # another fixed offset: nothing to remember
            return to_us_exact(value, field)
        known = _KNOWN.get(id(tz))
        if known is None:
            known = _learn(tz)
        if known is not None:
            anchor, midnights = known
            wall = _sub(value, anchor)  # same tzinfo object: the wall-clock difference
            try:
                midnight = midnights[wall.days]
            except KeyError:
                midnight = _ZONES[id(value.tzinfo)].midnight(wall.days)
            if midnight is not None:
                return midnight + wall.seconds * US_PER_SECOND + wall.microseconds
    return to_us_exact(value, field)


def _learn(tz: tzinfo | None) -> tuple[datetime, dict[int, int | None]] | None:
    """A zone's anchor and local midnights if ``tz`` is the shared ``ZoneInfo`` (or pendulum)
    of its key.

    Zones are remembered by the identity of their tzinfo objects, so a zone
    first met as an input is looked up by its key once; a tzinfo that is not
    the cached object of its key (``ZoneInfo.no_cache``, ``from_file``) stays exact.
    """
    key = getattr(tz, "key", None)
    if not isinstance(tz, ZoneInfo) or not isinstance(key, str):
        return None
    try:
        _zone_named(key)
    except (ValueError, KeyError, OSError):  # a key no zone database knows: convert exactly
        return None
    return _KNOWN.get(id(tz))


def to_us_exact(value: datetime, field: str = "at") -> int:
    """:func:`to_us` the straightforward way (its reference): the datetime's own offset.

    >>> from datetime import datetime, timezone
    >>> to_us_exact(datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    1000000
    """
    if not isinstance(value, datetime):
        raise InvalidValueError(field, value, "a timezone-aware datetime")
    offset = value.utcoffset()
    if offset is None:
        raise NaiveDatetimeError(field, value)
    seconds = (
        (value.toordinal() - _EPOCH_ORDINAL) * 86_400
        + value.hour * 3_600
        + value.minute * 60
        + value.second
        - offset.days * 86_400
        - offset.seconds
    )
    return seconds * US_PER_SECOND + value.microsecond - offset.microseconds


def from_us(us: int, tz: str | tzinfo = "UTC") -> pendulum.DateTime:
    """The ``pendulum.DateTime`` of an epoch-microsecond instant, shown in ``tz``.

    A zone given as a ``tzinfo`` is named by its ``key`` (UTC if it has none).
    The offset is remembered per UTC day and the value built from its pickled
    state; days near a DST change take the exact stdlib conversion
    (:func:`from_us_exact`), keeping ``fold`` so a repeated local time names the
    right instant. Several times faster than ``pendulum.instance(...).in_timezone(...)``.

    >>> from_us(1_000_000).isoformat()
    '1970-01-01T00:00:01+00:00'
    >>> from_us(1_000_000, "Asia/Kathmandu").isoformat()
    '1970-01-01T05:30:01+05:30'
    """
    try:
        show = _SHOWS.get(tz)
    except TypeError:  # an unhashable tzinfo
        return shown_in(tz)(us)
    if show is None:
        show = shown_in(tz)
        if len(_SHOWS) >= _SHOWS_LIMIT:
            _SHOWS.clear()
        _SHOWS[tz] = show
    return show(us)


#: The ``tz`` arguments :func:`from_us` has met -> their zone's ``show`` (at most this many).
_SHOWS_LIMIT = 512
_SHOWS: dict[object, Callable[[int], pendulum.DateTime]] = {}


def from_us_exact(us: int, tz: str | tzinfo = "UTC") -> pendulum.DateTime:
    """:func:`from_us` the straightforward way (its reference): stdlib conversion, then fields.

    >>> from_us_exact(1_000_000, "Asia/Kathmandu") == from_us(1_000_000, "Asia/Kathmandu")
    True
    """
    return _shown_zone(tz).show_exact(us)


def _shown_zone(tz: str | tzinfo) -> _Zone:
    return _zone_named(tz if isinstance(tz, str) else getattr(tz, "key", None) or "UTC")


def shown_in(tz: str | tzinfo = "UTC") -> Callable[[int], pendulum.DateTime]:
    """The function ``us -> from_us(us, tz)``, with the zone looked up once (for hot loops).

    >>> show = shown_in("Europe/Moscow")
    >>> print(show(0))
    1970-01-01 03:00:00+03:00
    """
    return _shown_zone(tz).show


def iso_in(tz: str | tzinfo = "UTC") -> Callable[[int], str]:
    """The function ``us -> from_us(us, tz).isoformat()``, text written directly (for reports).

    >>> iso = iso_in("Asia/Kathmandu")
    >>> iso(1_000_000), iso(1_500_000)
    ('1970-01-01T05:30:01+05:30', '1970-01-01T05:30:01.500000+05:30')
    """
    return _shown_zone(tz).iso


def datetime_op(
    op: Callable[[int, int], int], tz: str, field: str = "start"
) -> Callable[[datetime, timedelta], pendulum.DateTime]:
    """An integer operation ``(instant µs, duration µs) -> instant µs`` over datetimes (hot paths).

    ``datetime_op(op, tz, field)(at, duration)`` answers
    ``from_us(op(to_us(at, field), td_to_us(duration)), tz)`` (its reference is
    :func:`datetime_op_exact`) with the three conversions inlined around one
    call of ``op``: ``at``'s local midnight is looked up in its zone's table, a
    duration met before in a table of durations, and the result's offset and
    date in the shown zone's table of UTC days (built from its pickled state).
    Whatever a table does not hold (a DST-change day, a zone or duration not met
    yet, a bad argument) takes the plain functions, which fill the tables or
    raise naming ``field`` (or ``duration``).

    >>> later = datetime_op(lambda at, d: at + 2 * d, "Europe/Moscow")
    >>> print(later(datetime(2026, 3, 6, 9, tzinfo=UTC), timedelta(hours=1)))
    2026-03-06 14:00:00+03:00
    """
    zone = _shown_zone(tz)
    show, utc_days, shown_tz = zone.show, zone.utc_days, zone.pendulum
    known, durations, minute_states, new = _KNOWN, _DURATIONS, _MINUTE_STATES, _DateTime
    # an input in the shown zone (the usual case) finds its anchor and midnights without
    # a look-up; ``at - anchor`` in C is the wall-clock time since 1970-01-01 (see _Zone)
    own, own_midnights = zone.pendulum, zone.midnights
    own_anchor = zone.anchors[0]
    sub = _sub

    def run(at: datetime, duration: timedelta) -> pendulum.DateTime:
        try:
            given = at.tzinfo
            if given is own:
                wall = sub(at, own_anchor)
                midnights = own_midnights
            else:
                anchor, midnights = known[id(given)]
                wall = sub(at, anchor)
            at_us: int = midnights[wall.days] + (  # type: ignore[operator]
                wall.seconds * US_PER_SECOND + wall.microseconds
            )
        except (AttributeError, KeyError, TypeError):
            # no datetime, a zone or date not met yet, or a DST-change day (None)
            at_us = to_us(at, field)  # fills the tables, or raises naming the field
        if type(duration) is timedelta:
            try:
                duration_us = durations[duration]
            except KeyError:
                duration_us = _duration_us(duration)
        else:  # a subclass such as pendulum.Duration, or no timedelta at all (it raises)
            duration_us = td_to_us(duration, "duration")
        us = op(at_us, duration_us)
        try:
            split, micros, state, later = utc_days[us // US_PER_DAY]  # type: ignore[misc]
        except (KeyError, TypeError):  # a day not met yet, or near a change: see _Zone.show
            return show(us)
        if us < split:
            micros = us - micros
        else:
            micros = us - split
            state = later
        minute, micros = divmod(micros, US_PER_MINUTE)
        state += minute_states[minute] + micros + micros // US_PER_SECOND * _SECOND_SHIFT
        return new(state.to_bytes(10, "big"), shown_tz)  # type: ignore[call-arg, arg-type]

    return run


def datetime_op_exact(
    op: Callable[[int, int], int], tz: str, field: str = "start"
) -> Callable[[datetime, timedelta], pendulum.DateTime]:
    """:func:`datetime_op` the straightforward way (its reference): the exact conversions.

    >>> later = datetime_op_exact(lambda at, d: at + 2 * d, "Europe/Moscow")
    >>> print(later(datetime(2026, 3, 6, 9, tzinfo=UTC), timedelta(hours=1)))
    2026-03-06 14:00:00+03:00
    """

    def run(at: datetime, duration: timedelta) -> pendulum.DateTime:
        return from_us_exact(op(to_us_exact(at, field), td_to_us(duration)), tz)

    return run


#: Plain ``timedelta`` durations :func:`datetime_op` has met -> their microseconds.
_DURATIONS: dict[timedelta, int] = {}
_DURATIONS_LIMIT = 4096


def _duration_us(duration: timedelta) -> int:
    """:func:`td_to_us` of a plain ``timedelta``, remembered in :data:`_DURATIONS`."""
    us = td_to_us(duration, "duration")
    if len(_DURATIONS) >= _DURATIONS_LIMIT:
        _DURATIONS.clear()
    _DURATIONS[duration] = us
    return us


def td_to_us(value: timedelta, field: str = "duration") -> int:
    """Exact microseconds of a ``timedelta`` (or ``pendulum.Duration``).

    >>> td_to_us(timedelta(hours=1, microseconds=5))
    3600000005
    """
    if type(value) is timedelta:
        return (value.days * 86_400 + value.seconds) * US_PER_SECOND + value.microseconds
    if not isinstance(value, timedelta):
        raise InvalidValueError(field, value, "a datetime.timedelta")
    # A subclass may redefine the parts: ``pendulum.Duration`` gives signed ``seconds`` and
    # ``microseconds`` (-5 h is days=-1, seconds=-18000), so ask timedelta itself.
    return _td_floordiv(value, _ONE_US)


def us_to_td(us: int) -> timedelta:
    """The ``timedelta`` of a microsecond count.

    >>> us_to_td(90 * US_PER_MINUTE)
    datetime.timedelta(seconds=5400)
    """
    return timedelta(microseconds=us)


#: Files of a host's zoneinfo directory that are no IANA zone: what they mean depends on the host.
_HOST_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_HOST_ZONE_PREFIXES = ("posix/", "right/")


@lru_cache(maxsize=512)
def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name; an unknown name raises naming ``field``.

    Names that mean something different from host to host (``localtime``,
    ``posixrules``, ``Factory``, the ``posix/`` and ``right/`` trees) are refused.

    >>> zone("Europe/Moscow").key
    'Europe/Moscow'
    """
    if (
        not isinstance(name, str)
        or not name
        or name != name.strip()
        or name in _HOST_ZONES
        or name.startswith(_HOST_ZONE_PREFIXES)
    ):
        raise InvalidValueError(field, name, "an IANA timezone name such as 'Europe/Moscow'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidValueError(
            field, name, "an IANA timezone name such as 'Europe/Moscow'"
        ) from exc
