"""The lifecycle's :class:`~itsm_core.lifecycle.Authorizer`, backed by a policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from itsm_core.errors import InvalidValueError, PermissionDenied
from itsm_core.permissions._engine import Destinations, _facts
from itsm_core.permissions._model import Directory
from itsm_core.permissions._policy import Decision, Policy, _directory
from itsm_core.ticket import Assign, OpenTicket, Reassign, Ticket, Transition, Unwatch, Watch

if TYPE_CHECKING:
    from itsm_core.lifecycle import Lifecycle

__all__ = ["PolicyAuthorizer"]


class PolicyAuthorizer:
    """Decides every lifecycle command with a :class:`Policy` before anything changes.

    Pass it as ``authorizer=`` to :meth:`~itsm_core.lifecycle.Lifecycle.apply`,
    ``may`` and ``available_commands``. The actor's facts come from
    ``directory``; with ``lifecycles``, transition permissions with to-states
    are decided against the states the trigger can reach (a hold goes to the
    sub-state its ``hold_reason`` names).

    Some actions have a narrower alternative for acting on oneself: an
    ``Assign`` to oneself is allowed by ``assign`` or ``take``, a ``Reassign``
    to oneself by ``reassign`` or ``steal``, a ``Watch`` (``Unwatch``) of
    oneself by ``watch`` or ``watch.self`` (``unwatch`` or ``unwatch.self``).
    When only listing (``command=None``), either alternative makes the action
    available. An explicit deny of the action itself wins over every allow of
    its alternative, and a command on oneself is refused by a deny of either.
    A ``ticket`` that is neither a :class:`~itsm_core.ticket.Ticket` nor
    ``None`` is an :class:`~itsm_core.errors.InvalidValueError`, never "no ticket".

    >>> from datetime import datetime, timezone
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.permissions import Grant, default_policy
    >>> from itsm_core.ticket import OpenTicket, SetMajor
    >>> desk = default_lifecycles()
    >>> policy = default_policy([Grant(role="dispatcher", principal="dana")])
    >>> guard = policy.authorizer(lifecycles=desk)
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t, _ = desk.apply(None, OpenTicket(ticket_id="I-1", type="incident", title="VPN",
    ...                   requester="ann"), actor="ann", at=at, authorizer=guard)
    >>> desk.apply(t, SetMajor(reason="all sites"), actor="dana", at=at, authorizer=guard)
    Traceback (most recent call last):
    ...
    itsm_core.errors.PermissionDenied: 'dana' may not 'priority.set_major': no grant gives \
'dana' the action 'priority.set_major'
    """

    __slots__ = ("directory", "lifecycles", "policy")

    def __init__(
        self,
        policy: Policy,
        directory: Directory | None = None,
        *,
        lifecycles: Mapping[str, Lifecycle] | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise InvalidValueError("policy", policy, "a Policy")
        if lifecycles is not None and not isinstance(lifecycles, Mapping):
            raise InvalidValueError("lifecycles", lifecycles, "a mapping of type -> Lifecycle")
        self.policy = policy
        self.directory = _directory(directory)
        self.lifecycles = lifecycles

    def __repr__(self) -> str:
        return (
            f"PolicyAuthorizer(grants={len(self.policy.grants)}, principals={len(self.directory)})"
        )

    def decide(self, actor: str, action: str, ticket: Ticket | None, command: object) -> Decision:
        """The decision for one command (``command=None``: only asking about ``action``)."""
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidValueError("actor", actor, "a non-empty principal id")
        if not isinstance(action, str) or not action:
            raise InvalidValueError("action", action, "an action name")
        if ticket is not None and not isinstance(ticket, Ticket):
            # Never "no ticket": a scoped deny would be skipped and the request allowed.
            raise InvalidValueError("ticket", ticket, "a Ticket, or None when opening one")
        who = self.directory.get(actor)
        subject = ticket if ticket is not None else command
        facts = _facts(subject if isinstance(subject, Ticket | OpenTicket) else None)
        actions: tuple[str, ...] = (action,)
        on_oneself = False
        if action == "assign" and (
            command is None or (isinstance(command, Assign) and command.assignee == actor)
        ):
            actions = ("assign", "take")
            on_oneself = command is not None
        elif action == "reassign" and (
            command is None or (isinstance(command, Reassign) and command.assignee == actor)
        ):
            actions = ("reassign", "steal")
            on_oneself = command is not None
        elif action in ("watch", "unwatch") and (
            command is None or (isinstance(command, Watch | Unwatch) and command.watcher == actor)
        ):
            actions = (action, f"{action}.self")
            on_oneself = command is not None
        destinations = self._destinations(action, ticket, command)
        return self.policy._decide(
            who,
            actions,
            facts,
            self.directory,
            None,
            destinations,
            explain=True,
            every_deny=on_oneself,
        )

    def check(self, actor: str, action: str, ticket: Ticket | None, command: object) -> None:
        """Return when allowed; raise :class:`~itsm_core.errors.PermissionDenied` otherwise."""
        decision = self.decide(actor, action, ticket, command)
        if not decision.allowed:
            raise PermissionDenied(principal=actor, action=action, reasons=decision.reasons)

    def _destinations(self, action: str, ticket: Ticket | None, command: object) -> Destinations:
        if self.lifecycles is None or ticket is None or not action.startswith("transition:"):
            return None
        lifecycle = self.lifecycles.get(ticket.type)
        if lifecycle is None:
            return None
        trigger = action[len("transition:") :]
        candidates = lifecycle.transitions_from(ticket.state, trigger)
        hold = command.hold_reason if isinstance(command, Transition) else None
        if hold is not None:
            candidates = tuple(
                c
                for c in candidates
                if all(hold in g.values for g in c.guards if g.kind == "hold_reason")
            )
        return tuple((c.dest, c.dest_category) for c in candidates)
