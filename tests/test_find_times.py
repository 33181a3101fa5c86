"""find_times: the formats models write times in, and the text that must not read as a time."""

from __future__ import annotations

import pytest

from mimo_nb.core.profiles import plan_sampling
from mimo_nb.core.times import TimeRef, find_times
from mimo_nb.errors import LimitError

# (text, [(start, end, precision, the words it came from), ...])
FOUND = [
    # MM:SS, H:MM:SS, fractions
    ("at 00:03 a cat jumps", [(3, None, 1, "00:03")]),
    ("01:05", [(65, None, 1, "01:05")]),
    ("at 0:00", [(0, None, 1, "0:00")]),
    ("75:30 into the lecture", [(4530, None, 1, "75:30")]),
    ("1:05:30", [(3930, None, 1, "1:05:30")]),
    ("12:34.56", [(754.56, None, 0.01, "12:34.56")]),
    ("at 00:07.5 it falls", [(7.5, None, 0.1, "00:07.5")]),
    ("1:02:03.5", [(3723.5, None, 0.1, "1:02:03.5")]),
    ("at 1:05:30.25", [(3930.25, None, 0.01, "1:05:30.25")]),
    ("The goal happens at 00:42.", [(42, None, 1, "00:42")]),
    ("At 00:12 the counter reads 6", [(12, None, 1, "00:12")]),
    ("10:30", [(630, None, 1, "10:30")]),
    # seconds with a unit
    ("3.2s", [(3.2, None, 0.1, "3.2s")]),
    ("3.2 s", [(3.2, None, 0.1, "3.2 s")]),
    ("0.5s", [(0.5, None, 0.1, "0.5s")]),
    ("at 12 seconds", [(12, None, 1, "12 seconds")]),
    ("12 sec", [(12, None, 1, "12 sec")]),
    ("at 12 secs", [(12, None, 1, "12 secs")]),
    ("at 1 second", [(1, None, 1, "1 second")]),
    ("at 2 s the door opens", [(2, None, 1, "2 s")]),
    ("12.50 s", [(12.5, None, 0.01, "12.50 s")]),
    ("after 3 seconds, a dog appears", [(3, None, 1, "3 seconds")]),
    ("<12.5 seconds>", [(12.5, None, 0.1, "<12.5 seconds>")]),
    ("(3.5s)", [(3.5, None, 0.1, "(3.5s)")]),
    # ranges
    ("00:01 - 00:02", [(1, 2, 1, "00:01 - 00:02")]),
    ("00:01–00:02", [(1, 2, 1, "00:01–00:02")]),
    ("00:01—00:02", [(1, 2, 1, "00:01—00:02")]),
    ("1:05-1:10", [(65, 70, 1, "1:05-1:10")]),
    ("00:01 to 00:03", [(1, 3, 1, "00:01 to 00:03")]),
    ("2:05 ~ 2:10", [(125, 130, 1, "2:05 ~ 2:10")]),
    ("00:05 until 00:08", [(5, 8, 1, "00:05 until 00:08")]),
    ("it runs from 1:05 to 1:10.", [(65, 70, 1, "from 1:05 to 1:10")]),
    ("between 1:05 and 1:10", [(65, 70, 1, "between 1:05 and 1:10")]),
    ("[01:05, 01:10]", [(65, 70, 1, "[01:05, 01:10]")]),
    ("[00:10-00:15]", [(10, 15, 1, "[00:10-00:15]")]),
    ("(00:00 - 00:01): the video opens", [(0, 1, 1, "(00:00 - 00:01)")]),
    ("3.2s - 5.0s", [(3.2, 5, 0.1, "3.2s - 5.0s")]),
    ("3.2-5.0 seconds", [(3.2, 5, 0.1, "3.2-5.0 seconds")]),
    ("between 3 and 5 seconds", [(3, 5, 1, "between 3 and 5 seconds")]),
    ("from 2 to 4.5 s", [(2, 4.5, 1, "from 2 to 4.5 s")]),
    ("[3.2s, 5.0s]", [(3.2, 5, 0.1, "[3.2s, 5.0s]")]),
    ("<3.0 seconds> to <5.0 seconds>", [(3, 5, 0.1, "<3.0 seconds> to <5.0 seconds>")]),
    ("00:01:05.5 - 00:01:10", [(65.5, 70, 1, "00:01:05.5 - 00:01:10")]),
    # several in one text; what is not a range
    (
        "at 00:01 a cat, at 00:04 a dog",
        [(1, None, 1, "00:01"), (4, None, 1, "00:04")],
    ),
    ("00:01,00:02", [(1, None, 1, "00:01"), (2, None, 1, "00:02")]),
    ("from 1:10 to 1:05", [(70, None, 1, "1:10"), (65, None, 1, "1:05")]),
    ("at 00:05 and 12 s", [(5, None, 1, "00:05"), (12, None, 1, "12 s")]),
    ("between 00:05 - 00:08", [(5, 8, 1, "between 00:05 - 00:08")]),
    # thousands grouped with commas are one number (read as 0.5 and 0 before: "000.5s")
    ("at 1,000.5s", [(1000.5, None, 0.1, "1,000.5s")]),
    ("3,000 seconds in", [(3000, None, 1, "3,000 seconds")]),
    ("at 12,345.6 seconds", [(12345.6, None, 0.1, "12,345.6 seconds")]),
    ("from 1,000 to 1,200 seconds", [(1000, 1200, 1, "from 1,000 to 1,200 seconds")]),
    ("[5s,10s]", [(5, 10, 1, "[5s,10s]")]),
    ("at 5, 10 seconds", [(10, None, 1, "10 seconds")]),
]

