"""Probe a video file and decode chosen frames at a chosen size, over PyAV or decord.

Probing reads the container with PyAV and demuxes every video packet once, without decoding,
into a :class:`FrameTable`: each readable frame's presentation time, in presentation order, and
where the keyframes are. Everything after that is exact by construction: frames are chosen by
time (:func:`mimo_nb.core.tokens.sample_indices_by_time`), a decoded frame is identified by its
presentation time (never by counting), and the decoder decides for every gap between two wanted
frames whether to seek to the keyframe before the next one or to decode through, from the real
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
:class:`~mimo_nb.media.video.Frames` can say ``repeated=True`` and name the frames.

This module is the one border where decord and PyAV exceptions become :class:`VideoError`,
and :func:`open_input` is the one place a file is opened with PyAV.

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
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core.limits import MIME_TYPES, SUPPORTED_FORMATS
from mimo_nb.errors import LimitError, VideoError

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
# Over this share of frames missing, a file is refused as truncated rather than sampled with
# repeats.
MOST_MISSING = 0.5
# A Probe edited to list more frames than its table (probe() itself never does) has the rest
# extrapolated, up to this many (8 MB of times): a count from elsewhere never sizes an array.
MAX_EXTRAPOLATED_FRAMES = 1 << 20
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


# ---- Opening with PyAV (the one place) ------------------------------------------------------


def _pyav_major() -> int:
    import av

    try:
        return int(str(av.__version__).split(".")[0])
    except ValueError:
        return 99


def open_input(path: str | os.PathLike[str], timeout: float | None = None) -> Any:
    """Open a file for reading with PyAV, on every PyAV from 12 on.

    PyAV 19 removed ``av.open(metadata_errors=...)`` (before it, ``"ignore"`` kept badly encoded
    tags from raising); later PyAVs decode tags leniently by themselves.
    """
    import av

    options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    if _pyav_major() < 19:
        options["metadata_errors"] = "ignore"
    return av.open(os.fspath(path), **options)


# ---- The frame table: every frame's time, from one demux pass -------------------------------


@dataclass(frozen=True, eq=False)
class FrameTable:
    """Presentation times and keyframes of a video stream, in presentation order.

    ``pts`` (stream ticks of ``time_base``) has one entry per frame the header declares; frames
    from ``readable`` on were not in the file (it was cut short) and their times are extrapolated
    at the average rate. ``keys`` are the presentation indices of keyframes.
    """

    pts: npt.NDArray[np.int64]
    time_base: Fraction
    keys: npt.NDArray[np.int64]
    readable: int

    def __len__(self) -> int:
        return int(len(self.pts))

    @property
    def seconds(self) -> npt.NDArray[np.float64]:
        """Each frame's presentation time in seconds from the first frame."""
        return ((self.pts - self.pts[0]) * float(self.time_base)).astype(np.float64)

    @property
    def constant_rate(self) -> bool:
        """Evenly spaced times, to the timestamp resolution (one tick of rounding allowed)."""
        steps = np.diff(self.pts[: self.readable])
        return bool(len(steps) == 0 or steps.max() - steps.min() <= 1)

    def index_of(self, pts: int) -> int:
        """The presentation index of the frame with time ``pts`` (the nearest, if none is exact)."""
        i = int(np.searchsorted(self.pts, pts))
        if i < len(self.pts) and self.pts[i] == pts:
            return i
        if i == 0:
            return 0
        if i >= len(self.pts) or pts - self.pts[i - 1] <= self.pts[i] - pts:
            return i - 1
        return i

    def key_before(self, index: int) -> int:
        """Position in ``keys`` of the last keyframe at or before frame ``index`` (-1: none)."""
        return int(np.searchsorted(self.keys, index, side="right")) - 1

    def seek_target(self, slot: int) -> int:
        """The timestamp to seek to for keyframe ``keys[slot]``: its presentation time.

        Not its decode time: with B-frames the MP4/MOV demuxer lands one whole keyframe interval
        early from there. Measured (PyAV 18, x264 veryfast, a keyframe every 250 frames): from
        the decode time every seek decoded 251 frames to reach the keyframe, from the presentation
        time 1 (tests/test_decode.py::test_a_seek_lands_on_the_keyframe_with_b_frames). AVI lands
        on the keyframe either way; ASF (WMV) lands one interval early either way. Landing early
        costs time, never exactness (frames are known by their time); landing late is caught
        after the seek.
        """
        return int(self.pts[self.keys[slot]])


