"""Pure domain types and the schema loader. No Qt, no torch."""

from tcm_desktop.domain.draft import DraftAnnotation, DraftModel, SpanKey
from tcm_desktop.domain.errors import EditError, RecordError, SchemaError, TcmError
from tcm_desktop.domain.events import Event
from tcm_desktop.domain.records import (
    FormValue,
    Prediction,
    Record,
    RecordStatus,
    SetBy,
    Span,
    record_problems,
    span_problems,
)
from tcm_desktop.domain.schema import (
    GENERAL,
    NOT_MENTIONED,
    FieldType,
    FormField,
    Label,
    Schema,
    Specialty,
    default_schema,
    load_schema,
)

__all__ = [
    "GENERAL",
    "DraftAnnotation",
    "DraftModel",
    "EditError",
    "Event",
    "NOT_MENTIONED",
    "FieldType",
    "FormField",
    "FormValue",
    "Label",
    "Prediction",
    "Record",
    "RecordError",
    "RecordStatus",
    "Schema",
    "SchemaError",
    "SetBy",
    "Span",
    "SpanKey",
    "Specialty",
    "TcmError",
    "default_schema",
    "load_schema",
    "record_problems",
    "span_problems",
]
