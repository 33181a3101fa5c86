"""A source as the caller gave it: a URL or a path, read from the caller's folder, named as given.

Workers keep the folder they started in (a notebook's ``%cd`` moves only the caller), so a
relative path travels with the caller's folder, ``base``, and every message names the file as
the caller wrote it.
"""

from __future__ import annotations

import os


def _is_url(text: str) -> bool:
    """True for an http(s) URL (a worker downloads it), False for a path."""
    return text.lower().startswith(("http://", "https://"))


def _short_name(source: str) -> str:
    """The last part of a path or URL: the item's name in tables."""
    return source.rstrip("/").rsplit("/", 1)[-1] or source


def _as_given(message: str, opened: str, source: str) -> str:
    """An error message naming the file as the caller gave it (tables and notebooks stay the same
    on every machine), not as the worker opened it."""
    return message.replace(opened, source) if opened != source else message


def _from_base(source: str, base: str | None) -> str:
    """``source`` read from the caller's folder ``base``: workers keep the folder they started in,
    and a notebook's ``%cd`` moves only the caller."""
    if base is None or not source or _is_url(source) or os.path.isabs(source):
        return source
    return os.path.join(base, source)
