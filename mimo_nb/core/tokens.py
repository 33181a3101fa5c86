"""How many tokens a video costs MiMo, step by step, as the vendor's page defines it.

The hosted API turns a video into tokens in five steps. This module follows them in order, one
small function each, so it can be read top to bottom beside the spec:

1. **Frames.** ``ceil(duration * fps)`` frames, at most 2048, rounded up to an even number
   (frames travel in pairs, a *temporal patch*), and at least 2.
2. **Pixel budget per frame.** The whole video may use 131072 tokens' worth of pixels, shared by
   all frames (a pair shares one token grid, hence ``* 2``). Under ``media_resolution="default"``
   a frame is further capped at 300 tokens. The budget is kept within [8192, 8388608] pixels.
3. **Resize.** Each side becomes a multiple of 32 px (one token covers a 32x32 cell), scaled down
   to fit the budget or up to reach the minimum.
4. **Count.** Each pair of frames (a *grid*) costs ``(h/16) * (w/16) / 4`` vision tokens, plus a
   timestamp written as text (5 tokens when fps > 2, else 3) and 2 special tokens; the video adds
   2 more special tokens.
5. **Audio.** Unless the video is silent, about 6.25 tokens per second of sound.

>>> estimate_video_tokens(60, 1920, 1080)            # the spec page's first example
17240
>>> print(explain_video_tokens(60, 1920, 1080, fps=5))     # every intermediate, as a table
frames                      300  ceil(60 s x 5 fps), at most 2,048, rounded up to even, at least 2
grids                       150  frames / 2 (frames are encoded in pairs)
pixel budget / frame    307,200  default caps a frame at 300 tokens x 1,024 px
model frame size      736 x 384  from 1920 x 1080, sides multiples of 32
tokens / grid               276  (h/16) x (w/16) / 4
vision                   41,400  grids x tokens per grid
timestamps                  750  grids x 5 (5 when fps > 2, else 3)
special                     302  grids x 2 + 2
audio                       378  about 6.25 per second, + 2 special
total                    42,830  estimate; the response's usage is the truth

The estimate is the vendor's; the truth is the ``usage`` of the response. Everything here is pure
arithmetic: no I/O, numpy only, and :func:`estimate_video_tokens_array` does the same arithmetic
over arrays, exactly equal element by element.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.errors import LimitError

__all__ = [
    "MediaResolution",
    "MEDIA_RESOLUTIONS",
    "FPS_MIN",
    "FPS_MAX",
    "FPS_DEFAULT",
    "PATCH",
    "MERGE",
    "SPATIAL",
    "PIXELS_PER_TOKEN",
    "TEMPORAL_PATCH",
    "MAX_TOTAL_TOKENS",
    "MIN_FRAME_PIXELS",
    "MAX_FRAME_PIXELS",
    "MAX_FRAMES",
    "DEFAULT_MAX_FRAME_TOKENS",
    "TIMESTAMP_TOKENS",
    "FINE_TIMESTAMP_TOKENS",
    "FINE_TIMESTAMPS_ABOVE_FPS",
    "SPECIAL_TOKENS_PER_GRID",
    "SPECIAL_TOKENS_PER_VIDEO",
    "SamplingPlan",
    "TokenBreakdown",
    "validate_fps",
    "validate_media_resolution",
    "sampled_frame_count",
    "sample_indices_by_time",
    "frame_pixel_budget",
    "model_frame_size",
    "resize_to_multiples",
    "sample_indices",
    "plan_api_sampling",
    "estimate_audio_tokens",
    "timestamp_tokens_per_grid",
    "explain_video_tokens",
    "estimate_video_tokens",
    "explain_video_tokens_array",
    "model_frame_size_array",
    "estimate_video_tokens_array",
]

MediaResolution = Literal["default", "max"]
MEDIA_RESOLUTIONS: tuple[str, ...] = ("default", "max")

# ---- The constants of the spec --------------------------------------------------------------

FPS_MIN, FPS_MAX, FPS_DEFAULT = 0.1, 10.0, 2.0
PATCH = 16  # the vision encoder's patch side, in pixels
MERGE = 2  # 2x2 patches merge into one token
SPATIAL = PATCH * MERGE  # 32: one token covers a 32x32 pixel cell
PIXELS_PER_TOKEN = SPATIAL**2  # 1024
TEMPORAL_PATCH = 2  # frames are encoded in pairs
MAX_TOTAL_TOKENS = 131072  # the vision budget of one video
TOTAL_MAX_PIXELS = MAX_TOTAL_TOKENS * PIXELS_PER_TOKEN
MIN_FRAME_PIXELS, MAX_FRAME_PIXELS = 8192, 8388608
MAX_FRAMES = 2048
DEFAULT_MAX_FRAME_TOKENS = 300  # the per-frame cap under media_resolution="default"
TIMESTAMP_TOKENS = 3  # each grid's time, written as text
FINE_TIMESTAMP_TOKENS = (
    5  # ... when fps is above FINE_TIMESTAMPS_ABOVE_FPS: a finer clock, longer text
)
FINE_TIMESTAMPS_ABOVE_FPS = 2.0
SPECIAL_TOKENS_PER_GRID = 2
SPECIAL_TOKENS_PER_VIDEO = 2

AUDIO_SAMPLE_RATE = 24000  # the audio encoder's sampling rate
AUDIO_HOP = 240  # samples per mel frame: 100 mel frames per second
AUDIO_SPECIAL_TOKENS = 2


# ---- Validation: one place for each knob ----------------------------------------------------


def validate_fps(fps: float) -> float:
    """Return ``fps`` as a float, or raise :class:`LimitError` if outside [0.1, 10]."""
    return validate.number(  # type: ignore[no-any-return]
        "fps",
        fps,
        minimum=FPS_MIN,
        maximum=FPS_MAX,
        hint=f"MiMo accepts [{FPS_MIN}, {FPS_MAX}] frames per second (2 is the API's default).",
    )


def validate_media_resolution(media_resolution: str) -> MediaResolution:
    """Return ``media_resolution``, or raise :class:`LimitError` unless it is default or max."""
    if media_resolution not in MEDIA_RESOLUTIONS:
        raise LimitError(
            f"media_resolution={media_resolution!r} is not one MiMo knows; use 'default' "
            "(balanced) or 'max' (finer detail, more tokens)."
        )
    return media_resolution  # type: ignore[return-value]


def _validate_video_args(
    duration: float, width: int, height: int, fps: float, media_resolution: str
) -> float:
    validate.positive("duration", duration, maximum=validate.MAX_DURATION)
    validate.size(width, height)
    validate_media_resolution(media_resolution)
    return validate_fps(fps)


# ---- Step 1: how many frames ----------------------------------------------------------------


def sampled_frame_count(duration: float, fps: float) -> int:
    """Frames the model samples: ceil(duration * fps), capped at 2048, even, at least 2."""
    frames = min(math.ceil(duration * fps), MAX_FRAMES)
    return max(math.ceil(frames / TEMPORAL_PATCH) * TEMPORAL_PATCH, TEMPORAL_PATCH)


# ---- Step 2: how many pixels each frame may keep --------------------------------------------


def frame_pixel_budget(frames: int, media_resolution: str = "default") -> int:
    """The most pixels one frame may keep, given how many frames share the video's budget."""
    budget = TOTAL_MAX_PIXELS * TEMPORAL_PATCH // frames
    if media_resolution != "max":
        budget = min(budget, DEFAULT_MAX_FRAME_TOKENS * PIXELS_PER_TOKEN)
    return max(MIN_FRAME_PIXELS, min(budget, MAX_FRAME_PIXELS))


