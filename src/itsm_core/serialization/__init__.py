"""Data in and out: converters for every public type, durations, desk documents, JSON Schema.

>>> from datetime import timedelta
>>> conv = make_converter()
>>> conv.unstructure(timedelta(hours=26, minutes=30))
'1d2h30m'
"""

from itsm_core.serialization._converter import (
    COMMAND_TAG,
    EVENT_TAG,
    class_kind,
    configure_converter,
    decode_event,
    encode_event,
    event_types,
    make_converter,
    problems_of,
    structure_checked,
)
from itsm_core.serialization._desk import (
    DESK_KEYS,
    SCHEMA_VERSION,
    Desk,
    Migration,
    dump_desk,
    load_desk,
    migrate_desk,
)
from itsm_core.serialization._documents import (
    DOCUMENT_FORMATS,
    MAX_DOCUMENT_DEPTH,
    parse_document,
)
from itsm_core.serialization._durations import (
    DURATION_EXPECTED,
    DURATION_PATTERN,
    SLA_DURATION_EXPECTED,
    SLA_DURATION_PATTERN,
    format_business_duration,
    format_duration,
    format_sla_duration,
    parse_duration,
    parse_sla_duration,
)
from itsm_core.serialization._rows import decode_event_row, encode_event_row, event_columns
from itsm_core.serialization._schema import desk_json_schema, event_json_schema, json_schema

__all__ = [
    "COMMAND_TAG",
    "DESK_KEYS",
    "DOCUMENT_FORMATS",
    "DURATION_EXPECTED",
    "DURATION_PATTERN",
    "EVENT_TAG",
    "MAX_DOCUMENT_DEPTH",
    "SCHEMA_VERSION",
    "SLA_DURATION_EXPECTED",
    "SLA_DURATION_PATTERN",
    "Desk",
    "Migration",
    "class_kind",
    "configure_converter",
    "decode_event",
    "decode_event_row",
    "desk_json_schema",
    "dump_desk",
    "encode_event",
    "encode_event_row",
    "event_columns",
    "event_json_schema",
    "event_types",
    "format_business_duration",
    "format_duration",
    "format_sla_duration",
    "json_schema",
    "load_desk",
    "make_converter",
    "migrate_desk",
    "parse_document",
    "parse_duration",
    "parse_sla_duration",
    "problems_of",
    "structure_checked",
]
