"""The tongue pipeline on a tiny bundle built here (``tongue_models``: hand-written ONNX graphs, no torch)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from PIL import Image  # noqa: E402

from tcm_desktop.demo.tongue_image import TongueState, render_tongue  # noqa: E402
from tcm_desktop.inference.bundle import ModelBundle  # noqa: E402
from tcm_desktop.inference.errors import BundleError, PipelineError  # noqa: E402
from tcm_desktop.inference.image_io import MAX_SIDE, ImageError, decode_photo  # noqa: E402
from tcm_desktop.inference.image_models import ImageModels  # noqa: E402
from tcm_desktop.inference.image_pipeline import TonguePipeline, TongueResult  # noqa: E402
from tests.unit.inference.tongue_models import (  # noqa: E402
    ATTRIBUTES,
    CLS,
    CLS_SIZE,
    CROP,
    SEG,
    image_entry,
    write_manifest,
    write_models,
)

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "tcm-text"


def text_only_copy(folder: Path) -> Path:
    """The shipped bundle without its tongue models (manifest and files)."""
    shutil.copytree(SHIPPED, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for part in ("segmenter", "classifier"):
        if "image" in manifest:
            (folder / manifest["image"][part]["file"]).unlink()
    manifest.pop("image", None)
    write_manifest(folder, manifest)
    return folder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tongue") / "bundle"
    write_models(folder)
    write_manifest(
        folder, {"format": "tcm-model-bundle", "format_version": 1, "name": "t", "version": "1", "image": image_entry()}
    )
    return folder


@pytest.fixture(scope="module")
def pipeline(bundle: Path) -> TonguePipeline:
    return TonguePipeline(bundle, threads=1)


def red_ellipse(width: int = 200, height: int = 150) -> np.ndarray:
    image = np.full((height, width, 3), 128, np.uint8)
    cv2.ellipse(image, (120, 80), (40, 30), 0, 0, 360, (220, 60, 70), -1)  # RGB: red tongue right of centre
    return image


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def test_probabilities_sum_to_one_per_form_field(pipeline: TonguePipeline, tmp_path: Path) -> None:
    photo = tmp_path / "demo.jpg"
    cv2.imwrite(str(photo), render_tongue(TongueState("淡红", "白", "薄", True, False), seed=3))
    results = pipeline.predict([photo, jpeg(red_ellipse())])
    assert len(results) == 2 and all(isinstance(r, TongueResult) for r in results)
    for result in results:
        assert list(result.attributes) == ["tongue_color", "coat_color", "fissure", "tooth_marks"]
        for field, probs in result.attributes.items():
            assert sum(probs.values()) == pytest.approx(1.0, abs=1e-6), field
            assert all(0.0 <= p <= 1.0 for p in probs.values())
        assert set(result.attributes["tongue_color"]) == {"淡白", "淡红", "暗红/紫暗"}
        assert dict(result.attributes["fissure"]) == pytest.approx({"有": 1.0})
        assert set(result.grades) == {"fissure", "tooth_marks"}
        assert sum(result.grades["tooth_marks"].values()) == pytest.approx(1.0, abs=1e-6)
        assert result.best("coat_color")[0] in {"白", "黄白相间", "黄"}
    with pytest.raises(TypeError):
        results[0].attributes["tongue_color"]["淡白"] = 1.0  # type: ignore[index]


def test_the_tongue_is_found_and_boxed_in_original_pixels(pipeline: TonguePipeline) -> None:
    [result] = pipeline.predict([jpeg(red_ellipse())])
    assert result.found and result.tongue_box is not None
    x0, y0, x1, y1 = result.tongue_box
    assert abs(x0 - 80) <= 6 and abs(x1 - 161) <= 6 and abs(y0 - 50) <= 6 and abs(y1 - 111) <= 6
    bx0, by0, bx1, by1 = result.box
    assert bx1 - bx0 == by1 - by0 and bx0 < x0 and bx1 > x1  # square, with margin
    assert 0.1 < result.tongue_fraction < 0.4


def test_no_tongue_means_not_found_with_the_whole_photo_read(pipeline: TonguePipeline) -> None:
    [result] = pipeline.predict([jpeg(np.full((90, 120, 3), 128, np.uint8))])
    assert not result.found and result.tongue_box is None
    assert result.box == (0, -15, 120, 105)
    assert sum(result.attributes["coat_color"].values()) == pytest.approx(1.0, abs=1e-6)


def test_bytes_and_paths_give_the_same_answer(pipeline: TonguePipeline, tmp_path: Path) -> None:
    data = jpeg(red_ellipse())
    (tmp_path / "a.jpg").write_bytes(data)
    by_bytes, by_path = pipeline.predict([data, tmp_path / "a.jpg"])
    assert by_bytes == by_path


def _truncated_png() -> bytes:
    ok, buf = cv2.imencode(".png", np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    return buf.tobytes()[:-200]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p / "missing.jpg", "does not exist"),
        (lambda p: b"", "empty"),
        (lambda p: b"this is not an image at all", "not an image"),
        (lambda p: jpeg(red_ellipse())[:1500], "damaged or truncated"),
        (lambda p: _truncated_png(), "damaged or truncated"),
        (lambda p: jpeg(red_ellipse())[:200] + bytes(800) + jpeg(red_ellipse())[1000:], "damaged or truncated"),
        (lambda p: p, "folder"),
    ],
    ids=["missing", "empty", "not-image", "truncated-jpeg", "truncated-png", "corrupt-jpeg", "folder"],
)
def test_bad_images_raise_a_clear_error_naming_them(pipeline: TonguePipeline, tmp_path: Path, make, words: str) -> None:
    bad = make(tmp_path)
    good = jpeg(red_ellipse())
    with pytest.raises(ImageError, match=words) as caught:
        pipeline.predict([good, bad])
    assert isinstance(caught.value, PipelineError)
    expected = str(bad) if isinstance(bad, Path) else "image #2 (bytes)"
    assert caught.value.image == expected and expected in str(caught.value)


def test_predict_each_gives_a_bad_photo_its_own_error_and_the_others_their_results(
    pipeline: TonguePipeline, tmp_path: Path
) -> None:
    photos = [jpeg(red_ellipse()), tmp_path / "missing.jpg", b"not an image", jpeg(red_ellipse())]
    photos += [jpeg(red_ellipse())] * 17  # more than one batch
    results = pipeline.predict_each(photos)
    assert len(results) == len(photos)
    assert isinstance(results[1], ImageError) and str(tmp_path / "missing.jpg") in str(results[1])
    assert isinstance(results[2], ImageError) and "image #3 (bytes)" in str(results[2])
    good = [r for i, r in enumerate(results) if i not in (1, 2)]
    assert all(r == pipeline.predict([photos[0]])[0] for r in good)


def test_a_50_megapixel_jpeg_is_decoded_reduced() -> None:
    height, width = 6000, 8400  # 50.4 MP
    big = np.full((height, width, 3), 128, np.uint8)
    cv2.ellipse(big, (4200, 3000), (1600, 1200), 0, 0, 360, (70, 60, 220), -1)  # BGR red
    ok, buf = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 70])
    del big
    photo = decode_photo(buf.tobytes(), "big.jpg")
    assert max(photo.pixels.shape[:2]) <= MAX_SIDE and photo.original_size == (width, height)
    assert photo.scale == pytest.approx(photo.pixels.shape[1] / width)


def test_the_result_box_of_a_huge_photo_is_in_its_own_pixels(pipeline: TonguePipeline) -> None:
    big = cv2.resize(red_ellipse(), (4000, 3000), interpolation=cv2.INTER_NEAREST)
    [result] = pipeline.predict([jpeg(big, 80)])
    assert result.found and result.tongue_box is not None
    assert abs(result.tongue_box[0] - 1600) < 100 and abs(result.tongue_box[2] - 3220) < 100


def test_exif_rotation_is_applied() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(buffer, "JPEG", exif=exif)
    photo = decode_photo(buffer.getvalue(), "phone.jpg")
    assert photo.pixels.shape[:2] == (50, 30) and photo.original_size == (30, 50)


def test_loose_onnx_files_describe_themselves(bundle: Path) -> None:
    pipeline = TonguePipeline((bundle / SEG, bundle / CLS), threads=1)
    assert [a.name for a in pipeline.spec.attributes] == [a["name"] for a in ATTRIBUTES]
    assert pipeline.spec.crop.margin == CROP["margin"] and pipeline.spec.classifier_size == CLS_SIZE


def test_a_changed_image_model_is_refused_by_name(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    data = bytearray((copy / CLS).read_bytes())
    data[-10] ^= 0x01
    (copy / CLS).write_bytes(bytes(data))
    with pytest.raises(BundleError, match=CLS.replace(".", r"\.")):
        TonguePipeline(copy, threads=1)


def test_a_manifest_that_disagrees_with_the_onnx_metadata_is_refused(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["image"]["attributes"][0]["form_values"] = ["淡红", "淡白", "暗红/紫暗"]
    write_manifest(copy, manifest)
    with pytest.raises(BundleError, match="attributes"):
        TonguePipeline(copy, threads=1)


def test_model_bundle_exposes_the_image_models_only_when_the_manifest_has_them(bundle: Path, tmp_path: Path) -> None:
    text_folder = text_only_copy(tmp_path / "text_only")
    text_only = ModelBundle.load(text_folder, threads=1)
    assert text_only.image is None
    with pytest.raises(BundleError, match="no tongue image model"):
        text_only.image_sessions(1)
    with pytest.raises(BundleError, match="no tongue image model"):
        TonguePipeline(text_only)
    both = text_only_copy(tmp_path / "both")
    for name in (SEG, CLS):
        shutil.copyfile(bundle / name, both / name)
    manifest = json.loads((both / "manifest.json").read_text(encoding="utf-8"))
    manifest["image"] = image_entry()
    write_manifest(both, manifest)
    loaded = ModelBundle.load(both, threads=1)
    assert isinstance(loaded.image, ImageModels)
    segmenter, classifier = loaded.image_sessions(1)
    assert segmenter.get_inputs()[0].name == "image" and len(classifier.get_outputs()) == 4
    [result] = TonguePipeline(loaded, threads=1).predict([jpeg(red_ellipse())])
    assert result.found