# ---- Step 3: the size the model sees each frame at ------------------------------------------


def model_frame_size(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """Resize a ``width`` x ``height`` frame as the model does; returns ``(width, height)``.

    Sides become multiples of 32. A side under 32 px is first scaled up to 32, keeping the
    aspect ratio; a frame over ``max_pixels`` is scaled down (sides floored to multiples of 32),
    one under the minimum is scaled up (sides ceiled). Very thin frames can floor to a zero
    side; the spec's arithmetic then counts zero vision tokens, and so do we (but
    :func:`check_has_pixels` keeps such a setting out of sampling and planning).
    """
    h, w = height, width
    if min(h, w) < SPATIAL:  # too thin: stretch the short side to one cell
        if h < w:
            w, h = int(w * SPATIAL / h), SPATIAL
        else:
            h, w = int(h * SPATIAL / w), SPATIAL
    h_bar, w_bar = resize_to_multiples(h, w, SPATIAL, MIN_FRAME_PIXELS, max_pixels)
    return w_bar, h_bar


def check_has_pixels(width: int, height: int, source_width: int, source_height: int) -> None:
    """Raise :class:`LimitError` when the model frame size ``width`` x ``height`` has a zero side.

    Very thin frames (1 x 10000, 4000 x 2) can floor to a zero side under a small budget; the
    model would see no pixels, so no setting that gives one is sampled, planned or compared.
    """
    if width < 1 or height < 1:
        raise LimitError(
            f"At {source_width}x{source_height} the formula sizes frames to {width}x{height}: "
            "the model would see no pixels. Pad or crop the video to a less extreme aspect "
            "ratio, or try media_resolution='max' at a lower fps (fewer frames leave each one "
            "more pixels); mn.plan_budget(video, ...) lists the settings that work."
        )


def resize_to_multiples(
    height: float, width: float, factor: int, min_pixels: int, max_pixels: int
) -> tuple[int, int]:
    """Sides rounded to multiples of ``factor``, then scaled into ``[min_pixels, max_pixels]``.

    Over the budget, both sides shrink by the same ratio and floor to multiples of ``factor``;
    under the minimum, they grow and ceil. Returns ``(height, width)``.

    >>> resize_to_multiples(1080, 1920, 32, 4096, 307200)
    (384, 736)
    """
    h_bar = round(height / factor) * factor  # Python's round: halves go to the even neighbour
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return int(h_bar), int(w_bar)


# ---- Which frames: the sampling plan --------------------------------------------------------


def sample_indices(total_frames: int, count: int) -> npt.NDArray[np.int64]:
    """Indices of ``count`` frames spread evenly over a clip of ``total_frames`` frames.

    ``linspace(0, total_frames - 1, count)`` rounded half to even, as Qwen-style processors
    pick frames. When ``count`` exceeds ``total_frames`` some indices repeat.
    """
    if total_frames < 1:
        raise LimitError(f"a video needs at least one frame to sample from, got {total_frames}.")
    return np.round(np.linspace(0, total_frames - 1, count)).astype(np.int64)


def sample_indices_by_time(
    pts: npt.ArrayLike, count: int, tolerance: float = 1
) -> npt.NDArray[np.int64]:
    """Indices of ``count`` frames spread evenly over the clip's *time*, given each frame's time.

    The rule: target times ``T_k`` are spread evenly from the first to the last presentation
    time (``linspace(pts[0], pts[-1], count)``); frame ``k`` is the frame whose position,
    interpolated linearly between the times of its neighbours, is nearest:
    ``round(interp(T_k, pts, arange(n)))``, half to even. For a constant-rate file (times evenly
    spaced, to ``tolerance`` units of timestamp rounding) interpolation is the identity, and
    the result is exactly :func:`sample_indices` ``(n, count)``. For a variable-rate file the
    frames follow the clock, not the frame count: a second at 30 fps then a minute at 1 fps
    gives a second's share of the frames to that second.

    ``pts`` must be sorted (presentation order), in any unit.

    >>> sample_indices_by_time([0, 1, 2, 3, 10, 20, 30], 4).tolist()
    [0, 4, 5, 6]
    """
    times = np.asarray(pts, dtype=np.float64).reshape(-1)
    if len(times) < 1:
        raise LimitError("a video needs at least one frame to sample from, got 0.")
    steps = np.diff(times)
    if len(steps) == 0 or steps.max() - steps.min() <= tolerance:
        return sample_indices(len(times), count)
    if np.any(steps < 0):
        raise LimitError("frame times must be sorted in presentation order.")
    targets = np.linspace(times[0], times[-1], count)
    return np.round(np.interp(targets, times, np.arange(len(times), dtype=np.float64))).astype(
        np.int64
    )


@dataclass(frozen=True)
class SamplingPlan:
    """What the model will look at: how many frames, which ones, and at what size.

    ``profile`` names the rules that made the plan (``"mimo-api"``, the vendor's formula, unless
    you asked for a server's; see :mod:`mimo_nb.core.profiles`). ``indices(total_frames)`` maps the
    plan onto a real file's frames; a server's plan already knows them, since servers count
    frames from the file's ``native_frame_count`` and ``native_fps``.
    """

    duration: float
    fps: float
    media_resolution: MediaResolution
    frames: int
    width: int
    height: int
    source_width: int
    source_height: int
    profile: str = "mimo-api"
    native_fps: float | None = None
    native_frame_count: int | None = None
    planned_indices: tuple[int, ...] | None = field(default=None, repr=False)
    timestamp_texts: tuple[str, ...] = field(default=(), repr=False)

    @property
    def timestamps(self) -> npt.NDArray[np.float64]:
        """Times (s) of the sampled frames: ``index / native_fps`` when both are known, else
        nominal."""
        if self.planned_indices is not None and self.native_fps:
            return np.asarray(self.planned_indices, np.float64) / self.native_fps
        return np.linspace(0.0, self.duration, self.frames, endpoint=False, dtype=np.float64)

    def indices(self, total_frames: int | None = None) -> npt.NDArray[np.int64]:
        """The frame indices to decode from a file holding ``total_frames`` frames.

        ``total_frames`` defaults to the ``native_frame_count`` the plan was made with. A
        server's plan is tied to that count (the server derives its frame count from it).
        """
        if total_frames is None or total_frames == self.native_frame_count:
            if self.planned_indices is not None:
                return np.asarray(self.planned_indices, np.int64)
            total_frames = self.native_frame_count
        if total_frames is None:
            raise LimitError(
                "indices() needs the file's frame count: "
                "pass total_frames= (Video.native_frame_count)."
            )
        if self.profile != "mimo-api":
            raise LimitError(
                f"this {self.profile} plan was made for a file of {self.native_frame_count} "
                f"frames, not {total_frames}; "
                "plan again with native_frame_count= (Video.plan does it from the probe)."
            )
        return sample_indices(total_frames, self.frames)


def plan_api_sampling(
    duration: float,
    width: int,
    height: int,
    fps: float = FPS_DEFAULT,
    media_resolution: str = "default",
    *,
    native_fps: float | None = None,
    native_frame_count: int | None = None,
) -> SamplingPlan:
    """Frame count, indices and model frame size by the hosted API's formula, validated once.

    :func:`mimo_nb.core.profiles.plan_sampling` (``mn.plan_sampling``) takes a ``profile`` too.

    >>> plan_api_sampling(60, 1920, 1080, fps=2).frames
    120
    """
    fps = _validate_video_args(duration, width, height, fps, media_resolution)
    frames = sampled_frame_count(duration, fps)
    model_w, model_h = model_frame_size(width, height, frame_pixel_budget(frames, media_resolution))
    planned = None
    if native_frame_count is not None:
        planned = tuple(int(i) for i in sample_indices(int(native_frame_count), frames))
    return SamplingPlan(
        duration=float(duration),
        fps=fps,
        media_resolution=media_resolution,  # type: ignore[arg-type]
        frames=frames,
        width=model_w,
        height=model_h,
        source_width=int(width),
        source_height=int(height),
        native_fps=None if native_fps is None else float(native_fps),
        native_frame_count=None if native_frame_count is None else int(native_frame_count),
        planned_indices=planned,
    )


# ---- Step 5: audio --------------------------------------------------------------------------


def estimate_audio_tokens(duration: float) -> int:
    """Audio tokens for ``duration`` seconds of sound, including the 2 special tokens.

    The audio encoder sees 100 mel frames per second, halves them twice (rounding up), and
    packs 4 into a token: about 6.25 tokens per second.
    """
    validate.positive("duration", duration, maximum=validate.MAX_DURATION)
    mel_frames = int(duration * AUDIO_SAMPLE_RATE) // AUDIO_HOP + 1
    halved = (mel_frames - 1) // 2 + 1
    halved = halved // 2 + int(halved % 2 != 0)
    return math.ceil(halved / 4) + AUDIO_SPECIAL_TOKENS


# ---- Step 4 and the whole count -------------------------------------------------------------


@dataclass(frozen=True)
class TokenBreakdown(Displayed):
    """Every intermediate of the token estimate, for a teacher to show and a test to check.

    ``total`` is what :func:`estimate_video_tokens` returns. ``vision`` is what the API reports
    as ``usage.prompt_tokens_details.video_tokens``; ``audio - 2`` as ``audio_tokens`` (our
    reading of the spec's example; the vendor does not state the mapping).
    """

    duration: float
    source_width: int
    source_height: int
    fps: float
    media_resolution: MediaResolution
    mute: bool
    frames: int
    grids: int
    pixel_budget: int
    width: int
    height: int
    tokens_per_grid: int
    vision: int
    timestamps: int
    special: int
    audio: int
    total: int

    @property
    def tokens_per_frame(self) -> float:
        """Vision tokens per sampled frame (a grid holds two frames)."""
        return self.tokens_per_grid / TEMPORAL_PATCH

    @property
    def video_tokens(self) -> int:
        """The part the API reports as ``video_tokens``: vision tokens alone."""
        return self.vision

    @property
    def audio_tokens(self) -> int:
        """The part the API reports as ``audio_tokens``: audio without its 2 special tokens."""
        return max(self.audio - AUDIO_SPECIAL_TOKENS, 0)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for tables, JSON and DataFrames)."""
        return asdict(self)

    def __str__(self) -> str:
        return breakdown_text(self)


def timestamp_tokens_per_grid(fps: float) -> int:
    """Tokens of the timestamp written before each grid: 5 when fps > 2, else 3.

    >>> timestamp_tokens_per_grid(2), timestamp_tokens_per_grid(2.5)
    (3, 5)
    """
    return FINE_TIMESTAMP_TOKENS if fps > FINE_TIMESTAMPS_ABOVE_FPS else TIMESTAMP_TOKENS


def explain_video_tokens(
    duration: float,
    width: int,
    height: int,
    fps: float = FPS_DEFAULT,
    media_resolution: str = "default",
    mute: bool = False,
) -> TokenBreakdown:
    """The token estimate for one video with every step shown.

    Args:
        duration: length in seconds.
        width, height: frame size in pixels, as displayed (after rotation).
        fps: frames sampled per second, in [0.1, 10].
        media_resolution: ``"default"`` or ``"max"``.
        mute: True when the video has no audio (no audio tokens).

    >>> explain_video_tokens(60, 1920, 1080).total
    17240
    """
    plan = plan_api_sampling(duration, width, height, fps, media_resolution)
    grids = plan.frames // TEMPORAL_PATCH
    tokens_per_grid = (plan.height // PATCH) * (plan.width // PATCH) // (MERGE**2)
    vision = grids * tokens_per_grid
    timestamps = grids * timestamp_tokens_per_grid(plan.fps)
    special = grids * SPECIAL_TOKENS_PER_GRID + SPECIAL_TOKENS_PER_VIDEO
    audio = 0 if mute else estimate_audio_tokens(duration)
    return TokenBreakdown(
        duration=plan.duration,
        source_width=plan.source_width,
        source_height=plan.source_height,
        fps=plan.fps,
        media_resolution=plan.media_resolution,
        mute=bool(mute),
        frames=plan.frames,
        grids=grids,
        pixel_budget=frame_pixel_budget(plan.frames, plan.media_resolution),
        width=plan.width,
        height=plan.height,
        tokens_per_grid=tokens_per_grid,
        vision=vision,
        timestamps=timestamps,
        special=special,
        audio=audio,
        total=vision + timestamps + special + audio,
    )


def estimate_video_tokens(
    duration: float,
    width: int,
    height: int,
    fps: float = FPS_DEFAULT,
    media_resolution: str = "default",
    mute: bool = False,
) -> int:
    """Estimated prompt tokens for one video (vision, timestamps, special and audio).

    >>> estimate_video_tokens(60, 1920, 1080, fps=2)
    17240
    """
    return explain_video_tokens(duration, width, height, fps, media_resolution, mute).total


# ---- The same arithmetic over arrays, for plots and sweeps ----------------------------------


def _check_array_args(
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike,
    media_resolution: npt.ArrayLike,
) -> tuple[np.ndarray, ...]:
    """Validate broadcastable inputs (as the scalar path does, element by element); return
    duration, width, height and fps as arrays and the boolean array "media_resolution is max"."""
    d = validate.array("duration", duration, above=0, maximum=validate.MAX_DURATION)
    w, h = validate.sizes(width, height)
    f = validate.array(
        "fps", fps, minimum=FPS_MIN, maximum=FPS_MAX, hint=f"MiMo accepts [{FPS_MIN}, {FPS_MAX}]."
    )
    resolution = np.asarray(media_resolution)
    is_max = resolution == "max"
    if not np.all(is_max | (resolution == "default")):
        raise LimitError("every media_resolution must be 'default' or 'max'.")
    return d, w, h, f, is_max


# Step 2 depends only on the frame count (2..2048) and media_resolution, so the array version looks
# the budget up in two small tables instead of dividing a million times.
_FRAME_COUNTS = range(MAX_FRAMES + 1)
_BUDGET_DEFAULT = np.array(
    [frame_pixel_budget(max(n, 1), "default") for n in _FRAME_COUNTS], dtype=np.int64
)
_BUDGET_MAX = np.array(
    [frame_pixel_budget(max(n, 1), "max") for n in _FRAME_COUNTS], dtype=np.int64
)


def _sampled_frame_count_array(d: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Step 1 over arrays: ceil of the float product, exactly as :func:`sampled_frame_count`
    does."""
    frames = np.minimum(np.ceil(d * f).astype(np.int64), MAX_FRAMES)
    return np.maximum((frames + 1) & ~1, TEMPORAL_PATCH)  # round up to even, at least 2


