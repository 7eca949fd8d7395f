"""One configuration of ``tcm bench``, measured in a process of its own.

    python -m training.runtime_bench_worker '<spec as JSON>'

The parent (:mod:`training.runtime_bench`) starts one such process per
configuration so that peak RSS and cold start belong to that configuration
alone. The process reads the records first, then starts the clock, imports
and loads the model, predicts the first record (cold start), warms up, times
passes over the corpus-mix records and each long record one by one, and
prints one JSON object as the last line of stdout.

Nothing heavy is imported at module level: the ONNX configurations never
load torch (``torch_loaded`` in the result says so), the torch ones pay for
importing it in their cold start, as a real process would.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tcm_desktop.domain import Record

SpanTuple = tuple[int, int, str]
WARM_UP_RECORDS = 16

# The BERT-Large shape of configuration (c); `large_shape` in the spec overrides any of it.
LARGE_SHAPE: dict[str, Any] = {"hidden_size": 1024, "num_layers": 24, "num_heads": 16, "intermediate_size": 4096}


@dataclass(frozen=True)
class WorkerSpec:
    """What the parent asks one worker to measure."""

    engine: str  # a key of LOADERS
    model: str  # the bundle folder (vocabulary, tags and lexicon of every configuration come from it)
    mix: str  # JSONL of the corpus-mix records
    long: str  # JSONL of the 5,000+ character records
    threads: int = 2
    passes: int = 3
    limit_mix: int | None = None
    limit_long: int | None = None
    checkpoint: str | None = None
    use_image: bool = False
    large_shape: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    pred_out: str | None = None  # write the predicted spans here (JSONL), for the F1 comparison
    fixed_batch_rows: int | None = None  # pipeline only: batches of this many full-length windows (-DBP)

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


class Runner(Protocol):
    """A loaded model that turns records into spans per record id."""

    engine: str
    size_bytes: int

    def predict(self, records: Sequence[Record]) -> dict[str, list[SpanTuple]]: ...


def bundle_bytes(folder: Path) -> int:
    """Bytes of every file in a bundle folder (manifest included)."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


class _PipelineRunner:
    """The bundle's ONNX text model through :class:`TextPipeline` (text only)."""

    engine = "TextPipeline"

    def __init__(self, spec: WorkerSpec) -> None:
        from tcm_desktop.inference.batching import FixedBatcher
        from tcm_desktop.inference.bundle import ModelBundle
        from tcm_desktop.inference.text_pipeline import TextPipeline

        folder = Path(spec.model)
        bundle = ModelBundle.load(folder, threads=spec.threads, device="cpu")
        fixed = FixedBatcher(spec.fixed_batch_rows, bundle.max_chars) if spec.fixed_batch_rows else None
        self.pipeline = TextPipeline(bundle, spec.threads, batcher=fixed)
        self.size_bytes = bundle_bytes(folder)

    def predict(self, records: Sequence[Record]) -> dict[str, list[SpanTuple]]:
        results = self.pipeline.predict([r.text for r in records])
        return {r.id: [(s.start, s.end, s.label) for s in res.spans] for r, res in zip(records, results, strict=True)}


class _StructurerRunner:
    """The application's whole structuring step: text model, form filling and, when asked, the tongue photo."""

    engine = "Structurer"

    def __init__(self, spec: WorkerSpec) -> None:
        from tcm_desktop.inference.structuring import Structurer

        folder = Path(spec.model)
        self.structurer = Structurer.load(folder, threads=spec.threads, device="cpu", use_image=spec.use_image)
        self.base_dir = Path(spec.mix).parent
        self.use_image = spec.use_image
        self.size_bytes = bundle_bytes(folder)

    def predict(self, records: Sequence[Record]) -> dict[str, list[SpanTuple]]:
        predictions = self.structurer.structure(records, base_dir=self.base_dir, use_image=self.use_image)
        return {p.record_id: [(s.start, s.end, s.label) for s in p.spans] for p in predictions}


class _TorchRunner:
    """A tagger in PyTorch FP32 through :class:`TorchPredictor`; size = bytes of its weights and buffers."""

    def __init__(self, predictor: Any, engine: str) -> None:
        self.predictor = predictor
        self.engine = engine
        state = predictor.model.state_dict().values()
        self.size_bytes = int(sum(t.numel() * t.element_size() for t in state))

    def predict(self, records: Sequence[Record]) -> dict[str, list[SpanTuple]]:
        from training.data import Example

        return self.predictor.predict([Example(r.id, r.text, ()) for r in records])


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)


def _load_fp32(spec: WorkerSpec) -> Runner:
    """Configuration (b): the FP32 checkpoint the bundle was exported from."""
    if not spec.checkpoint:
        raise ValueError("the torch configuration needs a checkpoint")
    _set_torch_threads(spec.threads)
    from training.predict import TorchPredictor

    return _TorchRunner(TorchPredictor.from_path(Path(spec.checkpoint)), "PyTorch FP32")


