"""Error types of the store layer.

Every error the store raises on purpose is a :class:`StoreError` (a
:class:`~tcm_desktop.domain.TcmError`), raised ``from`` its cause, with a
message a clinician can read. The subclasses let callers react to the
common cases without parsing messages.
"""

from __future__ import annotations

from tcm_desktop.domain import TcmError


class StoreError(TcmError):
    """The database, a stored file or an import/export could not do what was asked."""


class RecordNotFoundError(StoreError):
    """No record with the given id."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"no record {record_id}")
        self.record_id = record_id


class DuplicateRecordError(StoreError):
    """A record with this id is already in the database."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"a record with id {record_id} already exists")
        self.record_id = record_id


class InvalidRecordError(StoreError):
    """A record, annotation or prediction breaks the schema; ``problems`` lists why."""

    def __init__(self, record_id: str, problems: list[str]) -> None:
        super().__init__(f"record {record_id} is not valid: " + "; ".join(problems))
        self.record_id = record_id
        self.problems = problems


class ImageError(StoreError):
    """An image file is missing, unreadable or not a JPEG/PNG picture."""


class DecodeError(StoreError):
    """A text file is in none of the supported encodings."""


class SchemaVersionError(StoreError):
    """The database file was written by a newer version of the program."""


class DatabaseCorrupt(StoreError):
    """The database file is damaged or is not a database at all.

    ``path`` is the file, ``check`` what found it (``open``, ``quick_check``,
    ``integrity_check``) and ``detail`` what that check said.
    """

    def __init__(self, path: object, check: str, detail: str, message: str | None = None) -> None:
        super().__init__(message or f"the database {path} is damaged ({check}: {detail})")
        self.path = path
        self.check = check
        self.detail = detail


class DatabaseInUse(StoreError):
    """Another program held the database's write lock for longer than the busy timeout."""

    def __init__(self, path: object, detail: str = "") -> None:
        name = getattr(path, "name", path)
        super().__init__(
            f"the database {name} is in use by another program; try again" + (f" ({detail})" if detail else "")
        )
        self.path = path


class OperationCancelled(StoreError):
    """The user stopped an export (nothing was written) or an import (see the report)."""
