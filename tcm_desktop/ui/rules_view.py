"""Association rules (sortable table, drill-down to records) and statistics, in one dialog.

    dialog = open_rules_dialog(main_window, database)
    dialog.records_requested.connect(main_window.show_records)   # list of record ids

The views take loaders (source -> transactions, source -> statistics) and
never touch the database themselves; :func:`open_rules_dialog` wires the
loaders of :mod:`tcm_desktop.mining_data` to a database. Reading, mining and
the statistics run off the GUI thread (TaskRunners; the loaders open their
own connection there); ``RulesView.mined`` and ``RulesDialog.statistics_loaded``
follow each run, and the latest request wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.domain import RecordStatus
from tcm_desktop.mining import ItemKind, MiningResult, Rule, RuleQuery, Transaction, mine_rules
from tcm_desktop.mining.rules import MAX_RULE_LENGTH
from tcm_desktop.mining.statistics import Statistics, entity_counts
from tcm_desktop.mining_data import RecordSource, load_statistics, load_transactions
from tcm_desktop.store import Database
from tcm_desktop.ui.statistics_view import StatisticsView
from tcm_desktop.ui.tables import read_only_table
from tcm_desktop.ui.task_worker import TaskRunner, TaskState

ModelIndex = QModelIndex | QPersistentModelIndex
T = TypeVar("T")
TransactionLoader = Callable[[RecordSource], Sequence[Transaction]]
StatisticsLoader = Callable[[RecordSource], Statistics]

# Shown names of the item kinds and record sources (the mining package names them in Chinese only).
KIND_NAMES = {
    ItemKind.SYNDROME: QT_TRANSLATE_NOOP("ItemKind", "证候"),
    ItemKind.SYMPTOM: QT_TRANSLATE_NOOP("ItemKind", "症状"),
    ItemKind.SIGN: QT_TRANSLATE_NOOP("ItemKind", "体征"),
    ItemKind.TONGUE: QT_TRANSLATE_NOOP("ItemKind", "舌象"),
    ItemKind.PULSE: QT_TRANSLATE_NOOP("ItemKind", "脉象"),
    ItemKind.HERB: QT_TRANSLATE_NOOP("ItemKind", "中药"),
}
SOURCE_NAMES = {
    RecordSource.VERIFIED: QT_TRANSLATE_NOOP("RecordSource", "已审核记录"),
    RecordSource.ANNOTATED: QT_TRANSLATE_NOOP("RecordSource", "全部已标注记录"),
    RecordSource.PREDICTED: QT_TRANSLATE_NOOP("RecordSource", "模型预测"),
}


def kind_name(kind: ItemKind) -> str:
    return QCoreApplication.translate("ItemKind", KIND_NAMES[kind])


def source_name(source: RecordSource) -> str:
    return QCoreApplication.translate("RecordSource", SOURCE_NAMES[source])


DEFAULT_MIN_SUPPORT = 0.02
DEFAULT_MIN_CONFIDENCE = 0.5
ANY_KIND = "any"


class RulesTableModel(QAbstractTableModel):
    """One row per rule: antecedent, consequent, support, confidence, lift, record count."""

    HEADERS = (
        QT_TRANSLATE_NOOP("RulesTableModel", "前项"),
        QT_TRANSLATE_NOOP("RulesTableModel", "后项"),
        QT_TRANSLATE_NOOP("RulesTableModel", "支持度"),
        QT_TRANSLATE_NOOP("RulesTableModel", "置信度"),
        QT_TRANSLATE_NOOP("RulesTableModel", "提升度"),
        QT_TRANSLATE_NOOP("RulesTableModel", "记录数"),
    )
    SORT_ROLE = Qt.ItemDataRole.UserRole + 1
    NUMERIC = (2, 3, 4, 5)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rules: list[Rule] = []

    def set_rules(self, rules: Sequence[Rule]) -> None:
        self.beginResetModel()
        self._rules = list(rules)
        self.endResetModel()

    def rule(self, row: int) -> Rule:
        return self._rules[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._rules)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return QCoreApplication.translate("RulesTableModel", self.HEADERS[section])
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rule, column = self._rules[index.row()], index.column()
        values = (
            "，".join(map(str, rule.antecedent)),
            "，".join(map(str, rule.consequent)),
            rule.support,
            rule.confidence,
            rule.lift,
            rule.count,
        )
        if role == self.SORT_ROLE:
            return values[column]
        if role == Qt.ItemDataRole.DisplayRole:
            shown = ("{}", "{}", "{:.4f}", "{:.3f}", "{:.2f}", "{}")[column]
            return shown.format(values[column])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return QCoreApplication.translate("RulesTableModel", "{0}\n{1} 条记录；双击列出").format(rule, rule.count)
        return None


def _kind_combo(default: str) -> QComboBox:
    combo = QComboBox()
    combo.addItem(QCoreApplication.translate("RulesView", "任意"), ANY_KIND)
    for kind in ItemKind:
        combo.addItem(kind_name(kind), kind.value)
    combo.setCurrentIndex(max(0, combo.findData(default)))
    return combo


def _kinds(combo: QComboBox) -> frozenset[ItemKind] | None:
    value = combo.currentData()
    return None if value == ANY_KIND else frozenset({ItemKind(value)})


class RulesView(QWidget):
    """Settings, a sortable rule table and the records of the rule last double-clicked."""

    records_requested = Signal(list)  # record ids holding every item of the double-clicked rule
    source_changed = Signal(str)  # RecordSource value
    mined = Signal(object)  # the MiningResult shown, or None when mining failed

    def __init__(
        self, load: TransactionLoader, source: RecordSource = RecordSource.VERIFIED, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._load = load
        self._transactions: dict[RecordSource, Sequence[Transaction]] = {}
        self.result: MiningResult | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._show_mined)
        self._runner.failed.connect(self._show_failure)
        self._again = False  # settings changed while a run was going: mine again after it

        self.source = QComboBox()
        for choice in RecordSource:
            self.source.addItem(source_name(choice), choice.value)
        self.source.setCurrentIndex(self.source.findData(RecordSource(source).value))
        self.min_support = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=1.0, singleStep=0.01)
        self.min_support.setValue(DEFAULT_MIN_SUPPORT)
        self.min_confidence = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.min_confidence.setValue(DEFAULT_MIN_CONFIDENCE)
        self.max_length = QSpinBox(minimum=2, maximum=MAX_RULE_LENGTH)
        self.antecedent = _kind_combo(ItemKind.SYNDROME.value)
        self.consequent = _kind_combo(ItemKind.SYMPTOM.value)
        self.mine_button = QPushButton(self.tr("挖掘"))
        self.mine_button.setDefault(True)
        self.reload_button = QPushButton(self.tr("重新读取"))
        self.reload_button.setToolTip(self.tr("重新读取记录（审核或预测了更多记录之后）"))
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.model = RulesTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(RulesTableModel.SORT_ROLE)
        self.table = read_only_table(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.records = QListWidget()
        self.records_label = QLabel(self.tr("双击规则或按 Enter 查看记录"))
        self.records_label.setWordWrap(True)

        settings = QFormLayout()
        settings.addRow(self.tr("记录来源"), self.source)
        settings.addRow(self.tr("最小支持度"), self.min_support)
        settings.addRow(self.tr("最小置信度"), self.min_confidence)
        settings.addRow(self.tr("规则最多项数"), self.max_length)
        settings.addRow(self.tr("前项类型"), self.antecedent)
        settings.addRow(self.tr("后项类型"), self.consequent)
        buttons = QHBoxLayout()
        buttons.addWidget(self.mine_button)
        buttons.addWidget(self.reload_button)
        settings.addRow(buttons)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.records_label)
        side_layout.addWidget(self.records, 1)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(settings)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

        self.mine_button.clicked.connect(self.mine)
        self.reload_button.clicked.connect(self.reload)
        self.source.currentIndexChanged.connect(self._source_picked)
        self.table.activated.connect(self._rule_activated)  # double-click, or Enter on the current rule

    @property
    def record_source(self) -> RecordSource:
        return RecordSource(self.source.currentData())

    def query(self) -> RuleQuery:
        return RuleQuery(
            min_support=round(self.min_support.value(), 6),
            min_confidence=round(self.min_confidence.value(), 6),
            max_length=self.max_length.value(),
            antecedent_kinds=_kinds(self.antecedent),
            consequent_kinds=_kinds(self.consequent),
        )

    @property
    def busy(self) -> bool:
        """True while records are read or mined (or a run waits to start after it)."""
        return self._runner.running or self._again

    def mine(self) -> None:
        """Mine with the current settings off the GUI thread; ``mined`` follows. Asked again while
        a run is going, it mines once more after it with the settings of then (the latest wins)."""
        if self._runner.running:
            self._again = True
            return
        source, query, load = self.record_source, self.query(), self._load
        known = self._transactions.get(source)

        def job(_state: TaskState) -> tuple[RecordSource, Sequence[Transaction], MiningResult]:
            transactions = known if known is not None else load(source)
            return source, transactions, mine_rules(transactions, query)

        self.mine_button.setEnabled(False)
        self.status.setText(self.tr("正在挖掘…"))
        self._runner.start(job)

    def reload(self) -> None:
        """Forget the transactions read so far and mine the current source again."""
        self._transactions.clear()
        self.mine()

    def wait(self, timeout_ms: int = 60_000) -> None:
        """Let a running read or mining finish (closing the dialog)."""
        self._again = False
        self._runner.wait(timeout_ms)

    def _show_mined(self, outcome: tuple[RecordSource, Sequence[Transaction], MiningResult]) -> None:
        source, transactions, self.result = outcome
        self._transactions[source] = transactions
        self.model.set_rules(self.result.rules)
        self.table.resizeColumnsToContents()
        self.records.clear()
        if not transactions:
            self.status.setText(self.tr("没有{0}，请选择其他记录来源").format(source_name(source)))
        else:
            found = len(self.result.rules)
            self.status.setText(
                self.tr("{0} 条规则，来自 {1} 条{2}").format(found, len(transactions), source_name(source))
            )
        self._finished_run(self.result)

    def _show_failure(self, message: str) -> None:
        self.result = None
        self.model.set_rules([])
        self.status.setText(self.tr("无法挖掘：{0}").format(message))
        self._finished_run(None)

    def _finished_run(self, result: MiningResult | None) -> None:
        self.mine_button.setEnabled(True)
        self.mined.emit(result)
        if self._again:
            self._again = False
            self.mine()

    def rule_at(self, proxy_row: int) -> Rule:
        """The rule shown in table row ``proxy_row`` (after sorting)."""
        return self.model.rule(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

    def _source_picked(self) -> None:
        self.source_changed.emit(self.record_source.value)
        self.mine()

    def _rule_activated(self, index: QModelIndex) -> None:
        if self.result is None or not index.isValid():
            return
        rule = self.rule_at(index.row())
        ids = self.result.records_for(rule)
        self.records.clear()
        self.records.addItems(ids)
        self.records_label.setText(self.tr("{0}：{1} 条记录").format(rule, len(ids)))
        self.records_requested.emit(ids)


class RulesDialog(QDialog):
    """The rules view and the statistics view in two tabs."""

    records_requested = Signal(list)
    statistics_loaded = Signal(object)  # the Statistics shown, or None when they could not be read

    def __init__(
        self,
        load_transactions: TransactionLoader,
        load_statistics: StatisticsLoader,
        source: RecordSource = RecordSource.VERIFIED,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("知识挖掘"))
        self.resize(1100, 700)
        self._load_statistics = load_statistics
        self._statistics_runner = TaskRunner(self)
        self._statistics_runner.finished.connect(self._show_statistics)
        self._statistics_runner.failed.connect(self._show_statistics_failure)
        self._statistics_wanted: RecordSource | None = None  # asked for while a load was running
        self.rules = RulesView(load_transactions, source)
        self.statistics = StatisticsView(Statistics(entity_counts(())))  # empty until the first load
        self.tabs = QTabWidget()
        self.tabs.addTab(self.rules, self.tr("关联规则"))
        self.tabs.addTab(self.statistics, self.tr("统计"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.rules.records_requested.connect(self.records_requested)
        self.rules.source_changed.connect(self._source_changed)
        self.rules.mine()
        self._source_changed(RecordSource(source).value)

    @property
    def statistics_busy(self) -> bool:
        return self._statistics_runner.running or self._statistics_wanted is not None

    def done(self, result: int) -> None:
        self._statistics_wanted = None
        self.rules.wait()
        self._statistics_runner.wait(60_000)
        super().done(result)

    def _source_changed(self, source: str) -> None:
        if self._statistics_runner.running:
            self._statistics_wanted = RecordSource(source)
            return
        load, chosen = self._load_statistics, RecordSource(source)
        self.statistics.status.setText(self.tr("正在统计…"))
        self._statistics_runner.start(lambda _state: load(chosen))

    def _show_statistics(self, statistics: Statistics) -> None:
        if self._next_statistics():
            return
        self.statistics.set_statistics(statistics)
        self.statistics.status.clear()
        self.statistics_loaded.emit(statistics)

    def _show_statistics_failure(self, message: str) -> None:
        if self._next_statistics():
            return
        self.statistics.status.setText(self.tr("无法统计：{0}").format(message))
        self.statistics_loaded.emit(None)

    def _next_statistics(self) -> bool:
        """Start the load asked for during the last one (the latest wins); True if one started."""
        wanted, self._statistics_wanted = self._statistics_wanted, None
        if wanted is None:
            return False
        self._source_changed(wanted.value)
        return True


def open_rules_dialog(parent: QWidget | None, database: Database) -> RulesDialog:
    """Show the knowledge-mining dialog for ``database`` (non-modal) and return it.

    It starts on the verified records, or on every annotated record when none
    is verified yet. Connect ``records_requested`` to open the records of a rule.
    """
    source = RecordSource.VERIFIED if database.records.count(status=RecordStatus.VERIFIED) else RecordSource.ANNOTATED
    transactions = partial(_on_own_connection, load_transactions, database.path, database.data_dir)
    statistics = partial(_on_own_connection, load_statistics, database.path, database.data_dir)
    dialog = RulesDialog(transactions, statistics, source, parent)
    dialog.show()
    return dialog


def _on_own_connection(
    load: Callable[[Database, RecordSource], T], path: Path, data_dir: Path, source: RecordSource
) -> T:
    """``load(database, source)`` through a connection of the calling (worker) thread."""
    with Database.open(path, data_dir) as database:
        return load(database, source)
