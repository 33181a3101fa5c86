"""What a video file is now: its state (has it changed?) and its bytes' hash; temporary files.

:class:`FileState` is the one file-state check: a :class:`~mimo_nb.media.video.Video` and a
request's :class:`~mimo_nb.api.request.VideoPart` each keep the state of their file when they
measured it, and :meth:`FileState.changes` says how the file differs now (size, modification
time, inode).

A local video enters a cache key by the sha256 of its bytes (:func:`file_sha256`); hashing a
two-hour recording for every question would dominate, so a hash is remembered under the file's
identity and stat and recomputed the moment the file changes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

__all__ = ["FileState", "file_sha256", "temp_path"]


class FileState(NamedTuple):
    """What tells us a file was rewritten or replaced: its size, modification time and inode.

    >>> state = FileState.of("clip.mp4")
    >>> state.changes("clip.mp4")  # nothing happened to it: the empty string
    ''
    """

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileState:
        """The file's state now; ``OSError`` as ``os.stat`` raises it."""
        return cls.from_stat(os.stat(path))

    @classmethod
    def from_stat(cls, info: os.stat_result) -> FileState:
        return cls(info.st_size, info.st_mtime_ns, info.st_ino)

    def differences(self, now: FileState) -> str:
        """How ``now`` differs from this state, said plainly ("" when it does not)."""
        said = []
        if now.size != self.size:
            said.append(f"{self.size:,} -> {now.size:,} bytes")
        if now.mtime_ns != self.mtime_ns:
            said.append("modified since")
        if now.inode != self.inode:
            said.append("replaced by another file")
        return ", ".join(said)

    def changes(self, path: str | os.PathLike[str]) -> str:
        """How the file at ``path`` differs from this state now ("" when it does not);
        ``OSError`` when it cannot be read any more."""
        return self.differences(FileState.of(path))


# A file's hash is remembered under its identity and stat (device, inode, size, mtime, ctime),
# so a batch over one clip hashes it once, while a file rewritten in place is hashed again.
# A stat taken within _RACY_SECONDS of the file's last change is not trusted (the "racy git"
# problem: a second write inside the clock's granularity would leave the stat unchanged).
_RACY_SECONDS = 2.0
_MEMO_SIZE = 256
_memo: OrderedDict[tuple[int, ...], str] = OrderedDict()
_memo_lock = threading.Lock()


def file_sha256(path: str | os.PathLike[str], chunk_bytes: int = 2**20) -> str:
    """Hex sha256 of a file's bytes as they are now: how a local video enters a cache key.

    Read in chunks. The result is remembered while the file's stat is unchanged (and not so
    fresh that a change could hide in the clock's granularity), so a rewritten file is
    re-hashed, never answered from another file's entry. Raises ``OSError`` as ``open`` does.

    >>> from pathlib import Path
    >>> Path("a.bin").write_bytes(b"abc") and file_sha256("a.bin")[:12]
    'ba7816bf8f01'
    """
    with open(path, "rb") as handle:
        before = os.fstat(handle.fileno())
        identity = (
            before.st_dev,
            before.st_ino,
            before.st_size,
            before.st_mtime_ns,
            before.st_ctime_ns,
        )
        with _memo_lock:
            known = _memo.get(identity)
        if known is not None:
            return known
        digest = hashlib.sha256()
        for block in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(block)
        after = os.fstat(handle.fileno())
    value = digest.hexdigest()
    settled = time.time() - max(after.st_mtime_ns, after.st_ctime_ns) / 1e9 > _RACY_SECONDS
    if settled and (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == identity[2:]:
        with _memo_lock:
            _memo[identity] = value
            while len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
    return value


def temp_path(suffix: str = "") -> Path:
    """A new empty file in the system's temporary folder, named ``mimo_nb_*suffix``: the caller's
    to fill and to delete."""
    handle, name = tempfile.mkstemp(prefix="mimo_nb_", suffix=suffix)
    os.close(handle)
    return Path(name)
