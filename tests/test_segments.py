"""Videos of any length (issue 20): plan, cut, show and ask segments longer than the caps."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import mimo_nb as mn
from mimo_nb.api.response import spec_example_json
from mimo_nb.core.limits import base64_length, max_base64_file_bytes
from mimo_nb.core.pricing import Prices
from mimo_nb.core.segments import SegmentPlan, plan_segments, plan_segments_array
from mimo_nb.core.timemap import ground
from mimo_nb.core.times import find_times
from mimo_nb.core.tokens import MAX_FRAMES, explain_video_tokens
from mimo_nb.corpus.long import LongAnswer, LongPart, ask_long, on_original_clock
from mimo_nb.errors import LimitError
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.segments import SegmentFile, VideoSegments, plan_video_segments
from mimo_nb.media.video import Video
from mimo_nb.testing import MockMimoServer

from server_fixtures import kill_after_answers
from video_fixtures import counters

pytestmark = pytest.mark.timeout(300)

LONG = dict(duration=360, width=64, height=48, fps=10, audio=False, preset="ultrafast")


def check_plan(plan: SegmentPlan) -> None:
    """The rules every plan keeps: within the caps, the fps honoured, no gap, one timeline."""
    slots: list[int] = []
    for k, s in enumerate(plan.segments):
        assert s.index == k and 2 <= s.frames <= MAX_FRAMES and s.frames % 2 == 0
        again = explain_video_tokens(
            s.file_duration,
            plan.width,
            plan.height,
            plan.fps,
            plan.media_resolution,
            mute=not plan.has_audio,
        )
        assert again.frames == s.frames and again.total == s.tokens  # the formula takes all
        assert s.est_bytes <= max_base64_file_bytes()
        assert s.start == pytest.approx(s.first_slot * plan.step, abs=1e-6)
        assert s.file_duration <= s.duration + 1e-9 and s.duration - s.file_duration < 1e-3
        slots += list(s.slots)
    assert plan.segments[0].start == 0 and plan.segments[-1].end == plan.duration
    for a, b in itertools.pairwise(plan.segments):
        assert b.own_start == a.end  # no gap, no overlap beyond the one asked
        assert b.first_slot == a.slots[-1] + 1 - plan.overlap_frames
    assert sorted(set(slots)) == list(range(plan.asked_frames))  # every frame asked, once more
    assert len(slots) == plan.asked_frames + plan.overlap_frames * (len(plan.segments) - 1)
    for request in plan.requests:
        if plan.context_length is not None:
            assert plan.request_tokens(plan.requests.index(request)) <= (
                plan.context_length - plan.reserve_tokens
            )
    assert [k for r in plan.requests for k in r] == list(range(len(plan.segments)))


@pytest.mark.parametrize(
    "duration, width, height, options",
    [
        (7200, 1920, 1080, dict(fps=2)),  # the lecture of the issue
        (7200, 1920, 1080, dict(fps=2, media_resolution="max", overlap=5)),
        (360, 64, 48, dict(fps=10, has_audio=False)),
        (5400.5, 1280, 720, dict(fps=0.7, native_fps=29.97)),
        (86_400, 640, 360, dict(fps=0.1)),  # a day of footage: the byte limit cuts it
        (3001, 1280, 720, dict(fps=3, max_frames_per_segment=600, overlap=2.5)),
        (12, 640, 360, dict(fps=2)),  # short: one segment, the whole video
        (900, 1920, 1080, dict(fps=4, context_length=262_144, per_request="pack")),
    ],
)
def test_every_plan_keeps_the_caps_the_fps_and_the_timeline(duration, width, height, options):
    plan = plan_segments(duration, width, height, **options)
    check_plan(plan)
    asked = plan.asked_frames
    assert plan.unsegmented.frames == min(asked, MAX_FRAMES)
    assert plan.unsegmented.lost_frames == asked - plan.unsegmented.frames


def test_the_lecture_keeps_its_fps_and_more_pixels_than_one_request():
    plan = plan_segments(7200, 1920, 1080, fps=2, native_fps=30, native_frame_count=216_000)
    one = plan.unsegmented
    assert (one.frames, round(one.effective_fps, 2), one.breakdown.width) == (2048, 0.28, 480)
    assert plan.total_frames == 14_400 and len(plan.segments) == 8
    assert all(s.width * s.height > one.pixels_per_frame for s in plan.segments)
    whole = plan.timemap  # one timeline: every slot's frame, in order
    assert len(whole) == 14_400 and whole.file_indices[:3] == (0, 15, 30)
    assert whole.file_indices[-1] == 215_985 and whole.duration == 7200


def test_packing_fills_the_context_and_one_per_request_does_not():
    packed = plan_segments(
        3600, 1280, 720, fps=2, context_length=400_000, per_request="pack", reserve_tokens=8000
    )
    assert len(packed.requests) < len(packed.segments)
    check_plan(packed)
    one = plan_segments(3600, 1280, 720, fps=2, context_length=400_000)
    assert one.requests == tuple((k,) for k in range(len(one.segments)))
    with pytest.raises(LimitError, match="over the context"):
        plan_segments(3600, 1280, 720, fps=2, context_length=50_000)
    with pytest.raises(LimitError, match="context_length="):
        plan_segments(3600, 1280, 720, fps=2, per_request="pack")


def test_a_budget_picks_the_largest_fps_whose_segments_fit():
    prices = Prices(input=2.0, cached_input=0.5, output=8.0, currency="CNY")
    for budget in (dict(max_tokens=500_000), dict(max_cost=0.5, prices=prices)):
        plan = plan_segments(7200, 1280, 720, **budget)
        check_plan(plan)
        above = plan_segments(7200, 1280, 720, fps=round(plan.fps + 0.1, 1), prices=prices)
        if "max_tokens" in budget:
            assert plan.total_tokens <= 500_000 < above.total_tokens
        else:
            assert plan.cost is not None and above.cost is not None
            assert plan.cost.total <= 0.5 < above.cost.total
        assert "largest" in plan.budget_note
    with pytest.raises(LimitError, match="no fps on the grid"):
        plan_segments(7200, 1280, 720, max_tokens=1000)
    with pytest.raises(LimitError, match="needs prices"):
        plan_segments(7200, 1280, 720, max_cost=1)


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(overlap=-1), "overlap must be"),
        (dict(overlap=200, max_frames_per_segment=400), "no new frames"),
        (dict(max_frames_per_segment=4096), "max_frames_per_segment must be"),
        (dict(per_request="two"), "per_request must be one of"),
        (dict(fps=20), "fps must be"),
    ],
)
def test_careless_arguments_say_what_to_do(options, match):
    with pytest.raises(LimitError, match=match):
        plan_segments(3600, 640, 360, **options)


def _scalar_row(plan: SegmentPlan) -> dict[str, int]:
    return dict(
        segments=len(plan.segments),
        asked_frames=plan.asked_frames,
        frames=plan.total_frames,
        longest=max(s.frames for s in plan.segments),
        max_frames_per_segment=plan.max_frames_per_segment,
        tokens=plan.total_tokens,
        est_bytes=sum(s.est_bytes for s in plan.segments),
        unsegmented_frames=plan.unsegmented.frames,
        unsegmented_tokens=plan.unsegmented.breakdown.total,
    )


@pytest.mark.parametrize(
    "options", [{}, dict(overlap=3.0), dict(overlap=1.0, max_frames_per_segment=600)]
)
def test_the_array_planner_gives_every_video_the_scalar_plans_numbers(options):
    rng = np.random.default_rng(20)
    n = 300
    duration = np.round(rng.uniform(1, 4 * 3600, n), 3)
    duration[:20] = rng.uniform(0.05, 2, 20)  # shorter than one slot pair
    duration[20:30] = [86_400, 7200, 7200.5, 3600, 59.97, 1e5, 1, 0.1, 1801, 5400.5]
    sizes = np.array([(1920, 1080), (1280, 720), (640, 360), (3840, 2160), (720, 1280), (100, 20)])
    width, height = sizes[rng.integers(0, len(sizes), n)].T
    fps = rng.choice([0.1, 0.2, 0.5, 0.7, 1, 2, 3, 5, 10], n)  # low fps: the byte limit cuts
    resolution = rng.choice(["default", "max"], n)
    audio = rng.random(n) < 0.7
    out = plan_segments_array(
        duration, width, height, fps=fps, media_resolution=resolution, has_audio=audio, **options
    )
    assert set(out) == set(_scalar_row(plan_segments(60, 64, 48)))
    assert (out["max_frames_per_segment"] < 2048).any()  # the byte limit was exercised
    assert (out["segments"] > 1).sum() > n // 3
    for i in range(n):
        plan = plan_segments(
            float(duration[i]),
            int(width[i]),
            int(height[i]),
            fps=float(fps[i]),
            media_resolution=str(resolution[i]),
            has_audio=bool(audio[i]),
            **options,
        )
        assert {k: int(v[i]) for k, v in out.items()} == _scalar_row(plan), i


def test_the_array_planner_broadcasts_and_refuses_what_the_scalar_refuses():
    out = plan_segments_array([[600], [7200]], 1280, 720, fps=[1, 2, 5])
    assert out["segments"].shape == (2, 3)
    assert out["tokens"][1, 1] == plan_segments(7200, 1280, 720, fps=2).total_tokens
    with pytest.raises(LimitError, match="video 1: an overlap"):
        plan_segments_array([10, 7200], 640, 360, fps=2, overlap=600, max_frames_per_segment=100)
    with pytest.raises(LimitError, match="fps"):
        plan_segments_array([10, 20], 640, 360, fps=[2, 50])


def test_segment_times_map_onto_the_original():
    plan = plan_segments(360, 64, 48, fps=10, native_fps=10, native_frame_count=3600)
    second = plan.segments[1]
    assert (second.start, second.end) == (180.0, 360.0)
    (at,) = ground(find_times("the light turns red at 00:10"), second.timemap)
    assert at.source_start == 190.0 and [f.file_index for f in at.frames] == [1900]
    assert second.part_line(2) == (
        "This is part 2 of 2, from 00:03:00 to 00:06:00 of the original video. Give times from "
        "the start of this clip (00:00), not of the original."
    )


def test_a_time_past_its_parts_end_is_flagged_and_not_placed():
    """A model told its part's place may answer on the original's clock: "00:03:10" in a part
    of 3 minutes starting at 00:03:00. Before, it was moved to 00:06:10, a moment nothing was
    seen at, and shown unflagged beside the part; now it keeps its words, flagged."""
    plan = plan_segments(360, 64, 48, fps=10, native_fps=10, native_frame_count=3600)
    second = plan.segments[1]
    text = "It starts at 00:10 and ends at 00:03:10."
    times = ground(find_times(text), second.timemap)
    assert [t.flags for t in times] == [(), ("past_end",)]
    assert on_original_clock(text, times) == (
        "It starts at 00:03:10 and ends at 00:03:10 (after the end of this part: not placed)."
    )
    done = mn.Completion(None, None, text)
    part = LongPart(1, (1,), "q", status="answered", completion=done, times=times)
    html = LongAnswer(plan, [], "q", [LongPart(0, (0,), "q"), part])._repr_html_()
    assert "00:10 → 00:03:10" in html and "00:03:10 → " in html
    assert "after this part&#x27;s end" in html or "after this part's end" in html
    assert "00:06:10" not in html


# ---- Cutting: a clip longer than the caps -----------------------------------------------------


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Video:
    """360 s at 10 fps, the frame number drawn in: fps=10 asks 3,600 frames, over 2,048."""
    folder = tmp_path_factory.mktemp("long")
    return Video.open(generate_clip(folder / "long.mp4", **LONG))


@pytest.fixture(scope="module")
def written(long_clip: Video, tmp_path_factory: pytest.TempPathFactory) -> list[SegmentFile]:
    cut = plan_video_segments(long_clip, fps=10, overlap=1)
    return cut.write(tmp_path_factory.mktemp("segments"))


def test_written_segments_hold_exactly_their_frames(long_clip: Video, written):
    plan = written[0].segment  # every file: the formula samples all of it, the frames asked
    seen: list[int] = []
    for part in written:
        s = part.segment
        video = Video.open(part.path)
        assert video.duration == pytest.approx(s.file_duration, abs=1e-9)
        assert video.estimate(10).frames == s.frames and video.estimate(10).total == s.tokens
        assert base64_length(part.size_bytes) <= 50 * 2**20
        sampled = video.sample(fps=10)
        assert sampled.indices.tolist() == list(range(s.frames))  # each frame once, in order
        got = counters(sampled.array)
        assert got == list(s.file_indices)
        seen += got[(s.first_slot and 10) :]  # drop the 1 s (10 slots) of overlap
        assert [f.source_time for f in s.timemap.frames][0] == s.start
    assert plan.index == 0
    assert seen == list(range(3600))  # boundaries exact: every frame of the original, no gap


def test_writing_again_gives_the_same_bytes(long_clip: Video, written, tmp_path: Path):
    cut = plan_video_segments(long_clip, fps=10, overlap=1)
    again = cut.write(tmp_path)
    digest = [hashlib.sha256(p.path.read_bytes()).hexdigest() for p in written]
    assert [hashlib.sha256(p.path.read_bytes()).hexdigest() for p in again] == digest


def test_a_segment_keeps_the_sound_of_its_stretch(tmp_path: Path):
    clip = Video.open(generate_clip(tmp_path / "talk.mp4", 12, 64, 48, fps=10, preset="ultrafast"))
    files = plan_video_segments(clip, fps=10, max_frames_per_segment=40).write(tmp_path / "out")
    assert len(files) == 3
    for part in files:
        with av.open(str(part.path)) as container:
            audio = container.streams.audio[0]
            seconds = sum(f.samples for f in container.decode(audio)) / audio.rate
        assert seconds == pytest.approx(part.segment.file_duration, abs=0.05)


def test_a_segment_the_decoder_cannot_finish_is_an_error_not_a_short_file(
    long_clip: Video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import mimo_nb.media.decode as decode

    whole = decode.iter_frames

    def short(*args, **kwargs):  # type: ignore[no-untyped-def]
        return itertools.islice(whole(*args, **kwargs), 50)  # the file ends early

    monkeypatch.setattr(decode, "iter_frames", short)
    cut = plan_video_segments(long_clip, fps=10, max_frames_per_segment=200)
    with pytest.raises(mn.VideoError, match="only 50 of segment 1's 200 frames") as caught:
        cut.write(tmp_path)
    assert caught.value.reason == "truncated"
    assert not any(tmp_path.glob("*.mp4"))  # no half-written segment is left behind


def test_a_plan_for_another_video_is_refused(long_clip: Video, tmp_path: Path):
    plan = plan_segments(100, 64, 48, fps=10)
    from mimo_nb.media.segments import write_segments

    with pytest.raises(LimitError, match="plan_video_segments"):
        write_segments(long_clip, plan, tmp_path)


# ---- Asking: against the local stand-in (its answers are the spec's example, not a model) -----

KEY = "sk-test-segments-0123456789"
PRICES = Prices(input=2.0, cached_input=0.5, output=8.0, currency="CNY")


def timed_answer() -> dict:  # type: ignore[type-arg]
    """The spec's example answer with times in it, as a model names them in its clip."""
    response = spec_example_json()
    response["choices"][0]["message"]["content"] = "(00:00 - 00:01): a counter. At 00:10 it ticks."
    return response


