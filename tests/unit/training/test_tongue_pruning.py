"""Pruning the tongue classifier: smaller by the asked ratio, same outputs, loadable, exportable, within budget."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from tcm_desktop.demo.tongue_image import TongueState, render_tongue, tongue_mask
from training.tongue.export import build_image_bundle, export_graph, run_onnx, torch_outputs
from training.tongue.labels import ATTRIBUTES
from training.tongue.models import ClassifierConfig, ClassifierGraph, SegmenterConfig, TinyUNet, TongueClassifier
from training.tongue.prune import prune_tongue_main
from training.tongue.pruning import (
    ROUND_TO,
    Budget,
    L1UniformPruner,
    PruningError,
    apply_plan,
    classifier_space,
    measure,
    recalibrate_batchnorm,
    round_channels,
)
from training.tongue.pruning_policy import MemoryConstrainedPruner, SearchSettings
from training.tongue.train import TongueTrainConfig, build_model, checkpoint_payload, load_checkpoint

SIZE = 32
HEADS = {a.name: len(a.classes) for a in ATTRIBUTES}


def tiny_classifier(seed: int = 0) -> TongueClassifier:
    torch.manual_seed(seed)
    return TongueClassifier(ClassifierConfig(input_size=SIZE, backbone="resnet-tiny", heads=HEADS)).eval()


def images(n: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def agreement_score(reference: nn.Module, batch: torch.Tensor):
    """A cheap stand-in for validation F1: how close the pruned network's logits stay to the unpruned one's."""
    with torch.no_grad():
        expected = reference(batch)

    def score(model: nn.Module) -> float:
        recalibrate_batchnorm(model, [batch])
        with torch.no_grad():
            return -float(sum((a - b).abs().mean() for a, b in zip(model(batch), expected, strict=True)))

    return score


def conv_widths(model: nn.Module) -> dict[str, int]:
    return {n: m.out_channels for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}


def test_channels_are_rounded_to_multiples_of_16_within_the_layer() -> None:
    assert [round_channels(512, k) for k in (1.0, 0.6, 0.5, 0.01)] == [512, 304, 256, 16]
    assert round_channels(64, 0.25) == 16 and round_channels(64, 0.9) == 64
    assert round_channels(12, 0.5) == 12  # a layer narrower than 16 is left whole


def test_l1_pruning_is_smaller_by_the_requested_ratio_and_keeps_the_outputs() -> None:
    model, x = tiny_classifier(), images(3)
    space = classifier_space(model, x[:1])
    assert space.base.params == sum(p.numel() for p in model.parameters())
    plan = L1UniformPruner().plan(space, Budget(params=0.35))
    pruned = apply_plan(model, plan, x[:1])
    before, after = measure(model, x), measure(pruned, x)
    assert 0.30 <= after.params / before.params <= 0.35  # within budget, and not far under it
    assert after.params == space.plan_cost(plan).params  # the planner's price is the network's count
    assert after.macs < before.macs
    with torch.no_grad():
        for n in (1, 3):
            outputs, expected = pruned(x[:n]), model(x[:n])
            assert [o.shape for o in outputs] == [e.shape for e in expected] == [(n, c) for c in HEADS.values()]
    original = conv_widths(model)
    for name, width in conv_widths(pruned).items():
        assert width % ROUND_TO == 0 or width == original[name], name
    assert any(w < original[n] for n, w in conv_widths(pruned).items())
    assert pruned.config.widths and not model.config.widths  # the caller's network is untouched


def test_a_budget_out_of_reach_is_refused() -> None:
    model, x = tiny_classifier(), images(1)
    with pytest.raises(PruningError, match="below the smallest"):
        L1UniformPruner().plan(classifier_space(model, x), Budget(params=0.001))


@pytest.mark.parametrize(
    ("budget", "masked"),
    [(Budget(params=0.35), True), (Budget(params=0.6, macs=0.3), True), (Budget(params=0.35), False)],
)
def test_the_reinforce_controller_keeps_a_plan_within_budget_and_is_repeatable(budget: Budget, masked: bool) -> None:
    model, x = tiny_classifier(), images(8)
    space = classifier_space(model, x[:1])
    settings = SearchSettings(episodes=4, seed=5, mask_infeasible=masked)
    plans = [MemoryConstrainedPruner(agreement_score(model, x), x, settings).plan(space, budget) for _ in range(2)]
    assert plans[0].channels == plans[1].channels  # seeded: the same search gives the same plan
    plan = plans[0]
    assert plan.pruner == "memory" and space.within(plan, budget)
    ratio = measure(apply_plan(model, plan, x[:1]), x).ratio(measure(model, x))
    assert ratio["params"] <= (budget.params or 1.0) and ratio["macs"] <= (budget.macs or 1.0) + 0.01
    history = plan.info["history"]
    assert [h["source"] for h in history] == ["uniform seed"] + ["policy"] * 4 + ["policy, most likely actions"]
    for h in history:  # the reward is the score less the penalty for exceeding the budget
        assert h["reward"] == pytest.approx(h["score"] - settings.penalty * h["excess"])
    if masked:  # every sampled plan could still meet the budget, so none exceeds it
        assert all(h["excess"] == 0.0 for h in history)
    assert set(plan.keep.values()) <= {*settings.keep_ratios, plan.info["reference_uniform_keep"]}


def test_the_decision_network_learns_from_the_reward() -> None:
    """Rewarding a wide layer2.0.conv1 (and nothing else) makes the policy choose it wider as it learns."""
    model, x = tiny_classifier(), images(2)
    space = classifier_space(model, x[:1])

    def score(pruned: nn.Module) -> float:
        return pruned.get_submodule("backbone.layer2.0.conv1").out_channels / 128

    settings = SearchSettings(episodes=50, seed_uniform=False, seed=3)
    plan = MemoryConstrainedPruner(score, x, settings).plan(space, Budget(params=0.5))
    sampled = [h["score"] for h in plan.info["history"] if h["source"] == "policy"]
    assert np.mean(sampled[-15:]) > np.mean(sampled[:15]) + 0.1
    greedy = plan.info["history"][-1]
    assert greedy["source"] == "policy, most likely actions" and greedy["score"] >= 0.875
    assert plan.channels["backbone.layer2.0.conv1"] >= 112 and space.within(plan, Budget(params=0.5))


def test_a_pruned_checkpoint_describes_its_shape_and_loads_to_the_same_outputs(tmp_path: Path) -> None:
    model, x = tiny_classifier(), images(4)
    pruned = apply_plan(model, L1UniformPruner().plan(classifier_space(model, x[:1]), Budget(params=0.4)), x[:1])
    recalibrate_batchnorm(pruned, [x])
    config = TongueTrainConfig(data="none", out=str(tmp_path), cls_size=SIZE, backbone="resnet-tiny")
    path = tmp_path / "pruned.pt"
    torch.save(checkpoint_payload(pruned, config) | {"pruning": {"pruner": "l1"}}, path)
    loaded = build_model(load_checkpoint(path))
    assert isinstance(loaded, TongueClassifier) and loaded.config.widths == pruned.config.widths
    with torch.no_grad():
        for a, b in zip(loaded(x), pruned(x), strict=True):
            assert torch.equal(a, b)
    assert measure(loaded, x) == measure(pruned, x)


def test_a_pruned_model_exports_to_onnx_matching_torch(tmp_path: Path) -> None:
    model, x = tiny_classifier(), images(5)
    pruned = apply_plan(model, L1UniformPruner().plan(classifier_space(model, x[:1]), Budget(params=0.35)), x[:1])
    recalibrate_batchnorm(pruned, [x])
    graph, path = ClassifierGraph(pruned), tmp_path / "pruned.onnx"
    export_graph(graph, path, SIZE, [f"prob_{a.name}" for a in ATTRIBUTES], {"kind": "tongue-classifier"})
    batch = x.numpy()
    for expected, actual in zip(torch_outputs(graph, batch), run_onnx(path, batch, threads=1), strict=True):
        assert actual.shape == expected.shape and np.abs(actual - expected).max() < 1e-4


# --- the command, end to end on a generated data folder ---------------------------------------


def make_data(root: Path, n: int = 20) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = []
    for i in range(n):
        state = TongueState("淡红", "黄" if i % 2 else "白", "薄", bool(i % 3), False)
        sid = f"T{i:03d}"
        cv2.imwrite(str(root / "images" / f"{sid}.jpg"), render_tongue(state, seed=i, size=(80, 60)))
        cv2.imwrite(str(root / "masks" / f"{sid}.jpg"), tongue_mask(state, seed=i, size=(80, 60)))
        tai, zhi = ("yellow", "regular") if i % 2 else ("white", "light")
        rows.append(f"{sid}\t{tai}\t{zhi}\t{'severe' if i % 3 else 'light'}\tlight\n")
    header = "SID\tlabels_tai\tlabels_zhi\tlabels_fissure\tlabels_tooth_mk\n"
    (root / "labels_manual.tsv").write_text(header + "".join(rows), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("prune")
    data, run = make_data(root / "data"), root / "run"
    config = TongueTrainConfig(
        data=str(data), out=str(run), seg_size=SIZE, cls_size=SIZE, photo_side=60, backbone="resnet-tiny"
    )
    for name, model in (("segmenter", TinyUNet(SegmenterConfig(input_size=SIZE, base_channels=4, depth=2))),
                        ("classifier", tiny_classifier())):  # fmt: skip
        (run / name).mkdir(parents=True)
        history = [{"epoch": 1, "score": 0.5, "val_iou": 0.5}]  # what tcm evaluate-tongue reads back
        payload = checkpoint_payload(
            model.eval(), config, epoch=1, history=history, data={"source": "generated"}, best_score=0.5
        )
        torch.save(payload, run / name / "best.pt")
    return data, run


def test_prune_tongue_plans_fine_tunes_and_exports(tiny_run: tuple[Path, Path], tmp_path: Path) -> None:
    data, run = tiny_run
    out = run / "pruned_mc"
    args = ["--checkpoint", str(run / "classifier" / "best.pt"), "--data", str(data), "--out", str(out),
            "--pruner", "memory", "--budget-params", "0.35", "--episodes", "2", "--finetune-epochs", "1",
            "--batch-size", "8", "--calibration-batches", "1", "--threads", "1"]  # fmt: skip
    assert prune_tongue_main(args) == 0
    report = json.loads((out / "pruning.json").read_text(encoding="utf-8"))
    assert report["status"] == "done" and report["pruner"] == "memory"
    assert report["ratio"]["params"] <= 0.35 and report["before"]["params"] > report["after"]["params"]
    assert len(report["plan"]["info"]["history"]) == 4
    # fine-tuning ran (last.pt is its epoch 1); best.pt is that epoch or, if it scored lower, the network before it
    assert load_checkpoint(out / "last.pt")["epoch"] == 1 and report["finetune"]["epochs"] in (0, 1)
    scores = report["val_mean_macro_f1"]
    assert scores["finetuned"] >= scores["pruned_before_finetune"] - 1e-9
    payload = load_checkpoint(out / "best.pt")
    assert payload["pruning"]["after"] == report["after"] and payload["model_config"]["widths"]

    assert prune_tongue_main(args) == 0  # a rerun reuses the plan and finds fine-tuning done
    assert json.loads((out / "pruning.json").read_text(encoding="utf-8"))["channels"] == report["channels"]
    assert prune_tongue_main([*args[:-2], "--threads", "1", "--budget-params", "0.5"]) == 2  # other request

    crops = images(6).numpy()
    manifest = build_image_bundle(
        run / "segmenter" / "best.pt", out / "best.pt", tmp_path / "bundle", crops, crops, crops[:2], crops[:2]
    )
    facts = manifest["image"]["classifier"]
    assert facts["pruning"]["pruner"] == "memory" and facts["pruning"]["ratio"]["params"] <= 0.35
    assert facts["fp32_vs_torch_max_abs_diff"] < 1e-4


def test_prune_tongue_l1_without_fine_tuning_keeps_the_recalibrated_network(tiny_run: tuple[Path, Path]) -> None:
    data, run = tiny_run
    out = run / "pruned_l1"
    args = ["--checkpoint", str(run / "classifier" / "best.pt"), "--data", str(data), "--out", str(out),
            "--pruner", "l1", "--budget-params", "0.35", "--finetune-epochs", "0", "--batch-size", "8",
            "--calibration-batches", "1", "--threads", "1"]  # fmt: skip
    assert prune_tongue_main(args) == 0
    report = json.loads((out / "pruning.json").read_text(encoding="utf-8"))
    assert report["pruner"] == "l1" and report["finetune"]["epochs"] == 0
    assert 0.30 <= report["ratio"]["params"] <= 0.35
    assert len(set(report["keep"].values())) == 1  # one ratio everywhere
    assert load_checkpoint(out / "best.pt")["pruning"]["pruner"] == "l1"


def test_the_pruning_benchmark_reads_the_reports_and_marks_what_was_not_measured(tiny_run: tuple[Path, Path]) -> None:
    from bench.tongue_pruning import load_strategy, render

    data, run = tiny_run
    out = run / "pruned_bench"
    args = ["--checkpoint", str(run / "classifier" / "best.pt"), "--data", str(data), "--out", str(out),
            "--pruner", "l1", "--budget-params", "0.5", "--finetune-epochs", "0", "--batch-size", "8",
            "--calibration-batches", "1", "--threads", "1"]  # fmt: skip
    assert prune_tongue_main(args) == 0
    report = json.loads((out / "pruning.json").read_text(encoding="utf-8"))
    rows = [load_strategy("none", run, run, run / "bundle"), load_strategy("l1", out, run, run / "bundle")]
    body = render(rows)
    l1_row = next(line for line in body.splitlines() if line.startswith("| L1 uniform"))
    cells = [c.strip() for c in l1_row.strip("|").split("|")]
    assert cells[1] == f"{report['after']['params'] / 1e6:.2f}" and cells[2] == f"{report['ratio']['params'] * 100:.1f}"
    assert cells[5] == "-"  # no bundle exported: no size is made up
    assert "params <= 50.0 %" in body


def test_the_sweep_prunes_each_setting_once_and_tables_what_the_runs_wrote(
    tiny_run: tuple[Path, Path], tmp_path: Path
) -> None:
    from bench.tongue_sweep import RATIO_SECTION, main

    data, run = tiny_run
    doc = tmp_path / "benchmarks.md"
    args = ["--run", str(run), "--data", str(data), "--ratios", "0.5", "--hidden", "64", "32", "--episodes", "2",
            "--finetune-epochs", "0", "--batch-size", "8", "--calibration-batches", "1", "--doc", str(doc)]  # fmt: skip
    assert main(args) == 0
    sweep = run / "sweep"
    assert sorted(p.name for p in sweep.iterdir()) == ["l1_r50", "memory_r50", "memory_r50_h32"]
    l1 = json.loads((sweep / "l1_r50" / "pruning.json").read_text(encoding="utf-8"))
    assert l1["request"]["budget_params"] == 0.5 and l1["ratio"]["params"] <= 0.5
    h32 = json.loads((sweep / "memory_r50_h32" / "pruning.json").read_text(encoding="utf-8"))
    assert h32["request"]["policy_hidden"] == 32

    text = doc.read_text(encoding="utf-8")
    assert f"<!-- BEGIN {RATIO_SECTION} -->" in text
    row = next(line for line in text.splitlines() if line.startswith("| 50 %"))
    assert row.split("|")[2].strip() == f"{l1['ratio']['params'] * 100:.1f} / {l1['ratio']['macs'] * 100:.1f}"
    hidden_rows = [line for line in text.splitlines() if line.startswith(("| 32 |", "| 64 |"))]
    assert len(hidden_rows) == 2 and all("| - | - |" not in line for line in hidden_rows)

    stamp = (sweep / "l1_r50" / "pruning.json").stat().st_mtime_ns
    assert main(args) == 0  # done settings are not run again
    assert (sweep / "l1_r50" / "pruning.json").stat().st_mtime_ns == stamp


def test_fine_tuning_that_never_beats_the_recalibrated_network_keeps_it(tiny_run: tuple[Path, Path]) -> None:
    data, run = tiny_run
    out = run / "pruned_l1_wrecked"
    args = ["--checkpoint", str(run / "classifier" / "best.pt"), "--data", str(data), "--out", str(out),
            "--pruner", "l1", "--budget-params", "0.5", "--finetune-epochs", "1", "--lr", "1000",
            "--batch-size", "8", "--calibration-batches", "1", "--threads", "1"]  # fmt: skip
    assert prune_tongue_main(args) == 0
    report = json.loads((out / "pruning.json").read_text(encoding="utf-8"))
    assert load_checkpoint(out / "last.pt")["epoch"] == 1  # the epoch ran, and a learning rate of 1000 wrecked it
    assert load_checkpoint(out / "last.pt")["history"][-1]["score"] < report["val_mean_macro_f1"]["finetuned"]
    assert report["finetune"]["epochs"] == 0
    assert report["val_mean_macro_f1"]["finetuned"] == pytest.approx(
        report["val_mean_macro_f1"]["pruned_before_finetune"]
    )
