"""Scorers: is a model's answer right, and what answer did we read out of its text?

A scorer takes the model's output, the expected answer and (for multiple choice) the options'
texts, and returns a :class:`Score`: ``correct`` (``True``, ``False``, or ``None`` when no answer
can be read: nothing found, or two answers given), ``extracted`` (the answer as read from the
text, so a reader can check the scorer's reading), ``expected`` and a ``note`` saying how the
answer was read or why it could not be. Accuracy counts ``None`` as not correct.

- :func:`exact`: the whole output equals the expected answer once both are normalised (unicode
  NFKC, case, punctuation, the articles *a*, *an*, *the*, white space; SQuAD's rule);
- :func:`choice`: the option letter read from free text (``"B"``, ``"(B)"``, ``"Answer: B"``,
  ``"The answer is b."``, ``"B) red"``, ``"**B**"``, or an option's text);
- :func:`number`: a number read from the text (``"7"``, ``"seven"``, ``"1,234"``, ``"-3"``; the
  one after *answer*, else the last) within a tolerance;
- :func:`regex`: the answer read with a pattern, then compared as :func:`exact` compares;
- :func:`scorer`: any callable as a :class:`Scorer`, the one form a sweep calls;
- :func:`resolve`: a scorer from its name (``"exact"``, ``"choice"``, ``"number"``,
  ``"regex:<pattern>"``), a :class:`Scorer` or a callable.

>>> choice("The answer is (b).", "B")
Score(correct=True, extracted='B', expected='B', note='after "answer"')
>>> number(tolerance=0.5)("About 7 squares.", 7)
Score(correct=True, extracted='7', expected=7, note='the last number')

Pure: the error classes, ``re`` and ``unicodedata``; no I/O.
"""

from __future__ import annotations

import inspect
import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mimo_nb.core import validate
from mimo_nb.errors import LimitError

__all__ = [
    "Score",
    "Scorer",
    "exact",
    "choice",
    "number",
    "regex",
    "scorer",
    "resolve",
    "normalise",
    "SCORER_NAMES",
]

SCORER_NAMES = ("exact", "choice", "number")  # and "regex:<pattern>"


@dataclass(frozen=True)
class Score:
    """How one answer scored: ``correct`` is ``None`` when no answer could be read (see
    ``note``); ``extracted`` is the answer as read from the output, ``expected`` as given."""

    correct: bool | None
    extracted: str | None
    expected: object
    note: str = ""


# ---- exact ----------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’«»…–—")


def normalise(text: str) -> str:
    """``text`` as :func:`exact` compares it: NFKC, case-folded, no punctuation, no articles,
    white space collapsed.

    >>> normalise("  The  Eiffel-Tower! ")
    'eiffeltower'
    """
    return " ".join(_ARTICLES.sub(" ", _words(text)).split())


def exact(output: str | None, expected: object, choices: Sequence[str] | None = None) -> Score:
    """Right when the whole output equals ``expected`` once both are :func:`normalise` d.

    An expected answer that is only an article (``"A"``, an option's letter) is compared with
    the articles kept, so an empty output or ``"the"`` is not taken for it.

    ``choices`` is not used (every built-in scorer takes it, so a sweep calls them alike).

    >>> exact("Paris.", "paris")
    Score(correct=True, extracted='paris', expected='paris', note='')
    >>> exact("It is Paris.", "Paris").correct
    False
    """
    _compared("", expected)  # an expected answer with nothing to compare is refused at once
    if output is None:
        return Score(None, None, expected, "no output")
    read, want = _compared(output, expected)
    return Score(read == want, read, expected)


def _compared(text: str, expected: object) -> tuple[str, str]:
    """``text`` and ``expected`` as :func:`exact` compares them: :func:`normalise` d, or with
    the articles kept when the expected answer is only an article (``"A"``, ``"the"``)."""
    want = normalise(str(expected))
    if want:
        return normalise(text), want
    want = _words(str(expected))
    if not want:
        raise LimitError(
            f"the expected answer {expected!r} holds no word or number to compare; give the "
            "answer as text."
        )
    return _words(text), want


