"""Deterministic test clips: moving shapes, a frame counter you can read back, and a tone.

Tests, notebooks and benchmarks never download media; they make it here with PyAV. Every frame
carries its own number twice: as a row of 16 black/white blocks across the top band (machine
readable, survives compression and resizing; read it with :func:`read_frame_counter`) and as
large digits a person can read in a thumbnail.

>>> from mimo_nb.media.samples import generate_clip, read_frame_counter
>>> path = generate_clip("clip.mp4", duration=2, width=160, height=120)
>>> frames = mn.Video.open(path).sample(fps=2)       # resized to the model's 160x128
>>> [read_frame_counter(frame) for frame in frames], frames.indices.tolist()
([0, 20, 39, 59], [0, 20, 39, 59])

The pictures are deterministic, and so are the encoded bytes on a given machine: x264's AVX-512
kernels read uninitialised memory, so on AVX-512 CPUs we ask x264 for its AVX2 code
(:func:`mimo_nb.media.encode.x264_params`). Bytes may differ between machines (AVX2 and plain C give
different, each repeatable, output). Encoding itself lives in :mod:`mimo_nb.media.encode`.

Formats follow the file suffix: ``.mp4`` and ``.mov`` (H.264 + AAC), ``.avi`` (MPEG-4 part 2 +
PCM), ``.wmv`` (WMV2 + WMA2).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.errors import LimitError
from mimo_nb.media.encode import (
    AUDIO_RATE,
    VIDEO_FORMATS,
    Tone,
    output_path,
    write_h264_size_change,
    write_video,
)

__all__ = [
    "generate_clip",
    "draw_frame",
    "read_frame_counter",
    "red_square",
    "read_red_square",
    "RED",
    "frame_count",
    "COUNTER_BITS",
    "SAMPLE_FORMATS",
]

COUNTER_BITS = 16  # frame numbers up to 65535: over 36 minutes at 30 fps
TONE_HZ = 440.0
RED = (220, 40, 40)  # the swinging square: red_square says where, read_red_square reads it

SAMPLE_FORMATS = tuple(VIDEO_FORMATS)  # the suffixes generate_clip writes: MiMo's formats
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)

_GLYPHS = {  # 3x5 digits, row by row
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001001001001",
    "8": "111101111101111",
    "9": "111101111001111",
}
_GLYPH_MASKS = {
    d: np.array([int(c) for c in bits], dtype=bool).reshape(5, 3) for d, bits in _GLYPHS.items()
}


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
    x, y, side = red_square(index, width, height, fps)
    img[y : y + side, x : x + side] = RED
    cy = band + free // 2
    cx = int((width - side) * ((t / 4.0) % 1.0)) + side // 2
    r = side // 2
    top, left = (
        max(band, cy - r),
        max(0, cx - r),
    )  # only the disc's bounding box: big frames stay fast
    yy, xx = np.ogrid[top : min(height, cy + r + 1), left : min(width, cx + r + 1)]
    img[top : top + yy.shape[0], left : left + xx.shape[1]][
        (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    ] = (40, 200, 60)
    return img


def red_square(index: int, width: int, height: int, fps: float = 30.0) -> tuple[int, int, int]:
    """Where :func:`draw_frame` draws the red square in frame ``index``: ``(left, top, side)`` px.

    It swings left and right with a period of 3 s, ``left = int((width - side) * (0.5 + 0.5 *
    sin(2 pi t / 3)))`` at ``t = index / fps``: its centre, ``left + side / 2``, is on the
    frame's middle at t = 0 and crosses it every 1.5 s (moving right first).

    >>> red_square(0, 128, 96, fps=10)
    (56, 74, 15)
    """
    free = height - _band_height(height)
    side = max(2, min(width, free) // 5)
    phase = 0.5 + 0.5 * math.sin(2 * math.pi * (index / fps) / 3.0)
    return int((width - side) * phase), height - side - max(1, free // 10), side


def read_red_square(frame: npt.NDArray[np.uint8]) -> float | None:
    """The red square's centre across a frame drawn by :func:`draw_frame`, as a fraction of the
    frame's width (0.5 is the middle), at any size the frame was resized to; None when no red
    square is found.

    Reads the pixels below the counter band that are clearly red (R > 150, G and B < 110; the
    square is (220, 40, 40), the disc green, the ground dark blue, the digits white) and takes
    their mean column, each pixel counted at its centre.

    >>> read_red_square(draw_frame(0, 128, 96, fps=10))    # centre 63.5 px of 128
    0.49609375
    """
    height, width = frame.shape[:2]
    below = frame[int(np.ceil(height * _band_height(1000) / 1000)) :, :, :3].astype(np.int16)
    red = (below[..., 0] > 150) & (below[..., 1] < 110) & (below[..., 2] < 110)
    if red.sum() < 4:  # a few stray pixels of compression noise are not a square
        return None
    columns = np.nonzero(red)[1]
    return float((columns.mean() + 0.5) / width)


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


class _Sine:
    """A 440 Hz tone's samples at ``rate``, each slice computed when it is read, so a long clip's
    sound takes the memory of one encoder frame, not of its length (a whole array took about
    1 MB a second: 7 GB for a two-hour clip). Sample ``i`` is ``0.3 sin(2 pi 440 i / rate)``
    whichever slice it is read in: the same bytes as one array."""

    def __init__(self, seconds: float, rate: int = AUDIO_RATE) -> None:
        self.count, self.rate = int(round(seconds * rate)), rate

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, key: slice, /) -> npt.NDArray[np.float32]:
        start, stop, step = key.indices(self.count)
        t = np.arange(start, stop, step) / self.rate
        return (0.3 * np.sin(2 * math.pi * TONE_HZ * t)).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _noise_pool(width: int, height: int, amplitude: int) -> npt.NDArray[np.int16]:
    """Sixteen fixed fields of pixel noise (seeded): costly to encode and decode, like camera
    footage."""
    rng = np.random.default_rng(20240611)
    pool = rng.integers(-amplitude, amplitude + 1, size=(16, height, width, 1), dtype=np.int16)
    pool.setflags(write=False)
    return pool


def _add_noise(img: npt.NDArray[np.uint8], index: int, amplitude: int) -> npt.NDArray[np.uint8]:
    """Noise below the counter band (the band stays clean so the counter reads back exactly)."""
    band = _band_height(img.shape[0])
    below = (
        img[band:].astype(np.int16)
        + _noise_pool(img.shape[1], img.shape[0] - band, amplitude)[(index * 7) % 16]
    )
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


# ---- Arguments ------------------------------------------------------------------------------

MAX_SIDE = 8192  # px: beyond this x264 and the decoders here get slow or refuse


def _number(name: str, value: object) -> float:
    """``value`` as a positive finite float, or a LimitError that says what was wrong."""
    return validate.positive(name, value)  # type: ignore[no-any-return]


def frame_count(duration: float, fps: float = 30) -> int:
    """How many frames :func:`generate_clip` draws for ``duration`` seconds at ``fps``.

    >>> frame_count(2.35, fps=10)
    24
    """
    return max(1, round(duration * float(Fraction(fps).limit_denominator(1001))))


def _check_args(
    duration: float, width: int, height: int, fps: float, rotation: int, gop: int | None
) -> int:
    """Validate generate_clip's arguments; return the number of frames to draw."""
    duration, fps = _number("duration", duration), _number("fps", fps)
    width, height = validate.size(width, height)
    if width < 2 or height < 2 or width % 2 or height % 2 or max(width, height) > MAX_SIDE:
        raise LimitError(
            f"width and height must be even numbers from 2 to {MAX_SIDE} px (YUV 4:2:0), "
            f"got {width}x{height}."
        )
    if validate.number("rotation", rotation, integer=True) % 90:
        raise LimitError(f"rotation must be a multiple of 90 degrees, got {rotation!r}.")
    validate.positive_int("gop", gop, allow_none=True, hint="(frames between keyframes)")
    count = frame_count(duration, fps)
    if count > 2**COUNTER_BITS:
        raise LimitError(
            f"duration={duration:g} s at fps={fps:g} is {count} frames; "
            f"the frame counter holds {2**COUNTER_BITS}. "
            "Ask for a shorter clip or a lower fps."
        )
    return count


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
        duration, width, height, fps: length in seconds and the *displayed* frame size (even
            numbers).
        audio: add a 440 Hz tone track.
        video: False writes an audio-only file (a broken input for tests).
        rotation: counter-clockwise display rotation (degrees, a multiple of 90) stored in the
            container's display matrix, as phones do; the pixels are stored turned the other
            way so the clip *displays* upright with ``width`` x ``height``.
        gop: keyframe interval in frames (None: the encoder's default).
        vfr: irregular frame timestamps (variable frame rate, MP4/MOV only).
        frame_times: explicit presentation times in seconds, one per frame (variable frame
            rate); replaces ``duration`` for the frame count. E.g. 30 fps for a second then
            1 fps: ``[i / 30 for i in range(30)] + [1.0 + i for i in range(10)]``.
        size_change: ``(at_seconds, width, height)``: frames from then on are encoded at the
            new size in the same stream (MP4/MOV, no audio, no rotation).
        noise: amplitude (0-127) of fixed pixel noise below the counter band; makes the clip
            as costly to encode and decode as camera footage (benchmarks).
        preset: x264 preset (``"ultrafast"`` for long clips; it has no B-frames).

    Raises :class:`LimitError` for a bad argument and :class:`VideoError` (``unwritable``)
    when ``path`` cannot be written.

    >>> generate_clip("clip.wmv", duration=1, width=160, height=120).suffix
    '.wmv'
    """
    path = output_path(path, SAMPLE_FORMATS, "generate_clip")
    count = _check_args(duration, width, height, fps, rotation, gop)
    if preset not in X264_PRESETS:
        raise LimitError(
            f"preset must be one of x264's presets ({', '.join(X264_PRESETS)}), got {preset!r}."
        )
    rate = Fraction(fps).limit_denominator(1001)
    noise = validate.number(
        "noise", noise, minimum=0, maximum=127, integer=True, hint="(a pixel amplitude)"
    )
    if size_change is not None:
        if (
            path.suffix.lower() not in (".mp4", ".mov")
            or size_change[1] < 2
            or size_change[2] < 2
            or size_change[1] % 2
            or size_change[2] % 2
        ):
            raise LimitError(
                "size_change is (seconds, even width, even height), written to MP4 or MOV files."
            )
        switch = min(count, max(0, round(size_change[0] * float(rate))))
        sizes = [(width, height) if i < switch else size_change[1:] for i in range(count)]
        return write_h264_size_change(
            path,
            (draw_frame(i, w, h, float(rate)) for i, (w, h) in enumerate(sizes)),
            rate=rate,
            preset=preset,
        )
    tick = Fraction(1, 4) / rate if vfr else 1 / rate  # VFR times fall on a quarter-frame grid
    pts = _vfr_pts(count) if vfr else None
    if frame_times is not None:
        if (
            len(frame_times) < 1
            or frame_times[0] < 0
            or any(b <= a for a, b in pairwise(frame_times))
        ):
            raise LimitError(
                "frame_times must be increasing times in seconds, starting at 0 or later."
            )
        count, tick, pts = (
            len(frame_times),
            Fraction(1, 90000),
            [round(t * 90000) for t in frame_times],
        )
    pictures = (
        _add_noise(draw_frame(i, width, height, float(rate)), i, noise)
        if noise
        else draw_frame(i, width, height, float(rate))
        for i in range(count)
    )
    length = (frame_times[-1] + 1 / float(rate)) if frame_times is not None else count / float(rate)
    sound = Tone(_Sine(length)) if (audio or not video) else None
    return write_video(
        path,
        pictures if video else None,
        rate=rate,
        time_base=tick,
        pts=pts,
        rotation=rotation,
        gop=gop,
        preset=preset,
        audio=sound,
    )
