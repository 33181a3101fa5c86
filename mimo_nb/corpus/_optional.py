"""The optional libraries of a corpus, imported on first use: pandas (tables), tqdm (progress)."""

from __future__ import annotations

from typing import Any

from mimo_nb.errors import MimoError


def _need_pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise MimoError(
            "Corpus tables need pandas: pip install pandas (or 'mimo_nb[notebook]')."
        ) from None
    return pandas


def _progress(total: int, enabled: bool, desc: str, unit: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit=unit)
