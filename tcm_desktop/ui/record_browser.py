"""What the clinician is browsing: the filter, the current page and the selected record.

A pure-Python model (no Qt, so it is testable headless, napari style). It asks
a record repository for data and tells observers through tiny callback
events::

    browser = RecordBrowser(db.records)
    browser.events.changed.connect(on_page_changed)          # ()
    browser.events.selection_changed.connect(on_selected)    # (record_id | None)
    browser.refresh()
    browser.set_search("腹泻")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from tcm_desktop.domain import RecordStatus, TcmError
from tcm_desktop.domain.events import Event

DEFAULT_PAGE_SIZE = 500


class BrowserEvents:
    """The events of a RecordBrowser.

    ``changed()``: the filter, the page, the page's rows or the counts changed.
    ``selection_changed(record_id | None)``: another record (or none) is selected;
    ``RecordBrowser.current`` already holds it when observers are called.
    ``failed(message)``: the database could not answer (the state is unchanged).
    ``selection_kept(record_id | None)``: the leave guard refused to replace the
    shown record; views that already moved should move back to ``record_id``.
    """

    def __init__(self) -> None:
        self.changed = Event()
        self.selection_changed = Event()
        self.failed = Event()
        self.selection_kept = Event()


# guard(leaving_id, next_id) -> may the shown record be replaced?
LeaveGuard = Callable[[str | None, str | None], bool]


class RecordSummaryLike(Protocol):
    id: str
    specialty: str
    status: RecordStatus
    length: int


class RecordSource(Protocol):
    """The part of the store's record repository the browser uses."""

    def list(
        self,
        search: str | None = None,
        specialty: str | None = None,
        status: RecordStatus | None = None,
        limit: int | None = None,
        offset: int = 0,
        min_uncertainty: float | None = None,
    ) -> Sequence[Any]: ...

    def count(
        self, search: str | None = None, specialty: str | None = None, status: RecordStatus | None = None
    ) -> int: ...

    def get(self, record_id: str) -> Any: ...


@dataclass(frozen=True)
class RecordFilter:
    """Which records the list shows; empty search and None mean "all"."""

    search: str = ""
    specialty: str | None = None
    status: RecordStatus | None = None
    min_uncertainty: float | None = None  # only records the model was at least this unsure of

    def store_query(self) -> dict[str, Any]:
        """The keyword arguments of the store's ``records.list`` and ``records.count`` for this filter."""
        return {
            "search": self.search or None,
            "specialty": self.specialty,
            "status": self.status,
            "min_uncertainty": self.min_uncertainty,
        }