def _model_frame_size_array(
    w: np.ndarray, h: np.ndarray, budget: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Step 3 over arrays, as :func:`model_frame_size`; returns ``(width, height)``."""
    shape = h.shape
    thin = np.flatnonzero(np.minimum(h, w) < SPATIAL)  # rare: fix those elements only
    if thin.size:
        h, w = h.flatten(), w.flatten()
        th, tw = h[thin], w[thin]
        wide = th < tw
        h[thin] = np.where(wide, SPATIAL, (th * SPATIAL / tw).astype(np.int64))
        w[thin] = np.where(wide, (tw * SPATIAL / th).astype(np.int64), SPATIAL)
        h, w = h.reshape(shape), w.reshape(shape)
    h_bar = np.round(h / SPATIAL).astype(np.int64) * SPATIAL
    w_bar = np.round(w / SPATIAL).astype(np.int64) * SPATIAL
    area = h_bar * w_bar
    over = area > budget
    under = ~over & (area < MIN_FRAME_PIXELS)
    if over.any():
        beta = np.sqrt(h * w / budget)
        h_bar = np.where(over, np.floor(h / beta / SPATIAL).astype(np.int64) * SPATIAL, h_bar)
        w_bar = np.where(over, np.floor(w / beta / SPATIAL).astype(np.int64) * SPATIAL, w_bar)
    if under.any():
        beta = np.sqrt(MIN_FRAME_PIXELS / (h * w))
        h_bar = np.where(under, np.ceil(h * beta / SPATIAL).astype(np.int64) * SPATIAL, h_bar)
        w_bar = np.where(under, np.ceil(w * beta / SPATIAL).astype(np.int64) * SPATIAL, w_bar)
    return w_bar, h_bar


def model_frame_size_array(
    width: np.ndarray, height: np.ndarray, frames: np.ndarray, is_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2 and 3 over int64 arrays: the model's ``(width, height)`` when ``frames`` (2 to
    2,048) share the budget, ``is_max`` where media_resolution is ``"max"``; each element equals
    ``model_frame_size(w, h, frame_pixel_budget(n, media_resolution))``."""
    budget = np.where(is_max, _BUDGET_MAX[frames], _BUDGET_DEFAULT[frames])
    return _model_frame_size_array(width, height, budget)


def _audio_tokens_array(d: np.ndarray, muted: np.ndarray) -> np.ndarray:
    """Step 5 over arrays, as :func:`estimate_audio_tokens` (0 where muted)."""
    mel_frames = np.floor(d * AUDIO_SAMPLE_RATE).astype(np.int64) // AUDIO_HOP + 1
    halved = ((mel_frames - 1) >> 1) + 1  # halve, rounding up
    halved = (halved + 1) >> 1  # and again
    return np.where(muted, 0, ((halved + 3) >> 2) + AUDIO_SPECIAL_TOKENS)  # ceil(/4) + 2


def explain_video_tokens_array(
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike = FPS_DEFAULT,
    media_resolution: npt.ArrayLike = "default",
    mute: npt.ArrayLike = False,
) -> dict[str, npt.NDArray[np.int64]]:
    """The breakdown's integer fields as broadcast arrays (frames, width, height, vision, ...).

    Arguments broadcast like numpy's, so ``duration[:, None]`` against ``fps[None, :]`` gives a
    duration x fps table. Each element equals :func:`explain_video_tokens` on the same inputs.
    """
    d, w0, h0, f, is_max = _check_array_args(duration, width, height, fps, media_resolution)
    muted = np.asarray(mute, dtype=bool)
    d, w0, h0, f, is_max, muted = np.broadcast_arrays(d, w0, h0, f, is_max, muted)

    frames = _sampled_frame_count_array(d, f)
    budget = np.where(is_max, _BUDGET_MAX[frames], _BUDGET_DEFAULT[frames])
    w_bar, h_bar = _model_frame_size_array(w0, h0, budget)

    # Step 4: count.
    grids = frames >> 1  # // TEMPORAL_PATCH; shifts are exact here (non-negative) and vectorise
    tokens_per_grid = ((h_bar >> 4) * (w_bar >> 4)) >> 2  # (h/PATCH) * (w/PATCH) // MERGE**2
    vision = grids * tokens_per_grid
    timestamps = grids * np.where(
        f > FINE_TIMESTAMPS_ABOVE_FPS, FINE_TIMESTAMP_TOKENS, TIMESTAMP_TOKENS
    )
    special = grids * SPECIAL_TOKENS_PER_GRID + SPECIAL_TOKENS_PER_VIDEO
    audio = _audio_tokens_array(d, muted)

    return {
        "frames": frames,
        "grids": grids,
        "pixel_budget": budget,
        "width": w_bar,
        "height": h_bar,
        "tokens_per_grid": tokens_per_grid,
        "vision": vision,
        "timestamps": timestamps,
        "special": special,
        "audio": audio,
        "total": vision + timestamps + special + audio,
    }


def estimate_video_tokens_array(
    duration: npt.ArrayLike,
    width: npt.ArrayLike,
    height: npt.ArrayLike,
    fps: npt.ArrayLike = FPS_DEFAULT,
    media_resolution: npt.ArrayLike = "default",
    mute: npt.ArrayLike = False,
) -> npt.NDArray[np.int64]:
    """:func:`estimate_video_tokens` over broadcast numpy arrays, exactly equal per element.

    >>> estimate_video_tokens_array([10, 60], 1920, 1080, fps=[[1], [2]])  # 2x2 table
    array([[ 1472,  8810],
           [ 2877, 17240]])
    """
    return explain_video_tokens_array(duration, width, height, fps, media_resolution, mute)["total"]


# ---- The breakdown explained (text; the HTML is display code's) ---------------------------


def _audio_tokens_per_second() -> float:
    """Audio tokens per second of sound, read off the formula itself over an hour."""
    hour = 3600
    return (estimate_audio_tokens(hour) - AUDIO_SPECIAL_TOKENS) / hour


def _budget_reason(b: TokenBreakdown) -> str:
    """Which rule of step 2 set the frame's pixel budget, in words."""
    shared = MAX_TOTAL_TOKENS * PIXELS_PER_TOKEN * TEMPORAL_PATCH // max(b.frames, 1)
    if b.pixel_budget == MIN_FRAME_PIXELS and shared < MIN_FRAME_PIXELS:
        return f"raised to the minimum of {MIN_FRAME_PIXELS:,} px"
    if b.pixel_budget == MAX_FRAME_PIXELS and shared > MAX_FRAME_PIXELS:
        return f"lowered to the maximum of {MAX_FRAME_PIXELS:,} px"
    if (
        b.media_resolution == "default"
        and b.pixel_budget == DEFAULT_MAX_FRAME_TOKENS * PIXELS_PER_TOKEN
    ):
        return (
            f"default caps a frame at {DEFAULT_MAX_FRAME_TOKENS} tokens x {PIXELS_PER_TOKEN:,} px"
        )
    return f"{MAX_TOTAL_TOKENS:,} tokens' worth of pixels shared by {b.frames} frames"


def breakdown_rows(b: TokenBreakdown) -> list[tuple[str, str, str]]:
    """(step, value, explanation) rows of a TokenBreakdown, in the spec's order.

    >>> breakdown_rows(explain_video_tokens(60, 1920, 1080))[0][:2]
    ('frames', '120')
    """
    per_grid = timestamp_tokens_per_grid(b.fps)
    return [
        (
            "frames",
            f"{b.frames}",
            (
                f"ceil({b.duration:g} s x {b.fps:g} fps), at most {MAX_FRAMES:,}, "
                f"rounded up to even, at least {TEMPORAL_PATCH}"
            ),
        ),
        ("grids", f"{b.grids}", f"frames / {TEMPORAL_PATCH} (frames are encoded in pairs)"),
        ("pixel budget / frame", f"{b.pixel_budget:,}", _budget_reason(b)),
        (
            "model frame size",
            f"{b.width} x {b.height}",
            f"from {b.source_width} x {b.source_height}, sides multiples of {SPATIAL}",
        ),
        ("tokens / grid", f"{b.tokens_per_grid}", f"(h/{PATCH}) x (w/{PATCH}) / {MERGE**2}"),
        ("vision", f"{b.vision:,}", "grids x tokens per grid"),
        (
            "timestamps",
            f"{b.timestamps:,}",
            (
                f"grids x {per_grid} ({FINE_TIMESTAMP_TOKENS} when fps > "
                f"{FINE_TIMESTAMPS_ABOVE_FPS:g}, else {TIMESTAMP_TOKENS})"
            ),
        ),
        (
            "special",
            f"{b.special:,}",
            f"grids x {SPECIAL_TOKENS_PER_GRID} + {SPECIAL_TOKENS_PER_VIDEO}",
        ),
        (
            "audio",
            f"{b.audio:,}",
            "muted"
            if b.mute
            else (
                f"about {_audio_tokens_per_second():.2f} per second, "
                f"+ {AUDIO_SPECIAL_TOKENS} special"
            ),
        ),
        ("total", f"{b.total:,}", "estimate; the response's usage is the truth"),
    ]


def breakdown_text(b: TokenBreakdown) -> str:
    """The breakdown as an aligned plain-text table."""
    rows = breakdown_rows(b)
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    return "\n".join(f"{k:<{width}}  {v:>{vwidth}}  {why}" for k, v, why in rows)
