"""Labelled counting questions on generated clips: how many frames does a question need?

:func:`generate_counting_tasks` writes short sample clips
(:func:`~mimo_nb.media.samples.generate_clip`) and returns one labelled task per clip, a record a
sweep takes (``id``, ``kind``, ``video``, ``question``, ``expected``). Two kinds of question,
each with an answer computed exactly from what :func:`~mimo_nb.media.samples.draw_frame` draws:

- ``"last_number"``: "What is the last number shown in the video?" Every frame shows its own
  number, so the answer is the last frame's, the clip's frame count - 1;
- ``"side_changes"``: "How many times does the red square change side (cross the middle of the
  frame)?" The square starts on the middle, moves right first and crosses the middle every
  1.5 s (:func:`~mimo_nb.media.samples.red_square`); the answer counts the changes of side from
  frame to frame, a frame within :data:`MIDDLE` of the middle being on no side.

Clip lengths are drawn at random (seeded) and kept only when the last frame's square is at least
:data:`CLEAR` from the middle, so no answer hangs on a frame caught crossing.

What the questions need: the hosted API's sampling always sends the first and the last frame
(``linspace`` over the whole file), so the last number is seen at any fps; a crossing is seen
only when two frames sent fall on either side of it, so counting side changes needs about a
frame every 1.5 s or more, and misses crossings below that.

>>> tasks = generate_counting_tasks("tasks", n=2)
>>> [(t["kind"], t["expected"]) for t in tasks]
[('last_number', 69), ('side_changes', 2)]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mimo_nb.core import validate
from mimo_nb.errors import LimitError
from mimo_nb.media.samples import frame_count, generate_clip, red_square

__all__ = [
    "KINDS",
    "QUESTIONS",
    "MIDDLE",
    "CLEAR",
    "question_kind",
    "side_of",
    "count_side_changes",
    "square_positions",
    "expected_answer",
    "generate_counting_tasks",
]

KINDS = ("last_number", "side_changes")
QUESTIONS = {
    "last_number": "What is the last number shown in the video?",
    "side_changes": (
        "How many times does the red square change side (cross the middle of the frame)?"
    ),
}
MIDDLE = (
    0.04  # a square whose centre is this close to the middle (a fraction of the width): no side
)
CLEAR = 0.12  # every clip's last frame has its square at least this far from the middle

_ASKS = {
    "last_number": re.compile(r"\blast\s+number\b", re.IGNORECASE),
    "side_changes": re.compile(
        r"\bchanges?\s+sides?\b|\bcross(?:es)?\s+the\s+middle\b", re.IGNORECASE
    ),
}


def question_kind(text: str) -> str | None:
    """Which counting question ``text`` asks: ``"last_number"``, ``"side_changes"`` or None.

    >>> question_kind("What is the LAST number shown?"), question_kind("What does it read?")
    ('last_number', None)
    >>> question_kind("How often does the square cross the middle?")
    'side_changes'
    """
    found = [kind for kind, pattern in _ASKS.items() if pattern.search(text)]
    return found[0] if len(found) == 1 else None


def side_of(position: float | None) -> int:
    """The side a square centred at ``position`` (a fraction of the width) is on: -1 left,
    +1 right, 0 within :data:`MIDDLE` of the middle or no square (None).

    >>> side_of(0.3), side_of(0.52), side_of(0.9), side_of(None)
    (-1, 0, 1, 0)
    """
    if position is None or abs(position - 0.5) < MIDDLE:
        return 0
    return 1 if position > 0.5 else -1


def count_side_changes(positions: Iterable[float | None]) -> int:
    """How many times the square changes side along ``positions`` (one per frame, in order):
    a frame on no side (:func:`side_of` is 0) is skipped; a change is a frame whose side
    differs from the last side seen.

    >>> count_side_changes([0.5, 0.8, 0.52, 0.2, 0.1, None, 0.7])
    2
    """
    changes, last = 0, 0
    for position in positions:
        side = side_of(position)
        if side and last and side != last:
            changes += 1
        last = side or last
    return changes


def square_positions(indices: Iterable[int], width: int, height: int, fps: float) -> list[float]:
    """The red square's centre, as a fraction of the width, in frames ``indices`` of a clip
    drawn at ``width`` x ``height`` and ``fps`` (by :func:`~mimo_nb.media.samples.red_square`).

    >>> square_positions([0, 5], 128, 96, fps=10)
    [0.49609375, 0.87890625]
    """
    out = []
    for index in indices:
        left, _, side = red_square(int(index), width, height, fps)
        out.append((left + side / 2) / width)
    return out


def expected_answer(kind: str, frames: int, width: int, height: int, fps: float) -> int:
    """The right answer to question ``kind`` about a clip of ``frames`` frames drawn at
    ``width`` x ``height`` and ``fps``: the last frame's number, or the side changes over
    every frame.

    >>> [expected_answer(kind, 45, 128, 96, fps=10) for kind in KINDS]
    [44, 2]
    """
    validate.choice("kind", kind, KINDS)
    if kind == "last_number":
        return frames - 1
    return count_side_changes(square_positions(range(frames), width, height, fps))


def _duration(
    rng: np.random.Generator,
    durations: tuple[float, float],
    clip_fps: float,
    size: tuple[int, int],
    taken: set[int],
) -> tuple[float, int]:
    """A clip length (tenths of a second) whose last frame's square is clear of the middle, of a
    frame count not in ``taken`` (two clips alike would be one question asked twice)."""
    for _ in range(1000):
        duration = round(float(rng.uniform(*durations)), 1)
        frames = frame_count(duration, clip_fps)
        if frames >= 2 and frames not in taken:
            (last,) = square_positions([frames - 1], *size, clip_fps)
            if abs(last - 0.5) >= CLEAR:
                return duration, frames
    raise LimitError(
        f"no clip length in {durations[0]:g}-{durations[1]:g} s ends with the red square clear of "
        "the middle and a frame count of its own; give a wider range of durations or fewer tasks."
    )


def generate_counting_tasks(
    folder: str | os.PathLike[str],
    *,
    n: int = 12,
    seed: int = 0,
    width: int = 128,
    height: int = 96,
    clip_fps: float = 10,
    durations: tuple[float, float] = (2.3, 9.7),
    kinds: Sequence[str] = KINDS,
) -> list[dict[str, Any]]:
    """Write ``n`` sample clips into ``folder`` and return one labelled counting task per clip.

    Args:
        folder: where the clips go (``count-00.mp4``, ...; created if missing, files of the
            same name overwritten).
        n: how many clips and tasks; the kinds take turns in the order of ``kinds``.
        seed: the clip lengths are drawn with ``numpy.random.default_rng(seed)``.
        width, height: the clips' frame size (even, at least 64 x 48, so the counter and the
            square read back); small keeps the clips quick to make and cheap to send.
        clip_fps: the clips' own frame rate (the API's ``fps`` samples from it).
        durations: the range the lengths are drawn from, in seconds (rounded to 0.1 s).
        kinds: the question kinds, from :data:`KINDS`.

    Returns a list of dicts: ``id`` (``"count-00"``), ``kind``, ``video`` (the clip's path as a
    string), ``question`` (from :data:`QUESTIONS`) and ``expected`` (an int, see
    :func:`expected_answer`). Score answers with :func:`mimo_nb.core.scoring.number`.
    """
    n = validate.positive_int("n", n, maximum=1000, hint="(how many clips)")
    seed = validate.non_negative_int("seed", seed)
    width, height = validate.size(width, height)
    if width < 64 or height < 48 or width % 2 or height % 2:
        raise LimitError(
            f"counting clips need an even frame size of at least 64 x 48 px (the counter's 16 "
            f"blocks and the square must read back), got {width}x{height}."
        )
    clip_fps = validate.positive("clip_fps", clip_fps, maximum=60)
    if not isinstance(durations, Sequence) or len(durations) != 2:
        raise LimitError(f"durations must be (shortest, longest) in seconds, got {durations!r}.")
    low = validate.positive("durations[0]", durations[0])
    high = validate.positive("durations[1]", durations[1], maximum=600)
    if high < low:
        raise LimitError(f"durations must be (shortest, longest), got {durations!r}.")
    kinds = tuple(kinds)
    if not kinds:
        raise LimitError(f"kinds must name at least one of {KINDS}.")
    for kind in kinds:
        validate.choice("kinds", kind, KINDS)
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tasks = []
    taken: set[int] = set()  # frame counts used: every clip differs from the others
    for i in range(n):
        kind = kinds[i % len(kinds)]
        duration, frames = _duration(rng, (low, high), clip_fps, (width, height), taken)
        taken.add(frames)
        path = generate_clip(
            out_dir / f"count-{i:02d}.mp4",
            duration=duration,
            width=width,
            height=height,
            fps=clip_fps,
            audio=False,
        )
        tasks.append(
            {
                "id": f"count-{i:02d}",
                "kind": kind,
                "video": str(path),
                "question": QUESTIONS[kind],
                "expected": expected_answer(kind, frames, width, height, clip_fps),
            }
        )
    return tasks
