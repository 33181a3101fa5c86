"""A video as MiMo sees it: probe once, plan the sampling, decode exactly the frames the model gets.

>>> import mimo_nb as mn
>>> video = mn.Video.open("clip.mp4")          # a path, bytes, or an http(s) URL
>>> video.estimate(fps=2).total                # the spec's token formula for this file
187
>>> frames = video.sample(fps=2)               # the frames, at the size the model sees them
>>> np.asarray(frames).shape, frames[0].shape  # Frames behave as a (frames, h, w, 3) array
((4, 256, 320, 3), (256, 320, 3))
>>> frames.save_contact_sheet("sheet.png").name
'sheet.png'
>>> small = video.fit(fps=2)                   # re-encoded to travel as base64 under 50 MB
>>> player = video.play()                      # an inline <video> player in a notebook
>>> player = frames.play()                     # the sampled frames at the model's rate
>>> frames.save("sampled.gif").name            # ... or as a clip: .mp4, or an animated .gif
'sampled.gif'

Which frames: ``profiles.plan_sampling`` gives the count and size from the spec's formula, and
``tokens.sample_indices_by_time`` spreads them evenly over the clip's *time*: target times from
the first to the last frame's presentation time, each taking the frame nearest to it (for a
constant-rate file exactly the rounded ``linspace`` over frame numbers, ``tokens.sample_indices``).
:mod:`mimo_nb.media.probe` reads the file once, :mod:`mimo_nb.media.decode` decodes the frames;
timestamps are the frames' real presentation times. The frames are a :class:`Frames`
(:mod:`mimo_nb.media.frames`). Writing video (``fit``, ``Frames.save``/``play``) goes through
:mod:`mimo_nb.media.encode`; the HTML comes from :mod:`mimo_nb.display.render`.

A ``Video`` remembers its file's size, modification time and inode from ``open``: if the file is
rewritten afterwards, ``plan``/``estimate``/``sample``/``fit``/``play`` raise ``VideoError``
(``reason="changed"``) rather than describe bytes that are gone, and ``sha256()`` hashes the
current bytes.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, overload
from urllib.parse import unquote, urlparse

import numpy as np
import numpy.typing as npt

from mimo_nb._deadline import Deadline
from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.limits import BASE64_LIMIT_BYTES, URL_LIMIT_BYTES, base64_length
from mimo_nb.core.profiles import (
    DEFAULT_PROFILE,
    Profile,
    ServerTokenBreakdown,
    explain_profile_tokens,
    plan_sampling,
)
from mimo_nb.core.tokens import (
    FPS_DEFAULT,
    SamplingPlan,
    TokenBreakdown,
    check_has_pixels,
    sample_indices_by_time,
)
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media import decode
from mimo_nb.media import encode as _encode
from mimo_nb.media import imaging as _imaging
from mimo_nb.media.files import FileState, file_sha256, temp_path
from mimo_nb.media.frames import (
    PLAYER_MAX_BYTES,
    Frames,
    Player,
    SampledFrame,
    _check_max_bytes,
    _check_width,
    _megabytes,
)
from mimo_nb.media.probe import Probe, probe
from mimo_nb.net.http import Transport, download, offline_from_env

__all__ = ["Video", "Frames", "Player", "SampledFrame"]  # Frames, Player, SampledFrame: re-exported

ProgressArg = Callable[[int, int], None] | bool | None
BROWSER_CODECS = frozenset(
    {"h264", "vp9", "av1"}
)  # what Chromium, Firefox and Safari all play in MP4


def _ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` as ``"3-5, 9"``."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)


def _substitute_note(substitutes: dict[int, int], info: Probe) -> str:
    """Which wanted frames the file could not give, and what stands in for them."""
    missing = sorted(substitutes)
    shown = sorted(set(substitutes.values()))
    cut = (
        (
            f" (the file holds {info.readable_frames} of the {info.frame_count} frames it lists: "
            "it was cut short)"
        )
        if info.readable_frames < info.frame_count
        else " (damaged data)"
    )
    return (
        f"{len(missing)} sampled frame(s) could not be decoded{cut}: frames {_ranges(missing)} "
        f"repeat frame(s) {_ranges(shown)} instead."
    )


# ---- Opening: path, bytes or URL ------------------------------------------------------------


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _too_long(text: str, what: str) -> LimitError:
    longest = max((len(part) for part in Path(text).parts), default=0)
    return LimitError(
        f"{what} got a path the file system refuses as too long ({len(text)} characters, "
        f"the longest name {longest}; "
        "most allow 255 per name). Rename the file or move it to a shorter path."
    )


def _check_timeout(timeout: object) -> float:
    return validate.positive("timeout", timeout, hint="(seconds)")  # type: ignore[no-any-return]


def _check_sample_args(progress: object, timeout: object) -> float:
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise LimitError(
            "progress must be True (a tqdm bar), False/None, or a callable (done, total); "
            f"got {_encode.short_repr(progress)}."
        )
    return _check_timeout(timeout)


def _local_file(text: str) -> tuple[Path, os.stat_result]:
    """The path of an existing regular file, and its stat, or the error that says what is wrong."""
    if _SCHEME.match(text):
        raise LimitError(
            f"Video.open downloads http:// and https:// URLs only; got {_encode.short_repr(text)}. "
            "Download the file yourself and pass its path."
        )
    path = Path(text)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (relative to the current folder {os.getcwd()!r})"
        raise VideoError(
            f"No such video file: {text!r}{where}. Check the path.", reason="not_found", source=text
        ) from None
    except NotADirectoryError:
        raise VideoError(
            f"No such video file: {text!r} (a part of the path is a file, not a folder). "
            "Check the path.",
            reason="not_found",
            source=text,
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise _too_long(text, "Video.open") from None
        raise VideoError(
            f"Cannot read {text!r}: {exc.strerror or exc}. "
            "Check that the file exists and you may read it.",
            reason="unreadable",
            source=text,
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise VideoError(
            f"{text!r} is a folder, not a video file; pass the path of a file inside it.",
            reason="not_a_video",
            source=text,
        )
    if not stat.S_ISREG(info.st_mode):
        raise VideoError(
            f"{text!r} is not a regular file (a pipe or a device?); "
            "save the video to a file first.",
            reason="not_a_video",
            source=text,
        )
    return path, info


def _download(url: str, deadline: Deadline, transport: Transport | None) -> Path:
    """``url`` in a temp file, through the network seam (:func:`mimo_nb.net.http.download`: all
    of it before ``deadline``, at most 300 MB, a progress bar); never in offline mode."""
    if offline_from_env():
        raise VideoError(
            f"offline mode is on (MIMO_NB_OFFLINE): not downloading {url}. Download it yourself "
            "and open the file, or turn offline mode off.",
            reason="offline",
            source=url,
        )
    target = temp_path(Path(unquote(urlparse(url).path)).suffix.lower()[:8])
    download(url, target, deadline=deadline, max_bytes=URL_LIMIT_BYTES, transport=transport)
    return target


class Video(Displayed):
    """A local video file, probed once; what MiMo will see of it and what that costs.

    Open with :meth:`Video.open`. Sizes are as displayed (the container's rotation applied).

    >>> video = Video.open("clip.mp4")
    >>> video.duration, video.width, video.height, video.native_fps, video.has_audio
    (2.0, 320, 240, 30.0, True)
    """

    def __init__(
        self,
        info: Probe,
        *,
        url: str | None = None,
        name: str | None = None,
        temporary: bool = False,
        state: os.stat_result | None = None,
    ) -> None:
        self._info = info
        self.path: Path = info.path
        self.url = url
        self.name = name or info.path.name
        self.fit_note: str = ""
        # the file as probed (``state``: its stat from before the probe); see check_unchanged
        self._state = FileState.from_stat(state if state is not None else os.stat(info.path))
        self._sha256: str | None = None
        self._sha256_state: FileState | None = None
        self._strip: tuple[npt.NDArray[np.uint8], list[str]] | None = None
        if temporary:  # bytes and downloads live in temp files that go with the object
            weakref.finalize(self, Path(info.path).unlink, missing_ok=True)

    @classmethod
    def open(
        cls,
        source: str | os.PathLike[str] | bytes,
        *,
        timeout: float = 60.0,
        transport: Transport | None = None,
    ) -> Video:
        """Open a local path, the bytes of a file, or an http(s) URL, and probe it.

        ``timeout`` bounds the whole of it, a URL's download included. A URL is downloaded
        through the network seam (:mod:`mimo_nb.net.http`), as every request is: ``transport``
        (an ``httpx.BaseTransport``, e.g. the ``httpx.MockTransport`` you give ``MimoClient``)
        replaces the network; it is only used for URLs. Nothing is downloaded in offline mode
        (``MIMO_NB_OFFLINE``).

        Raises :class:`VideoError` (``reason`` says why) when the file is missing, empty, not a
        video, truncated, in a format MiMo does not take, or too large to download, and
        :class:`LimitError` for an argument that cannot be a video (a number, None, an empty or
        over-long path, a path with a NUL character, a URL scheme other than http(s)).

        >>> Video.open("clip.mp4").format
        'mp4'
        """
        timeout = _check_timeout(timeout)
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            if not data:
                raise VideoError(
                    "The video bytes are empty (0 bytes).", reason="empty", source="<bytes>"
                )
            path = temp_path(".mov" if data[4:12] == b"ftypqt  " else "")
            path.write_bytes(data)
            return cls._probe_owned(path, timeout, name="video (bytes)")
        if hasattr(source, "read") and not isinstance(source, (str, os.PathLike)):
            raise LimitError(
                "Video.open takes a path, a URL or bytes, not an open file; "
                "pass its name, or its bytes: Video.open(f.read())."
            )
        if not isinstance(source, (str, os.PathLike)):
            raise LimitError(
                "Video.open takes a file path, an http(s) URL or the file's bytes; "
                f"got {type(source).__name__} {_encode.short_repr(source)}."
            )
        text = _encode.path_argument(source, "Video.open")
        if text.lower().startswith(("http://", "https://")):
            deadline = Deadline(timeout)  # one deadline for the download and the probe
            path = _download(text, deadline, transport)
            name = Path(unquote(urlparse(text).path)).name or "video"
            video = cls._probe_owned(path, max(deadline.remaining() or 0.0, 0.001), name=name)
            video.url = text
            return video
        path, state = _local_file(text)
        return cls(probe(path, timeout=timeout), state=state)

    @classmethod
    def _probe_owned(cls, path: Path, timeout: float, name: str) -> Video:
        try:
            info = probe(path, timeout=timeout)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return cls(info, name=name, temporary=True)

    # ---- what the file is --------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Length in seconds (frames / frame rate for constant-rate video)."""
        return self._info.duration

    @property
    def width(self) -> int:
        """Displayed width in pixels (rotation applied)."""
        return self._info.width

    @property
    def height(self) -> int:
        """Displayed height in pixels (rotation applied)."""
        return self._info.height

    @property
    def rotation(self) -> int:
        """Counter-clockwise display rotation from the container, degrees (0, 90, 180, 270)."""
        return self._info.rotation

    @property
    def native_fps(self) -> float:
        """Average frame rate of the file."""
        return self._info.native_fps

    @property
    def native_frame_count(self) -> int:
        """Frames in the video stream."""
        return self._info.frame_count

    @property
    def has_audio(self) -> bool:
        """True when the file has an audio track (then audio tokens are charged)."""
        return self._info.has_audio

    @property
    def size_bytes(self) -> int:
        """File size in bytes, now (a :class:`VideoError` ``changed`` if the file is gone)."""
        return self._current_state().size

    @property
    def format(self) -> str:
        """Container: ``mp4``, ``mov``, ``avi`` or ``wmv``."""
        return self._info.format

    @property
    def mime_type(self) -> str:
        """MIME type for a data URI: video/mp4, video/quicktime, video/x-msvideo, video/x-ms-wmv."""
        return self._info.mime_type

    @property
    def codec(self) -> str:
        """The video codec's FFmpeg name."""
        return self._info.codec

    @property
    def probe_info(self) -> Probe:
        """Everything the probe read."""
        return self._info

    def _current_state(self) -> FileState:
        try:
            return FileState.of(self.path)
        except OSError:
            raise VideoError(
                f"{self.name} is gone: {str(self.path)!r} was deleted or moved after Video.open. "
                "Open the video again.",
                reason="changed",
                source=str(self.path),
            ) from None

    def check_unchanged(self) -> None:
        """Raise :class:`VideoError` (``reason="changed"``) if the file is not the one opened.

        The file's size, modification time and inode are kept from :meth:`open`; a file rewritten,
        replaced or removed since then no longer matches what was probed (duration, size, frames),
        so nothing computed from the probe may be trusted. Open it again. (A rewrite that keeps
        the size and lands within the file system's timestamp resolution cannot be seen this way;
        :meth:`sha256` always hashes the bytes.)
        """
        changes = self._state.differences(self._current_state())
        if changes:
            raise VideoError(
                f"{self.name} changed on disk after Video.open "
                f"({changes}); what was probed "
                "(duration, size, frames) no longer describes it. "
                f"Open it again: Video.open({str(self.path)!r}).",
                reason="changed",
                source=str(self.path),
            )

    def sha256(self) -> str:
        """Hex SHA-256 of the file's current bytes (streamed; computed again when the file changed).

        A file rewritten after :meth:`open` gets the hash of its new bytes, never the old one.
        """
        for _ in range(3):
            before = self._current_state()
            if self._sha256 is not None and self._sha256_state == before:
                return self._sha256
            try:
                digest = file_sha256(self.path)
            except OSError:
                continue  # removed while we read it: the next round says so
            if self._current_state() == before:  # not rewritten while we read it
                self._sha256, self._sha256_state = digest, before
                return digest
        raise VideoError(
            f"{self.name} kept changing while it was being hashed; "
            "wait until it is written, then open it again.",
            reason="changed",
            source=str(self.path),
        )

    # ---- what the model sees -----------------------------------------------------------------

    def plan(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        *,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> SamplingPlan:
        """Frame count, indices and model frame size for this video (validated by the token core).

        ``profile`` picks whose rules: the hosted API's formula by default, or a self-hosted
        server's (:mod:`mimo_nb.core.profiles`), which count from the probe's frame count and rate.

        Raises :class:`VideoError` ``changed`` if the file was rewritten since :meth:`open`.
        """
        self.check_unchanged()
        if profile == DEFAULT_PROFILE:  # by name: the formula; a Profile object plans itself
            return plan_sampling(self.duration, self.width, self.height, fps, media_resolution)
        return plan_sampling(
            self.duration,
            self.width,
            self.height,
            fps,
            media_resolution,
            profile=profile,
            native_fps=self.native_fps,
            native_frame_count=self.native_frame_count,
        )

    @overload
    def estimate(
        self, fps: float = ..., media_resolution: str = ..., *, profile: Literal["mimo-api"] = ...
    ) -> TokenBreakdown: ...
    @overload
    def estimate(
        self, fps: float = ..., media_resolution: str = ..., *, profile: str | Profile
    ) -> TokenBreakdown | ServerTokenBreakdown: ...

    def estimate(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        *,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> TokenBreakdown | ServerTokenBreakdown:
        """The token estimate for this file, every step shown; mute without an audio track.

        The API's :class:`TokenBreakdown` by default; a server's :class:`ServerTokenBreakdown`
        (vision and special tokens, timestamps as text) for another ``profile``.

        Raises :class:`VideoError` ``changed`` if the file was rewritten since :meth:`open`.

        >>> Video.open("clip.mp4").estimate(fps=2).total
        187
        """
        self.check_unchanged()
        return explain_profile_tokens(  # the profile decides: the API's formula or a server's
            self.duration,
            self.width,
            self.height,
            fps,
            media_resolution,
            mute=not self.has_audio,
            profile=profile,
            native_fps=self.native_fps,
            native_frame_count=self.native_frame_count,
        )

    def sample(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        size: str = "model",
        progress: ProgressArg = None,
        *,
        timeout: float = 300.0,
        profile: str | Profile = DEFAULT_PROFILE,
        cancel: threading.Event | None = None,
        on_frame: Callable[[SampledFrame], None] | None = None,
    ) -> Frames:
        """Decode the frames the model sees: the formula's count, spread over the clip.

        Args:
            fps, media_resolution: as sent to the API.
            profile: whose sampling rules (``"mimo-api"``, or a server's:
                :mod:`mimo_nb.core.profiles`).
            size: ``"model"`` (the formula's width x height) or ``"native"`` (displayed size).
            progress: True for a tqdm bar, or a callable ``(done, total)``.
            timeout: seconds for the whole decode.
            cancel: a ``threading.Event``; set it from another thread to stop decoding
                (:class:`VideoError` with ``reason="cancelled"``).
            on_frame: called with each :class:`SampledFrame` as soon as it is decoded, for
                progressive display (see also :meth:`iter_sample`).

        >>> frames = Video.open("clip.mp4").sample(fps=2)
        >>> len(frames) == Video.open("clip.mp4").plan(fps=2).frames
        True
        """
        timeout = _check_sample_args(progress, timeout)
        plan, target = self._checked_plan(fps, media_resolution, size, profile)
        indices = self._plan_indices(plan)
        decoded = self._read(
            indices, target, progress, timeout, cancel, self._frame_callback(indices, on_frame)
        )
        return self._frames(plan, size, indices, decoded.array, decoded.substitutes)

    def _plan_indices(self, plan: SamplingPlan) -> npt.NDArray[np.int64]:
        """The API picks frames by time (below); a server profile by its own index rule."""
        if plan.profile == DEFAULT_PROFILE:
            return self.sample_indices(plan.frames)
        return plan.indices(self.native_frame_count)

    def sample_indices(self, count: int) -> npt.NDArray[np.int64]:
        """Frame numbers of ``count`` frames spread evenly over the clip's time (see the module
        doc)."""
        table = self._info.frame_table()
        return sample_indices_by_time(table.pts[: self.native_frame_count], count)

    def timestamps(self, indices: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Presentation times (s, from the first frame) of frames ``indices``, as the file gives
        them."""
        return self._info.frame_table().seconds[np.asarray(indices, dtype=np.int64)]

    def _frames(
        self,
        plan: SamplingPlan,
        size: str,
        indices: npt.NDArray[np.int64],
        array: npt.NDArray[np.uint8],
        substitutes: dict[int, int],
    ) -> Frames:
        """Frames with the repeats said out loud: more frames asked than the file has, or frames it
        cannot give."""
        notes = []
        if len(np.unique(indices)) < len(indices):
            notes.append(
                f"fps={plan.fps:g} asks for {plan.frames} frames but the file has "
                f"{self.native_frame_count} (native {self.native_fps:g} fps), "
                "so some frames repeat, as they will for the model."
            )
        if substitutes:
            notes.append(_substitute_note(substitutes, self._info))
        return Frames(
            array=array,
            indices=indices,
            timestamps=self.timestamps(indices),
            plan=plan,
            repeated=bool(notes),
            size=size,
            native_fps=self.native_fps,
            note=" ".join(notes),
            source_name=self.name,
        )

    def iter_sample(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        size: str = "model",
        *,
        timeout: float = 300.0,
        cancel: threading.Event | None = None,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> Iterator[SampledFrame]:
        """The frames :meth:`sample` returns, yielded one by one as they are decoded.

        Each distinct frame comes once, with every position it takes in the sampled order (a
        frame repeats when fps asks for more frames than the file has). Set ``cancel`` (a
        ``threading.Event``, from any thread) or close the iterator to stop the decoding.

        >>> video = Video.open("clip.mp4")
        >>> plan = video.plan(fps=2)
        >>> grid = np.zeros((plan.frames, plan.height, plan.width, 3), np.uint8)
        >>> for item in video.iter_sample(fps=2, size="model"):
        ...     grid[list(item.positions)] = item.array
        >>> [item.index for item in video.iter_sample(fps=2)]
        [0, 20, 39, 59]
        >>> bool((grid == video.sample(fps=2).array).all())
        True
        """
        plan, target = self._checked_plan(fps, media_resolution, size, profile)
        indices = self._plan_indices(plan)
        sampled = self._sampled_frame(indices)
        for item in decode.iter_frames(self._info, indices, target, timeout=timeout, cancel=cancel):
            yield sampled(item)

    def preview(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        size: str = "model",
        *,
        max_keyframes: int = 24,
        timeout: float = 30.0,
        profile: str | Profile = DEFAULT_PROFILE,
    ) -> Frames:
        """A quick stand-in for :meth:`sample`: each sampled frame shown by a nearby keyframe.

        Decodes at most ``max_keyframes`` keyframes (seeking to each, nothing else decoded), so it
        costs a fraction of a second even for long videos. ``repeated`` is True and the note
        says these are not the exact frames; the ``indices`` and ``timestamps`` are the exact
        frames' (what :meth:`sample` will show).
        """
        plan, target = self._checked_plan(fps, media_resolution, size, profile)
        indices = self._plan_indices(plan)
        array, sources = decode.read_keyframes(
            self._info, indices, target, max_keyframes=max_keyframes, timeout=timeout
        )
        frames = self._frames(plan, size, indices, array, {})
        frames.repeated = True
        frames.note = (
            f"preview: nearby keyframes (frames {_ranges(sorted(set(sources.tolist())))}) "
            "stand in for the "
            f"{plan.frames} sampled frames; sample() gives the exact ones. " + frames.note
        ).strip()
        return frames

    def _checked_plan(
        self, fps: float, media_resolution: str, size: str, profile: str | Profile = DEFAULT_PROFILE
    ) -> tuple[SamplingPlan, tuple[int, int] | None]:
        plan = self.plan(fps, media_resolution, profile=profile)
        if size not in ("model", "native"):
            raise LimitError(f"size must be 'model' or 'native', got {size!r}.")
        if size == "model":
            check_has_pixels(plan.width, plan.height, self.width, self.height)
        return plan, ((plan.width, plan.height) if size == "model" else None)

    def _sampled_frame(
        self, indices: npt.NDArray[np.int64]
    ) -> Callable[[decode.DecodedFrame], SampledFrame]:
        """What makes a decoded frame of ``indices`` (the sampled order) a :class:`SampledFrame`:
        its positions in that order and its presentation time."""
        positions: dict[int, list[int]] = {}
        for position, index in enumerate(indices.tolist()):
            positions.setdefault(index, []).append(position)
        seconds = self._info.frame_table().seconds

        def sampled(item: decode.DecodedFrame) -> SampledFrame:
            return SampledFrame(
                tuple(positions[item.index]),
                item.index,
                float(seconds[item.index]),
                item.array,
                item.source,
            )

        return sampled

    def _frame_callback(
        self, indices: npt.NDArray[np.int64], on_frame: Callable[[SampledFrame], None] | None
    ) -> Callable[[decode.DecodedFrame], None] | None:
        if on_frame is None:
            return None
        sampled = self._sampled_frame(indices)
        return lambda item: on_frame(sampled(item))

    def _read(
        self,
        indices: npt.NDArray[np.int64],
        size: tuple[int, int] | None,
        progress: ProgressArg,
        timeout: float,
        cancel: threading.Event | None = None,
        on_frame: Callable[[decode.DecodedFrame], None] | None = None,
    ) -> decode.Decoded:
        options: dict[str, Any] = dict(timeout=timeout, cancel=cancel, on_frame=on_frame)
        if progress is True:
            from tqdm.auto import tqdm

            unique = len(np.unique(indices))
            with tqdm(total=unique, desc="frames", leave=False) as bar:
                return decode.decode_frames(
                    self._info,
                    indices,
                    size,
                    progress=lambda done, _: bar.update(done - bar.n),
                    **options,
                )
        return decode.decode_frames(self._info, indices, size, progress=progress or None, **options)

    # ---- display -----------------------------------------------------------------------------

    def _thumbnail_strip(self, count: int = 6) -> tuple[npt.NDArray[np.uint8], list[str]]:
        if self._strip is None:
            indices = np.unique(
                np.round(
                    np.linspace(0, self.native_frame_count - 1, min(count, self.native_frame_count))
                ).astype(np.int64)
            )
            height = 72
            width = max(2, round(self.width * height / self.height / 2) * 2)
            if width > 4 * height:
                width, height = 4 * height, max(2, round(self.height * 4 * height / self.width))
            array = decode.read_frames(self._info, indices, (width, height), timeout=30.0)
            self._strip = (array, [_imaging.format_time(t) for t in self.timestamps(indices)])
        return self._strip

    def play(self, *, max_bytes: int = PLAYER_MAX_BYTES, width: int | None = None) -> Player:
        """An inline player for the file: an HTML5 ``<video>`` with controls.

        Files up to ``max_bytes`` go into the notebook as a data: URI (so the player also works in
        an exported HTML file, offline); a bigger video opened from a URL plays from that URL;
        otherwise, and for formats browsers cannot play (AVI, WMV, codecs other than H.264, VP9
        and AV1), the player is a note saying how to watch instead: ``video.sample(fps).play()``
        shows exactly what the model sees.

        >>> Video.open("clip.mp4").play()  # doctest: +ELLIPSIS
        <Player clip.mp4: MP4 h264, 320x240, 2.0 s, ... KB, inline>
        """
        limit = _check_max_bytes(max_bytes)
        width = _check_width(width)
        self.check_unchanged()
        size = self.size_bytes
        caption = (
            f"{self.format.upper()} {self.codec}, {self.width}x{self.height}, "
            f"{self.duration:.1f} s, {_megabytes(size)}"
        )
        show_width = width or min(self.width, 640)
        if self.format not in ("mp4", "mov") or self.codec not in BROWSER_CODECS:
            note = (
                f"Browsers cannot play {self.format.upper()} files with {self.codec} video, "
                "so there is no player here. "
                "Watch what the model sees with video.sample(fps=2).play(), "
                "or re-encode to H.264: video.fit(fps=2).play()."
            )
            return Player(
                f"{self.name}: no browser plays {self.format}/{self.codec}", self.name, note=note
            )
        if size <= limit:
            data = self.path.read_bytes()
            # an H.264 MOV plays when labelled video/mp4; browsers refuse video/quicktime
            return Player(
                f"{self.name}: {caption}, inline", self.name, caption, data, width=show_width
            )
        if self.url:
            return Player(
                f"{self.name}: {caption}, from {self.url}",
                self.name,
                caption + ", played from its URL",
                url=self.url,
                width=show_width,
            )
        note = (
            f"{self.name} is {_megabytes(size)}, more than the {_megabytes(limit)} "
            "put into a notebook by default (max_bytes). "
            f"Pass max_bytes={size} to embed it anyway, "
            "or watch what the model sees: video.sample(fps=2).play()."
        )
        return Player(f"{self.name}: too big to embed ({_megabytes(size)})", self.name, note=note)

    def metadata_rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs shown in the card."""
        rows = [
            ("format", f"{self.format.upper()} ({self.mime_type}), {self.codec}"),
            ("duration", f"{self.duration:.3f} s"),
            (
                "size",
                f"{self.width} x {self.height}"
                + (f" (rotated {self.rotation}°)" if self.rotation else ""),
            ),
            ("frame rate", f"{self.native_fps:.3f} fps, {self.native_frame_count} frames"),
            ("audio", "yes" if self.has_audio else "no (mute: no audio tokens)"),
            (
                "file size",
                (
                    f"{self._state.size / 2**20:.2f} MB, "
                    f"base64 {base64_length(self._state.size) / 2**20:.2f} MB"
                ),
            ),
        ]
        if self.url:
            rows.append(("url", self.url))
        if self.fit_note:
            rows.append(("fit", self.fit_note))
        return rows

    def thumbnail_strip(self) -> tuple[Any, list[str], str]:
        """Thumbnails for the card, their captions, and a note (why there are none, if so)."""
        try:
            self.check_unchanged()
            strip, captions = self._thumbnail_strip()
        except VideoError as exc:  # a card with metadata beats no card
            return np.zeros((0, 1, 1, 3), np.uint8), [], f"thumbnails unavailable: {exc}"
        return strip, captions, ""

    def __repr__(self) -> str:
        return (
            f"<Video {self.name!r} {self.format} {self.width}x{self.height} {self.duration:.2f}s "
            f"{self.native_fps:g}fps audio={self.has_audio}>"
        )

    # ---- fit: re-encode what the model sees ----------------------------------------------------

    def fit(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        max_bytes: int = BASE64_LIMIT_BYTES,
        *,
        path: str | os.PathLike[str] | None = None,
        timeout: float = 600.0,
    ) -> Video:
        """Re-encode so the clip travels as base64 within ``max_bytes`` and the model sees the same.

        The new MP4 holds only the sampled frames, at the formula's size, timed so the duration
        (and so the frame count the server computes) is unchanged, with the audio kept. Its
        token estimate at the same ``fps`` and ``media_resolution`` equals this video's. The
        returned video's ``fit_note`` says what was done.

        Raises :class:`LimitError` if even the lowest quality does not fit ``max_bytes``.

        >>> small = Video.open("clip.mp4").fit(fps=2)
        >>> small.fit_note.split(";")[0]  # doctest: +NORMALIZE_WHITESPACE
        're-encoded 60 frames at 320x240 to the 4 sampled frames at 320x256 (fps=2, default),
        2.000 s kept, audio kept'
        """
        max_bytes, timeout = _check_max_bytes(max_bytes), _check_timeout(timeout)
        if path is not None:
            path = _encode.output_path(path, [".mp4"], "Video.fit")
        plan = self.plan(fps, media_resolution)
        frames = self.sample(fps, media_resolution, size="model", timeout=timeout)
        out = Path(path) if path is not None else temp_path(".mp4")
        try:
            quality = _encode_fitted(self, frames, out, max_bytes, timeout)
        except BaseException:
            if path is None:
                out.unlink(missing_ok=True)  # our temp file: nothing worth keeping
            raise
        fitted = Video(
            probe(out, timeout=timeout),
            name=f"{Path(self.name).stem} (fit).mp4",
            temporary=path is None,
        )
        size = out.stat().st_size
        fitted.fit_note = (
            f"re-encoded {self.native_frame_count} frames at {self.width}x{self.height} "
            f"to the {plan.frames} sampled frames at "
            f"{plan.width}x{plan.height} (fps={plan.fps:g}, {plan.media_resolution}), "
            f"{self.duration:.3f} s kept, "
            f"{'audio kept' if self.has_audio else 'no audio'}; H.264 {quality}; "
            f"{self.size_bytes / 2**20:.2f} MB -> {size / 2**20:.2f} MB "
            f"(base64 {base64_length(size) / 2**20:.2f} MB "
            f"of {max_bytes / 2**20:.0f} MB allowed)"
        )
        return fitted


def _exact_duration(video: Video) -> Fraction:
    """The duration as an exact fraction where the probe allows it (frames / exact rate)."""
    info = video.probe_info
    if info.constant_rate and info.rate:
        return Fraction(info.frame_count) / info.rate
    return Fraction(info.duration).limit_denominator(1_000_000)


def _encode_fitted(video: Video, frames: Frames, out: Path, max_bytes: int, timeout: float) -> str:
    """Write ``frames`` as an MP4 lasting as long as ``video``; return the quality used."""
    seconds = _exact_duration(video)
    rate = Fraction(len(frames)) / seconds
    if rate.denominator > 1_000_000:  # keep the muxer's time scale within 32 bits
        rate = rate.limit_denominator(1_000_000)
    quality = _encode.write_video_within(
        out,
        frames.array,
        rate=rate,  # one tick per frame, so the duration comes out exact
        max_base64_bytes=max_bytes,
        audio_source=video.path if video.has_audio else None,
        seconds=seconds,
        deadline=time.monotonic() + timeout,
    )
    if quality is not None:
        return quality
    raise LimitError(
        "Even at the lowest quality the fitted video is "
        f"{base64_length(out.stat().st_size) / 2**20:.1f} MB as base64, over "
        f"{max_bytes / 2**20:.1f} MB. Lower fps or use media_resolution='default', "
        "or send the video by URL (up to 300 MB)."
    )
