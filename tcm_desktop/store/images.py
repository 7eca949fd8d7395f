"""Tongue photos kept as files: checked by their header, stored by content hash.

Files live in ``<data_dir>/images/<sha256>.<ext>``: the same picture imported
twice is stored once, and a file's name proves its content. The database
keeps the hash, the original name, the byte size and the pixel size.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tcm_desktop.files import make_private_dir
from tcm_desktop.store.errors import ImageError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"
# Start-of-frame markers carry the picture size (all but DHT C4, JPG C8, DAC CC).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
MAX_IMAGE_BYTES = 64 * 1024 * 1024
INCOMING_PREFIX = ".incoming-"  # a file being written; never referenced by a record


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg" or "png"
    ext: str  # ".jpg" or ".png"
    width: int
    height: int


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    path: Path  # absolute, inside the images folder
    file_name: str  # "<sha256>.<ext>"
    original_name: str
    size: int  # bytes
    width: int
    height: int
    created: bool  # True when this call wrote the file (so a rollback must remove it)

    def discard_if_created(self) -> None:
        """Remove the file if this call created it; leave a shared, older copy alone."""
        if self.created:
            self.path.unlink(missing_ok=True)


def probe_image(data: bytes, where: str = "image") -> ImageInfo:
    """Format and pixel size from the header; ImageError if it is not a JPEG or PNG picture."""
    if data.startswith(PNG_SIGNATURE):
        return _probe_png(data, where)
    if data.startswith(JPEG_SOI):
        return _probe_jpeg(data, where)
    raise ImageError(f"{where} is not a JPEG or PNG picture")


def _probe_png(data: bytes, where: str) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ImageError(f"{where} is a damaged PNG file (no image header)")
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0:
        raise ImageError(f"{where} is a PNG file with no pixels")
    return ImageInfo("png", ".png", width, height)


def _probe_jpeg(data: bytes, where: str) -> ImageInfo:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            if width == 0 or height == 0:
                raise ImageError(f"{where} is a JPEG file with no pixels")
            return ImageInfo("jpeg", ".jpg", width, height)
        pos += 2 + length
    raise ImageError(f"{where} is a damaged JPEG file (no frame header)")


def read_image(source: Path) -> tuple[bytes, ImageInfo]:
    """The bytes of ``source`` and what they are; ImageError if missing, unreadable or not a picture."""
    try:
        size = source.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageError(f"image {source.name} is too large ({size // (1024 * 1024)} MiB)")
        data = source.read_bytes()
    except FileNotFoundError as exc:
        raise ImageError(f"image {source.name} not found at {source}") from exc
    except OSError as exc:
        raise ImageError(f"cannot read image {source}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL byte or a lone surrogate in the name: no file can have it
        raise ImageError(f"image name {str(source.name)!r} is not a valid file name") from exc
    return data, probe_image(data, f"image {source.name}")


@dataclass(frozen=True)
class IncomingImage:
    """A picture read and checked, not yet in the images folder (see :func:`write_image`)."""

    data: bytes
    info: ImageInfo
    sha256: str
    original_name: str

    @property
    def file_name(self) -> str:
        return f"{self.sha256}{self.info.ext}"


def read_incoming(source: Path) -> IncomingImage:
    """Read, check and hash ``source`` (no write); ImageError if it is not a usable picture."""
    data, info = read_image(source)
    return IncomingImage(data, info, hashlib.sha256(data).hexdigest(), source.name)


def write_image(image: IncomingImage, images_dir: Path) -> StoredImage:
    """Put ``image`` into ``images_dir`` under its content hash (temp file, fsync, rename; reuses a copy).

    Call it inside the transaction that references the file: the database's
    orphan sweep (:func:`tcm_desktop.store.sweep.sweep_orphan_images`) relies on
    no file being unreferenced outside a writer's transaction.
    """
    target = images_dir / image.file_name
    created = False
    if not target.exists():
        try:
            make_private_dir(images_dir)  # the data folder too: patient photos are the user's alone
            fd, tmp_name = tempfile.mkstemp(prefix=INCOMING_PREFIX, suffix=image.info.ext, dir=images_dir)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(image.data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ImageError(
                f"cannot copy image {image.original_name} into {images_dir}: {exc.strerror or exc}"
            ) from exc
        created = True
    info = image.info
    return StoredImage(
        image.sha256, target, image.file_name, image.original_name, len(image.data), info.width, info.height, created
    )


def store_image(source: Path, images_dir: Path) -> StoredImage:
    """Copy ``source`` into ``images_dir`` under its content hash (atomic; reuses an existing copy)."""
    return write_image(read_incoming(source), images_dir)