def test_ask_long_answers_every_part_on_the_original_clock(long_clip: Video, written):
    cut = plan_video_segments(long_clip, fps=10, overlap=1)

    async def go() -> LongAnswer:
        client = mn.AsyncMimoClient(KEY, base_url=server.base_url, prices=PRICES, max_retries=0)
        async with client:
            return await ask_long(
                client, cut, "What happens?", files=written, merge_prompt="Merge.", concurrency=2
            )

    with MockMimoServer(api_key=KEY, response=timed_answer()) as server:
        answer = asyncio.run(go())
        texts = [r.body["messages"][-1]["content"][-1]["text"] for r in server.requests]
    assert len(server.requests) == 3  # two parts and the merge
    assert sorted(t.splitlines()[0] for t in texts[:2]) == [
        "This is part 1 of 2, from 00:00:00 to 00:03:00 of the original video. Give times from "
        "the start of this clip (00:00), not of the original.",
        "This is part 2 of 2, from 00:02:59 to 00:06:00 of the original video. Give times from "
        "the start of this clip (00:00), not of the original.",
    ]
    assert "00:02:59-00:03:00" in texts[2]  # the merge reads part 2's times on the original
    assert [p.status for p in answer.parts] == ["answered", "answered"]
    second = cut.plan.segments[1]
    first_time = answer.parts[1].times[0]
    assert first_time.ref.text == "(00:00 - 00:01)"
    assert first_time.source_start == second.start == 179.6  # 1 s of overlap, balanced parts
    assert first_time.source_end == 180.6 and first_time.frames[0].file_index == 1796
    at_ten = answer.parts[1].times[1]  # 00:10 in part 2 is 189.6 s into the original
    assert at_ten.source_start == 189.6 and [f.file_index for f in at_ten.frames] == [1896]
    assert "At 00:03:09 it ticks" in texts[2]
    assert answer.merged is not None and answer.text == answer.merged.content
    for part in answer.parts:  # estimate against what the stand-in reported
        assert part.est_prompt_tokens > 0 and part.prompt_tokens is not None
        assert part.est_cost is not None and part.cost is not None
    assert answer.spent > 0 and answer.forecast > 0
    html = answer._repr_html_()
    assert "mimo-timeline" in html and "est. prompt" in html and "Merged" in html


