"""Decode chosen frames of a probed video at a chosen size, over PyAV or decord.

Frames are chosen by time (:func:`mimo_nb.core.tokens.sample_indices_by_time`) from the probe's
:class:`~mimo_nb.media.probe.FrameTable`, a decoded frame is identified by its presentation
time (never by counting), and the decoder decides for every gap between two wanted frames
whether to seek to the keyframe before the next one or to decode through, from the real
keyframe positions and a measured cost (:func:`plan_runs`).

Two backends sit behind :func:`read_frames` / :func:`iter_frames`: PyAV (the default) and
decord (the maintained ``decord2`` fork, when ``MIMO_NB_BACKEND=decord`` asks for it;
:func:`decode_backend` reports the choice). Probing always uses PyAV. Both
produce frames *directly at the target size*: nothing is held at native size except the frames
being converted. Every call is bounded by a deadline. decord is known to hang in ``get_batch``
when a container over-reports its frame count (dmlc/decord #373) and to mishandle rotated
streams when resizing, so indices are clamped to the probed count, decord runs in a worker
thread that we stop waiting for at the deadline, and rotated files, files whose frame count
decord disagrees with, WMV files (wrong frames here), damaged files and any decord failure go
to PyAV.

A frame that cannot be decoded (the file is cut short, or its bytes are damaged) is never
silently replaced: :func:`decode_frames` reports each substitute, so
:class:`~mimo_nb.media.frames.Frames` can say ``repeated=True`` and name the frames.

This module and :mod:`mimo_nb.media.probe` are the one border where decord and PyAV exceptions
become :class:`VideoError`. The probe's names (:class:`Probe`, :func:`probe`, :func:`open_input`,
...) are importable from here too.

>>> info = probe("clip.mp4")
>>> read_frames(info, [0, 10, 20], size=(160, 128)).shape
(3, 128, 160, 3)
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core.limits import MIME_TYPES, SUPPORTED_FORMATS
from mimo_nb.errors import LimitError
from mimo_nb.media.probe import FrameTable, Probe, open_input, probe, video_error

__all__ = [
    "Probe",
    "FrameTable",
    "DecodedFrame",
    "Decoded",
    "probe",
    "read_frames",
    "decode_frames",
    "iter_frames",
    "read_keyframes",
    "plan_runs",
    "open_input",
    "decode_backend",
    "SUPPORTED_FORMATS",
    "MIME_TYPES",
]

# decord returned wrong frames for WMV here (asked for frame 17, got 5; tests/test_decode.py),
# as its tracker reports for other containers (#195, #365): WMV always decodes with PyAV.
DECORD_FORMATS = frozenset({"mp4", "mov", "avi"})
# What one seek costs, in frames decoded through (seek + decoder flush + refilling the decoder's
# threads). Measured with benchmarks/bench_sampling.py --seek-cost on this project's 2-core
# machine, shared (load average 2.5-5 during the run), PyAV 18, H.264 x264 veryfast clips
# (B-frames, pixel noise, a keyframe every 30 frames; 20 s at 360p, 720p, 1080p): one seek costs
# 0-2 ms of wall time, 1-2 ms at 1080p where a skipped frame costs 1.0 ms; the fitted break-even
# was 5.7, -0.1 and 1.7 frames (wall) and below 2.5 frames of CPU time; an earlier, noisier run
# gave 8.5 and 4.5 frames at 360p and 1080p. Near the break-even either choice costs about the
# same, so a round figure at the top of the measured band.
SEEK_COST_FRAMES = 6
CONVERT_AHEAD = 6  # frames converting in the worker thread while the decoder goes on
# A plan with this many seeks or more, and a seek for every PARALLEL_TARGETS_PER_SEEK targets or
# fewer, decodes its runs in blocks, several at once, one decoder thread each: after a seek the
# codec's frame threads have little to share (a short chain of frames that depend on each other),
# while independent blocks keep every core busy. 20 min 360p, a keyframe every 30 frames, 600
# targets, 2 cores: 2.9 s with one decoder, 1.6 s with two. Where runs are long the codec's own
# threads already fill the cores, and blocks decoded ahead held more memory than we could account
# for (10 min 720p at fps 10, 2048 targets, 72 seeks: peak +1.5 GB against +0.75 GB, 30% faster).
PARALLEL_MIN_SEEKS = 8
PARALLEL_TARGETS_PER_SEEK = 2
BLOCK_TARGETS = 24  # targets per block: small enough to balance, large enough that opening is noise
Progress = Callable[[int, int], None]
Sink = Callable[[int, npt.NDArray[np.uint8]], None]  # (frame index, pixels): puts a frame in place


# ---- Which backend --------------------------------------------------------------------------


def _import_decord() -> Any:
    try:
        import decord
    except Exception as exc:  # noqa: BLE001  (no wheel for this platform, or a broken install)
        raise LimitError(
            f"decord was asked for, but it cannot be imported ({type(exc).__name__}). "
            "Install it with "
            "`pip install 'mimo_nb[decord]'`, or unset MIMO_NB_BACKEND to decode with PyAV."
        ) from None
    return decord


def _decord_module(prefer: str | None = None) -> Any | None:
    """decord when ``prefer`` or ``MIMO_NB_BACKEND`` asks for it; None means PyAV decodes."""
    choice = (prefer or os.environ.get("MIMO_NB_BACKEND", "")).strip().lower()
    if choice not in ("", "auto", "decord", "pyav"):
        raise LimitError(
            f"MIMO_NB_BACKEND={choice!r} is not a backend; "
            "use 'pyav' (the default), 'decord' or unset it."
        )
    return _import_decord() if choice == "decord" else None


def decode_backend() -> str:
    """The decoder used for frames: ``"pyav"`` unless ``MIMO_NB_BACKEND=decord`` asks for decord.

    PyAV is the default because it measured faster than decord on every case of
    ``benchmarks/bench_sampling.py``, with a lower memory peak; decord also returned wrong frames
    for WMV here. Both decode at the model's frame size and return the same frames (tests compare
    the frame counters drawn into clips).

    >>> decode_backend()
    'pyav'
    """
    return "decord" if _decord_module() is not None else "pyav"


# ---- Planning: seek or decode through, gap by gap --------------------------------------------


@dataclass(frozen=True)
class Run:
    """Decode from keyframe ``key`` (a position in ``FrameTable.keys``; None: go on from where the
    decoder is) and keep ``targets`` (presentation indices, increasing)."""

    key: int | None
    targets: tuple[int, ...]


def plan_runs(
    table: FrameTable, targets: Sequence[int], seek_cost: float = SEEK_COST_FRAMES
) -> list[Run]:
    """Split sorted, unique ``targets`` into runs: seek where it skips more frames than a seek
    costs.

    Decoding goes on from the last frame decoded; jumping to the keyframe before the next target
    skips every frame between, at the price of one seek (``seek_cost`` frames). Pure: the plan can
    be tested without a file.

    >>> from fractions import Fraction
    >>> keys = np.arange(0, 600, 30)  # a keyframe every 30 frames
    >>> table = FrameTable(np.arange(600) * 512, Fraction(1, 15360), keys=keys, readable=600)
    >>> plan_runs(table, [5, 10, 300])
    [Run(key=None, targets=(5, 10)), Run(key=10, targets=(300,))]
    """
    runs: list[Run] = []
    position = -1  # the last frame decoded (presentation index); -1: at the start of the file
    for target in targets:
        slot = max(0, table.key_before(target))
        key_index = int(table.keys[slot]) if len(table.keys) else 0
        if key_index - position - 1 > seek_cost and (runs or key_index > 0):
            runs.append(Run(slot, (target,)))
        elif runs:
            runs[-1] = Run(runs[-1].key, runs[-1].targets + (target,))
        else:
            runs.append(Run(None, (target,)))
        position = target
    return runs


# ---- Decoding: PyAV -------------------------------------------------------------------------


def _stored_size(info: Probe, size: tuple[int, int] | None) -> tuple[int, int]:
    """The target size in stored orientation (a display size turned back for 90/270)."""
    if size is None:  # native: the probed size, also for frames after a mid-stream size change
        return info.stored_width, info.stored_height
    width, height = size
    return (height, width) if info.rotation in (90, 270) else (width, height)


def _to_display(array: npt.NDArray[np.uint8], rotation: int) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(np.rot90(array, k=rotation // 90)) if rotation else array


def _convert(frame: Any, stored: tuple[int, int], rotation: int) -> npt.NDArray[np.uint8]:
    """One swscale pass straight to the target size and RGB: no native-size RGB copy."""
    if (frame.width, frame.height) == stored and frame.format.name == "rgb24":
        array = frame.to_ndarray()
    else:
        array = frame.reformat(width=stored[0], height=stored[1], format="rgb24").to_ndarray()
    return _to_display(array, rotation)


class _Converter:
    """Scale in the decoder's YUV, then turn the small picture to RGB, in one thread of our own.

    Scaling the 4:2:0 planes and converting the small result costs about 40% less CPU than
    one YUV-to-RGB pass that scales (same picture to within a level or so), and on a machine
    whose cores the decoder's threads already fill, CPU is what conversion takes from the decoder.
    Reformatters are kept, so swscale's contexts are set up once per size.
    """

    def __init__(self, stored: tuple[int, int], rotation: int) -> None:
        from av.video.reformatter import VideoReformatter

        self.stored, self.rotation = stored, rotation
        self.scale, self.to_rgb = VideoReformatter(), VideoReformatter()
        self.options: dict[str, Any] = {
            "threads": 1
        }  # PyAV >= 15 spreads swscale over threads by default

    def _reformat(self, reformatter: Any, frame: Any, **kwargs: Any) -> Any:
        try:
            return reformatter.reformat(frame, **kwargs, **self.options)
        except TypeError:  # an older PyAV: no threads option
            self.options = {}
            return reformatter.reformat(frame, **kwargs)

    def __call__(self, frame: Any) -> npt.NDArray[np.uint8]:
        width, height = self.stored
        if (
            frame.format.name in ("yuv420p", "yuvj420p")
            and (frame.width, frame.height) != self.stored
        ):
            small = self._reformat(
                self.scale,
                frame,
                width=width,
                height=height,
                format=frame.format.name,
                interpolation="BILINEAR",
            )
            array = self._reformat(self.to_rgb, small, format="rgb24").to_ndarray()
        else:
            array = self._reformat(
                self.to_rgb, frame, width=width, height=height, format="rgb24"
            ).to_ndarray()
        return _to_display(array, self.rotation)


class _Clock:
    """A deadline shared by every step of one decode, and the caller's cancel flag."""

    def __init__(self, timeout: float, path: Path, cancel: threading.Event | None = None) -> None:
        self.deadline = time.monotonic() + timeout
        self.path = path
        self.cancel = cancel
        self.stop = threading.Event()  # set by us: the consumer went away

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise video_error(
                "timeout",
                "Decoding took longer than the timeout; pass a larger timeout or a shorter clip",
                self.path,
            )

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set() or (self.cancel is not None and self.cancel.is_set())


