"""Satisfaction, first-contact resolution, statistics, KPIs and credits: exact and mergeable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle import History, Lifecycle, incident
from itsm_core.metrics import (
    PERIODS,
    Arrivals,
    Backlog,
    Compliance,
    ComplianceKey,
    CreditRule,
    FcrDefinition,
    FirstContact,
    Kpi,
    RatingScale,
    Satisfaction,
    SatisfactionTally,
    Stats,
    Tally,
    kpi_report,
    period_of,
    service_credit,
)
from itsm_core.metrics._compliance import period_namer
from itsm_core.permissions import Grant, PolicyAuthorizer, default_policy
from itsm_core.serialization import decode_event, encode_event, make_converter
from itsm_core.testing._memo import sampled
from itsm_core.ticket import (
    AnswerSurvey,
    Assigned,
    CallbackRecorded,
    CommentAdded,
    Event,
    OpenTicket,
    Reassigned,
    RecordCallback,
    RequestSurvey,
    StateChanged,
    SurveyAnswered,
    SurveyRequested,
    TicketOpened,
    Transition,
    fold_events,
)

UTC_CAL = BusinessCalendar.always_open("UTC")
OFFICE = BusinessCalendar.eight_by_five("UTC")
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
MINUTE = timedelta(minutes=1)


# ---------------------------------------------------------------------------- credits (issue 14)


def counts(**per_policy: tuple[int, int]) -> Compliance:
    return Compliance(
        {
            ComplianceKey(period="2026-03", policy=policy, metric="resolution"): value
            for policy, value in per_policy.items()
        }
    )


def test_credit_rules_for_one_metric_in_two_policies_add_up() -> None:
    rules = [
        CreditRule(metric="resolution", below_percent=95, credit_percent=10, policy="gold"),
        CreditRule(metric="resolution", below_percent=95, credit_percent=10, policy="silver"),
    ]
    credit = service_credit(
        counts(gold=(8, 2), silver=(8, 2)), period="2026-03", fee="1000.00", rules=rules
    )
    assert credit.credit_percent == Decimal(20)
    assert credit.amount == Decimal("200.00")
    assert [rule.policy for rule, _ in credit.applied] == ["gold", "silver"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fee": "NaN"}, "fee"),
        ({"fee": "-1000"}, "fee"),
        ({"fee": "Infinity"}, "fee"),
        ({"fee": "lots"}, "fee"),
        ({"cap_percent": "NaN"}, "cap_percent"),
        ({"cap_percent": -10}, "cap_percent"),
        ({"cap_percent": 150}, "cap_percent"),
        ({"cap_amount": "NaN"}, "cap_amount"),
        ({"cap_amount": -5}, "cap_amount"),
        ({"fee_per_workstation": float("nan")}, "fee_per_workstation"),
        ({"fee_per_workstation": -3}, "fee_per_workstation"),
        ({"workstations": -1}, "workstations"),
        ({"workstations": True}, "workstations"),
        ({"kpi_counts": {"csat": (1, -1)}}, "kpi_counts['csat']"),
        ({"kpi_counts": [("csat", (1, 1))]}, "kpi_counts"),
        ({"rules": ["resolution"]}, "rules[0]"),
    ],
)
def test_nan_or_negative_fees_and_caps_are_refused_naming_the_argument(
    kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "period": "2026-03",
        "fee": "1000.00",
        "rules": [CreditRule(metric="resolution", below_percent=95, credit_percent=10)],
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidValueError) as caught:
        service_credit(counts(p=(1, 1)), **arguments)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"credit_percent": "NaN"}, "credit_rule.credit_percent"),
        ({"credit_percent": -1}, "credit_rule.credit_percent"),
        ({"below_percent": "NaN"}, "credit_rule.below_percent"),
        ({"credit_per_breach": "NaN"}, "credit_rule.credit_per_breach"),
        ({"credit_per_breach": -1}, "credit_rule.credit_per_breach"),
        ({"credit_per_breach": None}, "credit_rule.credit_per_breach"),
        ({"metric": " "}, "credit_rule.metric"),
        ({"policy": ""}, "credit_rule.policy"),
    ],
)
def test_a_credit_rule_refuses_nan_and_negative_amounts(kwargs: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"metric": "resolution", "below_percent": 95}
    arguments.update(kwargs)
    with pytest.raises(InvalidValueError) as caught:
        CreditRule(**arguments)
    assert caught.value.field == field


def test_a_fixed_amount_per_breach_a_fee_per_workstation_and_caps() -> None:
    per_breach = [CreditRule(metric="resolution", below_percent=100, credit_per_breach="25.00")]
    credit = service_credit(
        counts(p=(7, 3)),
        period="2026-03",
        fee="500.00",
        fee_per_workstation="10.00",
        workstations=50,
        rules=per_breach,
    )
    assert credit.fee == Decimal("1000.00")
    assert credit.amount == Decimal("75.00")
    assert credit.credit_percent == Decimal("7.5")
    capped = service_credit(
        counts(p=(7, 3)), period="2026-03", fee="1000.00", rules=per_breach, cap_amount=50
    )
    assert (capped.amount, capped.uncapped) == (Decimal("50.00"), Decimal("75.00"))
    by_share = service_credit(
        counts(p=(7, 3)), period="2026-03", fee="1000.00", rules=per_breach, cap_percent=2
    )
    assert by_share.amount == Decimal("20.00")


def test_a_zero_fee_credits_nothing_and_tiers_keep_the_largest_credit() -> None:
    rules = [
        CreditRule(metric="resolution", below_percent=95, credit_percent=10),
        CreditRule(metric="resolution", below_percent=95, credit_per_breach=400),
    ]
    free = service_credit(counts(p=(1, 1)), period="2026-03", fee=0, rules=rules)
    # The credit never exceeds the fee (cap_percent defaults to 100 % of it).
    assert free.amount == 0
    assert free.uncapped == Decimal(400)
    assert free.credit_percent == 0
    paid = service_credit(counts(p=(1, 1)), period="2026-03", fee=10000, rules=rules)
    assert paid.amount == Decimal(1000)
    assert paid.applied == ((rules[0], 50.0),)


def test_kpis_stand_beside_sla_compliance_and_credit_rules_read_them() -> None:
    kpis = [
        Kpi(name="resolution in time", metric="resolution", target_percent=90),
        Kpi(name="satisfied", metric="csat", target_percent="97.5"),
        Kpi(name="first contact", metric="fcr", target_percent=50),
        Kpi(name="gold", metric="resolution", target_percent=90, policy="gold"),
    ]
    report = kpi_report(
        kpis,
        counts(p=(9, 1)),
        period="2026-03",
        kpi_counts={"csat": (39, 1), "fcr": (0, 0)},
    )
    assert [(r.percent, r.met) for r in report] == [
        (90.0, True),
        (97.5, True),
        (None, None),
        (None, None),
    ]
    rule = CreditRule(metric="csat", below_percent=98, credit_percent=5)
    credit = service_credit(
        Compliance(), period="2026-03", fee=100, rules=[rule], kpi_counts={"csat": (39, 1)}
    )
    assert credit.amount == Decimal(5)
    with pytest.raises(InvalidValueError, match="kpis\\[0\\]"):
        kpi_report(["csat"], Compliance(), period="2026-03")  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("target", "ok"), [(-1, False), (101, False), ("NaN", False), (None, False), (0, True)]
)
def test_a_kpi_target_outside_0_to_100_percent_names_the_field(target: Any, ok: bool) -> None:
    if ok:
        assert Kpi(name="k", metric="csat", target_percent=target).target_percent == 0
        return
    with pytest.raises(InvalidValueError) as caught:
        Kpi(name="k", metric="csat", target_percent=target)
    assert caught.value.field == "kpi.target_percent"


# ---------------------------------------------------------------------------- histories


def opened(tid: str, at: datetime = T0, **fields: Any) -> TicketOpened:
    values: dict[str, Any] = {
        "type": "incident",
        "state": "new",
        "state_category": "new",
        "title": "t",
        "requester": "req",
    }
    values.update(fields)
    return TicketOpened(ticket_id=tid, actor="req", at=at, **values)


def moved(tid: str, at: datetime, frm: str, to: str) -> StateChanged:
    return StateChanged(
        ticket_id=tid,
        actor="agent",
        at=at,
        trigger=f"to_{to}",
        from_state=frm,
        to_state=to,
        from_category=frm,
        to_category=to,
    )


def test_a_rating_outside_the_scale_names_the_event() -> None:
    history = [opened("I-1"), SurveyAnswered(ticket_id="I-1", actor="req", at=T0, rating=7)]
    with pytest.raises(InvalidValueError) as caught:
        Satisfaction.of([history], scale=RatingScale.five_point(), calendar=UTC_CAL)
    assert caught.value.field == "histories[0][1].rating"


def test_a_survey_for_an_unknown_ticket_names_the_event() -> None:
    history = [opened("I-1"), SurveyAnswered(ticket_id="I-2", actor="req", at=T0, rating=5)]
    with pytest.raises(InvalidValueError) as caught:
        Satisfaction.of([history], scale=RatingScale.five_point(), calendar=UTC_CAL)
    assert caught.value.field == "histories[0][1].ticket_id"
    lone = [SurveyAnswered(ticket_id="I-9", actor="req", at=T0, rating=5)]
    with pytest.raises(InvalidValueError) as caught:
        Satisfaction.of([lone], scale=RatingScale.five_point(), calendar=UTC_CAL)
    assert caught.value.field == "histories[0][0]"
    with pytest.raises(InvalidValueError, match="ticket"):
        Lifecycle(incident()).apply(None, AnswerSurvey(rating=5), actor="req", at=T0)


def test_histories_of_non_events_or_empty_ones_are_refused() -> None:
    with pytest.raises(InvalidValueError) as caught:
        Stats.of([[opened("I-1"), "resolved"]], calendar=UTC_CAL)  # type: ignore[list-item]
    assert caught.value.field == "histories[0][1]"
    with pytest.raises(InvalidValueError, match=r"histories\[0\]"):
        Stats.of([[]], calendar=UTC_CAL)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"low": 5, "high": 1, "satisfied_from": 4}, "rating_scale.high"),
        ({"low": 1, "high": 5, "satisfied_from": 0}, "rating_scale.satisfied_from"),
        (
            {"low": 1, "high": 5, "satisfied_from": 4, "detractors_to": 9},
            "rating_scale.detractors_to",
        ),
        ({"low": 0, "high": 1, "satisfied_from": 1, "labels": ("ok",)}, "rating_scale.labels"),
        ({"low": 0, "high": 1, "satisfied_from": 1, "labels": "ok"}, "rating_scale.labels"),
        ({"low": 0, "high": 1, "satisfied_from": True}, "rating_scale.satisfied_from"),
    ],
)
def test_a_rating_scale_is_checked_when_built(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        RatingScale(name="s", **kwargs)
    assert caught.value.field == field
    with pytest.raises(InvalidValueError, match=r"rating_scale\.name"):
        RatingScale(name="", low=1, high=5, satisfied_from=4)


def test_scales_name_their_points_and_the_nps_scale_has_a_net_score() -> None:
    assert RatingScale.good_bad().point("bad") == 0
    with pytest.raises(InvalidValueError, match="label"):
        RatingScale.five_point().point("great")
    histories = [
        [opened(f"N-{i}"), SurveyAnswered(ticket_id=f"N-{i}", actor="req", at=T0, rating=r)]
        for i, r in enumerate([10, 9, 8, 7, 6, 0])
    ]
    nps = Satisfaction.of(histories, scale=RatingScale.nps(), calendar=UTC_CAL)
    assert nps.csat() == pytest.approx(100 * 2 / 6)
    assert nps.net_score() == 0.0
    assert nps.csat(threshold=7) == pytest.approx(100 * 4 / 6)
    with pytest.raises(InvalidValueError, match="threshold"):
        nps.csat(threshold=11)
    five = Satisfaction.of([], scale=RatingScale.five_point(), calendar=UTC_CAL)
    with pytest.raises(InvalidValueError, match=r"scale\.detractors_to"):
        five.net_score()
    assert five.response_rate() is None
    assert SatisfactionTally().net_score(9, 6) is None


def test_survey_commands_are_recorded_after_closure_and_permissions_decide() -> None:
    lc = Lifecycle(incident())
    policy = default_policy(
        [Grant(role="quality_control", principal="qc"), Grant(role="dispatcher", principal="op")]
    )
    authorizer = PolicyAuthorizer(policy)
    ticket, _ = lc.open(
        OpenTicket(ticket_id="I-1", type="incident", title="t", requester="req"),
        actor="req",
        at=T0,
    )
    at = T0 + MINUTE
    ticket, _ = lc.apply(ticket, Transition(trigger="cancel", reason="dup"), actor="req", at=at)
    assert ticket.is_final
    ticket, asked = lc.apply(ticket, RequestSurvey(), actor="op", at=at, authorizer=authorizer)
    ticket, answered = lc.apply(
        ticket, AnswerSurvey(rating=4, comment="ok"), actor="req", at=at, authorizer=authorizer
    )
    ticket, called = lc.apply(
        ticket,
        RecordCallback(reached=True, confirmed=True),
        actor="qc",
        at=at,
        authorizer=authorizer,
    )
    assert [type(e) for e in (*asked, *answered, *called)] == [
        SurveyRequested,
        SurveyAnswered,
        CallbackRecorded,
    ]
    assert ticket.version == 5
    with pytest.raises(PermissionDenied):
        lc.apply(ticket, RecordCallback(reached=False), actor="req", at=at, authorizer=authorizer)
    with pytest.raises(PermissionDenied):
        lc.apply(ticket, AnswerSurvey(rating=5), actor="op", at=at, authorizer=authorizer)
    with pytest.raises(InvalidTransition):
        lc.apply(ticket, Transition(trigger="reopen"), actor="req", at=at)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (AnswerSurvey(rating=True), "command.rating"),
        (AnswerSurvey(rating="5"), "command.rating"),  # type: ignore[arg-type]
        (AnswerSurvey(rating=5, survey=3), "command.survey"),  # type: ignore[arg-type]
        (AnswerSurvey(rating=5, comment=3), "command.comment"),  # type: ignore[arg-type]
        (RequestSurvey(survey=None), "command.survey"),  # type: ignore[arg-type]
        (RecordCallback(reached="yes"), "command.reached"),  # type: ignore[arg-type]
        (RecordCallback(reached=True, confirmed=1), "command.confirmed"),  # type: ignore[arg-type]
    ],
)
def test_bad_survey_commands_name_the_field(command: Any, field: str) -> None:
    lc = Lifecycle(incident())
    ticket, _ = lc.open(
        OpenTicket(ticket_id="I-1", type="incident", title="t", requester="req"),
        actor="req",
        at=T0,
    )
    with pytest.raises(InvalidValueError) as caught:
        lc.apply(ticket, command, actor="req", at=T0)
    assert caught.value.field == field


def test_only_the_last_answer_counts_and_an_unrequested_answer_is_its_own_request() -> None:
    history = [
        opened("I-1"),
        Assigned(ticket_id="I-1", actor="op", at=T0, assignee="ann", group="desk", support_line=1),
        SurveyRequested(ticket_id="I-1", actor="op", at=T0),
        SurveyAnswered(ticket_id="I-1", actor="req", at=T0, rating=1),
        SurveyAnswered(ticket_id="I-1", actor="req", at=T0, rating=5),
        SurveyAnswered(ticket_id="I-1", actor="req", at=T0, rating=2, survey="other"),
        CallbackRecorded(ticket_id="I-1", actor="qc", at=T0, reached=True, confirmed=False),
    ]
    silent = [opened("I-2"), SurveyRequested(ticket_id="I-2", actor="op", at=T0)]
    walkin = [opened("I-3"), SurveyAnswered(ticket_id="I-3", actor="req", at=T0, rating=3)]
    result = Satisfaction.of(
        [history, silent, walkin], scale=RatingScale.five_point(), calendar=UTC_CAL
    )
    everything = result.tally()
    assert (everything.requested, everything.answered, everything.ratings) == (
        3,
        2,
        ((3, 1), (5, 1)),
    )
    assert (everything.callbacks, everything.reached, everything.confirmed) == (1, 1, 0)
    assert result.csat() == 50.0
    assert result.response_rate() == pytest.approx(200 / 3)
    assert result.csat("agent", "ann") == 100.0
    assert result.kpi_counts() == (1, 1)
    assert result.kpi_counts(threshold=3) == (2, 0)
    with pytest.raises(InvalidValueError, match="by"):
        result.tally("colour", "red")
    with pytest.raises(InvalidValueError, match="scale"):
        Satisfaction.of([], scale="five", calendar=UTC_CAL)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- first contact


def fcr_history(tid: str, *, line: int, reassign: bool, reopen: bool, minutes: int) -> list[Event]:
    events: list[Event] = [
        opened(tid),
        Assigned(ticket_id=tid, actor="op", at=T0, assignee="ann", group="desk", support_line=line),
    ]
    if reassign:
        events.append(
            Reassigned(
                ticket_id=tid,
                actor="op",
                at=T0,
                assignee="bob",
                group="desk",
                support_line=line,
                from_assignee="ann",
                from_group="desk",
                from_support_line=line,
            )
        )
    events.append(moved(tid, T0 + minutes * MINUTE, "new", "resolved"))
    if reopen:
        events.append(moved(tid, T0 + (minutes + 1) * MINUTE, "resolved", "active"))
    return events


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (FcrDefinition(), (5, 2)),
        (FcrDefinition(no_reopen=False), (5, 3)),
        (FcrDefinition(no_reassignment=False), (5, 3)),
        (FcrDefinition(first_line=False), (5, 3)),
        (FcrDefinition(first_lines=(1, 2)), (5, 3)),
        (FcrDefinition(within=timedelta(minutes=10)), (5, 1)),
        (FcrDefinition(first_line=False, no_reassignment=False, no_reopen=False), (5, 5)),
    ],
)
def test_first_contact_resolution_follows_its_definition(
    definition: FcrDefinition, expected: tuple[int, int]
) -> None:
    histories: list[list[Event]] = [
        fcr_history("F-1", line=1, reassign=False, reopen=False, minutes=5),
        fcr_history("F-2", line=1, reassign=False, reopen=False, minutes=30),
        fcr_history("F-3", line=1, reassign=True, reopen=False, minutes=5),
        fcr_history("F-4", line=1, reassign=False, reopen=True, minutes=5),
        fcr_history("F-5", line=2, reassign=False, reopen=False, minutes=5),
        [opened("F-6")],
    ]
    result = FirstContact.of(histories, calendar=UTC_CAL, definition=definition)
    assert result.counts() == expected
    assert result.rate() == expected[1] * 100 / expected[0]
    assert result.kpi_counts() == (expected[1], expected[0] - expected[1])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first_lines": ()}, "fcr.first_lines"),
        ({"first_lines": (0,)}, "fcr.first_lines"),
        ({"first_lines": "1"}, "fcr.first_lines"),
        ({"no_reopen": "yes"}, "fcr.no_reopen"),
        ({"within": 30}, "fcr.within"),
    ],
)
def test_a_bad_fcr_definition_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        FcrDefinition(**kwargs)
    assert caught.value.field == field


# ---------------------------------------------------------------------------- statistics


def test_business_times_use_the_calendar_and_quantiles_are_nearest_rank() -> None:
    # Opened Friday 16:00, first reply Monday 09:30, resolved Monday 10:00, on office hours.
    friday = datetime(2026, 3, 6, 16, tzinfo=UTC)
    monday = datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    history = [
        opened("S-1", friday),
        Assigned(ticket_id="S-1", actor="op", at=friday, assignee="ann", group="desk"),
        CommentAdded(
            ticket_id="S-1", actor="ann", at=monday, body="on it", public=True, by_requester=False
        ),
        moved("S-1", monday, "new", "on_hold"),
        moved("S-1", monday + 10 * MINUTE, "on_hold", "active"),
        moved("S-1", monday + 30 * MINUTE, "active", "resolved"),
    ]
    stats = Stats.of([history], calendar=OFFICE)
    ann = stats.tally("agent", "ann")
    assert ann.first_response == (90 * 60_000_000,)
    assert ann.resolution == (120 * 60_000_000,)
    assert ann.total("on_hold") == 10 * MINUTE
    assert ann.count("resolution") == 1
    assert stats.periods() == ("2026-03",)
    assert stats.values("agent") == ("ann",)
    empty = Tally()
    assert (empty.mean("resolution"), empty.median("resolution")) == (None, None)
    assert Tally(resolution=(1, 2, 3, 4)).median("resolution") == timedelta(microseconds=2)
    assert Tally(resolution=tuple(range(1, 11))).p90("resolution") == timedelta(microseconds=9)
    with pytest.raises(InvalidValueError, match="measure"):
        empty.mean("lunch")
    with pytest.raises(InvalidValueError, match="q"):
        empty.quantile("resolution", 0)


def test_bad_periods_dimensions_and_mismatched_merges_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="period"):
        Stats.of([], calendar=UTC_CAL, period="fortnight")
    with pytest.raises(InvalidValueError, match=r"by\[0\]"):
        Stats.of([], calendar=UTC_CAL, by=("colour",))
    with pytest.raises(InvalidValueError, match="by"):
        Stats.of([], calendar=UTC_CAL, by="agent")
    with pytest.raises(InvalidValueError, match="other"):
        Stats.of([], calendar=UTC_CAL) + Stats.of([], calendar=UTC_CAL, period="day")
    with pytest.raises(InvalidValueError, match="by"):
        Stats.of([], calendar=UTC_CAL, by=("agent",)).tally("group", "desk")
    five = RatingScale.five_point()
    with pytest.raises(InvalidValueError, match="other"):
        Satisfaction(scale=five) + Satisfaction(scale=RatingScale.nps())
    with pytest.raises(InvalidValueError, match="other"):
        FirstContact() + FirstContact(definition=FcrDefinition(no_reopen=False))
    with pytest.raises(InvalidValueError, match="by"):
        FirstContact().counts("colour")
    with pytest.raises(InvalidValueError, match="other"):
        Arrivals(timezone="UTC") + Arrivals(timezone="Europe/Moscow")
    with pytest.raises(InvalidValueError, match="other"):
        Backlog(at_us=0) + Backlog(at_us=1)
    with pytest.raises(InvalidValueError, match="axis"):
        Arrivals(timezone="UTC").get("all", "", "season")
    with pytest.raises(InvalidValueError, match=r"edges\[1\]"):
        Backlog(at_us=0, edges=(timedelta(days=2), timedelta(days=1)))
    with pytest.raises(InvalidValueError, match="edges"):
        Backlog(at_us=0, edges=3)
    with pytest.raises(InvalidValueError, match="definition"):
        FirstContact.of([], calendar=UTC_CAL, definition="fcr")  # type: ignore[arg-type]
    for value in (Tally(), SatisfactionTally(), Stats(), Satisfaction(scale=five), FirstContact()):
        with pytest.raises(TypeError):
            value + 1  # type: ignore[operator]
    assert Arrivals(timezone="UTC").__add__(1) is NotImplemented  # type: ignore[operator]
    assert Backlog(at_us=0).__add__(1) is NotImplemented  # type: ignore[operator]


def test_the_backlog_counts_open_tickets_by_age_at_an_instant() -> None:
    histories: list[list[Event]] = [
        [opened("B-1", T0)],
        [opened("B-2", T0 - timedelta(days=2)), moved("B-2", T0, "new", "on_hold")],
        [opened("B-3", T0 - timedelta(days=40)), moved("B-3", T0, "new", "resolved")],
        [opened("B-4", T0 + timedelta(days=1))],
    ]
    backlog = Backlog.of(histories, T0 + timedelta(hours=1), calendar=UTC_CAL)
    assert backlog.count() == 2
    assert backlog.ages() == (("<1d", 1), ("1d-3d", 1), ("3d-7d", 0), ("7d-30d", 0), (">=30d", 0))
    hours = Backlog.of(
        histories, T0, calendar=UTC_CAL, edges=(timedelta(hours=36), 90 * MINUTE * 1000)
    )
    assert hours.bins() == ("<36h", "36h-1500h", ">=1500h")
    assert Backlog(at_us=0, edges=(timedelta(seconds=90),)).bins() == ("<0:01:30", ">=0:01:30")
    assert Backlog(at_us=0, edges=()).bins() == ("all ages",)


def test_arrivals_are_counted_by_local_month_weekday_and_hour() -> None:
    histories = [[opened(f"A-{i}", T0 + i * timedelta(hours=13))] for i in range(4)]
    arrivals = Arrivals.of(histories, calendar=UTC_CAL, timezone="Europe/Moscow")
    assert arrivals.get("all", "", "weekday") == (("Mon", 1), ("Tue", 2), ("Wed", 1))
    assert arrivals.get("all", "", "hour") == (("01", 1), ("03", 1), ("12", 1), ("14", 1))
    assert arrivals.get("type", "incident", "month") == (("2026-03", 4),)


# ---------------------------------------------------------------------------- merge property

AGENTS = (("ann", "desk", 1), ("bob", "desk", 1), ("cid", "network", 2))
START = datetime(2026, 1, 30, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn, n: int) -> list[list[Event]]:
    """Random tickets: assignments, replies, state moves, surveys and call-backs."""
    found = []
    for index in range(n):
        tid = f"T-{index}"
        at = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
        events: list[Event] = [
            opened(
                tid,
                at,
                type=draw(sampled(("incident", "service_request"))),
                service=draw(sampled((None, "mail", "vpn"))),
                category=draw(sampled((None, "hardware"))),
                effective_priority=draw(sampled((None, "P2", "P3"))),
            )
        ]
        category = "new"
        person: tuple[str, str, int] | None = None
        for _ in range(draw(st.integers(0, 8))):
            at = at + timedelta(minutes=draw(st.integers(0, 60 * 30)))
            kind = draw(sampled(("assign", "reply", "move", "move", "survey", "call")))
            if kind == "assign":
                name, group, line = draw(sampled(tuple(AGENTS)))
                if person is None:
                    events.append(
                        Assigned(
                            ticket_id=tid,
                            actor="op",
                            at=at,
                            assignee=name,
                            group=group,
                            support_line=line,
                        )
                    )
                else:
                    events.append(
                        Reassigned(
                            ticket_id=tid,
                            actor="op",
                            at=at,
                            assignee=name,
                            group=group,
                            support_line=line,
                            from_assignee=person[0],
                            from_group=person[1],
                            from_support_line=person[2],
                        )
                    )
                person = (name, group, line)
            elif kind == "reply":
                events.append(
                    CommentAdded(
                        ticket_id=tid,
                        actor=person[0] if person else "op",
                        at=at,
                        body="b",
                        public=True,
                        by_requester=draw(st.booleans()),
                    )
                )
            elif kind == "move":
                to = draw(sampled(("new", "active", "on_hold", "resolved", "closed")))
                events.append(moved(tid, at, category, to))
                category = to
            elif kind == "survey":
                if draw(st.booleans()):
                    events.append(SurveyRequested(ticket_id=tid, actor="op", at=at))
                else:
                    events.append(
                        SurveyAnswered(
                            ticket_id=tid, actor="req", at=at, rating=draw(st.integers(1, 5))
                        )
                    )
            else:
                events.append(
                    CallbackRecorded(
                        ticket_id=tid,
                        actor="qc",
                        at=at,
                        reached=draw(st.booleans()),
                        confirmed=draw(sampled((None, True, False))),
                    )
                )
            if category == "closed":
                break
        found.append(events)
    return found


def _resolves(event: Event) -> bool:
    return (
        isinstance(event, StateChanged)
        and event.to_category == "resolved"
        and event.from_category != "resolved"
    )


BUILDERS: dict[str, Callable[[list[list[Event]]], Any]] = {
    "stats": lambda h: Stats.of(h, calendar=OFFICE),
    "stats by week, agent and group": lambda h: Stats.of(
        h, calendar=OFFICE, period="week", by=("agent", "group")
    ),
    "satisfaction": lambda h: Satisfaction.of(h, scale=RatingScale.five_point(), calendar=OFFICE),
    "first contact": lambda h: FirstContact.of(
        h, calendar=OFFICE, definition=FcrDefinition(within=timedelta(hours=4))
    ),
    "arrivals": lambda h: Arrivals.of(h, calendar=OFFICE),
    "backlog": lambda h: Backlog.of(h, datetime(2026, 3, 1, tzinfo=UTC), calendar=OFFICE),
}


# Each example builds six accumulators over up to eight tickets, several times.
@settings(max_examples=max(50, settings().max_examples // 10))
@given(st.integers(0, 8).flatmap(histories), st.data())
def test_merging_any_split_in_any_order_equals_computing_over_everything(
    items: list[list[Event]], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(items)), max_size=3)))
    bounds = [0, *cuts, len(items)]
    parts = [items[a:b] for a, b in pairwise(bounds)]
    order = data.draw(st.permutations(range(len(parts))))
    for name, build in BUILDERS.items():
        whole = build(items)
        pieces = [build(parts[i]) for i in order]
        merged = pieces[0]
        for piece in pieces[1:]:
            merged = merged + piece
        assert merged == whole, name
    stats = BUILDERS["stats"](items)
    everything = stats.tally()
    assert everything.arrived == len(items)
    # Independent counts straight from the events.
    resolved = [h for h in items if any(_resolves(e) for e in h)]
    assert everything.resolved == len(resolved) == everything.count("resolution")
    reopenings = sum(isinstance(e, StateChanged) and e.is_reopening for h in items for e in h)
    assert everything.reopened == reopenings
    assert sum(stats.tally("agent", a).resolved for a in stats.values("agent")) == len(resolved)
    assert FirstContact.of(items, calendar=OFFICE).counts()[0] == len(resolved)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    still_open = sum(
        fold_events([e for e in h if e.at <= at]).state_category in ("new", "active", "on_hold")
        for h in items
        if h[0].at <= at
    )
    assert Backlog.of(items, at, calendar=OFFICE).count() == still_open
    answered = Satisfaction.of(items, scale=RatingScale.five_point(), calendar=OFFICE).tally()
    assert answered.answered <= answered.requested
    # Every timed value of one bucket is also in the "all" bucket of its period.
    total = Tally()
    for key, tally in stats.entries:
        if key.by == "all":
            total = total + tally
    assert total == stats.tally()


@settings(max_examples=max(50, settings().max_examples // 8))
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3)), max_size=6), st.data())
def test_tallies_merge_like_multisets(pairs: list[tuple[int, int]], data: st.DataObject) -> None:
    values = [v for v, _ in pairs]
    cut = data.draw(st.integers(0, len(values)))
    left, right = Tally(resolution=values[:cut]), Tally(resolution=values[cut:])
    assert left + right == right + left == Tally(resolution=values)
    ratings = [(v, n) for v, n in pairs]
    whole = SatisfactionTally(answered=len(pairs), ratings=ratings)
    halves = SatisfactionTally(answered=cut, ratings=ratings[:cut]) + SatisfactionTally(
        answered=len(pairs) - cut, ratings=ratings[cut:]
    )
    assert halves == whole
    assert sum(n for _, n in whole.ratings) == sum(n for _, n in pairs)


def test_kpi_counts_need_the_all_dimension() -> None:
    with pytest.raises(InvalidValueError, match="by"):
        FirstContact.of([], calendar=UTC_CAL, by=("agent",)).kpi_counts()
    with pytest.raises(InvalidValueError, match="by"):
        Satisfaction.of(
            [], scale=RatingScale.five_point(), calendar=UTC_CAL, by=("agent",)
        ).kpi_counts()


def test_a_validated_history_is_accepted_like_a_list_of_events() -> None:
    events = fcr_history("H-1", line=1, reassign=True, reopen=True, minutes=5)
    assert Stats.of([History(events)], calendar=UTC_CAL) == Stats.of([events], calendar=UTC_CAL)
    assert FirstContact.of([History(events)], calendar=UTC_CAL).counts() == (1, 0)


def test_survey_events_and_commands_round_trip_through_serialization() -> None:
    events: list[Event] = [
        SurveyRequested(ticket_id="I-1", actor="qc", at=T0, survey="nps"),
        SurveyAnswered(ticket_id="I-1", actor="req", at=T0, rating=9, survey="nps", comment="ok"),
        CallbackRecorded(ticket_id="I-1", actor="qc", at=T0, reached=True, confirmed=None),
    ]
    for event in events:
        assert decode_event(encode_event(event)) == event
    conv = make_converter()
    for command in (RequestSurvey(), AnswerSurvey(rating=3), RecordCallback(reached=False)):
        assert conv.structure(conv.unstructure(command), type(command)) == command


@pytest.mark.skipif(
    "channel" not in attrs.fields_dict(TicketOpened), reason="tickets without an intake channel"
)
def test_statistics_group_by_the_intake_channel() -> None:
    histories: list[list[Event]] = [
        [opened("C-1", channel="phone")],
        [opened("C-2", channel="phone")],
        [opened("C-3", channel="email")],
        [opened("C-4")],
    ]
    stats = Stats.of(histories, calendar=UTC_CAL, by=("channel",))
    assert [(c, stats.tally("channel", c).arrived) for c in stats.values("channel")] == [
        ("", 1),
        ("email", 1),
        ("phone", 2),
    ]


def reference_quantile(values: list[int], q: float) -> int:
    """The smallest value with at least ``q`` of the values at or below it (slow, by counting)."""
    share = Fraction(str(q))
    for candidate in sorted(set(values)):
        if Fraction(sum(v <= candidate for v in values), len(values)) >= share:
            return candidate
    raise AssertionError("unreachable")


@settings(max_examples=max(50, settings().max_examples // 8))
@given(
    st.lists(st.integers(0, 10**9), min_size=1, max_size=30),
    st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0]),
)
def test_nearest_rank_quantiles_and_means_agree_with_slow_references(
    values: list[int], q: float
) -> None:
    tally = Tally(on_hold=values)
    assert tally.quantile("on_hold", q) == timedelta(microseconds=reference_quantile(values, q))
    mean = tally.mean("on_hold")
    assert mean is not None
    assert abs(mean / timedelta(microseconds=1) - sum(values) / len(values)) <= 0.5


@pytest.mark.parametrize(
    "build",
    [
        lambda h, c, tz: Stats.of(h, calendar=c, timezone=tz),
        lambda h, c, tz: Satisfaction.of(
            h, scale=RatingScale.five_point(), calendar=c, timezone=tz
        ),
        lambda h, c, tz: FirstContact.of(h, calendar=c, timezone=tz),
        lambda h, c, tz: Arrivals.of(h, calendar=c, timezone=tz),
        lambda h, c, tz: Backlog.of(h, T0, calendar=c),
    ],
)
def test_every_accumulator_checks_its_histories_calendar_and_timezone(
    build: Callable[[Any, Any, Any], object],
) -> None:
    good = [[opened("I-1")]]
    for histories, calendar, timezone, field in [
        (good, "8x5", None, "calendar"),
        ("INC-1", OFFICE, None, "histories"),
        ({"INC-1": []}, OFFICE, None, "histories"),
        (42, OFFICE, None, "histories"),
        (["INC-1"], OFFICE, None, "histories[0]"),
        ([None], OFFICE, None, "histories[0]"),
    ]:
        with pytest.raises(InvalidValueError) as caught:
            build(histories, calendar, timezone)
        assert caught.value.field == field
    assert build(good, OFFICE, None) is not None


@pytest.mark.parametrize(
    "build",
    [
        lambda h: Stats.of(h, calendar=OFFICE, timezone="Mars/Olympus"),
        lambda h: FirstContact.of(h, calendar=OFFICE, timezone="Mars/Olympus"),
        lambda h: Arrivals.of(h, calendar=OFFICE, timezone="Mars/Olympus"),
        lambda h: Satisfaction.of(
            h, scale=RatingScale.five_point(), calendar=OFFICE, timezone="Mars/Olympus"
        ),
    ],
)
def test_an_unknown_timezone_for_periods_names_the_argument(
    build: Callable[[Any], object],
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        build([[opened("I-1")]])
    assert caught.value.field == "timezone"


ZONES = ("UTC", "Europe/Moscow", "America/Sao_Paulo", "Asia/Kathmandu", "Australia/Lord_Howe")


@settings(max_examples=max(50, settings().max_examples // 8))
@given(
    st.sampled_from(ZONES),
    st.sampled_from(PERIODS),
    st.lists(st.integers(-(2**40), 2**51), min_size=1, max_size=20),
)
def test_the_period_fast_path_names_every_instant_like_the_slow_one(
    timezone: str, period: str, instants: list[int]
) -> None:
    name = period_namer(timezone, period)
    # Neighbours of an instant share its hour: the remembered answer is used for them.
    for us in [u + d for u in instants for d in (0, 1, 3_599_999_999)]:
        assert name(us) == period_of(us, timezone, period)


def test_the_period_fast_path_is_exact_across_a_fall_back_at_midnight() -> None:
    # Sao Paulo ended DST at midnight: 2018-02-18 00:00 -02 became 2018-02-17 23:00 -03.
    change = int(datetime(2018, 2, 18, 2, tzinfo=UTC).timestamp()) * 1_000_000
    name = period_namer("America/Sao_Paulo", "day")
    hour = 3_600_000_000
    for us in range(change - hour, change + 2 * hour, 600_000_000):
        assert name(us) == period_of(us, "America/Sao_Paulo", "day")
    assert name(change - 1) == "2018-02-17"
    assert name(change) == "2018-02-17"


def test_the_period_fast_path_names_an_hour_with_an_offset_change_instant_by_instant() -> None:
    # Lord Howe Island moved from +10:30 to +11:00 at 15:30 UTC on 30 September 2023.
    change = int(datetime(2023, 9, 30, 15, 30, tzinfo=UTC).timestamp()) * 1_000_000
    name = period_namer("Australia/Lord_Howe", "day")
    for us in range(change - 3_600_000_000, change + 3_600_000_000, 300_000_000):
        assert name(us) == period_of(us, "Australia/Lord_Howe", "day") == "2023-10-01"
