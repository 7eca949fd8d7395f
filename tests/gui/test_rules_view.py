"""The knowledge-mining dialog against a real SQLite database: sortable rules, drill-down, plots saved as PNG."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tcm_desktop.domain import FormValue, Prediction, Record, Span
from tcm_desktop.mining_data import RecordSource, load_statistics
from tcm_desktop.store import Database, StoreError
from tcm_desktop.ui.rules_view import RulesDialog, RulesTableModel, open_rules_dialog

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONFIDENCE = 3

# (id, syndrome, present symptoms, negated symptom): 肝郁气滞证 -> 口苦 in 3 of 4, 胁肋胀痛 in 2 of 4;
# 脾气虚证 -> 乏力 in 2 of 2; 发热 is only ever written negated (无发热).
ROWS = [
    ("R1", "肝郁气滞证", ["口苦", "胁肋胀痛"], "发热"),
    ("R2", "肝郁气滞证", ["口苦"], "发热"),
    ("R3", "肝郁气滞证", ["口苦", "胁肋胀痛"], "发热"),
    ("R4", "肝郁气滞证", ["乏力"], "发热"),
    ("R5", "脾气虚证", ["乏力"], "发热"),
    ("R6", "脾气虚证", ["乏力"], "发热"),
]


def _record(record_id: str, syndrome: str, present: list[str], negated: str) -> Record:
    text, spans = "主诉：", []
    for k, word in enumerate(present):
        text += "、" if k else ""
        spans.append(Span(len(text), len(text) + len(word), "SYM", word, 0.9))
        text += word
    text += "，"
    spans.append(Span(len(text), len(text) + 1, "NEGATION", "无", 0.8))
    spans.append(Span(len(text) + 1, len(text) + 1 + len(negated), "SYM", negated, 0.4))
    text += "无" + negated + "。\n中医诊断："
    spans.append(Span(len(text), len(text) + len(syndrome), "SYNDROME", syndrome, 0.7))
    text += syndrome
    return Record(record_id, "general", text, spans=tuple(spans), form={"syndromes": [syndrome]})


@pytest.fixture
def mining_db(tmp_path: Path, qapp: object) -> Iterator[Database]:
    """Six records, predicted by model m1 and then verified (R6 corrected: its syndrome span was missing)."""
    database = Database.open(tmp_path / "mining.sqlite")
    for row in ROWS:
        record = _record(*row)
        database.records.add(Record(record.id, record.specialty, record.text))
        predicted = record.spans if record.id != "R6" else record.spans[:-1]
        form = (FormValue("syndromes", list(record.form["syndromes"])),)
        database.predictions.add(Prediction(record.id, "m1", predicted, form if record.id != "R6" else (), 0.2))
        database.annotations.save(record.id, record.spans, record.form, who="dr.li", verify=True)
    yield database
    database.close()


def _dialog(qtbot: QtBot, db: Database) -> RulesDialog:
    dialog = open_rules_dialog(None, db)
    qtbot.addWidget(dialog)
    _mined(qtbot, dialog)
    return dialog


def _mined(qtbot: QtBot, dialog: RulesDialog) -> None:
    """Wait for the worker thread's mining to be shown."""
    qtbot.waitUntil(lambda: not dialog.rules.busy and not dialog.statistics_busy, timeout=30_000)


def _shown(dialog: RulesDialog) -> list[tuple[str, str, float]]:
    view = dialog.rules
    return [
        (str(view.rule_at(row).antecedent[0]), str(view.rule_at(row).consequent[0]), view.rule_at(row).confidence)
        for row in range(view.proxy.rowCount())
    ]


