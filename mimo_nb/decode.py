"""Probe a video file and decode chosen frames at a chosen size, over decord or PyAV.

Two backends sit behind one function, :func:`read_frames`: PyAV by default, and decord (the
maintained ``decord2`` fork, imported as ``decord``) only when ``MIMO_NB_BACKEND=decord`` asks for
it (PyAV measured faster everywhere; see the README). :func:`decode_backend` reports the choice. Probing always
uses PyAV, since decord exposes neither the display rotation nor the audio track.

Both backends produce frames *directly at the target size* (decord's ``VideoReader(width=,
height=)``, PyAV's ``frame.reformat(width=, height=)``): nothing is held at native size except
the one frame being converted. Every call is bounded by a deadline. decord is known to hang in
``get_batch`` when a container over-reports its frame count (dmlc/decord #373) and to mishandle
rotated streams when resizing, so indices are clamped to the probed count, decord runs in a
worker thread that we stop waiting for at the deadline, and rotated files, files whose frame
count decord disagrees with, WMV files (wrong frames here) and any decord failure go to PyAV.

This module is the one border where decord and PyAV exceptions become :class:`VideoError`.

>>> info = probe("clip.mp4")
>>> read_frames(info, [0, 10, 20], size=(160, 128)).shape
(3, 128, 160, 3)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._pyav import open_input
from .errors import LimitError, VideoError
from .limits import MIME_TYPES, SUPPORTED_FORMATS

__all__ = ["Probe", "probe", "read_frames", "decode_backend", "SUPPORTED_FORMATS", "MIME_TYPES"]

# decord returned wrong frames for WMV here (asked for frame 17, got 5; tests/test_decode.py),
# as its tracker reports for other containers (#195, #365): WMV always decodes with PyAV.
DECORD_FORMATS = frozenset({"mp4", "mov", "avi"})
DEFAULT_GOP = 250  # x264's default keyframe interval, assumed when the file does not tell
Progress = Callable[[int, int], None]


# ---- Which backend --------------------------------------------------------------------------


def _import_decord() -> Any:
    try:
        import decord
    except Exception as exc:  # no wheel for this platform, or a broken install
        raise LimitError(
            f"decord was asked for, but it cannot be imported ({type(exc).__name__}). Install it with "
            "`pip install 'mimo_nb[decord]'`, or unset MIMO_NB_BACKEND to decode with PyAV."
        ) from None
    return decord


def _decord_module(prefer: str | None = None) -> Any | None:
    """decord when ``prefer`` or ``MIMO_NB_BACKEND`` asks for it; None means PyAV decodes."""
    choice = (prefer or os.environ.get("MIMO_NB_BACKEND", "")).strip().lower()
    if choice not in ("", "auto", "decord", "pyav"):
        raise LimitError(f"MIMO_NB_BACKEND={choice!r} is not a backend; use 'pyav' (the default), 'decord' or unset it.")
    return _import_decord() if choice == "decord" else None


def decode_backend() -> str:
    """The decoder used for frames: ``"pyav"`` unless ``MIMO_NB_BACKEND=decord`` asks for decord.

    PyAV is the default because it measured faster than decord on every case of
    ``benchmarks/bench_sampling.py`` (1080p and 10-minute 720p clips at fps 0.5, 2 and 10), with a
    lower memory peak; decord also returned wrong frames for WMV here. Both decode at the model's
    frame size and return the same frames (tests compare the frame counters drawn into clips).

    >>> decode_backend()
    'pyav'
    """
    return "decord" if _decord_module() is not None else "pyav"


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


def _fail(reason: str, message: str, path: Path | str) -> VideoError:
    return VideoError(f"{message} ({path})", reason=reason, source=str(path))


def _looks_like_container(path: Path) -> bool:
    """True when the first bytes are an MP4/MOV, AVI or ASF header: a damaged video, not text."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    asf = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
    return head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide"} or head[:4] == b"RIFF" or head == asf


def _open_container(path: Path, timeout: float):  # type: ignore[no-untyped-def]
    import av

    try:
        return open_input(str(path), timeout=timeout)
    except av.error.FileNotFoundError:
        raise _fail("not_found", "No such video file; check the path", path) from None
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        if _looks_like_container(path):
            raise _fail("truncated", f"The file starts like a video but cannot be read ({exc}); it is probably truncated or damaged. Re-export or re-download it", path) from None
        raise _fail("not_a_video", "The file is not a video PyAV can read; check that it is an MP4, MOV, AVI or WMV file", path) from None


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
        f"Container {demuxer!r} is not one MiMo accepts; it takes {', '.join(f.upper() for f in SUPPORTED_FORMATS)}. Convert it first, e.g. `ffmpeg -i in.mkv out.mp4`",
        path,
    )


