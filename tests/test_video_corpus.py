"""Broken and odd inputs: each gives the right VideoError, or a correct result, in bounded time."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest

from mimo_nb.errors import VideoError
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)


def _expect(path, reason):
    start = time.monotonic()
    with pytest.raises(VideoError) as caught:
        Video.open(path, timeout=10)
    assert caught.value.reason == reason, str(caught.value)
    assert str(path.name if hasattr(path, "name") else path) in str(caught.value)
    assert time.monotonic() - start < 5
    return caught.value


def _write_other_container(path, codec):
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, np.uint8), format="rgb24")
            ):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_missing_file(clip_dir):
    _expect(clip_dir / "nowhere.mp4", "not_found")


def test_directory_is_not_a_file(clip_dir):
    assert "folder" in str(_expect(clip_dir, "not_a_video"))


def test_zero_bytes(clip_dir):
    path = clip_dir / "zero.mp4"
    path.write_bytes(b"")
    _expect(path, "empty")


def test_text_renamed_mp4(clip_dir):
    path = clip_dir / "notes.mp4"
    path.write_text("this is a shopping list, not a video\n" * 20)
    error = _expect(path, "not_a_video")
    assert "MP4, MOV, AVI or WMV" in str(error)


def test_truncated_mp4(clips, clip_dir):
    data = clips("fmt.mp4").read_bytes()
    path = clip_dir / "half.mp4"
    path.write_bytes(data[: len(data) // 2])  # the index (moov) is written last: it is gone
    _expect(path, "truncated")


def test_truncated_avi_reads_what_is_there(clips, clip_dir):
    data = clips("fmt.avi").read_bytes()
    path = clip_dir / "half.avi"
    path.write_bytes(data[: len(data) // 2])
    video = Video.open(path)
    assert (
        0 < video.native_frame_count < 60
    )  # counted from the packets present, not the header's 60
    frames = video.sample(fps=2)
    assert counters(frames.array) == frames.indices.tolist()


def test_audio_only(clip_dir):
    path = generate_clip(clip_dir / "voice.mp4", duration=1, video=False)
    _expect(path, "no_video_stream")


@pytest.mark.parametrize("name, codec", [("clip.mkv", "libx264"), ("clip.webm", "libvpx")])
def test_other_containers_are_unsupported(clip_dir, name, codec):
    path = _write_other_container(clip_dir / name, codec)
    error = _expect(path, "unsupported_format")
    assert "MP4, MOV, AVI, WMV" in str(error)


def test_unknown_codec(clips, clip_dir):
    data = clips("fmt.avi").read_bytes().replace(b"FMP4", b"ZQZQ")  # a FourCC no decoder knows
    path = clip_dir / "alien.avi"
    path.write_bytes(data)
    _expect(path, "unsupported_codec")


def test_tiny_16x16(clips):
    video = Video.open(clips("tiny.mp4", width=16, height=16, duration=1))
    frames = video.sample(fps=2)
    plan = video.plan(fps=2)
    assert (video.width, video.height) == (16, 16)
    assert frames.array.shape == (plan.frames, plan.height, plan.width, 3) == (2, 96, 96, 3)


def test_wide_4000x100(clips):
    video = Video.open(clips("wide.mp4", width=4000, height=100, duration=0.5, preset="ultrafast"))
    frames = video.sample(fps=2)
    assert frames.array.shape == (2, 64, 3488, 3)
    assert counters(frames.array) == frames.indices.tolist()


def _index_first(source, path):
    """Remux with the index (moov) before the data, as web-ready MP4s are: cutting it keeps the
    index."""
    with (
        av.open(str(source)) as src,
        av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as dst,
    ):
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    assert path.read_bytes()[36:40] == b"moov"
    return path


def test_index_first_mp4_cut_in_half_is_truncated(clips, clip_dir):
    data = _index_first(clips("fmt.mp4"), clip_dir / "faststart.mp4").read_bytes()
    path = clip_dir / "faststart_half.mp4"
    path.write_bytes(
        data[: len(data) // 2]
    )  # the index survives and lists 60 frames; ~25 are there
    error = _expect(path, "truncated")
    assert "of the 60 frames" in str(error)


@pytest.mark.parametrize("prefer", ["pyav", "decord"])
def test_index_first_mp4_cut_short_flags_every_repeated_frame(clips, clip_dir, monkeypatch, prefer):
    if prefer == "decord":
        pytest.importorskip("decord")
    monkeypatch.setenv("MIMO_NB_BACKEND", prefer)
    data = _index_first(clips("fmt.mp4"), clip_dir / "faststart.mp4").read_bytes()
    path = clip_dir / "faststart_80.mp4"
    path.write_bytes(data[: len(data) * 8 // 10])
    video = Video.open(path)
    assert video.native_frame_count == 60 and 30 < video.probe_info.readable_frames < 60
    assert video.duration == pytest.approx(2.0)
    frames = video.sample(fps=6)
    seen = counters(frames.array)
    wrong = [int(i) for i, c in zip(frames.indices, seen, strict=True) if c != i]
    assert wrong and frames.repeated  # the tail is not in the file: those frames repeat ...
    assert "could not be decoded" in frames.note and "cut short" in frames.note
    for index in wrong:  # ... and the note names every one of them
        assert str(index) in frames.note
    assert seen[: len(seen) - len(wrong)] == frames.indices[: len(seen) - len(wrong)].tolist()
    assert frames.timestamps == pytest.approx(frames.indices / 30)


def test_damaged_bytes_mid_file_are_flagged_not_shown_as_other_frames(clips, clip_dir):
    data = bytearray(clips("fmt.mp4").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 3000] = bytes(
        3000
    )  # a run of zeros inside the frame data
    path = clip_dir / "zeroed.mp4"
    path.write_bytes(bytes(data))
    frames = Video.open(path).sample(fps=10)
    seen = counters(frames.array)
    wrong = [int(i) for i, c in zip(frames.indices, seen, strict=True) if c != i]
    assert wrong and frames.repeated and "damaged" in frames.note
    named = frames.note.split("frames ", 1)[1]
    for index in wrong:
        assert str(index) in named
    # a frame is either itself or an announced stand-in, never an unannounced other frame
    assert all(c in frames.indices.tolist() for c in seen)


def test_variable_frame_rate_is_sampled_by_time(clips):
    # 30 fps for one second, then 1 fps for a minute: 90 frames over 61 s
    times = [i / 30 for i in range(30)] + [1.0 + i for i in range(60)]
    video = Video.open(clips("vfr_30_then_1.mp4", frame_times=times, width=160, height=120))
    assert not video.probe_info.constant_rate and video.native_frame_count == 90
    assert video.duration == pytest.approx(61.0, abs=1.01)
    frames = video.sample(fps=1)
    shown = counters(frames.array)
    assert shown == frames.indices.tolist()
    real = np.array([times[i] for i in shown])
    assert frames.timestamps == pytest.approx(real, abs=1e-3)  # the real presentation times
    assert np.sum(real < 1.0) <= 2  # one second's share of the frames, not a third of them
    targets = np.linspace(0, times[-1], len(frames))
    assert np.all(np.abs(real - targets) <= 1.0 + 1e-6)  # each within one frame of its target time


def test_frame_size_changing_mid_stream_gives_one_array(clips):
    video = Video.open(
        clips("resized.mp4", duration=2, width=160, height=120, size_change=(1.0, 96, 64))
    )
    for size in ("model", "native"):
        frames = video.sample(fps=6, size=size)
        plan = video.plan(fps=6)
        expected = (plan.height, plan.width) if size == "model" else (120, 160)
        assert frames.array.shape == (len(frames), *expected, 3)
        assert counters(frames.array) == frames.indices.tolist()
        assert not frames.repeated


def test_variable_frame_rate(clips):
    video = Video.open(clips("vfr.mp4", duration=2, vfr=True))
    assert not video.probe_info.constant_rate
    assert video.native_frame_count == 60
    frames = video.sample(fps=5)
    assert len(frames) == video.estimate(fps=5).frames
    assert counters(frames.array) == frames.indices.tolist()


def test_one_frame_video(clips):
    video = Video.open(clips("single.mp4", duration=1 / 30))
    assert video.native_frame_count == 1
    frames = video.sample(fps=2)
    assert len(frames) == 2 and frames.repeated
    assert frames.indices.tolist() == [0, 0] and counters(frames.array) == [0, 0]


@pytest.mark.timeout(90)
def test_very_long_video(clips):
    path = clips(
        "long10min.mp4", duration=610, fps=10, width=64, height=48, preset="ultrafast", audio=False
    )
    start = time.monotonic()
    video = Video.open(path)
    assert video.native_frame_count == 6100 and video.duration == pytest.approx(610)
    frames = video.sample(fps=0.1)
    assert len(frames) == 62
    assert counters(frames.array) == frames.indices.tolist()
    assert time.monotonic() - start < 30


def test_fps_above_native_rate(clips):
    video = Video.open(clips("fps2.mp4", duration=3, fps=2))
    frames = video.sample(fps=10)
    assert len(frames) == 30 and video.native_frame_count == 6 and frames.repeated
    assert counters(frames.array) == frames.indices.tolist()


@pytest.mark.parametrize("rotation", [90, 270])
def test_rotated_phone_clip(clips, rotation):
    video = Video.open(
        clips(f"phone{rotation}.mov", width=120, height=160, duration=1, rotation=rotation)
    )
    assert (video.width, video.height) == (120, 160)
    frames = video.sample(fps=2)
    assert frames.array.shape[1:3] == (video.plan().height, video.plan().width)
    assert frames.array.shape[1] > frames.array.shape[2]  # portrait, as displayed
    assert counters(frames.array) == frames.indices.tolist()