@dataclass(frozen=True)
class DecodedFrame:
    """One wanted frame: its presentation index, its pixels, and the frame the pixels really are
    (``source == index`` unless the wanted frame could not be decoded and a neighbour stands in)."""

    index: int
    array: npt.NDArray[np.uint8]
    source: int


class _Flush:
    """Stands for the empty packet that ends a demux."""

    size = 0
    pts = None


_FLUSH = _Flush()


class _Seeker:
    """The decoding loop over one open container: runs of targets, seeks, skipping, draining."""

    def __init__(
        self,
        container: Any,
        table: FrameTable,
        clock: _Clock,
        targets: Sequence[int],
        thread_type: str = "AUTO",
    ) -> None:
        self.container = container
        self.stream = container.streams.video[0]
        self.codec = self.stream.codec_context
        self.codec.thread_type = thread_type  # AUTO: frame and slice threads, as the floor uses
        self.table = table
        self.clock = clock
        self.wanted = set(targets)  # every target not yet decoded, over all runs
        self.skip = "DEFAULT"
        self.can_skip = self.codec.name in ("h264", "hevc", "mpeg4", "mpeg2video")
        self.seek_ok = True
        self.drained = False  # the decoder was told the input ended (until the next seek)
        self.last_index = -1
        self.tainted = (
            False  # a packet failed to decode: what follows until a keyframe may be wrong
        )
        self.suspect: set[int] = set()  # pts of frames decoded from possibly broken references
        self.decoded = 0  # frames the decoder returned (tests use it to see seeking work)

    def _set_skip(self, value: str) -> None:
        # Frames nothing refers to and nobody wants are not decoded at all (AVDISCARD_NONREF); the
        # setting travels with each packet into the decoder's threads.
        if value != self.skip and self.can_skip:
            self.codec.skip_frame = value
            self.skip = value

    def _seek(self, slot: int) -> None:
        target = self.table.seek_target(slot)
        self.container.seek(target, stream=self.stream, backward=True, any_frame=False)
        self.drained = self.tainted = False

    def frames(self, runs: list[Run]) -> Iterator[tuple[int, Any]]:
        """Yield (index, frame) for every target, exact and in increasing index order;
        (index, None) for a target the file could not give."""
        pending: deque[int] = deque()
        for run in runs:
            expect = -1
            if run.key is not None and self.seek_ok:
                yield from self._drain(pending)
                self._seek(run.key)
                expect = int(self.table.keys[run.key])
            pending.extend(run.targets)
            yield from self._decode(pending, expect)
            if self.clock.cancelled:
                return
        yield from self._drain(pending)
        while pending:  # the stream ended before these
            yield pending.popleft(), None

    def _decode(self, pending: deque[int], expect: int) -> Iterator[tuple[int, Any]]:
        """Feed packets until this run's last target is in the decoder (or out, when not
        seeking)."""
        unfed, first = (
            set(pending),
            expect >= 0,
        )  # packets come in decode order, not presentation order
        for packet in self._packets():
            if packet.size:
                index = self.table.index_of(packet.pts) if packet.pts is not None else -1
                self._set_skip("DEFAULT" if index < 0 or index in self.wanted else "NONREF")
                unfed.discard(index)
                self.tainted = self.tainted and not packet.is_keyframe
                if self.tainted and packet.pts is not None:
                    self.suspect.add(int(packet.pts))
                frames = self._send(packet)
            else:
                frames, self.drained = self._send(None), True
            for frame in frames:
                if first and self._overshot(frame, expect):
                    yield from self._decode(pending, -1)  # from the start of the file
                    return
                first = False
                yield from self._take(frame, pending)
            self.clock.check()
            if not pending or self.clock.cancelled or (not unfed and self.seek_ok):
                return  # with seeking on, what is still inside comes out when the next run drains

    def _packets(self) -> Iterator[Any]:
        """The video packets from here on; a read error past some point ends them (the rest is
        lost)."""
        import av

        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError:
                yield _FLUSH
                return
            yield packet

    def _send(self, packet: Any) -> list[Any]:
        """Decode one packet; a damaged one gives no frame (its frame is then reported missing)."""
        import av

        try:
            return list(self.codec.decode(packet))
        except (av.error.InvalidDataError, av.error.EOFError):
            self.tainted = packet is not None
            return []

    def _overshot(self, frame: Any, expect: int) -> bool:
        """A seek landed past the keyframe asked for: go back to the file's start and stop
        seeking."""
        index = self.table.index_of(frame.pts) if frame.pts is not None else 0
        if index <= expect:
            return False
        self.seek_ok = False
        self.codec.skip_frame, self.skip = "DEFAULT", "DEFAULT"
        self._seek(0)
        return True

    def _take(self, frame: Any, pending: deque[int]) -> Iterator[tuple[int, Any]]:
        self.decoded += 1
        index = self.table.index_of(frame.pts) if frame.pts is not None else self.last_index + 1
        while pending and pending[0] < index:  # passed a wanted frame without getting it
            self.wanted.discard(pending[0])
            yield pending.popleft(), None
        if pending and pending[0] == index:
            self.wanted.discard(pending.popleft())
            yield index, (None if frame.pts in self.suspect else frame)
        self.last_index = index

    def _drain(self, pending: deque[int]) -> Iterator[tuple[int, Any]]:
        """Let the decoder's threads hand out the frames still inside them."""
        if not self.drained:
            self.drained = True
            for frame in self._send(None):
                yield from self._take(frame, pending)


