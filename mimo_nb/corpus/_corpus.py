"""The corpus: a set of videos probed once, and what is done with it (:mod:`mimo_nb.corpus`).

:class:`Corpus` holds the scan's table and hands each job to its module: sources, probing and
workers for :meth:`Corpus.scan`, the summary, the forecast, frame work (:meth:`Corpus.map`) and
paced asking (:meth:`Corpus.ask`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.pricing import Prices
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile, get_profile
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    explain_video_tokens_array,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.corpus._ask import CorpusAnswers, _AskRun
from mimo_nb.corpus._forecast import Forecast, FpsChoice, profile_video_tokens
from mimo_nb.corpus._map import MapResult, _map_one, _shippable
from mimo_nb.corpus._optional import _need_pandas, _progress
from mimo_nb.corpus._paths import _short_name
from mimo_nb.corpus._rows import (
    COLUMNS,
    _flag_incomplete,
    _one_by_one,
    _probe_chunk,
    _typed,
    _worker_failure,
)
from mimo_nb.corpus._sources import expand_source
from mimo_nb.corpus._summary import CorpusSummary
from mimo_nb.corpus._workers import _executor, run_guarded
from mimo_nb.errors import LimitError

if TYPE_CHECKING:  # pandas and the display stack load on first use
    import pandas as pd

    from mimo_nb.api.client import AsyncMimoClient
    from mimo_nb.media.video import Video


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

    def _native_columns(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """native_fps (NaN where unknown) and native_frame_count (0 where unknown) of the probed
        rows: what a server's profile counts frames from."""
        ok = self._table.loc[self.ok]
        return (
            ok["native_fps"].astype("float64").to_numpy(np.float64, na_value=np.nan),
            ok["native_frame_count"].astype("Int64").to_numpy(np.int64, na_value=0),
        )

    def video_tokens(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        *,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> npt.NDArray[np.int64]:
        """Each probed video's token estimate at one setting (the array estimator; NaN-free).

        Under another ``profile`` than the hosted API's, each video's prompt tokens by that
        server's rules, as a client with ``profile=`` estimates them (0 for a video the server
        would reject).
        """
        fps, media_resolution = validate_fps(fps), validate_media_resolution(media_resolution)
        if not get_profile(profile).is_default:
            return profile_video_tokens(self, fps, media_resolution, profile)["tokens"]
        d, w, h, mute = self._columns()
        return explain_video_tokens_array(d, w, h, fps, media_resolution, mute)["total"]

    def forecast(
        self,
        fps: float | Sequence[float] = FPS_DEFAULT,
        media_resolution: str | Sequence[str] = "default",
        *,
        prompt: str = "",
        system: str | None = None,
        output_tokens: int = 1024,
        prices: Prices | None = None,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> Forecast:
        """Tokens and cost of asking once about every probed video, per setting (fps x
        media_resolution).

        Args:
            fps, media_resolution: one value or several; every combination is a row.
            prompt, system: the text sent with each video (counted at 4 bytes a token).
            output_tokens: answer tokens per video you expect (reasoning included); the default is
                the request's default ``max_completion_tokens``, the most an answer can use.
            prices: default the shipped, cited ``mimo-v2.5`` prices in CNY.
            profile: whose sampling rules the videos' tokens follow: the hosted API's
                (``"mimo-api"``, the default) or a self-hosted server's
                (:mod:`mimo_nb.core.profiles`; pass ``client.profile`` to forecast what that
                client will estimate).

        Under the hosted API's profile the arithmetic is
        :func:`mimo_nb.core.tokens.explain_video_tokens_array` over the whole table, one pass per
        setting, equal item by item to the scalar formula. Under a server's profile every video
        is estimated as a client with that profile estimates one request
        (:func:`~mimo_nb.core.profiles.explain_profile_tokens`); a video the server would reject
        counts 0 tokens and is counted in the row's ``refused``.
        """
        return Forecast.compute(
            self,
            fps,
            media_resolution,
            prompt=prompt,
            system=system,
            output_tokens=output_tokens,
            prices=prices,
            profile=profile,
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
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> FpsChoice:
        """The largest fps on the API's 0.1 grid at which the whole corpus fits a budget.

        ``tokens`` bounds prompt + output tokens; ``cost`` the bill in ``prices.currency``; give
        one or both. Every grid value is computed exactly (tokens need not grow with fps).
        ``profile`` as for :meth:`forecast` (a server's profile estimates video by video, so a
        large corpus takes longer).
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
            profile=profile,
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
        >>> sheets = {r.name: r.value for r in corpus.map(mn.corpus.SaveContactSheet("sheets/"))}
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
                ``max_completion_tokens``). The forecast, the quotas' weights and ``max_cost``
                follow the client's ``profile`` (:meth:`forecast`).
            dry_run: send nothing; show the requests, the forecast and the quota-bound time.
            progress: a tqdm progress bar.

        Returns a :class:`CorpusAnswers`; ``to_pandas()`` joins it to the scan.
        """
        from mimo_nb.api.client import PER_CALL_OPTIONS

        validate.keywords("Corpus.ask", extra, Corpus.ask, PER_CALL_OPTIONS)
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
