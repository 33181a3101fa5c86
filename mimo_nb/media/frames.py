"""Decoded frames as the model sees them, and the players a notebook shows.

:class:`Frames` (what :meth:`~mimo_nb.media.video.Video.sample` returns) behaves as a
(frames, height, width, 3) uint8 array and knows where each frame came from: its index, its
presentation time, the plan that chose it. It draws itself (a grid, a contact sheet), writes
itself as a clip, and plays at the model's rate in a :class:`Player`. :class:`SampledFrame` is one
frame as :meth:`~mimo_nb.media.video.Video.iter_sample` yields it.

>>> frames = mn.Video.open("clip.mp4").sample(fps=2)
>>> frames.shape, frames[1:3].indices.tolist()
((4, 256, 320, 3), [20, 39])
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed, show
from mimo_nb.core.profiles import DEFAULT_PROFILE
from mimo_nb.core.tokens import SamplingPlan
from mimo_nb.errors import LimitError
from mimo_nb.media import encode as _encode
from mimo_nb.media import imaging as _imaging
from mimo_nb.media.files import temp_path

__all__ = ["Frames", "Player", "SampledFrame"]


PLAYER_MAX_BYTES = 10 * 2**20  # media bigger than this are not written into the notebook by default
_PLAY_FPS_MAX = 60.0


@dataclass(frozen=True)
class Player(Displayed):
    """An inline player: a notebook shows it as an HTML5 ``<video>`` (or an animated GIF).

    What to play: ``media`` (the clip's bytes, embedded as a data: URI, so it also plays in an
    nbconvert HTML export) or ``url``; or, when there is nothing a browser can play, ``note``
    saying why and what to do. The HTML is the display layer's (``html``, ``_repr_html_``);
    ``embedded_bytes`` says how much the player adds to the notebook.
    """

    description: str
    title: str
    caption: str = ""
    media: bytes = b""
    media_type: str = "video/mp4"
    url: str | None = None
    note: str | None = None
    width: int | None = None
    loop: bool = False

    @property
    def embedded_bytes(self) -> int:
        """Bytes of media put into the notebook (0 for a URL or a note)."""
        return len(self.media)

    @property
    def html(self) -> str:
        """The player as HTML (what a notebook shows)."""
        return self._repr_html_()

    def __repr__(self) -> str:
        return f"<Player {self.description}>"


_PLAY_FPS_MIN = 0.01  # one frame every 100 s: slower rates overflow GIF's frame delay


def _check_play_fps(fps: object, limit: float = _PLAY_FPS_MAX) -> float:
    return validate.number(  # type: ignore[no-any-return]
        "fps",
        fps,
        minimum=_PLAY_FPS_MIN,
        maximum=limit,
        hint="(frames a second the clip plays at; the sampling fps when None)",
    )


def _check_max_bytes(max_bytes: object) -> int:
    return validate.non_negative_int("max_bytes", max_bytes, hint="(bytes)")  # type: ignore[no-any-return]


def _check_width(width: object) -> int | None:
    """A player's width in CSS pixels, or None for the default."""
    return validate.positive_int(  # type: ignore[no-any-return]
        "width", width, allow_none=True, hint="(the player's width in pixels, or None)"
    )


def _megabytes(n: int) -> str:
    """A byte count for people: KB below a megabyte, MB above."""
    return f"{n / 2**10:.1f} KB" if n < 2**20 else f"{n / 2**20:.2f} MB"


