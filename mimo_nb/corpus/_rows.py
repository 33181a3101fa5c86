"""One row per item: the scan's columns, an item probed into its row, a table of rows typed.

:func:`probe_row` and :func:`_probe_chunk` run in worker processes, which import them from this
module by name. A file that cannot be probed is a row with its error, never an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mimo_nb.core.limits import BASE64_LIMIT_BYTES, base64_length
from mimo_nb.corpus._paths import _as_given, _from_base, _is_url
from mimo_nb.errors import LimitError, MimoError

if TYPE_CHECKING:
    import pandas as pd

    from mimo_nb.corpus._workers import Job

# One row per item. Names follow Video's attributes; the last three are what decoding needs.
COLUMNS = (
    "path",
    "name",
    "format",
    "duration",
    "width",
    "height",
    "rotation",
    "native_fps",
    "native_frame_count",
    "has_audio",
    "size_bytes",
    "codec",
    "delivery",
    "error_type",
    "error_reason",
    "error",
    "constant_rate",
    "keyframe_interval",
    "rate",
)


TEXT_COLUMNS = (
    "path",
    "name",
    "format",
    "codec",
    "delivery",
    "error_type",
    "error_reason",
    "error",
    "rate",
)


def _delivery(size_bytes: int, is_url: bool) -> str:
    """How a file can travel: as base64 (<= 50 MB of text), by URL, or only after ``fit``."""
    if is_url:
        return "url"
    return "base64" if base64_length(size_bytes) <= BASE64_LIMIT_BYTES else "fit"


def probe_row(source: str, timeout: float = 60.0, base: str | None = None) -> dict[str, Any]:
    """One scan row for ``source`` (a path or URL); a file that cannot be probed is a row with its
    error.

    Never raises for a bad file: the error's type, reason and message go in the row. A relative
    path is read from ``base`` (the caller's folder: a worker's own may differ) and kept as given.

    >>> probe_row("clip.mp4")["duration"]
    2.0
    """
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["path"] = source
    opened = _from_base(source, base)
    try:
        from mimo_nb.media.video import Video

        if not source:
            raise LimitError("the row has no path (an empty or missing value); give it one.")
        video = Video.open(opened, timeout=timeout)
        info = video.probe_info
        size = video.size_bytes
        row.update(
            format=info.format,
            duration=info.duration,
            width=info.width,
            height=info.height,
            rotation=info.rotation,
            native_fps=info.native_fps,
            native_frame_count=info.frame_count,
            has_audio=info.has_audio,
            size_bytes=size,
            codec=info.codec,
            delivery=_delivery(size, _is_url(source)),
            constant_rate=info.constant_rate,
            keyframe_interval=info.keyframe_interval,
            rate=str(info.rate),
        )
        del video  # a downloaded URL's temp file goes with it
    except MimoError as exc:
        row.update(
            error_type=type(exc).__name__,
            error_reason=getattr(exc, "reason", None),
            error=_as_given(str(exc), opened, source),
        )
    except Exception as exc:  # noqa: BLE001  (an unforeseen decoder failure is one row, not the end of the scan)
        row.update(
            error_type=type(exc).__name__,
            error_reason="unexpected",
            error=_as_given(f"{type(exc).__name__}: {exc}", opened, source),
        )
    return row


def _probe_chunk(
    sources: list[str], timeout: float, base: str | None = None
) -> list[dict[str, Any]]:
    return [probe_row(s, timeout, base) for s in sources]


def _one_by_one(start: int, args: tuple[Any, ...]) -> list[Job]:
    """A scan task (a chunk of sources from position ``start``) as one task per source."""
    chunk, *rest = args
    return [(start + k, ([source], *rest)) for k, source in enumerate(chunk)]


def _worker_failure(source: str, exc: BaseException) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        path=source,
        error_type=type(exc).__name__,
        error_reason="worker",
        error=(
            f"the worker probing it failed ({type(exc).__name__}: {exc}); scan it again on its own."
        ),
    )
    return row


def _flag_incomplete(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a given table whose numbers cannot be forecast become failed rows naming what is
    wrong: the forecast skips them (and counts them), and ``failures()`` lists them."""
    ok = table["error_type"].isna()
    duration = table["duration"]
    problems = {
        "duration": ~(duration.notna() & np.isfinite(duration.fillna(0)) & (duration > 0)),
        "width": ~(table["width"].fillna(0) >= 1),
        "height": ~(table["height"].fillna(0) >= 1),
        "has_audio": table["has_audio"].isna(),
    }
    for column, bad in problems.items():
        rows = ok & bad.astype(bool)
        if rows.any():
            table.loc[rows, ["error_type", "error_reason"]] = ("LimitError", "incomplete")
            table.loc[rows, "error"] = [
                f"the table gives no usable {column} ({value}) for {path}; scan it again "
                "(Corpus.scan) or fix the value."
                for value, path in zip(
                    table.loc[rows, column], table.loc[rows, "path"], strict=True
                )
            ]
            ok &= ~rows
    return table


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer and boolean columns, so a failed row's blanks do not turn numbers into
    floats."""
    for column in (
        "width",
        "height",
        "rotation",
        "native_frame_count",
        "size_bytes",
        "keyframe_interval",
    ):
        table[column] = table[column].astype("Int64")
    for column in ("has_audio", "constant_rate"):
        table[column] = table[column].astype("boolean")
    table["duration"] = table["duration"].astype("float64")
    table["native_fps"] = table["native_fps"].astype("float64")
    # Text as pandas' nullable "string": a blank is <NA> under pandas 2 and 3 alike (object
    # columns show None in one and NaN in the other, so a saved table would differ).
    for column in TEXT_COLUMNS:
        table[column] = table[column].astype("string")
    return table
