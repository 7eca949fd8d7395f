"""Fuzzing picture loading: the model's decoder (inference/image_io.py) and the store's (store/images.py).

Missing, empty, truncated, corrupt or random files give an ImageError naming
the picture, never another exception; a picture that decodes is RGB uint8 no
larger than ``MAX_SIDE``. A 50-megapixel photo is shrunk while it is decoded
(JPEG) or right after (PNG), with the peak memory measured in a child process;
a larger PNG than can be decoded safely is refused with a message. A record
whose picture is refused is not stored and leaves no file behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tcm_desktop.domain import Record
from tcm_desktop.inference import image_io
from tcm_desktop.store import Database, StoreError
from tcm_desktop.store import images as store_images

from .fuzz_data import damaged, jpeg_bytes, png_bytes
from .kill_harness import _driver_env
from .stats import count_fuzz, fuzz_examples, record

FUZZ = settings(
    max_examples=fuzz_examples(80), deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
BIG_SIZE = (8660, 5780)  # 50.05 megapixels, a full-frame camera's photo

pictures = st.one_of(
    st.binary(max_size=2048),
    st.builds(
        damaged,
        st.sampled_from([png_bytes(40, 30), jpeg_bytes(40, 30), png_bytes(3, 700), jpeg_bytes(640, 8)]),
        st.sampled_from(["truncated", "flipped", "header_only", "zlib"]),
        st.integers(0, 100_000),
    ),
    st.sampled_from(
        [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff", b"GIF89a"]
    ),
)


def decode_checked(source: bytes | Path, target: str) -> None:
    try:
        photo = image_io.decode_photo(source)
    except image_io.ImageError as exc:
        assert exc.image and str(exc)
        count_fuzz(target, "error")
        return
    assert photo.pixels.dtype == np.uint8 and photo.pixels.ndim == 3 and photo.pixels.shape[2] == 3
    assert max(photo.pixels.shape[:2]) <= image_io.MAX_SIDE
    count_fuzz(target, "ok")


@FUZZ
@given(data=pictures)
def test_fuzzed_bytes_decode_or_raise_image_error(data: bytes) -> None:
    decode_checked(data, "image_io: fuzzed pictures")


@FUZZ
@given(data=pictures, suffix=st.sampled_from([".jpg", ".png", ".jpeg", ".bmp", ""]))
def test_fuzzed_files_in_the_store_are_checked_or_refused(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-image-") as name:
        folder = Path(name)
        photo = folder / f"photo{suffix}"
        photo.write_bytes(data)
        decode_checked(photo, "image_io: fuzzed picture files")
        with Database.open(folder / "db.sqlite") as db:
            try:
                db.records.add(Record("P1", "gastro", "舌淡红，苔薄白。"), photo)
            except StoreError as exc:
                assert "photo" in str(exc)
                assert db.records.count() == 0
                assert not db.images_dir.exists() or not any(db.images_dir.iterdir())
                count_fuzz("store/images: fuzzed picture files", "error")
            else:  # the header is a JPEG/PNG one: stored whole, by its hash
                stored = db.records.get("P1")
                assert stored.image_path is not None and stored.image_path.read_bytes() == data
                count_fuzz("store/images: fuzzed picture files", "ok")


@pytest.mark.parametrize("kind", ["missing", "empty", "folder"])
def test_missing_empty_or_folder_is_an_image_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "photo.jpg"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    with pytest.raises(image_io.ImageError, match="photo.jpg"):
        image_io.decode_photo(path)
    with pytest.raises(store_images.ImageError, match="photo.jpg"):
        store_images.read_image(path)
    count_fuzz("image_io: missing, empty, folder", "error")


def test_a_header_claiming_a_gigantic_picture_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = Image.new("L", (1, 1))
    path = tmp_path / "bomb.png"
    bomb.save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width and height (the CRC is now wrong too)
    with pytest.raises(image_io.ImageError, match="bomb"):
        image_io.decode_photo(bytes(data), "bomb.png")
    count_fuzz("image_io: decompression bomb", "error")


# --- 50 megapixels --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 50-megapixel JPEG and PNG (a smooth gradient, so the files stay small), and a 70 MP PNG."""
    folder = tmp_path_factory.mktemp("big")
    width, height = BIG_SIZE
    gradient = Image.linear_gradient("L").resize((width, height), Image.Resampling.NEAREST)
    rgb = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    photos = {"jpeg": folder / "big.jpg", "png": folder / "big.png", "huge_png": folder / "huge.png"}
    rgb.save(photos["jpeg"], quality=85)
    rgb.save(photos["png"], compress_level=1)
    del rgb
    Image.new("L", (10_000, 7_000)).save(photos["huge_png"], compress_level=1)  # 70 MP, over the full-decode limit
    return photos


MEMORY_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    from tcm_desktop.inference.image_io import decode_photo

    def peak_mb():
        # VmHWM starts afresh at exec; ru_maxrss keeps the parent's peak on Linux
        try:
            with open("/proc/self/status") as fh:
                return next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    before = peak_mb()
    photo = decode_photo(sys.argv[1])
    after = peak_mb()
    print(json.dumps({"shape": list(photo.pixels.shape), "original": list(photo.original_size),
                      "growth_mb": round(after - before, 1)}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="ru_maxrss is POSIX")
@pytest.mark.parametrize(("kind", "limit_mb"), [("jpeg", 100), ("png", 320)])
def test_a_50_megapixel_photo_is_shrunk_in_bounded_memory(
    big_photos: dict[str, Path], tmp_path: Path, kind: str, limit_mb: int
) -> None:
    script = tmp_path / "probe.py"
    script.write_text(MEMORY_PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(big_photos[kind])], capture_output=True, text=True, env=_driver_env()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    record("image_memory", {"format": kind, "megapixels": round(BIG_SIZE[0] * BIG_SIZE[1] / 1e6, 2), **result})
    count_fuzz("image_io: 50-megapixel photo", "ok")
    assert result["original"] == list(BIG_SIZE)
    assert max(result["shape"][:2]) == image_io.MAX_SIDE
    assert result["growth_mb"] < limit_mb, result  # the full picture as RGB would be 150 MB, as float 600


def test_a_png_too_large_to_decode_safely_is_refused_with_a_message(big_photos: dict[str, Path]) -> None:
    with pytest.raises(image_io.ImageError, match="at most 64,000,000 pixels"):
        image_io.decode_photo(big_photos["huge_png"])
    count_fuzz("image_io: 70-megapixel PNG", "error")


def test_the_store_keeps_a_50_megapixel_photo_by_its_header(big_photos: dict[str, Path], tmp_path: Path) -> None:
    info = store_images.probe_image(big_photos["jpeg"].read_bytes())
    assert (info.width, info.height) == BIG_SIZE
    with Database.open(tmp_path / "db.sqlite") as db:
        db.records.add(Record("BIG", "gastro", "舌淡红。"), big_photos["jpeg"])
        assert db.records.get("BIG").image_path is not None