def _count_packets(container: Any, stream: Any, deadline: float, path: Path) -> int:
    """Count the video packets by demuxing (no decoding): exact where headers are not."""
    count = 0
    for packet in container.demux(stream):
        if packet.size:
            count += 1
        if count % 512 == 0 and time.monotonic() > deadline:
            raise _fail("timeout", "Counting frames took too long; the file may be damaged", path)
    container.seek(0)
    return count


def _first_frame_rotation(container: Any, stream: Any, path: Path) -> int:
    """Decode the first frame: proves the stream decodes, and carries the display matrix."""
    import av

    try:
        for frame in container.decode(stream):
            return int(round(frame.rotation / 90.0)) * 90 % 360
    except av.error.FFmpegError as exc:
        raise _fail("truncated", f"The video stream does not decode ({exc}); the file is damaged or truncated", path) from None
    raise _fail("truncated", "The video stream holds no decodable frame; the file is empty or truncated", path)


def _keyframe_interval(stream: Any, frames: int) -> int:
    try:
        keys = sum(1 for entry in stream.index_entries if entry.is_keyframe)
    except Exception:
        keys = 0
    return max(1, round(frames / keys)) if keys else DEFAULT_GOP


def probe(path: str | os.PathLike[str], *, timeout: float = 30.0) -> Probe:
    """Read duration, size, rotation, frame rate, frame count, audio and format of a file.

    Raises :class:`VideoError` with ``reason`` not_found, empty, not_a_video, truncated,
    unsupported_format, no_video_stream, unsupported_codec or timeout.

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
            raise _fail("no_video_stream", "The file has no video stream (audio only?); MiMo needs pictures", path)
        stream = container.streams.video[0]
        if stream.codec_context is None or not stream.codec_context.is_decoder:
            name = stream.codec_context.name if stream.codec_context is not None else "unknown to FFmpeg"
            raise _fail("unsupported_codec", f"No decoder for the video codec ({name}); re-encode the video to H.264", path)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise _fail("not_a_video", "The video stream has no frame rate; it may be a still image", path)
        fps = float(rate)
        base = stream.base_rate or rate
        constant = abs(float(base) - fps) <= 0.01 * fps
        frames = stream.frames if (stream.frames and fmt in ("mp4", "mov")) else _count_packets(container, stream, deadline, path)
        if frames < 1:
            raise _fail("truncated", "The video stream holds no frames; the file is empty or truncated", path)
        if stream.duration and stream.time_base and not constant:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = float(Fraction(frames) / Fraction(rate))  # frames over rate, as Qwen-style samplers
        rotation = _first_frame_rotation(container, stream, path)
        return Probe(
            path=path,
            format=fmt,
            duration=duration,
            stored_width=int(stream.codec_context.width),
            stored_height=int(stream.codec_context.height),
            rotation=rotation,
            native_fps=fps,
            frame_count=int(frames),
            has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
            constant_rate=constant,
            keyframe_interval=_keyframe_interval(stream, frames),
            rate=Fraction(rate),
        )
    except av.error.FFmpegError as exc:
        raise _fail("truncated", f"The file could not be probed ({exc}); it is damaged or truncated", path) from None
    finally:
        container.close()


# ---- Decoding: PyAV -------------------------------------------------------------------------


def _stored_size(info: Probe, size: tuple[int, int] | None) -> tuple[int, int] | None:
    """The target size in stored orientation (a display size turned back for 90/270)."""
    if size is None:
        return None
    width, height = size
    return (height, width) if info.rotation in (90, 270) else (width, height)


def _to_display(array: npt.NDArray[np.uint8], rotation: int) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(np.rot90(array, k=rotation // 90)) if rotation else array


def _convert(frame: Any, stored: tuple[int, int] | None, rotation: int) -> npt.NDArray[np.uint8]:
    if stored is None:
        array = frame.to_ndarray(format="rgb24")
    else:  # one swscale pass straight to the target size: no native-size RGB copy
        array = frame.reformat(width=stored[0], height=stored[1], format="rgb24").to_ndarray()
    return _to_display(array, rotation)


class _Clock:
    """A deadline shared by every step of one decode."""

    def __init__(self, timeout: float, path: Path) -> None:
        self.deadline = time.monotonic() + timeout
        self.path = path

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _fail("timeout", "Decoding took longer than the timeout; pass a larger timeout or a shorter clip", self.path)


def _frame_index(frame: Any, start: int, time_base: Fraction, fps: float, ordinal: int, constant: bool) -> int:
    if constant and frame.pts is not None:  # exact after a seek, where counting is not
        return int(round(float((frame.pts - start) * time_base) * fps))
    return ordinal


class _Sink:
    """The output array, filled in place as frames arrive: peak memory is the output plus one frame."""

    def __init__(self, wanted: npt.NDArray[np.int64], width: int, height: int) -> None:
        self.array = np.empty((len(wanted), height, width, 3), dtype=np.uint8)
        self.slots: dict[int, list[int]] = {}
        for position, index in enumerate(wanted.tolist()):
            self.slots.setdefault(index, []).append(position)

    def put(self, index: int, frame: npt.NDArray[np.uint8]) -> None:
        if frame.shape != self.array.shape[1:]:
            raise RuntimeError(f"decoder gave a {frame.shape} frame, expected {self.array.shape[1:]}")
        for position in self.slots[index]:
            self.array[position] = frame


def _pyav_read(info: Probe, targets: Sequence[int], size: tuple[int, int] | None, clock: _Clock, progress: Progress | None, sink: _Sink) -> None:
    """Decode forward, keeping only ``targets`` (sorted, unique); seek over long gaps."""
    stored = _stored_size(info, size)
    gap = 2 * info.keyframe_interval if info.constant_rate else float("inf")
    with open_input(str(info.path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start, time_base = stream.start_time or 0, stream.time_base or Fraction(1, 90000)
        k, position, last, sought = 0, -1, None, -1
        while k < len(targets):
            if targets[k] - position > gap and targets[k] != sought:  # far ahead: jump to its keyframe
                sought = targets[k]  # once per target: a seek past the real end must not loop
                offset = start + int(targets[k] / info.native_fps / time_base)
                container.seek(offset, stream=stream, backward=True, any_frame=False)
            ordinal = position
            reseek = False
            for frame in container.decode(stream):
                ordinal += 1
                index = _frame_index(frame, start, time_base, info.native_fps, ordinal, info.constant_rate)
                position, last = index, frame
                while k < len(targets) and targets[k] <= index:
                    sink.put(targets[k], _convert(frame, stored, info.rotation))
                    k += 1
                    if progress:
                        progress(k, len(targets))
                clock.check()
                if k < len(targets) and targets[k] - index > gap and targets[k] != sought:
                    reseek = True
                    break
            if not reseek:
                break  # end of stream
        if last is None:
            raise _fail("truncated", "No frame could be decoded; the file is damaged or truncated", info.path)
        for target in targets[k:]:  # the header promised more frames than the stream holds
            sink.put(target, _convert(last, stored, info.rotation))


# ---- Decoding: decord -----------------------------------------------------------------------


def _decord_read(decord: Any, info: Probe, targets: Sequence[int], size: tuple[int, int] | None, clock: _Clock, progress: Progress | None, sink: _Sink) -> None:
    """get_batch in chunks, at the target size, in a worker thread we stop waiting for."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            width, height = size if size is not None else (-1, -1)
            reader = decord.VideoReader(str(info.path), width=width, height=height, num_threads=2)
            if len(reader) != info.frame_count:  # disagreeing metadata: decord may hang (#373)
                result["error"] = f"decord counts {len(reader)} frames, PyAV {info.frame_count}"
                return
            for start in range(0, len(targets), 64):
                chunk = list(targets[start : start + 64])
                batch = reader.get_batch(chunk).asnumpy()
                for index, frame in zip(chunk, batch):
                    sink.put(index, frame)
                if progress:
                    progress(min(start + 64, len(targets)), len(targets))
                if time.monotonic() > clock.deadline:
                    result["error"] = "deadline"
                    return
            result["done"] = True
        except Exception as exc:  # noqa: BLE001 - any decord failure sends us to PyAV
            result["error"] = repr(exc)

    worker = threading.Thread(target=work, name="mimo_nb-decord", daemon=True)
    worker.start()
    worker.join(max(0.0, clock.deadline - time.monotonic()))
    if "done" not in result:
        raise RuntimeError(result.get("error", "decord did not finish before the deadline"))


# ---- The one entry point --------------------------------------------------------------------


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

    >>> read_frames(probe("clip.mp4"), [0, 0, 5], size=(64, 48)).shape
    (3, 48, 64, 3)
    """
    wanted = np.clip(np.asarray(indices, dtype=np.int64), 0, info.frame_count - 1)
    targets = sorted({int(i) for i in wanted})
    width, height = size if size is not None else (info.width, info.height)
    sink = _Sink(wanted, width, height)
    if not targets:
        return sink.array
    clock = _Clock(timeout, info.path)
    decord = _decord_module(prefer)
    if decord is not None and info.rotation == 0 and info.format in DECORD_FORMATS:
        try:
            _decord_read(decord, info, targets, size, clock, progress, sink)
            return sink.array
        except RuntimeError:
            # wrong metadata, a decord error or a hang: PyAV takes over, into a fresh array, since
            # a stuck decord thread we stopped waiting for might still write into the old one
            sink = _Sink(wanted, width, height)
    import av

    try:
        _pyav_read(info, targets, size, clock, progress, sink)
    except av.error.FFmpegError as exc:
        raise _fail("truncated", f"Decoding failed ({exc}); the file is damaged or truncated", info.path) from None
    return sink.array
