"""The one place arguments are checked: numbers, whole numbers, sizes, choices, selections and
the keywords a call passes on.

Every public function that takes a number passes it through here, so the same mistake (NaN,
infinity, a negative count, ``True`` for a number, ``1.5`` for a whole number, a frame with no
pixels) gets the same answer everywhere: a :class:`~mimo_nb.errors.LimitError` (or the subclass
a caller asks for, such as :class:`~mimo_nb.errors.ConfigurationError`) that says what was wrong
and what to do. Each check returns the value in the form the caller computes with.

A *whole number* is an ``int`` (numpy's too) or a float with no fractional part (``1920.0``, as
a DataFrame column holds it); never a ``bool``. The scalar checks and the array checks apply the
same rules, so the scalar estimator and the array estimator refuse the same inputs.

>>> number("fps", 2)
2.0
>>> size(1920, 1080)
(1920, 1080)
>>> positive_int("max_tokens", 1.5)
Traceback (most recent call last):
...
mimo_nb.errors.LimitError: max_tokens must be a positive whole number, got 1.5.

Pure: the error classes, ``math``, ``numbers``, ``inspect``, ``difflib`` and numpy; no I/O.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from mimo_nb.errors import LimitError, UnknownOptionError

__all__ = [
    "MAX_SIDE",
    "MAX_DURATION",
    "number",
    "positive",
    "positive_int",
    "non_negative",
    "non_negative_int",
    "choice",
    "text",
    "distinct",
    "size",
    "array",
    "sizes",
    "same_length",
    "selection",
    "keywords",
]

MAX_SIDE = 1 << 24  # pixels: far beyond any codec, and products of two sides stay exact in int64
MAX_DURATION = 1e9  # seconds (about 31 years): audio sample counts stay exact in int64


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _whole(value: Any) -> bool:
    if isinstance(value, numbers.Integral):
        return True
    return math.isfinite(value) and float(value).is_integer()


def _fmt(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def _rule(
    minimum: float | None,
    maximum: float | None,
    above: float | None,
    integer: bool,
    finite: bool,
) -> str:
    """The rule in words: ``a positive whole number``, ``a finite number >= 0``, ..."""
    if integer:
        noun = "a whole number"
        if minimum == 1 and above is None:
            noun, minimum = "a positive whole number", None
    elif above == 0 and minimum is None:
        noun, above = "a positive, finite number", None
    else:
        noun = "a finite number" if finite else "a number"
    bounds = [f"> {_fmt(above)}"] if above is not None else []
    bounds += [f">= {_fmt(minimum)}"] if minimum is not None else []
    bounds += [f"<= {_fmt(maximum)}"] if maximum is not None else []
    return " ".join([noun, " and ".join(bounds)]).strip()


def number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    integer: bool = False,
    finite: bool = True,
    allow_none: bool = False,
    hint: str = "",
    error: type[LimitError] = LimitError,
) -> Any:
    """``value`` as an ``int`` (``integer=True``) or a ``float``, or ``error`` saying the rule.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower bound; ``finite``
    refuses NaN and infinities (NaN is always refused); ``allow_none`` lets None through as
    None. ``hint`` is appended to the message: what to do.

    >>> number("timeout", 0, above=0, hint="(seconds)")
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: timeout must be a positive, finite number, got 0. (seconds)
    """
    if value is None and allow_none:
        return None
    ok = _is_number(value)
    if ok:
        as_float = float(value)
        ok = not math.isnan(as_float) and (not finite or math.isfinite(as_float))
        ok = ok and (not integer or _whole(value))
        ok = ok and (minimum is None or as_float >= minimum)
        ok = ok and (maximum is None or as_float <= maximum)
        ok = ok and (above is None or as_float > above)
    if not ok:
        shown = repr(value) if _is_number(value) or value is None else _short(value)
        rule = _rule(minimum, maximum, above, integer, finite)
        raise error(f"{name} must be {rule}, got {shown}." + (f" {hint}" if hint else ""))
    return int(value) if integer else float(value)


def _short(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"{type(value).__name__} {text}"


def positive(name: str, value: Any, **options: Any) -> Any:
    """A finite number > 0 (:func:`number` with ``above=0``)."""
    return number(name, value, above=0, **options)


def non_negative(name: str, value: Any, **options: Any) -> Any:
    """A finite number >= 0."""
    return number(name, value, minimum=0, **options)


def positive_int(name: str, value: Any, *, minimum: int = 1, **options: Any) -> Any:
    """A whole number >= ``minimum`` (1 unless given)."""
    return number(name, value, minimum=minimum, integer=True, **options)


def non_negative_int(name: str, value: Any, **options: Any) -> Any:
    """A whole number >= 0."""
    return number(name, value, minimum=0, integer=True, **options)


def choice(
    name: str,
    value: Any,
    options: Iterable[Any],
    *,
    hint: str = "",
    error: type[LimitError] = LimitError,
) -> Any:
    """``value`` if it is one of ``options``, else ``error`` listing them.

    >>> choice("format", "webm", ("mp4", "gif"))
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: format must be one of 'mp4', 'gif'; got 'webm'.
    """
    options = tuple(options)
    try:
        known = any(value == option and type(value) is type(option) for option in options)
    except (TypeError, ValueError):  # an array compared element-wise
        known = False
    if not known:
        listed = ", ".join(repr(option) for option in options)
        shown = repr(value) if isinstance(value, str) else _short(value)
        raise error(f"{name} must be one of {listed}; got {shown}." + (f" {hint}" if hint else ""))
    return value


def text(
    name: str,
    value: Any,
    *,
    allow_none: bool = False,
    hint: str = "",
    error: type[LimitError] = LimitError,
) -> Any:
    """``value`` if it is a string with something besides white space (or None, when allowed).

    >>> text("question", "  ")
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: question must be a non-empty text; got '  '.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip():
        shown = repr(value) if isinstance(value, str) else _short(value)
        raise error(f"{name} must be a non-empty text; got {shown}." + (f" {hint}" if hint else ""))
    return value


