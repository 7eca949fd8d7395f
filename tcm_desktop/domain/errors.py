"""Error types of the domain layer; other layers derive their own from TcmError."""

from __future__ import annotations


class TcmError(Exception):
    """Base of every error the application raises on purpose."""


class SchemaError(TcmError):
    """The schema files are missing or inconsistent."""


class RecordError(TcmError):
    """A record (or one of its spans or form values) is not valid.

    ``where`` names the part that is wrong (``spans[3]``, ``form.vas_score``)
    so import reports can point at it.
    """

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.reason = message


class EditError(TcmError):
    """An annotation edit breaks the span or form rules; the message says why."""
