"""Cut a long video into the segment files a :class:`~mimo_nb.core.segments.SegmentPlan` plans.

:func:`plan_video_segments` plans a :class:`~mimo_nb.media.video.Video` with its probe's numbers
and returns a :class:`VideoSegments`; its :meth:`~VideoSegments.write` (or
:func:`write_segments`) writes one MP4 per segment the way :meth:`Video.fit
<mimo_nb.media.video.Video.fit>` writes one: only the sampled frames, at the model's size, one
tick per frame (so the formula samples each frame once), the audio of the same stretch kept,
H.264 made repeatable (the same bytes run after run, so cache keys stay valid), quality stepped
down until the base64 text fits. Each segment's frames are encoded as they are decoded, two
segments at a time: memory holds a few frames at the model's size, never a segment's.

>>> import tempfile
>>> from mimo_nb.media.samples import generate_clip
>>> folder = tempfile.mkdtemp()
>>> clip = Video.open(generate_clip(f"{folder}/long.mp4", 30, 64, 48, fps=10, audio=False))
>>> cut = plan_video_segments(clip, fps=10, max_frames_per_segment=100)
>>> [(s.start, s.end, s.frames) for s in cut.plan.segments]
[(0.0, 10.0, 100), (10.0, 20.0, 100), (20.0, 30.0, 100)]
>>> [f.path.name for f in cut.write(folder)]
['long.part1of3.mp4', 'long.part2of3.mp4', 'long.part3of3.mp4']
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.limits import BASE64_LIMIT_BYTES, base64_length
from mimo_nb.core.segments import Segment, SegmentPlan, plan_segments
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media import decode
from mimo_nb.media import encode as _encode
from mimo_nb.media.video import Video

__all__ = [
    "SegmentFile",
    "VideoSegments",
    "plan_video_segments",
    "read_segment",
    "write_segments",
]


@dataclass(frozen=True)
class SegmentFile:
    """A written segment: its plan entry, its file, its size and the quality that fit."""

    segment: Segment
    path: Path
    size_bytes: int
    quality: str

    @property
    def base64_bytes(self) -> int:
        return base64_length(self.size_bytes)


@dataclass(frozen=True)
class VideoSegments(Displayed):
    """A :class:`Video` and its :class:`SegmentPlan`; :meth:`write` cuts the files.

    Shows itself as its plan does.
    """

    video: Video
    plan: SegmentPlan

    def write(
        self,
        folder: str | os.PathLike[str],
        *,
        max_bytes: int = BASE64_LIMIT_BYTES,
        timeout: float = 600.0,
    ) -> list[SegmentFile]:
        """Write one file per segment into ``folder``: see :func:`write_segments`."""
        return write_segments(self.video, self.plan, folder, max_bytes=max_bytes, timeout=timeout)

    def _repr_html_(self) -> str:
        return self.plan._repr_html_()


# plan_segments' arguments that plan_video_segments takes from the video's probe
FROM_THE_VIDEO = ("duration", "width", "height", "native_fps", "native_frame_count", "has_audio")


def plan_video_segments(video: Video, **options: Any) -> VideoSegments:
    """Plan ``video``'s segments with its duration, size, audio and frames (the probe's).

    ``options`` are :func:`~mimo_nb.core.segments.plan_segments`' (``fps``, ``overlap``,
    ``max_tokens``, ...). The plan assumes the file's frames are evenly spaced (a variable-rate
    file's slots take the frame at the nominal position).
    """
    validate.keywords("plan_video_segments", options, plan_segments, but=FROM_THE_VIDEO)
    video.check_unchanged()
    plan = plan_segments(
        video.duration,
        video.width,
        video.height,
        native_fps=video.native_fps,
        native_frame_count=video.native_frame_count,
        has_audio=video.has_audio,
        **options,
    )
    return VideoSegments(video, plan)


def read_segment(
    video: Video, segment: Segment, *, timeout: float = 300.0
) -> npt.NDArray[np.uint8]:
    """The frames of one segment, decoded from ``video`` at the model's size, in slot order."""
    return decode.decode_frames(
        video.probe_info,
        segment.file_indices,
        (segment.width, segment.height),
        timeout=timeout,
    ).array


def _name(video: Video, segment: Segment, count: int) -> str:
    return f"{Path(video.name).stem}.part{segment.index + 1}of{count}.mp4"