def test_the_rule_based_stand_ins_long_answer_says_it_is_no_model(long_clip: Video, written):
    cut = plan_video_segments(long_clip, fps=10, overlap=1)

    async def go() -> LongAnswer:
        client = mn.AsyncMimoClient(KEY, base_url=server.base_url, max_retries=0)
        async with client:
            return await ask_long(client, cut, "What does the counter read?", files=written)

    with MockMimoServer(api_key=KEY, answer="rules") as server:
        answer = asyncio.run(go())
    assert all(c is not None and c.stand_in for c in answer.completions)
    html = answer._repr_html_()
    assert html.count("rule-based stand-in, not a model") == len(answer.parts)


def test_max_cost_refuses_before_anything_is_sent(long_clip: Video, written):
    cut = plan_video_segments(long_clip, fps=10, overlap=1)

    async def go() -> None:
        client = mn.AsyncMimoClient(KEY, base_url=server.base_url, prices=PRICES, max_retries=0)
        async with client:
            await ask_long(client, cut, "What happens?", files=written, max_cost=1e-6)

    with MockMimoServer(api_key=KEY) as server:
        with pytest.raises(LimitError, match="over max_cost=1e-06: nothing was sent"):
            asyncio.run(go())
        assert server.requests == []


def test_the_plan_shows_its_bands_and_what_one_request_loses():
    plan = plan_segments(7200, 1920, 1080, fps=2, overlap=3, prices=PRICES)
    html = plan._repr_html_()
    assert html.count("class='mimo-band'") == len(plan.segments)
    assert "one request" in html and "frames lost" in html and "12,352" in html
    assert "480 x 256" in html and "bits per pixel" in html


