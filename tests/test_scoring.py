"""Scorers on a table of messy model outputs: the verdict and the answer read, for audit."""

from __future__ import annotations

import pytest

from mimo_nb.core.scoring import Score, Scorer, choice, exact, normalise, number, regex, scorer
from mimo_nb.errors import LimitError, MimoError

COLOURS = ["red", "green", "blue", "dark blue"]

# (output, expected, choices, correct, extracted)
CHOICE_TABLE = [
    ("B", "B", None, True, "B"),
    ("b", "B", None, True, "B"),
    ("(B)", "B", None, True, "B"),
    ("[C]", "C", None, True, "C"),
    ("B.", "B", None, True, "B"),
    ("Answer: B", "B", None, True, "B"),
    ("answer:C", "B", None, False, "C"),
    ("The answer is b.", "B", None, True, "B"),
    ("The answer is (D)", "D", None, True, "D"),
    ("The correct answer is option C.", "C", None, True, "C"),
    ("B) red", "B", COLOURS, True, "B"),
    ("b) green", "B", COLOURS, True, "B"),
    ("A. red", "B", COLOURS, False, "A"),
    ("**B**", "B", None, True, "B"),
    ("**Answer:** (B) green", "B", COLOURS, True, "B"),
    ("I think the answer is B, because the ball turns green.", "B", COLOURS, True, "B"),
    ("A red ball rolls left, so I'd pick (B).", "B", COLOURS, True, "B"),
    ("Looking at frame 3... Answer: A. Final answer: C", "C", None, True, "C"),
    ("Not A; it is clearly C", "C", COLOURS, None, None),  # names two: no guess at negation
    ("green", "B", COLOURS, True, "B"),
    ("The ball is Green.", "green", COLOURS, True, "B"),
    ("It ends dark blue.", "D", COLOURS, True, "D"),
    ("It is red.", "B", COLOURS, False, "A"),
    ("A or B", "B", None, None, None),
    ("Answer: A or B", "A", None, None, None),
    ("Either (A) or (C), hard to tell.", "A", COLOURS, None, None),
    ("It could be red or green.", "B", COLOURS, None, None),
    ("I cannot tell from these frames.", "B", COLOURS, None, None),
    ("", "B", COLOURS, None, None),
    ("Ｂ", "B", None, True, "B"),  # a full-width letter: NFKC
    ("E", "B", COLOURS, None, None),  # no option E among four
]


@pytest.mark.parametrize(("output", "expected", "choices", "correct", "extracted"), CHOICE_TABLE)
def test_choice_reads_the_letter_from_free_text(output, expected, choices, correct, extracted):
    score = choice(output, expected, choices)
    assert (score.correct, score.extracted) == (correct, extracted), score.note
    assert score.expected == expected
    if correct is None:
        assert score.note  # why no answer could be read


def test_an_ambiguous_choice_says_which_letters():
    assert choice("A or B", "B").note == "ambiguous: A or B"
    assert "A and B" in choice("It could be red or green.", "B", COLOURS).note


def test_the_expected_option_must_be_a_letter_or_an_options_text():
    with pytest.raises(LimitError, match="option letter \\(A-D\\) or one option's text"):
        choice("B", "purple", COLOURS)
    with pytest.raises(LimitError, match="option letter \\(A-D\\)"):
        choice("B", "E", COLOURS)


# (scorer, output, expected, correct, extracted)
NUMBER_TABLE = [
    (number(), "7", 7, True, "7"),
    (number(), "seven", 7, True, "seven"),
    (number(), "Seven squares.", "7", True, "Seven"),
    (number(), "7.0", 7, True, "7.0"),
    (number(), "about 7", 7, True, "7"),
    (number(), "1,234", 1234, True, "1,234"),
    (number(), "-3", -3, True, "-3"),
    (number(), "It moved \u22123 px", -3, True, "-3"),  # a unicode minus
    (number(), "twenty-one", 21, True, "twenty-one"),
    (number(), "Frames 1, 2 and 3 show it; the answer is 5 changes.", 5, True, "5"),
    (number(), "I count 4 then 6", 6, True, "6"),
    (number(), "Answer: 12 (though 13 is possible)", 12, True, "12"),
    (number(), "The last number shown is 42.", 42, True, "42"),
    (number(), "The last number shown is 42.", 41, False, "42"),
    (number(tolerance=1), "The last number shown is 42.", 41, True, "42"),
    (number(relative=0.1), "about 105 seconds", 100, True, "105"),
    (number(relative=0.01), "about 105 seconds", 100, False, "105"),
    (number(), "I cannot tell.", 3, None, None),
    (number(), "3.5e2", 350, True, "3.5e2"),
]