def _pyav_frames(
    info: Probe,
    targets: Sequence[int],
    clock: _Clock,
    seek_cost: float,
    stats: dict[str, int] | None = None,
) -> Iterator[tuple[int, Any]]:
    """(index, av.VideoFrame or None) for each target, decoding by the plan."""
    table = info.frame_table()
    runs = plan_runs(table, targets, seek_cost)
    workers = min(4, os.cpu_count() or 1)
    seeks = sum(run.key is not None for run in runs)
    seek_bound = seeks >= PARALLEL_MIN_SEEKS and len(targets) <= PARALLEL_TARGETS_PER_SEEK * seeks
    if workers > 1 and seek_bound:
        yield from _parallel_frames(info, table, runs, clock, workers, stats)
        return
    items, decoded = _decode_block(info, table, runs, clock, "AUTO", lazy=True)
    try:
        yield from items
    finally:
        if stats is not None:
            stats.update(decoded=decoded(), runs=len(runs))


def _decode_block(
    info: Probe,
    table: FrameTable,
    runs: list[Run],
    clock: _Clock,
    thread_type: str,
    lazy: bool = False,
) -> tuple[Iterator[tuple[int, Any]], Callable[[], int]]:
    """Decode ``runs`` in a container of their own: the frames (a list unless ``lazy``) and a
    function giving how many frames the decoder returned."""
    seekers: list[_Seeker] = []

    def frames() -> Iterator[tuple[int, Any]]:
        import av

        try:
            with open_input(info.path) as container:
                targets = [t for run in runs for t in run.targets]
                seekers.append(_Seeker(container, table, clock, targets, thread_type))
                yield from seekers[0].frames(runs)
        except av.error.FFmpegError as exc:
            raise video_error(
                "truncated", f"Decoding failed ({exc}); the file is damaged or truncated", info.path
            ) from None

    def decoded() -> int:
        return seekers[0].decoded if seekers else 0

    return (frames() if lazy else iter(list(frames()))), decoded


