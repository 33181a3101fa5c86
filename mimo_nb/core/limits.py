"""What the MiMo API accepts, as the vendor's page states it: formats, sizes, data URIs. Pure.

>>> base64_length(3 * 2**20) <= BASE64_LIMIT_BYTES
True
"""

from __future__ import annotations

import base64

__all__ = [
    "MIME_TYPES",
    "SUPPORTED_FORMATS",
    "BASE64_LIMIT_BYTES",
    "URL_LIMIT_BYTES",
    "base64_length",
    "max_base64_file_bytes",
    "data_uri",
    "data_uri_prefix",
]

# The page lists MP4, MOV, AVI and WMV; a data URI needs the MIME type of the real format.
MIME_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "wmv": "video/x-ms-wmv",
}
SUPPORTED_FORMATS: tuple[str, ...] = tuple(MIME_TYPES)
BASE64_LIMIT_BYTES = 50 * 2**20  # the base64 string of one inline video
URL_LIMIT_BYTES = 300 * 2**20  # one video file passed by URL


def base64_length(size_bytes: int) -> int:
    """Length of the base64 text of ``size_bytes`` bytes (with padding).

    >>> base64_length(3), base64_length(4)
    (4, 8)
    """
    return 4 * ((size_bytes + 2) // 3)


def max_base64_file_bytes(limit: int = BASE64_LIMIT_BYTES) -> int:
    """The largest file whose base64 text fits in ``limit`` characters."""
    return limit // 4 * 3


def data_uri_prefix(mime: str) -> str:
    """What comes before the base64 text in a data URI of ``mime`` bytes.

    >>> data_uri_prefix("video/mp4")
    'data:video/mp4;base64,'
    """
    return f"data:{mime};base64,"


def data_uri(data: bytes, mime: str) -> str:
    """A ``data:<mime>;base64,...`` URI of ``data``: how a video travels inline, and how an
    image or a clip is written into a notebook.

    >>> data_uri(b"GIF89a", "image/gif")
    'data:image/gif;base64,R0lGODlh'
    """
    return data_uri_prefix(mime) + base64.b64encode(data).decode("ascii")
