"""Decoding a photo for the tongue models: strict about damage, careful with memory.

:func:`decode_photo` accepts a path or the file's bytes and returns an RGB
uint8 array no larger than ``max_side`` on its longer side, rotated as the
camera's EXIF orientation says. A JPEG is decoded at a reduced scale straight
away when it is much larger than needed (the decoder's DCT scaling), so a
50-megapixel photo never becomes a 150 MB array; other formats are decoded
at full size (at most ``MAX_FULL_DECODE_PIXELS``) and shrunk in place before
any copy is made. A missing, empty, truncated, corrupt or absurdly large file
raises :class:`ImageError` naming the image; nothing is half-decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tcm_desktop.inference.errors import PipelineError
from tcm_desktop.inference.image_ops import resize_area

MAX_SIDE = 2048  # longer side after decoding; the models look at 128-pixel versions
MAX_PIXELS = 200_000_000  # refuse beyond this many pixels in the header (no photo is that large)
# Formats without reduced decoding (PNG, BMP, TIFF, WebP) are decoded at full size first:
# at most this many pixels (about 200 MB as RGB), so a huge one is refused, not allocated.
MAX_FULL_DECODE_PIXELS = 64_000_000
_REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F")


class ImageError(PipelineError):
    """A photo could not be read; ``image`` names it (its path, or its place in the batch)."""

    def __init__(self, message: str, image: str) -> None:
        super().__init__(message)
        self.image = image


@dataclass(frozen=True)
class DecodedPhoto:
    """The pixels the models see and how they relate to the file: ``original = pixels / scale``."""

    pixels: np.ndarray  # HxWx3 uint8 RGB
    original_size: tuple[int, int]  # (width, height) after EXIF rotation, before shrinking
    scale: float  # pixels' size / original size (<= 1)


def describe(source: bytes | Path | str, index: int) -> str:
    """How an image is named in messages: its path, or its position in the batch for raw bytes."""
    return str(source) if isinstance(source, (str, Path)) else f"image #{index + 1} (bytes)"


def _open(source: bytes | Path | str, name: str) -> Image.Image:
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            if not len(source):
                raise ImageError(f"{name} is empty", name)
            return Image.open(io.BytesIO(bytes(source)))
        return Image.open(Path(source))
    except FileNotFoundError as exc:
        raise ImageError(f"the image {name} does not exist", name) from exc
    except IsADirectoryError as exc:
        raise ImageError(f"the image {name} is a folder, not a file", name) from exc
    except UnidentifiedImageError as exc:
        raise ImageError(
            f"{name} is not an image in a format that can be read (JPEG, PNG, BMP, TIFF, WebP)", name
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name} is too large to open ({exc})", name) from exc
    except OSError as exc:
        raise ImageError(f"cannot read the image {name}: {exc}", name) from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = max(float(array.max()), 1.0)
        return Image.fromarray((array / top * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def _shrunk(image: Image.Image, max_side: int) -> Image.Image:
    """``image`` reduced by a whole factor (box filter, in C) while its longer side stays >= ``max_side``."""
    factor = max(image.size) // max_side
    if factor < 2:
        return image
    if image.mode not in _REDUCIBLE_MODES:
        image = _to_rgb(image)
    return image.reduce(factor)


def decode_photo(source: bytes | Path | str, name: str | None = None, max_side: int = MAX_SIDE) -> DecodedPhoto:
    """Decode a photo (see the module docstring); raises :class:`ImageError`."""
    name = name or describe(source, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies below
        image = _open(source, name)
        try:
            with image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    raise ImageError(f"{name} is {width}x{height} pixels, larger than the {MAX_PIXELS:,} allowed", name)
                orientation = image.getexif().get(0x0112, 1)
                rotated = orientation in (5, 6, 7, 8)
                full_w, full_h = (height, width) if rotated else (width, height)
                scale = min(1.0, max_side / max(width, height))
                if scale < 1 and image.format == "JPEG":
                    # the decoder picks a power-of-two reduction no smaller than the requested size
                    image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
                elif width * height > MAX_FULL_DECODE_PIXELS:
                    raise ImageError(
                        f"{name} is a {image.format or 'non-JPEG'} picture of {width}x{height} pixels; without"
                        f" JPEG's reduced decoding at most {MAX_FULL_DECODE_PIXELS:,} pixels can be opened"
                        " (save it as JPEG or make it smaller)",
                        name,
                    )
                image.load()
                image = _shrunk(image, max_side)  # before any copy: the full-size pixels exist only once
                image = ImageOps.exif_transpose(image) or image
                rgb = np.asarray(_to_rgb(image), dtype=np.uint8)
        except ImageError:
            raise
        except Image.DecompressionBombError as exc:
            raise ImageError(f"{name} is too large to open ({exc})", name) from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:  # PIL's damaged-file errors
            raise ImageError(f"the image {name} is damaged or truncated ({exc})", name) from exc
    height_now, width_now = rgb.shape[:2]
    if max(height_now, width_now) > max_side:
        factor = max_side / max(height_now, width_now)
        size = (max(1, round(width_now * factor)), max(1, round(height_now * factor)))
        rgb = resize_area(rgb, size)
    return DecodedPhoto(np.ascontiguousarray(rgb), (full_w, full_h), rgb.shape[1] / full_w)
