"""File > Import and File > Export against a real SQLite database, off the GUI thread."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tcm_desktop.domain import Record, RecordStatus, Schema
from tcm_desktop.store import Database
from tcm_desktop.ui.export_dialog import ExportDialog, ExportScope
from tcm_desktop.ui.import_dialog import ImportDialog
from tcm_desktop.ui.main_window import MainWindow
from tcm_desktop.ui.record_browser import RecordFilter

TASK_TIMEOUT_MS = 60_000


def interchange(record_id: str, text: str = "胃脘胀痛，舌红。", specialty: str = "gastro", **extra: object) -> str:
    return json.dumps({"id": record_id, "specialty": specialty, "text": text, **extra}, ensure_ascii=False)


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot, db: Database, schema: Schema, settings_path: Path) -> MainWindow:
    win = MainWindow(db, schema, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def close_dialog(qtbot, dialog) -> None:
    dialog.runner.wait(TASK_TIMEOUT_MS)
    qtbot.wait(1)  # deliver the last queued signals
    dialog.reject()


# --- import ------------------------------------------------------------------------------


def test_import_from_the_file_menu_refreshes_the_list_and_reports_every_skipped_line(
    qtbot, window: MainWindow, db: Database, tmp_path: Path
):
    source = write_jsonl(
        tmp_path / "new.jsonl",
        [
            interchange("N001"),
            "{not json",
            interchange("R001"),  # already in the database
            interchange("N002", spans=[{"start": 0, "end": 2, "label": "NOPE", "text": "胃脘"}]),
            interchange("N003", specialty="respiratory", text="咳嗽两周。"),
        ],
    )
    assert window.app_actions.import_action in window.menuBar().actions()[0].menu().actions()
    assert window.count_label.text() == "共 4 条记录"
    window.app_actions.import_action.trigger()
    dialog = window.app_actions.dialog
    assert isinstance(dialog, ImportDialog) and dialog.isVisible()
    dialog.set_source(source)
    assert "JSONL" in dialog.format_label.text()
    with qtbot.waitSignal(dialog.database_changed, timeout=TASK_TIMEOUT_MS):
        assert dialog.start()
        assert not dialog.import_button.isEnabled() and dialog.cancel_button.isEnabled()
    summary = dialog.summary
    assert (summary.imported, summary.skipped, summary.cancelled) == (2, 3, False)
    rows = [
        tuple(dialog.issues_table.item(row, col).text() for col in range(3))
        for row in range(dialog.issues_table.rowCount())
    ]
    assert [row[:2] for row in rows] == [("new.jsonl:2", "line"), ("new.jsonl:3", "R001"), ("new.jsonl:4", "N002")]
    assert "not valid JSON" in rows[0][2] and "already exists" in rows[1][2] and "NOPE" in rows[2][2]
    assert "已导入 2 条病历，跳过 3 条，3 个问题。" in dialog.summary_label.text()
    assert dialog.progress.value() == dialog.progress.maximum() == 5
    # the list and the counts follow at once
    assert window.count_label.text() == "共 6 条记录"
    assert {"N001", "N003"} <= {window.record_list.model.index(r, 0).data() for r in range(6)}
    assert db.records.get("N003").record.specialty == "respiratory"
    assert db.audit.entries("N001")[0].who == window.correction.who
    close_dialog(qtbot, dialog)
    qtbot.waitUntil(lambda: window.app_actions.dialog is None)


def test_import_of_a_folder_of_text_files(qtbot, db: Database, tmp_path: Path):
    folder = tmp_path / "notes"
    (folder / "gastro").mkdir(parents=True)
    (folder / "gastro" / "T1.txt").write_text("腹胀三天。", encoding="utf-8")
    (folder / "T2.txt").write_bytes("咳嗽，痰白。".encode("gb18030"))
    (folder / "empty.txt").write_text("  \n", encoding="utf-8")
    dialog = ImportDialog(db, who="tester")
    qtbot.addWidget(dialog)
    dialog.set_source(folder)
    assert "文件夹" in dialog.format_label.text()
    with qtbot.waitSignal(dialog.imported, timeout=TASK_TIMEOUT_MS) as done:
        dialog.start()
    summary = done.args[0]
    assert summary.imported == 2 and [i.where for i in summary.issues] == ["notes/empty.txt"]
    assert any("gb18030" in note for note in summary.notes)
    assert "gb18030" in dialog.notes_label.text()
    assert db.records.get("T1").record.specialty == "gastro"
    assert db.records.get("T2").record.text == "咳嗽，痰白。"


def test_stopping_an_import_keeps_what_was_stored_and_says_how_far_it_got(qtbot, db: Database, tmp_path: Path):
    source = write_jsonl(tmp_path / "many.jsonl", [interchange(f"M{i:04d}") for i in range(1500)])
    dialog = ImportDialog(db, who="tester")
    qtbot.addWidget(dialog)
    dialog.set_source(source)
    with qtbot.waitSignal(dialog.imported, timeout=TASK_TIMEOUT_MS):
        dialog.start()
        dialog.reject()  # closing while it runs stops it instead of closing
        assert dialog.runner.running and not dialog.cancel_button.isEnabled()
    summary = dialog.summary
    assert summary.cancelled and summary.imported < 1500
    assert db.records.count() == 4 + summary.imported
    assert "已停止" in dialog.summary_label.text()
    assert dialog.close_button.isEnabled() and dialog.import_button.isEnabled()


def test_an_import_that_fails_shows_the_error(qtbot, db: Database, tmp_path: Path, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("tcm_desktop.ui.import_dialog.import_records", broken)
    dialog = ImportDialog(db, who="tester")
    qtbot.addWidget(dialog)
    dialog.set_source(write_jsonl(tmp_path / "one.jsonl", [interchange("X1")]))
    with qtbot.waitSignal(dialog.runner.failed, timeout=TASK_TIMEOUT_MS):
        dialog.start()
    assert "RuntimeError: disk on fire" in dialog.summary_label.text()
    assert dialog.summary is None and dialog.import_button.isEnabled()


def test_a_source_that_cannot_be_imported_is_refused_before_starting(qtbot, db: Database, tmp_path: Path):
    dialog = ImportDialog(db, who="tester")
    qtbot.addWidget(dialog)
    dialog.set_source(tmp_path / "nowhere.jsonl")
    assert not dialog.import_button.isEnabled()
    assert "找不到" in dialog.format_label.text()
    odd = tmp_path / "table.xlsx"
    odd.write_bytes(b"PK")
    dialog.set_source(odd)
    assert not dialog.start()
    assert "cannot import table.xlsx" in dialog.summary_label.text()
    assert not dialog.runner.running


# --- export ------------------------------------------------------------------------------


def run_export(qtbot, dialog: ExportDialog):
    with qtbot.waitSignal(dialog.runner.finished, timeout=TASK_TIMEOUT_MS) as done:
        assert dialog.start()
    return done.args[0]


def test_export_all_records_as_jsonl_from_the_file_menu(qtbot, window: MainWindow, tmp_path: Path):
    window.app_actions.export_action.trigger()
    dialog = window.app_actions.dialog
    assert isinstance(dialog, ExportDialog)
    out = tmp_path / "out" / "all.jsonl"
    dialog.set_format("jsonl")
    dialog.set_out(out)
    summary = run_export(qtbot, dialog)
    assert summary.count == 4
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["R001", "R002", "R003", "R004"]
    assert records[0]["image"].startswith("all_images/") and (out.parent / records[0]["image"]).is_file()
    assert "已导出 4 条病历" in dialog.result_label.text()
    close_dialog(qtbot, dialog)


def test_export_only_verified_records_as_csv(qtbot, db: Database, tmp_path: Path):
    stored = db.records.get("R002").record
    db.annotations.save("R002", stored.spans, stored.form, who="tester", verify=True)
    dialog = ExportDialog(db, RecordFilter())
    qtbot.addWidget(dialog)
    assert dialog.scope_radios[ExportScope.VERIFIED].text() == "仅已审核的病历（1 条）"
    assert dialog.scope_radios[ExportScope.FILTERED].isHidden()  # the list shows everything
    dialog.set_format("csv")
    dialog.set_scope(ExportScope.VERIFIED)
    dialog.set_out(tmp_path / "verified.csv")
    assert run_export(qtbot, dialog).count == 1
    with (tmp_path / "verified.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["id"] for row in rows] == ["R002"]


def test_export_the_records_the_list_shows_as_bio(qtbot, window: MainWindow, db: Database, tmp_path: Path):
    window.browser.set_specialty("respiratory")
    window.app_actions.export_action.trigger()
    dialog = window.app_actions.dialog
    radio = dialog.scope_radios[ExportScope.FILTERED]
    assert not radio.isHidden() and radio.text() == "列表当前显示的病历（1 条）"
    dialog.set_scope(ExportScope.FILTERED)
    dialog.set_format("bio")
    assert "BIO" in dialog.images_label.text()
    out = tmp_path / "shown.bio"
    dialog.set_out(out)
    assert run_export(qtbot, dialog).count == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith('# {"id": "R002", "specialty": "respiratory"}\n咳 B-SYM\n')
    close_dialog(qtbot, dialog)


def test_export_of_the_listed_records_keeps_the_confidence_filter(qtbot, db: Database, tmp_path: Path):
    from tcm_desktop.domain import Prediction

    db.predictions.add(Prediction("R002", "tiny@1", (), uncertainty=0.31))
    db.predictions.add(Prediction("R003", "tiny@1", (), uncertainty=0.02))
    dialog = ExportDialog(db, RecordFilter(min_uncertainty=0.1))
    qtbot.addWidget(dialog)
    assert dialog.scope_radios[ExportScope.FILTERED].text() == "列表当前显示的病历（1 条）"
    dialog.set_scope(ExportScope.FILTERED)
    dialog.set_format("jsonl")
    out = tmp_path / "unsure.jsonl"
    dialog.set_out(out)
    assert run_export(qtbot, dialog).count == 1
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["R002"]
    close_dialog(qtbot, dialog)


def test_changing_the_format_changes_the_file_suffix(qtbot, db: Database, tmp_path: Path):
    dialog = ExportDialog(db, RecordFilter())
    qtbot.addWidget(dialog)
    dialog.set_out(tmp_path / "clinic.jsonl")
    dialog.set_format("csv")
    assert dialog.out == tmp_path / "clinic.csv"
    assert "clinic_images" in dialog.images_label.text()


def test_a_stopped_export_leaves_no_file(qtbot, db: Database, tmp_path: Path):
    for i in range(300):
        db.records.add(Record(f"E{i:03d}", "general", "头痛。"))
    dialog = ExportDialog(db, RecordFilter())
    qtbot.addWidget(dialog)
    out = tmp_path / "stopped" / "big.jsonl"
    dialog.set_out(out)
    with qtbot.waitSignal(dialog.runner.cancelled, timeout=TASK_TIMEOUT_MS):
        assert dialog.start()
        dialog.cancel()
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    assert "没有写入文件" in dialog.result_label.text()
    assert dialog.export_button.isEnabled()


def test_a_failed_export_shows_why_and_writes_nothing(qtbot, db: Database, tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    dialog = ExportDialog(db, RecordFilter())
    qtbot.addWidget(dialog)
    dialog.set_out(blocker / "out.jsonl")
    with qtbot.waitSignal(dialog.runner.failed, timeout=TASK_TIMEOUT_MS):
        assert dialog.start()
    assert "导出失败，没有写入文件" in dialog.result_label.text() and "cannot write" in dialog.result_label.text()
    assert blocker.read_text(encoding="utf-8") == "a file where a folder should be"


def test_an_existing_file_is_replaced_only_when_the_user_agrees(qtbot, db: Database, tmp_path: Path, monkeypatch):
    out = tmp_path / "keep.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    dialog = ExportDialog(db, RecordFilter())
    qtbot.addWidget(dialog)
    dialog.set_out(out)
    answers = iter([False, True])
    monkeypatch.setattr(dialog, "confirm_overwrite", lambda _path: next(answers))
    assert not dialog.start()
    assert out.read_text(encoding="utf-8") == "precious\n"
    assert run_export(qtbot, dialog).count == 4
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4


def test_nothing_to_export_disables_the_button(qtbot, db: Database):
    dialog = ExportDialog(db, RecordFilter(status=RecordStatus.VERIFIED))
    qtbot.addWidget(dialog)
    dialog.set_scope(ExportScope.VERIFIED)
    assert not dialog.export_button.isEnabled() and not dialog.start()
