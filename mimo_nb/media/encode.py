"""Write frames (and a sound track) to a video file or an animated GIF: the twin of :mod:`decode`.

Every video mimo_nb makes is written here: the sample clips
(:func:`mimo_nb.media.samples.generate_clip`), the re-encoded clips of
:meth:`Video.fit <mimo_nb.media.video.Video.fit>`, and the clips and GIFs of
:meth:`Frames.save <mimo_nb.media.frames.Frames.save>` /
:meth:`Frames.play <mimo_nb.media.frames.Frames.play>`.
:func:`write_video` sets up the streams for the format the suffix names, encodes the pictures
and the sound through the one encode/mux loop (:func:`_encode_into`), and turns PyAV and file
system errors into :class:`~mimo_nb.errors.VideoError`. :func:`write_gif` writes GIFs with Pillow.

Formats, by suffix: ``.mp4`` and ``.mov`` (H.264 + AAC), ``.avi`` (MPEG-4 part 2 + PCM),
``.wmv`` (WMV2 + WMA2), and ``.gif`` (no sound).

H.264 output is repeatable: the same frames give the same bytes on a given machine, run after
run (:func:`x264_params`). That matters because the response cache keys videos by their bytes.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> black = np.zeros((4, 64, 96, 3), np.uint8)   # four frames, two a second
>>> write_video(f"{folder}/black.mp4", black, rate=Fraction(2)).name
'black.mp4'
>>> write_gif(f"{folder}/black.gif", black, fps=2).name
'black.gif'
"""

from __future__ import annotations

import errno
import functools
import importlib
import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mimo_nb.core.limits import base64_length
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media.probe import open_input

__all__ = [
    "VIDEO_FORMATS",
    "GIF_SUFFIX",
    "AUDIO_RATE",
    "EncodeFormat",
    "Tone",
    "AudioCopy",
    "output_suffix",
    "output_path",
    "path_argument",
    "short_repr",
    "write_video",
    "write_gif",
    "x264_params",
]

AUDIO_RATE = 48000  # Hz, for every sound track we write
GIF_SUFFIX = ".gif"


@dataclass(frozen=True)
class EncodeFormat:
    """A container and the codecs we write into it."""

    container: str  # FFmpeg muxer name
    video_codec: str
    audio_codec: str


VIDEO_FORMATS: dict[str, EncodeFormat] = {
    ".mp4": EncodeFormat("mp4", "libx264", "aac"),
    ".mov": EncodeFormat("mov", "libx264", "aac"),
    ".avi": EncodeFormat("avi", "mpeg4", "pcm_s16le"),
    ".wmv": EncodeFormat("asf", "wmv2", "wmav2"),
}


class Samples(Protocol):
    """Mono samples in [-1, 1]: an array, or anything with a length that gives a slice of them
    as a float32 array (a long clip's sound computed a chunk at a time, never held whole)."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: slice, /) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class Tone:
    """A mono sound track given as samples in [-1, 1] at :data:`AUDIO_RATE`, read a chunk of
    the encoder's frame size at a time."""

    samples: Samples
    bit_rate: int = 64000  # for the compressed codecs; wmav2 refuses to open without one


@dataclass(frozen=True)
class AudioCopy:
    """The first audio track of ``source`` from ``start``, re-encoded and cut ``seconds`` later."""

    source: Path
    seconds: Fraction
    bit_rate: int = 96000
    start: Fraction = Fraction(0)


AudioTrack = Tone | AudioCopy
Array = npt.NDArray[np.uint8]


# ---- Repeatable x264 ------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _cpu_has_avx512() -> bool:
    """Whether x264 would pick its AVX-512 kernels here (it wants AVX-512 F/CD/BW/DQ/VL and
    AVX2)."""
    need = ("AVX2", "AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")
    features: object = None
    for module in (
        "numpy._core._multiarray_umath",
        "numpy.core._multiarray_umath",
    ):  # numpy 2, then 1
        try:  # numpy's runtime dispatch table: the CPU's and the OS's support, on any platform
            features = importlib.import_module(module).__cpu_features__
            break
        except (ImportError, AttributeError):
            continue
    if isinstance(features, dict) and "AVX512F" in features:
        return all(features.get(name) for name in need)
    try:  # Linux without numpy's table
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next(
                (line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), []
            )
    except OSError:
        return False
    return all(name.lower() in flags for name in need)