def _blocks(runs: list[Run], size: int) -> list[list[Run]]:
    """Consecutive runs in blocks of about ``size`` targets; every block but the first starts
    with a seek (only a plan's first run may go on from the start of the file)."""
    blocks: list[list[Run]] = []
    count = 0
    for run in runs:
        if blocks and (count < size or run.key is None):
            blocks[-1].append(run)
            count += len(run.targets)
        else:
            blocks.append([run])
            count = len(run.targets)
    return blocks


def _parallel_frames(
    info: Probe,
    table: FrameTable,
    runs: list[Run],
    clock: _Clock,
    workers: int,
    stats: dict[str, int] | None,
) -> Iterator[tuple[int, Any]]:
    """Blocks of runs decoded ``workers`` at a time (one decoder thread each, codecs release the
    GIL), handed on in order; at most ``workers`` blocks wait decoded, so memory stays bounded."""
    blocks = iter(_blocks(runs, BLOCK_TARGETS))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mimo_nb-decode")
    ahead: deque[Future[tuple[Iterator[tuple[int, Any]], Callable[[], int]]]] = deque()
    decoded = 0

    def submit() -> None:
        block = next(blocks, None)
        if block is not None:
            ahead.append(pool.submit(_decode_block, info, table, block, clock, "SLICE"))

    try:
        for _ in range(workers):
            submit()
        while ahead:
            items, count = ahead.popleft().result()
            decoded += count()
            if not clock.cancelled:
                submit()
            yield from items
            if clock.cancelled:
                return
    finally:
        clock.stop.set()  # blocks still decoding end at their next packet
        pool.shutdown(wait=True, cancel_futures=True)
        if stats is not None:
            stats.update(decoded=decoded, runs=len(runs))


