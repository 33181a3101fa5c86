"""The optional libraries of a corpus, imported on first use: pandas (tables), tqdm (progress)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from mimo_nb.errors import MimoError


def _need_pandas() -> ModuleType:
    """pandas, or the error that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise MimoError(
            "Corpus tables need pandas: pip install pandas (or 'mimo_nb[notebook]')."
        ) from None
    return pandas


def _progress(total: int, enabled: bool, desc: str, unit: str) -> Any:
    """A tqdm bar of ``total`` ``unit``s (a silent one unless ``enabled``); ``close()`` it."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit=unit)
