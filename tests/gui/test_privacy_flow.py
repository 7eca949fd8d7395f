"""Privacy over a whole session: no network connection, no record text in the logs, de-identified exports.

The flow is what a clinician does in a day: import a file, open the main window
with the shipped model bundle, let the model structure a record, correct and
save it, export, back up. Sockets are patched to refuse (and record) any
connection or name lookup; on Linux the process's open sockets are also
compared with the kernel's TCP/UDP tables, which catches connections made
below Python (Qt, ONNX Runtime).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tcm_desktop.domain import Record, Schema
from tcm_desktop.store import Database
from tcm_desktop.store.backup import backup_database
from tcm_desktop.ui.export_dialog import ExportDialog
from tcm_desktop.ui.import_dialog import ImportDialog
from tcm_desktop.ui.main_window import MainWindow
from tcm_desktop.ui.record_browser import RecordFilter

from .test_correction import ScriptedPrompter

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "tcm-text"
TASK_TIMEOUT_MS = 60_000
PII_NOTE = (
    "患者张三，男，45岁，电话13812345678，住址：北京市朝阳区幸福路12号。"
    "主诉：腹痛腹泻3天。患者腹泻每日5~8次，伴黏液脓血便，舌淡红，苔薄白，脉细。"
)
OTHER_NOTE = "咳嗽3天，咳黄痰，无发热。舌红，苔黄腻，脉滑数。"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every way Python code opens a connection or resolves a name refuses, and is recorded."""
    attempts: list[str] = []

    def refuse(what: str):
        def blocked(*args: object, **kwargs: object) -> object:
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(f"network access is blocked in this test ({what})")

        return blocked

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse(name))
    yield attempts


def inet_sockets() -> set[str]:
    """Local addresses of this process's TCP/UDP sockets (Linux; empty elsewhere)."""
    tables = [Path(f"/proc/self/net/{name}") for name in ("tcp", "tcp6", "udp", "udp6")]
    if not tables[0].exists():
        return set()
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in tables:
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                found.add(f"{table.name} {fields[1]} -> {fields[2]}")
    return found


def test_a_full_session_opens_no_connection_logs_no_record_text_and_exports_masked(
    qtbot, tmp_path: Path, schema: Schema, settings_path: Path, no_network: list[str], caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    sockets_before = inet_sockets()
    source = tmp_path / "today.jsonl"
    rows = [{"id": "P1", "specialty": "gastro", "text": PII_NOTE}, {"id": "P2", "text": OTHER_NOTE}]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    db = Database.open(tmp_path / "clinic.db", check=True)
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    window = MainWindow(db, schema, settings=settings, model_dir=SHIPPED, who="dr.test", prompter=ScriptedPrompter())
    qtbot.addWidget(window)
    window.show()
    try:
        window.app_actions.import_action.trigger()  # 1. import
        importer = window.app_actions.dialog
        assert isinstance(importer, ImportDialog) and not importer.deidentify_check.isChecked()
        importer.set_source(source)
        with qtbot.waitSignal(importer.database_changed, timeout=TASK_TIMEOUT_MS):
            assert importer.start()
        assert importer.summary is not None and importer.summary.imported == 2
        importer.reject()

        with qtbot.waitSignal(window.prediction_shown, timeout=TASK_TIMEOUT_MS):  # 2. the model structures
            assert window.select_record("P1")
        prediction = db.predictions.latest("P1")
        assert prediction is not None and prediction.spans

        window.correction.set_form_value("chief_complaint", "腹痛腹泻3天")  # 3. correct and save
        assert window.correction.save()
        assert db.records.get("P1").record.form["chief_complaint"] == "腹痛腹泻3天"

        window.app_actions.export_action.trigger()  # 4. export (de-identified by default)
        exporter = window.app_actions.dialog
        assert isinstance(exporter, ExportDialog) and exporter.deidentify_check.isChecked()
        out = tmp_path / "export.jsonl"
        exporter.set_out(out)
        with qtbot.waitSignal(exporter.runner.finished, timeout=TASK_TIMEOUT_MS):
            assert exporter.start()
        exporter.reject()
        backup_database(db.path)  # 5. back up
    finally:
        window.close()
        db.close()

    exported = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert exported["P2"]["text"] == OTHER_NOTE
    masked = exported["P1"]["text"]
    assert len(masked) == len(PII_NOTE) and "腹痛腹泻3天" in masked
    for secret in ("张三", "13812345678", "幸福路"):
        assert secret not in masked
    assert all(masked[s["start"] : s["end"]] == s["text"] for s in exported["P1"]["spans"])

    assert no_network == []
    assert inet_sockets() <= sockets_before
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for piece in ("张三", "13812345678", "腹泻", "咳嗽", "黄痰"):
        assert piece not in logged


def test_the_import_dialog_can_deidentify(qtbot, tmp_path: Path, plain_db: Database) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "P9", "text": PII_NOTE}, ensure_ascii=False) + "\n", encoding="utf-8")
    dialog = ImportDialog(plain_db, "dr.test")
    qtbot.addWidget(dialog)
    dialog.set_source(source)
    dialog.deidentify_check.setChecked(True)
    with qtbot.waitSignal(dialog.database_changed, timeout=TASK_TIMEOUT_MS):
        assert dialog.start()
    text = plain_db.records.get("P9").record.text
    assert len(text) == len(PII_NOTE) and "13812345678" not in text and "张三" not in text


def test_the_export_dialog_can_write_the_text_as_stored(qtbot, tmp_path: Path, plain_db: Database) -> None:
    plain_db.records.add(Record("P9", "general", PII_NOTE), who="t")
    dialog = ExportDialog(plain_db, RecordFilter())
    qtbot.addWidget(dialog)
    dialog.deidentify_check.setChecked(False)
    out = tmp_path / "plain.jsonl"
    dialog.set_out(out)
    with qtbot.waitSignal(dialog.runner.finished, timeout=TASK_TIMEOUT_MS):
        assert dialog.start()
    assert PII_NOTE in out.read_text(encoding="utf-8")
