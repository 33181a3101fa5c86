"""What differs between the PyAV releases mimo_nb supports (``av>=17.1`` in pyproject.toml, up to the newest).

Kept in one place so the decoding code reads as if there were one PyAV.
"""
from __future__ import annotations

import functools
from typing import Any

__all__ = ["open_input"]


@functools.lru_cache(maxsize=1)
def _lenient_tags() -> dict[str, Any]:
    """The ``av.open`` argument that keeps a tag which is not UTF-8 from failing the open.

    Before PyAV 19 a tag in another encoding (an old camera's title in Shift-JIS, say) raised
    UnicodeDecodeError unless ``metadata_errors="ignore"``; PyAV 19 removed the argument (passing
    it is a TypeError) and always decodes tags with ``surrogateescape``, which never raises.
    """
    import av

    return {"metadata_errors": "ignore"} if int(av.__version__.split(".")[0]) < 19 else {}


def open_input(path: str, **options: Any) -> Any:
    """``av.open(path, **options)`` for reading, whatever encoding the file's tags are in."""
    import av

    return av.open(path, **_lenient_tags(), **options)
