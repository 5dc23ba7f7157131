"""Durations as text: one compact canonical form, ISO 8601 accepted on input.

The canonical form is a sequence of ``<integer><unit>`` parts, largest unit
first, each unit at most once: ``d`` (24 hours), ``h``, ``m`` (minutes),
``s``, ``ms`` and ``us`` (microseconds), with a leading ``-`` for a negative
duration and ``0s`` for zero. It is exact to the microsecond, like the
library's time arithmetic.
"""

from __future__ import annotations

import re
from datetime import timedelta

from itsm_core._time import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND, td_to_us
from itsm_core.errors import InvalidValueError
from itsm_core.sla import BusinessDays, BusinessDuration, SlaDuration, WallDuration, as_sla_duration

__all__ = [
    "DURATION_EXPECTED",
    "DURATION_PATTERN",
    "SLA_DURATION_EXPECTED",
    "SLA_DURATION_PATTERN",
    "format_business_duration",
    "format_duration",
    "format_sla_duration",
    "parse_duration",
    "parse_sla_duration",
]

#: What a duration field expects, as error messages phrase it.
DURATION_EXPECTED = 'a duration such as "8h", "1d2h30m", "90s", "250ms" or "PT8H"'

_UNITS: tuple[tuple[str, int], ...] = (
    ("d", US_PER_DAY),
    ("h", US_PER_HOUR),
    ("m", US_PER_MINUTE),
    ("s", US_PER_SECOND),
    ("ms", 1000),
    ("us", 1),
)
_N = r"(\d{1,15})"
_COMPACT = re.compile(
    rf"^(-)?\s*(?:{_N}\s*d)?\s*(?:{_N}\s*h)?\s*(?:{_N}\s*m(?!s))?\s*(?:{_N}\s*s)?"
    rf"\s*(?:{_N}\s*ms)?\s*(?:{_N}\s*us)?$"
)
_ISO = re.compile(
    rf"^(-)?P(?:{_N}W)?(?:{_N}D)?(?:T(?:{_N}H)?(?:{_N}M)?(?:{_N}(?:[.,](\d{{1,6}}))?S)?)?$"
)
_D = r"\d{1,15}"
#: A regular expression every accepted duration text matches (for JSON Schema).
DURATION_PATTERN = (
    rf"^(-?\s*({_D}\s*d)?\s*({_D}\s*h)?\s*({_D}\s*m(?!s))?\s*({_D}\s*s)?\s*({_D}\s*ms)?"
    rf"\s*({_D}\s*us)?|-?P({_D}W)?({_D}D)?(T({_D}H)?({_D}M)?({_D}([.,]\d{{1,6}})?S)?)?)$"
)
# Far beyond any SLA target, and within what ``timedelta`` can hold.
_MAX_US = 999_999 * US_PER_DAY


def format_duration(value: timedelta) -> str:
    """The canonical text of a duration: ``"8h"``, ``"1d2h30m"``, ``"1m30s"``, ``"250ms"``.

    ``d`` is 24 hours of the duration's own kind: a business duration of
    ``"1d"`` is 24 hours of open time, not one business day.

    >>> from datetime import timedelta
    >>> format_duration(timedelta(hours=8)), format_duration(timedelta(days=1, minutes=150))
    ('8h', '1d2h30m')
    >>> format_duration(timedelta(seconds=90)), format_duration(timedelta(milliseconds=250))
    ('1m30s', '250ms')
    >>> format_duration(timedelta(0)), format_duration(-timedelta(microseconds=1_500))
    ('0s', '-1ms500us')
    """
    us = td_to_us(value)
    if us == 0:
        return "0s"
    sign = "-" if us < 0 else ""
    rest = abs(us)
    parts: list[str] = []
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def parse_duration(value: object, field: str = "duration") -> timedelta:
    """A ``timedelta`` from the canonical text or from ISO 8601 (``"PT8H"``, ``"P1DT2H"``).

    The compact form may leave spaces between its parts (``"1d 2h"``) and any
    unit may hold any count (``"90m"`` is ``"1h30m"``). ISO 8601 years and
    months are refused: their length varies. Anything else raises
    :class:`~itsm_core.errors.InvalidValueError` naming ``field``.

    >>> parse_duration("1d2h30m"), parse_duration("PT8H")
    (datetime.timedelta(days=1, seconds=9000), datetime.timedelta(seconds=28800))
    >>> parse_duration("PT0.25S") == parse_duration("250ms")
    True
    >>> parse_duration("eight", "targets.P1")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: targets.P1: expected a duration such as "8h", \
"1d2h30m", "90s", "250ms" or "PT8H", got 'eight'
    """
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, value, DURATION_EXPECTED)
    text = value.strip()
    us: int | None = None
    sign = 1
    match = _COMPACT.match(text)
    if match is not None and any(match.groups()[1:]):
        sign = -1 if match[1] else 1
        us = sum(
            int(g) * size for g, (_, size) in zip(match.groups()[1:], _UNITS, strict=True) if g
        )
    else:
        iso = _ISO.match(text)
        if iso is not None and any(iso.groups()[1:]) and not text.endswith("T"):
            sign = -1 if iso[1] else 1
            weeks, days, hours, minutes, seconds, fraction = iso.groups()[1:]
            us = (
                int(weeks or 0) * 7 * US_PER_DAY
                + int(days or 0) * US_PER_DAY
                + int(hours or 0) * US_PER_HOUR
                + int(minutes or 0) * US_PER_MINUTE
                + int(seconds or 0) * US_PER_SECOND
                + int((fraction or "").ljust(6, "0"))
            )
    if us is None:
        raise InvalidValueError(field, value, DURATION_EXPECTED)
    if us > _MAX_US:
        raise InvalidValueError(field, value, "a duration of at most 999999 days")
    return timedelta(microseconds=sign * us)


