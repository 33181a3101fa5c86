"""Batches: :class:`BatchItem`, :class:`BatchResult`, and the helpers both clients' ``map`` use.

A batch never raises for an item: each item's completion or error is collected, in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mimo_nb.api.response import Completion
from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.errors import LimitError, MimoError

if TYPE_CHECKING:
    from tqdm.auto import tqdm

__all__ = ["BatchItem", "BatchResult"]


@dataclass
class BatchItem:
    """One item of a batch: its completion, or the error it ended in."""

    index: int
    label: str
    completion: Completion | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.completion is not None

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "index": self.index,
            "video": self.label,
            "ok": self.ok,
            "error_type": type(self.error).__name__ if self.error else None,
            "error": str(self.error) if self.error else None,
        }
        if self.completion is not None:
            record.update(self.completion.to_dict())
        return record


@dataclass
class BatchResult(Sequence[BatchItem], Displayed):
    """The items of a batch in input order; errors are collected, never raised."""

    items: list[BatchItem] = field(default_factory=list)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    @property
    def completions(self) -> list[Completion | None]:
        return [item.completion for item in self.items]

    @property
    def errors(self) -> list[BatchItem]:
        """The items that failed."""
        return [item for item in self.items if not item.ok]

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per item (index, video, ok, error, content, usage, cost...)."""
        return [item.to_record() for item in self.items]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise MimoError(
                "to_dataframe() needs pandas: pip install pandas (or use to_records())."
            ) from None
        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self) -> str:
        return f"BatchResult({len(self.items)} items, {len(self.errors)} failed)"


def check_batch_options(
    ask: Callable[..., Any], common: Mapping[str, Any], concurrency: Any
) -> None:
    """An unknown ask() argument is an :class:`~mimo_nb.errors.UnknownOptionError` (a
    ``TypeError`` too, as in a direct call) before anything runs."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise LimitError(f"concurrency must be an integer of at least 1, got {concurrency!r}.")
    hint = "Put extra body fields in extra_body={...}."
    validate.keywords("map", common, ["videos", "prompt"], ask, hint=hint)


def batch_call(item: Any, common: Mapping[str, Any]) -> dict[str, Any]:
    """ask() keyword arguments for one batch item: a dict, a (videos, prompt) pair, or videos."""
    if isinstance(item, dict):
        kwargs = {**common, **item}
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
        kwargs = {**common, "videos": item[0], "prompt": item[1]}
    else:
        kwargs = {**common, "videos": item}
    if "prompt" not in kwargs or "videos" not in kwargs:
        raise LimitError(
            "each batch item needs videos and a prompt: pass prompt=... to map(), "
            "or items as dicts {'videos': ..., 'prompt': ...} or (videos, prompt) pairs."
        )
    kwargs["stream"] = False
    return kwargs


def label(videos: Any) -> str:
    """How a batch item's videos are named in its record."""
    from mimo_nb.media.video import Video

    items = videos if isinstance(videos, (list, tuple)) else [videos]
    names = []
    for v in items:
        if isinstance(v, (bytes, bytearray)):
            names.append(f"<{len(v):,} bytes>")
        else:
            names.append(v.name if isinstance(v, Video) else str(v))
    return ", ".join(names)


def progress_bar(total: int, enabled: bool) -> tqdm[Any]:
    """A batch's progress bar (disabled unless ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="MiMo", unit="req")
