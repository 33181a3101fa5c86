"""A content-addressed store of responses, so a notebook re-runs without calling the API again.

The key of a request is the sha256 of its canonical JSON (sorted keys, compact), in which each
local video is replaced by the sha256 of its bytes. The API key is never part of a request body,
so it is in neither the key nor the file. Each entry is one JSON file written atomically (a temp
file, then ``os.replace``); an entry that cannot be read is reported with a warning and treated
as missing.

>>> cache = ResponseCache("responses/")
>>> material = {"model": "mimo-v2.5", "messages": []}   # PreparedRequest.cache_material()
>>> cache.get(material) is None         # a miss
True
>>> cache.put(material, {"choices": []}).name[:12]   # the entry's file is named by the key
'5501505824ac'
>>> cache.get(material)
{'choices': []}

Offline mode (``MIMO_NB_OFFLINE=1`` or ``MimoClient(offline=True)``) answers from the cache
only and raises :class:`~mimo_nb.errors.CacheMissError` for anything not recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mimo_nb.errors import CacheError

__all__ = ["ResponseCache", "request_key", "CACHE_FORMAT"]

CACHE_FORMAT = 1


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(material: Mapping[str, Any]) -> str:
    """The cache key of a request's canonical material (see ``PreparedRequest.cache_material``).

    >>> request_key({"model": "mimo-v2.5", "messages": []})[:12]
    '5501505824ac'
    """
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


class ResponseCache:
    """Responses stored as ``{root}/{key[:2]}/{key}.json`` files.

    Args:
        root: the cache directory (created on first write).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, material: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored raw response for this request, or None (also when the entry is damaged)."""
        key = request_key(material)
        path = self.path_for(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            warnings.warn(
                f"ignoring unreadable cache entry {path} ({exc}); it will be overwritten.",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(response, dict) or entry.get("key") != key:
            warnings.warn(
                f"ignoring malformed cache entry {path}; it will be overwritten.",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
        return response

    def put(self, material: Mapping[str, Any], response: Mapping[str, Any]) -> Path:
        """Store ``response`` for this request atomically; returns the entry's path."""
        key = request_key(material)
        path = self.path_for(key)
        entry = {"format": CACHE_FORMAT, "key": key, "request": material, "response": response}
        data = json.dumps(entry, ensure_ascii=False, indent=1, sort_keys=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(data)
                os.replace(tmp, path)  # readers see the old entry or the new one, never half of one
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise CacheError(
                f"cannot write the response cache at {self.root}: {exc.strerror or exc}. "
                "Check the directory's permissions and free space, or pass cache=None."
            ) from None
        return path

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.exists() else 0