def _read_table(
    container: Any, stream: Any, declared: int, rate: Fraction, deadline: float, path: Path
) -> FrameTable:
    """Demux every video packet (no decoding): times, keyframes, and how many frames are really
    there."""
    import av

    times: list[int] = []
    keyflags: list[bool] = []
    try:
        for packet in container.demux(stream):
            if not packet.size:
                continue  # the flush packet at the end
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:  # no time at all: a frame after the previous one
                ts = times[-1] + 1 if times else 0
            times.append(int(ts))
            keyflags.append(bool(packet.is_keyframe))
            if len(times) % 1024 == 0 and time.monotonic() > deadline:
                raise _fail(
                    "timeout",
                    "Reading the frame index took too long; the file may be damaged",
                    path,
                )
    except av.error.FFmpegError:
        pass  # damaged past some point: what was read is what there is
    container.seek(0)
    if not times:
        raise _fail(
            "truncated", "The video stream holds no frames; the file is empty or truncated", path
        )
    order = np.argsort(np.asarray(times, dtype=np.int64), kind="stable")
    pts = np.asarray(times, dtype=np.int64)[order]
    flags = np.asarray(keyflags, dtype=bool)[order]
    if not flags.any():
        flags[0] = True  # some muxers mark nothing: then only the start is a safe place to begin
    readable = len(pts)
    if declared > readable:  # the header lists frames whose bytes are not in the file
        # Refused before anything is sized by the declared count: a 37 KB file may declare 2^31.
        _check_missing(readable, declared, path)
        time_base = Fraction(stream.time_base or Fraction(1, 90000))
        pts, flags = _fill_missing(pts, flags, declared, rate, time_base)
    keys = np.flatnonzero(flags).astype(np.int64)
    return FrameTable(
        pts=pts,
        time_base=Fraction(stream.time_base or Fraction(1, 90000)),
        keys=keys,
        readable=readable,
    )