def _load_large(spec: WorkerSpec) -> Runner:
    """Configuration (c): the bundle's vocabulary, tags, lexicon and head on a BERT-Large-shaped encoder.

    Random weights: only its speed, memory and size are measured.
    """
    _set_torch_threads(spec.threads)
    import torch

    from tcm_desktop.inference.lexicon import Lexicon
    from training.model import Tagger, TaggerConfig
    from training.predict import TorchPredictor
    from training.tags import TagScheme
    from training.vocab import load_vocab, make_tokenizer_from_tokens

    folder = Path(spec.model)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    vocab = load_vocab(folder / "vocab.txt")
    scheme = TagScheme.from_dict(manifest["tag_scheme"])
    features = int(manifest["inputs"]["lexicon_features"])
    head = manifest.get("model_config", {}) or {}
    shape = {
        **LARGE_SHAPE,
        "lstm_hidden": int(head.get("lstm_hidden", 128)),
        "use_crf": bool(head.get("use_crf", True)),
        **spec.large_shape,
    }
    config = TaggerConfig(vocab_size=len(vocab), num_tags=scheme.num_tags, num_lexicon_features=features, **shape)
    torch.manual_seed(spec.seed)
    model = Tagger(config, scheme.allowed_transitions(), scheme.allowed_starts(), scheme.allowed_ends()).eval()
    lexicon = Lexicon.load(folder / "lexicon.tsv") if features else None
    predictor = TorchPredictor(
        model=model,
        scheme=scheme,
        tokenizer=make_tokenizer_from_tokens(vocab),
        lexicon=lexicon,
        pad_id=vocab.index("[PAD]"),
        max_chars=int(manifest["inputs"]["max_chars"]),
    )
    return _TorchRunner(predictor, f"PyTorch FP32, {config.num_layers} layers x {config.hidden_size}")


LOADERS: dict[str, Callable[[WorkerSpec], Runner]] = {
    "pipeline": _PipelineRunner,
    "structurer": _StructurerRunner,
    "torch": _load_fp32,
    "torch-large": _load_large,
}


def peak_rss_mib() -> float | None:
    """The process's peak resident set size: VmHWM on Linux, ru_maxrss elsewhere (None if neither)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, kB on Linux


def read_records(path: Path, limit: int | None = None) -> list[Record]:
    records = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                records.append(Record.from_dict(json.loads(line)))
    return records[:limit] if limit is not None else records


def _versions() -> dict[str, str]:
    out = {}
    for name in ("onnxruntime", "torch"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = str(getattr(module, "__version__", "?"))
    return out


def measure(spec: WorkerSpec) -> dict[str, Any]:
    """Everything the parent needs about one configuration (see the module docstring)."""
    mix = read_records(Path(spec.mix), spec.limit_mix)
    long = read_records(Path(spec.long), spec.limit_long)
    if not mix:
        raise ValueError("no corpus-mix records to measure")

    started = time.perf_counter()
    runner = LOADERS[spec.engine](spec)
    loaded = time.perf_counter()
    predicted = runner.predict(mix[:1])
    first = time.perf_counter()

    if spec.passes > 1:
        runner.predict(mix[:WARM_UP_RECORDS])
    pass_seconds = []
    for _ in range(max(1, spec.passes)):
        tick = time.perf_counter()
        spans = runner.predict(mix)
        pass_seconds.append(time.perf_counter() - tick)
        if len(pass_seconds) == 1:
            predicted = spans
    long_ms = []
    for record in long:
        tick = time.perf_counter()
        predicted.update(runner.predict([record]))
        long_ms.append((time.perf_counter() - tick) * 1000)

    if spec.pred_out:
        with Path(spec.pred_out).open("w", encoding="utf-8") as fh:
            for record_id, found in predicted.items():
                fh.write(json.dumps({"id": record_id, "spans": found}, ensure_ascii=False) + "\n")
    seconds = statistics.median(pass_seconds)
    chars = sum(len(r.text) for r in mix)
    return {
        "engine": runner.engine,
        "use_image": spec.use_image,
        "threads": spec.threads,
        "cold_start_s": first - started,
        "load_s": loaded - started,
        "first_prediction_s": first - loaded,
        "records": len(mix),
        "chars": chars,
        "pass_seconds": pass_seconds,
        "records_per_s": len(mix) / seconds,
        "chars_per_s": chars / seconds,
        "long_records": len(long),
        "long_chars": [len(r.text) for r in long],
        "long_ms": long_ms,
        "long_ms_median": statistics.median(long_ms) if long_ms else None,
        "peak_rss_mib": peak_rss_mib(),
        "size_bytes": runner.size_bytes,
        "torch_loaded": "torch" in sys.modules,
        "versions": _versions(),
        "pid": os.getpid(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m training.runtime_bench_worker '<spec JSON>'", file=sys.stderr)
        return 2
    result = measure(WorkerSpec.from_json(argv[0]))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
