"""Frame work on the executor: ``fn(video)`` run in a worker for each item, and its result.

:func:`_map_one` runs in worker processes, which import it from this module by name; ``fn``
travels by name when a fresh process can import it, else by value (cloudpickle).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mimo_nb.corpus._paths import _as_given, _from_base
from mimo_nb.errors import LimitError

if TYPE_CHECKING:
    from mimo_nb.media.video import Video


@dataclass(frozen=True)
class MapResult:
    """What ``fn(video)`` returned for one item, or the error it raised (type and message)."""

    index: int
    name: str
    value: Any = None
    error_type: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "value": self.value,
            "error_type": self.error_type,
            "error": self.error,
        }


def _load_callable(payload: Any) -> Callable[[Any], Any]:
    if isinstance(payload, tuple) and payload and payload[0] == "cloudpickle":
        import cloudpickle

        return cloudpickle.loads(payload[1])  # type: ignore[no-any-return]
    return payload  # type: ignore[no-any-return]


def _map_one(payload: Any, path: str, index: int, name: str, base: str | None = None) -> MapResult:
    """Run in the worker: open the video where the frames will be decoded, then ``fn(video)``."""
    from mimo_nb.media.video import Video

    opened = _from_base(path, base)
    try:
        value = _load_callable(payload)(Video.open(opened))
    except Exception as exc:  # noqa: BLE001  (one item's failure is its result)
        message = _as_given(str(exc), opened, path)
        return MapResult(index, name, error_type=type(exc).__name__, error=message)
    return MapResult(index, name, value=value)


def _shippable(fn: Callable[[Any], Any], executor: Executor) -> Any:
    """``fn`` as a process pool can send it: by reference if a fresh process can import it, else by
    value."""
    if not isinstance(executor, ProcessPoolExecutor):
        return fn  # threads need nothing; dask pickles functions by value itself
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    by_reference = module not in (None, "__main__") and "<" not in qualname
    if by_reference:
        try:
            pickle.dumps(fn)
            return fn
        except Exception:  # noqa: BLE001
            pass
    try:
        import cloudpickle
    except ImportError:
        raise LimitError(
            f"{qualname or fn!r} is defined in a notebook or inside a function, so worker "
            "processes cannot import it. Move it into a .py module next to the notebook, or pip "
            "install cloudpickle (it ships with 'mimo_nb[dask]') to send it by value."
        ) from None
    return ("cloudpickle", cloudpickle.dumps(fn))


@dataclass(frozen=True)
class SaveContactSheet:
    """A ``map`` task: save each video's sampled frames as a PNG contact sheet; returns its path.

    >>> corpus = mn.Corpus.scan("videos/")
    >>> sorted(r.value for r in corpus.map(SaveContactSheet("sheets/", fps=1)))
    ['sheets/clip1.png', 'sheets/clip2.png', 'sheets/clip3.png']
    """

    folder: str
    fps: float = 1.0
    media_resolution: str = "default"
    columns: int = 6
    # Where a relative ``folder`` is: the folder this was made in, not the worker's.
    base: str = field(default_factory=os.getcwd, repr=False)

    def __call__(self, video: Video) -> str:
        frames = video.sample(self.fps, self.media_resolution)
        out = Path(self.folder) / f"{Path(video.name).stem}.png"
        (Path(self.base) / out).parent.mkdir(parents=True, exist_ok=True)
        frames.save_contact_sheet(Path(self.base) / out, columns=self.columns)
        return str(out)
