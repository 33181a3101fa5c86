"""Notebook interop (issue 11): Frames behave as an array, and a Video or its sampled frames can be
watched inline (HTML5 <video> or GIF) and saved as a clip, at the rate the model samples."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import replace

import av
import numpy as np
import pytest
from PIL import Image

from mimo_nb.errors import LimitError
from mimo_nb.media.samples import read_frame_counter
from mimo_nb.media.video import Frames, Player, Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


@pytest.fixture(scope="module")
def video(clips):
    return Video.open(clips("watch.mp4", duration=3.0))


@pytest.fixture(scope="module")
def frames(video):
    return video.sample(fps=2)  # 6 frames at 160x128


def _data(html: str, mime: str) -> bytes:
    """The bytes of the one data: URI of ``mime`` in ``html``."""
    found = re.findall(rf"data:{re.escape(mime)};base64,([A-Za-z0-9+/=]+)", html)
    assert len(found) == 1, html[:300]
    return base64.b64decode(found[0])


# ---- Frames as an array ------------------------------------------------------------------------


def test_asarray_is_the_frames_without_a_copy(frames):
    array = np.asarray(frames)
    assert array is frames.array
    assert (
        array.shape == frames.shape == (6, 128, 160, 3)
        and frames.dtype == np.uint8
        and frames.ndim == 4
    )
    assert counters(array) == frames.indices.tolist()


def test_array_conversions_follow_numpy(frames):
    as_float = np.asarray(frames, dtype=np.float32)
    assert as_float.dtype == np.float32 and np.array_equal(as_float, frames.array)
    copied = np.array(frames)  # numpy copies by default
    copied[0] = 0
    assert frames.array[0].any()
    assert float(np.mean(frames)) == pytest.approx(float(frames.array.mean()))
    assert np.stack(list(frames)).shape == frames.shape
    if NUMPY2:
        with pytest.raises(ValueError, match="needs a copy"):
            np.asarray(frames, dtype=np.float32, copy=False)
        assert np.asarray(frames, copy=False) is frames.array


def test_an_integer_index_gives_one_frame(frames):
    first, last = frames[0], frames[-1]
    assert isinstance(first, np.ndarray) and first.shape == (128, 160, 3)
    assert (
        read_frame_counter(first) == frames.indices[0]
        and read_frame_counter(last) == frames.indices[-1]
    )
    assert np.array_equal(frames[np.int64(2)], frames.array[2])
    with pytest.raises(IndexError):
        frames[6]


def test_slices_lists_and_masks_give_frames(frames):
    middle = frames[1:4]
    assert isinstance(middle, Frames) and len(middle) == 3
    assert middle.indices.tolist() == frames.indices[1:4].tolist()
    assert middle.timestamps.tolist() == frames.timestamps[1:4].tolist()
    assert counters(middle.array) == middle.indices.tolist()
    twice = frames[[0, 0]]
    assert twice.repeated and twice.indices.tolist() == [frames.indices[0]] * 2
    assert not frames[::2].repeated and len(frames[::2]) == 3
    kept = frames[frames.timestamps >= 1.5]
    assert kept.timestamps.min() >= 1.5 and len(kept) == int((frames.timestamps >= 1.5).sum())
    assert frames[:, :8].shape == (6, 8, 160, 3)  # a tuple indexes the array, as numpy does


def test_iteration_and_len(frames):
    seen = list(frames)
    assert len(seen) == len(frames) == 6
    assert [read_frame_counter(f) for f in seen] == frames.indices.tolist()


def test_mediapy_shows_frames_as_they_are(frames):
    mediapy = pytest.importorskip("mediapy")
    html = mediapy.show_images(frames, columns=3, return_html=True)
    assert html.count("<img") == len(frames)


# ---- Frames.save -----------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [None, 0.5, 10])
def test_save_mp4_plays_the_frames_at_the_sampling_rate(frames, tmp_path, fps):
    out = frames.save(tmp_path / f"sampled_{fps}.mp4", fps=fps)
    rate = fps or frames.plan.fps
    saved = Video.open(out)
    assert saved.codec == "h264" and (saved.width, saved.height) == (160, 128)
    assert saved.native_fps == pytest.approx(rate) and saved.native_frame_count == len(frames)
    assert saved.duration == pytest.approx(len(frames) / rate)
    everything = saved.sample(fps=min(10, rate), size="native")  # one sample per saved frame
    assert counters(everything.array) == frames.indices.tolist()


def test_save_gif_keeps_every_frame_and_the_timing(frames, tmp_path):
    out = frames.save(tmp_path / "sampled.gif")
    with Image.open(out) as gif:
        durations, pictures = [], []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
            pictures.append(np.asarray(gif.convert("RGB")))
        assert gif.info.get("loop") == 0
    assert len(pictures) == len(frames) and durations == [500] * len(frames)
    assert counters(np.stack(pictures)) == frames.indices.tolist()


def test_save_other_formats_and_odd_sizes(frames, tmp_path):
    for suffix in (".mov", ".avi", ".wmv"):
        out = frames.save(tmp_path / f"sampled{suffix}")
        assert Video.open(out).native_frame_count == len(frames)
    odd = replace(frames, array=np.ascontiguousarray(frames.array[:, :127, :159]))
    saved = Video.open(odd.save(tmp_path / "odd.mp4"))  # YUV 4:2:0: padded to even sides
    assert (saved.width, saved.height) == (160, 128)
    assert counters(saved.sample(fps=2, size="native").array) == frames.indices.tolist()
    with pytest.raises(LimitError, match="no frames"):
        frames[0:0].save(tmp_path / "empty.mp4")


def test_save_is_repeatable(frames, tmp_path):
    digests = {
        hashlib.sha256(frames.save(tmp_path / f"again{i}.mp4").read_bytes()).hexdigest()
        for i in range(3)
    }
    assert len(digests) == 1


# ---- Frames.play -----------------------------------------------------------------------------


def test_play_embeds_an_h264_clip_of_the_sampled_frames(frames, tmp_path):
    player = frames.play()
    assert isinstance(player, Player) and player._repr_html_() == player.html
    assert "<video controls" in player.html and "type='video/mp4'" in player.html
    data = _data(player.html, "video/mp4")
    assert player.embedded_bytes == len(data)
    clip = tmp_path / "played.mp4"
    clip.write_bytes(data)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and float(stream.average_rate) == pytest.approx(
            2.0
        )
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert counters(np.stack(decoded)) == frames.indices.tolist()
    assert "6 frames at 160x128, 2 per second (3.0 s), the rate the model samples at" in player.html
    assert "6 frames" in repr(player) and "MP4" in repr(player)


def test_play_gif_and_a_faster_rate(frames):
    player = frames.play(fps=6, format="gif")
    data = _data(player.html, "image/gif")
    with Image.open(__import__("io").BytesIO(data)) as gif:
        assert gif.n_frames == len(frames) and gif.info["duration"] in (160, 170)
    assert "<video" not in player.html and "6 per second (1.0 s)" in player.html


def test_play_over_the_limit_is_a_note_not_a_player(frames):
    player = frames.play(max_bytes=100)
    assert "<video" not in player.html and "data:" not in player.html
    assert "frames.save('sampled.mp4')" in html.unescape(player.html) and "max_bytes" in player.html
    assert player.embedded_bytes == 0


def test_play_escapes_the_source_name(frames):
    player = replace(frames, source_name="<script>x</script>").play(format="gif")
    assert "<script>" not in player.html and "&lt;script&gt;" in player.html


# ---- Video.play ------------------------------------------------------------------------------


def test_video_play_embeds_the_file(video):
    player = video.play()
    assert _data(player.html, "video/mp4") == video.path.read_bytes()
    assert "width='160'" in player.html and "MP4 h264, 160x120, 3.0 s" in player.html
    assert player.embedded_bytes == video.size_bytes


def test_a_mov_plays_labelled_as_mp4(clips):
    player = Video.open(clips("watch.mov", duration=1.0)).play()
    assert "type='video/mp4'" in player.html and "quicktime" not in player.html


@pytest.mark.parametrize("suffix", [".avi", ".wmv"])
def test_formats_browsers_cannot_play_get_a_note(clips, suffix):
    player = Video.open(clips(f"watch{suffix}", duration=1.0)).play()
    assert "<video" not in player.html and "data:" not in player.html
    assert "Browsers cannot play" in player.html and "video.sample(fps=2).play()" in player.html


def test_a_big_file_is_linked_or_explained(video):
    note = video.play(max_bytes=1000)
    assert "<video" not in note.html and f"max_bytes={video.size_bytes}" in note.html
    assert note.embedded_bytes == 0
    remote = Video.open(video.path)
    remote.url = "https://example.com/watch.mp4"  # as Video.open(url) sets it
    linked = remote.play(max_bytes=1000)
    assert (
        "<source src='https://example.com/watch.mp4'" in linked.html
        and "played from its URL" in linked.html
    )


def test_players_display_in_ipython_and_survive_nbconvert(frames, video):
    # No shell: a global formatter would fool other tests.
    from IPython.core.formatters import DisplayFormatter

    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    players = [video.play(), frames.play(), frames.play(format="gif")]
    formatter = DisplayFormatter()
    notebook = nbformat.v4.new_notebook()
    for player in players:
        bundle, _ = formatter.format(player)
        assert bundle["text/html"] == player.html and bundle["text/plain"].startswith("<Player ")
        notebook.cells.append(
            nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=bundle)])
        )
    exported, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    assert exported.count("<video controls") == 2 and exported.count("data:image/gif;base64,") == 1
    assert _data(players[0].html, "video/mp4") == video.path.read_bytes()
    assert players[0].html.split("base64,")[1][:200] in exported
