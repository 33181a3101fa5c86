"""Times in a text: every reference to a moment or a stretch of the video an answer makes.

:func:`find_times` reads the ways models write times (the vendor page's ``(00:00 - 00:01)``,
Gemini's ``MM:SS``, Qwen2.5-VL's seconds and ``12:34.56``, Qwen3-VL's ``<12.5 seconds>``,
MiMo-VL's ``[mm:ss, mm:ss]``) and returns each as a :class:`TimeRef`: its start and end in
seconds, where it stands in the text, the words it came from, and its precision (the unit of its
last digit). :mod:`mimo_nb.core.timemap` ties the references to the frames the model saw.

========================================  ===============  =========  ==========
text                                      start, end (s)   precision  ``.text``
========================================  ===============  =========  ==========
``at 00:03 a cat``                        3                1          ``00:03``
``1:05:30``                               3930             1
``12:34.56``                              754.56           0.01
``3.2s``, ``3.2 s``                       3.2              0.1
``at 1,000.5 s``                          1000.5           0.1        ``1,000.5 s``
``at 12 seconds``, ``12 sec``             12               1          ``12 seconds``
``<12.5 seconds>``                        12.5             0.1        ``<12.5 seconds>``
``00:01 - 00:02``, ``00:01–00:02``        1, 2             1
``from 1:05 to 1:10``                     65, 70           1          ``from 1:05 to 1:10``
``between 1:05 and 1:10``                 65, 70           1
``[01:05, 01:10]``, ``(00:00 - 00:01)``   65, 70; 0, 1     1          with the brackets
``3.2-5.0 seconds``                       3.2, 5           0.1
========================================  ===============  =========  ==========

Not times: ratios (``16:9``, ``16:10 aspect``), versions (``v2.5``, ``Python 3.10``), clock
times of day (``at 10:30 am``, ``3:00 PM``, ``at 14:00 o'clock``, ``the clock reads 10:45``),
scores (``won 21:15``), dates and date-times, money, decades (``the 1990s``), plain numbers
without a unit, numbers longer than any video (over 1e9 s) or finer than a nanosecond, and
durations (``for 5 seconds``, ``every 2 seconds``, ``a 10 second clip``,
``2 seconds apart``).

Out of scope (not found): minutes and hours in words (``at 2 minutes``, ``1h05``), times spelled
out (``twelve seconds``), relative times (``5 seconds later``), subtitle times with a comma
(``00:01:05,120``), decimal commas (``2,5 s``: nothing is read from it, not ``5 s``). Read as
times although they are not: chapter and verse (``John 3:16``) and a clock time of day with no
marker (a bare ``10:30`` is ten and a half minutes into the video). A range whose end comes
before its start is read as two instants.

>>> [(t.start, t.end, t.text) for t in find_times("(00:00 - 00:01): a white kitten; at 3.5s it")]
[(0.0, 1.0, '(00:00 - 00:01)'), (3.5, None, '3.5s')]

:func:`write_time` writes a time the way :func:`find_times` reads it back, to the digits asked.

Pure: ``re`` and the error tree; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mimo_nb.core import validate
from mimo_nb.errors import LimitError

__all__ = ["TimeRef", "find_times", "write_time"]


@dataclass(frozen=True)
class TimeRef:
    """One time an answer refers to: an instant (``end`` is None) or a range, in seconds.

    ``span`` is ``(start, stop)`` character offsets of ``text`` in the searched string, so
    ``string[slice(*ref.span)] == ref.text``. ``precision`` is the unit of the last digit written
    (1 for ``00:03``, 0.01 for ``00:03.25``, 0.1 for ``3.2s``); for a range, the coarser of its
    two ends.

    >>> find_times("at 01:05.5")[0]
    TimeRef(start=65.5, end=None, span=(3, 10), text='01:05.5', precision=0.1)
    """

    start: float
    end: float | None
    span: tuple[int, int]
    text: str
    precision: float

    def __post_init__(self) -> None:
        validate.non_negative("start", self.start, hint="A time in a video is >= 0 seconds.")
        hint = "A range ends at its start or later; an instant has end=None."
        validate.number("end", self.end, minimum=self.start, allow_none=True, hint=hint)
        validate.positive("precision", self.precision, hint="The unit of the last digit, e.g. 1.")


# ---- The grammar: one time, then how two times make a range ---------------------------------

# A clock: H:MM:SS or M:SS (minutes may pass 59: 75:30), an optional fraction after a dot.
_CLOCK = r"(?:(?P<h>\d{1,2}):(?P<hm>[0-5]\d)|(?P<m>\d{1,3})):(?P<s>[0-5]\d)(?:\.(?P<cf>\d{1,3}))?"
# Seconds with a unit: 3.2s, 3.2 s, 12 sec, 12 seconds; Qwen3-VL's <12.5 seconds> whole.
_UNIT = r"\s?(?:s|secs?|seconds?)\b"
# Whole seconds may group thousands with commas (1,000.5 s); a comma that groups anything but
# threes (a decimal comma: 2,5 s) is not ours, and no number is read from its inside. A video
# time has at most 10 whole digits (MAX_DURATION is 1e9 s) and 9 decimals (times are held to
# the nanosecond): a longer number is no time, and reading it would only overflow.
_WHOLE = r"\d{1,3}(?:,\d{3}){1,3}(?![\d,])|\d{1,10}(?!,\d)"
_FRACTION = r"\d{1,9}"
_SECONDS = rf"(?P<lt><\s*)?(?P<sec>{_WHOLE})(?:\.(?P<sf>{_FRACTION}))?{_UNIT}(?(lt)\s*>)"
# A bare number: only the start of a range whose end carries the unit (3.2-5.0 seconds).
_BARE = rf"(?P<bare>{_WHOLE})(?:\.(?P<bf>{_FRACTION}))?"
_TOKEN = re.compile(
    rf"(?<![\w:.$€£'’])(?:{_CLOCK}(?![\d:]|\.\d)|(?<!\d,)(?:{_SECONDS}|{_BARE}(?![\w:]|\.\d)))",
    re.IGNORECASE,
)

# What joins two times into a range (the text between them), and what may stand before.
_JOIN = re.compile(r"\s*(?:-|–|—|~|to|until|till)\s*", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r"\s*,\s*")
_FROM = re.compile(r"\b(?P<word>from|between)\s+$", re.IGNORECASE)
_BRACKETS = {"(": ")", "[": "]", "<": ">"}

# Context that makes a match something else: a time of day, a ratio, a score, a date, a duration.
_CLOCK_BEFORE = re.compile(
    r"(?:\b(?:ratio|aspect|scale|score[sd]?|won|lost|beat|leads?|led)"
    r"(?:\s+(?:of|is|was|to|by))?"
    r"|\b(?:clock|watch)\s+(?:reads?|shows?|says|displays?|is)(?:\s+(?:about|around))?"
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}[T,]?)\s*$",
    re.IGNORECASE,
)
_CLOCK_AFTER = re.compile(
    r"^\s*(?:[ap]\.?m\b\.?|o['’]?clock|hrs?\b|h\b|utc|gmt|local\s+time|tonight"
    r"|in\s+the\s+(?:morning|afternoon|evening)|aspect|ratio|scale|win|victory|defeat|lead)",
    re.IGNORECASE,
)
_SECONDS_BEFORE = re.compile(
    r"\b(?:for|lasts?|lasted|lasting|every|each|per|within|over|takes?|took|first|last|next"
    r"|another|a|an)\s+$",
    re.IGNORECASE,
)
_SECONDS_AFTER = re.compile(
    r"^\s*(?:long|later|earlier|apart|before|ago|each|of|clip|video|segment|interval|window"
    r"|in\s+length)\b",
    re.IGNORECASE,
)
_DECADE = re.compile(r"(?:(?:\bthe\s+|['’])\d0s|\b1\d{2}0s|\b20\d0s)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Token:
    """One time as the tokenizer found it: seconds, precision, span, and its kind."""

    seconds: float
    precision: float
    start: int
    stop: int
    kind: str  # "clock", "seconds" or "bare" (a number waiting for a unit)


def _decimal(whole: int, fraction: str | None) -> tuple[float, float]:
    """``whole`` seconds plus a decimal ``fraction`` (its digits), exactly: (seconds, precision)."""
    digits = len(fraction or "")
    scale = 10**digits
    return (whole * scale + int(fraction or 0)) / scale, 1 / scale


def _int(digits: str) -> int:
    """Whole seconds as written, thousands commas and all (``1,000`` is 1000)."""
    return int(digits.replace(",", ""))


def _token(match: re.Match[str]) -> _Token:
    g = match.groupdict()
    if g["s"] is not None:
        hours, minutes = (int(g["h"]), int(g["hm"])) if g["h"] is not None else (0, int(g["m"]))
        seconds, precision = _decimal((hours * 60 + minutes) * 60 + int(g["s"]), g["cf"])
        kind = "clock"
    elif g["sec"] is not None:
        (seconds, precision), kind = _decimal(_int(g["sec"]), g["sf"]), "seconds"
    else:
        (seconds, precision), kind = _decimal(_int(g["bare"]), g["bf"]), "bare"
    return _Token(seconds, precision, match.start(), match.end(), kind)


def _is_time(text: str, kind: str, start: int, stop: int) -> bool:
    """Whether the time at ``text[start:stop]`` reads as a video time in its context."""
    before, after = text[max(0, start - 40) : start], text[stop : stop + 30]
    if kind == "clock":
        return not (_CLOCK_BEFORE.search(before) or _CLOCK_AFTER.search(after))
    return not (
        _SECONDS_BEFORE.search(before)
        or _SECONDS_AFTER.search(after)
        or _DECADE.search(text[max(0, start - 5) : stop])
    )


def _range_start(text: str, first: _Token, second: _Token) -> int | None:
    """Where the range ``first``..``second`` starts in ``text`` (at ``from``/``between`` when it
    opens with one), or None if the two are not a range: the text between them must join them
    (``-``, ``to``...; ``and`` after ``between``; a comma inside ``[...]``), a bare start takes
    its unit from a seconds end, and the range runs forwards."""
    kinds_fit = first.kind == second.kind or (first.kind, second.kind) == ("bare", "seconds")
    if not kinds_fit or second.seconds < first.seconds:
        return None
    opener = _FROM.search(text[max(0, first.start - 12) : first.start])
    word = opener["word"].lower() if opener else ""
    start = first.start - len(opener[0]) if opener else first.start
    between = text[first.stop : second.start]
    if _JOIN.fullmatch(between):
        return start
    if _AND.fullmatch(between):
        return start if word == "between" else None
    ends = _bracket(text, first.start, second.stop)
    if _COMMA.fullmatch(between) and not word and ends and text[ends[0]] == "[":
        return start
    return None


def _bracket(text: str, start: int, stop: int) -> tuple[int, int] | None:
    """The span with its enclosing brackets, when ``text[start:stop]`` is all they hold."""
    left, right = start, stop  # step over white space in place: no copy of the text's rest
    while left and text[left - 1].isspace():
        left -= 1
    while right < len(text) and text[right].isspace():
        right += 1
    if left and right < len(text) and _BRACKETS.get(text[left - 1]) == text[right]:
        return left - 1, right + 1
    return None


def find_times(text: str) -> list[TimeRef]:
    """Every time reference in ``text``, in order: instants and ranges, in seconds.

    The formats, what is not a time, and what is out of scope are in this module's docstring.

    >>> [(t.start, t.end) for t in find_times("from 1:05 to 1:10, then at 12 seconds")]
    [(65.0, 70.0), (12.0, None)]
    >>> find_times("a 16:9 video, Python 3.10, at 10:30 am, for 5 seconds")
    []
    """
    if not isinstance(text, str):
        raise LimitError(
            f"find_times reads text (a str), got {type(text).__name__}: pass the answer's text."
        )
    tokens = [_token(m) for m in _TOKEN.finditer(text)]
    refs: list[TimeRef] = []
    i = 0
    while i < len(tokens):
        first, second = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
        start = None if second is None else _range_start(text, first, second)
        if second is not None and start is not None:
            ref, i = _ref(text, start, first, second), i + 2
        else:
            ref, i = _ref(text, first.start, first, None), i + 1
        if ref is not None:
            refs.append(ref)
    return refs


def _ref(text: str, start: int, first: _Token, second: _Token | None) -> TimeRef | None:
    """The reference from ``start`` to the end of its last time (with its brackets), or None
    when it is a bare number or its context says it is something else."""
    last = second or first
    stop = last.stop
    if last.kind == "bare" or not _is_time(text, last.kind, start, stop):
        return None
    if last.seconds > validate.MAX_DURATION:  # longer than any video: not a time in one
        return None
    start, stop = _bracket(text, start, stop) or (start, stop)
    return TimeRef(
        start=first.seconds,
        end=None if second is None else second.seconds,
        span=(start, stop),
        text=text[start:stop],
        precision=first.precision if second is None else max(first.precision, second.precision),
    )


def write_time(seconds: float, decimals: int = 2) -> str:
    """``seconds`` as ``MM:SS.ff`` (``H:MM:SS.ff`` from an hour on), rounded to ``decimals``
    digits; :func:`find_times` reads it back with precision ``10**-decimals``.

    >>> write_time(0.6666667), write_time(3725.5, 0), write_time(59.999)
    ('00:00.67', '1:02:06', '01:00.00')
    >>> find_times(f"at {write_time(12.345, 3)}")[0].start
    12.345
    """
    validate.non_negative("seconds", seconds, maximum=validate.MAX_DURATION)
    digits = validate.number("decimals", decimals, minimum=0, maximum=3, integer=True)
    scale = 10**digits
    whole, fraction = divmod(round(seconds * scale), scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    head = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
    return head + (f".{fraction:0{digits}d}" if digits else "")
