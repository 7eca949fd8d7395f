"""The tongue image model's test-split results, written into docs/benchmarks.md (section "tongue-image").

    python bench/tongue_model.py --metrics /work/runs/tongue/metrics.json \
        [--manifest /work/runs/tongue/bundle/manifest.json]

Every figure comes from the metrics JSON that ``tcm evaluate-tongue`` writes
(torch checkpoints, then the exported bundle through the app's pipeline) and
from the bundle manifest's export checks; nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import DOC, update_section  # noqa: E402

SECTION = "tongue-image"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def _classifier_table(metrics: dict[str, Any]) -> str:
    cls = metrics["classifier"]
    onnx = metrics.get("onnx", {}).get("int8", {}).get("per_attribute", {})
    rows = [
        "| attribute | test n | accuracy | macro-F1 | majority class | majority acc. | majority macro-F1 "
        "| acc. / F1 on true-mask crop | INT8 ONNX acc. / F1 |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for name, score in cls["test_predicted_box"].items():
        base, true = cls["majority_baseline"][name], cls["test_true_box"][name]
        quant = onnx.get(name)
        quant_text = f"{_pct(quant['accuracy'])} / {_pct(quant['macro_f1'])}" if quant else "-"
        rows.append(
            f"| {name} | {score['n']} | {_pct(score['accuracy'])} | {_pct(score['macro_f1'])} | {base['class']} "
            f"| {_pct(base['accuracy'])} | {_pct(base['macro_f1'])} | {_pct(true['accuracy'])} / "
            f"{_pct(true['macro_f1'])} | {quant_text} |"
        )
    return "\n".join(rows)


def _runtime(metrics: dict[str, Any], manifest: dict[str, Any] | None) -> str:
    onnx = metrics.get("onnx")
    lines = []
    if onnx:
        int8 = onnx["int8"]
        lines.append(
            f"End to end through `TonguePipeline` (JPEG file -> form values), INT8, {onnx['threads']} threads: "
            f"**{int8['ms_per_image_single_median']:.1f} ms** per photo one at a time (median), "
            f"{int8['ms_per_image_batch16']:.1f} ms per photo in batches of 16; "
            f"mask IoU {_pct(int8['mask_iou_mean'])}, "
            f"tongue found in {_pct(int8['found_rate'])}% of test photos."
        )
        if "fp32" in onnx:
            fp32, agree = onnx["fp32"], onnx["int8_vs_fp32"]
            per = ", ".join(f"{k} {_pct(v)}%" for k, v in agree["top1_agreement"].items())
            lines.append(
                f"FP32 ONNX for comparison: {fp32['ms_per_image_single_median']:.1f} ms per photo (median), mask IoU "
                f"{_pct(fp32['mask_iou_mean'])}. INT8 vs FP32 on the test photos: top-1 agreement {per}; largest "
                f"probability difference {agree['max_abs_prob_diff']:.3f}; mask IoU between the two "
                f"{_pct(agree['mask_iou'])}."
            )
    if manifest:
        image = manifest["image"]
        for part in ("segmenter", "classifier"):
            facts = image[part]
            lines.append(
                f"`{facts['file']}` ({facts['bytes'] / 1e6:.1f} MB, {facts['quantisation']}): FP32 ONNX vs torch max "
                f"abs difference {facts['fp32_vs_torch_max_abs_diff']:.1e}."
            )
    return "\n\n".join(lines)


def render(metrics: dict[str, Any], manifest: dict[str, Any] | None = None) -> str:
    seg, cls, split = metrics["segmenter"], metrics["classifier"], metrics["split"]
    crop = metrics["crop"]
    return (
        "## Tongue image model (segmenter + attribute classifier)\n\n"
        f"Trained and scored on the {metrics['source']}. The model is for research use, as its data. "
        f"Split by image id (seed {split['seed']}): {split['train']} train, {split['val']} validation, "
        f"{split['test']} test photos; labels are sparse (NA = unlabelled), so each attribute is scored on the "
        "test photos that carry it. No downloaded weights: every weight was trained on this machine's CPU.\n\n"
        f"**Segmenter** (small U-Net, {seg['input_size']} px letterboxed input, {seg['epochs']} epochs): test mask IoU "
        f"{_pct(seg['mask_iou_mean'])} mean, {_pct(seg['mask_iou_median'])} median, {_pct(seg['mask_iou_min'])} worst, "
        f"at the photos' own resolution; tongue found in {_pct(seg['found_rate'])}% of test photos. The classifier's "
        f"input is the square around the largest tongue region grown by {crop['margin']:.2f} of its side.\n\n"
        f"**Classifier** ({cls['backbone']} from scratch, {cls['input_size']} px crops, {cls['epochs']} epochs, "
        f"{cls['train_labelled']} labelled training photos), scored on crops around the segmenter's box (as in the "
        "app), beside always answering the training split's majority class (percent):\n\n"
        f"{_classifier_table(metrics)}\n\n"
        "fissure and tooth_marks are the source grades (light/severe); both map to the form value 有, and the data "
        "has no 'none' class, so the model cannot say 无.\n\n"
        f"{_runtime(metrics, manifest)}"
    )


CARD = Path(__file__).resolve().parents[1] / "docs" / "model_card_tongue.md"


def render_card(metrics: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The tongue model's card: what it is, what it was trained on, its scores and limits."""
    image = manifest["image"]
    data = image["training"]["data"]
    pruning = image["classifier"].get("pruning")
    pruned = (
        f"pruned by the `{pruning['pruner']}` pruner to {_pct(pruning['ratio']['params'])}% of its "
        f"{pruning['before']['params']:,} parameters and {_pct(pruning['ratio']['macs'])}% of its multiply-adds, "
        "then fine-tuned"
        if pruning
        else "not pruned"
    )
    return (
        "# Model card: tongue image model\n\n"
        "_Written by `bench/tongue_model.py` from the metrics of `tcm evaluate-tongue` and the bundle manifest; "
        "no figure is typed by hand._\n\n"
        f"Bundle `{manifest['name']}@{manifest['version']}`: `{image['segmenter']['file']}` (tongue segmenter) and "
        f"`{image['classifier']['file']}` (attribute classifier, {image['classifier']['backbone']}, {pruned}), "
        f"both INT8 ONNX.\n\n"
        "## Training data\n\n"
        f"{metrics['source']}. The photographs and labels are **not** part of the program or its installer; only "
        "weights trained on them ship, and like the data they are for research use. "
        f"Labels file sha256 {data.get('labels_sha256', '-')}, split {data.get('split_sizes', '-')} "
        f"(seed {data.get('split_seed', '-')}, by image id). No downloaded or pretrained weights.\n\n"
        "## Scores\n\n"
        f"{render(metrics, manifest).split(chr(10), 2)[2]}\n\n"
        "## Limits\n\n"
        "- One photo source: studio-like lighting and framing; clinic photos may differ, which is why the "
        "photo only fills tongue fields the text leaves empty and disagreements are flagged, not overwritten.\n"
        "- Fissure and tooth marks have no 'none' class in the data: the model grades them but cannot say 无.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metrics", type=Path, default=Path("/work/runs/tongue/metrics.json"))
    parser.add_argument("--manifest", type=Path, help="manifest.json of the exported bundle (export checks)")
    parser.add_argument("--doc", type=Path, help="benchmark page (default docs/benchmarks.md)")
    parser.add_argument("--card", type=Path, default=CARD, help="model card to write (needs --manifest)")
    args = parser.parse_args()
    metrics = json.loads(args.metrics.read_text(encoding="utf-8"))
    manifest = json.loads(args.manifest.read_text(encoding="utf-8")) if args.manifest else None
    body = render(metrics, manifest)
    if manifest is not None and args.card is not None:
        args.card.write_text(render_card(metrics, manifest), encoding="utf-8")
    update_section(SECTION, body, args.doc or DOC)
    print(body)


if __name__ == "__main__":
    main()
