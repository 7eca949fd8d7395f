"""Start-up reliability in the GUI: a damaged database restored from a backup, a second instance warned,
scheduled backups off the GUI thread, and a tampered model bundle refused with a fall back to the
previous registered version."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tcm_desktop.domain import Record, Schema
from tcm_desktop.domain.settings import AppSettings, SettingsFile
from tcm_desktop.store import Database, DatabaseCorrupt
from tcm_desktop.store.backup import backup_database, backups_dir, list_backups
from tcm_desktop.ui import app as app_module
from tcm_desktop.ui.backup_scheduler import BackupScheduler
from tcm_desktop.ui.main_window import MainWindow
from tcm_desktop.ui.model_fallback import fall_back_if_refused, fallback_message
from tcm_desktop.ui.settings_dialog import SettingsDialog
from tcm_desktop.ui.startup import open_database_at_start, restore_question, take_instance_lock

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "tcm-text"


def make_db(path: Path, n: int = 60) -> Path:
    with Database.open(path) as db:
        for i in range(n):
            db.records.add(Record(f"R{i:03d}", "general", "咳嗽三天，痰黄。" * 10), who="t")
    return path


def corrupt(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek((size // 2) // 4096 * 4096)
        fh.write(b"\xa5" * 4096)


# --- a damaged database -------------------------------------------------------------


def test_a_damaged_database_is_offered_its_newest_good_backup(qapp, tmp_path: Path) -> None:
    path = make_db(tmp_path / "clinic.db")
    good = backup_database(path)
    corrupt(path)
    questions: list[str] = []

    def answer(yes: bool):
        def confirm(error: DatabaseCorrupt, backup) -> bool:
            questions.append(restore_question(error, backup))
            return yes

        return confirm

    with pytest.raises(DatabaseCorrupt):
        open_database_at_start(path, answer(False))
    assert "clinic.db" in questions[0] and "quick_check" in questions[0] and good.path.name in questions[0]
    db, note = open_database_at_start(path, answer(True))
    with db:
        assert db.records.count() == 60
    assert note is not None and good.path.name in note and "before-restore" in note


def test_file_open_of_a_damaged_database_offers_its_backup_too(
    qtbot, tmp_path: Path, db: Database, schema: Schema
) -> None:
    path = make_db(tmp_path / "other.db", n=5)
    good = backup_database(path)
    corrupt(path)
    window = MainWindow(db, schema, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    offered: list[str] = []
    window.restore_prompt = lambda error, backup: offered.append(backup.path.name) or True
    assert window.open_database(path)
    assert offered == [good.path.name]
    assert window.database.records.count() == 5 and good.path.name in window.statusBar().currentMessage()


def test_the_app_names_a_damaged_database_and_exits_2_when_it_cannot_ask(qapp, tmp_path: Path, capsys) -> None:
    path = make_db(tmp_path / "clinic.db")
    corrupt(path)
    status = app_module.main(["--db", str(path), "--no-model", "--screenshot", str(tmp_path / "shot.png")])
    assert status == 2
    err = capsys.readouterr().err
    assert "clinic.db" in err and "damaged" in err and "Traceback" not in err


# --- a second instance ------------------------------------------------------------------


def test_a_second_instance_is_warned_not_refused(qapp, tmp_path: Path) -> None:
    path = make_db(tmp_path / "clinic.db", n=1)
    first, warning = take_instance_lock(path)
    assert first is not None and warning is None
    try:
        second, warning = take_instance_lock(path)
        assert second is None and warning is not None
        assert "clinic.db" in warning and "另一个程序" in warning and "process" in warning
    finally:
        first.release()
    third, warning = take_instance_lock(path)
    assert third is not None and warning is None
    third.release()


# --- scheduled backups --------------------------------------------------------------------


def test_the_scheduler_backs_up_at_start_when_due_and_on_every_tick(qtbot, tmp_path: Path) -> None:
    path = make_db(tmp_path / "clinic.db")
    scheduler = BackupScheduler(path, interval_ms=400, keep=5)
    try:
        with qtbot.waitSignal(scheduler.backed_up, timeout=30_000) as first:
            assert scheduler.start()  # no backup yet: one now
        with qtbot.waitSignal(scheduler.backed_up, timeout=30_000) as second:
            pass  # the next tick
        assert first.args[0].path != second.args[0].path
        assert len(list_backups(backups_dir(path), "clinic")) >= 2
    finally:
        scheduler.stop()


@pytest.fixture
def window_with_backups(
    qtbot, tmp_path: Path, db: Database, schema: Schema
) -> Iterator[tuple[MainWindow, BackupScheduler]]:
    """A main window with the app's backup scheduler, its first backup done."""
    window = MainWindow(db, schema, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    scheduler = app_module._start_backups(window, db, AppSettings())
    qtbot.waitUntil(lambda: not scheduler.runner.running, timeout=30_000)
    yield window, scheduler
    scheduler.stop()


def test_after_file_open_the_scheduler_backs_up_the_database_now_browsed(
    qtbot, tmp_path: Path, window_with_backups: tuple[MainWindow, BackupScheduler]
) -> None:
    window, scheduler = window_with_backups
    other = make_db(tmp_path / "other.db", n=3)
    with qtbot.waitSignal(scheduler.backed_up, timeout=30_000) as done:
        assert window.open_database(other)
    assert done.args[0].path.name.startswith("other-backup-") and scheduler.db_path == other.resolve()


def test_file_back_up_now_makes_a_backup_even_when_one_is_recent(
    qtbot, window_with_backups: tuple[MainWindow, BackupScheduler]
) -> None:
    window, scheduler = window_with_backups
    assert scheduler.backup_action in window.file_menu.actions()
    with qtbot.waitSignal(scheduler.backed_up, timeout=30_000) as done:
        scheduler.backup_action.trigger()
    assert done.args[0].path.is_file() and str(done.args[0].path) in window.statusBar().currentMessage()


def test_the_scheduler_waits_when_the_last_backup_is_recent_and_can_be_turned_off(qtbot, tmp_path: Path) -> None:
    path = make_db(tmp_path / "clinic.db")
    backup_database(path, now=datetime.now(UTC))
    scheduler = BackupScheduler.for_settings(path, AppSettings(backup_interval_minutes=60, backup_keep=3))
    assert (scheduler.interval_ms, scheduler.keep) == (3_600_000, 3)
    assert not scheduler.start() and scheduler.timer.isActive()
    scheduler.apply_settings(AppSettings(backup_interval_minutes=0))
    assert not scheduler.enabled and not scheduler.timer.isActive()
    scheduler.stop()


def test_backup_settings_are_edited_in_preferences(qtbot, tmp_path: Path, schema: Schema) -> None:
    file = SettingsFile(tmp_path / "settings.toml", schema)
    dialog = SettingsDialog(AppSettings(), file, schema)
    qtbot.addWidget(dialog)
    assert dialog.backup_interval_spin.value() == 60 and dialog.backup_keep_spin.value() == 10
    dialog.backup_interval_spin.setValue(0)
    assert dialog.backup_interval_spin.text() == "不自动备份"
    dialog.backup_keep_spin.setValue(25)
    dialog.accept()
    loaded = file.load().settings
    assert (loaded.backup_interval_minutes, loaded.backup_keep) == (0, 25)


# --- a tampered model bundle ------------------------------------------------------------------


@pytest.fixture
def two_versions(tmp_path: Path, db: Database) -> tuple[Path, Path]:
    """Copies of the shipped bundle registered as m@1 then m@2 (m@2 active); the copies may be damaged."""
    v1, v2 = tmp_path / "models" / "v1", tmp_path / "models" / "v2"
    shutil.copytree(SHIPPED, v1)
    shutil.copytree(SHIPPED, v2)
    for version, folder in (("m@1", v1), ("m@2", v2)):
        db.models.register(version, "m", str(folder), {}, who="t")
        db.models.activate(version, who="t")
    return v1, v2


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_bundle_with_one_changed_byte_is_refused_and_the_previous_version_used(
    qtbot, db: Database, schema: Schema, settings_path: Path, two_versions: tuple[Path, Path]
) -> None:
    v1, v2 = two_versions
    flip_one_byte(v2 / "text.onnx")
    model_dir = app_module._model_dir(app_module._parse([]), AppSettings(), db)
    assert model_dir == v2
    choice = fall_back_if_refused(model_dir, db, "dr.test")
    assert (choice.folder, choice.version) == (v1, "m@1") and choice.fell_back
    (refused,) = choice.refused
    assert (refused.version, refused.file) == ("m@2", "text.onnx")
    message = fallback_message(choice)
    assert "m@2" in message and "text.onnx" in message and "m@1" in message
    assert db.models.active().version == "m@1"
    entry = db.audit.entries(limit=1)[0]
    assert (entry.action, entry.who) == ("activate_model", "dr.test")
    assert entry.after == {"version": "m@1", "roll_back": True}
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    window = MainWindow(db, schema, settings=settings, model_dir=choice.folder)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.inference.model_loaded, timeout=60_000):
        window.show()
    assert window.inference.model_dir == v1
    window.close()