def x264_params(gop: int | None = None) -> str:
    """x264 settings that make the same frames give the same bytes on this machine (and a fixed
    GOP)."""
    params = []
    if gop:  # a fixed GOP: no extra keyframes at scene cuts
        params.append(f"keyint={gop}:min-keyint={gop}:scenecut=0")
    if _cpu_has_avx512():
        # With its AVX-512 kernels x264 reads uninitialised heap memory in the macroblock-tree
        # (mbtree) lookahead, so the same frames give different bytes depending on what the heap
        # held before (e.g. whether an audio encoder was opened first). Likely culprit: the AVX-512
        # mbtree_propagate_list works on whole 8-macroblock blocks and does not mask the lanes past
        # the end of a lowres row (160 px wide = 10 macroblocks). Its AVX2 code is exact.
        params.append("asm=avx2")
    return ":".join(params)


# ---- Arguments and errors -------------------------------------------------------------------


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def path_argument(path: object, what: str) -> str:
    """A path argument as text, or a :class:`LimitError` saying what was wrong with it."""
    if not isinstance(path, (str, os.PathLike)):
        raise LimitError(
            f"{what} takes a file path (a str or pathlib.Path); "
            f"got {type(path).__name__} {short_repr(path)}."
        )
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else text
    if not text.strip():
        raise LimitError(f"{what} got an empty path; give the file's name, e.g. 'clip.mp4'.")
    if "\x00" in text:
        raise LimitError(
            f"{what} got a path containing a NUL character ({short_repr(text)}); "
            "no file can have one. Check how the path was built."
        )
    return text


def output_path(path: object, allowed: Iterable[str], what: str) -> Path:
    """Where ``what`` may write: a suffix among ``allowed``, not a folder, in a folder that exists
    and we may write.

    Checked before any work is done, so a long encode never ends in a path error.
    """
    text = path_argument(path, what)
    if os.path.isdir(text):
        raise VideoError(
            f"{text!r} is a folder; give a file name inside it.", reason="unwritable", source=text
        )
    output_suffix(text, allowed, what)
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise VideoError(
            f"Cannot write {text!r}: the folder {folder!r} does not exist. Create it first.",
            reason="unwritable",
            source=text,
        )
    if not os.access(folder, os.W_OK):
        raise VideoError(
            f"Cannot write {text!r}: the folder {folder!r} is not writable. Pick another place.",
            reason="unwritable",
            source=text,
        )
    longest = max(len(part) for part in Path(text).parts)
    if longest > 255:  # the limit of every common file system
        raise LimitError(
            f"{what} got a file or folder name of {longest} characters; file systems allow 255. "
            "Use a shorter name."
        )
    return Path(text)


def output_suffix(path: str | os.PathLike[str], allowed: Iterable[str], what: str) -> str:
    """The lower-case suffix of ``path``, or a :class:`LimitError` naming the ones ``what``
    writes."""
    suffix = Path(path).suffix.lower()
    allowed = tuple(allowed)
    if suffix not in allowed:
        raise LimitError(
            f"{what} writes {', '.join(allowed)} files (the suffix picks the format); got "
            f"{'a ' + suffix if suffix else 'a path without a suffix'} ({os.fspath(path)!r}). "
            "Pick one of those suffixes."
        )
    return suffix


def _unwritable(path: Path, exc: BaseException) -> VideoError:
    reason = getattr(exc, "strerror", None) or str(exc)
    hint = "Check that the folder exists and that you may write there."
    if getattr(exc, "errno", None) == errno.ENAMETOOLONG:
        hint = "Use a shorter file name."
    return VideoError(
        f"Cannot write {str(path)!r}: {reason}. {hint}", reason="unwritable", source=str(path)
    )


class _Clock:
    """A deadline shared by every step of one encode (None: no deadline)."""

    def __init__(self, deadline: float | None, path: Path) -> None:
        self.deadline, self.path = deadline, path

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise VideoError(
                f"Encoding {self.path.name} took longer than the timeout; "
                "pass a larger timeout or fewer frames.",
                reason="timeout",
                source=str(self.path),
            )