def _stream_segment(
    video: Video, segment: Segment, deadline: float
) -> Iterator[npt.NDArray[np.uint8]]:
    """The frames of one segment in slot order, each as soon as it is decoded (a frame shown by
    several slots, in a file of a lower rate than the slots, is given once per slot)."""
    info = video.probe_info
    wanted = np.clip(np.asarray(segment.file_indices), 0, max(0, info.frame_count - 1))
    slots = Counter(wanted.tolist())
    given = 0
    for item in decode.iter_frames(
        info,
        wanted,
        (segment.width, segment.height),
        timeout=max(deadline - time.monotonic(), 1e-3),
    ):
        for _ in range(slots.get(item.index, 0)):
            given += 1
            yield item.array
    if given != segment.frames:
        raise VideoError(
            f"{video.name}: only {given} of segment {segment.index + 1}'s {segment.frames} frames "
            "could be decoded; the file is damaged or truncated.",
            reason="truncated",
            source=str(video.path),
        )


def _write_one(
    video: Video, segment: Segment, out: Path, max_bytes: int, deadline: float
) -> SegmentFile:
    """Encode one segment, decoding its frames as they are encoded (afresh if the quality must
    step down Video.fit's ladder until the base64 text fits)."""
    quality = _encode.write_video_within(
        out,
        lambda: _stream_segment(video, segment, deadline),
        rate=segment.file_rate,
        max_base64_bytes=max_bytes,
        audio_source=video.path if video.has_audio else None,
        seconds=Fraction(segment.frames) / segment.file_rate,
        start=Fraction(segment.start).limit_denominator(1_000_000),
        deadline=deadline,
    )
    size = out.stat().st_size
    if quality is not None:
        return SegmentFile(segment, out, size, quality)
    out.unlink(missing_ok=True)
    raise LimitError(
        f"segment {segment.index + 1} is {base64_length(size) / 2**20:.1f} MB as base64 even at "
        f"the lowest quality, over {max_bytes / 2**20:.1f} MB: plan with a smaller "
        "max_frames_per_segment= or a lower fps."
    )


def write_segments(
    video: Video,
    plan: SegmentPlan,
    folder: str | os.PathLike[str],
    *,
    max_bytes: int = BASE64_LIMIT_BYTES,
    timeout: float = 600.0,
) -> list[SegmentFile]:
    """Write ``plan``'s segments of ``video`` into ``folder``, one ``<stem>.part<k>of<n>.mp4``
    each, streaming each segment's frames from the decoder into the encoder (two segments at
    once).

    Each file holds exactly its segment's frames (the original's frames on the plan's slots, at
    the segment's model size), one tick per frame at the plan's file rate, so the formula
    samples every frame of it once; with the audio of the same stretch when the video has
    sound. ``timeout`` bounds the whole write.

    Raises :class:`LimitError` if a segment does not fit ``max_bytes`` of base64 even at the
    lowest quality, or if the plan was made for another video.
    """
    max_bytes = validate.positive_int("max_bytes", max_bytes, hint="(base64 characters)")
    timeout = validate.positive("timeout", timeout, hint="(seconds)")
    video.check_unchanged()
    if abs(plan.duration - video.duration) > 1e-6 or (plan.width, plan.height) != (
        video.width,
        video.height,
    ):
        raise LimitError(
            f"this plan is for a {plan.duration:g} s {plan.width}x{plan.height} video, not "
            f"{video.name} ({video.duration:g} s {video.width}x{video.height}): plan it with "
            "plan_video_segments(video, ...)."
        )
    out = Path(_encode.path_argument(folder, "write_segments"))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VideoError(
            f"Cannot create the folder {str(out)!r} ({exc.strerror or exc}); pick another place.",
            reason="unwritable",
            source=str(out),
        ) from None
    deadline = time.monotonic() + timeout
    count = len(plan.segments)
    paths = [
        _encode.output_path(out / _name(video, s, count), [".mp4"], "write_segments")
        for s in plan.segments
    ]
    # Each segment streams: its frames are encoded as they are decoded, a few held at a time,
    # never a segment's. Two segments are written at once, so one's decoding overlaps the other's
    # encoding (its sound included); the decoder and the encoders release the GIL.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mimo_nb-segment") as pool:
        jobs = [
            pool.submit(_write_one, video, s, path, max_bytes, deadline)
            for s, path in zip(plan.segments, paths, strict=True)
        ]
        try:
            return [job.result() for job in jobs]
        except BaseException:
            for job in jobs:
                job.cancel()
            raise
