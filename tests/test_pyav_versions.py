"""Every PyAV release we support (av>=17.1 up to the newest) opens the same files."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from mimo_nb.media.decode import open_input
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video

from video_fixtures import counters

pytestmark = pytest.mark.timeout(60)

PLACEHOLDER = "MIMOTAG1"
SHIFT_JIS = "テスト動".encode("shift_jis")  # 8 bytes, like the placeholder; not UTF-8


def _clip_with_non_utf8_title(tmp_path: Path) -> Path:
    """An MP4 whose title tag is Shift-JIS, as an old Japanese camera writes it."""
    clean = generate_clip(
        tmp_path / "clean.mp4", duration=1, width=96, height=64, fps=10, audio=True
    )
    out = tmp_path / "tagged.mp4"
    with av.open(str(clean)) as src, av.open(str(out), "w", format="mp4") as dst:
        dst.metadata["title"] = PLACEHOLDER
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    data = out.read_bytes()
    assert data.count(PLACEHOLDER.encode()) == 1
    out.write_bytes(data.replace(PLACEHOLDER.encode(), SHIFT_JIS))
    return out


def test_a_tag_that_is_not_utf8_does_not_stop_the_video(tmp_path):
    """PyAV < 19 raises UnicodeDecodeError on such a tag unless told to ignore it; 19 removed that
    option."""
    path = _clip_with_non_utf8_title(tmp_path)
    with open_input(str(path)) as container:
        assert (
            container.metadata["title"] != PLACEHOLDER
        )  # the tag is there, in whatever form PyAV gives
    video = Video.open(path)
    assert video.native_frame_count == 10 and video.has_audio
    assert counters(video.sample(fps=10).array) == list(range(10))
