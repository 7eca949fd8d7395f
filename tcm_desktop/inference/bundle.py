"""Loading and checking a model bundle (ARCHITECTURE.md "The model bundle").

A bundle is a folder: ``manifest.json`` plus exactly the files its
``files`` map lists (``text.onnx``, ``crf.npz``, ``vocab.txt``, and
``lexicon.tsv`` when the model uses lexicon features), each with its
sha256. :meth:`ModelBundle.load` refuses a bundle with a missing, extra,
changed or inconsistent file, raising :class:`BundleError` that names the
file, and creates the ONNX Runtime session once.

Execution providers: CUDA first when ONNX Runtime offers it (the
onnxruntime-gpu build) and a session can be made with it, else the CPU.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import onnxruntime as ort

from tcm_desktop.domain.errors import TcmError
from tcm_desktop.files import sha256_of
from tcm_desktop.inference.crf import CrfScores
from tcm_desktop.inference.errors import BundleError
from tcm_desktop.inference.lexicon import Lexicon
from tcm_desktop.inference.threads import ThreadPlan
from tcm_desktop.inference.tokenizer import CharTokenizer

if TYPE_CHECKING:
    from tcm_desktop.inference.image_models import ImageModels

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = "tcm-model-bundle"
FORMAT_VERSIONS = (1,)
CRF_FILE, VOCAB_FILE, LEXICON_FILE = "crf.npz", "vocab.txt", "lexicon.tsv"
# Files an operating system drops into folders on its own; never part of a bundle.
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
Device = Literal["auto", "cpu", "cuda"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BundleError(f"the model bundle {folder} is not a folder")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise BundleError(f"the model bundle {folder} has no {MANIFEST}", MANIFEST) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"cannot read {MANIFEST} of the model bundle {folder}: {exc}", MANIFEST) from exc
    try:
        manifest = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{MANIFEST} of the model bundle {folder} is not valid JSON (line {exc.lineno}: {exc.msg})", MANIFEST
        ) from exc
    if not isinstance(manifest, dict):
        raise BundleError(f"{MANIFEST} of the model bundle {folder} is not a JSON object", MANIFEST)
    if manifest.get("format") != FORMAT or manifest.get("format_version") not in FORMAT_VERSIONS:
        raise BundleError(
            f"{MANIFEST} in {folder} is not a {FORMAT} manifest of version {FORMAT_VERSIONS} "
            f"(format {manifest.get('format')!r}, version {manifest.get('format_version')!r})",
            MANIFEST,
        )
    return manifest


def _field(manifest: Mapping[str, Any], *keys: str, kind: type | tuple[type, ...] = object) -> Any:
    value: Any = manifest
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            raise BundleError(f"{MANIFEST} lacks '{'.'.join(keys)}'", MANIFEST)
        value = value[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BundleError(f"'{'.'.join(keys)}' in {MANIFEST} has the wrong type ({type(value).__name__})", MANIFEST)
    return value


def verify_files(folder: Path, manifest: Mapping[str, Any]) -> dict[str, str]:
    """Check the folder holds exactly the listed files with the listed sha256; return the map."""
    files = _field(manifest, "files", kind=dict)
    for name, digest in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", "..", MANIFEST):
            raise BundleError(f"{MANIFEST} lists an invalid file name {name!r}", MANIFEST)
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise BundleError(f"{MANIFEST} gives {name} an invalid sha256 {digest!r}", MANIFEST)
    present = {p.name for p in folder.iterdir()} - {MANIFEST} - OS_LITTER
    extra = sorted(present - set(files))
    if extra:
        raise BundleError(f"the model bundle {folder} holds {extra[0]}, which its manifest does not list", extra[0])
    for name in sorted(files):
        if name not in present or not (folder / name).is_file():
            raise BundleError(f"the model bundle {folder} lacks {name}, which its manifest lists", name)
        if sha256_of(folder / name) != files[name]:
            raise BundleError(
                f"{name} in the model bundle {folder} does not match its sha256 in {MANIFEST}: "
                "the file was changed or damaged; reinstall or re-export the model",
                name,
            )
    return dict(files)


def verify_bundle(folder: Path | str) -> dict[str, Any]:
    """Check the manifest and every file's sha256 without loading a model; returns the manifest.

    The cheap part of :meth:`ModelBundle.load` (hashing, no ONNX session), for
    choosing among bundles before one is loaded. Raises :class:`BundleError`.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    verify_files(folder, manifest)
    return manifest


