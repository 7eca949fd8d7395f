"""The model registry (bundles the program can switch between) and training runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tcm_desktop.store.errors import StoreError
from tcm_desktop.store.rows import from_json, to_json, utc_now

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database


@dataclass(frozen=True)
class ModelVersion:
    version: str
    name: str
    path: str  # the bundle folder, as registered
    manifest: Mapping[str, Any]
    registered_at: str
    registered_by: str
    active: bool


@dataclass(frozen=True)
class TrainingRun:
    id: int
    started_at: str
    finished_at: str | None
    base_model: str | None
    params: Mapping[str, Any]
    status: str  # "running" until finish() sets e.g. "succeeded", "failed", "cancelled"
    new_model: str | None
    metrics: Mapping[str, Any] = field(default_factory=dict)


_MODEL_COLUMNS = "version, name, path, manifest_json, registered_at, registered_by, active"


def _model(row: tuple[Any, ...]) -> ModelVersion:
    return ModelVersion(row[0], row[1], row[2], from_json(row[3]), row[4], row[5], bool(row[6]))


class ModelRegistry:
    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, version: str, name: str, path: str, manifest: Mapping[str, Any], who: str) -> None:
        """Add a model version (not active until :meth:`activate`); StoreError if the version exists."""
        with self._db.transaction() as conn:
            try:
                conn.execute(
                    f"INSERT INTO models ({_MODEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0)",
                    (version, name, str(path), to_json(dict(manifest)), utc_now(), who),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"model version {version} is already registered") from exc
            self._db.audit.append(
                who, "register_model", None, None, {"version": version, "name": name, "path": str(path)}, version
            )

    def get(self, version: str) -> ModelVersion:
        row = self._db.conn.execute(f"SELECT {_MODEL_COLUMNS} FROM models WHERE version = ?", (version,)).fetchone()
        if row is None:
            raise StoreError(f"no model version {version}")
        return _model(row)

    def list(self) -> list[ModelVersion]:
        """All registered versions, oldest first."""
        rows = self._db.conn.execute(f"SELECT {_MODEL_COLUMNS} FROM models ORDER BY registered_at, rowid")
        return [_model(r) for r in rows]

    def active(self) -> ModelVersion | None:
        row = self._db.conn.execute(f"SELECT {_MODEL_COLUMNS} FROM models WHERE active = 1").fetchone()
        return None if row is None else _model(row)

    def history(self) -> list[str]:
        """The versions that were made active, oldest first, with each roll back undoing the
        switch it rolls back (read from the audit log): the last one is the active version,
        the one before it is where :meth:`roll_back` goes."""
        rows = self._db.conn.execute(
            "SELECT after_json FROM audit_log WHERE action = 'activate_model' ORDER BY id"
        ).fetchall()
        stack: list[str] = []
        for (after_json,) in rows:
            after = from_json(after_json) or {}
            version = str(after.get("version"))
            if after.get("roll_back") and len(stack) >= 2 and stack[-2] == version:
                stack.pop()
            elif not stack or stack[-1] != version:
                stack.append(version)
        return stack

    def previous(self) -> ModelVersion | None:
        """The version that was active before the active one (what a roll back returns to), or None."""
        active = self.active()
        stack = self.history()
        if active is None or len(stack) < 2 or stack[-1] != active.version:
            return None
        try:
            return self.get(stack[-2])
        except StoreError:
            return None

    def roll_back(self, who: str) -> ModelVersion:
        """Reactivate :meth:`previous`; StoreError when there is nothing to roll back to."""
        previous = self.previous()
        if previous is None:
            raise StoreError("there is no earlier model version to roll back to")
        self.activate(previous.version, who, roll_back=True)
        return self.get(previous.version)

    def activate(self, version: str, who: str, roll_back: bool = False) -> None:
        """Make ``version`` the active model; audited, ``roll_back`` marking a return to the previous one."""
        with self._db.transaction() as conn:
            self.get(version)
            previous = self.active()
            conn.execute("UPDATE models SET active = 0 WHERE active = 1")
            conn.execute("UPDATE models SET active = 1 WHERE version = ?", (version,))
            self._db.audit.append(
                who,
                "activate_model",
                None,
                {"version": previous.version} if previous else None,
                {"version": version, "roll_back": True} if roll_back else {"version": version},
                version,
            )


class TrainingRunRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, base_model: str | None, params: Mapping[str, Any]) -> int:
        """Record that a training run began; returns its id."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO training_runs (started_at, base_model, params_json, status) VALUES (?, ?, ?, 'running')",
                (utc_now(), base_model, to_json(dict(params))),
            )
            return int(cursor.lastrowid or 0)

    def finish(self, run_id: int, status: str, new_model: str | None, metrics: Mapping[str, Any]) -> None:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE training_runs SET finished_at = ?, status = ?, new_model = ?, metrics_json = ? WHERE id = ?",
                (utc_now(), status, new_model, to_json(dict(metrics)), int(run_id)),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"no training run {run_id}")

    def get(self, run_id: int) -> TrainingRun:
        for run in self.list():
            if run.id == run_id:
                return run
        raise StoreError(f"no training run {run_id}")

    def list(self) -> list[TrainingRun]:
        """All runs, newest first."""
        rows = self._db.conn.execute(
            "SELECT id, started_at, finished_at, base_model, params_json, status, new_model, metrics_json"
            " FROM training_runs ORDER BY id DESC"
        )
        return [TrainingRun(r[0], r[1], r[2], r[3], from_json(r[4]), r[5], r[6], from_json(r[7]) or {}) for r in rows]