# ---- The one encode/mux loop ----------------------------------------------------------------


def _encode_into(container: Any, stream: Any, frames: Iterable[Any], clock: _Clock) -> None:
    """Encode every frame into ``stream``, mux each packet, then flush the encoder."""
    for frame in frames:
        for packet in stream.encode(frame):
            container.mux(packet)
        clock.check()
    for packet in stream.encode(None):
        container.mux(packet)


# ---- Streams --------------------------------------------------------------------------------


def _add_video_stream(
    container: Any,
    fmt: EncodeFormat,
    size: tuple[int, int],
    rate: Fraction,
    gop: int | None,
    crf: int,
    preset: str,
) -> Any:
    options: dict[str, str] = {}
    if fmt.video_codec == "libx264":
        options = {"preset": preset, "crf": str(crf)}
        if params := x264_params(gop):
            options["x264-params"] = params
    stream = container.add_stream(fmt.video_codec, rate=rate, options=options)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    if fmt.video_codec != "libx264":  # no CRF: a bit rate that keeps the frame counters sharp
        stream.bit_rate = int(max(400_000, size[0] * size[1] * float(rate) * 0.6))
        if gop:
            stream.codec_context.gop_size = gop
    return stream


def _open_source(path: Path) -> Any:
    """Open a file we read sound from (already probed, so it opens)."""
    return open_input(path)  # decode's: tags that are not UTF-8 open on every PyAV, 19 included


def _add_audio_stream(container: Any, fmt: EncodeFormat, track: AudioTrack) -> Any | None:
    layout = "mono"
    if isinstance(track, AudioCopy):
        with _open_source(track.source) as source:
            if not source.streams.audio:
                return None
            layout = "mono" if source.streams.audio[0].channels == 1 else "stereo"
    stream = container.add_stream(fmt.audio_codec, rate=AUDIO_RATE, layout=layout)
    if not fmt.audio_codec.startswith("pcm_"):
        stream.bit_rate = track.bit_rate
    return stream


# ---- Frames for the loop --------------------------------------------------------------------


def _even(array: Array) -> Array:
    """Pad to even sides by repeating the last row/column: YUV 4:2:0 needs them."""
    height, width = array.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return array
    return np.pad(array, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def _check_frame(array: Any, shape: tuple[int, ...] | None) -> Array:
    if array is None:
        raise LimitError("Nothing to write: there are no frames.")
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise LimitError(
            "Frames to encode must be (height, width, 3) uint8 RGB arrays; "
            f"got {array.dtype} {array.shape}."
        )
    if shape is not None and array.shape != shape:
        raise LimitError(f"Every frame must have the same size; got {array.shape} after {shape}.")
    return array


def _video_frames(
    frames: Iterable[Any], first: Array, pts: Sequence[int] | None, time_base: Fraction, turns: int
) -> Iterator[Any]:
    """PyAV frames, stored turned back by ``turns`` quarter turns, timed by ``pts`` (or 0, 1,
    2...)."""
    import av

    for i, upright in enumerate(itertools.chain([first], frames)):
        upright = _check_frame(upright, first.shape)
        if pts is not None and i >= len(pts):
            raise LimitError(
                f"There are more frames than timestamps (pts has {len(pts)}); give one per frame."
            )
        stored = np.ascontiguousarray(np.rot90(upright, k=-turns)) if turns else upright
        frame = av.VideoFrame.from_ndarray(_even(stored), format="rgb24")
        frame.pts, frame.time_base = (pts[i] if pts is not None else i), time_base
        yield frame


def _tone_frames(stream: Any, tone: Tone) -> Iterator[Any]:
    """The samples cut into the encoder's frame size, in its sample format."""
    import av

    fmt = stream.codec_context.format.name
    chunk = stream.codec_context.frame_size or 1024
    for start in range(0, len(tone.samples), chunk):
        piece = tone.samples[start : start + chunk]
        data = (piece * 32767).astype(np.int16) if fmt.startswith("s16") else piece
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout="mono")
        frame.rate, frame.pts, frame.time_base = stream.rate, start, Fraction(1, stream.rate)
        yield frame


