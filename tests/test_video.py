"""Video and Frames: the frames the model sees match the token formula, frame by frame."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mimo_nb.media.decode as decode
from mimo_nb.core import tokens
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media.video import Frames, Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)

# (clip seconds, native fps): durations that land on and between the formula's boundaries
CLIPS = [(1.0, 30), (2.5, 24), (3.0, 30), (7.1, 10)]
FPS = [0.1, 0.5, 1, 2, 3.3, 10]


@pytest.mark.parametrize("seconds, native", CLIPS)
def test_sample_matches_the_token_formula(clips, seconds, native):
    video = Video.open(
        clips(f"dur{seconds}_{native}.mp4", duration=seconds, fps=native, width=96, height=64)
    )
    assert video.native_frame_count == round(seconds * native)
    assert video.duration == pytest.approx(video.native_frame_count / native)
    for fps in FPS:
        breakdown = video.estimate(fps=fps)
        plan = video.plan(fps=fps)
        frames = video.sample(fps=fps)
        assert (
            len(frames)
            == plan.frames
            == breakdown.frames
            == tokens.sampled_frame_count(video.duration, fps)
        )
        assert frames.array.shape == (plan.frames, breakdown.height, breakdown.width, 3)
        expected = np.round(np.linspace(0, video.native_frame_count - 1, plan.frames)).astype(
            np.int64
        )
        assert np.array_equal(frames.indices, expected)
        assert counters(frames.array) == expected.tolist()  # the pixels are those frames
        assert np.allclose(frames.timestamps, expected / native)
        assert frames.repeated == (len(set(expected.tolist())) < len(expected))


def test_backends_agree_through_video_sample(clips, monkeypatch):
    pytest.importorskip("decord")
    video = Video.open(clips("agree.mov", duration=3))
    assert decode.decode_backend() == "pyav"
    by_pyav = video.sample(fps=3.3)
    monkeypatch.setenv("MIMO_NB_BACKEND", "decord")
    by_decord = Video.open(video.path).sample(fps=3.3)
    assert np.array_equal(by_decord.indices, by_pyav.indices)
    assert counters(by_decord.array) == counters(by_pyav.array) == by_decord.indices.tolist()


def test_fps_above_native_repeats_frames_and_says_so(clips):
    video = Video.open(clips("slow.mp4", duration=2, fps=4))  # 8 frames
    frames = video.sample(fps=10)
    assert len(frames) == 20 == video.estimate(fps=10).frames
    assert frames.repeated
    assert "repeat" in frames.note and "20 frames" in frames.note
    assert counters(frames.array) == frames.indices.tolist()
    assert "repeat" in frames.to_html()


def test_properties_and_metadata(clips):
    path = clips("fmt.mp4")
    video = Video.open(path)
    assert (video.format, video.mime_type, video.width, video.height) == (
        "mp4",
        "video/mp4",
        160,
        120,
    )
    assert video.has_audio and video.size_bytes == path.stat().st_size and video.name == "fmt.mp4"
    assert video.url is None and video.path == path
    assert video.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert video.estimate().audio > 0


def test_no_audio_means_mute_estimate(clips):
    video = Video.open(clips("mute.mp4", audio=False))
    breakdown = video.estimate()
    assert breakdown.mute and breakdown.audio == 0


def test_native_size_and_rotation(clips):
    video = Video.open(clips("rot90.mp4", duration=1, rotation=90))
    assert (video.width, video.height, video.rotation) == (160, 120, 90)
    native = video.sample(fps=2, size="native")
    assert native.array.shape[1:] == (120, 160, 3) and native.size == "native"
    assert counters(native.array) == native.indices.tolist()
    with pytest.raises(LimitError):
        video.sample(size="huge")


def test_limits_come_from_the_core(clips):
    video = Video.open(clips("fmt.mp4"))
    for bad in (0.05, 11):
        with pytest.raises(LimitError):
            video.sample(fps=bad)
    with pytest.raises(LimitError):
        video.estimate(media_resolution="high")


def test_open_bytes(clips):
    data = clips("fmt.mov").read_bytes()
    video = Video.open(data)
    assert video.format == "mov" and video.native_frame_count == 60
    temp = video.path
    assert temp.exists()
    del video
    import gc

    gc.collect()
    assert not temp.exists()  # the temp copy goes with the object
    with pytest.raises(VideoError) as caught:
        Video.open(b"")
    assert caught.value.reason == "empty"


class _Server:
    """A tiny HTTP server on 127.0.0.1 serving one clip, a 404, and a lying huge file."""

    def __init__(self, clip: Path) -> None:
        body = clip.read_bytes()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path == "/clip.mp4":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/huge.mp4":
                    self.send_response(200)
                    self.send_header("Content-Length", str(400 * 2**20))
                    self.end_headers()
                    self.wfile.write(b"\0" * 1024)
                else:
                    self.send_response(404)
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server(clips):
    srv = _Server(clips("fmt.mp4"))
    yield srv
    srv.httpd.shutdown()


def test_open_url(server):
    video = Video.open(f"{server.base}/clip.mp4", timeout=10)
    assert video.url == f"{server.base}/clip.mp4" and video.name == "clip.mp4"
    assert video.native_frame_count == 60 and video.path.exists()


@pytest.mark.parametrize("path, reason", [("/huge.mp4", "too_large"), ("/missing.mp4", "download")])
def test_open_url_errors(server, path, reason):
    with pytest.raises(VideoError) as caught:
        Video.open(server.base + path, timeout=10)
    assert caught.value.reason == reason


def test_unreachable_url():
    with pytest.raises(VideoError) as caught:
        Video.open("http://127.0.0.1:9/clip.mp4", timeout=2)
    assert caught.value.reason == "download"


def test_html_card_and_grid_escape_names(clips, clip_dir):
    source = clips("fmt.mp4")
    odd = clip_dir / "<b>x&y.mp4"
    odd.write_bytes(source.read_bytes())
    video = Video.open(odd)
    card = video._repr_html_()
    assert "<b>x" not in card and "&lt;b&gt;x&amp;y.mp4" in card
    assert card.count("<img") == 6 and "160 x 120" in card
    frames = video.sample(fps=2)
    grid = frames._repr_html_()
    assert grid.count("<img") == len(frames) == 4
    for t in frames.timestamps:
        assert f"{t:.2f} s" in grid
    assert frames.to_html(max_frames=2).count("<img") == 2


def test_contact_sheet_png(clips, tmp_path):
    frames = Video.open(clips("fmt.mp4")).sample(fps=3)
    out = frames.save_contact_sheet(tmp_path / "sheet.png", columns=3)
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 3 * 160 and image.size[1] >= 2 * 128
    assert isinstance(frames, Frames) and "Frames 6" in repr(frames)


def test_progress_callback(clips):
    seen = []
    Video.open(clips("fmt.mp4")).sample(
        fps=2, progress=lambda done, total: seen.append((done, total))
    )
    assert seen and seen[-1] == (4, 4)


def test_open_url_goes_through_the_seam_with_a_transport(clips, monkeypatch):
    import httpx

    from mimo_nb.errors import ConfigurationError

    body = clips("fmt.mp4").read_bytes()
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.url.path == "/gone.mp4":
            return httpx.Response(404)
        return httpx.Response(200, content=body, headers={"Content-Length": str(len(body))})

    transport = httpx.MockTransport(handler)
    video = Video.open("https://videos.invalid/a/clip.mp4", timeout=10, transport=transport)
    assert seen == [("GET", "/a/clip.mp4")] and video.native_frame_count == 60
    assert video.url == "https://videos.invalid/a/clip.mp4" and video.name == "clip.mp4"
    with pytest.raises(VideoError) as caught:
        Video.open("https://videos.invalid/gone.mp4", timeout=10, transport=transport)
    assert caught.value.reason == "download"
    with pytest.raises(ConfigurationError, match="BaseTransport"):
        Video.open("https://videos.invalid/a/clip.mp4", transport=httpx.AsyncHTTPTransport())
    monkeypatch.setenv("MIMO_NB_OFFLINE", "1")
    with pytest.raises(VideoError) as caught:
        Video.open("https://videos.invalid/a/clip.mp4", timeout=10, transport=transport)
    assert caught.value.reason == "offline" and len(seen) == 2  # offline: the network untouched
