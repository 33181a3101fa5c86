"""Probing and decoding: both backends return the frames asked for, at the size asked for."""

from __future__ import annotations

import dataclasses
import sys
import time
from fractions import Fraction

import numpy as np
import pytest

import mimo_nb.media.decode as decode
import mimo_nb.media.probe as probe_module
from mimo_nb.errors import LimitError, VideoError

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)


def _has_decord() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


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
    "suffix, fmt, mime",
    [
        (".mp4", "mp4", "video/mp4"),
        (".mov", "mov", "video/quicktime"),
        (".avi", "avi", "video/x-msvideo"),
        (".wmv", "wmv", "video/x-ms-wmv"),
    ],
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
    info = decode.probe(
        clips("gop10.mp4", duration=20, width=64, height=48, gop=10, preset="ultrafast")
    )
    assert info.keyframe_interval == 10
    indices = [5, 150, 151, 420, 599]
    frames = decode.read_frames(info, indices, size=(64, 48), prefer="pyav")
    assert counters(frames) == indices


def test_pyav_decodes_fewer_frames_when_it_seeks(clips):
    info = decode.probe(
        clips("gop10.mp4", duration=20, width=64, height=48, gop=10, preset="ultrafast")
    )
    stats: dict[str, int] = {}
    items = list(decode.iter_frames(info, [0, 300, 599], size=(64, 48), prefer="pyav", stats=stats))
    assert [item.index for item in items] == [0, 300, 599] and counters(
        np.stack([i.array for i in items])
    ) == [0, 300, 599]
    assert stats["runs"] == 3 and stats["decoded"] < 100  # three GOPs' worth, not 600 frames


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_gives_display_size_and_upright_frames(clips, rotation):
    info = decode.probe(clips(f"rot{rotation}.mp4", duration=1, rotation=rotation))
    assert info.rotation == rotation
    assert (info.width, info.height) == (160, 120)
    for prefer in ("decord", "pyav") if _has_decord() else ("pyav",):
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
        def VideoReader(self, *args, **kwargs):  # noqa: N802  (decord's name)
            raise RuntimeError("decord exploded")

    monkeypatch.setattr(decode, "_decord_module", lambda prefer=None: Broken())
    info = decode.probe(clips("fmt.mp4"))
    assert counters(decode.read_frames(info, [3, 4], size=(64, 48))) == [3, 4]


# ---- PyAV versions ------------------------------------------------------------------------


def test_open_input_leaves_out_metadata_errors_from_pyav_19(clips, monkeypatch):
    import av

    real_open = av.open

    def pyav19_open(file, mode="r", **kwargs):  # PyAV 19 has no metadata_errors parameter
        if "metadata_errors" in kwargs:
            raise TypeError("open() got an unexpected keyword argument 'metadata_errors'")
        return real_open(file, mode, **kwargs)

    monkeypatch.setattr(av, "open", pyav19_open)
    monkeypatch.setattr(probe_module, "_pyav_major", lambda: 19)
    info = decode.probe(clips("fmt.mp4"))
    assert counters(decode.read_frames(info, [2, 40], size=(64, 48), prefer="pyav")) == [2, 40]
    monkeypatch.setattr(probe_module, "_pyav_major", lambda: 18)
    with pytest.raises(TypeError):
        decode.probe(clips("fmt.mp4"))  # the shim is what makes it work: without it, PyAV 19 fails


# ---- Exact on every path: seeking and decoding through, constant and variable rate --------

ALWAYS_SEEK, NEVER_SEEK = -1.0, float("inf")


def _gop_clip(clips, vfr):
    if vfr:  # 30 fps for 2 s, then 5 fps for 4 s: 80 frames, a keyframe every 10
        times = [i / 30 for i in range(60)] + [2 + i / 5 for i in range(20)]
        return clips("gop10_vfr.mp4", frame_times=times, width=96, height=64, gop=10)
    return clips("gop10_cfr.mp4", duration=4, width=96, height=64, gop=10)


