"""Probe a video file with PyAV: its format, size, rotation, rate, audio, and every frame's time.

Probing reads the container with PyAV and demuxes every video packet once, without decoding,
into a :class:`FrameTable`: each readable frame's presentation time, in presentation order, and
where the keyframes are. A file is refused here, with a :class:`~mimo_nb.errors.VideoError` and
its reason, when it is not a video MiMo takes, or lists far more frames than it holds; what
comes after (:mod:`mimo_nb.media.decode`) is exact by construction from the table.

:func:`open_input` is the one place a file is opened with PyAV (here, by decoding and by
encoding), on every PyAV from 12 on.

>>> info = probe("clip.mp4")
>>> info.format, info.frame_count, len(info.frame_table())
('mp4', 60, 60)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core.limits import MIME_TYPES, SUPPORTED_FORMATS
from mimo_nb.errors import LimitError, VideoError

__all__ = ["Probe", "FrameTable", "probe", "open_input"]

# Over this share of frames missing, a file is refused as truncated rather than sampled with
# repeats.
MOST_MISSING = 0.5
# A Probe edited to list more frames than its table (probe() itself never does) has the rest
# extrapolated, up to this many (8 MB of times): a count from elsewhere never sizes an array.
MAX_EXTRAPOLATED_FRAMES = 1 << 20


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
                raise video_error(
                    "timeout",
                    "Reading the frame index took too long; the file may be damaged",
                    path,
                )
    except av.error.FFmpegError:
        pass  # damaged past some point: what was read is what there is
    container.seek(0)
    if not times:
        raise video_error(
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
            raise video_error(
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


def video_error(reason: str, message: str, path: Path | str) -> VideoError:
    """The :class:`VideoError` for ``path``: ``message`` (what was wrong and what to do) naming
    the file, and ``reason`` (not_found, truncated, timeout, ...) for code to tell cases apart."""
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
        raise video_error("not_found", "No such video file; check the path", path) from None
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        if _looks_like_container(path):
            raise video_error(
                "truncated",
                (
                    f"The file starts like a video but cannot be read ({exc}); "
                    "it is probably truncated or damaged. Re-export or re-download it"
                ),
                path,
            ) from None
        raise video_error(
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
    raise video_error(
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
        raise video_error(
            "truncated",
            f"The video stream does not decode ({exc}); the file is damaged or truncated",
            path,
        ) from None
    raise video_error(
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
        raise video_error(
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
        raise video_error("not_found", "No such video file; check the path", path)
    if path.stat().st_size == 0:
        raise video_error("empty", "The video file is empty (0 bytes)", path)
    deadline = time.monotonic() + timeout
    container = _open_container(path, timeout)
    try:
        fmt = _container_format(container, path)
        if not container.streams.video:
            raise video_error(
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
            raise video_error(
                "unsupported_codec",
                f"No decoder for the video codec ({name}); re-encode the video to H.264",
                path,
            )
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise video_error(
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
        raise video_error(
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
