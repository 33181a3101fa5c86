"""What a scan reads: a folder, a glob, a list of paths or URLs, or a CSV/Parquet manifest.

:func:`expand_source` turns any of them into the list of sources, their names and the
manifest's other columns. Folders and globs list each real file once (links lead nowhere twice),
hidden files left out.
"""

from __future__ import annotations

import fnmatch
import glob
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mimo_nb.corpus._optional import _need_pandas
from mimo_nb.corpus._paths import _is_url, _short_name
from mimo_nb.corpus._rows import COLUMNS
from mimo_nb.errors import LimitError, MimoError

# Files a folder scan picks up: MiMo's four formats, and common others so that they show up as
# "unsupported format" rows instead of being silently left out.
VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".mov",
        ".avi",
        ".wmv",
        ".m4v",
        ".mkv",
        ".webm",
        ".flv",
        ".mpg",
        ".mpeg",
        ".ts",
        ".3gp",
        ".asf",
    }
)
MANIFEST_SUFFIXES = frozenset({".csv", ".parquet", ".pq"})
PATH_COLUMNS = ("path", "url", "file", "video", "filename")


def _folder_files(root: Path) -> list[Path]:
    """Video files under ``root``, recursively, sorted, each real file once; hidden files and
    folders left out (links to folders are not followed)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            Path(folder) / f
            for f in files
            if not f.startswith(".") and Path(f).suffix.lower() in VIDEO_SUFFIXES
        ]
    return _each_file_once(sorted(found))


def _identity(path: Path | str) -> tuple[int, int] | None:
    """What makes a file or folder itself whatever links lead to it: (device, inode)."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def _each_file_once(paths: list[Path]) -> list[Path]:
    """``paths`` without the later ones that are the same file (reached through a link)."""
    seen: set[tuple[int, int]] = set()
    kept = []
    for path in paths:
        identity = _identity(path)
        if identity is None or identity not in seen:
            kept.append(path)
            if identity is not None:
                seen.add(identity)
    return kept