@dataclass(eq=False)
class Frames:
    """Decoded frames with the indices and timestamps they came from; it behaves as an array.

    ``np.asarray(frames)`` is the (frames, height, width, 3) uint8 array, ``frames[0]`` one
    frame, ``frames[2:5]`` a :class:`Frames` of three, and ``len``, iteration and ``.shape`` work,
    so numpy code and ``mediapy.show_images(frames)`` take it as it is.

    >>> frames = mn.Video.open("clip.mp4").sample(fps=2)
    >>> frames.shape, frames.indices.tolist(), frames.repeated
    ((4, 256, 320, 3), [0, 20, 39, 59], False)
    >>> frames[1:3].indices.tolist(), frames[0].shape
    ([20, 39], (256, 320, 3))
    """

    array: npt.NDArray[np.uint8]
    indices: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.float64]
    plan: SamplingPlan
    repeated: bool
    size: str
    native_fps: float
    note: str = ""
    source_name: str = field(default="")

    # ---- the array protocol ----------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def __iter__(self) -> Iterator[npt.NDArray[np.uint8]]:
        return iter(self.array)

    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[Any]:
        """The frames as one array; numpy 2's ``copy`` is honoured (numpy 1 passes only
        ``dtype``)."""
        if dtype is not None and np.dtype(dtype) != self.array.dtype:
            if copy is False:
                raise ValueError(
                    f"Frames are uint8; converting them to {np.dtype(dtype)} needs a copy."
                )
            return self.array.astype(dtype)
        return self.array.copy() if copy else self.array

    @overload
    def __getitem__(self, key: int | np.integer) -> npt.NDArray[np.uint8]: ...
    @overload
    def __getitem__(self, key: slice | Sequence[int] | npt.NDArray[Any]) -> Frames: ...
    @overload
    def __getitem__(self, key: tuple[Any, ...]) -> npt.NDArray[np.uint8]: ...

    def __getitem__(self, key: Any) -> Any:
        """``frames[i]``: one (height, width, 3) frame; a slice, index list or mask: a Frames;
        a tuple indexes the array as numpy does (``frames[:, :8]`` crops every frame)."""
        if isinstance(key, tuple):
            return self.array[key]
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            return self.array[key]
        return self._subset(validate.selection(key, len(self)))  # a slice stays a view

    def _subset(self, picked: slice | npt.NDArray[np.int64]) -> Frames:
        indices = self.indices[picked]
        repeated = len(np.unique(indices)) < len(indices)
        return replace(
            self,
            array=self.array[picked],
            indices=indices,
            timestamps=self.timestamps[picked],
            repeated=bool(repeated),
            note=self.note if repeated else "",
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """(frames, height, width, 3)."""
        return tuple(self.array.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Always uint8."""
        return self.array.dtype

    @property
    def ndim(self) -> int:
        """4: frames, height, width, channels."""
        return int(self.array.ndim)

    # ---- looking at them ---------------------------------------------------------------------

    def captions(self) -> list[str]:
        """One caption per frame: its timestamp and frame index."""
        return [
            f"{_imaging.format_time(t)} · #{i}"
            for t, i in zip(self.timestamps, self.indices, strict=True)
        ]

    def to_html(self, columns: int = 6, max_frames: int | None = None) -> str:
        """An HTML grid of the frames (inline JPEG thumbnails) with timestamps under each."""
        html: str = show("html", self, columns=columns, max_frames=max_frames)
        return html

    def grid_note(self, max_frames: int | None = None) -> tuple[int, str]:
        """How many frames :meth:`to_html` shows, and the line above its grid."""
        shown = len(self) if max_frames is None else max(0, min(max_frames, len(self)))
        head = (
            f"{len(self)} frames at {self.array.shape[2]}x{self.array.shape[1]} "
            f"({self.size} size), "
            f"fps={self.plan.fps:g}, media_resolution={self.plan.media_resolution}"
            + ("" if self.plan.profile == DEFAULT_PROFILE else f", profile={self.plan.profile}")
        )
        if shown < len(self):
            head += f"; showing the first {shown}"
        if self.note:
            head += ". " + self.note
        return shown, head

    def _repr_html_(self) -> str:
        return self.to_html(max_frames=48)

    def __repr__(self) -> str:
        return (
            f"<Frames {len(self)} x {self.array.shape[2]}x{self.array.shape[1]} ({self.size}) "
            f"fps={self.plan.fps:g} repeated={self.repeated}>"
        )

    def contact_sheet(self, columns: int = 6) -> Any:
        """All frames in one ``PIL.Image`` grid, each labelled with its timestamp."""
        return _imaging.contact_sheet(self.array, self.captions(), columns)

    def save_contact_sheet(self, path: str | os.PathLike[str], columns: int = 6) -> Path:
        """Write :meth:`contact_sheet` as a PNG file and return its path."""
        path = Path(path)
        self.contact_sheet(columns).save(path, format="PNG")
        return path

    # ---- watching them at the model's rate ---------------------------------------------------

    def save(self, path: str | os.PathLike[str], fps: float | None = None) -> Path:
        """Write the frames as a clip, one frame every ``1 / fps`` s (default: the sampling fps).

        The suffix picks the format: ``.mp4`` (H.264, plays in every browser), ``.gif`` (loops
        forever), or ``.mov``, ``.avi``, ``.wmv``. Played at the sampling fps the clip lasts as long
        as the video, and shows exactly what the model sees, repeats included.

        >>> frames = mn.Video.open("clip.mp4").sample(fps=2)
        >>> mn.Video.open(frames.save("sampled.mp4")).native_frame_count
        4
        """
        path = _encode.output_path(
            path, [*_encode.VIDEO_FORMATS, _encode.GIF_SUFFIX], "Frames.save"
        )
        suffix = path.suffix.lower()
        if not len(self):
            raise LimitError("There are no frames to save (an empty selection).")
        rate = self.plan.fps if fps is None else fps
        if suffix == _encode.GIF_SUFFIX:
            return _encode.write_gif(path, self.array, _check_play_fps(rate, 50.0))
        return _encode.write_video(
            path, self.array, rate=Fraction(_check_play_fps(rate)).limit_denominator(1001)
        )

    def play(
        self,
        fps: float | None = None,
        *,
        format: str = "mp4",
        width: int | None = None,
        max_bytes: int = PLAYER_MAX_BYTES,
    ) -> Player:
        """An inline player for the frames at the model's rate (``fps``: the sampling fps).

        ``format="mp4"`` makes an H.264 clip in a ``<video>`` with controls; ``"gif"`` an animated
        GIF that plays by itself. Past ``max_bytes`` the player is a note saying how to save it.

        >>> mn.Video.open("clip.mp4").sample(fps=2).play(format="gif")  # doctest: +ELLIPSIS
        <Player 4 frames at 320x256 as GIF, 2 fps, ... KB inline>
        """
        if format not in ("mp4", "gif"):
            raise LimitError(f"format must be 'mp4' or 'gif', got {format!r}.")
        limit = _check_max_bytes(max_bytes)
        width = _check_width(width)
        rate = (
            self.plan.fps
            if fps is None
            else _check_play_fps(fps, 50.0 if format == "gif" else _PLAY_FPS_MAX)
        )
        shown = f"{len(self)} frames at {self.array.shape[2]}x{self.array.shape[1]}"
        caption = (
            f"{shown}, {rate:g} per second ({len(self) / rate:.1f} s)"
            + (", the rate the model samples at" if fps is None else "")
            + (f". {self.note}" if self.note else "")
        )
        title = (
            f"{self.source_name}: what the model sees"
            if self.source_name
            else "what the model sees"
        )
        target = temp_path(f".{format}")
        try:
            data = self.save(target, rate).read_bytes()
        finally:
            target.unlink(missing_ok=True)
        if len(data) > limit:
            note = (
                f"The {format.upper()} of {shown} is {_megabytes(len(data))}, "
                f"over the {_megabytes(limit)} allowed inline "
                f"(max_bytes). Save it with frames.save('sampled.{format}'), "
                "or pass a larger max_bytes."
            )
            return Player(f"{shown}: too big to embed ({_megabytes(len(data))})", title, note=note)
        return Player(
            f"{shown} as {format.upper()}, {rate:g} fps, {_megabytes(len(data))} inline",
            title,
            caption,
            media=data,
            media_type="image/gif" if format == "gif" else "video/mp4",
            width=width,
            loop=format != "gif",
        )


@dataclass(frozen=True)
class SampledFrame:
    """One decoded frame from :meth:`Video.iter_sample`.

    ``positions``: where it goes in the sampled order (more than one when frames repeat);
    ``index``: its frame number in the file; ``timestamp``: its presentation time (s);
    ``source``: the frame really shown (``== index`` unless the file could not give it).
    """

    positions: tuple[int, ...]
    index: int
    timestamp: float
    array: npt.NDArray[np.uint8]
    source: int
