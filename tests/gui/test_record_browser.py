"""The RecordBrowser model: filters, pages and selection against a real database, without Qt."""

from __future__ import annotations

import subprocess
import sys

from tcm_desktop.domain import RecordStatus
from tcm_desktop.store import Database
from tcm_desktop.ui.record_browser import Event, RecordBrowser, RecordFilter


class Recorder:
    def __init__(self, browser: RecordBrowser) -> None:
        self.changes = 0
        self.selections: list[str | None] = []
        self.failures: list[str] = []
        browser.events.changed.connect(self._changed)
        browser.events.selection_changed.connect(self.selections.append)
        browser.events.failed.connect(self.failures.append)

    def _changed(self) -> None:
        self.changes += 1


def ids(browser: RecordBrowser) -> list[str]:
    return [summary.id for summary in browser.summaries]


def test_the_browser_module_imports_no_qt() -> None:
    code = (
        "import sys, tcm_desktop.ui.record_browser\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_event_calls_connected_callbacks_once_and_forgets_disconnected() -> None:
    event, seen = Event(), []
    event.connect(seen.append)
    event.connect(seen.append)
    event.emit(1)
    event.disconnect(seen.append)
    event.disconnect(seen.append)
    event.emit(2)
    assert seen == [1]


def test_refresh_loads_the_page_and_selects_the_first_record(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    seen = Recorder(browser)
    browser.refresh()
    assert ids(browser) == ["R001", "R002", "R003", "R004"]
    assert browser.total == browser.total_all == 4
    assert seen.changes == 1 and seen.selections == ["R001"]
    assert browser.current.record.text.startswith("腹泻")


def test_search_filters_and_moves_the_selection_to_a_match(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    seen = Recorder(browser)
    browser.set_search("  咳嗽 ")
    assert browser.filter == RecordFilter(search="咳嗽")
    assert ids(browser) == ["R002"] and browser.total == 1 and browser.total_all == 4
    assert seen.selections == ["R002"]
    browser.set_search("no such words")
    assert ids(browser) == [] and browser.selected_id is None and browser.current is None
    assert seen.selections == ["R002", None]


def test_specialty_and_status_filters(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    browser.set_specialty("orthopedics")
    assert ids(browser) == ["R003"]
    browser.set_specialty(None)
    plain_db.records.set_status("R004", RecordStatus.VERIFIED, who="test")
    browser.set_status("verified")
    assert ids(browser) == ["R004"] and browser.filter.status is RecordStatus.VERIFIED
    browser.set_status(None)
    assert len(ids(browser)) == 4


def test_selection_is_kept_when_the_record_stays_in_the_list(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    browser.select("R003")
    seen = Recorder(browser)
    browser.set_search("VAS")
    assert browser.selected_id == "R003" and seen.selections == []
    browser.set_search("")
    assert browser.selected_id == "R003" and seen.selections == []


def test_select_next_previous_and_any_record(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    browser.select_next()
    browser.select_next()
    assert browser.selected_id == "R003"
    browser.select_previous()
    assert browser.selected_id == "R002"
    browser.set_specialty("gastro")
    assert browser.select("R004")  # not on the page, still shown
    assert browser.current.record.specialty == "anorectal" and browser.row_of("R004") is None


def test_an_unknown_record_is_reported_not_raised(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    seen = Recorder(browser)
    assert browser.select("NOPE") is False
    assert browser.selected_id == "R001" and seen.selections == []
    assert len(seen.failures) == 1 and "NOPE" in seen.failures[0]


def test_pages(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records, page_size=3)
    browser.refresh()
    assert browser.page_count == 2 and ids(browser) == ["R001", "R002", "R003"]
    browser.set_page(5)
    assert browser.page == 1 and ids(browser) == ["R004"] and browser.selected_id == "R004"
    browser.set_search("R00")  # a filter starts again from the first page
    assert browser.page == 0 and ids(browser) == ["R001", "R002", "R003"]


def test_set_source_switches_database(plain_db: Database, tmp_path) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    other = Database.open(tmp_path / "empty.sqlite")
    try:
        seen = Recorder(browser)
        browser.set_source(other.records)
        assert ids(browser) == [] and browser.total_all == 0
        assert seen.selections == [None]
    finally:
        other.close()


def test_the_leave_guard_can_keep_the_shown_record(plain_db: Database) -> None:
    browser = RecordBrowser(plain_db.records)
    browser.refresh()
    asked: list[tuple[str | None, str | None]] = []
    answer = [False]

    def guard(leaving: str | None, following: str | None) -> bool:
        asked.append((leaving, following))
        return answer[0]

    browser.set_leave_guard(guard)
    seen = Recorder(browser)
    kept: list[str | None] = []
    browser.events.selection_kept.connect(kept.append)
    assert browser.select("R002") is False
    browser.select_next()
    assert browser.reload_current() is False
    assert browser.selected_id == "R001" and seen.selections == [] and kept == ["R001"] * 3
    assert asked == [("R001", "R002"), ("R001", "R002"), ("R001", "R001")]
    assert browser.select("R001")  # staying where one is asks nothing
    assert len(asked) == 3
    answer[0] = True
    assert browser.select("R003") and seen.selections == ["R003"]
    assert browser.reload_current() and seen.selections == ["R003", "R003"]
