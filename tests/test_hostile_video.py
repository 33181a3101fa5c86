"""A hostile corpus for the video side: every bad argument and every changed file is a MimoError
whose message says what to do (issue 10, items 6 and 8). Each case failed before: a bare
TypeError/OSError/OverflowError/PyAV error, a misleading error, or no error at all."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def clip(clips):
    return clips("hostile.mp4", duration=1.0)


@pytest.fixture(scope="module")
def video(clip):
    return Video.open(clip)


@pytest.fixture(scope="module")
def frames(video):
    return video.sample(fps=4)


def _fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    path = tmp_path / "pipe.mp4"
    os.mkfifo(path)
    return path


# (case, call, expected class, words the message must contain, expected VideoError reason)
OPEN_CASES = [
    (
        "a number",
        lambda clip, tmp: Video.open(123),
        LimitError,
        ["path", "URL", "bytes", "int"],
        None,
    ),
    ("None", lambda clip, tmp: Video.open(None), LimitError, ["NoneType"], None),
    ("a list of paths", lambda clip, tmp: Video.open([clip]), LimitError, ["list"], None),
    (
        "an open file",
        lambda clip, tmp: Video.open(open(clip, "rb")),
        LimitError,
        ["f.read()"],
        None,
    ),
    (
        "a 300-character name",
        lambda clip, tmp: Video.open(tmp / ("a" * 300 + ".mp4")),
        LimitError,
        ["too long", "255"],
        None,
    ),
    ("a NUL byte", lambda clip, tmp: Video.open(str(clip) + "\x00.mp4"), LimitError, ["NUL"], None),
    ("an empty path", lambda clip, tmp: Video.open(""), LimitError, ["empty path"], None),
    (
        "an ftp URL",
        lambda clip, tmp: Video.open("ftp://example.com/clip.mp4"),
        LimitError,
        ["http", "https"],
        None,
    ),
    ("a folder", lambda clip, tmp: Video.open(tmp), VideoError, ["folder"], "not_a_video"),
    (
        "a named pipe",
        lambda clip, tmp: Video.open(_fifo(tmp)),
        VideoError,
        ["regular file"],
        "not_a_video",
    ),
    (
        "timeout as text",
        lambda clip, tmp: Video.open(clip, timeout="10"),
        LimitError,
        ["timeout", "seconds"],
        None,
    ),
    (
        "a negative timeout",
        lambda clip, tmp: Video.open(clip, timeout=-1),
        LimitError,
        ["timeout", "positive"],
        None,
    ),
]


@pytest.mark.parametrize(
    "case, call, kind, words, reason", OPEN_CASES, ids=[c[0] for c in OPEN_CASES]
)
def test_video_open_refuses_bad_arguments(clip, tmp_path, case, call, kind, words, reason):
    with pytest.raises(kind) as caught:
        call(clip, tmp_path)
    for word in words:
        assert word in str(caught.value), (case, str(caught.value))
    if reason:
        assert caught.value.reason == reason


GENERATE_CASES = [
    ("infinite duration", dict(duration=float("inf")), LimitError, ["duration", "finite"]),
    ("infinite fps", dict(fps=float("inf")), LimitError, ["fps", "finite"]),
    ("duration as text", dict(duration="2"), LimitError, ["duration", "number"]),
    ("width as text", dict(width="160"), LimitError, ["width", "whole number"]),
    ("a huge width", dict(width=100_000), LimitError, ["8192"]),
    (
        "more frames than the counter holds",
        dict(duration=1e9),
        LimitError,
        ["frame counter", "shorter"],
    ),
    ("a negative gop", dict(gop=-3), LimitError, ["gop"]),
    ("an unknown x264 preset", dict(preset="bogus"), LimitError, ["preset", "veryfast"]),
]


@pytest.mark.parametrize(
    "case, kwargs, kind, words", GENERATE_CASES, ids=[c[0] for c in GENERATE_CASES]
)
def test_generate_clip_refuses_bad_arguments(tmp_path, case, kwargs, kind, words):
    with pytest.raises(kind) as caught:
        generate_clip(
            tmp_path / "bad.mp4", **{"duration": 0.2, "width": 64, "height": 48, **kwargs}
        )
    for word in words:
        assert word in str(caught.value), (case, str(caught.value))
    assert not (tmp_path / "bad.mp4").exists()


def test_generate_clip_refuses_bad_paths(tmp_path):
    with pytest.raises(LimitError, match="file path"):
        generate_clip(None)
    with pytest.raises(VideoError, match="does not exist") as caught:
        generate_clip(tmp_path / "missing" / "clip.mp4", duration=0.2, width=64, height=48)
    assert caught.value.reason == "unwritable"


SAVE_CASES = [
    ("a Matroska suffix", lambda tmp: tmp / "x.mkv", LimitError, [".mp4", ".gif", ".mkv"], None),
    ("no suffix", lambda tmp: tmp / "x", LimitError, ["without a suffix"], None),
    (
        "a missing folder",
        lambda tmp: tmp / "nowhere" / "x.mp4",
        VideoError,
        ["does not exist"],
        "unwritable",
    ),
    ("a folder", lambda tmp: tmp, VideoError, ["folder"], "unwritable"),
    ("a number", lambda tmp: 5, LimitError, ["file path"], None),
    ("a 300-character name", lambda tmp: tmp / ("b" * 300 + ".gif"), LimitError, ["255"], None),
]


@pytest.mark.parametrize(
    "case, where, kind, words, reason", SAVE_CASES, ids=[c[0] for c in SAVE_CASES]
)
def test_frames_save_refuses_bad_places(frames, tmp_path, case, where, kind, words, reason):
    with pytest.raises(kind) as caught:
        frames.save(where(tmp_path))
    for word in words:
        assert word in str(caught.value), (case, str(caught.value))
    if reason:
        assert caught.value.reason == reason


@pytest.mark.parametrize("fps", [0, -2, float("nan"), float("inf"), "2", 1000])
def test_frames_save_and_play_refuse_bad_fps(frames, tmp_path, fps):
    with pytest.raises(LimitError, match="fps"):
        frames.save(tmp_path / "x.mp4", fps=fps)
    with pytest.raises(LimitError, match="fps"):
        frames.play(fps=fps)


def test_frames_play_refuses_bad_format_and_limits(frames):
    with pytest.raises(LimitError, match="'mp4' or 'gif'"):
        frames.play(format="webm")
    with pytest.raises(LimitError, match="max_bytes"):
        frames.play(max_bytes=-1)


SAMPLE_CASES = [
    ("progress as text", dict(progress="yes"), ["progress", "callable"]),
    ("timeout as text", dict(timeout="x"), ["timeout"]),
    ("a zero timeout", dict(timeout=0), ["timeout", "positive"]),
    ("an infinite timeout", dict(timeout=float("inf")), ["finite"]),
]


@pytest.mark.parametrize("case, kwargs, words", SAMPLE_CASES, ids=[c[0] for c in SAMPLE_CASES])
def test_sample_refuses_bad_arguments(video, case, kwargs, words):
    with pytest.raises(LimitError) as caught:
        video.sample(fps=2, **kwargs)
    for word in words:
        assert word in str(caught.value)


def test_fit_refuses_bad_arguments_before_any_work(video, tmp_path):
    with pytest.raises(LimitError, match=r"Video.fit writes \.mp4"):
        video.fit(fps=2, path=tmp_path / "fitted.avi")  # used to write MP4 bytes under a .avi name
    assert not (tmp_path / "fitted.avi").exists()
    with pytest.raises(VideoError, match="does not exist") as caught:
        video.fit(fps=2, path=tmp_path / "missing" / "fitted.mp4")
    assert caught.value.reason == "unwritable"
    with pytest.raises(LimitError, match="max_bytes"):
        video.fit(fps=2, max_bytes="50MB")
    with pytest.raises(LimitError, match="timeout"):
        video.fit(fps=2, timeout=None)


# ---- A file that changed after open (issue 10, item 6) ---------------------------------------


@pytest.fixture
def rewritable(clips, tmp_path):
    """A copy of a 2 s clip we may rewrite, and a different 3 s clip to rewrite it with."""
    path = tmp_path / "rewritten.mp4"
    shutil.copyfile(clips("change_a.mp4", duration=2.0), path)
    return path, clips("change_b.mp4", duration=3.0)


def test_a_rewritten_file_is_refused_not_sampled_stale(rewritable):
    path, other = rewritable
    video = Video.open(path)
    shutil.copyfile(other, path)  # rewritten in place: same name, other bytes and length
    for call in (
        lambda: video.sample(fps=2),
        lambda: video.estimate(fps=2),
        lambda: video.plan(fps=2),
        lambda: video.fit(fps=2),
        video.check_unchanged,
        video.play,
    ):
        with pytest.raises(VideoError) as caught:
            call()
        assert caught.value.reason == "changed"
        assert "Video.open" in str(caught.value) and "bytes" in str(caught.value)
    assert "thumbnails unavailable" in video._repr_html_() and "changed" in video._repr_html_()
    again = Video.open(path)  # what the message says to do
    assert again.duration == pytest.approx(3.0) and len(again.sample(fps=2)) == 6


def test_sha256_follows_the_bytes(rewritable):
    path, other = rewritable
    video = Video.open(path)
    first = video.sha256()
    shutil.copyfile(other, path)
    assert video.sha256() != first
    assert video.sha256() == Video.open(other).sha256()


def test_a_same_size_rewrite_is_seen_through_its_mtime(rewritable):
    path, _ = rewritable
    video = Video.open(path)
    before = video.sha256()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # one byte differs, size unchanged
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(
        path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000)
    )  # beyond any clock resolution
    with pytest.raises(VideoError, match="modified since") as caught:
        video.estimate(fps=2)
    assert caught.value.reason == "changed"
    assert video.sha256() != before


def test_a_replaced_or_removed_file_is_refused(rewritable, tmp_path):
    path, _ = rewritable
    video = Video.open(path)
    swap = tmp_path / "swap.mp4"
    shutil.copyfile(path, swap)
    os.replace(swap, path)  # same bytes, another file (as editors and downloads do)
    with pytest.raises(VideoError, match="replaced by another file"):
        video.sample(fps=2)
    gone = Video.open(path)
    path.unlink()
    assert (
        "thumbnails unavailable" in gone._repr_html_() and "deleted or moved" in gone._repr_html_()
    )
    for call in (lambda: gone.sample(fps=2), gone.sha256, lambda: gone.size_bytes):
        with pytest.raises(VideoError, match="deleted or moved") as caught:
            call()
        assert caught.value.reason == "changed"


def test_an_untouched_file_keeps_working(clip):
    video = Video.open(clip)
    video.check_unchanged()
    digest = video.sha256()
    time.sleep(0.01)
    assert video.sha256() == digest
    assert (
        counters(video.sample(fps=2).array)
        == video.plan(fps=2).indices(video.native_frame_count).tolist()
    )
