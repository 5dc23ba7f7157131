"""The built-in profiles, as the plain (TOML-shaped) data a user would write.

Field names and state vocabularies follow each system's public documentation:
ServiceNow's incident table and ``sys_audit`` table, Jira's REST API
(``GET /rest/api/2/issue/{key}?expand=changelog``), Zammad's ticket and
ticket history API, GLPI's ``glpi_logs`` table and ticket statuses.
"""

from __future__ import annotations

from typing import Any

from itsm_core.imports._profile import Profile, profile_from_dict

__all__ = ["PROFILES", "PROFILE_DATA", "SERVICENOW_MATRIX"]

#: ServiceNow's incident priority lookup as the UCI event log's instance applies it.
#: Out of the box ServiceNow gives ``3 - Low`` x ``3 - Low`` the priority ``5 - Planning``;
#: every row of that export with low impact and low urgency shows ``4 - Low``, so the
#: built-in profile's cell says ``P4`` (edit ``cells.low.low`` for a stock instance).
SERVICENOW_MATRIX: dict[str, Any] = {
    "impact": ["high", "medium", "low"],
    "urgency": ["high", "medium", "low"],
    "priorities": [
        {"name": "P1", "label": "Critical"},
        {"name": "P2", "label": "High"},
        {"name": "P3", "label": "Moderate"},
        {"name": "P4", "label": "Low"},
        {"name": "P5", "label": "Planning"},
    ],
    "cells": {
        "high": {"high": "P1", "medium": "P2", "low": "P3"},
        "medium": {"high": "P2", "medium": "P3", "low": "P4"},
        "low": {"high": "P3", "medium": "P4", "low": "P4"},
    },
}
_SN_LEVELS = {"1 - High": "high", "2 - Medium": "medium", "3 - Low": "low"}
_SN_PRIORITIES = {
    "1 - Critical": "P1",
    "2 - High": "P2",
    "3 - Moderate": "P3",
    "4 - Low": "P4",
    "5 - Planning": "P5",
}

