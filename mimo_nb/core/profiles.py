"""Where MiMo runs decides what it sees: the sampling rules of each server, side by side.

The hosted API follows the vendor page's formula (:mod:`mimo_nb.core.tokens`). People who run MiMo
themselves go through open preprocessing code that counts frames, picks them and sizes them
differently, so the same clip at the same ``fps`` gives other frames, another frame size and
other token counts. Each *profile* here is the rules of one such code path, as data (a frozen
dataclass of its constants) plus small pure functions, each cited to the public file it comes
from. Our code is written from reading those files; none of it is copied.

========================  ===================================================================
profile                   rules from
========================  ===================================================================
``"mimo-api"``            the vendor's page (``shared/spec/``): the hosted API, our default
``"mimo-vl"``             XiaomiMiMo/lmms-eval
                          ``lmms_eval/models/model_utils/qwen/vision_process.py``
                          (Xiaomi's evaluation of the open MiMo-VL-7B, Qwen2.5-VL's processor)
``"sglang-mimo-v2"``      sgl-project/sglang ``python/sglang/srt/multimodal/processors/mimo_v2.py``
``"qwen3-vl"``            huggingface/transformers
                          ``src/transformers/models/qwen3_vl/video_processing_qwen3_vl.py``
========================  ===================================================================

>>> plan = PROFILES["mimo-vl"].plan(60, 1920, 1080, fps=2, native_fps=30, native_frame_count=1800)
>>> plan.frames, (plan.width, plan.height), plan.vision
(120, (1008, 560), 43200)

The servers count frames from the file's frame count and frame rate (not from its duration), so
those profiles take ``native_fps`` and ``native_frame_count`` (``Video.plan`` passes the probe's).
They have no ``media_resolution``: their pixel limits are server configuration, so that knob
changes nothing for them. Their timestamps are text whose token count depends on the tokenizer,
and audio is laid out differently; we show the timestamps as text and count neither, rather
than pretend the API's counts apply. A custom server setup is ``dataclasses.replace`` on a
profile, e.g. ``replace(PROFILES["qwen3-vl"], longest_edge=16384 * 32 * 32)``.

Everything here is pure: numpy only, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    TEMPORAL_PATCH,
    SamplingPlan,
    TokenBreakdown,
    _validate_video_args,
    check_has_pixels,
    explain_video_tokens,
    explain_video_tokens_array,
    plan_api_sampling,
    resize_to_multiples,
    sample_indices,
    validate_fps,
    validate_media_resolution,
)
from mimo_nb.errors import LimitError

__all__ = [
    "Profile",
    "ApiProfile",
    "MiMoVLProfile",
    "SGLangMiMoV2Profile",
    "Qwen3VLProfile",
    "ProfilePlan",
    "ServerTokenBreakdown",
    "PROFILES",
    "PROFILE_NAMES",
    "DEFAULT_PROFILE",
    "get_profile",
    "plan_sampling",
    "explain_profile_tokens",
    "resolve_native",
    "qwen_smart_nframes",
    "torch_linspace_round",
    "truncated_unique_linspace",
    "pad_to_pairs",
    "qwen25_smart_resize",
    "sglang_smart_resize",
    "qwen3vl_frame_count",
    "qwen3vl_smart_resize",
    "format_mm_ss",
    "format_qwen3_seconds",
]

Indices = npt.NDArray[np.int64]

MAX_ASPECT_RATIO = 200  # every Qwen-style smart_resize refuses frames more elongated than 200:1


# ---- The rules, one small function each ------------------------------------------------------


def qwen_smart_nframes(
    total_frames: int,
    native_fps: float,
    fps: float,
    *,
    min_frames: int = 4,
    max_frames: int | None = None,
    default_max_frames: int = 768,
) -> int:
    """Frames Qwen's ``smart_nframes`` samples (fps mode); raises :class:`LimitError` below 2.

    ``total / native_fps * fps``, clamped to ``[min_frames, max_frames]`` (bounds rounded to even
    inwards; ``max_frames`` defaults to ``min(768, total)``) and to ``total``, then floored to
    even. Source: XiaomiMiMo/lmms-eval ``lmms_eval/models/model_utils/qwen/vision_process.py``
    and sgl-project/sglang ``python/sglang/srt/multimodal/processors/qwen_vl.py`` (the same
    function, which ``mimo_v2.py`` imports).
    """
    low = math.ceil(min_frames / 2) * 2
    high = (
        math.floor(
            (max_frames if max_frames is not None else min(default_max_frames, total_frames)) / 2
        )
        * 2
    )
    wanted = total_frames / native_fps * fps
    frames = math.floor(min(min(max(wanted, low), high), total_frames) / 2) * 2
    if not 2 <= frames <= total_frames:
        raise LimitError(
            f"a file of {total_frames} frame(s) gives {frames} frames under Qwen's smart_nframes, "
            "which needs between 2 and the file's frame count; the server would reject this "
            "video. Use a longer clip."
        )
    return int(frames)


def torch_linspace_round(start: float, end: float, steps: int) -> Indices:
    """``torch.linspace(start, end, steps).round().long()`` in torch's default float32.

    PyTorch's CPU kernel (pytorch/pytorch ``aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp``)
    computes ``step = (end - start) / (steps - 1)`` in float32 and fills the first half as
    ``start + step * i`` and the second half as ``end - step * (steps - 1 - i)``; ``round``
    sends halves to the even neighbour. Float32 matters: near a half, float32 and float64 can
    round to different frames. (If a build fuses ``end - step * k`` into one FMA, values within
    one float32 ulp of a half could still differ; we follow the unfused arithmetic.)
    """
    if steps < 1:
        return np.zeros(0, np.int64)
    first, last = np.float32(start), np.float32(end)
    if steps == 1:
        return np.array([np.rint(first)], np.int64)
    step = (last - first) / np.float32(steps - 1)
    i = np.arange(steps)
    half = steps // 2
    values = np.empty(steps, np.float32)
    values[:half] = first + step * i[:half].astype(np.float32)
    values[half:] = last - step * (steps - 1 - i[half:]).astype(np.float32)
    return np.rint(values).astype(np.int64)


def truncated_unique_linspace(total_frames: int, count: int) -> Indices:
    """``np.unique(np.linspace(0, total - 1, num=count, dtype=np.int64))``: truncated, not rounded.

    Source: sgl-project/sglang ``python/sglang/srt/multimodal/processors/mimo_v2.py``
    (``_decode_frames_and_timestamps``). We call numpy the same way, so float artefacts match.
    """
    return np.unique(np.linspace(0, total_frames - 1, num=count, dtype=np.int64))


def pad_to_pairs(indices: Indices, temporal_patch: int = TEMPORAL_PATCH) -> Indices:
    """Repeat the last index until the count is a multiple of ``temporal_patch`` (frames go in
    pairs)."""
    short = -len(indices) % temporal_patch
    if short and len(indices):
        indices = np.concatenate([indices, np.repeat(indices[-1:], short)])
    return indices


def _check_aspect(height: int, width: int, profile: str) -> None:
    ratio = max(height, width) / min(height, width)
    if ratio > MAX_ASPECT_RATIO:
        raise LimitError(
            f"{width}x{height} has an aspect ratio of {ratio:.0f}:1; {profile}'s smart_resize "
            f"refuses anything over {MAX_ASPECT_RATIO}:1, so the server would reject this video. "
            "Crop or pad it first."
        )


def qwen25_smart_resize(
    height: int, width: int, factor: int, min_pixels: float, max_pixels: float
) -> tuple[int, int]:
    """Qwen2.5-VL's ``smart_resize``; returns ``(height, width)``, both multiples of ``factor``.

    Sides round to multiples of ``factor`` (at least one), then scale by
    ``beta = sqrt(h*w / max_pixels)`` and floor when over, or by ``sqrt(min_pixels / (h*w))``
    and ceil when under. Source: XiaomiMiMo/lmms-eval
    ``lmms_eval/models/model_utils/qwen/vision_process.py``.
    """
    _check_aspect(height, width, "Qwen2.5-VL")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return int(h_bar), int(w_bar)


def sglang_smart_resize(
    height: int, width: int, factor: int, min_pixels: int, max_pixels: int
) -> tuple[int, int]:
    """SGLang MiMo-V2's ``MiMoProcessor.smart_resize``; returns ``(height, width)``.

    Unlike Qwen2.5-VL's, a side under ``factor`` first scales the frame up (``int(round(...))``)
    and is then exempt from the 200:1 check, and no side is forced to at least ``factor``.
    Source: sgl-project/sglang ``python/sglang/srt/multimodal/processors/mimo_v2.py``.
    """
    if min(height, width) < factor:
        scale = factor / min(height, width)
        height, width = int(round(height * scale)), int(round(width * scale))
    else:
        _check_aspect(height, width, "SGLang MiMo-V2")
    # From here the same rounding as the hosted API's step 3.
    return resize_to_multiples(height, width, factor, min_pixels, max_pixels)


def _check_sides(height: int, width: int, source_h: int, source_w: int, profile: str) -> None:
    if height == 0 or width == 0:  # the resize that follows (torch) refuses an empty output
        raise LimitError(
            f"{profile}'s resize turns {source_w}x{source_h} into {width}x{height}: no pixels, so "
            "the server's resize would fail. Crop or pad the video to a less extreme aspect "
            "ratio."
        )


def qwen3vl_frame_count(
    total_frames: int, native_fps: float, fps: float, min_frames: int = 4, max_frames: int = 768
) -> int:
    """Qwen3-VL's sampled frame count: ``int(total / native_fps * fps)`` within ``[min, max]`` and
    ``total``.

    Not forced even: an odd count is padded later by repeating the last frame. Source:
    huggingface/transformers ``src/transformers/models/qwen3_vl/video_processing_qwen3_vl.py``
    (``sample_frames``).
    """
    return int(min(max(int(total_frames / native_fps * fps), min_frames), max_frames, total_frames))


def qwen3vl_smart_resize(
    num_frames: int,
    height: int,
    width: int,
    *,
    temporal_factor: int,
    factor: int,
    min_pixels: int,
    max_pixels: int,
) -> tuple[int, int]:
    """Qwen3-VL's video ``smart_resize``: the pixel bounds are for the whole clip (frames x h x w).

    ``t_bar = round(frames / 2) * 2`` (Python's round: halves to even) multiplies the area in the
    bound checks, while ``beta`` uses the frame count itself; sides never floor below ``factor``.
    Source: huggingface/transformers
    ``src/transformers/models/qwen3_vl/video_processing_qwen3_vl.py``.
    """
    if num_frames < temporal_factor:
        raise LimitError(
            f"Qwen3-VL samples {num_frames} frame(s) from this file but needs at least "
            f"{temporal_factor}; transformers would raise. Use a clip with more frames."
        )
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    _check_aspect(height, width, "Qwen3-VL")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    t_bar = round(num_frames / temporal_factor) * temporal_factor
    if t_bar * h_bar * w_bar > max_pixels:
        beta = math.sqrt(num_frames * height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif t_bar * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (num_frames * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return int(h_bar), int(w_bar)


def format_mm_ss(seconds: float) -> str:
    """SGLang MiMo-V2's timestamp text: ``MM:SS``, whole seconds truncated (``format_timestamp``).

    The processor computes times in float32 (``torch.float32`` indices / native fps), so pass a
    ``np.float32``. Source: sgl-project/sglang
    ``python/sglang/srt/multimodal/processors/mimo_v2.py``.
    """
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"


def format_qwen3_seconds(seconds: float) -> str:
    """Qwen3-VL's timestamp text, ``<12.5 seconds>``. Source: huggingface/transformers
    ``src/transformers/models/qwen3_vl/processing_qwen3_vl.py``."""
    return f"<{seconds:.1f} seconds>"


# ---- What a profile gives for one clip -------------------------------------------------------


@dataclass(frozen=True)
class ProfilePlan:
    """What one profile's rules give for one clip: frames, their indices and size, and tokens.

    ``frames`` counts what the model encodes (whole pairs, padding included); ``indices`` is the
    file frame behind each of them (``None`` for the API when the file's frame count is unknown).
    ``special`` is the number of special tokens the source writes (``None`` if unknown);
    timestamp text and audio are never counted for a server (``timestamp_texts`` shows the text).
    """

    profile: str
    frames: int
    width: int
    height: int
    grids: int
    tokens_per_grid: int
    vision: int
    special: int | None
    indices: Indices | None = field(default=None, compare=False)
    timestamps: npt.NDArray[np.float64] | None = field(default=None, compare=False)
    timestamp_texts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerTokenBreakdown(Displayed):
    """Tokens a self-hosted server spends on one video, as far as its source fixes them.

    ``counted`` = ``vision + special``. Not counted: the timestamp text (``timestamp_texts``; its
    length depends on the tokenizer) and audio (laid out differently from the API's, see
    ``notes``). Compare ``vision`` with the API's ``TokenBreakdown.vision``.
    """

    profile: str
    source: str
    duration: float
    source_width: int
    source_height: int
    fps: float
    mute: bool
    native_fps: float
    native_frame_count: int
    frames: int
    grids: int
    width: int
    height: int
    tokens_per_grid: int
    vision: int
    special: int
    indices: tuple[int, ...]
    timestamp_texts: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def counted(self) -> int:
        """Vision plus special tokens: what the source fixes without a tokenizer."""
        return self.vision + self.special

    @property
    def tokens_per_frame(self) -> float:
        """Vision tokens per encoded frame (a grid holds two frames)."""
        return self.tokens_per_grid / TEMPORAL_PATCH

    def to_dict(self) -> dict[str, Any]:
        """The fields (and ``counted``) as a plain dict."""
        return {**asdict(self), "counted": self.counted}

    def __str__(self) -> str:
        return server_breakdown_text(self)


# ---- Profiles --------------------------------------------------------------------------------


def _positive_number(name: str, value: Any) -> float:
    return validate.positive(name, value)  # type: ignore[no-any-return]


def resolve_native(
    duration: float, native_fps: float | None, native_frame_count: int | None, profile: str
) -> tuple[float, int]:
    """The file's frame rate and frame count, filling one from the other with the duration.

    A server counts frames from these, not from the duration. Given only one, the other follows
    as for a constant-rate file (``count = round(duration * fps)``); given neither, we cannot
    know what the server does and raise.
    """
    if native_fps is None and native_frame_count is None:
        raise LimitError(
            f"profile {profile!r} counts frames from the file's frame rate and frame count; pass "
            "native_fps= (and native_frame_count=), or use Video.plan / Video.estimate, which "
            "take them from the probe."
        )
    if native_fps is not None:
        native_fps = _positive_number("native_fps", native_fps)
    if native_frame_count is not None:
        native_frame_count = validate.positive_int("native_frame_count", native_frame_count)
    if native_frame_count is None:
        native_frame_count = max(1, round(duration * native_fps))  # type: ignore[operator]
    if native_fps is None:
        native_fps = native_frame_count / duration
    return float(native_fps), int(native_frame_count)


@dataclass(frozen=True)
class Profile(Displayed):
    """One server's rules. Subclasses hold the constants; :meth:`plan` applies them to a clip."""

    name: str
    title: str
    source: str
    summary: str
    has_media_resolution: ClassVar[bool] = False
    needs_native: ClassVar[bool] = True
    notes: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        """True for the profile used where none is named (:data:`DEFAULT_PROFILE`, the hosted
        API's); callers leave it unsaid (no ``profile=`` argument, no label)."""
        return self.name == DEFAULT_PROFILE

    def plan(
        self,
        duration: float,
        width: int,
        height: int,
        fps: float = 2.0,
        media_resolution: str = "default",
        *,
        native_fps: float | None = None,
        native_frame_count: int | None = None,
        mute: bool = False,
    ) -> ProfilePlan:
        """Frames, indices, frame size and tokens for one clip (validated here, once).

        ``mute`` matters only where the source lays a video with sound out differently
        (SGLang MiMo-V2 adds an audio start/end pair per grid); audio tokens are never counted.
        """
        fps = validate_fps(fps)
        validate_media_resolution(media_resolution)
        duration = validate.positive("duration", duration, maximum=validate.MAX_DURATION)
        width, height = validate.size(width, height)
        if self.needs_native:
            nfps, count = resolve_native(duration, native_fps, native_frame_count, self.name)
            return self._plan(
                duration, width, height, fps, media_resolution, nfps, count, bool(mute)
            )
        if native_frame_count is not None or native_fps is not None:
            nfps, count = resolve_native(duration, native_fps, native_frame_count, self.name)
            return self._plan(
                duration, width, height, fps, media_resolution, nfps, count, bool(mute)
            )
        return self._plan(duration, width, height, fps, media_resolution, None, None, bool(mute))

    def _plan(
        self,
        duration: float,
        width: int,
        height: int,
        fps: float,
        media_resolution: str,
        native_fps: float | None,
        native_frame_count: int | None,
        mute: bool,
    ) -> ProfilePlan:
        raise NotImplementedError

    def tokens_array(
        self,
        duration: npt.ArrayLike,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        fps: npt.ArrayLike,
        media_resolution: npt.ArrayLike = "default",
        mute: npt.ArrayLike = False,
        native_fps: npt.ArrayLike | None = None,
        native_frame_count: npt.ArrayLike | None = None,
    ) -> dict[str, npt.NDArray[np.int64]]:
        """``frames``, ``width``, ``height``, ``vision`` and ``tokens`` over broadcast arrays, as
        :meth:`plan` per element.

        ``tokens`` is what a budget is checked against: the API's total, a server's ``counted``.
        Elements a server would reject (fewer than 2 frames, over 200:1, no pixels) get
        ``vision = tokens = -1``.
        """
        raise NotImplementedError


def _arrays(
    duration: npt.ArrayLike, width: npt.ArrayLike, height: npt.ArrayLike, fps: npt.ArrayLike
) -> tuple[np.ndarray, ...]:
    d = validate.array("duration", duration, above=0, maximum=validate.MAX_DURATION)
    w, h = validate.sizes(width, height)
    f = validate.array("fps", fps, minimum=0.1, maximum=10, hint="MiMo accepts [0.1, 10.0].")
    return d, w, h, f


def _native_arrays(
    d: np.ndarray, native_fps: npt.ArrayLike | None, count: npt.ArrayLike | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`resolve_native` over arrays."""
    if native_fps is None and count is None:
        resolve_native(1.0, None, None, name)  # raises with the explanation
    nfps = None if native_fps is None else validate.array("native_fps", native_fps, above=0)
    n = (
        None
        if count is None
        else validate.array("native_frame_count", count, minimum=1, integer=True)
    )
    if n is None:
        n = np.maximum(1, np.round(d * nfps).astype(np.int64))
    if nfps is None:
        nfps = n / d
    return nfps, n


def _round_half_even(x: np.ndarray) -> np.ndarray:
    return np.rint(x).astype(np.int64)  # numpy rounds halves to even, as Python's round does


@dataclass(frozen=True)
class ApiProfile(Profile):
    """The hosted API: the vendor page's formula (:mod:`mimo_nb.core.tokens`), indices by rounded
    linspace."""

    has_media_resolution: ClassVar[bool] = True
    needs_native: ClassVar[bool] = False

    def _plan(
        self,
        duration: float,
        width: int,
        height: int,
        fps: float,
        media_resolution: str,
        native_fps: float | None,
        native_frame_count: int | None,
        mute: bool,
    ) -> ProfilePlan:
        b = explain_video_tokens(duration, width, height, fps, media_resolution, mute)
        check_has_pixels(b.width, b.height, width, height)  # as Video.sample refuses it
        indices = (
            None if native_frame_count is None else sample_indices(native_frame_count, b.frames)
        )
        times = None if indices is None or native_fps is None else indices / native_fps
        return ProfilePlan(
            self.name,
            b.frames,
            b.width,
            b.height,
            b.grids,
            b.tokens_per_grid,
            b.vision,
            b.special,
            indices,
            times,
            (),
            self.notes,
        )

    def tokens_array(
        self,
        duration: npt.ArrayLike,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        fps: npt.ArrayLike,
        media_resolution: npt.ArrayLike = "default",
        mute: npt.ArrayLike = False,
        native_fps: npt.ArrayLike | None = None,
        native_frame_count: npt.ArrayLike | None = None,
    ) -> dict[str, np.ndarray]:
        out = explain_video_tokens_array(duration, width, height, fps, media_resolution, mute)
        bad = (out["width"] < 1) | (out["height"] < 1)  # no pixels: refused, as plan() does
        return {
            "frames": out["frames"],
            "width": out["width"],
            "height": out["height"],
            "vision": np.where(bad, -1, out["vision"]),
            "tokens": np.where(bad, -1, out["total"]),
        }


@dataclass(frozen=True)
class MiMoVLProfile(Profile):
    """Xiaomi's lmms-eval preprocessing for the open MiMo-VL-7B (Qwen2.5-VL's processor).

    Constants from XiaomiMiMo/lmms-eval ``lmms_eval/models/model_utils/qwen/vision_process.py``:
    ``IMAGE_FACTOR`` 28, ``VIDEO_MIN_PIXELS`` 128*28*28, ``VIDEO_MAX_PIXELS`` 768*28*28,
    ``VIDEO_TOTAL_PIXELS`` int(128000*28*28*0.9) (the ``VIDEO_MAX_PIXELS`` environment variable
    overrides it there), ``FPS_MIN_FRAMES`` 4, ``FPS_MAX_FRAMES`` 768.
    """

    factor: int = 28
    min_pixels: int = 128 * 28 * 28
    max_pixels: int = 768 * 28 * 28
    total_pixels: int = int(float(128000 * 28 * 28 * 0.9))
    min_frames: int = 4
    max_frames: int = 768

    def _frame_max_pixels(self, frames: int) -> float:
        # fetch_video: the clip's total budget shared by its frames (x2: a pair shares a grid),
        # at most VIDEO_MAX_PIXELS per frame, never under 1.05 x the minimum
        return max(
            min(self.max_pixels, self.total_pixels / frames * 2), int(self.min_pixels * 1.05)
        )

    def _plan(
        self,
        duration: float,
        width: int,
        height: int,
        fps: float,
        media_resolution: str,
        native_fps: float | None,
        native_frame_count: int | None,
        mute: bool,
    ) -> ProfilePlan:
        assert native_fps is not None and native_frame_count is not None
        frames = qwen_smart_nframes(
            native_frame_count,
            native_fps,
            fps,
            min_frames=self.min_frames,
            max_frames=None,
            default_max_frames=self.max_frames,
        )
        indices = torch_linspace_round(0, native_frame_count - 1, frames)
        h, w = qwen25_smart_resize(
            height, width, self.factor, self.min_pixels, self._frame_max_pixels(frames)
        )
        _check_sides(h, w, height, width, self.name)
        per_grid = (h // self.factor) * (w // self.factor)
        grids = frames // TEMPORAL_PATCH
        # Qwen2.5-VL writes no timestamp text (time enters through MRoPE) and wraps the video in
        # one <|vision_start|> ... <|vision_end|> pair: 2 special tokens.
        return ProfilePlan(
            self.name,
            frames,
            w,
            h,
            grids,
            per_grid,
            grids * per_grid,
            2,
            indices,
            indices / native_fps,
            (),
            self.notes,
        )

    def tokens_array(
        self,
        duration: npt.ArrayLike,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        fps: npt.ArrayLike,
        media_resolution: npt.ArrayLike = "default",
        mute: npt.ArrayLike = False,
        native_fps: npt.ArrayLike | None = None,
        native_frame_count: npt.ArrayLike | None = None,
    ) -> dict[str, np.ndarray]:
        d, w0, h0, f = _arrays(duration, width, height, fps)
        nfps, total = _native_arrays(d, native_fps, native_frame_count, self.name)
        d, w0, h0, f, nfps, total = np.broadcast_arrays(d, w0, h0, f, nfps, total)
        high = np.floor(np.minimum(self.max_frames, total) / 2) * 2
        wanted = total / nfps * f
        frames = (
            np.floor(
                np.minimum(
                    np.minimum(np.maximum(wanted, math.ceil(self.min_frames / 2) * 2), high), total
                )
                / 2
            )
            * 2
        ).astype(np.int64)
        bad = frames < 2
        safe = np.maximum(frames, 2)
        max_px = np.maximum(
            np.minimum(self.max_pixels, self.total_pixels / safe * 2), int(self.min_pixels * 1.05)
        )
        bad |= np.maximum(h0, w0) / np.minimum(h0, w0) > MAX_ASPECT_RATIO
        hb, wb = _qwen_resize_array(
            h0, w0, self.factor, self.min_pixels, max_px, at_least_factor=True
        )
        bad |= (hb == 0) | (wb == 0)
        vision = (safe // 2) * (hb // self.factor) * (wb // self.factor)
        return {
            "frames": frames,
            "width": wb,
            "height": hb,
            "vision": np.where(bad, -1, vision),
            "tokens": np.where(bad, -1, vision + 2),
        }


def _qwen_resize_array(
    h: np.ndarray,
    w: np.ndarray,
    factor: int,
    min_pixels: Any,
    max_pixels: Any,
    *,
    at_least_factor: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The shared body of the Qwen-style resizes over arrays; returns ``(height, width)``."""
    hb = _round_half_even(h / factor) * factor
    wb = _round_half_even(w / factor) * factor
    if at_least_factor:
        hb, wb = np.maximum(factor, hb), np.maximum(factor, wb)
    over = hb * wb > max_pixels
    under = ~over & (hb * wb < min_pixels)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.sqrt(h * w / max_pixels)
        hb = np.where(over, np.floor(h / beta / factor).astype(np.int64) * factor, hb)
        wb = np.where(over, np.floor(w / beta / factor).astype(np.int64) * factor, wb)
        beta = np.sqrt(min_pixels / (h * w))
        hb = np.where(under, np.ceil(h * beta / factor).astype(np.int64) * factor, hb)
        wb = np.where(under, np.ceil(w * beta / factor).astype(np.int64) * factor, wb)
    return hb.astype(np.int64), wb.astype(np.int64)


@dataclass(frozen=True)
class SGLangMiMoV2Profile(Profile):
    """SGLang's MiMo-V2 processor, with the fallbacks SGLang uses where the checkpoint is silent.

    Source: sgl-project/sglang ``python/sglang/srt/multimodal/processors/mimo_v2.py``. The frame
    rules are fixed in the source: ``smart_nframes`` seeded with the processor's fps (2),
    ``min_frames`` (8) and ``max_frames`` (256), truncated unique ``linspace`` indices, odd
    counts padded with the last frame, ``MM:SS`` text per pair of frames. The frame size is not
    fixed there: ``factor = patch_size * spatial_merge_size`` and the pixel limits come from the
    checkpoint's ``vision_config`` and ``processor_config``; these are SGLang's fallbacks (14 * 2,
    min 4*f*f, max 4096*f*f, total 16384*f*f per clip). A MiMo-V2 checkpoint that sets them gives
    other sizes: ``replace(profile, patch_size=..., total_max_pixels=...)``.
    """

    fps_default: float = 2.0
    min_frames: int = 8
    max_frames: int = 256
    patch_size: int = 14
    merge_size: int = 2
    min_pixels: int = 4 * 28 * 28
    max_pixels: int = 4096 * 28 * 28
    total_max_pixels: int = 16384 * 28 * 28

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size

    def _plan(
        self,
        duration: float,
        width: int,
        height: int,
        fps: float,
        media_resolution: str,
        native_fps: float | None,
        native_frame_count: int | None,
        mute: bool,
    ) -> ProfilePlan:
        assert native_fps is not None and native_frame_count is not None
        count = qwen_smart_nframes(
            native_frame_count,
            native_fps,
            fps,
            min_frames=self.min_frames,
            max_frames=self.max_frames,
        )
        unique = truncated_unique_linspace(native_frame_count, count)
        # smart_resize_video: the clip's total budget over the decoded (unique) frames, x2 per pair
        per_frame = self.total_max_pixels * TEMPORAL_PATCH // len(unique)
        h, w = sglang_smart_resize(
            height,
            width,
            self.factor,
            self.min_pixels,
            max(self.min_pixels, min(per_frame, self.max_pixels)),
        )
        _check_sides(h, w, height, width, self.name)
        indices = pad_to_pairs(unique)
        # timestamps are float32 in the source (torch.float32 indices / native fps)
        seconds = indices.astype(np.float32) / np.float32(native_fps)
        grids = len(indices) // TEMPORAL_PATCH
        per_grid = (h // self.patch_size) * (w // self.patch_size) // self.merge_size**2
        texts = tuple(format_mm_ss(s) for s in seconds[::TEMPORAL_PATCH])
        return ProfilePlan(
            self.name,
            len(indices),
            w,
            h,
            grids,
            per_grid,
            grids * per_grid,
            self._special(grids, mute),
            indices,
            seconds.astype(np.float64),
            texts,
            self.notes,
        )

    @staticmethod
    def _special(grids: Any, mute: Any) -> Any:
        # <video_start> + per grid: MM:SS text, <vision_start>, tokens, <vision_end> + <video_end>;
        # with sound each grid also gets <audio_start> audio tokens <audio_end>
        # (video_audio_interleave_length 0: one grid per group, _build_video_audio_input_ids)
        return (
            np.where(mute, 2, 4) * grids + 2
            if isinstance(grids, np.ndarray)
            else (2 if mute else 4) * grids + 2
        )

    def tokens_array(
        self,
        duration: npt.ArrayLike,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        fps: npt.ArrayLike,
        media_resolution: npt.ArrayLike = "default",
        mute: npt.ArrayLike = False,
        native_fps: npt.ArrayLike | None = None,
        native_frame_count: npt.ArrayLike | None = None,
    ) -> dict[str, np.ndarray]:
        d, w0, h0, f = _arrays(duration, width, height, fps)
        nfps, total = _native_arrays(d, native_fps, native_frame_count, self.name)
        d, w0, h0, f, nfps, total, muted = np.broadcast_arrays(
            d, w0, h0, f, nfps, total, np.asarray(mute, bool)
        )
        low, high = math.ceil(self.min_frames / 2) * 2, math.floor(self.max_frames / 2) * 2
        frames = (
            np.floor(np.minimum(np.minimum(np.maximum(total / nfps * f, low), high), total) / 2) * 2
        ).astype(np.int64)
        # With frames <= total the truncated linspace steps by >= 1, so np.unique drops nothing and
        # the (even) count needs no padding: the unique count is `frames` (tested against plan()).
        bad = frames < 2
        safe = np.maximum(frames, 2)
        fct = self.factor
        per_frame = np.maximum(
            self.min_pixels,
            np.minimum(self.total_max_pixels * TEMPORAL_PATCH // safe, self.max_pixels),
        )
        thin = np.minimum(h0, w0) < fct
        bad |= ~thin & (np.maximum(h0, w0) / np.minimum(h0, w0) > MAX_ASPECT_RATIO)
        scale = fct / np.minimum(h0, w0)
        h1 = np.where(thin, _round_half_even(h0 * scale), h0)
        w1 = np.where(thin, _round_half_even(w0 * scale), w0)
        hb, wb = _qwen_resize_array(h1, w1, fct, self.min_pixels, per_frame, at_least_factor=False)
        bad |= (hb == 0) | (wb == 0)
        per_grid = (hb // self.patch_size) * (wb // self.patch_size) // self.merge_size**2
        grids = safe // 2
        vision = grids * per_grid
        return {
            "frames": frames,
            "width": wb,
            "height": hb,
            "vision": np.where(bad, -1, vision),
            "tokens": np.where(bad, -1, vision + self._special(grids, muted)),
        }


@dataclass(frozen=True)
class Qwen3VLProfile(Profile):
    """transformers' Qwen3-VL video processor, with the pixel budget Qwen3-VL checkpoints ship.

    Rules from huggingface/transformers
    ``src/transformers/models/qwen3_vl/video_processing_qwen3_vl.py`` (frame count, rounded
    ``linspace`` indices, ``smart_resize`` over frames x h x w, patch 16, merge 2) and
    ``processing_qwen3_vl.py`` (``<t seconds>`` per pair, the mean of its two frames' times).
    ``size`` is the checkpoints' ``video_preprocessor_config.json``
    (``shortest_edge`` 4096, ``longest_edge`` 25165824 = 24576 tokens' worth per clip); the class
    default (131072 / 786432) applies only to a processor built without a checkpoint. The
    per-frame cap ``cap_pixels_per_frame`` is off (transformers' default at the time of writing).
    """

    patch_size: int = 16
    merge_size: int = 2
    temporal_patch_size: int = 2
    shortest_edge: int = 4096
    longest_edge: int = 25165824
    min_frames: int = 4
    max_frames: int = 768
    cap_pixels_per_frame: bool = False

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size

    def _max_pixels(self, frames: int) -> int:
        if not self.cap_pixels_per_frame:
            return self.longest_edge
        per_frame = max(
            min(768 * self.factor**2, self.longest_edge // frames), int(self.shortest_edge * 1.05)
        )
        return per_frame * frames

    def _plan(
        self,
        duration: float,
        width: int,
        height: int,
        fps: float,
        media_resolution: str,
        native_fps: float | None,
        native_frame_count: int | None,
        mute: bool,
    ) -> ProfilePlan:
        assert native_fps is not None and native_frame_count is not None
        sampled = qwen3vl_frame_count(
            native_frame_count, native_fps, fps, self.min_frames, self.max_frames
        )
        h, w = qwen3vl_smart_resize(
            sampled,
            height,
            width,
            temporal_factor=self.temporal_patch_size,
            factor=self.factor,
            min_pixels=self.shortest_edge,
            max_pixels=self._max_pixels(sampled),
        )
        indices = pad_to_pairs(
            np.round(np.linspace(0, native_frame_count - 1, sampled)).astype(np.int64),
            self.temporal_patch_size,
        )
        seconds = indices / native_fps
        pair_means = (seconds[0::2] + seconds[1::2]) / 2
        grids = len(indices) // self.temporal_patch_size
        per_grid = (h // self.patch_size) * (w // self.patch_size) // self.merge_size**2
        texts = tuple(format_qwen3_seconds(t) for t in pair_means)
        # per grid: "<t seconds>" text, <|vision_start|>, tokens, <|vision_end|>; the processor
        # replaces the chat template's own start/pad/end triple with these.
        return ProfilePlan(
            self.name,
            len(indices),
            w,
            h,
            grids,
            per_grid,
            grids * per_grid,
            2 * grids,
            indices,
            seconds,
            texts,
            self.notes,
        )

    def tokens_array(
        self,
        duration: npt.ArrayLike,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        fps: npt.ArrayLike,
        media_resolution: npt.ArrayLike = "default",
        mute: npt.ArrayLike = False,
        native_fps: npt.ArrayLike | None = None,
        native_frame_count: npt.ArrayLike | None = None,
    ) -> dict[str, np.ndarray]:
        d, w0, h0, f = _arrays(duration, width, height, fps)
        nfps, total = _native_arrays(d, native_fps, native_frame_count, self.name)
        d, w0, h0, f, nfps, total = np.broadcast_arrays(d, w0, h0, f, nfps, total)
        sampled = np.minimum(
            np.minimum(
                np.maximum(np.floor(total / nfps * f).astype(np.int64), self.min_frames),
                self.max_frames,
            ),
            total,
        )
        bad = sampled < self.temporal_patch_size
        n = np.maximum(sampled, self.temporal_patch_size)
        fct = self.factor
        if self.cap_pixels_per_frame:
            max_px = (
                np.maximum(
                    np.minimum(768 * fct**2, self.longest_edge // n), int(self.shortest_edge * 1.05)
                )
                * n
            )
        else:
            max_px = np.full(n.shape, self.longest_edge)
        thin = (h0 < fct) | (w0 < fct)
        scale = np.maximum(fct / h0, fct / w0)
        h1 = np.where(thin, (h0 * scale).astype(np.int64), h0)
        w1 = np.where(thin, (w0 * scale).astype(np.int64), w0)
        bad |= np.maximum(h1, w1) / np.minimum(h1, w1) > MAX_ASPECT_RATIO
        hb = _round_half_even(h1 / fct) * fct
        wb = _round_half_even(w1 / fct) * fct
        t_bar = _round_half_even(n / self.temporal_patch_size) * self.temporal_patch_size
        over = t_bar * hb * wb > max_px
        under = ~over & (t_bar * hb * wb < self.shortest_edge)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.sqrt(n * h1 * w1 / max_px)
            hb = np.where(
                over, np.maximum(fct, np.floor(h1 / beta / fct).astype(np.int64) * fct), hb
            )
            wb = np.where(
                over, np.maximum(fct, np.floor(w1 / beta / fct).astype(np.int64) * fct), wb
            )
            beta = np.sqrt(self.shortest_edge / (n * h1 * w1))
            hb = np.where(under, np.ceil(h1 * beta / fct).astype(np.int64) * fct, hb)
            wb = np.where(under, np.ceil(w1 * beta / fct).astype(np.int64) * fct, wb)
        grids = (n + self.temporal_patch_size - 1) // self.temporal_patch_size
        per_grid = (hb // self.patch_size) * (wb // self.patch_size) // self.merge_size**2
        frames = grids * self.temporal_patch_size
        return {
            "frames": np.where(bad, sampled, frames),
            "width": wb,
            "height": hb,
            "vision": np.where(bad, -1, grids * per_grid),
            "tokens": np.where(bad, -1, grids * per_grid + 2 * grids),
        }


# ---- The registry ----------------------------------------------------------------------------

_API_NOTES = (
    "Frame count and size follow the vendor page's formula; the hosted sampler itself is not "
    "public, so the indices (a rounded linspace over the whole file) are our assumption.",
)
_VL_NOTES = (
    "Indices are torch.linspace(0, total - 1, n).round() in float32, as the fork's "
    "decord/torchcodec/torchvision readers do.",
    "Qwen2.5-VL writes no timestamp text: time reaches the model through MRoPE positions.",
    "Audio is not used by MiMo-VL.",
    "The fork's VIDEO_MAX_PIXELS environment variable overrides the total pixel budget "
    "(total_pixels).",
)
_SGLANG_NOTES = (
    "The OpenAI-compatible video_url part carries no fps or pixel limits in SGLang: fps, "
    "min_frames, max_frames and the pixel limits come from the checkpoint's processor_config; the "
    "fps here stands for that setting.",
    "Frame size uses SGLang's fallbacks (patch 14 x merge 2, video min 4*f*f, max 4096*f*f, "
    "total 16384*f*f); a checkpoint whose vision_config or processor_config sets them differs.",
    "With an audio track the processor interleaves an audio segment after each pair of frames, "
    "between <audio_start> and <audio_end> (counted as special tokens); the audio tokens "
    "themselves (mimo_audio.py) are not counted here.",
    "MM:SS timestamp text is tokenized by the model's tokenizer; not counted here.",
)
_QWEN3_NOTES = (
    "size is the Qwen3-VL checkpoints' video_preprocessor_config.json (longest_edge 25165824); "
    "the processor class default is 786432.",
    "Odd frame counts are padded with the last frame; the '<t seconds>' text per pair is not "
    "counted here.",
)

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "mimo-api": ApiProfile(
            name="mimo-api",
            title="MiMo API (hosted)",
            source="the vendor's page, shared/spec/mimo-video-understanding.zh.txt",
            summary=(
                "ceil(duration x fps) frames (even, 2..2048), 32 px cells, media_resolution caps"
            ),
            notes=_API_NOTES,
        ),
        "mimo-vl": MiMoVLProfile(
            name="mimo-vl",
            title="MiMo-VL-7B (Xiaomi's lmms-eval)",
            source="XiaomiMiMo/lmms-eval: lmms_eval/models/model_utils/qwen/vision_process.py",
            summary=(
                "total / native_fps x fps frames in [4, 768], rounded float32 linspace, 28 px "
                "cells, Qwen2.5-VL tokens (h/28)(w/28) per pair"
            ),
            notes=_VL_NOTES,
        ),
        "sglang-mimo-v2": SGLangMiMoV2Profile(
            name="sglang-mimo-v2",
            title="SGLang MiMo-V2 processor",
            source="sgl-project/sglang: python/sglang/srt/multimodal/processors/mimo_v2.py",
            summary=(
                "total / native_fps x fps frames in [8, 256], truncated unique linspace, MM:SS "
                "text, 28 px cells (fallback)"
            ),
            notes=_SGLANG_NOTES,
        ),
        "qwen3-vl": Qwen3VLProfile(
            name="qwen3-vl",
            title="transformers Qwen3-VL video processor",
            source=(
                "huggingface/transformers: "
                "src/transformers/models/qwen3_vl/video_processing_qwen3_vl.py"
            ),
            summary=(
                "int(total / native_fps x fps) frames in [4, 768], rounded linspace, 32 px cells, "
                "pixel budget over the whole clip"
            ),
            notes=_QWEN3_NOTES,
        ),
    }
)
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)
DEFAULT_PROFILE = "mimo-api"


def get_profile(profile: str | Profile) -> Profile:
    """The profile called ``profile`` (or ``profile`` itself when it is already one)."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except (KeyError, TypeError):
        raise LimitError(
            f"profile={profile!r} is not one we know; use one of {', '.join(PROFILE_NAMES)} "
            "(or a Profile, e.g. dataclasses.replace(mn.PROFILES['qwen3-vl'], longest_edge=...))."
        ) from None


def explain_profile_tokens(
    duration: float,
    width: int,
    height: int,
    fps: float = 2.0,
    media_resolution: str = "default",
    mute: bool = False,
    *,
    profile: str | Profile = DEFAULT_PROFILE,
    native_fps: float | None = None,
    native_frame_count: int | None = None,
) -> TokenBreakdown | ServerTokenBreakdown:
    """The API's :class:`TokenBreakdown`, or a server's :class:`ServerTokenBreakdown`, for one
    clip."""
    prof = get_profile(profile)
    if isinstance(prof, ApiProfile):
        return explain_video_tokens(duration, width, height, fps, media_resolution, mute)
    plan = prof.plan(
        duration,
        width,
        height,
        fps,
        media_resolution,
        native_fps=native_fps,
        native_frame_count=native_frame_count,
        mute=mute,
    )
    nfps, count = resolve_native(float(duration), native_fps, native_frame_count, prof.name)
    assert plan.indices is not None and plan.special is not None
    return ServerTokenBreakdown(
        profile=prof.name,
        source=prof.source,
        duration=float(duration),
        source_width=int(width),
        source_height=int(height),
        fps=validate_fps(fps),
        mute=bool(mute),
        native_fps=nfps,
        native_frame_count=count,
        frames=plan.frames,
        grids=plan.grids,
        width=plan.width,
        height=plan.height,
        tokens_per_grid=plan.tokens_per_grid,
        vision=plan.vision,
        special=plan.special,
        indices=tuple(int(i) for i in plan.indices),
        timestamp_texts=plan.timestamp_texts,
        notes=plan.notes,
    )


# ---- A server breakdown explained (text; the HTML is display code's) ----------------------


def shorten_list(texts: Iterable[str], keep: int = 4) -> str:
    """The first and last ``keep`` texts joined, with how many were left out between."""
    texts = list(texts)
    if len(texts) <= 2 * keep:
        return ", ".join(texts)
    return (
        ", ".join(texts[:keep]) + f", … ({len(texts) - 2 * keep} more), " + ", ".join(texts[-keep:])
    )


def server_breakdown_rows(b: ServerTokenBreakdown) -> list[tuple[str, str, str]]:
    """(step, value, explanation) rows of a :class:`~mimo_nb.core.profiles.ServerTokenBreakdown`."""
    return [
        ("profile", b.profile, b.source),
        (
            "file",
            f"{b.native_frame_count} frames at {b.native_fps:g} fps",
            f"{b.duration:g} s, {b.source_width} x {b.source_height}",
        ),
        ("frames", f"{b.frames}", f"at fps={b.fps:g}, by the server's rules (pairs complete)"),
        ("indices", shorten_list(str(i) for i in b.indices), "file frames the server decodes"),
        ("model frame size", f"{b.width} x {b.height}", "by the server's resize rule"),
        ("tokens / grid", f"{b.tokens_per_grid}", "one grid = a pair of frames"),
        ("vision", f"{b.vision:,}", "grids x tokens per grid"),
        ("special", f"{b.special:,}", "start/end tokens the source writes"),
        (
            "timestamp text",
            shorten_list(b.timestamp_texts) or "none",
            "tokenized by the model's tokenizer: not counted",
        ),
        ("counted", f"{b.counted:,}", "vision + special; timestamps and audio not counted"),
    ]


def server_breakdown_text(b: ServerTokenBreakdown) -> str:
    """A server breakdown as aligned plain text, with its notes."""
    rows = server_breakdown_rows(b)
    width = max(len(r[0]) for r in rows)
    lines = [f"{k:<{width}}  {v}  ({why})" for k, v, why in rows]
    return "\n".join(lines + [f"note: {n}" for n in b.notes])


# ---- Planning by any profile ---------------------------------------------------------------


def plan_sampling(
    duration: float,
    width: int,
    height: int,
    fps: float = FPS_DEFAULT,
    media_resolution: str = "default",
    *,
    profile: Any = "mimo-api",
    native_fps: float | None = None,
    native_frame_count: int | None = None,
) -> SamplingPlan:
    """Frame count, indices and model frame size for a video, validated once.

    ``profile="mimo-api"`` (the default) is the vendor page's formula; another profile applies a
    self-hosted server's rules (the profiles in this module), which need the file's
    ``native_fps`` and ``native_frame_count``.

    >>> plan_sampling(60, 1920, 1080, fps=2).frames
    120
    >>> plan_sampling(
    ...     60, 1920, 1080, fps=2, profile="mimo-vl", native_fps=30, native_frame_count=1800
    ... ).width
    1008
    """
    fps = _validate_video_args(duration, width, height, fps, media_resolution)
    if profile == DEFAULT_PROFILE:  # by name: the formula itself (a Profile object plans)
        return plan_api_sampling(
            duration,
            width,
            height,
            fps,
            media_resolution,
            native_fps=native_fps,
            native_frame_count=native_frame_count,
        )
    return _plan_with_profile(
        duration, width, height, fps, media_resolution, profile, native_fps, native_frame_count
    )


def _plan_with_profile(
    duration: float,
    width: int,
    height: int,
    fps: float,
    media_resolution: str,
    profile: Any,
    native_fps: float | None,
    native_frame_count: int | None,
) -> SamplingPlan:
    rules = get_profile(profile)
    result = rules.plan(
        duration,
        width,
        height,
        fps,
        media_resolution,
        native_fps=native_fps,
        native_frame_count=native_frame_count,
    )
    nfps, count = (native_fps, native_frame_count)
    if rules.needs_native or nfps is not None or count is not None:
        nfps, count = resolve_native(float(duration), native_fps, native_frame_count, rules.name)
    return SamplingPlan(
        duration=float(duration),
        fps=fps,
        media_resolution=media_resolution,  # type: ignore[arg-type]
        frames=result.frames,
        width=result.width,
        height=result.height,
        source_width=int(width),
        source_height=int(height),
        profile=rules.name,
        native_fps=nfps,
        native_frame_count=count,
        planned_indices=None if result.indices is None else tuple(int(i) for i in result.indices),
        timestamp_texts=result.timestamp_texts,
    )