def _words(text: str) -> str:
    """``text`` as :func:`normalise` reads it, but keeping the articles."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCTUATION)
    return " ".join(text.split())


# ---- multiple choice ------------------------------------------------------------------------

_LETTERS = string.ascii_uppercase
_LETTER = r"[(\[]?([A-Z](?!\w)|[a-z](?!\w)(?!\s+[a-z]))"  # "b." is a letter, "a red" is not
_ANSWER_LETTER = re.compile(
    r"(?i:\banswer\b(?:\s+(?:is|would\s+be)|\s*[:=])?\s*(?:(?:option|choice|letter)\s+)?)"
    + _LETTER
    + r"(?:[)\]]?\s*(?i:or|and|/)\s*"
    + _LETTER
    + ")?"
)
_LEADING_LETTER = re.compile(r"^[(\[]?(?:([A-Z])(?:[)\].:,]|\s*$)|([a-z])(?:[)\]]|\.?\s*$))")
_LONE_CAPITAL = re.compile(r"(?<![A-Za-z'])([A-Z])(?![A-Za-z'])")
_WORD_AFTER = re.compile(r"\s+(?!(?:or|and)\b)[a-z]")  # "A red ball", not "A or B"


def _letters(choices: Sequence[str] | None) -> str:
    return _LETTERS[: len(choices)] if choices else _LETTERS


def _expected_letter(expected: object, choices: Sequence[str] | None) -> str:
    """The expected option as a letter: given as a letter (``"B"``, ``"(b)"``) or, with
    ``choices``, as one option's text."""
    text = unicodedata.normalize("NFKC", str(expected)).strip()
    letters = _letters(choices)
    bare = text.strip("()[]. ").upper()
    if len(bare) == 1 and bare in letters:
        return bare
    if choices:
        matches = [i for i, option in enumerate(choices) if normalise(option) == normalise(text)]
        if len(matches) == 1:
            return letters[matches[0]]
    span = f"A-{letters[-1]}"
    raise LimitError(
        f"the expected answer of a multiple-choice task must be an option letter ({span})"
        + (" or one option's text" if choices else "")
        + f"; got {expected!r}. Give the letter of the right option."
    )


def _lone_letters(text: str, letters: str) -> list[str]:
    """Capital letters standing alone (``"I'd pick (C)"``), not the article *A* or the pronoun
    *I* before a lower-case word."""
    found = []
    for match in _LONE_CAPITAL.finditer(text):
        letter = match.group(1)
        if letter not in letters:
            continue
        if letter in "AI" and _WORD_AFTER.match(text, match.end()):
            continue
        found.append(letter)
    return found


def _option_texts(text: str, choices: Sequence[str]) -> list[int]:
    """The options whose text stands in ``text`` as whole words, leaving out an option whose
    text is part of another one found (``"red"`` inside ``"dark red"``)."""
    said = f" {normalise(text)} "
    found = {i: normalise(option) for i, option in enumerate(choices)}
    found = {i: words for i, words in found.items() if words and f" {words} " in said}
    return [
        i
        for i, words in found.items()
        if not any(words != other and f" {words} " in f" {other} " for other in found.values())
    ]


def _read_choice(output: str, choices: Sequence[str] | None) -> tuple[str | None, str]:
    """The letter answered and how it was read, or ``None`` and why not."""
    text = unicodedata.normalize("NFKC", output).replace("*", "").replace("`", "").strip()
    letters = _letters(choices)
    said = [m for m in _ANSWER_LETTER.finditer(text) if m.group(1).upper() in letters]
    if said:
        last = said[-1]
        first, second = last.group(1).upper(), (last.group(2) or "").upper()
        if second and second != first and second in letters:
            return None, f"ambiguous: {first} or {second}"
        return first, 'after "answer"'
    leading = _LEADING_LETTER.match(text)
    if leading:
        letter = (leading.group(1) or leading.group(2)).upper()
        if letter in letters:
            return letter, "the leading letter"
    lone = sorted(set(_lone_letters(text, letters)))
    if len(lone) > 1:
        return None, "ambiguous: " + " or ".join(lone)
    if lone:
        return lone[0], "the only option letter"
    named = _option_texts(text, choices or ())
    if len(named) > 1:
        return None, "ambiguous: names options " + " and ".join(letters[i] for i in named)
    if named:
        return letters[named[0]], f"the option's text {(choices or ())[named[0]]!r}"
    return None, "no option letter or option text found"