CHILD = textwrap.dedent(f"""
    import asyncio, json, sys
    import mimo_nb as mn
    from mimo_nb.corpus.long import ask_long

    async def main(clip, folder, base_url, cache):
        client = mn.AsyncMimoClient("{KEY}", base_url=base_url, cache=cache, max_retries=0)
        async with client:
            answer = await ask_long(
                client, mn.Video.open(clip), "What happens?", fps=10,
                max_frames_per_segment=100, folder=folder, concurrency=2,
            )
        print(json.dumps([p.status for p in answer.parts]))

    if __name__ == "__main__":
        asyncio.run(main(*sys.argv[1:]))
""")


def test_sigkill_and_resume_pays_for_no_segment_twice(tmp_path: Path):
    clip = generate_clip(tmp_path / "match.mp4", 40, 64, 48, fps=10, audio=False)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cache = tmp_path / "answers"
    args = [sys.executable, str(script), str(clip), str(tmp_path / "parts"), "", str(cache)]
    with MockMimoServer(api_key=KEY, delay=0.02) as server:
        args[4] = server.base_url
        kill_after_answers(args, server, cache, 2, seconds=120)  # two answers, then the kill

        rerun = subprocess.run(args, capture_output=True, text=True, timeout=240)
        assert rerun.returncode == 0, rerun.stderr
        statuses = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert sorted(statuses) == ["answered", "answered", "replayed", "replayed"]
        parts = [
            r.body["messages"][-1]["content"][-1]["text"].splitlines()[0] for r in server.requests
        ]
        assert len(parts) == 4 and len(set(parts)) == 4  # each segment paid for once


