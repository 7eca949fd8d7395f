"""At start-up: a registered model whose bundle was changed is refused, and the version before it is used.

The loader (:meth:`~tcm_desktop.inference.bundle.ModelBundle.load`) refuses a
bundle with any changed byte, naming the file. When the bundle refused is the
registry's active model, :func:`fall_back_if_refused` walks back through the
versions that were active before it (:meth:`ModelRegistry.history`), takes the
newest whose bundle passes the same check, makes it active as a roll back
(audited, so the switch shows in the audit log and the 模型 menu) and says which
file was bad and which version is in use. Only the hashes are checked here
(no ONNX session); the inference thread then loads the chosen bundle as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from tcm_desktop.domain import TcmError
from tcm_desktop.inference.bundle import verify_bundle
from tcm_desktop.inference.errors import BundleError
from tcm_desktop.store import Database

Verify = Callable[[Path], Any]


@dataclass(frozen=True)
class RefusedModel:
    version: str
    file: str | None  # the file at fault, as BundleError names it
    why: str


@dataclass(frozen=True)
class ModelChoice:
    """The bundle to load (None: no usable registered model) and the versions refused on the way."""

    folder: Path | None
    version: str | None = None  # the registered version of ``folder`` when it fell back
    refused: tuple[RefusedModel, ...] = ()

    @property
    def fell_back(self) -> bool:
        return bool(self.refused)


def _problem(folder: Path, verify: Verify) -> BundleError | None:
    try:
        verify(folder)
    except BundleError as exc:
        return exc
    return None


def fall_back_if_refused(
    model_dir: Path | None, db: Database | None, who: str, verify: Verify = verify_bundle
) -> ModelChoice:
    """``model_dir`` unchanged unless it is the active registered model and fails ``verify``;
    then the newest earlier active version that passes (made active), or None."""
    if model_dir is None or db is None:
        return ModelChoice(model_dir)
    try:
        active = db.models.active()
        history = db.models.history()
    except TcmError:
        return ModelChoice(model_dir)
    if active is None or Path(active.path) != Path(model_dir):
        return ModelChoice(model_dir)
    problem = _problem(Path(model_dir), verify)
    if problem is None:
        return ModelChoice(model_dir)
    refused = [RefusedModel(active.version, problem.path, str(problem))]
    seen = {active.version}
    for version in reversed(history):
        if version in seen:
            continue
        seen.add(version)
        try:
            model = db.models.get(version)
        except TcmError:
            continue
        problem = _problem(Path(model.path), verify)
        if problem is not None:
            refused.append(RefusedModel(version, problem.path, str(problem)))
            continue
        with contextlib.suppress(TcmError):  # a refused switch: the bundle is still the one to run
            db.models.activate(version, who, roll_back=True)
        return ModelChoice(Path(model.path), version, tuple(refused))
    return ModelChoice(None, None, tuple(refused))


def fallback_message(choice: ModelChoice) -> str:
    """What to tell the user about a fallback: the bad file of each refused version, the version in use."""
    lines = []
    for refused in choice.refused:
        text = QCoreApplication.translate("ModelFallback", "模型 {0} 的文件 {1} 被改动或损坏，已拒绝加载。")
        lines.append(text.format(refused.version, refused.file or "manifest.json"))
    if choice.version is not None:
        lines.append(QCoreApplication.translate("ModelFallback", "现使用上一版本 {0}。").format(choice.version))
    else:
        lines.append(QCoreApplication.translate("ModelFallback", "没有可用的上一版本，本次不使用模型。"))
    return "\n".join(lines)
