"""Exact time at the edges: aware datetimes in, epoch microseconds inside.

Private module shared by every room. Inside the library an instant is an
``int`` of microseconds since 1970-01-01T00:00:00Z, so arithmetic is exact;
``pendulum`` and ``zoneinfo`` serve at the edges.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
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
_UNKNOWN = object()
_CACHE_LIMIT = 1 << 16  # local dates remembered per zone
_DAY_BUT_ONE = timedelta(microseconds=US_PER_DAY - 1)


class _Zone:
    """One IANA zone at the edges: its pendulum and stdlib forms, and a cache of offsets.

    The stdlib ``ZoneInfo`` answers the offset of a ``pendulum.DateTime`` (any
    subclass) through slow attribute calls, and pendulum's own zone is slower
    still. Most local dates have one offset all day; for those the offset is
    remembered per date. A date holding a DST change is marked irregular and
    converted the exact stdlib way. This relies on no zone changing its offset
    twice within one day: in the tz database two changes are at least 95 hours
    apart (checked over every zone).
    """

    __slots__ = ("days", "pendulum", "plain")

    def __init__(self, name: str) -> None:
        self.pendulum = pendulum.timezone(name)
        plain: tzinfo = ZoneInfo(name) if isinstance(self.pendulum, ZoneInfo) else self.pendulum
        self.plain = plain
        self.days: dict[int, int | None] = {}
        for tz in (self.pendulum, plain):
            _KNOWN[id(tz)] = (tz, self)

    def day_offset(self, day: int) -> int | None:
        """The offset (µs) of every wall time of a local date, or None if it has a DST change."""
        first = _add(_NAIVE_EPOCH, timedelta(days=day))
        last = _add(first, _DAY_BUT_ONE)
        plain = self.plain
        offsets = {
            plain.utcoffset(x) for x in (first, first.replace(fold=1), last, last.replace(fold=1))
        }
        found = offsets.pop()
        value = None if offsets or found is None else td_to_us(found)
        if len(self.days) >= _CACHE_LIMIT:
            self.days.clear()
        self.days[day] = value
        return value


#: ``id(tzinfo) -> (tzinfo, zone)`` for the zones met so far (ids of live objects only:
#: the zone keeps both tzinfo objects alive).
_KNOWN: dict[int, tuple[tzinfo, _Zone]] = {}


@lru_cache(maxsize=512)
def _zone_named(name: str) -> _Zone:
    return _Zone(name)


def to_us(value: datetime, field: str = "at") -> int:
    """Microseconds since the epoch of an aware datetime; naive or non-datetimes raise.

    >>> from datetime import datetime, timezone
    >>> to_us(datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    1000000
    """
    if not isinstance(value, datetime):
        raise InvalidValueError(field, value, "a timezone-aware datetime")
    tz = value.tzinfo
    known = _KNOWN.get(id(tz))
    if known is not None and known[0] is tz:
        day = value.toordinal() - _EPOCH_ORDINAL
        offset_us = known[1].days.get(day, _UNKNOWN)
        if offset_us is _UNKNOWN:
            offset_us = known[1].day_offset(day)
        if offset_us is not None:
            seconds = ((day * 24 + value.hour) * 60 + value.minute) * 60 + value.second
            return seconds * US_PER_SECOND + value.microsecond - offset_us  # type: ignore[operator]
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

    Converted by the stdlib (``ZoneInfo.fromutc`` through ``fromtimestamp`` on
    whole seconds, keeping ``fold`` so a repeated local time names the right
    instant), then built as a pendulum value directly: several times faster
    than ``pendulum.instance(...).in_timezone(...)``.

    >>> from_us(1_000_000).isoformat()
    '1970-01-01T00:00:01+00:00'
    """
    shown = _zone_named(tz if isinstance(tz, str) else getattr(tz, "key", None) or "UTC")
    seconds, micro = divmod(us, US_PER_SECOND)
    local = _fromtimestamp(seconds, shown.plain)
    if local.fold:
        return pendulum.DateTime(
            local.year,
            local.month,
            local.day,
            local.hour,
            local.minute,
            local.second,
            micro,
            shown.pendulum,
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
        shown.pendulum,
    )


def td_to_us(value: timedelta, field: str = "duration") -> int:
    """Exact microseconds of a ``timedelta`` (or ``pendulum.Duration``).

    >>> td_to_us(timedelta(hours=1, microseconds=5))
    3600000005
    """
    if not isinstance(value, timedelta):
        raise InvalidValueError(field, value, "a datetime.timedelta")
    return (value.days * 86_400 + value.seconds) * US_PER_SECOND + value.microseconds


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
