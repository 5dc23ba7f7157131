"""Rows of real ticket-system exports -> histories, through profiles (data).

The host reads the export (CSV rows as dicts, parsed JSON) and the profile (a
parsed TOML document); this room turns them into one history of events per
ticket, checked against a lifecycle for imported history. Nothing vanishes:
every ticket is imported or refused with its reason, every row belongs to a
ticket or is counted as skipped.

>>> rows = [
...     {"id": "T1", "when": "2026-03-02 09:00", "who": "ann", "status": "New"},
...     {"id": "T1", "when": "2026-03-02 09:30", "who": "dan", "status": "Resolved"},
...     {"id": "T1", "when": "2026-03-02 10:00", "who": "dan", "status": "Closed"},
...     {"id": "", "when": "2026-03-02 10:00", "who": "dan", "status": "Closed"},
... ]
>>> profile = profile_from_dict({
...     "name": "tiny", "shape": "snapshot", "lifecycle": "servicenow_incident",
...     "columns": {"ticket_id": "id", "at": "when", "actor": "who", "state": "status"},
...     "values": {"state": {"New": "new", "Resolved": "resolved", "Closed": "closed"}},
...     "timestamps": {"formats": ["%Y-%m-%d %H:%M"], "timezone": "Europe/Paris"}})
>>> result = import_snapshot(rows, profile)
>>> [(e.trigger, e.to_state) for e in result.histories[0][1:]]
[('resolve', 'resolved'), ('close', 'closed')]
>>> result.histories[0][1].at.isoformat(), result.skipped_rows
('2026-03-02T09:30:00+01:00', 1)
"""

from itsm_core.imports._builtin import PROFILE_DATA, PROFILES, SERVICENOW_MATRIX
from itsm_core.imports._core import (
    DIFFED_FACTS,
    ImportCounts,
    ImportResult,
    RefusedTicket,
    import_audit,
    import_rows,
    import_snapshot,
    import_stream,
    profile_lifecycle,
)
from itsm_core.imports._export import to_audit_rows, to_snapshot_rows
from itsm_core.imports._lifecycles import (
    IMPORT_LIFECYCLES,
    IMPORT_POLICIES,
    glpi_ticket,
    jira_issue,
    servicenow_incident,
    zammad_ticket,
)
from itsm_core.imports._profile import (
    AUDIT_COLUMNS,
    DST_RULES,
    FIELDS,
    SHAPES,
    SNAPSHOT_COLUMNS,
    Profile,
    Timestamps,
    format_instant,
    instant_parser,
    parse_instant,
    profile_from_dict,
    profile_to_dict,
)
from itsm_core.imports._sources import jira_changelog_rows, zammad_history_rows

__all__ = [
    "AUDIT_COLUMNS",
    "DIFFED_FACTS",
    "DST_RULES",
    "FIELDS",
    "IMPORT_LIFECYCLES",
    "IMPORT_POLICIES",
    "PROFILES",
    "PROFILE_DATA",
    "SERVICENOW_MATRIX",
    "SHAPES",
    "SNAPSHOT_COLUMNS",
    "ImportCounts",
    "ImportResult",
    "Profile",
    "RefusedTicket",
    "Timestamps",
    "format_instant",
    "glpi_ticket",
    "import_audit",
    "import_rows",
    "import_snapshot",
    "import_stream",
    "instant_parser",
    "jira_changelog_rows",
    "jira_issue",
    "parse_instant",
    "profile_from_dict",
    "profile_lifecycle",
    "profile_to_dict",
    "servicenow_incident",
    "to_audit_rows",
    "to_snapshot_rows",
    "zammad_history_rows",
    "zammad_ticket",
]
