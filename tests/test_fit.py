"""fit(): the re-encoded clip costs the same tokens, shows the same frames, and fits the limit."""

from __future__ import annotations

import av
import pytest

from mimo_nb.core.limits import base64_length
from mimo_nb.errors import LimitError
from mimo_nb.media.video import Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(60)


def same_cost(a, b):
    """Every field of two TokenBreakdowns but the source size (fit stores frames at model size)."""
    drop = {"source_width", "source_height"}
    left = {k: v for k, v in a.to_dict().items() if k not in drop}
    right = {k: v for k, v in b.to_dict().items() if k not in drop}
    return left == right and a.total == b.total


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("fit3s.mp4", dict(duration=3.0)),  # fps x duration lands exactly on whole frames
        ("fit_odd.avi", dict(duration=91 / 30)),
        ("fit.wmv", dict(duration=2.5, fps=24)),
        ("fit_vfr.mov", dict(duration=2, vfr=True)),
        ("fit_rot.mp4", dict(duration=1.5, rotation=90)),
    ],
)
@pytest.mark.parametrize("fps, resolution", [(2, "default"), (0.5, "default"), (10, "max")])
def test_fit_keeps_the_estimate_and_the_frames(clips, clip_dir, name, kwargs, fps, resolution):
    video = Video.open(clips(name, **kwargs))
    out = clip_dir / f"out_{fps}_{resolution}_{name}.mp4"
    fitted = video.fit(fps=fps, media_resolution=resolution, path=out)
    reprobed = Video.open(out)  # a fresh probe of the written file
    assert same_cost(reprobed.estimate(fps, resolution), video.estimate(fps, resolution))
    assert reprobed.duration == video.duration
    assert base64_length(out.stat().st_size) <= 50 * 2**20
    # the model sees the same pictures: its sample of the fitted clip is the original's sample
    original = video.sample(fps, resolution)
    again = reprobed.sample(fps, resolution)
    assert again.array.shape == original.array.shape
    assert counters(again.array) == original.indices.tolist()
    assert reprobed.has_audio == video.has_audio
    assert "sampled frames" in fitted.fit_note and fitted.format == "mp4"


def test_fit_keeps_the_audio(clips, clip_dir):
    video = Video.open(clips("fit3s.mp4", duration=3.0))
    fitted = video.fit(fps=2, path=clip_dir / "audio_kept.mp4")
    with av.open(str(fitted.path)) as container:
        audio = container.streams.audio[0]
        seconds = sum(f.samples for f in container.decode(audio)) / audio.rate
    assert seconds == pytest.approx(3.0, abs=0.05)
    assert "audio kept" in fitted.fit_note


def test_fit_refuses_when_nothing_fits(clips):
    video = Video.open(clips("fit3s.mp4", duration=3.0))
    with pytest.raises(LimitError) as caught:
        video.fit(fps=2, max_bytes=1000)
    assert "URL" in str(caught.value)


def test_fit_lowers_quality_to_fit(clips, clip_dir):
    video = Video.open(clips("fitbig.mp4", duration=2, width=640, height=480))
    best = video.fit(fps=10, path=clip_dir / "best.mp4")
    budget = base64_length(best.size_bytes) - 1  # just too small for the best quality
    smaller = video.fit(fps=10, max_bytes=budget, path=clip_dir / "smaller.mp4")
    assert base64_length(smaller.size_bytes) <= budget
    assert "CRF 20" in best.fit_note and "CRF 20" not in smaller.fit_note
    assert same_cost(smaller.estimate(fps=10), video.estimate(fps=10))


def test_fit_to_a_temp_file_without_audio(clips):
    video = Video.open(clips("mute.mp4", audio=False))
    fitted = video.fit(fps=2)
    assert not fitted.has_audio and fitted.path.exists()
    assert same_cost(fitted.estimate(), video.estimate())


def test_fit_is_repeatable_byte_for_byte(clips, clip_dir):
    """A fitted clip keys the response cache by its bytes: fitting twice must give the same file."""
    video = Video.open(clips("fit_again.mp4", duration=3.0, width=320, height=240))
    # fps 10 gives x264's lookahead enough frames to show its AVX-512 nondeterminism (see _x264.py)
    hashes = {video.fit(fps=10, path=clip_dir / f"again_{i}.mp4").sha256() for i in range(5)}
    assert len(hashes) == 1
