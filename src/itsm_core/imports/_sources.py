"""JSON shapes of Jira and Zammad, flattened into audit rows (one row per changed field).

The host reads and parses the JSON; these functions only walk the parsed
values. Each ticket starts with an *insert*: one row per tracked field at
creation (``old`` empty, ``new`` the first value: the ``from`` of the field's
first change, else its current value), then one row per change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from itsm_core.errors import InvalidValueError

__all__ = ["jira_changelog_rows", "zammad_history_rows"]

_JIRA_FIELDS = ("status", "assignee", "priority", "summary", "reporter", "resolution")
#: Jira fields naming people: their changelog items carry the user's id in ``from``/``to``
#: (the account id on Cloud, the user name on Data Center), the display name in the strings.
_JIRA_USERS = ("assignee", "reporter")


def _user(value: Any) -> str:
    if isinstance(value, Mapping):
        for key in ("accountId", "name", "key", "displayName"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return ""
    return "" if value is None else str(value)


_ZAMMAD_FIELDS = ("state", "group", "owner", "priority", "title", "customer")


def _name(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        for key in ("name", "login", "displayName", "accountId", "value", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return ""
    return str(value)


def _rows(
    ticket: str,
    created: str,
    creator: str,
    current: Mapping[str, str],
    changes: Sequence[tuple[str, str, str, str, str]],
    columns: tuple[str, str, str, str, str, str, str],
) -> Iterator[dict[str, str]]:
    """Insert rows then change rows, in the profile's column names."""
    id_col, at_col, actor_col, seq_col, field_col, old_col, new_col = columns
    first: dict[str, str] = {}
    for _, _, field, old, _ in changes:
        first.setdefault(field, old)
    for field, value in current.items():
        start = first.get(field, value)
        if start:
            yield {
                id_col: ticket,
                at_col: created,
                actor_col: creator,
                seq_col: "0",
                field_col: field,
                old_col: "",
                new_col: start,
            }
    for index, (at, actor, field, old, new) in enumerate(changes, 1):
        yield {
            id_col: ticket,
            at_col: at,
            actor_col: actor,
            seq_col: str(index),
            field_col: field,
            old_col: old,
            new_col: new,
        }


def jira_changelog_rows(issues: object) -> Iterator[dict[str, str]]:
    """Audit rows from Jira issues fetched with ``expand=changelog`` (for ``jira_changelog``).

    ``issues`` is one issue, a list of issues or a search result
    (``{"issues": [...]}``), as the REST API returns them. Each history's
    ``created`` and ``author`` apply to all its items; items are numbered in
    the order of the histories' ``created`` instants. People (``assignee``,
    ``reporter``, authors) are named by their id: the account id on Jira
    Cloud, the user name on Data Center; other fields by their display
    strings (``fromString``/``toString``: status and priority names).

    >>> issue = {"key": "SD-1", "fields": {"created": "2026-03-02T09:00:00.000+0100",
    ...     "reporter": {"name": "ann"}, "status": {"name": "Done"}, "summary": "VPN"},
    ...     "changelog": {"histories": [{"created": "2026-03-02T10:00:00.000+0100",
    ...         "author": {"name": "dan"}, "items": [{"field": "status",
    ...         "fromString": "To Do", "toString": "Done"}]}]}}
    >>> [(r["field"], r["from"], r["to"]) for r in jira_changelog_rows(issue)]
    [('status', '', 'To Do'), ('summary', '', 'VPN'), ('reporter', '', 'ann'), \
('status', 'To Do', 'Done')]
    """
    if isinstance(issues, Mapping):
        items = issues.get("issues", [issues]) if "key" not in issues else [issues]
    elif isinstance(issues, Sequence) and not isinstance(issues, str):
        items = list(issues)
    else:
        raise InvalidValueError("issues", issues, "a Jira issue, a list of them or a search result")
    for index, issue in enumerate(items):
        if not isinstance(issue, Mapping) or "key" not in issue:
            raise InvalidValueError(f"issues[{index}]", issue, "an issue with a 'key'")
        fields = issue.get("fields") or {}
        histories = (issue.get("changelog") or {}).get("histories") or []
        changes: list[tuple[str, str, str, str, str]] = []
        for history in sorted(histories, key=lambda h: str(h.get("created", ""))):
            author = _user(history.get("author"))
            for item in history.get("items") or []:
                field = str(item.get("field", ""))
                old, new = (
                    (item.get("from"), item.get("to"))
                    if field in _JIRA_USERS
                    else (item.get("fromString"), item.get("toString"))
                )
                changes.append(
                    (str(history.get("created", "")), author, field, str(old or ""), str(new or ""))
                )
        current = {
            f: _user(fields.get(f)) if f in _JIRA_USERS else _name(fields.get(f))
            for f in _JIRA_FIELDS
        }
        yield from _rows(
            str(issue["key"]),
            str(fields.get("created", "")),
            _user(fields.get("creator") or fields.get("reporter")),
            current,
            changes,
            ("issue", "created", "author", "sequence", "field", "from", "to"),
        )


def zammad_history_rows(ticket: object, history: object) -> Iterator[dict[str, str]]:
    """Audit rows of one Zammad ticket (for ``zammad_history``).

    ``ticket`` is ``GET /api/v1/tickets/{id}?expand=true`` (its current
    ``state``, ``group``, ``owner``, ``priority``, ``title``, ``customer``),
    ``history`` is ``GET /api/v1/ticket_history/{id}``; users are named by
    their login from the history's ``assets`` when it has them.

    >>> ticket = {"id": 7, "created_at": "2026-03-02T09:00:00Z", "created_by": "ann",
    ...           "state": "closed", "priority": "2 normal", "group": "Users", "owner": "-",
    ...           "title": "Printer", "customer": "ann"}
    >>> history = {"history": [{"object": "Ticket", "o_id": 7, "type": "updated",
    ...     "attribute": "state", "value_from": "new", "value_to": "closed",
    ...     "created_by_id": 3, "created_at": "2026-03-02T11:00:00Z"}],
    ...     "assets": {"User": {"3": {"login": "dan"}}}}
    >>> [(r["attribute"], r["value_to"], r["created_by"]) for r in
    ...  zammad_history_rows(ticket, history)][-1]
    ('state', 'closed', 'dan')
    """
    if not isinstance(ticket, Mapping) or "id" not in ticket:
        raise InvalidValueError("ticket", ticket, "a Zammad ticket with an 'id'")
    if not isinstance(history, Mapping) or not isinstance(history.get("history"), list):
        raise InvalidValueError("history", history, "a Zammad ticket history with 'history'")
    users = (history.get("assets") or {}).get("User") or {}

    def user(value: Any) -> str:
        found = users.get(str(value)) or users.get(value) if value is not None else None
        return _name(found) if found else _name(value)

    changes: list[tuple[str, str, str, str, str]] = []
    for item in history["history"]:
        if item.get("object") != "Ticket" or item.get("type") != "updated":
            continue
        changes.append(
            (
                str(item.get("created_at", "")),
                user(item.get("created_by_id")),
                str(item.get("attribute", "")),
                str(item.get("value_from") or ""),
                str(item.get("value_to") or ""),
            )
        )
    current = {f: _name(ticket.get(f)) for f in _ZAMMAD_FIELDS}
    yield from _rows(
        str(ticket.get("number") or ticket["id"]),
        str(ticket.get("created_at", "")),
        _name(ticket.get("created_by") or ticket.get("customer")),
        current,
        changes,
        ("ticket", "created_at", "created_by", "sequence", "attribute", "value_from", "value_to"),
    )
