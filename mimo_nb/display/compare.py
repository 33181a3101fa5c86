"""One video under every profile: the frames each server picks, their size, and the tokens.

>>> video = mn.Video.open("clip.mp4")
>>> comparison = compare_profiles(video, fps=2)       # renders as one strip of frames per profile
>>> [(v.profile, v.frames, v.changed) for v in comparison.views]
[('mimo-api', 4, 0), ('mimo-vl', 4, 0), ('sglang-mimo-v2', 8, 6), ('qwen3-vl', 4, 0)]

A frame is *changed* when its file index is not one the hosted API (``"mimo-api"``) picks at
the same settings. Frames are decoded through :meth:`Video.sample` with each profile, so the
thumbnails are the very frames the planner names. This is a shell over the pure core
(:mod:`mimo_nb.core.profiles`) and the decoder; it does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.profiles import PROFILE_NAMES, Profile, get_profile
from mimo_nb.core.tokens import FPS_DEFAULT, TokenBreakdown
from mimo_nb.errors import LimitError
from mimo_nb.media import imaging as _imaging

if TYPE_CHECKING:
    import pandas as pd

    from mimo_nb.media.video import Video

__all__ = ["ProfileView", "ProfileComparison", "compare_profiles"]


@dataclass(frozen=True)
class ProfileView:
    """What one profile makes of the video: frames, size, tokens, and which frames differ from the
    API's."""

    profile: str
    title: str
    source: str
    frames: int = 0
    width: int = 0
    height: int = 0
    vision: int = 0
    tokens: int = 0
    tokens_label: str = ""
    indices: tuple[int, ...] = ()
    timestamps: tuple[float, ...] = ()
    timestamp_texts: tuple[str, ...] = ()
    differs: tuple[bool, ...] = ()
    thumbnails: tuple[npt.NDArray[np.uint8], ...] = field(default=(), repr=False, compare=False)
    error: str | None = None

    @property
    def changed(self) -> int:
        """How many of this profile's frames the API would not pick."""
        return int(sum(self.differs))

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "source": self.source,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "vision": self.vision,
            "tokens": self.tokens,
            "tokens_counted": self.tokens_label,
            "changed_vs_api": self.changed,
            "indices": list(self.indices),
            "error": self.error,
        }


@dataclass(frozen=True)
class ProfileComparison:
    """Profiles side by side for one video at one ``fps`` (and ``media_resolution`` for the API)."""

    video_name: str
    duration: float
    width: int
    height: int
    native_fps: float
    native_frame_count: int
    fps: float
    media_resolution: str
    views: tuple[ProfileView, ...]

    def view(self, profile: str) -> ProfileView:
        """The view of one profile, by name."""
        for v in self.views:
            if v.profile == profile:
                return v
        raise LimitError(
            f"no view of {profile!r} here; compared: {', '.join(v.profile for v in self.views)}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "video": self.video_name,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "native_fps": self.native_fps,
            "native_frame_count": self.native_frame_count,
            "fps": self.fps,
            "media_resolution": self.media_resolution,
            "views": [v.to_dict() for v in self.views],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per profile (needs pandas)."""
        import pandas as pd

        rows = [{k: v for k, v in view.to_dict().items() if k != "indices"} for view in self.views]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import profile_comparison_html

        return profile_comparison_html(self)


def _api_indices(video: Video, fps: float, media_resolution: str) -> set[int]:
    plan = video.plan(fps, media_resolution)
    return {int(i) for i in plan.indices(video.native_frame_count)}


def _view(
    video: Video,
    rules: Profile,
    fps: float,
    media_resolution: str,
    api: set[int],
    thumb_width: int,
    thumbnails: bool,
    timeout: float,
) -> ProfileView:
    try:
        breakdown = video.estimate(fps, media_resolution, profile=rules)
        plan = video.plan(fps, media_resolution, profile=rules)
    except LimitError as exc:
        return ProfileView(rules.name, rules.title, rules.source, error=str(exc))
    indices = plan.indices(video.native_frame_count)
    thumbs: tuple[npt.NDArray[np.uint8], ...] = ()
    if thumbnails:
        frames = video.sample(fps, media_resolution, size="model", profile=rules, timeout=timeout)
        thumbs = tuple(
            _imaging.thumbnail(frame, thumb_width) for frame in frames.array
        )  # keep only small copies
    if isinstance(breakdown, TokenBreakdown):
        tokens, label = breakdown.total, "estimate: vision + timestamps + special + audio"
    else:
        tokens, label = breakdown.counted, "vision + special (timestamp text and audio not counted)"
    return ProfileView(
        profile=rules.name,
        title=rules.title,
        source=rules.source,
        frames=plan.frames,
        width=plan.width,
        height=plan.height,
        vision=breakdown.vision,
        tokens=tokens,
        tokens_label=label,
        indices=tuple(int(i) for i in indices),
        timestamps=tuple(float(i) / video.native_fps for i in indices),
        timestamp_texts=plan.timestamp_texts,
        differs=tuple(int(i) not in api for i in indices),
        thumbnails=thumbs,
    )


def compare_profiles(
    video: Video,
    fps: float = FPS_DEFAULT,
    media_resolution: str = "default",
    *,
    profiles: Sequence[str | Profile] = PROFILE_NAMES,
    thumbnails: bool = True,
    thumb_width: int = 96,
    timeout: float = 300.0,
) -> ProfileComparison:
    """The frames, frame size and tokens of ``video`` under each profile, side by side.

    Args:
        video: a :class:`~mimo_nb.media.video.Video`.
        fps: the sampling rate asked for (servers: the rate their configuration would hold).
        media_resolution: for the API profile; servers have no such knob.
        profiles: which profiles, in order (names or :class:`~mimo_nb.core.profiles.Profile`
            objects).
        thumbnails: False skips decoding (numbers only).
        thumb_width: width of the thumbnails kept, in pixels.

    A profile that refuses the video (too few frames, an extreme aspect ratio) shows its reason.
    """
    thumb_width = validate.positive_int("thumb_width", thumb_width)
    timeout = validate.positive("timeout", timeout)
    api = _api_indices(video, fps, media_resolution)
    views = []
    for item in profiles:
        rules = get_profile(item)
        views.append(
            _view(video, rules, fps, media_resolution, api, thumb_width, thumbnails, timeout)
        )
    return ProfileComparison(
        video_name=str(getattr(video, "name", "video")),
        duration=float(video.duration),
        width=int(video.width),
        height=int(video.height),
        native_fps=float(video.native_fps),
        native_frame_count=int(video.native_frame_count),
        fps=float(fps),
        media_resolution=media_resolution,
        views=tuple(views),
    )
