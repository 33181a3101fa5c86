"""Counting tasks (mimo_nb.media.tasks) and the rule-based stand-in that answers them.

Every expected answer is checked against the clips as decoded, frame by frame: the counter read
back from the last frame, the red square found by its colour in every frame. The stand-in runs
behind a real MockMimoServer(answer="rules") on 127.0.0.1; what it should say at a low fps is
worked out here from the frames it samples, and it must say exactly that (a wrong answer, the
crossings it did not see).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mimo_nb as mn
from mimo_nb.api.response import STAND_IN
from mimo_nb.core.scoring import number
from mimo_nb.errors import LimitError
from mimo_nb.media import decode
from mimo_nb.media.files import file_sha256
from mimo_nb.media.samples import draw_frame, read_frame_counter, read_red_square
from mimo_nb.media.tasks import (
    CLEAR,
    KINDS,
    QUESTIONS,
    count_side_changes,
    generate_counting_tasks,
    question_kind,
    side_of,
    square_positions,
)
from mimo_nb.testing import MockMimoServer

KEY = "test-key"
WIDTH, HEIGHT, CLIP_FPS = 128, 96, 10


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return generate_counting_tasks(tmp_path_factory.mktemp("tasks"), n=12, seed=0)


@pytest.fixture(scope="module")
def decoded(tasks: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Every frame of every clip, decoded at its own size."""
    out = {}
    for task in tasks:
        info = decode.probe(task["video"])
        out[task["id"]] = decode.read_frames(info, range(info.frame_count))
    return out


@pytest.fixture(scope="module")
def client() -> Any:
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0) as client:
            yield client


def _of(tasks: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [t for t in tasks if t["kind"] == kind]


# ---- The tasks -------------------------------------------------------------------------------


def test_the_records_take_turns_at_the_two_questions(tasks: list[dict[str, Any]]) -> None:
    assert [t["id"] for t in tasks] == [f"count-{i:02d}" for i in range(12)]
    assert [t["kind"] for t in tasks] == list(KINDS) * 6
    assert all(t["question"] == QUESTIONS[t["kind"]] for t in tasks)
    assert all(Path(t["video"]).is_file() and isinstance(t["expected"], int) for t in tasks)
    lasts = [t["expected"] for t in _of(tasks, "last_number")]
    assert len(set(lasts)) == len(lasts)  # lengths differ, and so do the answers
    assert all(22 <= n <= 96 for n in lasts)  # 2.3-9.7 s at 10 fps: frames 23-97
    assert len({t["expected"] for t in _of(tasks, "side_changes")}) >= 3
    # No two clips alike: the same question on the same bytes would be one request asked twice.
    assert len({file_sha256(t["video"]) for t in tasks}) == len(tasks)


def test_forty_clips_are_forty_different_files(tmp_path: Path) -> None:
    """Lengths are drawn at random to a tenth of a second; two equal draws used to write two
    identical clips (seed 0 drew 4 such pairs in 24), one question asked twice."""
    many = generate_counting_tasks(tmp_path, n=40, seed=0, width=64, height=48)
    assert len({file_sha256(t["video"]) for t in many}) == 40


def test_the_last_number_is_the_last_decoded_frames_counter(
    tasks: list[dict[str, Any]], decoded: dict[str, np.ndarray]
) -> None:
    for task in _of(tasks, "last_number"):
        frames = decoded[task["id"]]
        assert [read_frame_counter(f) for f in frames] == list(range(len(frames)))
        assert read_frame_counter(frames[-1]) == task["expected"] == len(frames) - 1


def test_the_side_changes_are_counted_from_the_decoded_squares(
    tasks: list[dict[str, Any]], decoded: dict[str, np.ndarray]
) -> None:
    for task in _of(tasks, "side_changes"):
        frames = decoded[task["id"]]
        seen = [read_red_square(f) for f in frames]
        drawn = square_positions(range(len(frames)), WIDTH, HEIGHT, CLIP_FPS)
        assert None not in seen
        # Compression moves the square's read centre by well under a pixel.
        assert np.abs(np.array(seen, float) - drawn).max() * WIDTH < 1
        assert count_side_changes(seen) == task["expected"]
        # Counted by hand from the formula: a crossing every 1.5 s before the last frame.
        last_time = (len(frames) - 1) / CLIP_FPS
        assert task["expected"] == int(last_time // 1.5)
        # The answer hangs on no frame caught crossing: the last one is clear of the middle.
        assert abs(seen[-1] - 0.5) >= CLEAR - 1 / WIDTH


def test_no_frame_is_drawn_exactly_on_the_middle(tasks: list[dict[str, Any]]) -> None:
    """The square is 15 px wide in a 128 px frame: its centre is always half a pixel off the
    middle line, so every frame is on one side or the other (frame 0 starts 0.5 px left)."""
    frames = max(t["expected"] for t in _of(tasks, "last_number")) + 1
    assert frames <= 97
    for index in range(97):  # every frame of the longest clip the durations (<= 9.7 s) allow
        red = np.all(draw_frame(index, WIDTH, HEIGHT, CLIP_FPS) == (220, 40, 40), axis=-1)
        columns = np.nonzero(red)[1]
        centre = (columns.min() + columns.max() + 1) / 2
        assert centre != WIDTH / 2 and columns.max() - columns.min() + 1 == 15


def test_the_same_seed_gives_the_same_tasks_and_another_seed_others(tmp_path: Path) -> None:
    one = generate_counting_tasks(tmp_path / "a", n=4, seed=3)
    two = generate_counting_tasks(tmp_path / "b", n=4, seed=3)
    other = generate_counting_tasks(tmp_path / "c", n=4, seed=4)
    assert [t["expected"] for t in one] == [t["expected"] for t in two]
    assert Path(one[0]["video"]).read_bytes() == Path(two[0]["video"]).read_bytes()
    assert [t["expected"] for t in one] != [t["expected"] for t in other]


def test_one_kind_only(tmp_path: Path) -> None:
    only = generate_counting_tasks(tmp_path, n=3, kinds=["side_changes"])
    assert [t["kind"] for t in only] == ["side_changes"] * 3


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"width": 32, "height": 24}, "at least 64 x 48"),
        ({"width": 129}, "even frame size"),
        ({"n": 0}, "n must be"),
        ({"n": 2.5}, "n must be"),
        ({"kinds": ["colour"]}, "kinds must be one of"),
        ({"kinds": []}, "at least one of"),
        ({"durations": (5, 2)}, "(shortest, longest)"),
        ({"durations": 5}, "(shortest, longest)"),
        ({"clip_fps": float("nan")}, "clip_fps must be"),
        ({"durations": (1.5, 1.5)}, "wider range"),  # its last frame, 1.4 s, is crossing
    ],
)
def test_bad_arguments_say_what_to_do(tmp_path: Path, options: dict[str, Any], said: str) -> None:
    with pytest.raises(LimitError, match=None) as caught:
        generate_counting_tasks(tmp_path, **options)
    assert said in str(caught.value)