def _copied_frames(stream: Any, copy: AudioCopy, clock: _Clock) -> Iterator[Any]:
    """The source's first audio track, resampled for ``stream``, until ``copy.seconds`` are
    written."""
    import av

    codec = stream.codec_context
    resampler = av.AudioResampler(
        format=codec.format.name,
        layout=stream.layout.name,
        rate=AUDIO_RATE,
        frame_size=codec.frame_size or 1024,
    )
    limit, written = int(copy.seconds * AUDIO_RATE), 0
    with _open_source(copy.source) as source:
        track = source.streams.audio[0]
        if copy.start > 0:  # to the packet before start; _from_start trims the rest
            source.seek(int(copy.start / track.time_base), stream=track, backward=True)
        for frame in itertools.chain(_from_start(source.decode(track), copy.start), [None]):
            if frame is not None:
                frame.pts = None  # the resampler re-times from zero
            for chunk in resampler.resample(frame):  # None flushes what the resampler holds
                if written >= limit:
                    return
                chunk.pts, written = written, written + chunk.samples
                yield chunk
            clock.check()


def _from_start(frames: Iterable[Any], start: Fraction) -> Iterator[Any]:
    """Decoded audio frames from ``start`` seconds on: earlier frames dropped, the one holding
    ``start`` cut there (frames without a time are taken as they come)."""
    import av

    for frame in frames:
        if start <= 0 or frame.pts is None or frame.time_base is None:
            yield frame
            continue
        begins = frame.pts * frame.time_base
        skip = math.floor((start - begins) * frame.sample_rate)
        if skip >= frame.samples:
            continue
        if skip > 0:
            data = frame.to_ndarray()
            planar = frame.format.is_planar
            kept = data[:, skip:] if planar else data[:, skip * len(frame.layout.channels) :]
            cut = av.AudioFrame.from_ndarray(
                kept, format=frame.format.name, layout=frame.layout.name
            )
            cut.sample_rate, cut.pts, cut.time_base = frame.sample_rate, None, frame.time_base
            frame = cut
        start = Fraction(0)
        yield frame


# ---- Writing --------------------------------------------------------------------------------


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[Any] | None,
    *,
    rate: Fraction,
    time_base: Fraction | None = None,
    pts: Sequence[int] | None = None,
    rotation: int = 0,
    gop: int | None = None,
    crf: int = 20,
    preset: str = "veryfast",
    audio: AudioTrack | None = None,
    deadline: float | None = None,
) -> Path:
    """Encode upright RGB frames (and a sound track) into the format ``path``'s suffix names.

    Args:
        path: ``.mp4``, ``.mov``, ``.avi`` or ``.wmv``.
        frames: (height, width, 3) uint8 arrays as displayed, read once (a generator is fine);
            None writes a sound-only file. Odd sides are padded by one pixel (YUV 4:2:0).
        rate: the nominal frame rate.
        time_base, pts: frame times in ``time_base`` ticks (default ``1 / rate`` and 0, 1, 2...);
            irregular ``pts`` make a variable-frame-rate file.
        rotation: counter-clockwise display rotation stored in the container, degrees; the
            pixels are stored turned the other way so the file *displays* as given.
        gop: keyframe interval in frames (None: the encoder's default).
        crf, preset: x264 quality and speed (MP4/MOV).
        audio: a :class:`Tone`, an :class:`AudioCopy`, or None for no sound.
        deadline: a ``time.monotonic()`` value; past it, :class:`VideoError` ``timeout``.

    Raises :class:`LimitError` for bad arguments and :class:`VideoError` (``unwritable``,
    ``encode`` or ``timeout``) when writing fails; a half-written file is removed.
    """
    import av

    path = output_path(path, VIDEO_FORMATS, "The encoder")
    fmt = VIDEO_FORMATS[path.suffix.lower()]
    if not rate > 0:
        raise LimitError(f"The frame rate must be positive, got {rate!r}.")
    iterator = iter(frames) if frames is not None else None
    first = _check_frame(next(iterator, None), None) if iterator is not None else None
    if iterator is None and audio is None:
        raise LimitError("Nothing to write: give frames, a sound track, or both.")
    clock = _Clock(deadline, path)
    try:
        container = av.open(str(path), "w", format=fmt.container)
    except (OSError, av.error.FFmpegError) as exc:
        raise _unwritable(path, exc) from None
    try:
        with container:
            _write_streams(
                container,
                fmt,
                iterator,
                first,
                rate,
                time_base,
                pts,
                rotation,
                gop,
                crf,
                preset,
                audio,
                clock,
            )
    except BaseException as exc:
        path.unlink(missing_ok=True)  # half a file is no use to anyone
        if isinstance(exc, OSError):  # PyAV's file errors too: the muxer opens the file late
            raise _unwritable(path, exc) from None
        if isinstance(exc, av.error.FFmpegError):
            raise VideoError(
                f"Encoding {path.name} failed ({exc}).", reason="encode", source=str(path)
            ) from None
        raise
    return path