def distinct(
    name: str, values: Iterable[Any], *, hint: str = "", error: type[LimitError] = LimitError
) -> list[Any]:
    """``values`` as a list if no two are equal, else ``error`` naming the first repeated one.

    >>> distinct("task id", ["a", "b", "a"])
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: task id 'a' appears twice (at 0 and 2); each must be unique.
    """
    listed, seen = list(values), dict[Any, int]()
    for position, value in enumerate(listed):
        if value in seen:
            raise error(
                f"{name} {value!r} appears twice (at {seen[value]} and {position}); each must be "
                "unique." + (f" {hint}" if hint else "")
            )
        seen[value] = position
    return listed


def size(width: Any, height: Any, *, what: str = "a frame") -> tuple[int, int]:
    """``(width, height)`` as ints: whole numbers of pixels from 1 to :data:`MAX_SIDE`.

    A frame has at least one pixel on each side; a fraction of a pixel is not a size (the
    estimators would round it one way and the decoder another).
    """
    hint = f"{what.capitalize()} is a whole number of pixels on each side, at least 1."
    return (
        positive_int("width", width, maximum=MAX_SIDE, hint=hint),
        positive_int("height", height, maximum=MAX_SIDE, hint=hint),
    )


def array(
    name: str,
    values: npt.ArrayLike,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    integer: bool = False,
    hint: str = "",
) -> np.ndarray:
    """``values`` as a float64 (or, with ``integer``, int64) array, every element checked as
    :func:`number` checks one: finite, within the bounds, whole where ``integer``.

    The message names the first bad element and its position.
    """
    try:
        raw = np.asarray(values)
        if raw.dtype == np.bool_ or raw.dtype.kind not in "iuf":
            raise TypeError
        data = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise LimitError(
            f"every {name} must be a number; got {_short(values)}." + (f" {hint}" if hint else "")
        ) from None
    good = np.isfinite(data)
    if integer:
        good &= data == np.floor(np.where(good, data, 0))
    if minimum is not None:
        good &= data >= minimum
    if maximum is not None:
        good &= data <= maximum
    if above is not None:
        good &= data > above
    if not good.all():
        where = tuple(int(i) for i in np.argwhere(~good)[0])
        at = f" at {where[0] if len(where) == 1 else where}" if where else ""
        bad = raw[where].item() if where else raw.item()
        rule = _rule(minimum, maximum, above, integer, True)
        raise LimitError(
            f"every {name} must be {rule}; got {bad!r}{at}." + (f" {hint}" if hint else "")
        )
    return data.astype(np.int64) if integer else data