# ---- The budget and the quotas hold for every request of ask_long, the merge too ---------------


@pytest.fixture(scope="module")
def four_parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoSegments, list[SegmentFile]]:
    """A 40 s clip cut into four equal parts of 100 frames (952 video tokens each)."""
    folder = tmp_path_factory.mktemp("four")
    clip = Video.open(generate_clip(folder / "four.mp4", 40, 64, 48, fps=10, audio=False))
    cut = plan_video_segments(clip, fps=10, max_frames_per_segment=100)
    assert len(cut.plan.requests) == 4
    return cut, cut.write(folder / "parts")


def _long_run(
    server: MockMimoServer, four_parts: tuple[VideoSegments, list[SegmentFile]], **options: Any
) -> LongAnswer:
    cut, files = four_parts

    async def go() -> LongAnswer:
        client = mn.AsyncMimoClient(KEY, base_url=server.base_url, prices=PRICES, max_retries=0)
        async with client:
            return await ask_long(client, cut, "What happens?", files=files, **options)

    return asyncio.run(go())


def _worst(prompt_tokens: int, max_completion_tokens: int = 1024) -> float:
    return (prompt_tokens * PRICES.input + max_completion_tokens * PRICES.output) / 1e6


def _costing(cost: float, content: str | None = None) -> dict[str, Any]:
    """The spec's example answer whose usage costs ``cost`` (or a little more) at PRICES: more
    prompt tokens than any estimate, as a server that counts differently reports."""
    response = spec_example_json()
    completion = 10
    prompt = int(np.ceil((cost * 1e6 - completion * PRICES.output) / PRICES.input))
    response["usage"] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if content is not None:
        response["choices"][0]["message"]["content"] = content
    return response