def _write_streams(
    container: Any,
    fmt: EncodeFormat,
    frames: Iterator[Any] | None,
    first: Array | None,
    rate: Fraction,
    time_base: Fraction | None,
    pts: Sequence[int] | None,
    rotation: int,
    gop: int | None,
    crf: int,
    preset: str,
    audio: AudioTrack | None,
    clock: _Clock,
) -> None:
    turns = (rotation // 90) % 4
    video = None
    if frames is not None and first is not None:
        height, width = first.shape[:2]
        stored = (height, width) if turns % 2 else (width, height)
        video = _add_video_stream(
            container,
            fmt,
            (stored[0] + stored[0] % 2, stored[1] + stored[1] % 2),
            rate,
            gop,
            crf,
            preset,
        )
        if turns:
            video.set_display_rotation(rotation % 360)
    sound = _add_audio_stream(container, fmt, audio) if audio is not None else None
    if video is not None and frames is not None and first is not None:
        tick = time_base or 1 / rate
        video.codec_context.time_base = (
            tick  # the encoder keeps our times (else it rounds them to its grid)
        )
        pictures = _video_frames(frames, first, pts, tick, turns)
    chunks = None
    if sound is not None and audio is not None:
        chunks = (
            _tone_frames(sound, audio)
            if isinstance(audio, Tone)
            else _copied_frames(sound, audio, clock)
        )
    if video is not None:
        if sound is None or chunks is None:
            _encode_into(container, video, pictures, clock)
            return
        # The sound is encoded in a thread while the pictures are (the encoders release the GIL)
        # and muxed after them, in the order a one-thread write muxes it: the same bytes.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mimo_nb-audio") as pool:
            encoded = pool.submit(_encoded_packets, sound, chunks)
            try:
                _encode_into(container, video, pictures, clock)
            finally:
                wait([encoded])  # the sound's own failure, if any, is raised below
        for packet in encoded.result():
            container.mux(packet)
    elif sound is not None and chunks is not None:
        _encode_into(container, sound, chunks, clock)


def _encoded_packets(stream: Any, frames: Iterable[Any]) -> list[Any]:
    """Every packet of ``frames`` encoded by ``stream``'s encoder, flushed (not muxed)."""
    packets = [packet for frame in frames for packet in stream.encode(frame)]
    return packets + list(stream.encode(None))


def write_h264_size_change(
    path: Path, frames: Iterable[Array], *, rate: Fraction, preset: str = "veryfast"
) -> Path:
    """An H.264 MP4/MOV whose frames may change size mid-stream, as when recordings are joined.

    Each change of size starts a fresh encoder whose keyframe carries the new parameter sets
    in-band, muxed into the one stream the container declared for the first size (a test input:
    decoders must cope with it, and mimo_nb's must give one consistent array).
    """
    import av

    with av.open(
        str(path), "w", format="mov" if path.suffix.lower() == ".mov" else "mp4"
    ) as container:
        stream: Any = None
        encoder: Any = None

        def drain(frame: Any) -> None:
            for packet in encoder.encode(frame):
                packet.stream = stream
                container.mux(packet)

        for i, array in enumerate(frames):
            h, w = array.shape[:2]
            if stream is None:
                stream = encoder = container.add_stream(
                    "libx264", rate=rate, options={"preset": preset, "crf": "20"}
                )
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.codec_context.time_base = 1 / rate
            elif (w, h) != (encoder.width, encoder.height):
                drain(None)
                encoder = av.CodecContext.create("libx264", "w")
                encoder.width, encoder.height, encoder.pix_fmt = w, h, "yuv420p"
                encoder.time_base, encoder.framerate = 1 / rate, rate
                encoder.options = {"preset": preset, "crf": "20"}
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            drain(frame)
        if encoder is not None:
            drain(None)
    return path


def gif_durations(count: int, fps: float) -> list[int]:
    """Per-frame delays in ms, whole centiseconds (GIF's unit), summing to the clip's length.

    Each frame ends at its own rounded time, so rounding never accumulates:

    >>> gif_durations(3, 3)
    [330, 340, 330]
    """
    ends = [round((i + 1) * 100 / fps) for i in range(count)]
    return [10 * (end - start) for start, end in itertools.pairwise([0, *ends])]


def write_gif(
    path: str | os.PathLike[str], frames: Sequence[Any] | npt.NDArray[np.uint8], fps: float
) -> Path:
    """Write an endlessly looping animated GIF, one frame every ``1 / fps`` seconds.

    Pillow does this better than FFmpeg's GIF encoder, which would need a palette filter graph:
    Pillow picks a 256-colour palette for each frame. GIFs are big and slow for large frames
    (about 0.1 s per 1920x1088 frame here); MP4 is the better clip, GIF the one that plays anywhere.
    """
    from PIL import Image

    path = output_path(path, [GIF_SUFFIX], "write_gif")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and 0 < fps <= 50):
        raise LimitError(
            "A GIF plays at most 50 frames a second (browsers slow faster ones down); "
            f"got fps={fps!r}."
        )
    # fast octree: about twice as fast as Pillow's default median cut, with the same frame counters
    images = [
        Image.fromarray(_check_frame(frame, None)).quantize(256, method=Image.Quantize.FASTOCTREE)
        for frame in frames
    ]
    if not images:
        raise LimitError("Nothing to write: there are no frames.")
    try:
        images[0].save(
            path,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=gif_durations(len(images), fps),
            loop=0,
        )
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise _unwritable(path, exc) from None
    return path


