"""The cheaper reading of exports gives what the straightforward reading gives.

* A profile's timestamps compiled once (:func:`instant_parser`) read every
  text as :func:`parse_instant` reads it: the same instant, fixed zone and
  fold, or the same error naming the same field -- wall times a DST change
  makes ambiguous or skipped (whole-hour, half-hour, midnight and whole-day
  changes) under every DST rule, naive timestamps without a zone, dates that
  do not exist, formats without a compiled pattern, text that is no time.
* The snapshot fast path refuses reopenings and closures exactly where the
  general path does under a lifecycle whose policies refuse some actors (the
  built-in import lifecycles refuse none, so the fast path skips the check).
* Rows are read as runs of one ticket's consecutive rows: a row without a
  ticket id between two rows of a ticket does not split it, and a ticket whose
  rows come back later is refused for its second run, as the general path does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.errors import InvalidValueError
from itsm_core.imports import (
    DST_RULES,
    IMPORT_POLICIES,
    PROFILES,
    ImportCounts,
    RefusedTicket,
    Timestamps,
    import_snapshot,
    import_stream,
    instant_parser,
    parse_instant,
    servicenow_incident,
)
from itsm_core.imports._core import _import_snapshot_reference, _import_stream_reference
from itsm_core.lifecycle import History, Lifecycle
from itsm_core.testing._memo import sampled
from itsm_core.ticket import StateChanged
from tests.test_imports_fast_path import PROFILE_CHOICES, snapshot_rows

ZONES = (
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour changes
    "America/Sao_Paulo",  # changes at midnight (2016)
    "Pacific/Apia",  # 2011-12-30 skipped whole
    "Asia/Kathmandu",
)
YEARS = (2011, 2016, 2024)


def _changes(name: str) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """(UTC instant, offset before, offset after) of every change of ``name`` in :data:`YEARS`.

    Found noon to noon, then to the second by bisection.
    """
    tz = ZoneInfo(name)
    found: list[tuple[datetime, timedelta, timedelta]] = []
    for year in YEARS:
        low = datetime(year - 1, 12, 31, 12, tzinfo=UTC)
        while low.year <= year:
            high = low + timedelta(days=1)
            before, after = low.astimezone(tz).utcoffset(), high.astimezone(tz).utcoffset()
            if before != after and before is not None and after is not None:
                start, end = low, high
                while end - start > timedelta(seconds=1):
                    middle = start + (end - start) / 2
                    if middle.astimezone(tz).utcoffset() == before:
                        start = middle
                    else:
                        end = middle
                found.append((end.replace(microsecond=0), before, after))
            low = high
    return tuple(found)


CHANGES = {name: _changes(name) for name in ZONES}
#: Formats a profile may list: compiled ones (day, month, year, hour, minute, second,
#: fraction), ISO 8601, and one ``strptime`` format without a compiled pattern (``%b``).
FORMATS = (
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d-%m-%Y %H:%M",
    "%H:%M %d/%m/%Y",
    "iso",
    "%d %b %Y %H:%M",
)
ODD_TEXTS = (
    "",
    "   ",
    "yesterday",
    "31/2/2016 10:00",
    "29/2/2015 10:00",
    "29/2/2016 24:00",
    " 1/3/2016 09:00 ",
    "1/3/2016  09:00",
    "2016-03-27T02:30:00+05:00",
    "2016-03-27 02:30:00",
    "0000-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "12:30 27/3/2016",
    "27 Mar 2016 02:30",
)


@st.composite
def wall_times(draw: st.DrawFn, zone_name: str, formats: tuple[str, ...]) -> str:
    """A wall time of the zone, mostly within 90 minutes of an offset change of it.

    Written mostly in one of the profile's ``formats`` (else in any of :data:`FORMATS`).
    """
    changes = CHANGES[zone_name]
    near: int = draw(st.integers(0, 4))  # four draws in five: near a change
    if changes and near:
        change: tuple[datetime, timedelta, timedelta] = draw(sampled(changes))
        at, before, after = change
        offset: timedelta = draw(sampled((before, after)))
        moment = (at + offset).replace(tzinfo=None) + timedelta(
            minutes=draw(st.integers(-90, 90)),
            seconds=draw(st.one_of(st.just(0), st.integers(-59, 59))),
        )
    else:
        moment = draw(st.datetimes(datetime(2011, 1, 1), datetime(2024, 12, 31)))
    if draw(st.integers(0, 3)):
        moment = moment.replace(microsecond=draw(st.one_of(st.just(0), st.integers(0, 999_999))))
    fmt: str = draw(sampled(formats if draw(st.integers(0, 4)) else FORMATS))
    return moment.isoformat() if fmt == "iso" else moment.strftime(fmt)


@st.composite
def profile_texts(draw: st.DrawFn) -> tuple[Timestamps, str]:
    zone_name = draw(sampled(ZONES))
    formats = tuple(draw(st.lists(sampled(FORMATS), min_size=1, max_size=3, unique=True)))
    stamps = Timestamps(
        formats=formats,
        timezone=zone_name if draw(st.integers(0, 5)) else None,
        dst=draw(sampled(tuple(DST_RULES))),
    )
    text = draw(st.one_of(wall_times(zone_name, formats), sampled(ODD_TEXTS)))
    return stamps, text


def _outcome(read: Any, text: str, field: str) -> tuple[Any, ...]:
    try:
        at = read(text, field)
    except InvalidValueError as exc:
        return ("refused", exc.field, str(exc))
    return ("read", at, at.isoformat(), repr(at.tzinfo), at.fold)


@settings(max_examples=max(50, settings().max_examples // 3))
@given(profile_texts(), sampled(("at", "opened_at")))
def test_a_compiled_profile_reads_every_timestamp_as_parse_instant_does(
    case: tuple[Timestamps, str], field: str
) -> None:
    stamps, text = case
    parse = instant_parser(stamps)
    expected = _outcome(lambda t, f: parse_instant(t, stamps, f), text, field)
    assert _outcome(parse, text, field) == expected
    assert _outcome(parse, text, field) == expected  # its remembered zone offsets too


def test_ambiguous_and_skipped_wall_times_follow_the_profiles_dst_rule() -> None:
    paris = Timestamps(formats=("%d/%m/%Y %H:%M",), timezone="Europe/Paris")
    read = {rule: instant_parser(attrs.evolve(paris, dst=rule)) for rule in DST_RULES}
    skipped, ambiguous = "27/3/2016 02:30", "30/10/2016 02:30"
    assert read["compatible"](skipped, "at").isoformat() == "2016-03-27T03:30:00+02:00"
    assert read["earlier"](skipped, "at").isoformat() == "2016-03-27T01:30:00+01:00"
    assert read["later"](ambiguous, "at").isoformat() == "2016-10-30T02:30:00+01:00"
    assert read["compatible"](ambiguous, "at").isoformat() == "2016-10-30T02:30:00+02:00"
    assert _outcome(read["raise"], ambiguous, "opened_at")[:2] == ("refused", "opened_at")


def test_a_date_that_does_not_exist_is_refused_or_read_by_the_next_format_as_before() -> None:
    stamps = Timestamps(formats=("%d/%m/%Y %H:%M", "iso"), timezone="Europe/Paris")
    parse = instant_parser(stamps)
    for text in ("31/2/2016 10:00", "29/2/2015 10:00", "2016-03-01T10:00"):
        expected = _outcome(lambda t, f: parse_instant(t, stamps, f), text, "opened_at")
        assert _outcome(parse, text, "opened_at") == expected
    assert _outcome(parse, "31/2/2016 10:00", "opened_at")[:2] == ("refused", "opened_at")


def test_a_profile_with_an_unknown_zone_refuses_each_naive_timestamp_naming_the_zone() -> None:
    stamps = Timestamps(formats=("%d/%m/%Y %H:%M",), timezone="Nowhere/Land")
    parse = instant_parser(stamps)  # built: the zone is only refused when a time needs it
    outcome = _outcome(parse, "1/3/2016 09:00", "at")
    assert outcome == _outcome(lambda t, f: parse_instant(t, stamps, f), "1/3/2016 09:00", "at")
    assert outcome[1] == "profile.timestamps.timezone"


#: The ServiceNow lifecycle with policies that refuse actors: only the requester or the
#: assignee reopens, only the requester confirms closure.
STRICT = Lifecycle(
    attrs.evolve(
        servicenow_incident(),
        policies=attrs.evolve(
            IMPORT_POLICIES,
            reopen_by=("requester", "assignee"),
            closure_confirmed_by_requester=True,
        ),
    ),
    matrix=PROFILES["servicenow_snapshot"].matrix,
)


#: Moves of a ServiceNow incident the lifecycle allows (Resolved -> Active reopens it).
_WALK = {
    "New": ("Active", "Resolved", "Awaiting User Info"),
    "Active": ("Resolved", "Awaiting User Info"),
    "Awaiting User Info": ("Active", "Resolved"),
    "Resolved": ("Active", "Closed", "Closed"),
    "Closed": (),
}
_PEOPLE = ("ann", "dan", "carl")


@st.composite
def walked_exports(draw: st.DrawFn) -> list[dict[str, str]]:
    """Tickets walked through allowed states by random people: reopenings and closures."""
    rows: list[dict[str, str]] = []
    for ticket in range(draw(st.integers(1, 3))):
        state = "New"
        for count in range(draw(st.integers(1, 7))):
            row = _row(f"INC{ticket}", count, state, f"{1 + count}/3/2016 09:00")
            row["sys_updated_by"] = draw(sampled(_PEOPLE))
            row["caller_id"] = draw(sampled(_PEOPLE))
            row["assigned_to"] = draw(sampled((*_PEOPLE, "?")))
            rows.append(row)
            if not _WALK[state]:
                break
            state = draw(sampled(_WALK[state]))
    return rows


@settings(max_examples=max(50, settings().max_examples // 7))
@given(st.one_of(walked_exports(), snapshot_rows()), sampled(PROFILE_CHOICES))
def test_reopenings_and_closures_are_refused_where_the_general_path_refuses_them(
    rows: list[dict[str, Any]], profile: Any
) -> None:
    fast = import_snapshot(rows, profile, lifecycle=STRICT)
    assert fast == _import_snapshot_reference(rows, profile, lifecycle=STRICT)
    streamed = list(import_stream(rows, profile, lifecycle=STRICT))
    assert streamed == list(_import_stream_reference(rows, profile, lifecycle=STRICT))


def _row(number: str, count: int, state: str, at: str) -> dict[str, str]:
    return {
        "number": number,
        "incident_state": state,
        "sys_updated_at": at,
        "sys_updated_by": "dan",
        "sys_mod_count": str(count),
        "opened_at": "1/3/2016 08:55",
        "opened_by": "ann",
        "caller_id": "carl",
        "assignment_group": "Desk",
        "assigned_to": "dan",
        "impact": "2 - Medium",
        "urgency": "2 - Medium",
        "priority": "3 - Moderate",
        "category": "Network",
        "cmdb_ci": "?",
        "closed_code": "?",
        "u_symptom": "No mail",
        "hold": "Caller",
    }


def test_a_row_without_a_ticket_id_does_not_split_the_rows_of_a_ticket() -> None:
    profile = PROFILES["servicenow_snapshot"]
    rows = [
        _row("INC1", 0, "New", "1/3/2016 09:00"),
        _row("?", 0, "New", "1/3/2016 09:10"),
        _row("INC1", 1, "Active", "1/3/2016 09:30"),
        _row("INC2", 0, "New", "1/3/2016 09:40"),
        _row("INC1", 2, "Resolved", "1/3/2016 10:00"),
    ]
    streamed = list(import_stream(rows, profile))
    assert streamed == list(_import_stream_reference(rows, profile))
    first, second, again, counts = streamed
    assert isinstance(first, History)
    assert isinstance(second, History)
    assert isinstance(again, RefusedTicket)
    assert isinstance(counts, ImportCounts)
    assert [e.to_state for e in first if isinstance(e, StateChanged)] == ["in_progress"]
    assert second.ticket.id == "INC2"
    assert again.reason.startswith("the rows of ticket 'INC1' are not together")
    assert "seen at row 1" in again.reason
    assert (counts.rows, counts.skipped_rows) == (5, 1)
    header = list(rows[0])
    as_cells = [[row[name] for name in header] for row in rows]
    assert list(import_stream(as_cells, profile, columns=header)) == streamed