#: Every built-in profile as plain data, by name (write one like these in TOML).
PROFILE_DATA: dict[str, dict[str, Any]] = {
    "servicenow_snapshot": {
        "name": "servicenow_snapshot",
        "description": "ServiceNow incident export, one full row per update (the columns of "
        "the UCI 'Incident management process enriched event log')",
        "shape": "snapshot",
        "lifecycle": "servicenow_incident",
        "columns": {
            "ticket_id": "number",
            "at": "sys_updated_at",
            "actor": "sys_updated_by",
            "sequence": "sys_mod_count",
            "opened_at": "opened_at",
            "opened_by": "opened_by",
            "requester": "caller_id",
            "state": "incident_state",
            "group": "assignment_group",
            "assignee": "assigned_to",
            "impact": "impact",
            "urgency": "urgency",
            "priority": "priority",
            "category": "category",
            "service": "cmdb_ci",
            "resolution_code": "closed_code",
        },
        "values": {
            "state": {
                "New": "new",
                "Active": "in_progress",
                "In Progress": "in_progress",
                "Awaiting User Info": "on_hold.awaiting_caller",
                "Awaiting Caller": "on_hold.awaiting_caller",
                "Awaiting Change": "on_hold.awaiting_change",
                "Awaiting Evidence": "on_hold.awaiting_evidence",
                "Awaiting Problem": "on_hold.awaiting_problem",
                "Awaiting Vendor": "on_hold.awaiting_vendor",
                "Resolved": "resolved",
                "Closed": "closed",
                "Canceled": "canceled",
                "Cancelled": "canceled",
            },
            "impact": _SN_LEVELS,
            "urgency": _SN_LEVELS,
            "priority": _SN_PRIORITIES,
        },
        "missing": ["?", ""],
        "timestamps": {
            "formats": ["%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M:%S"],
            "timezone": "UTC",
            "dst": "compatible",
        },
        "matrix": SERVICENOW_MATRIX,
        "reassignments": "group",
    },
    "servicenow_audit": {
        "name": "servicenow_audit",
        "description": "ServiceNow sys_audit export of incidents: one row per changed field, "
        "choice fields as their stored values, times in UTC",
        "shape": "audit",
        "lifecycle": "servicenow_incident",
        "columns": {
            "ticket_id": "documentkey",
            "at": "sys_created_on",
            "actor": "user",
            "sequence": "record_checkpoint",
            "field": "fieldname",
            "old": "oldvalue",
            "new": "newvalue",
        },
        "fields": {
            "incident_state": "state",
            "state": "state",
            "hold_reason": "hold_reason",
            "assignment_group": "group",
            "assigned_to": "assignee",
            "impact": "impact",
            "urgency": "urgency",
            "priority": "priority",
            "category": "category",
            "cmdb_ci": "service",
            "close_code": "resolution_code",
            "caller_id": "requester",
            "short_description": "title",
        },
        "values": {
            "state": {
                "1": "new",
                "2": "in_progress",
                "3": "on_hold",
                "6": "resolved",
                "7": "closed",
                "8": "canceled",
            },
            "hold_reason": {
                "1": "awaiting_caller",
                "2": "awaiting_evidence",
                "3": "awaiting_problem",
                "4": "awaiting_vendor",
                "5": "awaiting_change",
            },
            "impact": {"1": "high", "2": "medium", "3": "low"},
            "urgency": {"1": "high", "2": "medium", "3": "low"},
            "priority": {"1": "P1", "2": "P2", "3": "P3", "4": "P4", "5": "P5"},
        },
        "missing": [""],
        "timestamps": {"formats": ["%Y-%m-%d %H:%M:%S", "iso"], "timezone": "UTC"},
        "matrix": SERVICENOW_MATRIX,
        "reassignments": "group",
    },
    "jira_changelog": {
        "name": "jira_changelog",
        "description": "Jira issues fetched with expand=changelog, flattened by "
        "jira_changelog_rows: one row per changelog item",
        "shape": "audit",
        "lifecycle": "jira_issue",
        "columns": {
            "ticket_id": "issue",
            "at": "created",
            "actor": "author",
            "sequence": "sequence",
            "field": "field",
            "old": "from",
            "new": "to",
        },
        "fields": {
            "status": "state",
            "assignee": "assignee",
            "priority": "priority",
            "summary": "title",
            "reporter": "requester",
            "resolution": "resolution_code",
            "Component": "category",
        },
        "values": {
            "state": {
                "Open": "to_do",
                "To Do": "to_do",
                "Backlog": "to_do",
                "In Progress": "in_progress",
                "Reopened": "in_progress",
                "Waiting for support": "waiting_for_support",
                "Escalated": "escalated",
                "Waiting for customer": "on_hold.waiting_for_customer",
                "Pending": "on_hold.pending",
                "Resolved": "resolved",
                "Done": "done",
                "Closed": "done",
                "Canceled": "canceled",
                "Cancelled": "canceled",
                "Declined": "canceled",
            },
            "priority": {
                "Highest": "P1",
                "High": "P2",
                "Medium": "P3",
                "Low": "P4",
                "Lowest": "P5",
            },
        },
        "missing": [""],
        "timestamps": {"formats": ["iso", "%Y-%m-%dT%H:%M:%S.%f%z"]},
    },
    "zammad_history": {
        "name": "zammad_history",
        "description": "Zammad ticket history (GET /api/v1/ticket_history/{id}) flattened by "
        "zammad_history_rows: one row per changed attribute",
        "shape": "audit",
        "lifecycle": "zammad_ticket",
        "columns": {
            "ticket_id": "ticket",
            "at": "created_at",
            "actor": "created_by",
            "sequence": "sequence",
            "field": "attribute",
            "old": "value_from",
            "new": "value_to",
        },
        "fields": {
            "state": "state",
            "group": "group",
            "owner": "assignee",
            "priority": "priority",
            "title": "title",
            "customer": "requester",
        },
        "values": {
            "state": {
                "new": "new",
                "open": "open",
                "pending reminder": "pending_reminder",
                "pending close": "pending_close",
                "closed": "closed",
                "merged": "merged",
                "removed": "removed",
            },
            "priority": {"3 high": "P1", "2 normal": "P2", "1 low": "P3"},
        },
        "missing": ["", "-"],
        "timestamps": {"formats": ["iso"], "timezone": "UTC"},
    },
    "glpi_history": {
        "name": "glpi_history",
        "description": "GLPI ticket history: rows of glpi_logs (itemtype Ticket), fields by "
        "search option id, statuses by number",
        "shape": "audit",
        "lifecycle": "glpi_ticket",
        "columns": {
            "ticket_id": "items_id",
            "at": "date_mod",
            "actor": "user_name",
            "field": "id_search_option",
            "old": "old_value",
            "new": "new_value",
        },
        "fields": {
            "1": "title",
            "3": "priority",
            "4": "requester",
            "5": "assignee",
            "7": "category",
            "8": "group",
            "10": "urgency",
            "11": "impact",
            "12": "state",
        },
        "values": {
            "state": {
                "1": "new",
                "2": "assigned",
                "3": "planned",
                "4": "pending",
                "5": "solved",
                "6": "closed",
            },
            "priority": {"6": "P1", "5": "P2", "4": "P3", "3": "P4", "2": "P5", "1": "P6"},
        },
        "missing": ["", "0"],
        "timestamps": {"formats": ["%Y-%m-%d %H:%M:%S", "iso"], "timezone": "UTC"},
    },
}

#: The built-in profiles by name (:data:`PROFILE_DATA`, loaded and validated).
PROFILES: dict[str, Profile] = {
    name: profile_from_dict(data) for name, data in PROFILE_DATA.items()
}
