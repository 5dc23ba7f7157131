"""JSON Schema (draft 2020-12) of the plain forms, generated from the types."""

from __future__ import annotations

import enum
import typing
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import attrs

from itsm_core.calendar import BusinessCalendar, CompositeCalendar, Window
from itsm_core.escalation import EscalationLevel, EscalationRule, SupportStructure
from itsm_core.lifecycle import LifecycleDef, Policies, default_definitions
from itsm_core.metrics import CreditRule
from itsm_core.permissions import Grant, Permission, Principal, Role
from itsm_core.priority import PriorityMatrix
from itsm_core.routing import RoutingConfig
from itsm_core.serialization._converter import (
    CUSTOM_FIELDS,
    Calendar,
    event_types,
    tag_of,
)
from itsm_core.serialization._desk import SCHEMA_VERSION
from itsm_core.serialization._durations import (
    DURATION_EXPECTED,
    DURATION_PATTERN,
    SLA_DURATION_EXPECTED,
    SLA_DURATION_PATTERN,
)
from itsm_core.serialization._fast_events import ZONE_SUFFIX, instant_fields
from itsm_core.sla import Metric, SlaPolicy
from itsm_core.ticket import Event, FieldValue

__all__ = ["desk_json_schema", "event_json_schema", "json_schema"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_TIME = r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
_WINDOW = {
    "anyOf": [
        {
            "type": "string",
            "pattern": rf"^\s*{_TIME}\s*-\s*{_TIME}\s*$",
            "description": 'an open window of local time such as "09:00-17:00"',
        },
        {
            "type": "object",
            "properties": {
                "start": {"type": "string", "pattern": rf"^{_TIME}$"},
                "end": {"type": "string", "pattern": rf"^{_TIME}$"},
            },
            "required": ["start", "end"],
            "additionalProperties": False,
        },
    ]
}
_SCALAR = {"type": ["string", "number", "boolean"]}
_DURATION = {"type": "string", "pattern": DURATION_PATTERN, "description": DURATION_EXPECTED}
_SLA_DURATION = {
    "type": "string",
    "pattern": SLA_DURATION_PATTERN,
    "description": SLA_DURATION_EXPECTED,
}


class _Builder:
    def __init__(self, *, names: bool) -> None:
        self.defs: dict[str, Any] = {}
        self.names = names

    def ref(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # placeholder: recursive types refer to themselves
            self.defs[name] = self.record(cls)
        return {"$ref": f"#/$defs/{name}"}

    def record(self, cls: type) -> dict[str, Any]:
        if cls is PriorityMatrix:
            return _matrix_schema()
        hints = typing.get_type_hints(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        tag = tag_of(cls)
        if tag is not None:
            properties[tag[0]] = {"const": tag[1]}
        instants = instant_fields(cls, hints)
        for field in attrs.fields(cls):
            if not field.init:
                continue
            properties[field.name] = self.field(cls, field.name, hints[field.name])
            if field.name in instants:
                properties[field.name + ZONE_SUFFIX] = {
                    "type": "string",
                    "description": f"the IANA zone of {field.name} (such as Europe/Moscow), "
                    "which has its offset at that instant; absent for UTC and fixed offsets",
                }
            if field.default is attrs.NOTHING:
                required.append(field.name)
        schema: dict[str, Any] = {"type": "object"}
        doc = (cls.__doc__ or "").strip().splitlines()
        if doc:
            schema["description"] = doc[0]
        schema["properties"] = properties
        if tag is not None:
            required.insert(0, tag[0])
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return schema

    def field(self, cls: type, name: str, t: Any) -> dict[str, Any]:
        if cls is Metric and name == "targets":
            return {
                "type": "object",
                "description": "targets by effective priority name",
                "additionalProperties": _SLA_DURATION,
            }
        if cls is EscalationLevel and name == "offset":
            return {"anyOf": [_SLA_DURATION, {"type": "null"}]}
        if cls is Metric and name in ("default_target", "start_offset"):
            return {"anyOf": [_SLA_DURATION, {"type": "null"}]}
        if cls is SlaPolicy and name == "metrics":
            return {
                "type": "object",
                "description": "the metrics by name",
                "additionalProperties": self.metric_table(),
            }
        return self.of(t)

    def metric_table(self) -> dict[str, Any]:
        if "MetricTable" not in self.defs:
            schema = self.record(Metric)
            schema["description"] = (
                "a metric; start/stop conditions may come from a preset "
                "(first_response, next_response, resolution: by default the metric's name)"
            )
            schema["properties"] = {
                "preset": {"enum": ["first_response", "next_response", "resolution"]},
                **schema["properties"],
            }
            schema.pop("required", None)
            self.defs["MetricTable"] = schema
        return {"$ref": "#/$defs/MetricTable"}

    def of(self, t: Any) -> dict[str, Any]:
        origin = typing.get_origin(t)
        args = typing.get_args(t)
        simple = _SIMPLE.get(t)
        if simple is not None:
            return dict(simple)
        if t == CUSTOM_FIELDS:
            return {
                "anyOf": [
                    {"type": "object", "additionalProperties": _SCALAR},
                    {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "prefixItems": [{"type": "string"}, _SCALAR],
                            "minItems": 2,
                            "maxItems": 2,
                        },
                    },
                ]
            }
        if t == FieldValue:
            return dict(_SCALAR)
        if t == Calendar:
            options = [self.ref(BusinessCalendar), self.ref(CompositeCalendar)]
            if self.names:
                options.insert(0, {"type": "string", "description": "a declared calendar's name"})
            return {"anyOf": options}
        if t is Window:
            return dict(_WINDOW)
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return {"enum": [member.value for member in t]}
        if origin is Literal:
            return {"enum": list(args)}
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            array = {"type": "array", "items": self.of(args[0])}
            if args[0] is str:
                return {"anyOf": [{"type": "string"}, array]}
            return array
        if origin is tuple:
            return {
                "type": "array",
                "prefixItems": [self.of(a) for a in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        if args and origin in (typing.Union, _UNION_TYPE):
            return {"anyOf": [self.of(a) for a in args]}
        if t is Event:
            return {"oneOf": [self.ref(cls) for cls in event_types().values()]}
        if isinstance(t, type) and attrs.has(t):
            return self.ref(t)
        return {}


_UNION_TYPE = type(int | str)
_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    datetime: {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}T[^\[\]]+(\[[^\[\]]+\])?$",
        "description": "RFC 3339 with an offset (UTC as +00:00), as written; the zone's name "
        "goes in the <field>_zone beside it (an older [zone name] suffix is still read)",
    },
    date: {"type": "string", "format": "date"},
    timedelta: _DURATION,
    Decimal: {
        "anyOf": [{"type": "string", "pattern": r"^\s*-?\d+(\.\d+)?\s*$"}, {"type": "integer"}]
    },
    Any: {},
}


def _matrix_schema() -> dict[str, Any]:
    level = {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "rank": {"type": "integer"},
                    "description": {"type": "string"},
                    "label": {"type": "string"},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
        ]
    }
    levels = {"type": "array", "items": level}
    scale = {
        "anyOf": [
            levels,
            {
                "type": "object",
                "properties": {"name": {"type": "string"}, "levels": levels},
                "required": ["levels"],
                "additionalProperties": False,
            },
        ]
    }
    names = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "description": "The table impact x urgency -> priority (PriorityMatrix.to_dict form).",
        "properties": {
            "impact": scale,
            "urgency": scale,
            "priorities": levels,
            "cells": {
                "type": "object",
                "description": "impact level -> urgency level -> priority name",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
            "monotonic": {"type": "boolean"},
            "disabled_impact": names,
            "disabled_urgency": names,
        },
        "required": ["impact", "urgency", "priorities", "cells"],
        "additionalProperties": False,
    }


def json_schema(t: Any) -> dict[str, Any]:
    """The JSON Schema of the plain form of a public type (as ``make_converter`` writes it).

    >>> from itsm_core.calendar import MonthDay
    >>> schema = json_schema(MonthDay)
    >>> schema["$defs"]["MonthDay"]["required"]
    ['month', 'day']
    """
    builder = _Builder(names=False)
    root = builder.of(t)
    return {"$schema": _DIALECT, **root, "$defs": builder.defs}


def event_json_schema() -> dict[str, Any]:
    """The JSON Schema of one event line: any event, tagged by its kind under ``"event"``.

    >>> schema = event_json_schema()
    >>> schema["$defs"]["StateChanged"]["properties"]["event"]
    {'const': 'state_changed'}
    """
    return json_schema(Event)


def desk_json_schema() -> dict[str, Any]:
    """The JSON Schema of a desk document, generated from the types it declares.

    Editors and other languages validate desk documents with it. It describes
    the JSON form: in TOML, dates may also be TOML dates.

    >>> from itsm_core.serialization import DESK_KEYS
    >>> schema = desk_json_schema()
    >>> sorted(schema["properties"]) == sorted(DESK_KEYS)
    True
    >>> schema["$defs"]["SlaPolicy"]["required"]
    ['name', 'calendar', 'metrics']
    """
    builder = _Builder(names=True)
    calendar = builder.ref(BusinessCalendar)
    builder.defs["BusinessCalendar"]["properties"]["country_holidays"] = {
        "type": "object",
        "description": "public holidays from the holidays package, added to the listed ones",
        "properties": {
            "country": {"type": "string"},
            "years": {"type": "array", "items": {"type": "integer"}},
            "subdivision": {"type": "string"},
        },
        "required": ["country", "years"],
        "additionalProperties": False,
    }
    builder.ref(CompositeCalendar)
    lifecycle_names = {"enum": [d.name for d in default_definitions()]}
    role = builder.ref(Role)
    builder.defs["Role"]["properties"]["permissions"] = {
        "type": "array",
        "items": {
            "anyOf": [{"type": "string", "description": "an action"}, builder.ref(Permission)]
        },
    }
    properties: dict[str, Any] = {
        "schema_version": {"const": SCHEMA_VERSION},
        "name": {"type": "string"},
        "automation_actor": {
            "type": "string",
            "description": "the principal the desk's advance acts as (default automation)",
        },
        "calendar": {"type": "string", "description": "the desk's own calendar, by name"},
        "calendars": {
            "type": "object",
            "description": "the calendars by name",
            "additionalProperties": {"anyOf": [calendar, builder.ref(CompositeCalendar)]},
        },
        "priority": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"preset": {"enum": ["itil_3x3", "four_by_four", "glpi_5x5"]}},
                    "required": ["preset"],
                    "additionalProperties": False,
                },
                builder.ref(PriorityMatrix),
            ]
        },
        "lifecycles": {
            "type": "array",
            "items": {
                "anyOf": [
                    lifecycle_names,
                    {
                        "type": "object",
                        "properties": {
                            "default": lifecycle_names,
                            "policies": builder.ref(Policies),
                        },
                        "required": ["default"],
                        "additionalProperties": False,
                    },
                    builder.ref(LifecycleDef),
                ]
            },
        },
        "sla": {
            "type": "object",
            "properties": {
                "policies": {"type": "array", "items": builder.ref(SlaPolicy)},
                "credits": {"type": "array", "items": builder.ref(CreditRule)},
            },
            "additionalProperties": False,
        },
        "escalation": {
            "type": "object",
            "properties": {
                "structure": builder.ref(SupportStructure),
                "rules": {"type": "array", "items": builder.ref(EscalationRule)},
            },
            "additionalProperties": False,
        },
        "permissions": {
            "type": "object",
            "properties": {
                "default_roles": {"type": "boolean"},
                "roles": {"type": "array", "items": role},
                "grants": {"type": "array", "items": builder.ref(Grant)},
                "hierarchy": {"type": "object", "additionalProperties": {"type": "string"}},
                "restricted_fields": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "people": {"type": "array", "items": builder.ref(Principal)},
        "routing": builder.ref(RoutingConfig),
    }
    return {
        "$schema": _DIALECT,
        "title": "itsm_core desk document",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "$defs": builder.defs,
    }