def _fill_missing(
    pts: npt.NDArray[np.int64],
    flags: npt.NDArray[np.bool_],
    declared: int,
    rate: Fraction,
    time_base: Fraction,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Times for the frames a cut-short file lists but lacks: the constant-rate grid when the frames
    present sit on it (frames reorder, so the holes are not only at the end), else after the
    last."""
    step = float(1 / (rate * time_base)) if rate else 1.0
    position = (pts - pts[0]) / step
    if (
        np.all(np.abs(position - np.round(position)) * step <= 1)
        and np.round(position).max() < declared
    ):
        grid = pts[0] + np.round(np.arange(declared) * step).astype(np.int64)
        present = np.round(position).astype(np.int64)
        all_flags = np.zeros(declared, dtype=bool)
        all_flags[present] = flags
        return grid, all_flags
    extra = pts[-1] + np.round(step * np.arange(1, declared - len(pts) + 1)).astype(np.int64)
    return np.concatenate([pts, extra]), np.concatenate([flags, np.zeros(len(extra), bool)])


# ---- Probing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What a file holds, read once with PyAV. Sizes are as stored; see :attr:`width`."""

    path: Path
    format: str
    duration: float
    stored_width: int
    stored_height: int
    rotation: int  # counter-clockwise degrees to turn stored frames for display: 0/90/180/270
    native_fps: float
    frame_count: int
    has_audio: bool
    codec: str
    constant_rate: bool
    keyframe_interval: int
    rate: Fraction = Fraction(0)  # the exact average frame rate, for arithmetic without drift
    table: FrameTable | None = field(default=None, repr=False)  # None only for hand-made probes

    @property
    def width(self) -> int:
        """Displayed width (rotation applied)."""
        return self.stored_height if self.rotation in (90, 270) else self.stored_width

    @property
    def height(self) -> int:
        """Displayed height (rotation applied)."""
        return self.stored_width if self.rotation in (90, 270) else self.stored_height

    @property
    def mime_type(self) -> str:
        """The MIME type a data URI of this file carries."""
        return MIME_TYPES[self.format]

    @property
    def readable_frames(self) -> int:
        """Frames whose bytes are in the file (fewer than ``frame_count`` when it was cut short)."""
        return (
            min(self.frame_count, self.table.readable)
            if self.table is not None
            else self.frame_count
        )

    def frame_table(self) -> FrameTable:
        """The table of frame times, extended at the average rate if ``frame_count`` promises
        more."""
        table = self.table
        if table is None:
            raise LimitError(
                "This Probe was built by hand without a frame table; "
                "make it with decode.probe(path)."
            )
        if len(table) >= self.frame_count:
            return table
        extra = self.frame_count - len(table)
        if extra > MAX_EXTRAPOLATED_FRAMES:  # checked before anything is sized by the count
            raise _fail(
                "truncated",
                (
                    f"This Probe lists {self.frame_count:,} frames, {extra:,} more than its frame "
                    f"table holds (at most {MAX_EXTRAPOLATED_FRAMES:,} are extrapolated); probe "
                    "the file again with decode.probe(path)"
                ),
                self.path,
            )
        step = float(np.median(np.diff(table.pts))) if len(table) > 1 else 1.0
        extra = table.pts[-1] + np.round(
            step * np.arange(1, self.frame_count - len(table) + 1)
        ).astype(np.int64)
        return FrameTable(
            pts=np.concatenate([table.pts, extra]),
            time_base=table.time_base,
            keys=table.keys,
            readable=table.readable,
        )


def _fail(reason: str, message: str, path: Path | str) -> VideoError:
    return VideoError(f"{message} ({path})", reason=reason, source=str(path))


def _looks_like_container(path: Path) -> bool:
    """True when the first bytes are an MP4/MOV, AVI or ASF header: a damaged video, not text."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    asf = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
    return (
        head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide"}
        or head[:4] == b"RIFF"
        or head == asf
    )


def _open_container(path: Path, timeout: float):  # type: ignore[no-untyped-def]
    import av

    try:
        return open_input(path, timeout=timeout)
    except av.error.FileNotFoundError:
        raise _fail("not_found", "No such video file; check the path", path) from None
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        if _looks_like_container(path):
            raise _fail(
                "truncated",
                (
                    f"The file starts like a video but cannot be read ({exc}); "
                    "it is probably truncated or damaged. Re-export or re-download it"
                ),
                path,
            ) from None
        raise _fail(
            "not_a_video",
            "The file is not a video PyAV can read; check that it is an MP4, MOV, AVI or WMV file",
            path,
        ) from None


def _container_format(container: Any, path: Path) -> str:
    demuxer = container.format.name
    if demuxer.startswith("mov,mp4"):
        brand = str(container.metadata.get("major_brand", "")).strip()
        return "mov" if brand == "qt" or path.suffix.lower() == ".mov" else "mp4"
    if demuxer == "avi":
        return "avi"
    if demuxer == "asf":
        return "wmv"
    raise _fail(
        "unsupported_format",
        (
            f"Container {demuxer!r} is not one MiMo accepts; "
            f"it takes {', '.join(f.upper() for f in SUPPORTED_FORMATS)}. "
            "Convert it first, e.g. `ffmpeg -i in.mkv out.mp4`"
        ),
        path,
    )


def _first_frame_rotation(container: Any, stream: Any, path: Path) -> int:
    """Decode the first frame: proves the stream decodes, and carries the display matrix."""
    import av

    try:
        for frame in container.decode(stream):
            return int(round(frame.rotation / 90.0)) * 90 % 360
    except av.error.FFmpegError as exc:
        raise _fail(
            "truncated",
            f"The video stream does not decode ({exc}); the file is damaged or truncated",
            path,
        ) from None
    raise _fail(
        "truncated",
        "The video stream holds no decodable frame; the file is empty or truncated",
        path,
    )


def _keyframe_interval(table: FrameTable) -> int:
    return max(1, round(table.readable / len(table.keys)))


def _check_missing(readable: int, declared: int, path: Path) -> None:
    """Refuse a file listing over twice the frames it holds: truncated, or a header that lies.

    This also bounds every array sized by the declared count to twice the packets demuxed.
    """
    missing = declared - readable
    if missing > MOST_MISSING * declared:
        raise _fail(
            "truncated",
            (
                f"Only {readable:,} of the {declared:,} frames the file lists are in it "
                f"({missing:,} missing); it was cut short or damaged. Re-export or re-download it"
            ),
            path,
        )


def probe(path: str | os.PathLike[str], *, timeout: float = 30.0) -> Probe:
    """Read duration, size, rotation, frame rate, frame times, audio and format of a file.

    Raises :class:`VideoError` with ``reason`` not_found, empty, not_a_video, truncated (also
    when more than half of the frames the file lists are missing), unsupported_format,
    no_video_stream, unsupported_codec or timeout.

    >>> probe("clip.mp4").native_fps
    30.0
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise _fail("not_found", "No such video file; check the path", path)
    if path.stat().st_size == 0:
        raise _fail("empty", "The video file is empty (0 bytes)", path)
    deadline = time.monotonic() + timeout
    container = _open_container(path, timeout)
    try:
        fmt = _container_format(container, path)
        if not container.streams.video:
            raise _fail(
                "no_video_stream",
                "The file has no video stream (audio only?); MiMo needs pictures",
                path,
            )
        stream = container.streams.video[0]
        if stream.codec_context is None or not stream.codec_context.is_decoder:
            name = (
                stream.codec_context.name
                if stream.codec_context is not None
                else "unknown to FFmpeg"
            )
            raise _fail(
                "unsupported_codec",
                f"No decoder for the video codec ({name}); re-encode the video to H.264",
                path,
            )
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise _fail(
                "not_a_video", "The video stream has no frame rate; it may be a still image", path
            )
        # The MP4/MOV index names every sample's bytes, so frames it lists that are not in the file
        # are missing; AVI and ASF headers are often wrong (an over-reported count is what hangs
        # decord, #373), so there the packets present are the truth.
        header_frames = int(stream.frames or 0)
        table = _read_table(
            container,
            stream,
            header_frames if fmt in ("mp4", "mov") else 0,
            Fraction(rate),
            deadline,
            path,
        )
        frames = len(table)
        constant = table.constant_rate
        if not constant:
            fps_avg = (
                (len(table) - 1) / max(float(table.seconds[-1]), 1e-9)
                if len(table) > 1
                else float(rate)
            )
            rate = Fraction(fps_avg).limit_denominator(1001)
        duration = _duration(container, stream, table, frames, Fraction(rate), constant)
        rotation = _first_frame_rotation(container, stream, path)
        return Probe(
            path=path,
            format=fmt,
            duration=duration,
            stored_width=int(stream.codec_context.width),
            stored_height=int(stream.codec_context.height),
            rotation=rotation,
            native_fps=float(rate),
            frame_count=int(frames),
            has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
            constant_rate=constant,
            keyframe_interval=_keyframe_interval(table),
            rate=Fraction(rate),
            table=table,
        )
    except av.error.FFmpegError as exc:
        raise _fail(
            "truncated", f"The file could not be probed ({exc}); it is damaged or truncated", path
        ) from None
    finally:
        container.close()


def _duration(
    container: Any, stream: Any, table: FrameTable, frames: int, rate: Fraction, constant: bool
) -> float:
    """Frames over rate for constant-rate video (as Qwen-style samplers); else the frames' span
    plus one frame."""
    if constant:
        return float(Fraction(frames) / rate)
    span = float(table.seconds[-1])
    last_gap = float(table.seconds[-1] - table.seconds[-2]) if len(table) > 1 else 0.0
    declared = (
        float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
    )
    return (
        declared if span < declared <= span + 2 * last_gap else span + last_gap
    )  # the muxer's, if plausible


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
            raise _fail(
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
            raise _fail(
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
            raise _fail(
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
        raise _fail(
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
            raise _fail(
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
        raise _fail(
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