def _decode_in_parallel(monkeypatch, parallel: bool) -> list[int]:
    """Force the blocks-in-parallel path (blocks of 2 targets) or the one-decoder path; the list
    returned grows by the blocks decoded each time the parallel path runs."""
    monkeypatch.setattr(decode.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(decode, "PARALLEL_MIN_SEEKS", 1 if parallel else 10**9)
    monkeypatch.setattr(decode, "BLOCK_TARGETS", 2)
    monkeypatch.setattr(decode, "PARALLEL_TARGETS_PER_SEEK", 10**9)
    used: list[int] = []
    blocks = decode._blocks
    monkeypatch.setattr(
        decode, "_blocks", lambda *args: used.append(len(found := blocks(*args))) or found
    )
    return used


@pytest.mark.parametrize("vfr", [False, True], ids=["cfr", "vfr"])
@pytest.mark.parametrize(
    "seek_cost, parallel",
    [(ALWAYS_SEEK, False), (ALWAYS_SEEK, True), (3.0, False), (3.0, True), (NEVER_SEEK, False)],
    ids=["seek", "seek-parallel", "mixed", "mixed-parallel", "through"],
)
def test_frames_are_exact_on_every_pyav_path(clips, monkeypatch, vfr, seek_cost, parallel):
    used = _decode_in_parallel(monkeypatch, parallel)
    info = decode.probe(_gop_clip(clips, vfr))
    assert info.constant_rate is (not vfr) and info.keyframe_interval == 10
    wanted = [0, 1, 9, 10, 11, 33, 34, 35, 57, 58, 62, 79, 79, 5]
    stats: dict[str, int] = {}
    items = list(
        decode.iter_frames(
            info, wanted, size=(96, 64), prefer="pyav", seek_cost=seek_cost, stats=stats
        )
    )
    assert [i.index for i in items] == sorted(set(wanted))  # each once, in order, none stood in for
    assert all(i.source == i.index for i in items)
    assert counters(np.stack([i.array for i in items])) == sorted(set(wanted))
    if seek_cost == NEVER_SEEK:
        assert stats["runs"] == 1
    if seek_cost == ALWAYS_SEEK:
        assert stats["runs"] > 3
    assert bool(used and used[0] > 1) is (parallel and stats["runs"] > 1)


@pytest.mark.parametrize("parallel", [False, True], ids=["one-decoder", "parallel"])
@pytest.mark.parametrize("suffix", ["mp4", "mov"])
def test_a_seek_lands_on_the_keyframe_with_b_frames(clips, monkeypatch, suffix, parallel):
    used = _decode_in_parallel(monkeypatch, parallel)
    # veryfast has B-frames, so a keyframe's decode time is before its presentation time; seeking
    # from the decode time landed a whole keyframe interval early here (60 frames more per seek).
    info = decode.probe(
        clips(f"gop60_b.{suffix}", duration=8, width=96, height=64, gop=60, audio=False)
    )
    assert info.keyframe_interval == 60
    with decode.open_input(info.path) as container:
        order = [p.pts for p in container.demux(container.streams.video[0]) if p.size]
    assert order != sorted(order)  # B-frames: packets come out of presentation order
    wanted = [60, 120, 180]
    stats: dict[str, int] = {}
    items = list(
        decode.iter_frames(
            info, wanted, size=(96, 64), prefer="pyav", seek_cost=ALWAYS_SEEK, stats=stats
        )
    )
    assert counters(np.stack([i.array for i in items])) == wanted
    # each seek decoded its keyframe, not a whole keyframe interval before it
    assert stats["runs"] == 3 and stats["decoded"] <= 2 * len(wanted)
    assert bool(used) is parallel
    near = [61, 63, 125, 239]  # B-frames just after keyframes, reached by seeking: still exact
    frames = decode.read_frames(info, near, size=(96, 64), prefer="pyav")
    assert counters(frames) == near


@pytest.mark.parametrize("vfr", [False, True], ids=["cfr", "vfr"])
def test_decord_and_pyav_agree_at_constant_and_variable_rate(clips, vfr):
    pytest.importorskip("decord")
    info = decode.probe(_gop_clip(clips, vfr))
    wanted = [0, 7, 10, 31, 44, 59, 60, 61, 78]
    by_decord = decode.read_frames(info, wanted, size=(96, 64), prefer="decord")
    by_pyav = decode.read_frames(info, wanted, size=(96, 64), prefer="pyav")
    assert counters(by_decord) == counters(by_pyav) == wanted


def test_plan_seeks_only_where_it_skips_more_than_a_seek_costs():
    table = decode.FrameTable(
        pts=np.arange(600) * 512,
        time_base=Fraction(1, 15360),
        keys=np.arange(0, 600, 30),
        readable=600,
    )
    runs = decode.plan_runs(table, [5, 10, 40, 300, 301, 590], seek_cost=12)
    # 10 -> 40: the keyframe at 30 skips 19 frames (> 12): seek; 300 and 590 are far: seek
    assert runs == [
        decode.Run(None, (5, 10)),
        decode.Run(1, (40,)),
        decode.Run(10, (300, 301)),
        decode.Run(19, (590,)),
    ]
    assert decode.plan_runs(table, [5, 10, 40], seek_cost=25) == [decode.Run(None, (5, 10, 40))]
    assert decode.plan_runs(table, [200], seek_cost=12) == [decode.Run(6, (200,))]


def test_cancel_stops_the_decoder_early(clips):
    import threading

    info = decode.probe(
        clips("gop10.mp4", duration=20, width=64, height=48, gop=10, preset="ultrafast")
    )
    cancel = threading.Event()
    stats: dict[str, int] = {}
    got = []
    for item in decode.iter_frames(
        info, list(range(0, 600, 3)), size=(64, 48), prefer="pyav", cancel=cancel, stats=stats
    ):
        got.append(item.index)
        if len(got) == 2:
            cancel.set()
    assert got[:2] == [0, 3] and len(got) < 20 and stats["decoded"] < 100


def test_keyframe_preview_is_cheap_and_says_which_frames_it_shows(clips):
    info = decode.probe(
        clips("gop10.mp4", duration=20, width=64, height=48, gop=10, preset="ultrafast")
    )
    wanted = np.arange(5, 600, 20)
    array, sources = decode.read_keyframes(info, wanted, size=(64, 48), max_keyframes=8)
    assert array.shape == (len(wanted), 48, 64, 3)
    assert set(sources.tolist()) <= set(range(0, 600, 10)) and len(set(sources.tolist())) <= 8
    assert counters(array) == sources.tolist()  # each entry really is the keyframe it names


@pytest.mark.parametrize("prefer", ["pyav", "decord"])
def test_sink_gets_each_decoded_frame_before_it_is_yielded(clips, prefer):
    if prefer == "decord":
        pytest.importorskip("decord")
    import threading

    info = decode.probe(_gop_clip(clips, vfr=False))
    placed: dict[int, int] = {}
    threads: set[str] = set()

    def sink(index: int, pixels: np.ndarray) -> None:
        placed[index] = counters(pixels[None])[0]
        threads.add(threading.current_thread().name)

    for item in decode.iter_frames(info, [3, 40, 41, 79], size=(96, 64), prefer=prefer, sink=sink):
        assert placed[item.index] == item.index  # already handed over, and the right picture
    assert sorted(placed) == [3, 40, 41, 79]
    if prefer == "pyav":  # written off the thread that feeds the decoder
        assert threading.current_thread().name not in threads