def _convert_and_place(
    convert: _Converter, frame: Any, index: int, sink: Sink | None
) -> npt.NDArray[np.uint8]:
    array = convert(frame)
    if sink is not None:
        sink(index, array)
    return array


def _converted(
    frames: Iterator[tuple[int, Any]],
    stored: tuple[int, int],
    rotation: int,
    path: Path,
    sink: Sink | None = None,
) -> Iterator[DecodedFrame]:
    """Convert (and hand to ``sink``) in a worker thread while the decoder goes on (swscale, the
    decoder and numpy's copies release the GIL); a wanted frame the file could not give is stood
    in for by the nearest frame before it."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mimo_nb-convert")
    convert = _Converter(stored, rotation)
    ahead: deque[tuple[int, int, Future[npt.NDArray[np.uint8]]]] = deque()
    last: tuple[int, Future[npt.NDArray[np.uint8]]] | None = None
    early: list[int] = []  # wanted frames missing before any frame was decoded
    try:
        for index, frame in frames:
            if frame is None:
                if last is None:
                    early.append(index)
                    continue
                ahead.append((index, last[0], last[1]))
            else:
                job = pool.submit(_convert_and_place, convert, frame, index, sink)
                last = (index, job)
                for missing in early:  # nothing before them: the first frame there is stands in
                    ahead.append((missing, index, job))
                early.clear()
                ahead.append((index, index, job))
            while len(ahead) > CONVERT_AHEAD or (ahead and ahead[0][2].done()):
                wanted, source, job = ahead.popleft()
                yield DecodedFrame(wanted, job.result(), source)
        if early:
            raise video_error(
                "truncated", "No frame could be decoded; the file is damaged or truncated", path
            )
        while ahead:
            wanted, source, job = ahead.popleft()
            yield DecodedFrame(wanted, job.result(), source)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---- Decoding: decord -----------------------------------------------------------------------


class _DecordFailed(Exception):
    """decord cannot be trusted for this file or call; PyAV takes over from where it stopped."""


def _decord_chunks(
    decord: Any,
    info: Probe,
    targets: Sequence[int],
    size: tuple[int, int] | None,
    clock: _Clock,
    sink: Sink | None = None,
) -> Iterator[DecodedFrame]:
    """get_batch in chunks, at the target size, in a worker thread we stop waiting for."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def work() -> None:
        try:
            width, height = size if size is not None else (-1, -1)
            reader = decord.VideoReader(str(info.path), width=width, height=height, num_threads=2)
            if len(reader) != info.frame_count:  # disagreeing metadata: decord may hang (#373)
                raise _DecordFailed(f"decord counts {len(reader)} frames, PyAV {info.frame_count}")
            for start in range(0, len(targets), 32):
                if stop.is_set():
                    return
                chunk = list(targets[start : start + 32])
                chunks.put((chunk, reader.get_batch(chunk).asnumpy()))
            chunks.put(None)
        except Exception as exc:  # noqa: BLE001 - any decord failure sends us to PyAV
            chunks.put(exc)

    worker = threading.Thread(target=work, name="mimo_nb-decord", daemon=True)
    worker.start()
    expected = (size[1], size[0], 3) if size is not None else (info.height, info.width, 3)
    try:
        while True:
            try:
                item = chunks.get(timeout=max(0.0, clock.deadline - time.monotonic()))
            except queue.Empty:
                raise _DecordFailed("decord did not finish before the deadline") from None
            if item is None:
                return
            if isinstance(item, Exception):
                raise _DecordFailed(repr(item))
            for index, array in zip(*item, strict=True):
                if array.shape != expected:
                    raise _DecordFailed(f"decord gave a {array.shape} frame, expected {expected}")
                if sink is not None:
                    sink(int(index), array)
                yield DecodedFrame(int(index), array, int(index))
            if clock.cancelled:
                return
    finally:
        stop.set()


