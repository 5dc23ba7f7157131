"""Holidays from the optional ``holidays`` package."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from itsm_core.errors import InvalidValueError, ItsmError

__all__ = ["country_holidays"]


def country_holidays(
    country: str, years: Iterable[int] | int, *, subdivision: str | None = None
) -> tuple[date, ...]:
    """The public holidays of a country (and subdivision) in the given year(s), sorted.

    Uses the optional ``holidays`` package (``pip install itsm-core[holidays]``).

    >>> from datetime import date
    >>> date(2026, 5, 9) in country_holidays("RU", [2026])
    True
    """
    try:
        import holidays as package
    except ImportError as exc:  # pragma: no cover - the package is installed in development
        raise ItsmError(
            "country holidays need the optional 'holidays' package: "
            "pip install 'itsm-core[holidays]'"
        ) from exc
    if not isinstance(country, str) or not country:
        raise InvalidValueError("country", country, "an ISO 3166 country code such as 'RU'")
    wanted = tuple(years) if not isinstance(years, int) else (years,)
    for i, year in enumerate(wanted):
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidValueError(f"years[{i}]", year, "a year as an int")
    try:
        found: Any = package.country_holidays(country, subdiv=subdivision, years=wanted)
    except NotImplementedError as exc:
        if subdivision is not None and country.upper() in package.list_supported_countries():
            raise InvalidValueError(
                "subdivision", subdivision, f"a subdivision of {country} known to 'holidays'"
            ) from exc
        raise InvalidValueError(
            "country", country, "an ISO 3166 country code known to 'holidays', such as 'RU'"
        ) from exc
    return tuple(sorted(day for day in found if day.year in wanted))