def test_opens_on_verified_records_with_syndrome_to_symptom_rules(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    assert dialog.isVisible() and dialog.rules.record_source is RecordSource.VERIFIED
    rules = _shown(dialog)
    assert rules == [
        ("证候:脾气虚证", "症状:乏力", 1.0),
        ("证候:肝郁气滞证", "症状:口苦", 0.75),
        ("证候:肝郁气滞证", "症状:胁肋胀痛", 0.5),
    ]
    assert all("发热" not in consequent for _, consequent, _ in rules)  # only ever negated
    assert "3 条规则，来自 6 条已审核记录" in dialog.rules.status.text()


def test_clicking_a_header_sorts_the_rules(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    header = dialog.rules.table.horizontalHeader()
    qtbot.waitExposed(dialog)
    middle = QPoint(
        header.sectionViewportPosition(CONFIDENCE) + header.sectionSize(CONFIDENCE) // 2, header.height() // 2
    )
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=middle)  # was descending: now ascending
    assert [c for _, _, c in _shown(dialog)] == [0.5, 0.75, 1.0]
    dialog.rules.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # record count
    counts = [dialog.rules.rule_at(r).count for r in range(dialog.rules.proxy.rowCount())]
    assert counts == sorted(counts, reverse=True) and counts[0] == 3
    model = dialog.rules.model
    assert model.headerData(CONFIDENCE, Qt.Orientation.Horizontal) == RulesTableModel.HEADERS[CONFIDENCE]
    first = dialog.rules.proxy.index(0, CONFIDENCE)
    assert first.data() == f"{dialog.rules.rule_at(0).confidence:.3f}"


def test_enter_on_a_rule_emits_its_record_ids(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    view = dialog.rules
    row = next(r for r in range(view.proxy.rowCount()) if str(view.rule_at(r).consequent[0]) == "症状:口苦")
    index = view.proxy.index(row, 0)
    view.table.setCurrentIndex(index)
    view.table.setFocus()
    with qtbot.waitSignal(dialog.records_requested, timeout=2000) as blocker:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)  # the keyboard's double-click
    assert blocker.args == [["R1", "R2", "R3"]]
    assert [view.records.item(k).text() for k in range(view.records.count())] == ["R1", "R2", "R3"]


def test_changing_thresholds_and_kinds_mines_again(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    view = dialog.rules
    view.min_confidence.setValue(0.7)
    qtbot.mouseClick(view.mine_button, Qt.MouseButton.LeftButton)
    _mined(qtbot, dialog)
    assert [c for _, _, c in _shown(dialog)] == [1.0, 0.75]
    view.antecedent.setCurrentIndex(view.antecedent.findData("symptom"))
    view.consequent.setCurrentIndex(view.consequent.findData("syndrome"))
    view.min_confidence.setValue(0.6)
    view.mine()
    _mined(qtbot, dialog)
    assert ("症状:胁肋胀痛", "证候:肝郁气滞证", 1.0) in _shown(dialog)


def test_predicted_source_mines_the_model_output_and_updates_the_plots(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    view = dialog.rules
    before = dialog.statistics.figure("entities")
    view.source.setCurrentIndex(view.source.findData(RecordSource.PREDICTED.value))
    assert view.record_source is RecordSource.PREDICTED
    _mined(qtbot, dialog)
    # R6's prediction had no syndrome, so 脾气虚证 -> 乏力 rests on R5 alone
    assert ("证候:脾气虚证", "症状:乏力", 1.0) in _shown(dialog)
    assert "来自 6 条模型预测" in view.status.text()
    assert dialog.statistics.figure("entities") is not before


def test_save_png_writes_each_plot(qtbot: QtBot, mining_db: Database, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, mining_db)
    stats_view = dialog.statistics
    assert stats_view.plot_names == ["entities", "confidence", "corrections"]
    for name in stats_view.plot_names:
        written = stats_view.save_png(name, tmp_path / name)
        assert written.read_bytes().startswith(PNG_SIGNATURE)


def test_the_save_png_action_asks_for_a_file(
    qtbot: QtBot, mining_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = _dialog(qtbot, mining_db)
    stats_view = dialog.statistics
    stats_view.tabs.setCurrentIndex(2)
    target = tmp_path / "rates.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "PNG (*.png)")))
    with qtbot.waitSignal(stats_view.saved, timeout=2000) as blocker:
        stats_view.save_action.trigger()
    assert blocker.args == [str(target)]
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert "已保存" in stats_view.status.text()


def test_correction_rate_comes_from_the_reviews(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    rates = dialog.statistics.figure("corrections").axes[0].get_lines()
    assert len(rates) == 1 and rates[0].get_label() == "m1"
    assert list(rates[0].get_ydata()) == pytest.approx([100.0 / 6])  # R6 of six reviews was changed


def test_an_empty_database_opens_with_a_hint(qtbot: QtBot, tmp_path: Path, qapp: object) -> None:
    with Database.open(tmp_path / "empty.sqlite") as empty:
        dialog = _dialog(qtbot, empty)
        assert dialog.rules.record_source is RecordSource.ANNOTATED
        assert dialog.rules.proxy.rowCount() == 0
        assert "没有全部已标注记录" in dialog.rules.status.text()


def test_reload_reads_records_verified_after_opening(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    record = _record("R7", "脾气虚证", ["口苦"], "发热")
    mining_db.records.add(record)
    mining_db.annotations.save(record.id, record.spans, record.form, who="dr.li", verify=True)
    dialog.rules.mine()  # the same settings mine the records read before
    _mined(qtbot, dialog)
    assert "来自 6 条已审核记录" in dialog.rules.status.text()
    qtbot.mouseClick(dialog.rules.reload_button, Qt.MouseButton.LeftButton)
    _mined(qtbot, dialog)
    assert "来自 7 条已审核记录" in dialog.rules.status.text()
    assert ("证候:脾气虚证", "症状:乏力", 2 / 3) in [(a, c, pytest.approx(v)) for a, c, v in _shown(dialog)]


def test_mining_runs_off_the_gui_thread_and_the_latest_settings_win(qtbot: QtBot, mining_db: Database) -> None:
    dialog = _dialog(qtbot, mining_db)
    view = dialog.rules
    results = []
    view.mined.connect(results.append)
    view.mine()
    assert view.busy and not view.mine_button.isEnabled()  # returned at once; the worker mines
    view.min_confidence.setValue(0.7)
    view.mine()  # asked while the first still runs: mined once more afterwards, with 0.7
    _mined(qtbot, dialog)
    assert len(results) == 2 and view.mine_button.isEnabled()
    assert [c for _, _, c in _shown(dialog)] == [1.0, 0.75]


def test_a_failed_read_is_shown_not_raised(qtbot: QtBot, mining_db: Database) -> None:
    def unreadable(_source: RecordSource) -> list:
        raise StoreError("the database went away")

    dialog = RulesDialog(unreadable, partial(load_statistics, mining_db), RecordSource.VERIFIED)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.rules.mined, timeout=30_000) as blocker:
        pass  # the dialog mines once on opening
    assert blocker.args == [None]
    assert "无法挖掘" in dialog.rules.status.text() and "went away" in dialog.rules.status.text()
    assert dialog.rules.proxy.rowCount() == 0 and dialog.rules.mine_button.isEnabled()


def test_every_plot_title_is_in_the_translation_catalogue() -> None:
    from tcm_desktop.mining.plots import PLOTS
    from tcm_desktop.ui.statistics_view import PLOT_TITLES

    assert set(PLOT_TITLES) == {title for title, _build in PLOTS.values()}


def test_statistics_load_off_the_gui_thread_and_a_failure_is_shown(qtbot: QtBot, mining_db: Database) -> None:
    import threading

    threads: list[str] = []

    def statistics(source: RecordSource):
        threads.append(threading.current_thread().name)
        if source is RecordSource.PREDICTED:
            raise StoreError("the statistics went away")
        return load_statistics(mining_db, source)

    dialog = RulesDialog(lambda _source: [], statistics, RecordSource.VERIFIED)
    qtbot.addWidget(dialog)
    _mined(qtbot, dialog)
    assert dialog.statistics.figure("entities") is not None and threading.main_thread().name not in threads
    with qtbot.waitSignal(dialog.statistics_loaded, timeout=30_000) as blocker:
        dialog.rules.source.setCurrentIndex(dialog.rules.source.findData(RecordSource.PREDICTED.value))
    assert blocker.args == [None] and "went away" in dialog.statistics.status.text()