class RecordBrowser:
    """The filter, the current page of record summaries and the selected record."""

    def __init__(self, records: RecordSource, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.events = BrowserEvents()
        self._records = records
        self._page_size = page_size
        self._filter = RecordFilter()
        self._page = 0
        self._summaries: tuple[Any, ...] = ()
        self._total = 0
        self._total_all = 0
        self._selected_id: str | None = None
        self._current: Any = None
        self._leave_guard: LeaveGuard | None = None

    # -- state -----------------------------------------------------------
    @property
    def filter(self) -> RecordFilter:
        return self._filter

    @property
    def summaries(self) -> tuple[Any, ...]:
        """The RecordSummary rows of the current page."""
        return self._summaries

    @property
    def total(self) -> int:
        """How many records match the filter (all pages)."""
        return self._total

    @property
    def total_all(self) -> int:
        """How many records the database holds, whatever the filter."""
        return self._total_all

    @property
    def page(self) -> int:
        return self._page

    @property
    def page_size(self) -> int:
        return self._page_size

    @property
    def page_count(self) -> int:
        return max(1, -(-self._total // self._page_size))

    @property
    def selected_id(self) -> str | None:
        return self._selected_id

    @property
    def current(self) -> Any:
        """The selected StoredRecord (record, status, image path), or None."""
        return self._current

    def row_of(self, record_id: str | None) -> int | None:
        """The row of ``record_id`` in the current page, or None."""
        for row, summary in enumerate(self._summaries):
            if summary.id == record_id:
                return row
        return None

    def set_leave_guard(self, guard: LeaveGuard | None) -> None:
        """Ask ``guard(leaving_id, next_id)`` before the shown record is replaced by
        :meth:`select` or :meth:`reload_current` (e.g. "save your edits?"); when it
        answers False nothing changes and ``events.selection_kept`` is emitted."""
        self._leave_guard = guard

    def _may_leave(self, next_id: str | None) -> bool:
        if self._leave_guard is None or self._current is None:
            return True
        if self._leave_guard(self._selected_id, next_id):
            return True
        self.events.selection_kept.emit(self._selected_id)
        return False

    # -- changing the filter and the page ------------------------------------
    def set_search(self, text: str) -> None:
        self.set_filter(replace(self._filter, search=text.strip()))

    def set_specialty(self, specialty: str | None) -> None:
        self.set_filter(replace(self._filter, specialty=specialty or None))

    def set_status(self, status: RecordStatus | str | None) -> None:
        self.set_filter(replace(self._filter, status=RecordStatus(status) if status else None))

    def set_min_uncertainty(self, value: float | None) -> None:
        self.set_filter(replace(self._filter, min_uncertainty=value))

    def set_filter(self, new_filter: RecordFilter) -> None:
        """Apply ``new_filter`` from its first page; no-op when nothing changes."""
        if new_filter == self._filter:
            return
        self._filter = new_filter
        self._page = 0
        self.refresh()

    def set_page(self, page: int) -> None:
        page = min(max(page, 0), self.page_count - 1)
        if page != self._page:
            self._page = page
            self.refresh()

    def set_source(self, records: RecordSource) -> None:
        """Browse another database's records, keeping the filter."""
        self._records = records
        self._page = 0
        self._selected_id = None
        self._current = None
        self.refresh()
        if self._selected_id is None:
            # refresh() found nothing to select; say so, the old record is gone.
            self.events.selection_changed.emit(None)

    def refresh(self) -> None:
        """Reload the page and counts from the database.

        The selected record stays selected when it is still on the page;
        otherwise the first row (or nothing, on an empty page) is selected.
        A database error is reported on ``events.failed``.
        """
        f = self._filter
        query = f.store_query()
        try:
            total = self._records.count(**query)
            total_all = self._records.count() if f != RecordFilter() else total
            page = min(self._page, max(0, -(-total // self._page_size) - 1))
            rows = tuple(self._records.list(**query, limit=self._page_size, offset=page * self._page_size))
        except TcmError as exc:
            self.events.failed.emit(str(exc))
            return
        self._total, self._total_all, self._page, self._summaries = total, total_all, page, rows
        self.events.changed.emit()
        keep = self.row_of(self._selected_id) is not None
        self.select(self._selected_id if keep else (self._summaries[0].id if self._summaries else None))

    # -- selection ---------------------------------------------------------
    def select(self, record_id: str | None) -> bool:
        """Select ``record_id`` (it need not be on the current page); None clears.

        Returns False, with the selection unchanged, when the leave guard refuses
        or (with the reason on ``events.failed``) the database cannot give the record.
        """
        if record_id == self._selected_id and (record_id is None or self._current is not None):
            return True
        if not self._may_leave(record_id):
            return False
        try:
            current = self._records.get(record_id) if record_id is not None else None
        except TcmError as exc:
            self.events.failed.emit(str(exc))
            return False
        self._selected_id, self._current = record_id, current
        self.events.selection_changed.emit(record_id)
        return True

    def reload_current(self) -> bool:
        """Read the selected record again (after it was changed) and tell observers;
        False when the leave guard refuses."""
        if not self._may_leave(self._selected_id):
            return False
        record_id, self._current = self._selected_id, None
        if record_id is not None and not self.select(record_id):
            self._selected_id = None
            self.events.selection_changed.emit(None)
        return True

    def select_next(self) -> None:
        self._step(1)

    def select_previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if not self._summaries:
            return
        row = self.row_of(self._selected_id)
        row = 0 if row is None else min(max(row + delta, 0), len(self._summaries) - 1)
        self.select(self._summaries[row].id)