# ---- The entry points -----------------------------------------------------------------------


def iter_frames(
    info: Probe,
    indices: Sequence[int] | npt.NDArray[np.integer],
    size: tuple[int, int] | None = None,
    *,
    timeout: float = 120.0,
    cancel: threading.Event | None = None,
    prefer: str | None = None,
    seek_cost: float = SEEK_COST_FRAMES,
    stats: dict[str, int] | None = None,
    sink: Sink | None = None,
) -> Iterator[DecodedFrame]:
    """Yield each distinct wanted frame once, as soon as it is decoded (increasing index).

    Args:
        info: the file's :class:`Probe`.
        indices: frame numbers in any order, repeats allowed; clamped to the file's frames.
        size: ``(width, height)`` to produce, as displayed; None for the probed size.
        timeout: seconds for the whole decode; past it, :class:`VideoError` ``timeout``.
        cancel: set it (from any thread) to stop soon after the frame being decoded; the
            iterator then simply ends. Closing the iterator stops it too.
        prefer: ``"decord"`` or ``"pyav"`` to pick a backend; None follows :func:`backend`.
        seek_cost: what a seek costs in frames decoded through (see :func:`plan_runs`).
        stats: a dict to receive ``decoded`` (frames the PyAV decoder returned) and ``runs``.
        sink: called with ``(index, pixels)`` for each frame decoded (not for stand-ins) before
            it is yielded, in the converting thread with PyAV: a caller filling an array writes
            there, off the thread that feeds the decoder.

    >>> for frame in iter_frames(probe("clip.mp4"), [0, 30, 59], size=(64, 48)):
    ...     print(frame.index, frame.array.shape)
    0 (48, 64, 3)
    30 (48, 64, 3)
    59 (48, 64, 3)
    """
    if info.frame_count < 1:
        return
    wanted = np.clip(np.asarray(indices, dtype=np.int64), 0, info.frame_count - 1)
    targets = sorted({int(i) for i in wanted.reshape(-1)})
    if not targets:
        return
    clock = _Clock(timeout, info.path, cancel)
    done: set[int] = set()
    decord = _decord_module(prefer)
    usable = (
        info.readable_frames == info.frame_count
        and info.rotation == 0
        and info.format in DECORD_FORMATS
    )
    if decord is not None and usable:
        try:
            for item in _decord_chunks(decord, info, targets, size, clock, sink):
                done.add(item.index)
                yield item
            if clock.cancelled or len(done) == len(targets):
                return
        except _DecordFailed:
            pass  # wrong metadata, a decord error or a hang: PyAV decodes what is left
    rest = [t for t in targets if t not in done]
    frames = _pyav_frames(info, rest, clock, seek_cost, stats)
    yield from _converted(frames, _stored_size(info, size), info.rotation, info.path, sink)