# ---- Down a quality ladder until a size fits --------------------------------------------------

# (x264 CRF, AAC bit rate): tried in order until the base64 text fits
QUALITY_LADDER = ((20, 96_000), (26, 64_000), (32, 48_000), (38, 32_000), (46, 24_000))


def write_video_within(
    path: Path,
    frames: Iterable[Any] | Callable[[], Iterable[Any]],
    *,
    rate: Fraction,
    max_base64_bytes: int,
    audio_source: Path | None = None,
    seconds: Fraction = Fraction(0),
    start: Fraction = Fraction(0),
    deadline: float | None = None,
) -> str | None:
    """Write ``frames`` as an H.264 MP4 (with ``audio_source``'s sound from ``start`` for
    ``seconds``, re-encoded), down :data:`QUALITY_LADDER` until its base64 text is at most
    ``max_base64_bytes``. Returns the quality used, in words, or None when even the lowest is too
    big (the file is left at the lowest quality; the caller says what to do).

    ``Video.fit`` and the long-video segments both encode this way: byte-repeatable (a written
    clip keys the cache), one tick per frame at ``rate``. ``frames`` may be a function giving
    the frames afresh (e.g. decoding them): each attempt then streams them, none held.
    """
    if callable(frames):
        source = frames
    else:
        pictures = frames if isinstance(frames, np.ndarray) else list(frames)

        def source() -> Iterable[Any]:
            return pictures

    for crf, bit_rate in QUALITY_LADDER:
        sound = (
            AudioCopy(audio_source, seconds, bit_rate, start=start)
            if audio_source is not None
            else None
        )
        write_video(
            path, source(), rate=rate, crf=crf, preset="veryfast", audio=sound, deadline=deadline
        )
        if base64_length(path.stat().st_size) <= max_base64_bytes:
            return f"CRF {crf}" + (f", AAC {bit_rate // 1000} kb/s" if sound else "")
    return None