def test_nothing_usable_means_no_model_and_says_so(qapp, db: Database, two_versions: tuple[Path, Path]) -> None:
    v1, v2 = two_versions
    flip_one_byte(v1 / "crf.npz")
    flip_one_byte(v2 / "vocab.txt")
    choice = fall_back_if_refused(v2, db, "dr.test")
    assert choice.folder is None and [(r.version, r.file) for r in choice.refused] == [
        ("m@2", "vocab.txt"),
        ("m@1", "crf.npz"),
    ]
    assert "本次不使用模型" in fallback_message(choice)
    assert db.models.active().version == "m@2"  # nothing to switch to: the registry is left alone


def test_an_intact_or_unregistered_bundle_is_left_alone(qapp, db: Database, two_versions: tuple[Path, Path]) -> None:
    v1, v2 = two_versions
    assert fall_back_if_refused(v2, db, "dr.test").folder == v2  # intact
    flip_one_byte(v1 / "text.onnx")
    assert fall_back_if_refused(v1, db, "dr.test").folder == v1  # not the active model: the loader reports it


def test_switching_to_a_tampered_version_keeps_the_model_in_use(
    qtbot, db: Database, schema: Schema, settings_path: Path, two_versions: tuple[Path, Path]
) -> None:
    v1, v2 = two_versions
    db.models.activate("m@1", who="t")
    flip_one_byte(v2 / "text.onnx")
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    window = MainWindow(db, schema, settings=settings, model_dir=v1)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.inference.model_loaded, timeout=60_000):
        window.show()
    switcher = window.model_menu.switcher
    with qtbot.waitSignal(switcher.failed, timeout=60_000) as failed:
        assert switcher.switch_to("m@2")
    assert "text.onnx" in failed.args[0] and "仍使用原模型" in failed.args[0]
    assert db.models.active().version == "m@1" and window.inference.model_dir == v1
    window.close()