#: What an SLA target or offset field expects, as error messages phrase it.
SLA_DURATION_EXPECTED = (
    'a business duration such as "8h" or "90m", business days "5bd", the end of the '
    'business day "eod" or "2bd eod", or wall-clock time "24h wall"'
)
_DAYS_REFUSED = (
    'no days in a business duration: write "24h" for 24 hours of business time, "1bd" for '
    'one business day keeping the time of day, "eod" or "1bd eod" for the end of a business '
    'day, or "1d wall" for 24 hours of wall-clock time'
)
_BD = re.compile(r"^(?:(-)?\s*(\d{1,6})\s*bd)?\s*(eod)?$")
_WALL = re.compile(r"^(.*\S)\s+wall$")
#: A regular expression every accepted SLA duration text matches (for JSON Schema).
SLA_DURATION_PATTERN = (
    rf"^((-?\s*\d{{1,6}}\s*bd)?\s*(eod)?|(-?\s*({_D}\s*h)?\s*({_D}\s*m(?!s))?\s*({_D}\s*s)?"
    rf"\s*({_D}\s*ms)?\s*({_D}\s*us)?|-?PT({_D}H)?({_D}M)?({_D}([.,]\d{{1,6}})?S)?)"
    rf"|.+\s+wall)$"
)


def parse_sla_duration(value: object, field: str = "duration") -> SlaDuration:
    """An SLA duration from its text: ``"8h"``, ``"5bd"``, ``"eod"``, ``"2bd eod"``, ``"24h wall"``.

    A business duration counts open time and has no days: ``"1d"`` is refused
    with the alternatives. A ``timedelta`` (or an SLA duration record) passes
    through; a ``timedelta`` means business time.

    >>> parse_sla_duration("5bd"), parse_sla_duration("2bd eod")
    (BusinessDays(days=5, end_of_day=False), BusinessDays(days=2, end_of_day=True))
    >>> parse_sla_duration("24h wall"), parse_sla_duration("-90m")
    (WallDuration(value=datetime.timedelta(days=1)), \
BusinessDuration(value=datetime.timedelta(days=-1, seconds=81000)))
    >>> parse_sla_duration("1d", "targets.P1")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: targets.P1: expected no days in a business duration: \
write "24h" for 24 hours of business time, "1bd" for one business day keeping the time of \
day, "eod" or "1bd eod" for the end of a business day, or "1d wall" for 24 hours of \
wall-clock time, got '1d'
    """
    if isinstance(value, (BusinessDuration, BusinessDays, WallDuration, timedelta)):
        return as_sla_duration(value, field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, value, SLA_DURATION_EXPECTED)
    text = value.strip()
    wall = _WALL.match(text)
    if wall is not None:
        return WallDuration(value=parse_duration(wall[1], field))
    days = _BD.match(text)
    if days is not None and (days[2] or days[3]):
        count = int(days[2] or 0) * (-1 if days[1] else 1)
        if days[1] and days[3]:
            raise InvalidValueError(field, value, "an end of day zero or more days ahead")
        if count == 0 and not days[3]:
            raise InvalidValueError(field, value, "a non-zero count of business days")
        return BusinessDays(days=count, end_of_day=bool(days[3]))
    try:
        duration = parse_duration(text, field)
    except InvalidValueError:
        raise InvalidValueError(field, value, SLA_DURATION_EXPECTED) from None
    if re.search(r"\d\s*d|D|W", text):
        raise InvalidValueError(field, value, _DAYS_REFUSED)
    return BusinessDuration(value=duration)


def format_sla_duration(value: SlaDuration | timedelta) -> str:
    """The text :func:`parse_sla_duration` reads back: business time in hours at most.

    >>> from datetime import timedelta
    >>> format_sla_duration(timedelta(hours=30)), format_sla_duration(BusinessDays(days=3))
    ('30h', '3bd')
    >>> format_sla_duration(BusinessDays(days=0, end_of_day=True))
    'eod'
    >>> format_sla_duration(WallDuration(value=timedelta(days=1, hours=2)))
    '26h wall'
    """
    duration = as_sla_duration(value)
    if isinstance(duration, BusinessDays):
        if not duration.end_of_day:
            return f"{duration.days}bd"
        return f"{duration.days}bd eod" if duration.days else "eod"
    if isinstance(duration, WallDuration):
        return f"{format_business_duration(duration.value)} wall"
    return format_business_duration(duration.value)


def format_business_duration(value: timedelta) -> str:
    """Business time as the reports write it: in hours at most, never in days.

    A day of business time is not 24 hours (an 8x5 day is 8), so a ``d``
    would mislead; :func:`format_duration` otherwise. What the reports, the
    statistics and ``itsm-core calendar --elapsed`` write of business time, and
    what :func:`parse_duration` reads back.

    >>> from datetime import timedelta
    >>> format_business_duration(timedelta(days=1, minutes=108))
    '25h48m'
    >>> [format_business_duration(timedelta(minutes=m)) for m in (53, -1800)]
    ['53m', '-30h']
    """
    us = td_to_us(value)
    hours, rest = divmod(abs(us), US_PER_HOUR)
    if not hours:
        return format_duration(value)
    tail = format_duration(timedelta(microseconds=rest)) if rest else ""
    return ("-" if us < 0 else "") + f"{hours}h" + tail