def read_keyframes(
    info: Probe,
    indices: Sequence[int] | npt.NDArray[np.integer],
    size: tuple[int, int] | None = None,
    *,
    max_keyframes: int = 24,
    timeout: float = 30.0,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """A cheap stand-in for :func:`read_frames`: each wanted frame shown by a nearby keyframe.

    At most ``max_keyframes`` keyframes, spread over the wanted ones, are decoded, each after a
    seek, with every other frame skipped by the decoder. Returns the array (one per index, in
    order) and the frame number each entry really shows.
    """
    import av

    wanted = np.clip(
        np.asarray(indices, dtype=np.int64).reshape(-1), 0, max(0, info.frame_count - 1)
    )
    table = info.frame_table()
    slots = np.maximum(
        np.searchsorted(table.keys, np.minimum(wanted, table.readable - 1), side="right") - 1, 0
    )
    distinct = np.unique(slots)
    if len(distinct) > max_keyframes:  # an even spread of the slots wanted
        distinct = np.unique(
            distinct[np.round(np.linspace(0, len(distinct) - 1, max_keyframes)).astype(np.int64)]
        )
    chosen = distinct[np.clip(np.searchsorted(distinct, slots), 0, len(distinct) - 1)]
    lower = distinct[
        np.clip(np.searchsorted(distinct, slots, side="right") - 1, 0, len(distinct) - 1)
    ]
    chosen = np.where(
        np.abs(lower - slots) <= np.abs(chosen - slots), lower, chosen
    )  # the nearest decoded slot
    width, height = size if size is not None else (info.width, info.height)
    pictures: dict[int, npt.NDArray[np.uint8]] = {}
    clock = _Clock(timeout, info.path)
    stored = _stored_size(info, size)
    try:
        with open_input(info.path) as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            for slot in distinct.tolist():
                target = table.seek_target(slot)
                container.seek(target, stream=stream, backward=True, any_frame=False)
                for packet in container.demux(stream):
                    frames = list(stream.codec_context.decode(packet)) if packet.size else []
                    if packet.size and packet.is_keyframe:
                        frames += list(stream.codec_context.decode(None))
                    if frames:
                        pictures[slot] = _convert(frames[0], stored, info.rotation)
                        break
                    clock.check()
    except av.error.FFmpegError as exc:
        raise video_error(
            "truncated", f"Decoding failed ({exc}); the file is damaged or truncated", info.path
        ) from None
    array = np.zeros((len(wanted), height, width, 3), dtype=np.uint8)
    for position, slot in enumerate(chosen.tolist()):
        if slot in pictures:
            array[position] = pictures[slot]
    return array, table.keys[chosen]


@dataclass
class Decoded:
    """Frames decoded for ``indices`` (in their order, repeats kept), and which were stood in for.

    ``substitutes`` maps each wanted frame index that could not be decoded to the index of the
    frame shown in its place.
    """

    array: npt.NDArray[np.uint8]
    substitutes: dict[int, int]


def decode_frames(
    info: Probe,
    indices: Sequence[int] | npt.NDArray[np.integer],
    size: tuple[int, int] | None = None,
    *,
    timeout: float = 120.0,
    progress: Progress | None = None,
    prefer: str | None = None,
    cancel: threading.Event | None = None,
    on_frame: Callable[[DecodedFrame], None] | None = None,
) -> Decoded:
    """Decode the frames at ``indices`` as a (N, H, W, 3) uint8 array, with the stand-ins named.

    Peak memory is the output array plus the few frames converting. See :func:`iter_frames`;
    ``on_frame`` is called with each frame as it arrives. If ``cancel`` is set before the end,
    :class:`VideoError` ``cancelled`` is raised.
    """
    wanted = np.clip(
        np.asarray(indices, dtype=np.int64).reshape(-1), 0, max(0, info.frame_count - 1)
    )
    width, height = size if size is not None else (info.width, info.height)
    array = np.empty((len(wanted), height, width, 3), dtype=np.uint8)
    slots: dict[int, list[int]] = {}
    for position, index in enumerate(wanted.tolist()):
        slots.setdefault(index, []).append(position)
    substitutes: dict[int, int] = {}

    def place(index: int, pixels: npt.NDArray[np.uint8]) -> None:
        if pixels.shape != array.shape[1:]:  # cannot happen: every path converts to the target size
            raise video_error(
                "truncated", f"A frame decoded at {pixels.shape}, not {array.shape[1:]}", info.path
            )
        array[slots[index]] = pixels  # in the converting thread: ~1 ms a 1080p-sized frame

    done = 0
    items = iter_frames(
        info, wanted, size, timeout=timeout, prefer=prefer, cancel=cancel, sink=place
    )
    for item in items:
        if item.source != item.index:  # a stand-in: its pixels were placed under its source's index
            place(item.index, item.array)
            substitutes[item.index] = item.source
        done += 1
        if on_frame:
            on_frame(item)
        if progress:
            progress(done, len(slots))
    if done < len(slots) and cancel is not None and cancel.is_set():
        raise video_error(
            "cancelled", f"Decoding was cancelled after {done} of {len(slots)} frames", info.path
        )
    return Decoded(array, substitutes)


def read_frames(
    info: Probe,
    indices: Sequence[int] | npt.NDArray[np.integer],
    size: tuple[int, int] | None = None,
    *,
    timeout: float = 120.0,
    progress: Progress | None = None,
    prefer: str | None = None,
) -> npt.NDArray[np.uint8]:
    """Decode the frames at ``indices`` as a (N, H, W, 3) uint8 array in display orientation.

    Args:
        info: the file's :class:`Probe`.
        indices: frame numbers in any order, repeats allowed; clamped to the file's frames.
        size: ``(width, height)`` to produce, as displayed; None for native size.
        timeout: seconds for the whole decode; past it, :class:`VideoError` ``timeout``.
        progress: called with (frames done, frames wanted) as decoding advances.
        prefer: ``"decord"`` or ``"pyav"`` to pick a backend; None follows :func:`decode_backend`.

    A frame the file cannot give is replaced by its nearest decoded neighbour;
    :func:`decode_frames` says which.

    >>> read_frames(probe("clip.mp4"), [0, 0, 5], size=(64, 48)).shape
    (3, 48, 64, 3)
    """
    return decode_frames(
        info, indices, size, timeout=timeout, progress=progress, prefer=prefer
    ).array
