"""Compliance is counted per period and merges exactly; service credits follow the contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidValueError
from itsm_core.metrics import Compliance, ComplianceKey, CreditRule, service_credit
from itsm_core.sla import Metric, SlaPolicy, SlaStatus, evaluate
from itsm_core.testing import business_calendars, instants
from itsm_core.testing._memo import sampled
from itsm_core.testing._sla_strategies import event_histories, sla_policies
from itsm_core.ticket import Assigned, Event, StateChanged, TicketOpened

MSK = "Europe/Moscow"
POLICY = SlaPolicy(
    name="kiosks 8x5",
    calendar=BusinessCalendar.eight_by_five(MSK),
    metrics=(Metric.resolution({"P3": timedelta(hours=8)}),),
)


def ticket(n: int, opened: datetime, resolved_after: timedelta | None, group: str) -> list[Event]:
    tid = f"INC-{n}"
    events: list[Event] = [
        TicketOpened(
            ticket_id=tid,
            actor="kiosk",
            at=opened,
            type="incident",
            state="new",
            state_category="new",
            title="kiosk down",
            requester="kiosk",
            effective_priority="P3",
        ),
        Assigned(
            ticket_id=tid,
            actor="dispatcher",
            at=opened,
            assignee="ann",
            group=group,
            support_line=1,
        ),
    ]
    if resolved_after is not None:
        events.append(
            StateChanged(
                ticket_id=tid,
                actor="ann",
                at=opened + resolved_after,
                trigger="resolve",
                from_state="new",
                to_state="resolved",
                from_category="new",
                to_category="resolved",
            )
        )
    return events


def march_month(n_met: int, n_breached: int) -> list[SlaStatus]:
    start = pendulum.datetime(2026, 3, 2, 9, tz=MSK)
    end = pendulum.datetime(2026, 4, 1, tz=MSK)
    statuses = []
    for i in range(n_met):
        statuses.append(evaluate(ticket(i, start, timedelta(hours=2), "line-1"), POLICY, end))
    for i in range(n_breached):
        statuses.append(evaluate(ticket(1000 + i, start, timedelta(days=3), "line-2"), POLICY, end))
    return statuses


def test_compliance_counts_met_and_breached_cycles_per_bucket() -> None:
    compliance = Compliance.of(march_month(19, 1))
    assert compliance.totals() == (19, 1)
    assert compliance.percent() == 95.0
    assert compliance.percent(group="line-1") == 100.0
    assert compliance.percent(group="line-2") == 0.0
    assert compliance.periods() == ("2026-03",)
    assert compliance.rows()[0] == (
        "2026-03",
        "kiosks 8x5",
        "resolution",
        "P3",
        "line-1",
        19,
        0,
        "100.0%",
    )


def test_a_running_cycle_counts_only_once_it_has_breached() -> None:
    start = pendulum.datetime(2026, 3, 2, 9, tz=MSK)
    running = evaluate(ticket(1, start, None, "line-1"), POLICY, start.add(hours=1))
    late = evaluate(ticket(2, start, None, "line-1"), POLICY, start.add(days=2))
    assert Compliance.of([running]).totals() == (0, 0)
    assert Compliance.of([late]).totals() == (0, 1)


@pytest.mark.parametrize(
    ("period", "expected"),
    [("month", "2026-03"), ("week", "2026-W10"), ("day", "2026-03-02"), ("year", "2026")],
)
def test_periods_are_named_by_the_local_date_of_the_outcome(period: str, expected: str) -> None:
    compliance = Compliance.of(march_month(1, 0), period=period)
    assert compliance.periods() == (expected,)


def test_the_period_follows_the_requested_timezone() -> None:
    # Resolved at 00:30 on April 1st in Moscow is still March 31st in UTC.
    opened = pendulum.datetime(2026, 3, 31, 16, tz=MSK)
    policy = SlaPolicy(
        name="24x7",
        calendar=BusinessCalendar.always_open(MSK),
        metrics=(Metric.resolution({"P3": timedelta(hours=9)}),),
    )
    status = evaluate(
        ticket(1, opened, timedelta(hours=8, minutes=30), "g"), policy, opened.add(days=1)
    )
    assert Compliance.of([status]).periods() == ("2026-04",)
    assert Compliance.of([status], timezone="UTC").periods() == ("2026-03",)


def test_bad_periods_and_keys_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="period: expected one of month"):
        Compliance.of([], period="fortnight")
    with pytest.raises(InvalidValueError, match="colour: expected a key field"):
        Compliance().totals(colour="red")


def test_below_the_kpi_threshold_the_monthly_invoice_is_reduced() -> None:
    rules = [
        CreditRule(metric="resolution", below_percent=95, credit_percent=10),
        CreditRule(metric="resolution", below_percent=90, credit_percent=25),
    ]
    ok = service_credit(
        Compliance.of(march_month(19, 1)), period="2026-03", fee="1000.00", rules=rules
    )
    assert ok.amount == Decimal("0.00")
    assert ok.applied == ()
    short = service_credit(
        Compliance.of(march_month(18, 2)), period="2026-03", fee="1000.00", rules=rules
    )
    assert short.credit_percent == Decimal(10)
    assert short.amount == Decimal("100.00")
    assert short.applied == ((rules[0], 90.0),)
    bad = service_credit(Compliance.of(march_month(8, 2)), period="2026-03", fee=1000, rules=rules)
    assert bad.amount == Decimal(250)


def test_credits_of_several_metrics_add_up_to_the_cap() -> None:
    rules = [
        CreditRule(metric="resolution", below_percent=95, credit_percent=60),
        CreditRule(metric="resolution", below_percent=95, credit_percent=70, policy="other"),
        CreditRule(metric="first_response", below_percent=95, credit_percent=60),
    ]
    counts = Compliance(
        {
            ComplianceKey(period="2026-03", policy="p", metric="resolution"): (1, 1),
            ComplianceKey(period="2026-03", policy="p", metric="first_response"): (0, 1),
        }
    )
    credit = service_credit(counts, period="2026-03", fee=Decimal("500"), rules=rules)
    assert credit.credit_percent == Decimal(100)
    assert credit.amount == Decimal(500)


def test_a_credit_rule_must_be_a_percentage() -> None:
    with pytest.raises(
        InvalidValueError, match=r"credit_rule.credit_percent: expected a percentage"
    ):
        CreditRule(metric="resolution", below_percent=95, credit_percent=150)


def test_compliance_adds_only_to_compliance() -> None:
    with pytest.raises(TypeError):
        Compliance() + 1  # type: ignore[operator]


FIRST, LAST = date(2011, 9, 1), date(2012, 5, 31)


@st.composite
def statuses(draw: st.DrawFn) -> list[SlaStatus]:
    policy = draw(sla_policies(calendars=business_calendars(first=FIRST, last=LAST)))
    found = []
    for _ in range(draw(st.integers(0, 6))):
        history = draw(event_histories(start_us=instants(first=FIRST, last=LAST), max_events=6))
        now = to_us(history[-1].at) + draw(st.integers(0, 10 * 86_400_000_000))
        found.append(
            evaluate(
                history, policy, datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=now)
            )
        )
    return found


# Each example evaluates up to six random histories (about 70 ms): an eighth of the
# profile's examples keeps the file under 20 s in CI.
@settings(max_examples=max(50, settings().max_examples // 8))
@given(statuses(), st.data())
def test_merging_compliance_of_any_split_equals_the_whole(
    items: list[SlaStatus], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(items)))
    period = data.draw(sampled(("month", "week", "day", "year")))
    left = Compliance.of(items[:cut], period=period)
    right = Compliance.of(items[cut:], period=period)
    whole = Compliance.of(items, period=period)
    assert left + right == whole
    assert right + left == whole
    assert sum(m + b for _, (m, b) in whole.counts) == sum(
        1
        for s in items
        for c in s.clocks
        for cycle in c.cycles
        if cycle.stage.value in ("met", "breached")
    )
