"""Research at corpus scale: scan thousands of videos, forecast the bill, ask paced and resumable.

Here ``videos/`` holds three generated clips of 1, 2 and 3 seconds:

>>> import mimo_nb as mn
>>> corpus = mn.Corpus.scan("videos/")                 # probe every file, in parallel processes
>>> corpus                                             # count, hours, formats, failures, histograms
<Corpus 3 items (3 probed, 0 failed) from folder videos/>
>>> corpus.to_pandas()[["name", "duration", "width"]]  # one row per file (a broken file is a row)
        name  duration  width
0  clip1.mp4       1.0    160
1  clip2.mp4       2.0    160
2  clip3.mp4       3.0    160
>>> forecast = corpus.forecast(fps=[0.5, 1, 2], media_resolution=["default", "max"])  # tokens, cost
>>> forecast.to_pandas()[["fps", "media_resolution", "prompt_tokens"]].head(3)
   fps media_resolution  prompt_tokens
0  0.5          default            126
1  1.0          default            151
2  2.0          default            201
>>> choice = corpus.max_fps(cost=50, prices=mn.load_prices("mimo-v2.5", "CNY"))  # 0.1 fps grid
>>> choice.fps, choice.total_tokens
(10.0, 3933)
>>> sorted(result.value for result in corpus.map(SaveContactSheet("sheets/")))  # frame work
['sheets/clip1.png', 'sheets/clip2.png', 'sheets/clip3.png']

Asking takes an :class:`~mimo_nb.api.client.AsyncMimoClient` and a notebook's top-level ``await``
(which doctest cannot run; ``tests/test_corpus.py`` runs it against the local stand-in):

>>> answers = await corpus.ask(client, "Describe the video.", fps=1,       # doctest: +SKIP
...                            tokens_per_minute=2_000_000, max_cost=50)
>>> answers.to_pandas()          # the scan's rows, estimate beside actual  # doctest: +SKIP

What runs where. Probing (``scan``) and frame work (``map``) are CPU work: they go to an
executor, any :class:`concurrent.futures.Executor`; by default a local process pool, and
``dask.distributed.Client(...).get_executor()`` puts them on a cluster (``pip install
'mimo_nb[dask]'``). Asking is I/O paced against the account's quotas: it stays on one event
loop in this process, so one place knows what has been sent and what the quotas allow.

Resuming. Give the client a cache (``AsyncMimoClient(cache="answers/")``): every answer is
written to it (atomically) as it arrives, and a run started again, after a crash or a
``SIGKILL``, replays those from the cache and sends only the rest. A request that was in flight
when the process died was never answered to us and is sent again; if the server had already
started on it, that one may be billed twice (at most ``concurrency`` requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import math
import multiprocessing
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mimo_nb.api.pacing import Pacer, check_count, check_number, minimum_wall_time
from mimo_nb.core import validate
from mimo_nb.core.budget import FPS_GRID  # the API's fps values, 0.1 .. 10.0
from mimo_nb.core.limits import BASE64_LIMIT_BYTES, base64_length
from mimo_nb.core.pricing import Prices, estimate_cost, estimate_text_tokens, load_prices
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    MAX_FRAMES,
    _sampled_frame_count_array,
    explain_video_tokens_array,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.errors import LimitError, MimoError

if TYPE_CHECKING:  # pandas and the display stack load on first use
    import pandas as pd

    from mimo_nb.api.client import AsyncMimoClient
    from mimo_nb.api.request import PreparedRequest
    from mimo_nb.api.response import Completion
    from mimo_nb.media.video import Video

__all__ = [
    "Corpus",
    "CorpusSummary",
    "Forecast",
    "FpsChoice",
    "CorpusAnswers",
    "MapResult",
    "SaveContactSheet",
    "probe_row",
    "default_executor",
    "VIDEO_SUFFIXES",
    "FPS_GRID",
]

# Files a folder scan picks up: MiMo's four formats, and common others so that they show up as
# "unsupported format" rows instead of being silently left out.
VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".mov",
        ".avi",
        ".wmv",
        ".m4v",
        ".mkv",
        ".webm",
        ".flv",
        ".mpg",
        ".mpeg",
        ".ts",
        ".3gp",
        ".asf",
    }
)
MANIFEST_SUFFIXES = frozenset({".csv", ".parquet", ".pq"})
PATH_COLUMNS = ("path", "url", "file", "video", "filename")

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


def _need_pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise MimoError(
            "Corpus tables need pandas: pip install pandas (or 'mimo_nb[notebook]')."
        ) from None
    return pandas


# ---- Sources: what to scan -------------------------------------------------------------------


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _folder_files(root: Path) -> list[Path]:
    """Video files under ``root``, recursively, sorted, each real file once; hidden files and
    folders left out (links to folders are not followed)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            Path(folder) / f
            for f in files
            if not f.startswith(".") and Path(f).suffix.lower() in VIDEO_SUFFIXES
        ]
    return _each_file_once(sorted(found))


def _identity(path: Path | str) -> tuple[int, int] | None:
    """What makes a file or folder itself whatever links lead to it: (device, inode)."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def _each_file_once(paths: list[Path]) -> list[Path]:
    """``paths`` without the later ones that are the same file (reached through a link)."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for path in paths:
        identity = _identity(path)
        if identity is None or identity not in seen:
            kept.append(path)
            if identity is not None:
                seen.add(identity)
    return kept


def _glob_files(pattern: str) -> list[Path]:
    """The files ``pattern`` matches, as ``glob(recursive=True)`` (``**`` spans folders, names
    starting with a dot match only a pattern that starts with one), sorted, each real file once.

    Unlike ``glob``, a folder reached twice (a link back up the tree) is entered once, so link
    loops end: ``glob`` lists a file once per way round a loop, and never returns with two.
    """
    if pattern.endswith(("/", os.sep)):
        return []  # a pattern ending in a separator matches folders only
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = Path(*parts[:first]) if first else Path(os.curdir)

    def shown(name: str, part: str) -> bool:
        return (not name.startswith(".") or part.startswith(".")) and fnmatch.fnmatch(name, part)

    def entries(folder: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as listing:
                return sorted(listing, key=lambda e: e.name)
        except OSError:
            return []

    def below(folder: Path) -> Iterator[Path]:  # folder and the folders under it, each once
        seen: set[tuple[int, int] | None] = set()
        stack = [folder]
        while stack:
            here = stack.pop()
            identity = _identity(here)
            if identity is None or identity in seen:
                continue
            seen.add(identity)
            yield here
            stack += [
                here / e.name
                for e in reversed(entries(here))
                if not e.name.startswith(".") and e.is_dir()
            ]

    def expand(folder: Path, rest: tuple[str, ...]) -> Iterator[Path]:
        head, tail = rest[0], rest[1:]
        if head == "**":
            for sub in below(folder):
                if tail:
                    yield from expand(sub, tail)
                else:  # a trailing ** matches everything under the folder
                    yield from (sub / e.name for e in entries(sub) if not e.name.startswith("."))
        elif not glob.has_magic(head):
            if tail:
                yield from expand(folder / head, tail)
            else:
                yield folder / head
        else:
            for entry in entries(folder):
                if shown(entry.name, head):
                    if not tail:
                        yield folder / entry.name
                    elif entry.is_dir():
                        yield from expand(folder / entry.name, tail)

    found = expand(root, parts[first:])
    return _each_file_once(sorted(p for p in found if p.is_file()))


def _read_manifest(path: Path) -> Any:
    pd = _need_pandas()
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except ImportError as exc:
        raise MimoError(
            f"reading {path.name} needs a Parquet engine ({exc}); pip install pyarrow."
        ) from None
    except (OSError, ValueError) as exc:
        raise LimitError(
            f"cannot read the manifest {path}: {exc}. Check it is a CSV or Parquet file."
        ) from None


def _manifest_sources(
    frame: Any, path_column: str | None, base: Path | None
) -> tuple[list[str], Any]:
    """The paths of a manifest (relative ones resolved against ``base``) and its other columns."""
    columns = {str(c).lower(): c for c in frame.columns}
    column = (
        path_column
        if path_column is not None
        else next((columns[c] for c in PATH_COLUMNS if c in columns), None)
    )
    if column is None or column not in frame.columns:
        raise LimitError(
            f"the manifest has no path column (columns: {list(frame.columns)[:12]}); name it with "
            f"path_column=... (looked for {', '.join(PATH_COLUMNS)})."
        )
    sources = []
    for value in frame[column].tolist():
        text = (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )
        if text and base is not None and not _is_url(text) and not Path(text).is_absolute():
            text = str(base / text)
        sources.append(text)
    extra = frame.drop(columns=[column]).reset_index(drop=True)
    extra.columns = [f"manifest_{c}" if c in COLUMNS else c for c in extra.columns]
    return sources, extra


def expand_source(
    source: Any, path_column: str | None = None
) -> tuple[list[str], list[str], Any, str]:
    """``(sources, names, manifest columns or None, description)`` for what :meth:`Corpus.scan`
    accepts."""
    pd_frame = type(source).__name__ == "DataFrame"
    if pd_frame:
        sources, extra = _manifest_sources(source, path_column, None)
        return (
            sources,
            [_short_name(s) for s in sources],
            extra,
            f"a DataFrame of {len(sources)} rows",
        )
    if isinstance(source, (list, tuple)):
        sources = [_list_item(item, k) for k, item in enumerate(source)]
        return sources, [_short_name(s) for s in sources], None, f"a list of {len(sources)} items"
    if not isinstance(source, (str, os.PathLike)):
        raise LimitError(
            f"cannot scan a {type(source).__name__}: pass a folder, a glob, a list of paths or "
            "URLs, or a CSV/Parquet manifest with a path column."
        )
    text = os.fspath(source)
    path = Path(text)
    if _is_url(text):
        return [text], [_short_name(text)], None, text
    if path.is_dir():
        files = _folder_files(path)
        return (
            [str(f) for f in files],
            [f.relative_to(path).as_posix() for f in files],
            None,
            f"folder {text}",
        )
    if path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
        sources, extra = _manifest_sources(_read_manifest(path), path_column, path.parent)
        return sources, [_short_name(s) for s in sources], extra, f"manifest {path.name}"
    if any(ch in text for ch in "*?["):
        files = _glob_files(text)
        return [str(f) for f in files], [f.name for f in files], None, f"glob {text}"
    if path.is_file():
        return [text], [path.name], None, text
    raise LimitError(
        f"{text!r} is neither a folder, a file, a manifest (.csv/.parquet) nor a glob that "
        "matches; check the path."
    )


def _list_item(item: Any, position: int) -> str:
    """A listed source as text; None (or NaN) is a row without a path, as in a manifest."""
    if item is None or (isinstance(item, float) and math.isnan(item)):
        return ""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)  # type: ignore[return-value]
    raise LimitError(
        f"item {position} of the list is {item!r:.60} ({type(item).__name__}), not a path or URL; "
        "list paths (str or pathlib.Path) or URLs only."
    )