def _estimates(four_parts: tuple[VideoSegments, list[SegmentFile]]) -> list[int]:
    """Each part's estimated prompt tokens, from a run without a cap."""
    with MockMimoServer(api_key=KEY) as server:
        return [p.est_prompt_tokens for p in _long_run(server, four_parts).parts]


def test_the_budget_is_checked_again_after_waiting_for_the_quota(four_parts):
    # Three workers, one request per window: part 1 is sent, part 2 is admitted (two worst cases
    # fit the cap) and waits for the quota, parts 3 and 4 do not fit beside them. Part 1's answer
    # costs 1.5 worst cases: once part 2 has waited, it could take the spend past the cap.
    worst = _worst(max(_estimates(four_parts)))
    cap = 2.2 * worst
    with MockMimoServer(api_key=KEY, response=_costing(1.5 * worst)) as server:
        answer = _long_run(
            server,
            four_parts,
            max_cost=cap,
            output_tokens=0,
            concurrency=3,
            requests_per_minute=1,
            window=0.3,
        )
        sent = len(server.requests)
    assert sent == 1  # before: 2, and the spend 3 worst cases, over the cap
    assert answer.spent <= cap and answer.spent == pytest.approx(1.5 * worst, rel=1e-3)
    assert [p.status for p in answer.parts] == ["answered", "skipped", "skipped", "skipped"]
    assert {p.error for p in answer.parts[1:]} == {"not sent: max_cost would be crossed"}


def test_the_merge_is_not_sent_past_the_cap(four_parts):
    # Every part costs more than its worst estimate; the cap admits them all but leaves less
    # than the merge's worst case: the merge is skipped, not sent past the cap.
    worst = _worst(max(_estimates(four_parts)))
    each = 1.2 * worst
    cap = 4 * each + 1e-3  # the merge's worst case is at least 1,024 answer tokens: 0.0082 CNY
    with MockMimoServer(api_key=KEY, response=_costing(each)) as server:
        answer = _long_run(
            server, four_parts, max_cost=cap, output_tokens=0, merge_prompt="Merge.", concurrency=1
        )
        sent = len(server.requests)
    assert [p.status for p in answer.parts] == ["answered"] * 4
    assert sent == 4  # before: 5, the merge sent with the spend over the cap
    assert answer.merged is None and answer.merge_error == "not sent: max_cost would be crossed"
    assert answer.spent <= cap
    assert "Merge</b>: not sent: max_cost would be crossed" in answer._repr_html_()


def test_a_merge_heavier_than_the_token_quota_is_refused_not_sent(four_parts):
    # Each part weighs about 1,000 tokens against the quota and fits; the merge carries four long
    # answers (about 10,000 tokens each) and can never fit 20,000 tokens per minute.
    long_answer = "The counter ticks on. " * 1800
    with MockMimoServer(api_key=KEY, response=_costing(0.001, long_answer)) as server:
        answer = _long_run(
            server,
            four_parts,
            merge_prompt="Merge.",
            max_completion_tokens=64,
            tokens_per_minute=20_000,
        )
        sent = len(server.requests)
    assert [p.status for p in answer.parts] == ["answered"] * 4
    assert sent == 4  # before: 5, the merge sent unpaced past the quota
    assert answer.merged is None and answer.merge_error is not None
    assert answer.merge_error.startswith("LimitError: one request needs about")
    assert "could never be sent" in answer.merge_error