NOT_TIMES = [
    "a 16:9 video",
    "in 4:3 aspect",
    "16:10 aspect ratio",
    "an aspect ratio of 16:10",
    "a map at 1:100 scale",
    "built with v2.5",
    "needs Python 3.10",
    "we met at 10:30 am",
    "at 3:00 PM",
    "10:30 a.m.",
    "at 14:00 o'clock",
    "at 9:45 in the morning",
    "the wall clock reads 10:45",
    "the score is 21:15",
    "they won 21:15",
    "on 12/05/2023",
    "2023-05-12 10:30:00",
    "2023-05-12T10:30:00",
    "it costs $12.50, or 3.2 USD",
    "12 people and 3.5 cats",
    "music of the 1990s and the 80s",
    "it lasts 3 seconds",
    "he waits for 5 seconds",
    "every 2 seconds",
    "two claps 2 seconds apart",
    "a 10 second clip",
    "5 seconds long",
    "he runs for 3-5 seconds",
    "500ms of latency",
    "the 3 sets",
    "192.168.1.1",
    # a decimal comma, or commas not grouping threes: no number is read from their inside
    "at 2,5 s",
    "5,10 seconds",
    "1,00s",
    "1,0000s",
    # longer than any video (MAX_DURATION, 1e9 s), or finer than a nanosecond: not a video time
    # (before: a LimitError from ground, or a precision of 0.0 refused by TimeRef)
    "at 9999999999 s",
    "at 1,000,000,001 s",
    "at 0.1234567891s",
    "99999:59",
]


def _rows(refs: list[TimeRef]) -> list[tuple[float, float | None, float, str]]:
    return [(r.start, r.end, r.precision, r.text) for r in refs]


@pytest.mark.parametrize(("text", "expected"), FOUND, ids=[t for t, _ in FOUND])
def test_the_formats_are_found(text: str, expected: list[tuple[float, float | None, float, str]]):
    refs = find_times(text)
    assert _rows(refs) == [
        (float(a), b if b is None else float(b), p, w) for a, b, p, w in expected
    ]
    for ref in refs:
        assert text[slice(*ref.span)] == ref.text


@pytest.mark.parametrize("text", NOT_TIMES)
def test_what_is_not_a_video_time_is_not_found(text: str) -> None:
    assert find_times(text) == []


def test_times_among_words_keep_their_spans() -> None:
    text = "(00:00 - 00:01): a white kitten. At 3.5s it jumps; 16:9, at 10:30 pm, <12.5 seconds>."
    refs = find_times(text)
    assert [r.text for r in refs] == ["(00:00 - 00:01)", "3.5s", "<12.5 seconds>"]
    assert [text[slice(*r.span)] for r in refs] == [r.text for r in refs]


def test_the_value_is_exact_decimal_arithmetic() -> None:
    (ref,) = find_times("12:34.56")
    assert ref.start == 754.56 and ref.precision == 0.01


def test_a_time_ref_refuses_impossible_values() -> None:
    with pytest.raises(LimitError, match="end must be"):
        TimeRef(start=5, end=4, span=(0, 1), text="x", precision=1)
    with pytest.raises(LimitError, match="precision must be"):
        TimeRef(start=5, end=None, span=(0, 1), text="x", precision=0)


def test_find_times_wants_text() -> None:
    with pytest.raises(LimitError, match="reads text"):
        find_times(12)  # type: ignore[arg-type]
    assert find_times("") == []


@pytest.mark.parametrize("profile", ["sglang-mimo-v2", "qwen3-vl"])
def test_the_servers_own_timestamp_texts_read_back(profile: str) -> None:
    plan = plan_sampling(
        100, 640, 360, fps=0.5, profile=profile, native_fps=30, native_frame_count=3000
    )
    refs = find_times(" ".join(plan.timestamp_texts))
    assert [r.text for r in refs] == list(plan.timestamp_texts)
    assert all(r.end is None for r in refs)


def test_numbers_of_any_length_are_read_or_passed_over_never_raised() -> None:
    """A model's text may hold a number of thousands of digits: int() refuses more than 4,300
    (ValueError before) and a float cannot hold 1e400 (OverflowError); none is a video time."""
    for text in ("1" * 5000 + " s", "at 0." + "1" * 5000 + "s", "1," * 3000 + "000 s", "9" * 400):
        assert find_times(text) == []
    edge = find_times("at 1000000000 s, at 999,999,999.5 s, at 0.123456789 s")
    assert [(r.start, r.precision) for r in edge] == [
        (1e9, 1),
        (999999999.5, 0.1),
        (0.123456789, 1e-9),
    ]
