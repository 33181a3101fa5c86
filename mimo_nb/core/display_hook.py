"""The one hook through which values of the lower layers reach display code.

A :class:`~mimo_nb.core.tokens.TokenBreakdown`, a :class:`~mimo_nb.media.video.Video` or a
:class:`~mimo_nb.api.response.Completion` shows itself in a notebook (``_repr_html_``), and a
budget plan draws itself (``plan.plot()``). The core, media and API layers may not import display
code (import-linter checks it on every ``make test``), so they ask this hook instead:

- ``show("html", value, **options)`` (or the :class:`Displayed` mixin's ``_repr_html_``) finds
  the function registered for ``"html"`` and the value's class (or a base class) and calls it;
- the display layer registers its functions with :func:`renders` when it is imported: its modules
  name the classes they render by their import path, so registering imports nothing below;
- the first call that finds nothing asks the *loader* to import the display layer, once. The
  loader is installed by ``mimo_nb/__init__.py``, the package above every layer, so nothing in a
  lower layer names display code, not even in a string.

Kinds in use: ``"html"`` (``_repr_html_``), ``"plot"`` (draw on matplotlib Axes), ``"play"``
(an inline player). Plain text (``__str__``) never goes through here: lower layers write their
own text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Displayed", "renders", "set_loader", "show"]

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[tuple[str, str], Callable[..., Any]] = {}
_loader: Callable[[], object] | None = None
_loaded = False
_lock = threading.Lock()


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def renders(kind: str, *class_paths: str) -> Callable[[F], F]:
    """Register the decorated function as how ``kind`` is done for the named classes.

    ``class_paths`` are import paths (``"mimo_nb.core.tokens.TokenBreakdown"``); subclasses find
    their base class's function.
    """

    def register(function: F) -> F:
        for class_path in class_paths:
            _REGISTRY[(kind, class_path)] = function
        return function

    return register


def set_loader(loader: Callable[[], object]) -> None:
    """Install what imports the display layer (called once, by ``mimo_nb/__init__.py``)."""
    global _loader
    _loader = loader


def _find(kind: str, cls: type) -> Callable[..., Any] | None:
    for base in cls.__mro__:
        function = _REGISTRY.get((kind, _path(base)))
        if function is not None:
            return function
    return None


def show(kind: str, value: object, /, **options: Any) -> Any:
    """Do ``kind`` (``"html"``, ``"plot"``, ``"play"``) for ``value`` with display code.

    Raises :class:`TypeError` when no display function is registered for the value's class.
    """
    global _loaded
    function = _find(kind, type(value))
    if function is None and not _loaded and _loader is not None:
        with _lock:
            if not _loaded:
                _loader()
                _loaded = True
        function = _find(kind, type(value))
    if function is None:
        raise TypeError(f"no display function for {kind!r} of {type(value).__name__}")
    return function(value, **options)


class Displayed:
    """Mixin: ``_repr_html_`` through :func:`show`, so a value renders without importing display."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        html: str = show("html", self)
        return html