def test_which_question_is_asked() -> None:
    assert question_kind(QUESTIONS["last_number"]) == "last_number"
    assert question_kind(QUESTIONS["side_changes"]) == "side_changes"
    assert question_kind("What does the counter read?") is None
    assert question_kind("The last number, and how often it changes side?") is None  # two: none
    assert [side_of(p) for p in (0.45, 0.461, 0.539, 0.55)] == [-1, 0, 0, 1]


# ---- The stand-in answers them ---------------------------------------------------------------


def _plain(answer: Any) -> int:
    score = number()(answer.content, 0)
    assert score.extracted is not None, answer.content
    return int(score.extracted)


def test_at_fps_10_the_stand_in_answers_every_task_right(
    tasks: list[dict[str, Any]], client: Any
) -> None:
    for task in tasks:
        answer = client.ask(task["video"], task["question"], fps=10)
        assert answer.model == STAND_IN
        assert number()(answer.content, task["expected"]).correct, (task, answer.content)
    last = client.ask(tasks[0]["video"], tasks[0]["question"], fps=10)
    assert last.content == f"The last number I saw is {tasks[0]['expected']}."


def test_at_fps_half_it_misses_crossings_it_did_not_see(
    tasks: list[dict[str, Any]], client: Any
) -> None:
    wrong = 0
    for task in _of(tasks, "side_changes"):
        frames = mn.Video.open(task["video"]).sample(fps=0.5)
        # What it can count: the square in the frames sampled, drawn and decoded alike.
        drawn = count_side_changes(square_positions(frames.indices, WIDTH, HEIGHT, CLIP_FPS))
        assert count_side_changes([read_red_square(f) for f in frames]) == drawn
        answer = client.ask(task["video"], task["question"], fps=0.5)
        times = "time" if drawn == 1 else "times"
        assert answer.content == (
            f"The red square changed side {drawn} {times} in the frames I was sent."
        )
        wrong += drawn != task["expected"]
    assert wrong == 5  # count-03: 1 -> 0, count-05: 4 -> 1, 07 and 09: 5 -> 4, count-11: 2 -> 0
    first = _of(tasks, "side_changes")[1]  # count-03: 2.4 s, one crossing (at 1.5 s)
    assert first["id"] == "count-03" and first["expected"] == 1
    frames = mn.Video.open(first["video"]).sample(fps=0.5)
    assert frames.indices.tolist() == [0, 23]  # 0 s and 2.3 s: the two frames it is sent
    # It starts on the middle (no side) and ends on the left: it never sees the square change side.
    assert [side_of(read_red_square(f)) for f in frames] == [0, -1]
    assert _plain(client.ask(first["video"], first["question"], fps=0.5)) == 0


def test_the_last_number_is_right_at_any_fps_as_the_formula_sends_the_last_frame(
    tasks: list[dict[str, Any]], client: Any
) -> None:
    for task in _of(tasks, "last_number"):
        frames = mn.Video.open(task["video"]).sample(fps=0.5)
        assert frames.indices[-1] == task["expected"]  # linspace over the whole file
        answer = client.ask(task["video"], task["question"], fps=0.5)
        assert answer.content == f"The last number I saw is {read_frame_counter(frames[-1])}."
        assert _plain(answer) == task["expected"]


def test_accuracy_rises_with_fps(tasks: list[dict[str, Any]], client: Any) -> None:
    def accuracy(fps: float) -> float:
        scores = [
            number()(client.ask(t["video"], t["question"], fps=fps).content, t["expected"])
            for t in tasks
        ]
        return sum(bool(s.correct) for s in scores) / len(scores)

    low, high = accuracy(0.5), accuracy(4)
    assert (low, high) == (7 / 12, 1.0)
    assert high > low


def test_other_questions_keep_the_counter_description(
    tasks: list[dict[str, Any]], client: Any
) -> None:
    answer = client.ask(tasks[0]["video"], "What does the counter read?", fps=0.5)
    assert answer.content.startswith(
        "I read the frame counters of the 4 frames sampled at fps 0.5."
    )
