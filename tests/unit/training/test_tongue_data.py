"""Tongue data: reading a TonguExpert-style folder built here, the split by image id, labels and losses."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from tcm_desktop.demo.tongue_image import TongueState, render_tongue, tongue_mask
from tcm_desktop.resources import resource_path
from training.tongue.data import (
    TongueCache,
    TongueDataError,
    augment_segmentation,
    build_cache,
    classifier_crop,
    load_or_make_split,
    make_split,
    scan,
)
from training.tongue.labels import ATTRIBUTES, LabelMapError, check_label_map, form_values, load_label_map
from training.tongue.models import dice_bce, masked_loss
from training.tongue.train import class_weights, macro_f1

HEADER = "SID\tlabels_tai\tlabels_zhi\tlabels_fissure\tlabels_tooth_mk\n"
STATE = TongueState("淡红", "黄", "厚", True, False)


def make_folder(root: Path, rows: list[str]) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, row in enumerate(rows):
        sid = row.split("\t")[0]
        cv2.imwrite(str(root / "images" / f"{sid}.jpg"), render_tongue(STATE, seed=i, size=(120, 90)))
        cv2.imwrite(str(root / "masks" / f"{sid}.jpg"), tongue_mask(STATE, seed=i, size=(120, 90)))
    (root / "labels_manual.tsv").write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return root


def test_scan_reads_labels_as_class_indices_with_na_as_minus_one(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, ["T2\twhite\tdark\tNA\tsevere", "T1\tNA\tNA\tlight\tNA"])
    items = scan(folder)
    assert [i.sid for i in items] == ["T1", "T2"]
    # ATTRIBUTES order: tongue_color (zhi), coat_color (tai), fissure, tooth_marks
    assert items[0].labels == (-1, -1, 0, -1)
    assert items[1].labels == (2, 0, -1, 1)


def test_an_unknown_label_is_refused_by_image(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, ["T1\tpurple\tNA\tNA\tNA"])
    with pytest.raises(TongueDataError, match="T1.*purple"):
        scan(folder)


def test_the_split_is_by_image_id_fixed_and_saved(tmp_path: Path) -> None:
    ids = [f"TE{i:04d}" for i in range(200)]
    split = make_split(ids, seed=13)
    assert (len(split["train"]), len(split["val"]), len(split["test"])) == (140, 30, 30)
    parts = [set(split[k]) for k in ("train", "val", "test")]
    assert set.union(*parts) == set(ids) and sum(len(p) for p in parts) == 200
    assert make_split(list(reversed(ids)), seed=13) == split  # order of discovery does not matter
    assert make_split(ids, seed=14)["test"] != split["test"]
    path = tmp_path / "split.json"
    assert load_or_make_split(path, ids) == split and path.is_file()
    assert load_or_make_split(path, ids) == split
    with pytest.raises(TongueDataError, match="does not cover"):
        load_or_make_split(path, ids[:-1])


def test_the_cache_round_trips_and_crops_are_cut_around_the_mask(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "data", ["A\tNA\tlight\tNA\tNA", "B\tyellow\tNA\tsevere\tlight"])
    cache = build_cache(scan(folder), seg_size=32, photo_side=60)
    cache.save(tmp_path / "cache.npz")
    again = TongueCache.load(tmp_path / "cache.npz")
    assert again.sids == ["A", "B"] and again.seg_images.shape == (2, 32, 32, 3)
    assert again.photos[1].shape == (45, 60, 3) and (again.photos[1] == cache.photos[1]).all()
    assert again.seg_masks.dtype == bool and 0.1 < again.seg_masks.mean() < 0.6
    x0, y0, x1, y1 = again.boxes[0]
    assert 0 <= x0 < x1 <= 60 and 0 <= y0 < y1 <= 45
    rng = np.random.default_rng(0)
    plain = classifier_crop(again.photos[0], tuple(again.boxes[0]), 24, 0.1)
    augmented = classifier_crop(again.photos[0], tuple(again.boxes[0]), 24, 0.1, rng)
    assert plain.shape == augmented.shape == (24, 24, 3)
    image, mask = augment_segmentation(again.seg_images[0], again.seg_masks[0], rng)
    assert image.shape == (32, 32, 3) and mask.shape == (32, 32) and mask.dtype == bool


def test_the_shipped_label_mapping_covers_every_class_with_form_values() -> None:
    mapping = load_label_map()
    check_label_map(mapping, ATTRIBUTES)
    assert mapping["tongue_color"] == {"light": "淡白", "regular": "淡红", "dark": "暗红/紫暗"}
    assert mapping["coat_color"] == {"white": "白", "light_yellow": "黄白相间", "yellow": "黄"}
    assert mapping["fissure"] == mapping["tooth_marks"] == {"light": "有", "severe": "有"}
    form = yaml.safe_load(resource_path("schema", "form.yaml").read_text(encoding="utf-8"))
    allowed = {f["name"]: f["values"] for f in form["blocks"]["general"] if "values" in f}
    for attribute in ATTRIBUTES:
        assert set(form_values(mapping, attribute)) <= set(allowed[attribute.name]), attribute.name


def test_a_missing_or_incomplete_mapping_is_reported(tmp_path: Path) -> None:
    with pytest.raises(LabelMapError, match="cannot read"):
        load_label_map(tmp_path / "none.yaml")
    partial = tmp_path / "partial.yaml"
    partial.write_text("tongue_color: {light: 淡白}\n", encoding="utf-8")
    with pytest.raises(LabelMapError, match=r"tongue_color lacks \['regular', 'dark'\]"):
        check_label_map(load_label_map(partial), ATTRIBUTES)
    (tmp_path / "bad.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(LabelMapError, match="expected form field"):
        load_label_map(tmp_path / "bad.yaml")


def test_the_masked_loss_ignores_unlabelled_rows() -> None:
    logits = [torch.randn(4, 3, requires_grad=True), torch.randn(4, 2, requires_grad=True)]
    labels = torch.tensor([[0, -1], [2, -1], [-1, -1], [1, -1]])
    loss = masked_loss(logits, labels, [None, None], smoothing=0.0)
    expected = torch.nn.functional.cross_entropy(logits[0][[0, 1, 3]], torch.tensor([0, 2, 1]))
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert logits[1].grad is None or float(logits[1].grad.abs().sum()) == 0.0
    assert logits[0].grad is not None and float(logits[0].grad[2].abs().sum()) == 0.0
    nothing = masked_loss(logits, torch.full((4, 2), -1), [None, None])
    assert nothing.item() == 0.0


def test_metrics_and_weights() -> None:
    truth, predicted = np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1])
    assert macro_f1(truth, predicted, 3) == pytest.approx((0.8 + 2 / 3) / 2)  # class 2 absent from both
    weights = class_weights(np.array([[0], [0], [0], [1], [-1]]), [2])
    assert weights[0][1] > weights[0][0] and float(weights[0].mean()) == pytest.approx(1.0)
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1
    assert dice_bce(torch.where(mask > 0, 10.0, -10.0), mask).item() < 0.01
