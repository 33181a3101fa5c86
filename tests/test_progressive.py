"""Progressive frames: Video.iter_sample / sample(on_frame=, cancel=) / preview, and the explorer
built on them."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from mimo_nb.display import render, widgets
from mimo_nb.errors import VideoError
from mimo_nb.media.video import Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def long_clip(clips):
    # 40 s at 30 fps, small, a keyframe every 30 frames: long enough to preview and to cancel
    return clips(
        "progressive.mp4", duration=40, width=96, height=64, gop=30, preset="ultrafast", audio=False
    )


def test_iter_sample_yields_what_sample_returns(long_clip):
    video = Video.open(long_clip)
    frames = video.sample(fps=2)
    grid = np.zeros_like(frames.array)
    seen = []
    for item in video.iter_sample(fps=2):
        grid[list(item.positions)] = item.array
        seen.append(item.index)
        assert item.timestamp == pytest.approx(item.index / 30)
    assert seen == sorted(set(frames.indices.tolist()))
    assert np.array_equal(grid, frames.array)


def test_sample_reports_frames_as_they_arrive_and_can_be_cancelled(long_clip):
    video = Video.open(long_clip)
    cancel = threading.Event()
    arrived = []

    def on_frame(item):
        arrived.append(item.index)
        if len(arrived) == 3:
            cancel.set()

    with pytest.raises(VideoError) as caught:
        video.sample(fps=2, cancel=cancel, on_frame=on_frame)
    assert caught.value.reason == "cancelled"
    assert 3 <= len(arrived) < video.plan(fps=2).frames
    assert arrived == sorted(arrived)


def test_preview_is_keyframes_labelled_as_such(long_clip):
    video = Video.open(long_clip)
    preview = video.preview(fps=2, max_keyframes=10)
    exact = video.sample(fps=2)
    assert preview.array.shape == exact.array.shape
    assert np.array_equal(preview.indices, exact.indices) and np.allclose(
        preview.timestamps, exact.timestamps
    )
    shown = counters(preview.array)
    assert all(c % 30 == 0 for c in shown) and len(set(shown)) <= 10  # keyframes only
    assert preview.repeated and preview.note.startswith("preview")


def test_explorer_paints_a_preview_then_the_exact_frames(long_clip):
    video = Video.open(long_clip)
    explorer = widgets.FrameExplorer(video, fps=0.5, debounce=0, preview_after=100)
    grids: list[str] = []
    explorer.view.observe(lambda change: grids.append(change["new"]), names="value")
    explorer.fps.value = 2.0
    assert len(grids) >= 2
    assert "preview" in grids[0] and "preview" not in grids[-1]
    assert np.array_equal(explorer.frames().array, video.sample(fps=2).array)


def test_explorer_cancels_a_setting_the_user_left(long_clip, monkeypatch):
    video = Video.open(long_clip)
    cancelled: list[float] = []
    real_sample = video.sample

    def slow_sample(fps, *args, cancel=None, on_frame=None, **kwargs):
        def slow(item):
            time.sleep(0.02)  # a long video, in miniature
            if on_frame:
                on_frame(item)

        try:
            return real_sample(fps, *args, cancel=cancel, on_frame=slow, **kwargs)
        except VideoError as exc:
            if exc.reason == "cancelled":
                cancelled.append(fps)
            raise

    monkeypatch.setattr(video, "sample", slow_sample)

    async def move() -> str:
        explorer = widgets.FrameExplorer(video, fps=0.5, debounce=0, preview_after=100)
        explorer.fps.value = 5.0  # starts decoding 200 frames in the background
        await asyncio.sleep(0.3)
        explorer.fps.value = 1.0  # the user moves on
        for _ in range(200):
            await asyncio.sleep(0.05)
            if explorer._loading and explorer._loading[2] and not explorer._loading[2].is_alive():
                break
        await asyncio.sleep(0.1)  # let the last paint run on the loop
        assert (5.0, "default", "model", "mimo-api") not in explorer._cache
        assert (1.0, "default", "model", "mimo-api") in explorer._cache
        return explorer.view.value

    grid = asyncio.run(move())
    assert cancelled == [5.0]
    assert "preview" not in grid and grid.count("<img") == Video.open(long_clip).plan(fps=1).frames


def test_explorer_encodes_each_thumbnail_once_and_ends_on_sample_frames(long_clip, monkeypatch):
    video = Video.open(long_clip)
    preview = video.preview(fps=2)
    keyframes = len(np.unique(preview.array.reshape(len(preview), -1), axis=0))
    encoded: list[int] = []
    real_thumbnail_uri = render.thumbnail_uri

    def counting(image, max_width=192):
        encoded.append(1)
        return real_thumbnail_uri(image, max_width)

    monkeypatch.setattr(render, "thumbnail_uri", counting)
    explorer = widgets.FrameExplorer(video, fps=0.5, debounce=0, preview_after=100)
    encoded.clear()
    explorer.fps.value = 2.0
    made = len(encoded)
    exact = video.sample(fps=2)
    # the preview's repeated keyframes once each, then each exact frame once; rebuilding the
    # grid per paint encodes the preview's every cell and every frame again at the end
    assert made <= keyframes + len(exact) < 2 * len(exact)
    expected = exact.to_html(columns=explorer.columns, max_frames=explorer.max_frames)
    assert explorer.view.value == expected  # exactly sample()'s frames, as Frames.to_html shows