def choice(output: str | None, expected: object, choices: Sequence[str] | None = None) -> Score:
    """Right when the option read from ``output`` is ``expected``.

    ``expected`` is a letter (``"B"``) or, with ``choices`` (the options' texts in order, A
    first), one option's text. The letter is read, in this order, after the last *answer*
    (``"Answer: B"``, ``"the answer is (b)"``, ``"answer: option C"``), as the leading
    letter (``"B"``, ``"(B)"``, ``"B) red"``, ``"**B**"``), as the one option letter standing
    alone in the text, or from the one option whose text the output names. Two letters
    (``"A or B"``) or two options named is ambiguous: ``correct`` is ``None``.

    >>> choice("B) red", "B").correct
    True
    >>> choice("A or B", "B")
    Score(correct=None, extracted=None, expected='B', note='ambiguous: A or B')
    >>> choice("It is green.", "green", ["red", "green", "blue"])
    Score(correct=True, extracted='B', expected='green', note="the option's text 'green'")
    """
    want = _expected_letter(expected, choices)
    if output is None:
        return Score(None, None, expected, "no output")
    letter, how = _read_choice(output, choices)
    return Score(None if letter is None else letter == want, letter, expected, how)


# ---- numbers --------------------------------------------------------------------------------

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUES = {word: i for i, word in enumerate(_UNITS)} | {
    word: 10 * i for i, word in enumerate(_TENS, start=2)
}
_NUMERAL = re.compile(
    r"(?<![\w.,])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?!\w)", re.I
)
_NUMBER_WORD = re.compile(
    rf"\b(?:(?:{'|'.join(_TENS)})(?:[-\s](?:{'|'.join(_UNITS[1:10])}))?|{'|'.join(_UNITS)})\b",
    re.IGNORECASE,
)
_ANSWER = re.compile(r"\banswer\b", re.IGNORECASE)


def _value(found: str) -> float:
    if found[-1].isdigit():
        return float(found.replace(",", ""))
    return float(sum(_WORD_VALUES[word] for word in re.split(r"[-\s]+", found.lower())))


def _read_number(text: str) -> tuple[str, float, str] | None:
    """The number answered: as written, its value, and how it was chosen."""
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    pattern = _NUMERAL if _NUMERAL.search(text) else _NUMBER_WORD
    answers = list(_ANSWER.finditer(text))
    after = pattern.search(text, answers[-1].end()) if answers else None
    if after:
        return after.group(), _value(after.group()), 'after "answer"'
    found = list(pattern.finditer(text))
    return (found[-1].group(), _value(found[-1].group()), "the last number") if found else None


def number(*, tolerance: float = 0.0, relative: float = 0.0) -> Scorer:
    """A scorer for numeric answers: right when ``|read - expected| <= max(tolerance,
    relative * |expected|)``.

    The number read is the first after the last *answer* in the text, else the last number;
    numerals (``"7"``, ``"7.0"``, ``"1,234"``, ``"-3"``) come before words (``"seven"``,
    ``"twenty-one"``), which are read only when the text has no numeral. ``expected`` is a
    number or a text holding one.

    >>> number()("The answer is 1,234 frames, not 1,000.", "1234")
    Score(correct=True, extracted='1,234', expected='1234', note='after "answer"')
    >>> number(relative=0.15)("seven", 8).correct
    True
    """
    tolerance = validate.non_negative("tolerance", tolerance)
    relative = validate.non_negative("relative", relative, hint="(a fraction: 0.05 is 5%)")

    def score(output: str | None, expected: object, choices: Sequence[str] | None = None) -> Score:
        want = _expected_number(expected)
        if output is None:
            return Score(None, None, expected, "no output")
        read = _read_number(output)
        if read is None:
            return Score(None, None, expected, "no number found")
        shown, value, how = read
        return Score(
            abs(value - want) <= max(tolerance, relative * abs(want)), shown, expected, how
        )

    return Scorer(f"number(tolerance={tolerance:g}, relative={relative:g})", score, True)


def _expected_number(expected: object) -> float:
    if isinstance(expected, str):
        read = _read_number(expected)
        if read is None:
            raise LimitError(
                f"the expected answer of a numeric task must be a number; got {expected!r}."
            )
        return read[1]
    return float(validate.number("the expected answer", expected))


# ---- regex and any callable -----------------------------------------------------------------


