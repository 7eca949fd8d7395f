"""The one look of the program's read-only tables (record list, review queue, rules, reports)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QTableView


def read_only_table(model: QAbstractItemModel | None = None, table: QTableView | None = None) -> QTableView:
    """``table`` (a new QTableView by default) showing ``model``: whole rows selected one at a
    time, no editing, no row numbers, alternating row colours."""
    table = table if table is not None else QTableView()
    if model is not None:
        table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    return table
