"""Completion.timeline: an answer's times tied to the frames its request sent, shown as chips.

The end-to-end check uses the rule-based stand-in (``MockMimoServer(answer="rules")``): it reads
the frame counters of the frames it samples and says "At MM:SS.ff the counter reads N", so each
frame a time links to must show N.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from test_xss import HOSTILE, assert_inert, parse

import mimo_nb as mn
from mimo_nb.api.response import STAND_IN, Completion, spec_example_completion
from mimo_nb.api.timeline import NOT_KNOWN, Timeline, timemap_of
from mimo_nb.core.timemap import TimeMap
from mimo_nb.display import render
from mimo_nb.media import decode
from mimo_nb.testing import MockMimoServer

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

KEY = "test-key"
SAID = re.compile(r"At (\d\d:\d\d\.\d\d) the counter reads (\d+)\.")


@pytest.fixture(scope="module")
def ten_seconds(clips) -> Path:  # noqa: F811
    return clips("ten.mp4", duration=10.0, audio=False)


@pytest.fixture(scope="module")
def asked(ten_seconds: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Completion, Path]:
    """The stand-in's live answer about the 10 s clip at fps 0.5, and the cache it is in."""
    cache = tmp_path_factory.mktemp("cache")
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        with mn.MimoClient(KEY, base_url=server.base_url, cache=cache, max_retries=0) as client:
            return client.ask(ten_seconds, "What does the counter read?", fps=0.5), cache


# ---- The mapping ------------------------------------------------------------------------------


def test_a_time_between_two_samples_at_fps_half_and_one_past_the_end(ten_seconds: Path) -> None:
    video = mn.Video.open(ten_seconds)
    timemap = timemap_of(video, 0.5)
    assert timemap.request_times == (0.0, 2.0, 4.0, 5.966666667, 7.966666667, 9.966666667)
    line = Timeline.of("At 00:03 the ball; at 00:12 the end; 00:01 - 00:05 it rolls.", timemap)
    between, past, span = line.times
    assert [f.request_index for f in between.frames] == [1, 2]
    assert [f.file_index for f in between.frames] == [60, 120]
    assert between.gap == 1.0 and between.flags == ("unseen",)
    assert past.flags == ("past_end",) and [f.request_index for f in past.frames] == [5]
    assert span.flags == () and span.gap == 0 and [f.request_time for f in span.frames] == [2, 4]
    table = line.to_pandas()
    assert table["flags"].tolist() == ["unseen", "past_end", ""]
    assert table["file_indices"].tolist() == [[60, 120], [299], [60, 120]]


def test_a_range_between_two_samples_is_uncovered() -> None:
    every_2s = TimeMap((0, 2, 4, 6, 8), (0, 60, 120, 180, 240), duration=10)
    (item,) = Timeline.of("from 00:02.50 to 00:03.50", every_2s).times
    assert item.flags == ("uncovered",) and item.gap == 0.5


def test_a_time_rounded_to_the_videos_end_is_not_past_it() -> None:
    clip = TimeMap((0, 1, 2, 2.9), (0, 30, 60, 87), duration=2.97)
    assert [t.flags for t in Timeline.of("(00:02 - 00:03), at 00:03, 00:04", clip).times] == [
        (),
        (),
        ("past_end",),
    ]


def test_a_range_holding_a_frame_within_its_precision_has_no_gap() -> None:
    clip = TimeMap((0, 2.4), (0, 72), duration=3)
    (item,) = Timeline.of("00:01 - 00:02", clip).times
    assert item.gap == 0 and [f.request_time for f in item.frames] == [2.4]


def test_a_timeline_of_hostile_numbers_never_raises() -> None:
    """Completion.timeline never raises: numbers too long to convert, longer than any video or
    finer than a nanosecond are passed over (a ValueError, a LimitError from the time map and
    a refused precision before); the times around them still count."""
    every_2s = TimeMap((0, 2, 4, 6, 8), (0, 60, 120, 180, 240), duration=10)
    text = (
        "at 00:04, then " + "7" * 5000 + " s, at 9999999999 s, at 0." + "3" * 400 + "s, "
        "at 12,000,000,000 s and at 1,000.5 s; 00:02 - 00:04"
    )
    line = Timeline.of(text, every_2s)
    assert [t.ref.text for t in line.times] == ["00:04", "1,000.5 s", "00:02 - 00:04"]
    assert [t.flags for t in line.times] == [(), ("past_end",), ()]
    assert "1,000.5 s" in line._repr_html_()


