"""Probing and decoding: both backends return the frames asked for, at the size asked for."""
from __future__ import annotations

import sys

import dataclasses
import time

import numpy as np
import pytest

import mimo_nb.decode as decode
from mimo_nb.errors import LimitError, VideoError
from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)


def test_backend_is_pyav_by_default_and_env_asks_for_decord(monkeypatch):
    pytest.importorskip("decord")
    monkeypatch.delenv("MIMO_NB_BACKEND", raising=False)
    assert decode.decode_backend() == "pyav"
    monkeypatch.setenv("MIMO_NB_BACKEND", "decord")
    assert decode.decode_backend() == "decord"
    monkeypatch.setenv("MIMO_NB_BACKEND", "auto")
    assert decode.decode_backend() == "pyav"
    monkeypatch.setenv("MIMO_NB_BACKEND", "opencv")
    with pytest.raises(LimitError, match="not a backend"):
        decode.decode_backend()


def test_asking_for_decord_without_it_says_how_to_install(monkeypatch):
    monkeypatch.setenv("MIMO_NB_BACKEND", "decord")
    monkeypatch.setitem(sys.modules, "decord", None)  # import decord now raises ImportError
    with pytest.raises(LimitError, match=r"mimo_nb\[decord\]"):
        decode.decode_backend()


@pytest.mark.parametrize(
    "suffix, fmt, mime", [(".mp4", "mp4", "video/mp4"), (".mov", "mov", "video/quicktime"),
                          (".avi", "avi", "video/x-msvideo"), (".wmv", "wmv", "video/x-ms-wmv")],
)
def test_probe_each_format(clips, suffix, fmt, mime):
    info = decode.probe(clips(f"fmt{suffix}"))
    assert (info.format, info.mime_type) == (fmt, mime)
    assert (info.width, info.height, info.rotation) == (160, 120, 0)
    assert info.native_fps == pytest.approx(30.0)
    assert info.frame_count == 60
    assert info.duration == pytest.approx(2.0)
    assert info.has_audio and info.constant_rate


def test_probe_without_audio(clips):
    assert not decode.probe(clips("mute.mp4", audio=False)).has_audio


SPARSE = [0, 7, 7, 3, 31, 59, 12, 44, 59]


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".avi", ".wmv"])
@pytest.mark.parametrize("prefer", ["decord", "pyav"])
def test_backends_return_the_frames_asked_for(clips, suffix, prefer):
    if prefer == "decord":
        pytest.importorskip("decord")
    info = decode.probe(clips(f"fmt{suffix}"))
    frames = decode.read_frames(info, SPARSE, size=(160, 128), prefer=prefer)
    assert frames.shape == (len(SPARSE), 128, 160, 3) and frames.dtype == np.uint8
    assert counters(frames) == SPARSE  # order and repeats kept, every frame the right one


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_backends_agree_on_a_longer_clip_with_random_indices(clips, suffix):
    pytest.importorskip("decord")
    info = decode.probe(clips(f"long{suffix}", duration=12, width=96, height=64, gop=24))
    indices = np.sort(np.random.default_rng(1).choice(info.frame_count, 40, replace=False))
    by_decord = decode.read_frames(info, indices, size=(128, 96), prefer="decord")
    by_pyav = decode.read_frames(info, indices, size=(128, 96), prefer="pyav")
    assert counters(by_decord) == counters(by_pyav) == list(indices)


def test_pyav_seeks_over_long_gaps_and_stays_exact(clips):
    info = decode.probe(clips("gop10.mp4", duration=20, width=64, height=48, gop=10, preset="ultrafast"))
    assert info.keyframe_interval == 10
    indices = [5, 150, 151, 420, 599]
    frames = decode.read_frames(info, indices, size=(64, 48), prefer="pyav")
    assert counters(frames) == indices


def test_pyav_decodes_fewer_frames_when_it_seeks(clips, monkeypatch):
    info = decode.probe(clips("gop10.mp4", duration=20, width=64, height=48, gop=10, preset="ultrafast"))
    seen = 0
    real_index = decode._frame_index

    def counting(*args):
        nonlocal seen
        seen += 1
        return real_index(*args)

    monkeypatch.setattr(decode, "_frame_index", counting)
    decode.read_frames(info, [0, 300, 599], size=(64, 48), prefer="pyav")
    assert seen < 100  # three GOPs' worth, not 600 frames


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_gives_display_size_and_upright_frames(clips, rotation):
    info = decode.probe(clips(f"rot{rotation}.mp4", duration=1, rotation=rotation))
    assert info.rotation == rotation
    assert (info.width, info.height) == (160, 120)
    for prefer in ("decord", "pyav"):
        model = decode.read_frames(info, [0, 9, 29], size=(160, 128), prefer=prefer)
        assert model.shape == (3, 128, 160, 3)
        assert counters(model) == [0, 9, 29]  # readable only when upright
    native = decode.read_frames(info, [4], prefer="pyav")
    assert native.shape == (1, 120, 160, 3) and counters(native) == [4]


def test_native_size(clips):
    info = decode.probe(clips("fmt.mp4"))
    frames = decode.read_frames(info, [1, 2], size=None)
    assert frames.shape == (2, 120, 160, 3)


def test_indices_are_clamped_and_empty_is_fine(clips):
    info = decode.probe(clips("fmt.mp4"))
    assert counters(decode.read_frames(info, [-5, 1000], size=(64, 48))) == [0, 59]
    assert decode.read_frames(info, [], size=(64, 48)).shape == (0, 48, 64, 3)


def test_over_reported_frame_count_does_not_hang(clips):
    # A header promising more frames than exist is what makes decord's get_batch hang (#373).
    info = dataclasses.replace(decode.probe(clips("fmt.mp4")), frame_count=600)
    start = time.monotonic()
    frames = decode.read_frames(info, [0, 59, 300, 599], size=(64, 48), timeout=20)
    assert time.monotonic() - start < 10
    assert counters(frames) == [0, 59, 59, 59]  # past the real end: the last real frame


def test_deadline_raises_video_error(clips):
    info = decode.probe(clips("fmt.mp4"))
    with pytest.raises(VideoError) as caught:
        decode.read_frames(info, list(range(60)), size=(160, 128), timeout=0.0)
    assert caught.value.reason == "timeout"


def test_decord_failure_falls_back_to_pyav(clips, monkeypatch):
    pytest.importorskip("decord")

    class Broken:
        def VideoReader(self, *args, **kwargs):
            raise RuntimeError("decord exploded")

    monkeypatch.setattr(decode, "_decord_module", lambda prefer=None: Broken())
    info = decode.probe(clips("fmt.mp4"))
    assert counters(decode.read_frames(info, [3, 4], size=(64, 48))) == [3, 4]
