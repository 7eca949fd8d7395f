"""The database side of a retraining: plan it, then register its model or forget it, nothing in between.

:class:`RetrainLedger` freezes the gold set, picks the new version and its
folder under the user's models folder, and records the training run; after
the child process is done it registers the new model version (and the model
it started from, so a roll back has somewhere to go) in one transaction, or
marks the run failed or cancelled and removes what the child wrote. A run a
killed program left ``running`` is booked ``interrupted`` by
:meth:`RetrainLedger.recover_interrupted`.
Registry keys are ``name@version``, the tag predictions carry.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcm_desktop.domain.retraining import (
    MIN_TRAINING_RECORDS,
    DoneEvent,
    RetrainJob,
    RetrainOptions,
    checkpoint_for_bundle,
    new_version,
    safe_folder_name,
)
from tcm_desktop.store.errors import StoreError
from tcm_desktop.store.gold_set import gold_set_size
from tcm_desktop.store.models import ModelVersion

if TYPE_CHECKING:
    from tcm_desktop.store.database import Database

DEFAULT_MODEL_NAME = "tcm-text"
MANIFEST = "manifest.json"
INTERRUPTED = "interrupted"  # a run whose program was killed before it ended


@dataclass(frozen=True)
class RetrainReadiness:
    """What a retraining would use now; ``ready`` when there is enough of both."""

    training_records: int  # corrected or verified, outside the gold set
    gold_records: int  # in the frozen gold set, or that would be set aside now
    gold_frozen: bool

    @property
    def ready(self) -> bool:
        return self.gold_records > 0 and self.training_records >= MIN_TRAINING_RECORDS


@dataclass(frozen=True)
class BaseModel:
    """The model in use when retraining starts."""

    folder: Path
    version: str  # name@version


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(bundle_dir) / MANIFEST).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read the manifest of the model bundle {bundle_dir}: {exc}") from exc
    if not isinstance(data, dict):
        raise StoreError(f"the manifest of the model bundle {bundle_dir} is not a JSON object")
    return data


class RetrainLedger:
    """Plans retrainings of ``db``'s records and books their outcome; new models go under ``models_dir``."""

    def __init__(self, db: Database, models_dir: Path, who: str) -> None:
        self._db = db
        self.models_dir = Path(models_dir)
        self.who = who

    def readiness(self) -> RetrainReadiness:
        gold = self._db.gold_set
        if gold.is_frozen:
            return RetrainReadiness(len(gold.training_ids()), len(gold.ids()), True)
        planned = gold_set_size(gold.verified_count())
        return RetrainReadiness(max(0, len(gold.training_ids()) - planned), planned, False)

    def active_version(self) -> str | None:
        """The registry's active model version, if any."""
        active = self._db.models.active()
        return None if active is None else active.version

    def plan(
        self, base: BaseModel | None, options: RetrainOptions | None = None, now: datetime | None = None
    ) -> tuple[RetrainJob, int]:
        """Freeze the gold set if needed, describe the job and record its training run (id returned).

        Raises StoreError (GoldSetError) when there is too little data.
        """
        training = self.readiness().training_records  # checked before the gold set is frozen
        if training < MIN_TRAINING_RECORDS:
            raise StoreError(
                f"retraining needs at least {MIN_TRAINING_RECORDS} corrected or verified records"
                f" outside the gold set; there are {training}"
            )
        self._db.gold_set.freeze(self.who)
        name = base.version.partition("@")[0] if base is not None else DEFAULT_MODEL_NAME
        taken = {m.version.partition("@")[2] for m in self._db.models.list() if m.version.startswith(f"{name}@")}
        if self.models_dir.is_dir():
            taken |= {p.name.removeprefix(f"{safe_folder_name(name)}-") for p in self.models_dir.iterdir()}
        version = new_version(now or datetime.now(UTC), taken)
        options = options or RetrainOptions()
        job = RetrainJob(
            database=self._db.path,
            out_dir=self.models_dir / safe_folder_name(f"{name}-{version}"),
            name=name,
            version=version,
            base_model=base.folder if base is not None else None,
            init_from=None if base is None or options.new_model else checkpoint_for_bundle(base.folder),
            options=options,
        )
        run_id = self._db.training_runs.start(base.version if base is not None else None, job.params())
        return job, run_id

    def register(
        self,
        job: RetrainJob,
        run_id: int,
        done: DoneEvent,
        metrics: Mapping[str, Any],
        base: BaseModel | None,
    ) -> ModelVersion:
        """Register the new model (inactive) and finish the run as succeeded, in one transaction.

        The base model is registered too when it is not yet (a shipped bundle),
        and made active when nothing is, since it is the model in use.
        Raises StoreError, registering nothing, when the child's answer does not
        match the job (another folder or version) or the bundle is unreadable.
        """
        if Path(done.bundle).resolve() != job.bundle_dir.resolve() or done.model_version != job.model_version:
            raise StoreError(
                f"the training process reported {done.model_version} in {done.bundle},"
                f" not {job.model_version} in {job.bundle_dir}"
            )
        manifest = read_manifest(job.bundle_dir)
        if f"{manifest.get('name')}@{manifest.get('version')}" != job.model_version:
            raise StoreError(f"the bundle in {job.bundle_dir} is not {job.model_version}")
        registry = self._db.models
        with self._db.transaction():
            known = {m.version for m in registry.list()}
            if base is not None and base.version not in known:
                base_manifest = read_manifest(base.folder)
                base_name = str(base_manifest.get("name", ""))
                registry.register(base.version, base_name, str(base.folder), base_manifest, self.who)
            if base is not None and registry.active() is None:
                registry.activate(base.version, self.who)
            registry.register(job.model_version, job.name, str(job.bundle_dir), manifest, self.who)
            self._db.training_runs.finish(run_id, "succeeded", job.model_version, dict(metrics))
        return registry.get(job.model_version)

    def recover_interrupted(self) -> list[int]:
        """Book runs a killed program left ``running`` as ``interrupted``; returns their ids.

        A run's folder under :attr:`models_dir` is removed unless a registered
        model lives in it (registration and the run's success commit together,
        so a registered model's run is never left running). Call it only when
        this program runs no retraining: a run still in progress looks the same.
        """
        registered = [Path(m.path).resolve() for m in self._db.models.list()]
        root = self.models_dir.resolve()
        recovered: list[int] = []
        for run in self._db.training_runs.list():
            if run.status != "running":
                continue
            out_dir = Path(str(run.params.get("out_dir") or "")).resolve()
            inside = out_dir != root and root in out_dir.parents
            if inside and not any(out_dir == m or out_dir in m.parents for m in registered):
                shutil.rmtree(out_dir, ignore_errors=True)
            message = "the program stopped before this retraining finished"
            self._db.training_runs.finish(run.id, INTERRUPTED, None, {"error": message})
            recovered.append(run.id)
        return recovered

    def abandon(self, job: RetrainJob, run_id: int, status: str, message: str = "") -> None:
        """Mark the run ``failed`` or ``cancelled`` and remove whatever the child wrote."""
        shutil.rmtree(job.out_dir, ignore_errors=True)
        self._db.training_runs.finish(run_id, status, None, {"error": message} if message else {})
