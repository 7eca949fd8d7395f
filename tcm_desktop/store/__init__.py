"""The store layer: the SQLite database, image files, audit log, import and export.

No Qt and no torch here: stdlib ``sqlite3`` plus the domain types.

    db = Database.open(Path("clinic.db"))
    report = import_records(Path("notes.jsonl"), db)
    stored = db.records.get("R0001")
    db.annotations.save("R0001", spans, form, who="dr.li", verify=True)
    export_records(db, "jsonl", Path("out.jsonl"))
"""

from tcm_desktop.store.annotations import AnnotationRepository, Correction
from tcm_desktop.store.audit import AuditEntry, AuditLog
from tcm_desktop.store.database import Database
from tcm_desktop.store.encoding import decode_text
from tcm_desktop.store.errors import (
    DatabaseCorrupt,
    DatabaseInUse,
    DecodeError,
    DuplicateRecordError,
    ImageError,
    InvalidRecordError,
    OperationCancelled,
    RecordNotFoundError,
    SchemaVersionError,
    StoreError,
)
from tcm_desktop.store.exporters import EXPORTERS, FORMATS, RecordWriter, export_records
from tcm_desktop.store.gold_set import GoldSetError, GoldSetRepository
from tcm_desktop.store.importers import (
    READERS,
    ImportedRecord,
    ImportIssue,
    ImportReport,
    RecordReader,
    import_records,
    read_records,
)
from tcm_desktop.store.models import ModelRegistry, ModelVersion, TrainingRun, TrainingRunRepository
from tcm_desktop.store.predictions import PredictionRepository
from tcm_desktop.store.records import RecordRepository, RecordSummary, StoredRecord
from tcm_desktop.store.retraining import BaseModel, RetrainLedger, RetrainReadiness
from tcm_desktop.store.review_queue import QueueEntry, ReviewQueue

__all__ = [
    "EXPORTERS",
    "FORMATS",
    "READERS",
    "AnnotationRepository",
    "AuditEntry",
    "AuditLog",
    "BaseModel",
    "Correction",
    "Database",
    "DatabaseCorrupt",
    "DatabaseInUse",
    "DecodeError",
    "DuplicateRecordError",
    "GoldSetError",
    "GoldSetRepository",
    "ImageError",
    "ImportIssue",
    "ImportReport",
    "ImportedRecord",
    "InvalidRecordError",
    "ModelRegistry",
    "ModelVersion",
    "OperationCancelled",
    "PredictionRepository",
    "QueueEntry",
    "RecordNotFoundError",
    "RecordReader",
    "RecordRepository",
    "RecordSummary",
    "RecordWriter",
    "RetrainLedger",
    "RetrainReadiness",
    "ReviewQueue",
    "SchemaVersionError",
    "StoreError",
    "StoredRecord",
    "TrainingRun",
    "TrainingRunRepository",
    "decode_text",
    "export_records",
    "import_records",
    "read_records",
]