def _providers(device: Device) -> list[str]:
    if device == "cpu":
        return [CPU]
    available = ort.get_available_providers()
    if device == "cuda" and CUDA not in available:
        raise BundleError("the CUDA provider is not available (install onnxruntime-gpu and a CUDA driver)")
    return [CUDA, CPU] if CUDA in available else [CPU]


def thread_plan(threads: int | None, device: Device) -> ThreadPlan:
    """How a pipeline given ``threads`` runs models on ``device``: concurrent single-thread runs on the CPU,
    one run of ``threads`` intra-op threads when the CUDA provider is in use."""
    return ThreadPlan.for_threads(threads, gpu=CUDA in _providers(device))


class ModelBundle:
    """A checked bundle: manifest, tokenizer, lexicon, CRF scores and the text model's ONNX session(s).

    Build it with :meth:`load`. ``text_session(threads)`` gives the session
    for a thread count, created once and kept. When the manifest has an
    ``image`` entry, ``image`` holds the tongue models
    (:class:`~tcm_desktop.inference.image_models.ImageModels`) and
    ``image_sessions(threads)`` their (segmenter, classifier) sessions;
    otherwise ``image`` is None.
    """

    def __init__(
        self,
        folder: Path,
        manifest: Mapping[str, Any],
        tokenizer: CharTokenizer,
        lexicon: Lexicon | None,
        crf: CrfScores,
        device: Device = "auto",
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.name: str = _field(manifest, "name", kind=str)
        self.version: str = _field(manifest, "version", kind=str)
        self.labels: tuple[str, ...] = tuple(_field(manifest, "labels", kind=list))
        self.tags: tuple[str, ...] = tuple(_field(manifest, "tags", kind=list))
        self.max_chars: int = _field(manifest, "inputs", "max_chars", kind=int)
        self.lexicon_features: int = _field(manifest, "inputs", "lexicon_features", kind=int)
        self.text_model_file: str = str(manifest.get("text_model", {}).get("file", "text.onnx"))
        self.model_config: Mapping[str, Any] = manifest.get("model_config", {}) or {}
        self.tokenizer = tokenizer
        self.lexicon = lexicon
        self.crf = crf
        self.device: Device = device
        self._sessions: dict[int, ort.InferenceSession] = {}
        self.image: ImageModels | None = None

    @property
    def model_version(self) -> str:
        """``name@version``, what predictions are tagged with."""
        return f"{self.name}@{self.version}"

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_id

    @classmethod
    def load(cls, folder: Path | str, threads: int | None = 2, device: Device = "auto") -> ModelBundle:
        """Verify the bundle in ``folder`` and create the ONNX sessions the pipelines use for ``threads``
        (see :meth:`thread_plan`).

        ``threads=None`` lets ONNX Runtime choose. Raises :class:`BundleError`.
        """
        folder = Path(folder)
        manifest = _read_manifest(folder)
        files = verify_files(folder, manifest)
        needed = [_field(manifest, "text_model", "file", kind=str), CRF_FILE, VOCAB_FILE]
        features = _field(manifest, "inputs", "lexicon_features", kind=int)
        if features:
            needed.append(LEXICON_FILE)
        for name in needed:
            if name not in files:
                raise BundleError(f"the model bundle {folder} has no {name}", name)
        try:
            tokenizer = CharTokenizer.from_vocab_file(folder / VOCAB_FILE)
        except TcmError as exc:
            raise BundleError(f"{VOCAB_FILE} of the model bundle {folder} is unusable: {exc}", VOCAB_FILE) from exc
        try:
            lexicon = Lexicon.load(folder / LEXICON_FILE) if features else None
        except TcmError as exc:
            raise BundleError(f"{LEXICON_FILE} of the model bundle {folder} is unusable: {exc}", LEXICON_FILE) from exc
        bundle = cls(folder, manifest, tokenizer, lexicon, CrfScores.load(folder / CRF_FILE), device)
        bundle._check_consistency()
        intra_op = bundle.thread_plan(threads).intra_op
        bundle.text_session(intra_op)
        if "image" in manifest:
            from tcm_desktop.inference.image_models import ImageModels  # imports this module

            bundle.image = ImageModels.from_manifest(folder, manifest, files, device)
            bundle.image.sessions(intra_op)
        return bundle

    def thread_plan(self, threads: int | None) -> ThreadPlan:
        return thread_plan(threads, self.device)

    def _check_consistency(self) -> None:
        expected = self.manifest.get("vocab_version")
        if expected and self.tokenizer.version != expected:
            raise BundleError(
                f"{VOCAB_FILE} is version {self.tokenizer.version}, the manifest says {expected}", VOCAB_FILE
            )
        if self.lexicon is not None:
            if self.lexicon.n_features != self.lexicon_features:
                raise BundleError(
                    f"{LEXICON_FILE} gives {self.lexicon.n_features} features, the model takes {self.lexicon_features}",
                    LEXICON_FILE,
                )
            expected = self.manifest.get("lexicon_version")
            if expected and self.lexicon.version != expected:
                raise BundleError(
                    f"{LEXICON_FILE} is version {self.lexicon.version}, the manifest says {expected}", LEXICON_FILE
                )
        if self.crf.num_tags != len(self.tags):
            raise BundleError(
                f"{CRF_FILE} scores {self.crf.num_tags} tags, the manifest lists {len(self.tags)}", CRF_FILE
            )
        if not self.tags or self.tags[0] != "O" or not all(isinstance(t, str) for t in self.tags):
            raise BundleError(
                f"the manifest's tags must be strings starting with 'O', got {list(self.tags)[:3]}...", MANIFEST
            )
        if self.max_chars < 2:
            raise BundleError(f"inputs.max_chars in {MANIFEST} must be at least 2, got {self.max_chars}", MANIFEST)

    def text_session(self, threads: int | None = 2) -> ort.InferenceSession:
        """The ONNX session of the text model for ``threads`` intra-op threads (created on first use)."""
        key = int(threads or 0)
        if key < 0:
            raise ValueError(f"threads must be positive (or None for ONNX Runtime's choice), got {threads}")
        if key not in self._sessions:
            self._sessions[key] = self._create_session(key)
        return self._sessions[key]

    def image_sessions(self, threads: int | None = 2) -> tuple[ort.InferenceSession, ort.InferenceSession]:
        """The tongue (segmenter, classifier) sessions for ``threads``; BundleError when the bundle has none."""
        if self.image is None:
            raise BundleError(f"the model bundle {self.folder} has no tongue image model", MANIFEST)
        return self.image.sessions(threads)

    def providers(self, threads: int | None = 2) -> list[str]:
        """The execution providers the session for ``threads`` actually uses, best first."""
        return list(self.text_session(threads).get_providers())

    def _create_session(self, threads: int) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        path = str(self.folder / self.text_model_file)
        providers = _providers(self.device)
        try:
            try:
                session = ort.InferenceSession(path, options, providers=providers)
            except Exception as exc:  # a broken CUDA install must not stop a CPU run
                if providers == [CPU]:
                    raise
                log.warning("CUDA session failed (%s); using the CPU", exc)
                session = ort.InferenceSession(path, options, providers=[CPU])
        except Exception as exc:  # ONNX Runtime raises its own untyped errors
            raise BundleError(f"ONNX Runtime cannot load {self.text_model_file}: {exc}", self.text_model_file) from exc
        self._check_session(session)
        return session

    def _check_session(self, session: ort.InferenceSession) -> None:
        name = self.text_model_file
        inputs = {i.name: i.shape for i in session.get_inputs()}
        wanted = {"input_ids", "attention_mask"} | ({"lexicon"} if self.lexicon_features else set())
        if set(inputs) != wanted:
            raise BundleError(f"{name} takes inputs {sorted(inputs)}, expected {sorted(wanted)}", name)
        width = inputs["lexicon"][-1] if self.lexicon_features else None
        if isinstance(width, int) and width != self.lexicon_features:  # symbolic sizes are names (str)
            raise BundleError(f"{name} takes {width} lexicon features, the manifest says {self.lexicon_features}", name)
        outputs = {o.name: o.shape for o in session.get_outputs()}
        tags = outputs["emissions"][-1] if "emissions" in outputs else None
        if "emissions" not in outputs or (isinstance(tags, int) and tags != len(self.tags)):
            raise BundleError(f"{name} must output emissions over {len(self.tags)} tags, has {outputs}", name)
        meta = session.get_modelmeta().custom_metadata_map
        for key, value in (("tags", list(self.tags)), ("labels", list(self.labels))):
            if key in meta and _json_list(meta[key]) != value:
                raise BundleError(f"the {key} in {name}'s metadata differ from {MANIFEST}'s", name)


def _json_list(text: str) -> Sequence[Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None
