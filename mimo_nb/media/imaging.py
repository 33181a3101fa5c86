"""Pictures for people: PNG/JPEG bytes and data URIs, thumbnails, contact sheets, plots as PNG.

Pure functions over numpy arrays and figures; the HTML that shows them is built in
:mod:`mimo_nb.display.render`.

>>> import numpy as np
>>> png_data_uri(np.zeros((8, 8, 3), np.uint8)).startswith("data:image/png;base64,")
True
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from mimo_nb.core.limits import data_uri

__all__ = [
    "contact_sheet",
    "encode_jpeg",
    "encode_png",
    "figure_png",
    "format_time",
    "jpeg_data_uri",
    "png_data_uri",
    "thumbnail",
]

Array = npt.NDArray[np.uint8]


def encode_png(array: Array) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def encode_jpeg(array: Array, quality: int = 85) -> bytes:
    """JPEG bytes of an (H, W, 3) uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png_data_uri(array: Array) -> str:
    """A ``data:image/png;base64,...`` URI for an image array."""
    return data_uri(encode_png(array), "image/png")


def jpeg_data_uri(array: Array, quality: int = 85) -> str:
    """A ``data:image/jpeg;base64,...`` URI for an image array."""
    return data_uri(encode_jpeg(array, quality), "image/jpeg")


def thumbnail(array: Array, max_width: int = 192) -> Array:
    """The image shrunk (never enlarged) to at most ``max_width`` pixels wide, aspect kept."""
    height, width = array.shape[:2]
    if width <= max_width:
        return array
    new_height = max(1, round(height * max_width / width))
    return np.asarray(
        Image.fromarray(array).resize((max_width, new_height), Image.Resampling.BILINEAR)
    )


def format_time(seconds: float) -> str:
    """``12.50 s`` under a minute, else ``m:ss.ss``."""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:05.2f}"


def contact_sheet(
    images: Sequence[Array] | Array, labels: Sequence[str], columns: int = 6, max_width: int = 320
) -> Image.Image:
    """One picture of all ``images`` in a grid, each with its label underneath.

    >>> contact_sheet(np.zeros((2, 32, 48, 3), np.uint8), ["0.00 s", "0.50 s"]).size[0] > 0
    True
    """
    tiles = [thumbnail(np.asarray(image), max_width) for image in images]
    if not tiles:
        return Image.new("RGB", (1, 1), "white")
    columns = max(1, min(columns, len(tiles)))
    cell_w = max(t.shape[1] for t in tiles)
    cell_h = max(t.shape[0] for t in tiles)
    label_h, pad = 16, 4
    rows = -(-len(tiles) // columns)
    sheet = Image.new(
        "RGB", (columns * (cell_w + pad) + pad, rows * (cell_h + label_h + pad) + pad), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for k, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        x = pad + (k % columns) * (cell_w + pad)
        y = pad + (k // columns) * (cell_h + label_h + pad)
        sheet.paste(Image.fromarray(tile), (x, y))
        draw.text((x + 2, y + tile.shape[0] + 2), str(label), fill=(40, 40, 40))
    return sheet


def figure_png(fig: Any, *, dpi: int = 100) -> bytes:
    """A matplotlib Figure as PNG bytes, with no timestamp or software tag (stable across runs)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()