def sizes(width: npt.ArrayLike, height: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """:func:`size` over arrays: int64 arrays of whole numbers of pixels from 1 to
    :data:`MAX_SIDE`."""
    hint = "A frame is a whole number of pixels on each side, at least 1."
    return (
        array("width", width, minimum=1, maximum=MAX_SIDE, integer=True, hint=hint),
        array("height", height, minimum=1, maximum=MAX_SIDE, integer=True, hint=hint),
    )


def same_length(**arrays: npt.ArrayLike | None) -> int:
    """The common length of one-dimensional arguments (one element per item); a scalar or a
    length-1 argument stands for every item. None arguments are skipped.

    >>> same_length(duration=[1, 2, 3], width=640)
    3
    >>> same_length(duration=[1, 2, 3], width=[640, 480])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: duration has 3 elements but width has 2: give one value per ...
    """
    lengths: dict[str, int] = {}
    for name, values in arrays.items():
        if values is None:
            continue
        shape = np.shape(values)
        if len(shape) > 1:
            raise LimitError(
                f"{name} must be one-dimensional (one element per video); got shape {shape}."
            )
        if shape and shape[0] != 1:
            lengths[name] = shape[0]
    if len(set(lengths.values())) > 1:
        (first, n), *rest = lengths.items()
        other, m = next((k, v) for k, v in rest if v != n)
        raise LimitError(
            f"{first} has {n} elements but {other} has {m}: give one value per video "
            "(or one value for all)."
        )
    return next(iter(lengths.values()), 1)


def selection(key: Any, length: int) -> slice | np.ndarray:
    """Which of ``length`` items ``key`` selects: a slice as it is, else an int64 index array.

    Accepted: a slice, a list or array of whole numbers (negative count from the end), or a
    boolean mask of exactly ``length`` elements. Anything else (``True``, ``None``, ``1.5``,
    a string, a mask of another length) is a :class:`LimitError`; an index out of range is an
    ``IndexError``, as it is for a single int.
    """
    hint = (
        "Select with an int, a slice, a list or array of ints, or a boolean mask with one "
        f"element per frame ({length})."
    )
    if isinstance(key, slice):
        return key
    if key is None or isinstance(key, (bool, np.bool_, str, bytes, float)):
        raise LimitError(f"cannot select frames with {_short(key)}. {hint}")
    try:
        picked = np.asarray(key)
    except (TypeError, ValueError):
        raise LimitError(f"cannot select frames with {_short(key)}. {hint}") from None
    if picked.ndim != 1 and not (picked.ndim == 0 and picked.dtype.kind in "iu"):
        raise LimitError(f"cannot select frames with {_short(key)}. {hint}")
    if picked.dtype == np.bool_:
        if picked.shape != (length,):
            raise LimitError(
                f"a boolean mask needs one element per frame ({length}), got {picked.shape[0]}. "
                + hint
            )
        return np.flatnonzero(picked)
    if picked.size == 0:
        return np.zeros(0, np.int64)
    if picked.dtype.kind not in "iu":
        raise LimitError(f"cannot select frames with {_short(key)}. {hint}")
    # an index out of range is numpy's IndexError, as for a single int (the sequence protocol)
    return np.arange(length)[np.atleast_1d(picked).astype(np.int64)]


def keywords(
    where: str,
    given: Iterable[str],
    *takes: Callable[..., Any] | Iterable[str],
    but: Iterable[str] = (),
    hint: str = "",
) -> None:
    """Refuse a keyword that none of ``takes`` accepts (each a function, whose keyword
    parameters count, or a list of names), or one of ``but`` (the caller fills those itself),
    before any work (``hint`` ends the message): an
    :class:`~mimo_nb.errors.UnknownOptionError` (a ``TypeError`` too) naming ``where``, the
    closest option and every one, instead of a ``TypeError`` from a function deep inside, or a
    typo taken for a request field.

    >>> keywords("sweep", ["fsp"], ["fps", "media_resolution"])
    Traceback (most recent call last):
    ...
    mimo_nb.errors.UnknownOptionError: sweep got an unknown option 'fsp'. Did you mean 'fps'? \
It takes: fps, media_resolution.
    """
    known: dict[str, None] = {}
    for accepted in takes:
        if callable(accepted):  # its options: keyword-only, or with a default
            parameters = inspect.signature(accepted).parameters.values()
            known.update(dict.fromkeys(p.name for p in parameters if _an_option(p)))
        else:
            known.update(dict.fromkeys(accepted))
    for name in but:
        known.pop(name, None)
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            close_hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownOptionError(
                f"{where} got an unknown option {name!r}.{close_hint} It takes: "
                f"{', '.join(known)}." + (f" {hint}" if hint else "")
            )


def _an_option(parameter: inspect.Parameter) -> bool:
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
        return True
    has_default = parameter.default is not inspect.Parameter.empty
    return parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and has_default
