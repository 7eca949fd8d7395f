"""Loading the model bundle: the shipped one works; a changed, missing or extra file is refused by name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tcm_desktop.files import sha256_of
from tcm_desktop.inference import bundle as bundle_module
from tcm_desktop.inference.bundle import MANIFEST, ModelBundle
from tcm_desktop.inference.errors import BundleError

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "tcm-text"
SHIPPED_VERSION = f"tcm-text@{json.loads((SHIPPED / 'manifest.json').read_text(encoding='utf-8'))['version']}"
LISTED = sorted(json.loads((SHIPPED / MANIFEST).read_text(encoding="utf-8"))["files"])


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "tcm-text"
    shutil.copytree(SHIPPED, target)
    return target


def rewrite_manifest(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_the_shipped_bundle_loads() -> None:
    bundle = ModelBundle.load(SHIPPED, threads=1)
    assert bundle.model_version == SHIPPED_VERSION
    assert len(bundle.labels) == 23 and len(bundle.tags) == 47 == bundle.crf.num_tags
    assert bundle.max_chars == 256 and bundle.lexicon is not None and bundle.lexicon.n_features == 48
    assert bundle.providers(1)[-1] == "CPUExecutionProvider"
    assert bundle.text_session(1) is bundle.text_session(1)  # created once


def test_the_thread_count_reaches_onnx_runtime() -> None:
    bundle = ModelBundle.load(SHIPPED, threads=1)
    assert bundle.text_session(1).get_session_options().intra_op_num_threads == 1
    assert bundle.text_session(2).get_session_options().intra_op_num_threads == 2


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_cuda_is_tried_first_only_when_onnx_runtime_offers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bundle_module._providers("auto")[-1] == "CPUExecutionProvider"
    assert bundle_module._providers("cpu") == ["CPUExecutionProvider"]
    offered = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(bundle_module.ort, "get_available_providers", lambda: offered)
    assert bundle_module._providers("auto") == offered
    assert bundle_module._providers("cpu") == ["CPUExecutionProvider"]
    # a GPU build without a usable GPU still runs, on the CPU
    assert ModelBundle.load(SHIPPED, threads=1).providers(1)[-1] == "CPUExecutionProvider"
    monkeypatch.setattr(bundle_module.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(BundleError, match="CUDA"):
        ModelBundle.load(SHIPPED, threads=1, device="cuda")


@pytest.mark.parametrize("name", LISTED)
def test_one_changed_byte_is_refused_naming_the_file(copy: Path, name: str) -> None:
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / name).write_bytes(bytes(data))
    with pytest.raises(BundleError, match=name.replace(".", r"\.")) as caught:
        ModelBundle.load(copy, threads=1)
    assert caught.value.path == name
    assert "sha256" in str(caught.value)


def test_a_missing_file_is_refused(copy: Path) -> None:
    (copy / "crf.npz").unlink()
    with pytest.raises(BundleError, match=r"lacks crf\.npz") as caught:
        ModelBundle.load(copy, threads=1)
    assert caught.value.path == "crf.npz"


def test_an_unlisted_extra_file_is_refused(copy: Path) -> None:
    (copy / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(BundleError, match=r"notes\.txt.*does not list") as caught:
        ModelBundle.load(copy, threads=1)
    assert caught.value.path == "notes.txt"


def test_operating_system_litter_is_ignored(copy: Path) -> None:
    (copy / ".DS_Store").write_bytes(b"\0\0")
    assert ModelBundle.load(copy, threads=1).name == "tcm-text"


def test_a_manifest_that_is_not_json_gives_a_clear_error(copy: Path) -> None:
    (copy / MANIFEST).write_text('{"format": "tcm-model-bundle", ', encoding="utf-8")
    with pytest.raises(BundleError, match=r"manifest\.json .* not valid JSON \(line 1"):
        ModelBundle.load(copy, threads=1)


def test_a_missing_manifest_or_folder_is_refused(copy: Path, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not a folder"):
        ModelBundle.load(tmp_path / "nowhere")
    (copy / MANIFEST).unlink()
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        ModelBundle.load(copy)


def test_a_manifest_listing_an_absent_checksum_target_or_bad_names_is_refused(copy: Path) -> None:
    rewrite_manifest(copy, lambda m: m["files"].update({"../outside.onnx": "0" * 64}))
    with pytest.raises(BundleError, match="invalid file name"):
        ModelBundle.load(copy, threads=1)


def test_tags_that_disagree_with_the_crf_are_refused(copy: Path) -> None:
    rewrite_manifest(copy, lambda m: m.update(tags=m["tags"][:-2]))
    with pytest.raises(BundleError, match=r"crf\.npz scores 47 tags"):
        ModelBundle.load(copy, threads=1)


def test_metadata_in_the_onnx_file_must_match_the_manifest(copy: Path) -> None:
    def swap(manifest: dict[str, Any]) -> None:
        tags = manifest["tags"]
        tags[1], tags[3] = tags[3], tags[1]

    rewrite_manifest(copy, swap)
    with pytest.raises(BundleError, match=r"tags in text\.onnx's metadata differ"):
        ModelBundle.load(copy, threads=1)


def test_file_sha256_matches_the_manifest_of_the_shipped_bundle() -> None:
    files = json.loads((SHIPPED / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert {name: sha256_of(SHIPPED / name) for name in files} == files
