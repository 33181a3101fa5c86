"""Deterministic test clips: moving shapes, a frame counter you can read back, and a tone.

Tests, notebooks and benchmarks never download media; they make it here with PyAV. Every frame
carries its own number twice: as a row of 16 black/white blocks across the top band (machine
readable, survives compression and resizing; read it with :func:`read_frame_counter`) and as
large digits a person can read in a thumbnail.

>>> from mimo_nb.samples import generate_clip, read_frame_counter
>>> path = generate_clip("clip.mp4", duration=2, width=160, height=120)
>>> # read_frame_counter(frames.array[0]) == frames.indices[0]

The pictures are deterministic, and so are the encoded bytes on a given machine: x264's AVX-512
kernels read uninitialised memory, so on AVX-512 CPUs we ask x264 for its AVX2 code (``_x264``).
Bytes may differ between machines (AVX2 and plain C give different, each repeatable, output).

Formats follow the file suffix: ``.mp4`` and ``.mov`` (H.264 + AAC), ``.avi`` (MPEG-4 part 2 +
PCM), ``.wmv`` (WMV2 + WMA2).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._x264 import x264_params
from .errors import LimitError

__all__ = ["generate_clip", "draw_frame", "read_frame_counter", "COUNTER_BITS", "SAMPLE_FORMATS"]

COUNTER_BITS = 16  # frame numbers up to 65535: over 36 minutes at 30 fps
AUDIO_RATE = 48000
TONE_HZ = 440.0

# suffix -> (container format, video codec, audio codec)
SAMPLE_FORMATS: dict[str, tuple[str, str, str]] = {
    ".mp4": ("mp4", "libx264", "aac"),
    ".mov": ("mov", "libx264", "aac"),
    ".avi": ("avi", "mpeg4", "pcm_s16le"),
    ".wmv": ("asf", "wmv2", "wmav2"),
}

_GLYPHS = {  # 3x5 digits, row by row
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111",
}
_GLYPH_MASKS = {d: np.array([int(c) for c in bits], dtype=bool).reshape(5, 3) for d, bits in _GLYPHS.items()}


# ---- Pure drawing: one frame as a numpy array ----------------------------------------------


def _band_height(height: int) -> int:
    return max(2, height // 5)


def _cell_edges(width: int) -> npt.NDArray[np.int64]:
    return np.round(np.linspace(0, width, COUNTER_BITS + 1)).astype(np.int64)


def _draw_digits(img: npt.NDArray[np.uint8], text: str, top: int, left: int, scale: int) -> None:
    for k, digit in enumerate(text):
        glyph = np.kron(_GLYPH_MASKS[digit], np.ones((scale, scale), dtype=bool))
        x = left + k * 4 * scale
        region = img[top : top + glyph.shape[0], x : x + glyph.shape[1]]
        if region.shape[:2] != glyph.shape:
            return  # no room left: the block counter still carries the number
        region[glyph] = 255


@functools.lru_cache(maxsize=4)
def _ground(width: int, height: int) -> npt.NDArray[np.uint8]:
    """The dark blue background, far from both block colours (cached: filling is the slow part)."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[...] = (20, 30, 70)
    img.setflags(write=False)
    return img


