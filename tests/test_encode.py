"""_encode: the one place videos are written (streams per format, x264 settings, sound, errors)."""

from __future__ import annotations

import re
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media import encode as _encode
from mimo_nb.media.samples import draw_frame, read_frame_counter

pytestmark = pytest.mark.timeout(60)
PACKAGE = Path(_encode.__file__).parents[1]


def _pictures(count, width=96, height=64):
    return [draw_frame(i, width, height) for i in range(count)]


def _decoded(path):
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return frames


def test_no_other_module_encodes_or_muxes():
    """Issue 11: the encode/mux loop is written once, here."""
    offenders = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path != Path(_encode.__file__)
        and re.search(r"\.mux\(|add_stream\(|av\.open\([^)]*[\"']w[\"']", path.read_text())
    }
    assert not offenders


@pytest.mark.parametrize(
    "suffix, codec", [(".mp4", "h264"), (".mov", "h264"), (".avi", "mpeg4"), (".wmv", "wmv2")]
)
def test_each_format_from_a_generator(tmp_path, suffix, codec):
    pictures = (draw_frame(i, 96, 64) for i in range(8))  # read once, never held whole
    out = _encode.write_video(tmp_path / f"gen{suffix}", pictures, rate=Fraction(8))
    frames = _decoded(out)
    assert [read_frame_counter(f.to_ndarray(format="rgb24")) for f in frames] == list(range(8))
    with av.open(str(out)) as container:
        assert (
            container.streams.video[0].codec_context.name == codec and not container.streams.audio
        )


def test_rotation_and_irregular_times(tmp_path):
    out = _encode.write_video(
        tmp_path / "rot.mov",
        _pictures(4),
        rate=Fraction(4),
        rotation=270,
        time_base=Fraction(1, 16),
        pts=[0, 2, 8, 12],
    )
    frames = _decoded(out)
    assert (frames[0].width, frames[0].height) == (64, 96) and frames[0].rotation % 360 == 270
    assert [round(float(f.time), 4) for f in frames] == [0.0, 0.125, 0.5, 0.75]
    upright = np.rot90(frames[2].to_ndarray(format="rgb24"), k=3)
    assert read_frame_counter(upright) == 2


def test_a_tone_only_file(tmp_path):
    tone = _encode.Tone(np.zeros(_encode.AUDIO_RATE // 2, np.float32))
    out = _encode.write_video(tmp_path / "sound.avi", None, rate=Fraction(30), audio=tone)
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        samples = sum(f.samples for f in container.decode(audio=0))
    assert samples == _encode.AUDIO_RATE // 2


def test_x264_settings(monkeypatch):
    monkeypatch.setattr(_encode, "_cpu_has_avx512", lambda: True)
    assert _encode.x264_params(12) == "keyint=12:min-keyint=12:scenecut=0:asm=avx2"
    monkeypatch.setattr(_encode, "_cpu_has_avx512", lambda: False)
    assert _encode.x264_params() == "" and "asm" not in _encode.x264_params(5)


@pytest.mark.parametrize(
    "frames, words",
    [
        ([np.zeros((64, 96, 3), np.uint8), np.zeros((32, 96, 3), np.uint8)], "same size"),
        ([np.zeros((64, 96, 3), np.float32)], "uint8"),
        ([np.zeros((64, 96), np.uint8)], "(height, width, 3)"),
        ([], "no frames"),
    ],
)
def test_bad_frames_are_refused_and_leave_no_file(tmp_path, frames, words):
    out = tmp_path / "bad.mp4"
    with pytest.raises(LimitError) as caught:
        _encode.write_video(out, frames, rate=Fraction(2))
    assert words in str(caught.value)
    assert not out.exists()


def test_nothing_to_write_and_bad_rates(tmp_path):
    with pytest.raises(LimitError, match="Nothing to write"):
        _encode.write_video(tmp_path / "none.mp4", None, rate=Fraction(2))
    with pytest.raises(LimitError, match="positive"):
        _encode.write_video(tmp_path / "zero.mp4", _pictures(1), rate=Fraction(0))


def test_a_deadline_stops_the_encode_and_removes_the_file(tmp_path):
    out = tmp_path / "late.mp4"
    with pytest.raises(VideoError) as caught:
        _encode.write_video(out, _pictures(3), rate=Fraction(3), deadline=time.monotonic() - 1)
    assert caught.value.reason == "timeout" and not out.exists()


def test_gif_timing_is_whole_centiseconds_without_drift():
    for fps in (0.1, 2, 3, 7, 10, 50):
        delays = _encode.gif_durations(21, fps)
        assert all(d % 10 == 0 and d >= 20 for d in delays)
        assert sum(delays) == pytest.approx(21 * 1000 / fps, abs=10)


def test_timestamps_must_cover_every_frame(tmp_path):
    with pytest.raises(LimitError, match="more frames than timestamps"):
        _encode.write_video(tmp_path / "short.mp4", _pictures(3), rate=Fraction(3), pts=[0, 1])
    assert not (tmp_path / "short.mp4").exists()