def regex(pattern: str, *, flags: int = re.IGNORECASE) -> Scorer:
    """A scorer that reads the answer with ``pattern`` (its first group if it has one, else the
    whole match; the first match in the text) and compares it with ``expected`` as
    :func:`exact` does. No match: ``correct`` is ``None``.

    >>> regex(r"colou?r:\\s*(\\w+)")("Colour: Red, size: big", "red")
    Score(correct=True, extracted='Red', expected='red', note='')
    """
    try:
        compiled = re.compile(pattern, flags)
    except (re.error, TypeError) as error:
        raise LimitError(
            f"regex pattern {pattern!r} is not a regular expression: {error}. Fix the "
            'pattern (a raw string, r"...", keeps its backslashes).'
        ) from None

    def score(output: str | None, expected: object, choices: Sequence[str] | None = None) -> Score:
        if output is None:
            return Score(None, None, expected, "no output")
        match = compiled.search(output)
        if match is None:
            return Score(None, None, expected, f"pattern {pattern!r} not found")
        read = match.group(1) if compiled.groups else match.group()
        if read is None:
            return Score(None, None, expected, f"pattern {pattern!r}: its group matched nothing")
        said, want = _compared(read, expected)
        return Score(said == want, read, expected)

    return Scorer(f"regex({pattern!r})", score, True)


@dataclass(frozen=True)
class Scorer:
    """A named scorer: call it with ``(output, expected, choices=None)`` for a :class:`Score`.

    Build one with :func:`scorer`; ``name`` labels it in a sweep's table; ``takes_choices``
    says whether ``function`` is given the options.
    """

    name: str
    function: Callable[..., Score | bool | None]
    takes_choices: bool

    def __call__(
        self, output: str | None, expected: object, choices: Sequence[str] | None = None
    ) -> Score:
        """Score ``output`` against ``expected``."""
        if self.takes_choices:
            result = self.function(output, expected, choices=choices)
        else:
            result = self.function(output, expected)
        if isinstance(result, Score):
            return result
        if result is None or isinstance(result, bool):
            return Score(result, None if output is None else output.strip(), expected)
        raise LimitError(
            f"scorer {self.name} returned {type(result).__name__} {result!r}; a scorer returns "
            "a Score, True or False, or None (no answer could be read)."
        )


def scorer(function: Callable[..., Score | bool | None], *, name: str | None = None) -> Scorer:
    """``function`` as a :class:`Scorer`.

    ``function(output, expected)`` (given ``choices=`` too when it has a parameter of that
    name) returns a :class:`Score`, or ``True``/``False``/``None``; a bare
    result keeps the whole stripped output as the answer read. A :class:`Scorer` is returned as
    it is.

    >>> s = scorer(lambda output, expected: expected in output, name="contains")
    >>> s("a red ball", "red")
    Score(correct=True, extracted='a red ball', expected='red', note='')
    >>> scorer(choice)("(C)", "C", ["x", "y", "z"]).correct
    True
    """
    if isinstance(function, Scorer):
        return function
    if not callable(function):
        raise LimitError(
            f"a scorer must be callable; got {type(function).__name__} {function!r}. Pass a "
            "function of (output, expected) such as mimo_nb.core.scoring.exact."
        )
    try:
        takes_choices = "choices" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature: it gets the two arguments
        takes_choices = False
    label = name or getattr(function, "__name__", None) or repr(function)
    return Scorer(label, function, takes_choices)


def resolve(spec: str | Scorer | Callable[..., Score | bool | None]) -> Scorer:
    """The :class:`Scorer` that ``spec`` names: ``"exact"``, ``"choice"``, ``"number"`` (no
    tolerance; call :func:`number` for one), ``"regex:<pattern>"``, or a Scorer or callable
    (through :func:`scorer`).

    >>> resolve("regex:reads ([0-9]+)")("the counter reads 7", "7").correct
    True
    >>> resolve("fuzzy")
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: scorer must be one of 'exact', 'choice', 'number'; got 'fuzzy'. \
Or "regex:<pattern>", a Scorer, or a function of (output, expected).
    """
    if not isinstance(spec, str):
        return scorer(spec)
    if spec.startswith("regex:"):
        return regex(spec.removeprefix("regex:"))
    validate.choice(
        "scorer",
        spec,
        SCORER_NAMES,
        hint='Or "regex:<pattern>", a Scorer, or a function of (output, expected).',
    )
    return number() if spec == "number" else scorer(exact if spec == "exact" else choice)