def _short_name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1] or source


# ---- Probing one item (runs in a worker process) ---------------------------------------------


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


def _as_given(message: str, opened: str, source: str) -> str:
    """An error message naming the file as the caller gave it (tables and notebooks stay the same
    on every machine), not as the worker opened it."""
    return message.replace(opened, source) if opened != source else message


def _probe_chunk(
    sources: list[str], timeout: float, base: str | None = None
) -> list[dict[str, Any]]:
    return [probe_row(s, timeout, base) for s in sources]


def _from_base(source: str, base: str | None) -> str:
    """``source`` read from the caller's folder ``base``: workers keep the folder they started in,
    and a notebook's ``%cd`` moves only the caller."""
    if base is None or not source or _is_url(source) or os.path.isabs(source):
        return source
    return os.path.join(base, source)


# ---- Executors -------------------------------------------------------------------------------


_shared_pool: ProcessPoolExecutor | None = None


def default_executor() -> ProcessPoolExecutor:
    """The session's local process pool: one worker per core, started on first use, then reused.

    Workers start clean (forkserver where there is one, else spawn: never ``fork``, which is
    unsafe from a notebook's threads) and each pays about half a second to import PyAV and
    numpy, once: later scans and maps reuse them. The pool is shut down when Python exits,
    and replaced if a worker died.
    """
    global _shared_pool
    if _shared_pool is None or getattr(_shared_pool, "_broken", False):
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        _shared_pool = ProcessPoolExecutor(
            os.cpu_count() or 2,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
    return _shared_pool


PR_SET_PDEATHSIG = 1  # linux/prctl.h
ORPHAN_POLL = 0.5  # seconds between a worker's checks that its owner lives, where it cannot wait


def _start_worker(owner: int) -> None:
    """In a worker of the session's pool: Ctrl-C (a notebook's "interrupt") is for the parent,
    which cancels what is queued; and the worker ends when ``owner``, the process that made the
    pool, dies (a kernel the OOM killer takes, a forced restart).

    Nothing else would end it: a worker waits on the pool's task queue, whose write end it holds
    itself. Its parent is the forkserver (or, with spawn, the owner), and the forkserver lives as
    long as any process holds its "alive" pipe, which every worker it forked inherits: so each
    worker drops its copy, the forkserver ends when the owner does, and
    ``PR_SET_PDEATHSIG`` (Linux) kills the worker with it, even in the middle of native code.
    With spawn the parent is a thread of the owner that may end long before it (a scan run
    from a thread), so there the death signal is not asked for. Everywhere, a thread in the
    worker waits for the owner to exit and ends the worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if parent != owner:  # forked by the forkserver
        from multiprocessing import forkserver

        server = forkserver._forkserver
        alive = getattr(server, "_forkserver_alive_fd", None)
        if alive is not None:
            with contextlib.suppress(OSError):
                os.close(alive)
            server._forkserver_alive_fd = None  # type: ignore[attr-defined]
        _kill_with_parent(parent)
    watch = threading.Thread(
        target=_end_with, args=(owner, parent), name="mimo_nb-orphan-watch", daemon=True
    )
    watch.start()


def _kill_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this process when its parent ends."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0 and os.getppid() != parent:
            os._exit(1)  # the parent ended before the signal was asked for


def _end_with(owner: int, parent: int) -> None:
    """Wait until ``owner`` has exited (or this process's parent changed), then end this process."""
    try:
        handle = os.pidfd_open(owner)  # Linux 5.3+: readable once the owner has exited
    except (AttributeError, OSError):
        handle = None
    if handle is not None:
        poller = select.poll()
        poller.register(handle, select.POLLIN)
        poller.poll()
    elif os.name == "posix":  # os.kill(pid, 0) only asks on POSIX (elsewhere it terminates)
        while os.getppid() == parent and _exists(owner):
            time.sleep(ORPHAN_POLL)
    else:
        return
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's: it exists
    return True


def _executor(executor: Executor | None) -> tuple[Executor, int]:
    """The given executor, or the session's default pool; and how many tasks it runs at once."""
    pool = executor if executor is not None else default_executor()
    return pool, _workers_of(pool)


def _workers_of(executor: Executor) -> int:
    """How many tasks the executor runs at once, as well as it can be told."""
    width = getattr(executor, "_max_workers", None)  # the stdlib pools
    client = getattr(executor, "_client", None)  # dask's ClientExecutor
    if width is None and client is not None:
        with contextlib.suppress(Exception):
            width = sum(client.nthreads().values())
    return max(1, int(width or os.cpu_count() or 2))


class Unsent(Future):  # type: ignore[type-arg]
    """The future of a task the executor refused (its pool was already broken): it never ran."""


def run_bounded(
    executor: Executor,
    fn: Callable[..., Any],
    jobs: Iterable[tuple[Any, tuple[Any, ...]]],
    max_in_flight: int,
) -> Iterator[tuple[Any, Future[Any]]]:
    """Submit ``fn(*args)`` for each ``(key, args)``, at most ``max_in_flight`` at a time; yield as
    they finish.

    Works with any :class:`concurrent.futures.Executor` (stdlib pools, dask's ``get_executor()``):
    results stream back in completion order, and only ``max_in_flight`` tasks (and their
    results) exist at any moment.
    """
    pending: dict[Future[Any], Any] = {}
    jobs = iter(jobs)

    def top_up() -> None:
        for key, args in jobs:
            try:
                future = executor.submit(fn, *args)
            except Exception as exc:  # noqa: BLE001  (e.g. a broken pool: the task fails, the caller reports it)
                future = Unsent()
                future.set_exception(exc)
            pending[future] = key
            if len(pending) >= max_in_flight:
                return

    top_up()
    try:
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future
            top_up()
    finally:
        for future in pending:
            future.cancel()


MAX_CRASHES = 8  # tasks run alone that may kill their worker before the rest of a round is failed

Job = tuple[Any, tuple[Any, ...]]  # (key, args)


def run_guarded(
    executor: Executor | None,
    fn: Callable[..., Any],
    jobs: Iterable[Job],
    max_in_flight: int,
    split: Callable[[Any, tuple[Any, ...]], list[Job]] | None = None,
) -> Iterator[tuple[Any, tuple[Any, ...], Future[Any]]]:
    """:func:`run_bounded` on ``executor``; on the session's pool (``executor=None``), a task that
    kills its worker fails alone. Yields ``(key, args, future)`` as tasks finish.

    A worker of the session's pool that dies (a decoder crash on a hostile file, ``os._exit``)
    breaks the whole pool: every task in flight fails with it, and every later one is refused.
    So on that pool, once it broke, no new task is taken until the round ends; refused tasks are
    sent again as they were, on a fresh pool, and the tasks that were in flight are run again one
    at a time (``split`` cuts a task of several items into one per item): the one that kills
    its worker then fails alone (``BrokenExecutor``) and the others succeed. After
    ``MAX_CRASHES`` such deaths in a round the rest of its suspects fail unrun (workers that die
    whatever they run point elsewhere). A given executor (threads, Dask, the caller's own pool)
    is the caller's: its failures are passed on as they are.
    """
    jobs = iter(jobs)
    retry: list[Job] = []  # refused by a broken pool: sent again as they were
    while True:
        pool = executor if executor is not None else default_executor()
        sent: dict[Any, tuple[Any, ...]] = {}
        suspects: list[Job] = []
        broke = threading.Event()
        for key, future in run_bounded(pool, fn, _feed(jobs, retry, sent, broke), max_in_flight):
            args = sent.pop(key)
            if executor is None and _broke(future):
                broke.set()
                if isinstance(future, Unsent):
                    retry.append((key, args))
                else:  # ran when the pool broke: the one to blame, or a bystander
                    suspects += split(key, args) if split else [(key, args)]
                continue
            yield key, args, future
        crashes = 0
        for key, args in suspects:
            if crashes >= MAX_CRASHES:
                alone: Future[Any] = Unsent()
                alone.set_exception(BrokenExecutor("the local pool's workers keep dying"))
            else:
                try:
                    alone = default_executor().submit(fn, *args)
                    wait([alone])
                except Exception as exc:  # noqa: BLE001  (the pool could not start: the task fails)
                    alone = Unsent()
                    alone.set_exception(exc)
                crashes += _broke(alone)
            yield key, args, alone
        if not broke.is_set():
            return


def _feed(
    jobs: Iterator[Job], retry: list[Job], sent: dict[Any, Any], stop: threading.Event
) -> Iterator[Job]:
    """The jobs to submit, refused ones first, each noted in ``sent``; none once ``stop`` is set."""
    while not stop.is_set():
        job = retry.pop(0) if retry else next(jobs, None)
        if job is None:
            return
        sent[job[0]] = job[1]
        yield job


def _broke(future: Future[Any]) -> bool:
    """True if the task failed because its pool broke (a worker died), not by its own error."""
    return not future.cancelled() and isinstance(future.exception(), BrokenExecutor)


def _progress(total: int, enabled: bool, desc: str, unit: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit=unit)


# ---- Map: frame work on the executor ---------------------------------------------------------


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

    >>> corpus = Corpus.scan("videos/")
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


# ---- The corpus ------------------------------------------------------------------------------


class Corpus:
    """A set of videos, probed once: what it holds, what it would cost, and the answers about it.

    Build one with :meth:`scan` (or :meth:`from_pandas` for a saved scan). Rows keep the order
    of the source; a file that could not be probed is a row with ``error_type`` and ``error``.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        *,
        extra: pd.DataFrame | None = None,
        source: str = "",
        executor: Executor | None = None,
    ) -> None:
        self._table = table.reset_index(drop=True)
        self._extra = None if extra is None else extra.reset_index(drop=True)
        self.source = source
        self.executor = executor
        """The executor given to :meth:`scan`, reused by :meth:`map` (None: the session's local
        pool)."""

    # -- building --

    @classmethod
    def scan(
        cls,
        source: Any,
        *,
        executor: Executor | None = None,
        progress: bool = True,
        path_column: str | None = None,
        timeout: float = 60.0,
        chunk_size: int | None = None,
    ) -> Corpus:
        """Probe every item of ``source`` in parallel and return the corpus.

        Args:
            source: a folder (scanned recursively for video files), a glob (``"data/**/*.mp4"``),
                a list of paths or URLs, or a CSV/Parquet manifest (or DataFrame) with a path
                column (relative paths are taken from the manifest's folder; other columns kept).
            executor: any :class:`concurrent.futures.Executor`; default the session's local
                process pool (:func:`default_executor`). On a Dask cluster:
                ``distributed.Client(...).get_executor()``.
            progress: a tqdm progress bar.
            path_column: the manifest's path column (default: path, url, file, video or filename).
            timeout: seconds allowed to probe one file (URLs are downloaded to probe them).
            chunk_size: items per task (default: enough for about 8 tasks per worker, at most 64).

        >>> from concurrent.futures import ThreadPoolExecutor
        >>> with ThreadPoolExecutor(2) as pool:
        ...     Corpus.scan("videos/", executor=pool)
        <Corpus 3 items (3 probed, 0 failed) from folder videos/>

        On a Dask cluster (not started here):

        >>> corpus = Corpus.scan("videos/", executor=dask_client.get_executor())  # doctest: +SKIP
        """
        pd = _need_pandas()
        # refused once, up front, not once per row
        timeout = validate.positive("timeout", timeout, hint="(seconds per file)")
        chunk_size = validate.positive_int(
            "chunk_size", chunk_size, allow_none=True, hint="(items per task; None: the default)"
        )
        sources, names, extra, description = expand_source(source, path_column)
        rows: list[dict[str, Any] | None] = [None] * len(sources)
        workers = _executor(executor)[1]
        size = chunk_size or max(1, min(64, math.ceil(len(sources) / (workers * 8))))
        base = os.getcwd()
        jobs = (
            (start, (sources[start : start + size], timeout, base))
            for start in range(0, len(sources), size)
        )
        with contextlib.closing(_progress(len(sources), progress, "scan", "video")) as bar:
            for start, (chunk, *_), future in run_guarded(
                executor, _probe_chunk, jobs, 4 * workers, _one_by_one
            ):
                try:
                    results = future.result()
                except Exception as exc:  # noqa: BLE001  (a dead worker fails its items, not the scan)
                    results = [_worker_failure(s, exc) for s in chunk]
                rows[start : start + len(chunk)] = results
                bar.update(len(chunk))
        table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
        table["name"] = names
        return cls(_typed(table), extra=extra, source=description, executor=executor)

    @classmethod
    def from_pandas(cls, frame: pd.DataFrame, *, source: str = "a DataFrame") -> Corpus:
        """A corpus from a table with the scan's columns (e.g. a saved ``to_pandas()``); nothing is
        probed.

        Needs at least ``path``, ``duration``, ``width``, ``height`` and ``has_audio``; missing
        columns are filled (no error, format unknown).
        """
        pd = _need_pandas()
        missing = [
            c
            for c in ("path", "duration", "width", "height", "has_audio")
            if c not in frame.columns
        ]
        if missing:
            raise LimitError(
                f"from_pandas needs the columns {missing}; pass a table made by Corpus.to_pandas()."
            )
        table = pd.DataFrame({c: frame[c] if c in frame.columns else None for c in COLUMNS})
        if "name" not in frame.columns:
            table["name"] = [_short_name(str(p)) for p in frame["path"]]
        extra = frame[[c for c in frame.columns if c not in COLUMNS]]
        return cls(
            _flag_incomplete(_typed(table)),
            extra=extra if len(extra.columns) else None,
            source=source,
        )

    # -- what it holds --

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return (
            f"<Corpus {len(self)} items ({int(self.ok.sum())} probed, {int((~self.ok).sum())} "
            f"failed) from {self.source}>"
        )

    def __getitem__(self, key: Any) -> Corpus:
        """A sub-corpus: a slice, a position, a list of positions, or a boolean mask (e.g.
        ``corpus[:100]``; ``corpus[0]`` is a corpus of one item)."""
        everything = np.arange(len(self))
        array = None if isinstance(key, slice) else np.asarray(key)
        if array is None:
            positions = everything[key]
        elif array.dtype == bool and array.shape == (len(self),):
            positions = np.flatnonzero(array)
        elif (array.dtype.kind in "iu" or array.size == 0) and array.ndim <= 1:
            wanted = np.atleast_1d(array).astype(np.int64)
            outside = wanted[(wanted >= len(self)) | (wanted < -len(self))]
            if outside.size:
                raise LimitError(
                    f"position {int(outside[0])} is outside this corpus of {len(self)} items "
                    f"(0..{len(self) - 1}, or negative from the end)."
                )
            positions = everything[wanted]
        else:
            raise LimitError(
                f"a corpus is indexed by a position, a slice, a list of positions or a boolean "
                f"mask of {len(self)} values, not {type(key).__name__} {key!r:.60}."
            )
        extra = None if self._extra is None else self._extra.iloc[positions]
        return Corpus(
            self._table.iloc[positions],
            extra=extra,
            source=f"{self.source} (subset)",
            executor=self.executor,
        )

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        """True for the rows that were probed without error."""
        return self._table["error_type"].isna().to_numpy()

    def to_pandas(self) -> pd.DataFrame:
        """One row per item: path, name, format, duration, size, fps, frames, audio, bytes,
        delivery, error.

        ``delivery`` says how the file can travel: ``base64`` (fits the 50 MB limit), ``url``
        (it is one), or ``fit`` (too large for base64: shrink it with ``Video.fit`` or host it).
        Manifest columns follow the scan's own.
        """
        table = self._table.copy()
        if self._extra is not None:
            table = _need_pandas().concat([table, self._extra], axis=1)
        return table

    def failures(self) -> pd.DataFrame:
        """The rows that could not be probed: name, error type, reason and message."""
        return self._table.loc[~self.ok, ["name", "path", "error_type", "error_reason", "error"]]

    def video(self, index: int) -> Video:
        """Item ``index`` opened as a :class:`~mimo_nb.media.video.Video` (probed afresh; a URL is
        downloaded)."""
        from mimo_nb.media.video import Video

        row = self._table.iloc[index]
        if isinstance(row["error_type"], str):
            raise LimitError(f"item {index} ({row['name']}) could not be probed: {row['error']}")
        return Video.open(row["path"])

    def summary(self) -> CorpusSummary:
        """Count, hours, formats, failures and size classes (renders as HTML with histograms)."""
        return CorpusSummary.of(self._table, self.source)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # -- forecast --

    def _columns(
        self,
    ) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]
    ]:
        """duration, width, height and mute of the probed rows, as arrays."""
        ok = self._table.loc[self.ok]
        return (
            ok["duration"].to_numpy(np.float64),
            ok["width"].to_numpy(np.int64),
            ok["height"].to_numpy(np.int64),
            ~ok["has_audio"].to_numpy(bool),
        )

    def video_tokens(
        self, fps: float = FPS_DEFAULT, media_resolution: str = "default"
    ) -> npt.NDArray[np.int64]:
        """Each probed video's token estimate at one setting (the array estimator; NaN-free)."""
        d, w, h, mute = self._columns()
        return explain_video_tokens_array(
            d, w, h, validate_fps(fps), validate_media_resolution(media_resolution), mute
        )["total"]

    def forecast(
        self,
        fps: float | Sequence[float] = FPS_DEFAULT,
        media_resolution: str | Sequence[str] = "default",
        *,
        prompt: str = "",
        system: str | None = None,
        output_tokens: int = 1024,
        prices: Prices | None = None,
    ) -> Forecast:
        """Tokens and cost of asking once about every probed video, per setting (fps x
        media_resolution).

        Args:
            fps, media_resolution: one value or several; every combination is a row.
            prompt, system: the text sent with each video (counted at 4 bytes a token).
            output_tokens: answer tokens per video you expect (reasoning included); the default is
                the request's default ``max_completion_tokens``, the most an answer can use.
            prices: default the shipped, cited ``mimo-v2.5`` prices in CNY.

        The arithmetic is :func:`mimo_nb.core.tokens.explain_video_tokens_array` over the whole
        table, one pass per setting, equal item by item to the scalar formula.
        """
        return Forecast.compute(
            self,
            fps,
            media_resolution,
            prompt=prompt,
            system=system,
            output_tokens=output_tokens,
            prices=prices,
        )

    def max_fps(
        self,
        *,
        tokens: int | None = None,
        cost: float | None = None,
        media_resolution: str = "default",
        prompt: str = "",
        system: str | None = None,
        output_tokens: int = 1024,
        prices: Prices | None = None,
    ) -> FpsChoice:
        """The largest fps on the API's 0.1 grid at which the whole corpus fits a budget.

        ``tokens`` bounds prompt + output tokens; ``cost`` the bill in ``prices.currency``; give
        one or both. Every grid value is computed exactly (tokens need not grow with fps).
        """
        tokens = validate.non_negative_int("tokens", tokens, allow_none=True)
        cost = validate.non_negative("cost", cost, allow_none=True)
        return FpsChoice.compute(
            self,
            tokens=tokens,
            cost=cost,
            media_resolution=media_resolution,
            prompt=prompt,
            system=system,
            output_tokens=output_tokens,
            prices=prices,
        )

    # -- frame work --

    def map(
        self,
        fn: Callable[[Video], Any],
        *,
        executor: Executor | None = None,
        max_in_flight: int | None = None,
        progress: bool = True,
    ) -> Iterator[MapResult]:
        """Run ``fn(video)`` for every probed video on the executor; yield results as they finish.

        At most ``max_in_flight`` tasks (default twice the workers) are submitted at a time, so
        only that many videos' frames exist at once, wherever the workers are. ``fn`` runs in a
        worker: a notebook function travels by value (cloudpickle), a module function by name.
        Results come in completion order; ``MapResult.index`` says which item.

        >>> corpus = Corpus.scan("videos/")
        >>> sheets = {r.name: r.value for r in corpus.map(SaveContactSheet("sheets/"))}
        >>> sheets["clip2.mp4"]
        'sheets/clip2.png'
        """
        positions = np.flatnonzero(self.ok)
        table = self._table

        given = executor or self.executor
        pool, workers = _executor(given)
        payload = _shippable(fn, pool)  # checked now, not at the first next()

        def results() -> Iterator[MapResult]:
            base = os.getcwd()
            jobs = (
                (
                    int(i),
                    (payload, str(table.iloc[i]["path"]), int(i), str(table.iloc[i]["name"]), base),
                )
                for i in positions
            )  # a URL is downloaded by the worker that needs it
            with contextlib.closing(_progress(len(positions), progress, "map", "video")) as bar:
                for index, _, future in run_guarded(
                    given, _map_one, jobs, max_in_flight or 2 * workers
                ):
                    try:
                        result = future.result()
                    except Exception as exc:  # noqa: BLE001  (a lost worker fails its item alone)
                        result = MapResult(
                            index,
                            str(table.iloc[index]["name"]),
                            error_type=type(exc).__name__,
                            error=f"the worker running it failed ({type(exc).__name__}: {exc}).",
                        )
                    bar.update(1)
                    yield result

        return results()

    # -- asking --

    async def ask(
        self,
        client: AsyncMimoClient,
        prompt: str,
        *,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        system: str | None = None,
        max_completion_tokens: int = 1024,
        concurrency: int = 8,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        window: float = 60.0,
        max_cost: float | None = None,
        output_tokens: int | None = None,
        dry_run: bool = False,
        progress: bool = True,
        **extra: Any,
    ) -> CorpusAnswers:
        """Ask ``prompt`` about every probed video: paced, budgeted, cached, resumable.

        Args:
            client: an :class:`~mimo_nb.api.client.AsyncMimoClient`; give it ``cache=`` to resume.
            prompt, fps, media_resolution, system, max_completion_tokens, **extra: as for
                ``client.ask``.
            concurrency: requests in flight at once.
            requests_per_minute, tokens_per_minute: the account's quotas. Each request is
                admitted when it fits: it weighs its estimated prompt tokens plus its
                ``max_completion_tokens`` (the most it can use), so honest quotas meet no 429.
            window: the quotas' period in seconds (60: per minute).
            max_cost: refuse to start if the forecast for the requests still to send exceeds
                it; while running, send a request only if the spend so far, plus the most the
                requests in flight and this one can cost, stays within it.
            output_tokens: answer tokens expected per request for the forecast (default
                ``max_completion_tokens``).
            dry_run: send nothing; show the requests, the forecast and the quota-bound time.
            progress: a tqdm progress bar.

        Returns a :class:`CorpusAnswers`; ``to_pandas()`` joins it to the scan.
        """
        run = _AskRun(
            self,
            client,
            prompt,
            fps=fps,
            media_resolution=media_resolution,
            system=system,
            max_completion_tokens=max_completion_tokens,
            concurrency=concurrency,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            window=window,
            max_cost=max_cost,
            output_tokens=output_tokens,
            progress=progress,
            extra=extra,
        )
        return await run.execute(dry_run=dry_run)


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


def _request_video(row: Any) -> Video:
    """The Video a request is built from, from the scan's row without probing again.

    Only what a request needs is rebuilt (format, duration, size, audio); a file whose size
    differs from the scan's is opened afresh instead, so a changed file is not sent with a
    stale estimate.
    """
    from mimo_nb.media.decode import Probe
    from mimo_nb.media.video import Video

    path = Path(row["path"])
    try:
        changed = os.stat(path).st_size != int(row["size_bytes"])
    except OSError:
        changed = True
    if changed:  # gone or rewritten since the scan: the probe says what it is now (or why not)
        return Video.open(path)
    rotation = int(row["rotation"]) if _present(row["rotation"]) else 0
    width, height = int(row["width"]), int(row["height"])
    stored_w, stored_h = (height, width) if rotation in (90, 270) else (width, height)
    rate = (
        Fraction(row["rate"])
        if isinstance(row["rate"], str)
        else Fraction(float(row["native_fps"])).limit_denominator(1001)
    )
    return Video(
        Probe(
            path=path,
            format=str(row["format"]),
            duration=float(row["duration"]),
            stored_width=stored_w,
            stored_height=stored_h,
            rotation=rotation,
            native_fps=float(row["native_fps"]),
            frame_count=int(row["native_frame_count"]),
            has_audio=bool(row["has_audio"]),
            codec=str(row["codec"]),
            constant_rate=bool(row["constant_rate"]),
            keyframe_interval=int(row["keyframe_interval"]),
            rate=rate,
        )
    )


def _open(path: str) -> Video:
    from mimo_nb.media.video import Video

    return Video.open(path)


def _present(value: Any) -> bool:
    try:
        return value is not None and not bool(_need_pandas().isna(value))
    except (TypeError, ValueError):
        return True


# ---- The summary -----------------------------------------------------------------------------

# Short side of the displayed frame -> class, as video sizes are usually named.
SIZE_CLASSES = (
    (0, "< 360p"),
    (360, "360p"),
    (480, "480p"),
    (720, "720p"),
    (1080, "1080p"),
    (1440, "1440p"),
    (2160, "4K+"),
)


def size_class(width: int, height: int) -> str:
    """The common name of a frame size by its short side: ``"720p"`` covers 720..1079, and so on."""
    short = min(width, height)
    label = SIZE_CLASSES[0][1]
    for floor, name in SIZE_CLASSES:
        if short >= floor:
            label = name
    return label


@dataclass(frozen=True, repr=False)
class CorpusSummary:
    """What a corpus holds, in numbers: renders as HTML with duration and file-size histograms."""

    source: str
    count: int
    probed: int
    failed: int
    hours: float
    total_bytes: int
    formats: dict[str, int]
    size_classes: dict[str, int]
    delivery: dict[str, int]
    with_audio: int
    failures: dict[str, int]
    failure_examples: tuple[tuple[str, str, str], ...]
    durations: tuple[float, ...] = field(repr=False)
    sizes_mb: tuple[float, ...] = field(repr=False)

    @classmethod
    def of(cls, table: pd.DataFrame, source: str) -> CorpusSummary:
        ok = table.loc[table["error_type"].isna()]
        bad = table.loc[table["error_type"].notna()]
        classes = [
            size_class(int(w), int(h)) for w, h in zip(ok["width"], ok["height"], strict=True)
        ]
        order = [name for _, name in SIZE_CLASSES]
        reasons = [
            f"{t} ({r})" if isinstance(r, str) else str(t)
            for t, r in zip(bad["error_type"], bad["error_reason"], strict=True)
        ]
        return cls(
            source=source,
            count=len(table),
            probed=len(ok),
            failed=len(bad),
            hours=float(ok["duration"].sum()) / 3600,
            total_bytes=int(ok["size_bytes"].fillna(0).sum()),
            formats={str(k): int(v) for k, v in ok["format"].value_counts().sort_index().items()},
            size_classes={name: classes.count(name) for name in order if name in classes},
            delivery={
                str(k): int(v) for k, v in ok["delivery"].value_counts().sort_index().items()
            },
            with_audio=int(ok["has_audio"].fillna(False).sum()),
            failures={r: reasons.count(r) for r in sorted(set(reasons))},
            failure_examples=tuple(
                (str(n), str(t), str(e))
                for n, t, e in zip(
                    bad["name"][:8], bad["error_type"][:8], bad["error"][:8], strict=True
                )
            ),
            durations=tuple(ok["duration"].tolist()),
            sizes_mb=tuple((ok["size_bytes"].astype("float64") / 2**20).tolist()),
        )

    def __repr__(self) -> str:
        return (
            f"<CorpusSummary {self.count} items: {self.probed} probed, {self.failed} failed, "
            f"{self.hours:.2f} hours>"
        )

    def __str__(self) -> str:
        lines = [
            f"{self.count} items from {self.source}: {self.probed} probed, {self.failed} failed",
            f"{self.hours:.2f} hours ({self.hours * 60:.1f} min), "
            f"{self.total_bytes / 2**20:.2f} MB",
            "formats: " + ", ".join(f"{k} {v}" for k, v in self.formats.items()),
            "sizes: " + ", ".join(f"{k} {v}" for k, v in self.size_classes.items()),
            "delivery: " + ", ".join(f"{k} {v}" for k, v in self.delivery.items()),
            f"with audio: {self.with_audio}",
        ]
        if self.failures:
            lines.append("failures: " + ", ".join(f"{k} {v}" for k, v in self.failures.items()))
        return "\n".join(lines)

    def figure(self) -> Any:
        """Histograms of duration and file size (a matplotlib Figure)."""
        from mimo_nb.display.plots import new_figure  # not pyplot's: nothing shows twice

        fig = new_figure((9.0, 3.0), shown=False)
        left, right = fig.subplots(1, 2)
        left.hist(self.durations, bins=30, color="tab:blue")
        left.set_xlabel("duration (s)")
        left.set_ylabel("videos")
        left.set_title("duration", fontsize=10)
        right.hist(self.sizes_mb, bins=30, color="tab:green")
        right.set_xlabel("file size (MB)")
        right.set_title("file size", fontsize=10)
        for ax in (left, right):
            ax.grid(True, alpha=0.3)
        return fig

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import corpus_summary_html

        return corpus_summary_html(self)


# ---- Forecast --------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]


@dataclass(frozen=True)
class _Totals:
    frames: int
    vision: int
    audio: int
    video: int
    largest: int


class _Table:
    """The probed rows as arrays, with what stays the same from one setting to the next.

    Rows that share a frame size and a sampled frame count cost the same vision, timestamp
    and special tokens (steps 2-4 of the formula see nothing else), and audio does not depend
    on the setting at all. So each setting computes step 1 for every row, then the array
    estimator once per (size, frame count) pair present, and looks the rows up: three to four
    times quicker on a million rows than the estimator over every row, and exactly equal to it.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.d, self.w, self.h, self.mute = corpus._columns()
        sizes, self.size_id = np.unique((self.w << 32) | self.h, return_inverse=True)
        self.pairs = len(sizes) * (MAX_FRAMES + 1)
        self.grouped = (
            0 < self.pairs <= 4 * len(self.d)
        )  # else a lookup table would outgrow the data
        self.audio = explain_video_tokens_array(
            self.d, self.w, self.h, FPS_DEFAULT, "default", self.mute
        )["audio"]

    def totals(self, fps: float, media_resolution: str) -> _Totals:
        if not self.grouped:
            parts = explain_video_tokens_array(
                self.d, self.w, self.h, fps, media_resolution, self.mute
            )
            frames, vision, video = parts["frames"], parts["vision"], parts["total"]
        else:
            frames = _sampled_frame_count_array(
                self.d, np.asarray(fps, dtype=np.float64)
            )  # step 1, as the estimator does it
            pair = self.size_id * (MAX_FRAMES + 1) + frames
            stand_in = np.full(self.pairs, -1, dtype=np.int64)
            stand_in[pair] = np.arange(len(pair))  # one row standing for each pair present
            present = np.flatnonzero(stand_in >= 0)
            rows = stand_in[present]
            parts = explain_video_tokens_array(
                self.d[rows], self.w[rows], self.h[rows], fps, media_resolution, True
            )
            by_pair = np.zeros((2, self.pairs), dtype=np.int64)
            by_pair[0, present], by_pair[1, present] = parts["vision"], parts["total"]
            vision, video = by_pair[0, pair], by_pair[1, pair] + self.audio
        return _Totals(
            int(frames.sum()),
            int(vision.sum()),
            int(self.audio.sum()),
            int(video.sum()),
            int(video.max()) if video.size else 0,
        )


@dataclass(frozen=True, repr=False)
class Forecast:
    """Tokens and cost of a corpus under one or more settings; ``to_pandas()`` is the table."""

    rows: tuple[dict[str, Any], ...]
    videos: int
    excluded: int
    prices: Prices
    output_tokens: int
    text_tokens: int

    @classmethod
    def compute(
        cls,
        corpus: Corpus,
        fps: Any,
        media_resolution: Any,
        *,
        prompt: str,
        system: str | None,
        output_tokens: int,
        prices: Prices | None,
    ) -> Forecast:
        prices = prices or load_prices()
        settings = [
            (validate_fps(f), validate_media_resolution(r))
            for r in _as_list(media_resolution)
            for f in _as_list(fps)
        ]
        if not isinstance(output_tokens, int) or output_tokens < 0:
            raise LimitError(
                f"output_tokens must be a non-negative integer, got {output_tokens!r}."
            )
        videos = int(corpus.ok.sum())
        text = estimate_text_tokens((system or "") + prompt) if prompt or system else 0
        table = _Table(corpus)
        rows = []
        for f, r in settings:
            t = table.totals(f, r)
            prompt_tokens = t.video + text * videos
            output = output_tokens * videos
            cost = estimate_cost(prompt_tokens, prices, output_tokens=output)
            rows.append(
                {
                    "fps": f,
                    "media_resolution": r,
                    "videos": videos,
                    "frames": t.frames,
                    "vision_tokens": t.vision,
                    "audio_tokens": t.audio,
                    "prompt_tokens": prompt_tokens,
                    "output_tokens": output,
                    "total_tokens": prompt_tokens + output,
                    "cost": cost.total,
                    "currency": prices.currency,
                    "prompt_tokens_per_video": prompt_tokens / videos if videos else 0.0,
                    "largest_video_tokens": t.largest,
                }
            )
        return cls(tuple(rows), videos, len(corpus) - videos, prices, output_tokens, text)

    def to_pandas(self) -> pd.DataFrame:
        """One row per setting: frames, vision, audio, prompt, output and total tokens, cost."""
        return _need_pandas().DataFrame(list(self.rows))

    def __repr__(self) -> str:
        settings = ", ".join(f"fps {r['fps']:g} {r['media_resolution']}" for r in self.rows[:6])
        more = f" and {len(self.rows) - 6} more" if len(self.rows) > 6 else ""
        return f"<Forecast of {self.videos:,} videos: {settings}{more}>"

    def plot(self, ax: Any = None) -> Any:
        """Total tokens (and cost, right axis) against fps, one line per media_resolution."""
        from mimo_nb.display.plots import new_axes

        _, ax = new_axes(ax, figsize=(7.0, 3.6))
        for resolution in dict.fromkeys(r["media_resolution"] for r in self.rows):
            rows = [r for r in self.rows if r["media_resolution"] == resolution]
            ax.plot(
                [r["fps"] for r in rows],
                [r["total_tokens"] for r in rows],
                marker="o",
                label=f"media_resolution={resolution}",
                gid=f"forecast:{resolution}",
            )
        ax.set_xlabel("fps")
        ax.set_ylabel("tokens, whole corpus")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        cost_axis = ax.secondary_yaxis(
            "right", functions=(self._tokens_to_cost, self._cost_to_tokens)
        )
        cost_axis.set_ylabel(f"cost ({self.prices.currency})")
        ax.set_title(
            f"{self.videos:,} videos: prompt + {self.output_tokens:,} output tokens each",
            fontsize=10,
        )
        return ax

    # Every setting sends the same output tokens, so cost = total x input price + output x (output
    # price - input price): an exact affine scale beside the token axis.
    def _tokens_to_cost(self, tokens: Any) -> Any:
        p, output = self.prices, self.output_tokens * self.videos
        return (np.asarray(tokens) * p.input + output * (p.output - p.input)) / 1e6

    def _cost_to_tokens(self, cost: Any) -> Any:
        p, output = self.prices, self.output_tokens * self.videos
        if not p.input:
            return np.asarray(cost) * 0
        return (np.asarray(cost) * 1e6 - output * (p.output - p.input)) / p.input

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import forecast_html

        return forecast_html(self)


@dataclass(frozen=True, repr=False)
class FpsChoice:
    """The largest fps on the 0.1 grid within a budget; ``curve`` holds every grid point."""

    fps: float | None
    media_resolution: str
    tokens_budget: int | None
    cost_budget: float | None
    curve: tuple[tuple[float, int, float], ...]  # (fps, total tokens, cost) for every grid value
    prices: Prices
    videos: int

    @classmethod
    def compute(
        cls,
        corpus: Corpus,
        *,
        tokens: int | None,
        cost: float | None,
        media_resolution: str,
        prompt: str,
        system: str | None,
        output_tokens: int,
        prices: Prices | None,
    ) -> FpsChoice:
        if tokens is None and cost is None:
            raise LimitError("give a budget: max_fps(tokens=...) and/or max_fps(cost=...).")
        validate_media_resolution(media_resolution)
        if not corpus.ok.any():
            failed = int((~corpus.ok).sum())
            raise LimitError(
                f"there is nothing to forecast: this corpus has no probed video ({len(corpus)} "
                f"items, {failed} failed); corpus.failures() says why, scan a folder with videos."
            )
        forecast = Forecast.compute(
            corpus,
            list(FPS_GRID),
            media_resolution,
            prompt=prompt,
            system=system,
            output_tokens=output_tokens,
            prices=prices,
        )
        curve = tuple((r["fps"], r["total_tokens"], r["cost"]) for r in forecast.rows)
        fits = [
            f
            for f, t, c in curve
            if (tokens is None or t <= tokens) and (cost is None or c <= cost)
        ]
        return cls(
            max(fits) if fits else None,
            media_resolution,
            tokens,
            cost,
            curve,
            forecast.prices,
            forecast.videos,
        )

    def __repr__(self) -> str:
        return f"<FpsChoice {self}>"

    @property
    def total_tokens(self) -> int | None:
        return next((t for f, t, _ in self.curve if f == self.fps), None)

    @property
    def cost(self) -> float | None:
        return next((c for f, _, c in self.curve if f == self.fps), None)

    @property
    def monotonic(self) -> bool:
        """True when tokens never fall as fps rises (then every fps below the answer fits too)."""
        totals = [t for _, t, _ in self.curve]
        return all(a <= b for a, b in pairwise(totals))

    def _budget_text(self) -> str:
        parts = []
        if self.tokens_budget is not None:
            parts.append(f"{self.tokens_budget:,} tokens")
        if self.cost_budget is not None:
            parts.append(f"{self.cost_budget:g} {self.prices.currency}")
        return " and ".join(parts)

    def __str__(self) -> str:
        if self.fps is None:
            low = self.curve[0]
            return (
                f"no fps fits {self._budget_text()}: even fps 0.1 needs {low[1]:,} tokens, "
                f"{low[2]:.4f} {self.prices.currency}"
            )
        return (
            f"fps {self.fps:g} (media_resolution={self.media_resolution}) is the largest on the "
            f"0.1 grid within {self._budget_text()}: {self.total_tokens:,} tokens, "
            f"{self.cost:.4f} {self.prices.currency} for {self.videos:,} videos"
        )

    def plot(self, ax: Any = None) -> Any:
        from mimo_nb.display.plots import new_axes

        _, ax = new_axes(ax, figsize=(7.0, 3.4))
        use_cost = self.tokens_budget is None
        ax.plot(
            [f for f, _, _ in self.curve],
            [c if use_cost else t for _, t, c in self.curve],
            gid="curve",
        )
        budget = self.cost_budget if use_cost else self.tokens_budget
        ax.axhline(budget, color="tab:red", linestyle="--", linewidth=1, label="budget")
        if self.fps is not None:
            ax.axvline(self.fps, color="tab:green", linewidth=1, label=f"fps {self.fps:g}")
        ax.set_xlabel("fps (the API's 0.1 grid)")
        ax.set_ylabel(f"cost ({self.prices.currency})" if use_cost else "tokens")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        return ax

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import fps_choice_html

        return fps_choice_html(self)


# ---- Ask: paced, budgeted, cached ------------------------------------------------------------

STATUS_ANSWERED, STATUS_REPLAYED, STATUS_ERROR, STATUS_SKIPPED = (
    "answered",
    "replayed",
    "error",
    "skipped",
)
STATUS_WOULD_SEND, STATUS_WOULD_REPLAY, STATUS_NOT_PROBED = (
    "would send",
    "would replay",
    "not probed",
)


@dataclass
class _Item:
    """One row's request and what became of it."""

    position: int
    prepared: PreparedRequest | None = None
    cached: bool = False
    status: str = ""
    completion: Completion | None = None
    error_type: str | None = None
    error: str | None = None
    reserved_cost: float | None = None  # the answer had no usage: counted at its worst case


@dataclass(repr=False)
class CorpusAnswers:
    """The outcome of :meth:`Corpus.ask`: per item the estimate, the answer (or error) and its
    cost."""

    corpus: Corpus
    items: list[_Item] = field(repr=False)
    est_prompt_tokens: npt.NDArray[np.int64] = field(repr=False)
    est_cost: npt.NDArray[np.float64] = field(repr=False)
    prices: Prices | None
    forecast_cost: float
    spent: float
    dry_run: bool
    minimum_seconds: float
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def completions(self) -> list[Completion | None]:
        """The answers in scan order (None where there is none)."""
        by_position: dict[int, Completion | None] = {
            it.position: it.completion for it in self.items
        }
        return [by_position.get(i) for i in range(len(self.corpus))]

    @property
    def requests(self) -> list[PreparedRequest]:
        """The prepared requests (exact bodies; ``print(r)`` elides the base64)."""
        return [it.prepared for it in self.items if it.prepared is not None]

    def counts(self) -> dict[str, int]:
        """How many items ended in each status."""
        out: dict[str, int] = {}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The scan's rows with status, estimate beside actual tokens and cost, the answer or
        error."""
        pd = _need_pandas()
        scan = self.corpus.to_pandas()[["path", "name", "duration", "width", "height", "has_audio"]]
        records = []
        by_position = {it.position: (k, it) for k, it in enumerate(self.items)}
        for position in range(len(self.corpus)):
            k, item = by_position.get(position, (None, None))
            record: dict[str, Any] = {
                "status": STATUS_NOT_PROBED,
                "origin": None,
                "est_prompt_tokens": None,
                "prompt_tokens": None,
                "est_video_tokens": None,
                "video_tokens": None,
                "est_audio_tokens": None,
                "audio_tokens": None,
                "completion_tokens": None,
                "est_cost": None,
                "cost": None,
                "cost_reserved": False,
                "content": None,
                "error_type": None,
                "error": None,
            }
            if item is not None and k is not None:
                estimate = item.prepared.estimate if item.prepared is not None else None
                record.update(
                    status=item.status,
                    est_prompt_tokens=int(self.est_prompt_tokens[k]),
                    est_cost=float(self.est_cost[k]),
                    error_type=item.error_type,
                    error=item.error,
                )
                if estimate is not None and estimate.complete:
                    record.update(
                        est_video_tokens=estimate.video_tokens,
                        est_audio_tokens=estimate.audio_tokens,
                    )
                done = item.completion
                if done is not None:
                    cost = done.cost
                    record.update(
                        origin=done.origin, content=done.content, cost=cost.total if cost else None
                    )
                    if item.reserved_cost is not None:  # no usage: its reserved worst case
                        record.update(cost=item.reserved_cost, cost_reserved=True)
                    if done.usage is not None:
                        record.update(
                            prompt_tokens=done.usage.prompt_tokens,
                            video_tokens=done.usage.video_tokens,
                            audio_tokens=done.usage.audio_tokens,
                            completion_tokens=done.usage.completion_tokens,
                        )
            else:
                record["error"] = self.corpus._table.iloc[position]["error"]
            records.append(record)
        answers = pd.DataFrame.from_records(records)
        for column in (
            "est_prompt_tokens",
            "prompt_tokens",
            "est_video_tokens",
            "video_tokens",
            "est_audio_tokens",
            "audio_tokens",
            "completion_tokens",
        ):
            answers[column] = answers[column].astype("Int64")
        return pd.concat([scan.reset_index(drop=True), answers], axis=1)

    def __repr__(self) -> str:
        return f"<CorpusAnswers {self}>"

    def __str__(self) -> str:
        currency = self.prices.currency if self.prices else ""
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items())
        head = "Dry run: nothing was sent. " if self.dry_run else ""
        text = (
            f"{head}{len(self.items)} items: {counts}. Forecast for the requests to send: "
            f"{self.forecast_cost:.4f} {currency}"
        )
        if not self.dry_run:
            text += f"; spent {self.spent:.4f} {currency} (from the answers' usage"
            reserved = sum(
                1
                for it in self.items
                if it.reserved_cost is not None
                and it.completion is not None
                and it.completion.origin != "cache"
            )
            if reserved:
                text += (
                    f"; {reserved:,} came without usage and count at their reserved worst case: "
                    "the estimated prompt plus the whole max_completion_tokens"
                )
            text += ")"
        if self.minimum_seconds:
            text += f". The quotas allow it in no less than {_duration(self.minimum_seconds)}"
        cap = self.settings.get("max_cost")
        if self.dry_run and cap is not None:
            verdict = (
                "within" if self.forecast_cost <= cap else "over, so the run would be refused:"
            )
            text += f". The forecast is {verdict} max_cost={cap:g}"
        return text + "."

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import corpus_answers_html

        return corpus_answers_html(self)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class _AskRun:
    """One :meth:`Corpus.ask`: prepare every request, check the cache and budget, then send
    paced."""

    def __init__(
        self,
        corpus: Corpus,
        client: Any,
        prompt: str,
        *,
        fps: float,
        media_resolution: str,
        system: str | None,
        max_completion_tokens: int,
        concurrency: int,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        window: float,
        max_cost: float | None,
        output_tokens: int | None,
        progress: bool,
        extra: dict[str, Any],
    ) -> None:
        if not asyncio.iscoroutinefunction(getattr(client, "send", None)):
            raise LimitError(
                "Corpus.ask needs an AsyncMimoClient (its requests share one event loop); "
                "pass mimo_nb.AsyncMimoClient(...), not MimoClient."
            )
        check_count(concurrency, "concurrency")
        if max_cost is not None:
            check_number(max_cost, "max_cost", positive=False, hint=" (None: no cap)")
        check_count(output_tokens, "output_tokens", 0, none_ok=True)
        client._check_ask_args(  # every per-call option, once, as client.ask would check it
            prompt,
            fps=fps,
            media_resolution=media_resolution,
            system=system,
            max_completion_tokens=max_completion_tokens,
            **extra,
        )
        self.corpus, self.client, self.prompt = corpus, client, prompt
        self.fps, self.media_resolution = (
            validate_fps(fps),
            validate_media_resolution(media_resolution),
        )
        self.system, self.max_completion_tokens, self.extra = system, max_completion_tokens, extra
        self.concurrency, self.max_cost, self.progress = concurrency, max_cost, progress
        self.output_tokens = max_completion_tokens if output_tokens is None else output_tokens
        self.pacer = Pacer(requests_per_minute, tokens_per_minute, window=window)
        self.prices: Prices | None = client.prices
        if max_cost is not None and self.prices is None:
            raise LimitError("max_cost needs prices: pass AsyncMimoClient(prices=mn.Prices(...)).")
        positions = np.flatnonzero(corpus.ok)
        text = estimate_text_tokens((system or "") + prompt)
        self.items = [_Item(int(p)) for p in positions]
        self.est_prompt = corpus.video_tokens(self.fps, self.media_resolution) + text
        self.charge = self.est_prompt + max_completion_tokens  # the most a request can weigh
        self.est_cost = self._costs(self.output_tokens)
        self.worst_cost = self._costs(max_completion_tokens)
        self.spent = self.reserved = 0.0

    def _estimate(self, k: int, prompt_tokens: int) -> None:
        """Set request k's estimate, and with it its weight against the quotas and its costs."""
        self.est_prompt[k] = prompt_tokens
        self.charge[k] = prompt_tokens + self.max_completion_tokens
        if self.prices is not None:
            p = self.prices
            self.est_cost[k] = (prompt_tokens * p.input + self.output_tokens * p.output) / 1e6
            self.worst_cost[k] = (
                prompt_tokens * p.input + self.max_completion_tokens * p.output
            ) / 1e6

    def _costs(self, output_tokens: int) -> npt.NDArray[np.float64]:
        if self.prices is None:
            return np.zeros(len(self.items))
        p = self.prices
        return np.asarray(
            (self.est_prompt * p.input + output_tokens * p.output) / 1e6, dtype=np.float64
        )

    def _source(self, position: int) -> Any:
        row = self.corpus._table.iloc[position]
        if _is_url(row["path"]):
            return row["path"]
        if not all(
            _present(row[c])
            for c in (
                "format",
                "native_fps",
                "native_frame_count",
                "codec",
                "constant_rate",
                "keyframe_interval",
            )
        ):
            return _open(row["path"])  # a table from elsewhere (from_pandas): probe it now
        return _request_video(row)

    async def _prepare(self, k: int) -> None:
        item = self.items[k]
        try:
            source = await asyncio.to_thread(
                self._source, item.position
            )  # a stat, maybe a probe: off the loop
            prepared = await self.client.build_request(
                source,
                self.prompt,
                fps=self.fps,
                media_resolution=self.media_resolution,
                system=self.system,
                max_completion_tokens=self.max_completion_tokens,
                **self.extra,
            )
            item.prepared = prepared
            if (
                prepared.estimate.complete
            ):  # the file as it is now (the scan's estimate, unless it changed)
                self._estimate(k, prepared.estimate.prompt_tokens)
            cache = self.client.cache
            if cache is not None:  # hashing the file is blocking: off the loop
                item.cached = await asyncio.to_thread(
                    lambda: cache.get(prepared.cache_material()) is not None
                )
        except MimoError as exc:
            item.status, item.error_type, item.error = STATUS_ERROR, type(exc).__name__, str(exc)

    async def _prepare_all(self) -> None:
        gate = asyncio.Semaphore(8)

        async def one(k: int) -> None:
            async with gate:
                await self._prepare(k)

        await asyncio.gather(*(one(k) for k in range(len(self.items))))

    def _forecast(self) -> float:
        return float(
            sum(
                self.est_cost[k]
                for k, it in enumerate(self.items)
                if not it.cached and not it.status
            )
        )

    async def execute(self, *, dry_run: bool) -> CorpusAnswers:
        started = time.monotonic()
        if len(self.items):
            self.pacer.check(int(self.charge.max()))
        if dry_run or self.client.cache is not None:  # to know what the cache holds before starting
            await self._prepare_all()
        forecast = self._forecast()
        to_send = [k for k, it in enumerate(self.items) if not it.cached and not it.status]
        minimum = minimum_wall_time(
            [int(self.charge[k]) for k in to_send],
            requests_per_minute=self.pacer.requests_per_minute,
            tokens_per_minute=self.pacer.tokens_per_minute,
            window=self.pacer.window,
        )
        if dry_run:
            for item in self.items:
                item.status = item.status or (
                    STATUS_WOULD_REPLAY if item.cached else STATUS_WOULD_SEND
                )
        else:
            if self.max_cost is not None and forecast > self.max_cost:
                currency = self.prices.currency if self.prices else ""
                raise LimitError(
                    f"the forecast for the {len(to_send):,} requests to send is {forecast:.4f} "
                    f"{currency}, over max_cost={self.max_cost:g}: nothing was sent. Lower fps "
                    "(corpus.max_fps(cost=...) finds the largest that fits), lower "
                    "max_completion_tokens or output_tokens, ask a subset (corpus[:n]), or raise "
                    "max_cost."
                )
            await self._send_all()
        return CorpusAnswers(
            self.corpus,
            self.items,
            self.est_prompt,
            self.est_cost,
            self.prices,
            forecast,
            self.spent,
            dry_run,
            minimum,
            time.monotonic() - started,
            {"fps": self.fps, "media_resolution": self.media_resolution, "max_cost": self.max_cost},
        )

    async def _send_all(self) -> None:
        queue = list(range(len(self.items)))[::-1]
        bar = _progress(len(self.items), self.progress, "ask", "video")
        self.stopped = False

        async def worker() -> None:
            while queue:
                k = queue.pop()
                await self._one(k)
                bar.update(1)

        try:  # never more workers than items: concurrency=10**6 starts no million coroutines
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(self.items)))))
        finally:
            bar.close()

    def _over_budget(self, k: int) -> bool:
        """True if request k, at its most, could take the spend past max_cost (in-flight ones at
        their most)."""
        return (
            self.max_cost is not None
            and self.spent + self.reserved + self.worst_cost[k] > self.max_cost
        )

    def _over_budget_now(self, k: int) -> bool:
        """The same check for request k once it holds its own reservation."""
        if self.max_cost is not None and self.spent + self.reserved > self.max_cost:
            self.stopped = True
            return True
        return False

    async def _one(self, k: int) -> None:
        item = self.items[k]
        if (
            item.prepared is None and not item.status
        ):  # no cache to check: built just before it is sent
            await self._prepare(k)
        if item.status:  # failed while preparing
            return
        if item.cached:
            await self._send(item, k)  # replayed from the cache: nothing paid, nothing paced
            return
        if self.stopped or self._over_budget(k):
            self.stopped = True
            item.status, item.error = STATUS_SKIPPED, "not sent: max_cost would be crossed"
            return
        try:
            self.pacer.check(int(self.charge[k]))
        except LimitError as exc:  # its file grew past the quota since the scan
            item.status, item.error_type, item.error = STATUS_ERROR, type(exc).__name__, str(exc)
            return
        self.reserved += self.worst_cost[k]
        try:
            ticket = await self.pacer.acquire(int(self.charge[k]))
            if self._over_budget_now(
                k
            ):  # answers that came in while we waited cost more than thought
                item.status, item.error = STATUS_SKIPPED, "not sent: max_cost would be crossed"
                self.pacer.settle(ticket, 0)
                return
            try:
                await self._send(item, k)
            # answered, failed or cancelled: the request keeps its place for a window from now
            finally:
                usage = item.completion.usage if item.completion is not None else None
                self.pacer.settle(ticket, usage.total_tokens if usage is not None else None)
        finally:
            self.reserved -= self.worst_cost[k]

    async def _send(self, item: _Item, k: int) -> None:
        assert item.prepared is not None
        try:
            completion = await self.client.send(item.prepared)
        except Exception as exc:  # noqa: BLE001  (one item's failure is its row)
            item.status, item.error_type, item.error = STATUS_ERROR, type(exc).__name__, str(exc)
            return
        item.completion = completion
        item.status = STATUS_REPLAYED if completion.origin == "cache" else STATUS_ANSWERED
        if completion.usage is None and self.prices is not None:
            # No usage: it counts at its reserved worst case, never at 0 (the cap must hold).
            item.reserved_cost = float(self.worst_cost[k])
        if completion.origin != "cache":
            if item.reserved_cost is not None:
                self.spent += item.reserved_cost
            elif completion.cost is not None:
                self.spent += completion.cost.total
