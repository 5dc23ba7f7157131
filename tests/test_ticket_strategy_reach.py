"""Ticket histories, whose steps are read from a few drawn bytes, still reach every
lifecycle's final states, long histories and the commands that change a ticket most."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import Phase, find, settings

from itsm_core.lifecycle import default_lifecycles
from itsm_core.testing import TicketHistory, ticket_histories
from itsm_core.ticket import Merged, Reassigned, StateChanged

# Reaching a history is what counts, not the simplest one: no shrinking.
SEARCH = settings(max_examples=5000, database=None, derandomize=True, phases=(Phase.generate,))

SHAPES: dict[str, Callable[[TicketHistory], bool]] = {
    "fifteen events or more": lambda h: len(h.events) >= 15,
    "two reassignments": lambda h: sum(isinstance(e, Reassigned) for e in h.events) >= 2,
    "a hold": lambda h: any(
        isinstance(e, StateChanged) and e.to_category == "on_hold" for e in h.events
    ),
    "a merge": lambda h: any(isinstance(e, Merged) for e in h.events),
    "a reopening": lambda h: h.ticket.reopenings >= 1,
    "three days between two events": lambda h: any(
        (b.at - a.at).total_seconds() >= 2.5 * 86400
        for a, b in zip(h.events, h.events[1:], strict=False)
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_histories_reach_every_shape(shape: str) -> None:
    find(ticket_histories(), SHAPES[shape], settings=SEARCH)


@pytest.mark.parametrize("name", sorted(default_lifecycles()))
def test_every_lifecycle_reaches_a_final_state(name: str) -> None:
    find(
        ticket_histories(),
        lambda h: h.lifecycle.name == name and h.ticket.is_final,
        settings=SEARCH,
    )