def test_a_timeline_without_its_request_says_so() -> None:
    done = Completion(None, None, "at 00:03 a cat")
    line = done.timeline
    assert not line.known and line.times == () and [r.text for r in line.refs] == ["00:03"]
    assert line.note == NOT_KNOWN and "for_request" in str(line)
    assert line.to_pandas()["gap"].isna().all()
    assert "not tied to frames" in line._repr_html_()


def test_a_recorded_answer_tied_to_a_request(clips) -> None:  # noqa: F811
    clip = clips("three.mp4", duration=3.0)
    request = mn.MimoClient().build_request(clip, "Describe the video.", fps=2)
    recorded = spec_example_completion()
    recorded = Completion(**{**recorded.__dict__, "content": recorded.reasoning_content or ""})
    done = recorded.for_request(request)
    line = done.timeline
    assert done.origin == "recorded" and line.known and line.label.startswith("recorded example")
    assert [r.text for r in line.refs] == ["(00:00 - 00:01)", "(00:01 - 00:02)", "(00:02 - 00:03)"]
    assert all(not t.flags for t in line.times)
    with pytest.raises(mn.LimitError, match="PreparedRequest"):
        recorded.for_request("clip.mp4")  # type: ignore[arg-type]


# ---- The stand-in, end to end -------------------------------------------------------------------


def test_each_linked_frame_shows_what_the_stand_in_says(
    asked: tuple[Completion, Path], ten_seconds: Path
) -> None:
    done, _ = asked
    assert done.model == STAND_IN and done.stand_in and done.origin == "live"
    claims = dict(SAID.findall(done.content))
    assert len(claims) == 3
    line = done.timeline
    info = mn.Video.open(ten_seconds).probe_info
    checked = 0
    for item in line.times:
        if item.ref.text not in claims:
            continue
        nearest = min(item.frames, key=lambda f: abs(f.request_time - item.ref.start))
        (frame,) = decode.read_frames(info, [nearest.file_index])
        assert counters(frame[None]) == [int(claims[item.ref.text])]
        assert item.gap <= item.ref.precision / 2 and not item.flags
        checked += 1
    assert checked == 3
    assert [t.ref.text for t in line.flagged] == ["00:01.00"]  # the moment it says it did not see


def test_every_display_says_it_is_a_stand_in(asked: tuple[Completion, Path]) -> None:
    done, _ = asked
    assert STAND_IN in str(done) and STAND_IN in render.completion_text(done)
    assert STAND_IN in render.completion_html(done) and STAND_IN in str(done.timeline)
    assert STAND_IN in done.timeline._repr_html_()


def test_a_replay_from_the_cache_keeps_its_timeline(
    asked: tuple[Completion, Path], ten_seconds: Path
) -> None:
    done, cache = asked
    with mn.MimoClient(KEY, base_url="http://127.0.0.1:9/v1", cache=cache, offline=True) as client:
        again = client.ask(ten_seconds, "What does the counter read?", fps=0.5)
    assert again.origin == "cache" and again.stand_in
    assert again.timeline.times == done.timeline.times
    assert "replayed from cache" in again.timeline.label


def test_a_streamed_answer_keeps_its_request(ten_seconds: Path) -> None:
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0) as client:
            stream = client.ask(ten_seconds, "Count.", fps=0.5, stream=True)
            for _ in stream:
                pass
    assert stream.completion is not None and stream.completion.timeline.known


def test_the_stand_in_says_nothing_about_a_url() -> None:
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0) as client:
            done = client.ask("https://example.com/a.mp4", "Count.")
    assert "say nothing" in done.content and not done.timeline.known
    with pytest.raises(mn.LimitError, match="answer must be"):
        MockMimoServer(answer="model")


# ---- Rendering ------------------------------------------------------------------------------