def draw_frame(index: int, width: int, height: int, fps: float = 30.0) -> npt.NDArray[np.uint8]:
    """Frame ``index`` of a sample clip, as an upright (height, width, 3) uint8 RGB array.

    >>> draw_frame(7, 160, 120).shape
    (120, 160, 3)
    """
    img = _ground(width, height).copy()
    band = _band_height(height)
    edges = _cell_edges(width)
    for bit in range(COUNTER_BITS):  # most significant bit on the left
        on = (index >> (COUNTER_BITS - 1 - bit)) & 1
        img[:band, edges[bit] : edges[bit + 1]] = 255 if on else 0
    free = height - band
    scale = max(1, free // 14)
    _draw_digits(img, str(index), band + scale, scale, scale)
    # Two shapes moving at different speeds, kept below the band and the digits.
    t = index / fps
    side = max(2, min(width, free) // 5)
    x = int((width - side) * (0.5 + 0.5 * math.sin(2 * math.pi * t / 3.0)))
    y = height - side - max(1, free // 10)
    img[y : y + side, x : x + side] = (220, 40, 40)
    cy = band + free // 2
    cx = int((width - side) * ((t / 4.0) % 1.0)) + side // 2
    r = side // 2
    top, left = max(band, cy - r), max(0, cx - r)  # only the disc's bounding box: big frames stay fast
    yy, xx = np.ogrid[top : min(height, cy + r + 1), left : min(width, cx + r + 1)]
    img[top : top + yy.shape[0], left : left + xx.shape[1]][(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = (40, 200, 60)
    return img


def read_frame_counter(frame: npt.NDArray[np.uint8]) -> int:
    """Read back the frame number drawn by :func:`draw_frame`, at any size the frame was resized to.

    Samples the centre of each block of the top band and thresholds its brightness.
    """
    height, width = frame.shape[:2]
    band = max(1, round(height * _band_height(1000) / 1000))
    edges = np.linspace(0, width, COUNTER_BITS + 1)
    gray = frame[..., :3].astype(np.float32).mean(axis=-1)
    y0, y1 = max(0, band // 4), max(1, band - band // 4)
    value = 0
    for bit in range(COUNTER_BITS):
        span = edges[bit + 1] - edges[bit]
        x0 = int(edges[bit] + span * 0.3)
        x1 = max(x0 + 1, int(edges[bit] + span * 0.7))
        value = (value << 1) | int(gray[y0:y1, x0:x1].mean() > 127)
    return value


def _tone(seconds: float, rate: int = AUDIO_RATE) -> npt.NDArray[np.float32]:
    t = np.arange(int(round(seconds * rate))) / rate
    return (0.3 * np.sin(2 * math.pi * TONE_HZ * t)).astype(np.float32)


# ---- The shell: encode with PyAV ------------------------------------------------------------


def _check_args(suffix: str, duration: float, width: int, height: int, fps: float, rotation: int) -> None:
    if suffix not in SAMPLE_FORMATS:
        raise LimitError(f"generate_clip writes {', '.join(SAMPLE_FORMATS)}; got a {suffix or 'suffix-less'} path.")
    if not (duration > 0 and fps > 0):
        raise LimitError(f"duration and fps must be positive, got duration={duration!r}, fps={fps!r}.")
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise LimitError(f"width and height must be even numbers of at least 2 px (YUV 4:2:0), got {width}x{height}.")
    if rotation % 90:
        raise LimitError(f"rotation must be a multiple of 90 degrees, got {rotation!r}.")


def _add_video_stream(container, codec: str, width: int, height: int, rate: Fraction, gop: int | None, preset: str):  # type: ignore[no-untyped-def]
    options: dict[str, str] = {}
    if codec == "libx264":
        options = {"preset": preset, "crf": "20"}
        if params := x264_params(gop):
            options["x264-params"] = params
    stream = container.add_stream(codec, rate=rate, options=options)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    if codec != "libx264":
        stream.bit_rate = int(max(400_000, width * height * float(rate) * 0.6))
        if gop:
            stream.codec_context.gop_size = gop
    return stream


def _encode_audio(container, stream, seconds: float) -> None:  # type: ignore[no-untyped-def]
    import av

    samples = _tone(seconds, stream.rate)
    fmt = stream.codec_context.format.name
    chunk = stream.codec_context.frame_size or 1024
    for start in range(0, len(samples), chunk):
        piece = samples[start : start + chunk]
        data = (piece * 32767).astype(np.int16) if fmt.startswith("s16") else piece
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout="mono")
        frame.rate, frame.pts, frame.time_base = stream.rate, start, Fraction(1, stream.rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


@functools.lru_cache(maxsize=2)
def _noise_pool(width: int, height: int, amplitude: int) -> npt.NDArray[np.int16]:
    """Sixteen fixed fields of pixel noise (seeded): costly to encode and decode, like camera footage."""
    rng = np.random.default_rng(20240611)
    pool = rng.integers(-amplitude, amplitude + 1, size=(16, height, width, 1), dtype=np.int16)
    pool.setflags(write=False)
    return pool


def _add_noise(img: npt.NDArray[np.uint8], index: int, amplitude: int) -> npt.NDArray[np.uint8]:
    """Noise below the counter band (the band stays clean so the counter reads back exactly)."""
    band = _band_height(img.shape[0])
    below = img[band:].astype(np.int16) + _noise_pool(img.shape[1], img.shape[0] - band, amplitude)[(index * 7) % 16]
    img[band:] = np.clip(below, 0, 255).astype(np.uint8)
    return img


def _vfr_pts(count: int) -> list[int]:
    """Irregular timestamps in quarter-frame units: gaps of 2, 6, 4, 4 (mean 4 = one frame)."""
    gaps = [2, 6, 4, 4]
    pts, now = [], 0
    for i in range(count):
        pts.append(now)
        now += gaps[i % len(gaps)]
    return pts


def _frame_pts(count: int, rate: Fraction, vfr: bool, frame_times: Sequence[float] | None) -> tuple[list[int], Fraction]:
    """Presentation times in ticks, and the tick: one frame, a quarter frame (vfr) or 1/90000 s."""
    if frame_times is not None:
        tick = Fraction(1, 90000)
        return [round(t * 90000) for t in frame_times], tick
    if vfr:
        return _vfr_pts(count), Fraction(1, 4) / rate
    return list(range(count)), 1 / rate


def _mux(container, stream, packets) -> None:  # type: ignore[no-untyped-def]
    for packet in packets:
        packet.stream = stream  # packets of a second encoder join the one video stream
        container.mux(packet)


def _flush(container, stream, encoder) -> None:  # type: ignore[no-untyped-def]
    _mux(container, stream, encoder.encode(None))


def _second_encoder(codec: str, size: tuple[int, int], rate: Fraction, tick: Fraction, preset: str):  # type: ignore[no-untyped-def]
    """An encoder for the frames after a size change: its keyframe carries new parameter sets in-band."""
    import av

    encoder: Any = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = size[0], size[1], "yuv420p"
    encoder.time_base, encoder.framerate = tick, rate
    encoder.options = {"preset": preset, "crf": "20", **({"x264-params": p} if (p := x264_params()) else {})}
    return encoder


def generate_clip(
    path: str | os.PathLike[str],
    duration: float = 3.0,
    width: int = 320,
    height: int = 240,
    fps: float = 30,
    audio: bool = True,
    *,
    video: bool = True,
    rotation: int = 0,
    gop: int | None = None,
    vfr: bool = False,
    frame_times: Sequence[float] | None = None,
    size_change: tuple[float, int, int] | None = None,
    noise: int = 0,
    preset: str = "veryfast",
) -> Path:
    """Write a deterministic clip and return its path; the suffix picks the format.

    Args:
        path: where to write; ``.mp4``, ``.mov``, ``.avi`` or ``.wmv``.
        duration, width, height, fps: length in seconds and the *displayed* frame size (even numbers).
        audio: add a 440 Hz tone track.
        video: False writes an audio-only file (a broken input for tests).
        rotation: counter-clockwise display rotation (degrees, a multiple of 90) stored in the
            container's display matrix, as phones do; the pixels are stored turned the other
            way so the clip *displays* upright with ``width`` x ``height``.
        gop: keyframe interval in frames (None: the encoder's default).
        vfr: irregular frame timestamps (variable frame rate, MP4/MOV only).
        frame_times: explicit presentation times in seconds, one per frame (variable frame
            rate; MP4/MOV only); replaces ``duration`` for the frame count. E.g. 30 fps for a
            second then 1 fps: ``[i / 30 for i in range(30)] + [1.0 + i for i in range(10)]``.
        size_change: ``(at_seconds, width, height)``: frames from that time on are encoded at
            the new size, in the same stream (new in-band parameter sets; MP4/MOV only), as
            when recordings are joined or a phone switches camera.
        noise: amplitude (0-127) of fixed pixel noise added below the counter band; makes the
            clip as costly to encode and decode as camera footage (benchmarks).
        preset: x264 preset (``"ultrafast"`` for long clips; it has no B-frames).

    >>> generate_clip("clip.wmv", duration=1, width=160, height=120).suffix
    '.wmv'
    """
    import av

    path = Path(path)
    suffix = path.suffix.lower()
    _check_args(suffix, duration, width, height, fps, rotation)
    fmt, vcodec, acodec = SAMPLE_FORMATS[suffix]
    rate = Fraction(fps).limit_denominator(1001)
    turns = (rotation // 90) % 4
    stored_w, stored_h = (height, width) if turns % 2 else (width, height)
    count = len(frame_times) if frame_times is not None else max(1, round(duration * float(rate)))
    if (frame_times is not None or size_change is not None or vfr) and fmt not in ("mp4", "mov"):
        raise LimitError("frame_times, size_change and vfr are written to MP4 or MOV files only.")
    if frame_times is not None and (count < 1 or any(b <= a for a, b in zip(frame_times, frame_times[1:])) or frame_times[0] < 0):
        raise LimitError("frame_times must be increasing times in seconds, starting at 0 or later.")
    if size_change is not None and (size_change[1] < 2 or size_change[2] < 2 or size_change[1] % 2 or size_change[2] % 2):
        raise LimitError(f"size_change needs an even width and height of at least 2 px, got {size_change[1:]}.")
    if not 0 <= noise <= 127:
        raise LimitError(f"noise is an amplitude from 0 to 127, got {noise!r}.")
    with av.open(str(path), "w", format=fmt) as container:
        vstream = _add_video_stream(container, vcodec, stored_w, stored_h, rate, gop, preset) if video else None
        if vstream is not None and turns:
            vstream.set_display_rotation(rotation % 360)
        astream: av.audio.stream.AudioStream | None = (
            container.add_stream(acodec, rate=AUDIO_RATE, layout="mono") if (audio or not video) else None  # type: ignore[assignment]
        )
        if astream is not None and acodec != "pcm_s16le":
            astream.bit_rate = 64000  # wmav2 refuses to open without one
        if vstream is not None:
            pts, tick = _frame_pts(count, rate, vfr, frame_times)
            vstream.codec_context.time_base = tick  # else the encoder rounds VFR times to the grid
            switch, encoder = len(pts), vstream  # the stream's own encoder, then maybe a second
            if size_change is not None:
                switch = sum(1 for p in pts if p * tick < Fraction(size_change[0]).limit_denominator(10**6))
            for i, when in enumerate(pts):
                w, h = (width, height) if i < switch or size_change is None else size_change[1:]
                if i == switch and size_change is not None:
                    _flush(container, vstream, encoder)
                    encoder = _second_encoder(vcodec, (h, w) if turns % 2 else (w, h), rate, tick, preset)
                upright = draw_frame(i, w, h, float(rate))
                if noise:
                    upright = _add_noise(upright, i, noise)
                stored = np.ascontiguousarray(np.rot90(upright, k=-turns)) if turns else upright
                frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
                frame.pts, frame.time_base = when, tick
                _mux(container, vstream, encoder.encode(frame))
            _flush(container, vstream, encoder)
        if astream is not None:
            length = (frame_times[-1] + 1 / float(rate)) if frame_times is not None else count / float(rate)
            _encode_audio(container, astream, length)
    return path