@pytest.mark.parametrize(("score", "output", "expected", "correct", "extracted"), NUMBER_TABLE)
def test_number_reads_the_answered_number(score, output, expected, correct, extracted):
    result = score(output, expected)
    assert (result.correct, result.extracted) == (correct, extracted), result.note


def test_number_refuses_a_bad_tolerance_and_an_expected_answer_with_no_number():
    with pytest.raises(LimitError, match="tolerance must be a finite number >= 0"):
        number(tolerance=-1)
    with pytest.raises(LimitError, match="expected answer of a numeric task"):
        number()("7", "many")


# (output, expected, correct, extracted)
EXACT_TABLE = [
    ("Paris", "paris", True, "paris"),
    ("  The Eiffel Tower! ", "eiffel tower", True, "eiffel tower"),
    ("ＰＡＲＩＳ", "Paris", True, "paris"),  # full-width: NFKC
    ("an apple", "Apple.", True, "apple"),
    ("It is Paris.", "Paris", False, "it is paris"),
    ("Pariss", "Paris", False, "pariss"),
]


@pytest.mark.parametrize(("output", "expected", "correct", "extracted"), EXACT_TABLE)
def test_exact_compares_normalised_text(output, expected, correct, extracted):
    assert exact(output, expected) == Score(correct, extracted, expected)


def test_exact_keeps_the_articles_when_the_answer_is_one():
    # Found by the sweep: "A" normalises to "" (an article), so an empty answer, "the" or
    # "an" were scored right against it.
    assert exact("", "A") == Score(False, "", "A")
    assert exact("The", "A").correct is False and exact("an", "a").correct is False
    assert exact("a.", "A") == Score(True, "a", "A")
    assert exact("The Eiffel Tower", "eiffel tower").correct is True  # articles still dropped
    assert regex(r"option (\w+)")("option the", "A").correct is False  # the same for regex
    with pytest.raises(LimitError, match="holds no word or number"):
        exact(None, "?!")


def test_normalise_keeps_words_apart_and_drops_articles():
    assert normalise("A  cat, the DOG\u00a0and an owl") == "cat dog and owl"


def test_regex_reads_the_group_and_compares_it_exactly():
    colour = regex(r"colou?r:\s*(\w+)")
    assert colour("Colour: Red", "red") == Score(True, "Red", "red")
    assert colour("color: blue", "red").correct is False
    missing = colour("no colour named", "red")
    assert missing.correct is None and "not found" in missing.note
    assert regex(r"\d+ apples")("I see 3 apples", "3 apples").extracted == "3 apples"
    with pytest.raises(LimitError, match="not a regular expression"):
        regex("(unclosed")


def test_scorer_wraps_any_callable_and_keeps_the_answer():
    contains = scorer(lambda output, expected: str(expected) in output, name="contains")
    assert contains.name == "contains"
    assert contains(" a red ball ", "red") == Score(True, "a red ball", "red")
    assert scorer(exact)("Paris", "paris").correct is True
    assert scorer(choice)("green", "B", COLOURS).correct is True  # the options reach it
    assert scorer(contains) is contains
    first = scorer(lambda output, expected, *, choices=None: output == choices[0])
    assert first("red", "A", COLOURS).correct is True  # choices= reaches a keyword parameter
    assert isinstance(number(), Scorer)


def test_a_scorer_that_returns_something_else_is_a_clear_error():
    with pytest.raises(MimoError, match="returned int 1; a scorer returns a Score"):
        scorer(lambda output, expected: 1)("x", "y")
    with pytest.raises(LimitError, match="must be callable"):
        scorer("exact")  # type: ignore[arg-type]


def test_no_output_is_no_answer_for_every_scorer():
    for score, expected in ((scorer(exact), "B"), (scorer(choice), "B"), (number(), 3)):
        result = score(None, expected, COLOURS)
        assert (result.correct, result.extracted, result.note) == (None, None, "no output")
    assert regex("x")(None, "x").correct is None