class Chips(HTMLParser):
    """Each chip's summary text and the captions of the frames it opens."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chips: list[dict[str, list[str]]] = []
        self._in: str | None = None
        self._chip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details" and ("class", "mimo-chip") in attrs:
            self.chips.append({"summary": [], "captions": [], "images": []})
            self._chip = True
        elif self._chip and tag in ("summary", "figcaption"):
            self._in = tag
        elif self._chip and tag == "img":
            self.chips[-1]["images"].append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None
        elif tag == "details":
            self._chip = False

    def handle_data(self, data: str) -> None:
        if self._in == "summary":
            self.chips[-1]["summary"].append(data)
        elif self._in == "figcaption":
            self.chips[-1]["captions"].append(data)


def test_the_answer_shows_each_time_as_a_chip_with_its_frames(
    asked: tuple[Completion, Path],
) -> None:
    done, _ = asked
    html = render.completion_html(done)
    parser = Chips()
    parser.feed(html)
    chips = parser.chips
    said = ["".join(c["summary"]).rstrip(" ⚠") for c in chips]
    assert said == [r.text for r in done.timeline.refs]
    for chip, item in zip(chips, done.timeline.times, strict=True):
        assert len(chip["images"]) == len(item.frames)
        assert all(src.startswith("data:image/jpeg;base64,") for src in chip["images"])
        assert chip["captions"] == [
            f"frame {f.request_index} · {mn.core.times.write_time(f.request_time, 3)} · "
            f"file #{f.file_index}"
            for f in item.frames
        ]
    assert "<svg class='mimo-timeline-strip'" in html and html.count("mimo-flagged") == 1
    assert "<script" not in html.lower()
    # one tick per frame sent, one span per time
    assert html.count("<line x1") >= 6 + len(chips) and html.count("class='mimo-span'") == 5


def test_an_answer_without_its_request_renders_as_before() -> None:
    done = Completion("x", "mimo-v2.5", "at 00:03 a cat", finish_reason="stop")
    html = render.completion_html(done)
    assert "mimo-chip" not in html and "<svg" not in html and "at 00:03 a cat" in html


def _line(text: str) -> Timeline:
    return Timeline.of(text, TimeMap((0, 1, 2, 3), (0, 30, 60, 90), duration=4, label="clip.mp4"))


HARMLESS = "at 00:01, then <12.5 seconds> and 00:02 - 00:03"


@pytest.fixture(scope="module")
def chip_styles() -> set[str]:
    html = render.answer_html(_line(HARMLESS)) + render.timeline_html(_line(HARMLESS))
    return {v for _, attrs in parse(html) for n, v in attrs if n == "style" and v}


def _inert_chips(html: str, styles: set[str]) -> None:
    """Model text around chips stays inert; our own strip (svg) is the only svg."""
    ours = re.sub(r"<svg class='mimo-timeline-strip'.*?</svg>", "", html, flags=re.S)
    assert_inert(ours, styles)


@pytest.mark.parametrize(
    "text",
    [
        "<script>at 00:01</script> then <12.5 seconds> and 00:02 - 00:03",
        '"at 00:01" then \'<12.5 seconds>\' and "00:02 - 00:03" onmouseover="alert(1)"',
        "[at 00:01](javascript:alert(1)) then <12.5 seconds> and 00:02 - 00:03",
        "[link](https://evil.example/00:01) then <12.5 seconds> and 00:02 - 00:03",
        "at 00:01 \ue0000\ue001 then <12.5 seconds> and 00:02 - 00:03 \ue0001\ue001",
        *(f"{h} at 00:01, then <12.5 seconds> and 00:02 - 00:03" for h in HOSTILE),
    ],
)
def test_chips_keep_model_text_inert(text: str, chip_styles: set[str]) -> None:
    line = _line(text)
    for html in (render.answer_html(line), render.timeline_html(line)):
        _inert_chips(html, chip_styles)
    answer = render.answer_html(line)
    assert answer.count("class='mimo-chip'") == len(line.refs)
    assert "\ue000" not in answer and "\ue001" not in answer


def test_a_time_inside_script_text_stays_text() -> None:
    html = render.answer_html(_line("<script>alert('at 00:01')</script>"))
    assert "&lt;script&gt;alert(" in html and "<script" not in html
    assert html.count("class='mimo-chip'") == 1


def test_the_strip_marks_the_flagged_time() -> None:
    line = _line("at 00:01.50 and at 00:09")
    strip = render.timeline_strip_html(line)
    titles = re.findall(r"<g class='mimo-span' data-time='\d'><title>([^<]*)</title>", strip)
    assert len(titles) == 2 and "unseen" in titles[0] and "past_end" in titles[1]
    assert strip.count("⚠") == 2 and np.isclose(line.times[1].gap, 6.0)
