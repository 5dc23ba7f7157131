"""Regressions of wrong answers and unhelpful errors found by probing the library as a hostile user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import default_lifecycles
from itsm_core.ticket import AddComment, OpenTicket, Ticket

DESK = default_lifecycles()
PARIS = ZoneInfo("Europe/Paris")


def opened(at: datetime) -> Ticket:
    ticket, _ = DESK.apply(
        None,
        OpenTicket(ticket_id="I-1", type="incident", title="VPN", requester="ann"),
        actor="ann",
        at=at,
    )
    return ticket


# ---------------------------------------------------------------------------- 7: DST


def test_the_not_before_the_last_change_check_compares_instants_in_the_fall_back_hour() -> None:
    # 2026-10-25 in Paris: 02:00-03:00 happens twice (CEST, then CET).
    last = datetime(2026, 10, 25, 2, 50, fold=1, tzinfo=PARIS)  # 01:50 UTC
    ticket = opened(last)
    earlier = datetime(2026, 10, 25, 2, 55, fold=0, tzinfo=PARIS)  # 00:55 UTC: 55 min before
    assert earlier.astimezone(UTC) < last.astimezone(UTC)
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(ticket, AddComment(body="x", public=True), actor="ann", at=earlier)
    assert caught.value.field == "at"
    first = opened(datetime(2026, 10, 25, 2, 50, fold=0, tzinfo=PARIS))  # 00:50 UTC
    later = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)  # 01:30 UTC: 40 min after
    commented, _ = DESK.apply(first, AddComment(body="x", public=True), actor="ann", at=later)
    assert commented.updated_at == later
    assert later.astimezone(UTC) - first.updated_at.astimezone(UTC) == timedelta(minutes=40)


# ---------------------------------------------------------------------------- 12: blank text


AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_blank_text_does_not_satisfy_a_required_field_nor_a_required_reason() -> None:
    from itsm_core.ticket import RequestApproval, Transition, UpdateField

    change, _ = DESK.apply(
        None,
        OpenTicket(ticket_id="C-1", type="normal_change", title="upgrade", requester="ann"),
        actor="ann",
        at=AT,
    )
    change, _ = DESK.apply(change, Transition(trigger="assess"), actor="ann", at=AT)
    change, _ = DESK.apply(
        change, UpdateField(field="backout_plan", value=" \t\n"), actor="ann", at=AT
    )
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(change, RequestApproval(approvers=("cab",)), actor="ann", at=AT)
    assert caught.value.field == "ticket.backout_plan"
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(change, Transition(trigger="cancel", reason="   "), actor="ann", at=AT)
    assert caught.value.field == "command.reason"


# ---------------------------------------------------------------------------- 13: frozen records


def test_records_built_by_hand_turn_their_lists_into_tuples_and_hash() -> None:
    from itsm_core.ticket import ApprovalRequested, RequestApproval, TicketOpened

    approvers = ["cab", "boss"]
    fields: list[Any] = [["root_cause", "disk"]]
    ticket = Ticket(
        id="I-1",
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="ann",
        opened_at=AT,
        updated_at=AT,
        approvers=approvers,  # type: ignore[arg-type]
        custom_fields=fields,  # type: ignore[arg-type]
        watchers=["bob"],  # type: ignore[arg-type]
    )
    event = ApprovalRequested(ticket_id="I-1", actor="ann", at=AT, approvers=approvers)  # type: ignore[arg-type]
    opening = TicketOpened(
        ticket_id="I-1",
        actor="ann",
        at=AT,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="ann",
        custom_fields=fields,  # type: ignore[arg-type]
    )
    command = RequestApproval(approvers=approvers)  # type: ignore[arg-type]
    approvers.append("mallory")
    fields[0][1] = "edited"
    assert ticket.approvers == event.approvers == command.approvers == ("cab", "boss")
    assert ticket.custom_fields == opening.custom_fields == (("root_cause", "disk"),)
    assert ticket.watchers == ("bob",)
    assert len({hash(ticket), hash(event), hash(opening), hash(command)}) == 4