def _glob_files(pattern: str) -> list[Path]:
    """The files ``pattern`` matches, as ``glob(recursive=True)`` (``**`` spans folders, names
    starting with a dot match only a pattern that starts with one), sorted, each real file once.

    Unlike ``glob``, a folder reached twice (a link back up the tree) is entered once, so link
    loops end: ``glob`` lists a file once per way round a loop, and never returns with two.
    """
    if pattern.endswith(("/", os.sep)):
        return []  # a pattern ending in a separator matches folders only
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = Path(*parts[:first]) if first else Path(os.curdir)

    def shown(name: str, part: str) -> bool:
        return (not name.startswith(".") or part.startswith(".")) and fnmatch.fnmatch(name, part)

    def entries(folder: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as listing:
                return sorted(listing, key=lambda e: e.name)
        except OSError:
            return []

    def below(folder: Path) -> Iterator[Path]:  # folder and the folders under it, each once
        seen: set[tuple[int, int] | None] = set()
        stack = [folder]
        while stack:
            here = stack.pop()
            identity = _identity(here)
            if identity is None or identity in seen:
                continue
            seen.add(identity)
            yield here
            stack += [
                here / e.name
                for e in reversed(entries(here))
                if not e.name.startswith(".") and e.is_dir()
            ]

    def expand(folder: Path, rest: tuple[str, ...]) -> Iterator[Path]:
        head, tail = rest[0], rest[1:]
        if head == "**":
            for sub in below(folder):
                if tail:
                    yield from expand(sub, tail)
                else:  # a trailing ** matches everything under the folder
                    yield from (sub / e.name for e in entries(sub) if not e.name.startswith("."))
        elif not glob.has_magic(head):
            if tail:
                yield from expand(folder / head, tail)
            else:
                yield folder / head
        else:
            for entry in entries(folder):
                if shown(entry.name, head):
                    if not tail:
                        yield folder / entry.name
                    elif entry.is_dir():
                        yield from expand(folder / entry.name, tail)

    found = expand(root, parts[first:])
    return _each_file_once(sorted(p for p in found if p.is_file()))


def _read_manifest(path: Path) -> Any:
    pd = _need_pandas()
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except ImportError as exc:
        raise MimoError(
            f"reading {path.name} needs a Parquet engine ({exc}); pip install pyarrow."
        ) from None
    except (OSError, ValueError) as exc:
        raise LimitError(
            f"cannot read the manifest {path}: {exc}. Check it is a CSV or Parquet file."
        ) from None


def _manifest_sources(
    frame: Any, path_column: str | None, base: Path | None
) -> tuple[list[str], Any]:
    """The paths of a manifest (relative ones resolved against ``base``) and its other columns."""
    columns = {str(c).lower(): c for c in frame.columns}
    column = (
        path_column
        if path_column is not None
        else next((columns[c] for c in PATH_COLUMNS if c in columns), None)
    )
    if column is None or column not in frame.columns:
        raise LimitError(
            f"the manifest has no path column (columns: {list(frame.columns)[:12]}); name it with "
            f"path_column=... (looked for {', '.join(PATH_COLUMNS)})."
        )
    sources = []
    for value in frame[column].tolist():
        text = (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )
        if text and base is not None and not _is_url(text) and not Path(text).is_absolute():
            text = str(base / text)
        sources.append(text)
    extra = frame.drop(columns=[column]).reset_index(drop=True)
    extra.columns = [f"manifest_{c}" if c in COLUMNS else c for c in extra.columns]
    return sources, extra


def expand_source(
    source: Any, path_column: str | None = None
) -> tuple[list[str], list[str], Any, str]:
    """``(sources, names, manifest columns or None, description)`` for what :meth:`Corpus.scan`
    accepts."""
    pd_frame = type(source).__name__ == "DataFrame"
    if pd_frame:
        sources, extra = _manifest_sources(source, path_column, None)
        return (
            sources,
            [_short_name(s) for s in sources],
            extra,
            f"a DataFrame of {len(sources)} rows",
        )
    if isinstance(source, (list, tuple)):
        sources = [_list_item(item, k) for k, item in enumerate(source)]
        return sources, [_short_name(s) for s in sources], None, f"a list of {len(sources)} items"
    if not isinstance(source, (str, os.PathLike)):
        raise LimitError(
            f"cannot scan a {type(source).__name__}: pass a folder, a glob, a list of paths or "
            "URLs, or a CSV/Parquet manifest with a path column."
        )
    text = os.fspath(source)
    path = Path(text)
    if _is_url(text):
        return [text], [_short_name(text)], None, text
    if path.is_dir():
        files = _folder_files(path)
        return (
            [str(f) for f in files],
            [f.relative_to(path).as_posix() for f in files],
            None,
            f"folder {text}",
        )
    if path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
        sources, extra = _manifest_sources(_read_manifest(path), path_column, path.parent)
        return sources, [_short_name(s) for s in sources], extra, f"manifest {path.name}"
    if any(ch in text for ch in "*?["):
        files = _glob_files(text)
        return [str(f) for f in files], [f.name for f in files], None, f"glob {text}"
    if path.is_file():
        return [text], [path.name], None, text
    raise LimitError(
        f"{text!r} is neither a folder, a file, a manifest (.csv/.parquet) nor a glob that "
        "matches; check the path."
    )


def _list_item(item: Any, position: int) -> str:
    """A listed source as text; None (or NaN) is a row without a path, as in a manifest."""
    if item is None or (isinstance(item, float) and math.isnan(item)):
        return ""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)  # type: ignore[return-value]
    raise LimitError(
        f"item {position} of the list is {item!r:.60} ({type(item).__name__}), not a path or URL; "
        "list paths (str or pathlib.Path) or URLs only."
    )
