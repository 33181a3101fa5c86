"""A video as MiMo sees it: probe once, plan the sampling, decode exactly the frames the model gets.

>>> import mimo_nb as mn
>>> video = mn.Video.open("clip.mp4")          # a path, bytes, or an http(s) URL
>>> video.estimate(fps=2).total                # the spec's token formula for this file
>>> frames = video.sample(fps=2)               # the frames, at the size the model sees them
>>> frames.save_contact_sheet("sheet.png")
>>> small = video.fit(fps=2)                   # re-encoded to travel as base64 under 50 MB

Which frames: ``tokens.plan_sampling`` gives the count and size from the spec's formula,
``tokens.sample_indices`` spreads them over the whole clip (a rounded ``linspace``), and
:mod:`mimo_nb.decode` reads them. Timestamps are ``index / native_fps``.
"""

from __future__ import annotations

import os
import tempfile
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import numpy.typing as npt

from . import _imaging, decode
from ._x264 import x264_params
from .cache import file_sha256
from .errors import LimitError, VideoError
from .limits import BASE64_LIMIT_BYTES, URL_LIMIT_BYTES, base64_length
from .tokens import FPS_DEFAULT, SamplingPlan, TokenBreakdown, explain_video_tokens, plan_sampling

__all__ = ["Video", "Frames"]

ProgressArg = Callable[[int, int], None] | bool | None

# ---- Frames ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Frames:
    """Decoded frames with the indices and timestamps they came from.

    >>> frames = video.sample(fps=2)
    >>> frames.array.shape, frames.timestamps[:2], frames.repeated
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

    def __len__(self) -> int:
        return int(self.array.shape[0])

    def captions(self) -> list[str]:
        """One caption per frame: its timestamp and frame index."""
        return [f"{_imaging.format_time(t)} · #{i}" for t, i in zip(self.timestamps, self.indices)]

    def to_html(self, columns: int = 6, max_frames: int | None = None) -> str:
        """An HTML grid of the frames (inline JPEG thumbnails) with timestamps under each."""
        shown = len(self) if max_frames is None else max(0, min(max_frames, len(self)))
        head = (
            f"{len(self)} frames at {self.array.shape[2]}x{self.array.shape[1]} ({self.size} size), "
            f"fps={self.plan.fps:g}, media_resolution={self.plan.media_resolution}"
        )
        if shown < len(self):
            head += f"; showing the first {shown}"
        if self.note:
            head += ". " + self.note
        from .render import frame_grid_html

        return frame_grid_html(self.array[:shown], self.captions()[:shown], columns, note=head)

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


# ---- Opening: path, bytes or URL ------------------------------------------------------------


def _temp_file(suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix="mimo_nb_", suffix=suffix)
    os.close(handle)
    return Path(name)


def _download(url: str, timeout: float) -> Path:
    """Stream ``url`` to a temp file with a progress bar; refuse files over 300 MB."""
    import httpx
    from tqdm.auto import tqdm

    suffix = Path(unquote(urlparse(url).path)).suffix.lower()[:8]
    target = _temp_file(suffix)
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise VideoError(f"Downloading {url} failed: HTTP {response.status_code}. Check the URL.", reason="download", source=url)
            declared = int(response.headers.get("content-length") or 0)
            if declared > URL_LIMIT_BYTES:
                raise VideoError(
                    f"{url} is {declared / 2**20:.0f} MB; MiMo accepts videos up to 300 MB by URL. Trim or re-encode it first.",
                    reason="too_large", source=url,
                )
            received = 0
            with open(target, "wb") as out, tqdm(total=declared or None, unit="B", unit_scale=True, desc="download", leave=False) as bar:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > URL_LIMIT_BYTES:
                        raise VideoError(f"{url} is over 300 MB, the limit for video URLs.", reason="too_large", source=url)
                    out.write(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        target.unlink(missing_ok=True)
        raise VideoError(f"Downloading {url} failed ({type(exc).__name__}: {exc}). Check the URL and the network.", reason="download", source=url) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


class Video:
    """A local video file, probed once; what MiMo will see of it and what that costs.

    Open with :meth:`Video.open`. Sizes are as displayed (the container's rotation applied).

    >>> video = Video.open("clip.mp4")
    >>> video.duration, video.width, video.height, video.native_fps, video.has_audio
    """

    def __init__(self, info: decode.Probe, *, url: str | None = None, name: str | None = None, temporary: bool = False) -> None:
        self._info = info
        self.path: Path = info.path
        self.url = url
        self.name = name or info.path.name
        self.fit_note: str = ""
        self._sha256: str | None = None
        self._strip: tuple[npt.NDArray[np.uint8], list[str]] | None = None
        if temporary:  # bytes and downloads live in temp files that go with the object
            weakref.finalize(self, Path(info.path).unlink, missing_ok=True)

    @classmethod
    def open(cls, source: str | os.PathLike[str] | bytes, *, timeout: float = 60.0) -> Video:
        """Open a local path, the bytes of a file, or an http(s) URL, and probe it.

        Raises :class:`VideoError` (``reason`` says why) when the file is missing, empty, not a
        video, truncated, in a format MiMo does not take, or too large to download.

        >>> Video.open("clip.mp4").format
        'mp4'
        """
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            if not data:
                raise VideoError("The video bytes are empty (0 bytes).", reason="empty", source="<bytes>")
            path = _temp_file(".mov" if data[4:12] == b"ftypqt  " else "")
            path.write_bytes(data)
            return cls._probe_owned(path, timeout, name="video (bytes)")
        text = os.fspath(source) if not isinstance(source, str) else source
        if isinstance(text, str) and text.lower().startswith(("http://", "https://")):
            path = _download(text, timeout)
            name = Path(unquote(urlparse(text).path)).name or "video"
            video = cls._probe_owned(path, timeout, name=name)
            video.url = text
            return video
        return cls(decode.probe(Path(text), timeout=timeout))

    @classmethod
    def _probe_owned(cls, path: Path, timeout: float, name: str) -> Video:
        try:
            info = decode.probe(path, timeout=timeout)
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
        """File size in bytes."""
        return self.path.stat().st_size

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
    def probe_info(self) -> decode.Probe:
        """Everything the probe read."""
        return self._info

    def sha256(self) -> str:
        """Hex SHA-256 of the file's bytes (streamed, computed once)."""
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return self._sha256

    # ---- what the model sees -----------------------------------------------------------------

    def plan(self, fps: float = FPS_DEFAULT, media_resolution: str = "default") -> SamplingPlan:
        """Frame count and model frame size for this video (validated by the token core)."""
        return plan_sampling(self.duration, self.width, self.height, fps, media_resolution)

    def estimate(self, fps: float = FPS_DEFAULT, media_resolution: str = "default") -> TokenBreakdown:
        """The spec's token estimate for this file, every step shown; mute without an audio track.

        >>> Video.open("clip.mp4").estimate(fps=2).total
        """
        return explain_video_tokens(self.duration, self.width, self.height, fps, media_resolution, mute=not self.has_audio)

    def sample(
        self,
        fps: float = FPS_DEFAULT,
        media_resolution: str = "default",
        size: str = "model",
        progress: ProgressArg = None,
        *,
        timeout: float = 300.0,
    ) -> Frames:
        """Decode the frames the model sees: the formula's count, spread over the clip.

        Args:
            fps, media_resolution: as sent to the API.
            size: ``"model"`` (the formula's width x height) or ``"native"`` (displayed size).
            progress: True for a tqdm bar, or a callable ``(done, total)``.
            timeout: seconds for the whole decode.

        >>> frames = Video.open("clip.mp4").sample(fps=2)
        >>> len(frames) == Video.open("clip.mp4").plan(fps=2).frames
        True
        """
        plan = self.plan(fps, media_resolution)
        if size not in ("model", "native"):
            raise LimitError(f"size must be 'model' or 'native', got {size!r}.")
        if size == "model" and (plan.width == 0 or plan.height == 0):
            raise LimitError(
                f"At {self.width}x{self.height} the formula sizes frames to {plan.width}x{plan.height}: the model would see "
                "no pixels. Pad or crop the video to a less extreme aspect ratio."
            )
        indices = plan.indices(self.native_frame_count)
        target = (plan.width, plan.height) if size == "model" else None
        array = self._read(indices, target, progress, timeout)
        repeated = len(np.unique(indices)) < len(indices)
        note = ""
        if repeated:
            note = (
                f"fps={plan.fps:g} asks for {plan.frames} frames but the file has {self.native_frame_count} "
                f"(native {self.native_fps:g} fps), so some frames repeat, as they will for the model."
            )
        return Frames(
            array=array,
            indices=indices,
            timestamps=indices.astype(np.float64) / self.native_fps,
            plan=plan,
            repeated=bool(repeated),
            size=size,
            native_fps=self.native_fps,
            note=note,
            source_name=self.name,
        )

    def _read(self, indices: npt.NDArray[np.int64], size: tuple[int, int] | None, progress: ProgressArg, timeout: float) -> npt.NDArray[np.uint8]:
        if progress is True:
            from tqdm.auto import tqdm

            unique = len(np.unique(indices))
            with tqdm(total=unique, desc="frames", leave=False) as bar:
                return decode.read_frames(self._info, indices, size, timeout=timeout, progress=lambda done, _: bar.update(done - bar.n))
        return decode.read_frames(self._info, indices, size, timeout=timeout, progress=progress or None)

    # ---- display -----------------------------------------------------------------------------

    def _thumbnail_strip(self, count: int = 6) -> tuple[npt.NDArray[np.uint8], list[str]]:
        if self._strip is None:
            indices = np.unique(np.round(np.linspace(0, self.native_frame_count - 1, min(count, self.native_frame_count))).astype(np.int64))
            height = 72
            width = max(2, round(self.width * height / self.height / 2) * 2)
            if width > 4 * height:
                width, height = 4 * height, max(2, round(self.height * 4 * height / self.width))
            array = decode.read_frames(self._info, indices, (width, height), timeout=30.0)
            self._strip = (array, [_imaging.format_time(i / self.native_fps) for i in indices])
        return self._strip

    def metadata_rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs shown in the card."""
        rows = [
            ("format", f"{self.format.upper()} ({self.mime_type}), {self.codec}"),
            ("duration", f"{self.duration:.3f} s"),
            ("size", f"{self.width} x {self.height}" + (f" (rotated {self.rotation}°)" if self.rotation else "")),
            ("frame rate", f"{self.native_fps:.3f} fps, {self.native_frame_count} frames"),
            ("audio", "yes" if self.has_audio else "no (mute: no audio tokens)"),
            ("file size", f"{self.size_bytes / 2**20:.2f} MB, base64 {base64_length(self.size_bytes) / 2**20:.2f} MB"),
        ]
        if self.url:
            rows.append(("url", self.url))
        if self.fit_note:
            rows.append(("fit", self.fit_note))
        return rows

    def _repr_html_(self) -> str:
        note = ""
        try:
            strip, captions = self._thumbnail_strip()
        except VideoError as exc:  # a card with metadata beats no card
            strip, captions, note = np.zeros((0, 1, 1, 3), np.uint8), [], f"thumbnails unavailable: {exc}"
        from .render import video_card_html

        return video_card_html(self.name, self.metadata_rows(), strip, captions, note)

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

        >>> small = Video.open("big.mp4").fit(fps=2)
        >>> small.fit_note
        """
        plan = self.plan(fps, media_resolution)
        frames = self.sample(fps, media_resolution, size="model", timeout=timeout)
        out = Path(path) if path is not None else _temp_file(".mp4")
        try:
            quality = _encode_fitted(self, frames, out, max_bytes, timeout)
        except BaseException:
            if path is None:
                out.unlink(missing_ok=True)  # our temp file: nothing worth keeping
            raise
        fitted = Video(decode.probe(out, timeout=timeout), name=f"{Path(self.name).stem} (fit).mp4", temporary=path is None)
        size = out.stat().st_size
        fitted.fit_note = (
            f"re-encoded {self.native_frame_count} frames at {self.width}x{self.height} to the {plan.frames} sampled frames at "
            f"{plan.width}x{plan.height} (fps={plan.fps:g}, {plan.media_resolution}), {self.duration:.3f} s kept, "
            f"{'audio kept' if self.has_audio else 'no audio'}; H.264 {quality}; "
            f"{self.size_bytes / 2**20:.2f} MB -> {size / 2**20:.2f} MB (base64 {base64_length(size) / 2**20:.2f} MB "
            f"of {max_bytes / 2**20:.0f} MB allowed)"
        )
        return fitted


def _exact_duration(video: Video) -> Fraction:
    """The duration as an exact fraction where the probe allows it (frames / exact rate)."""
    info = video.probe_info
    if info.constant_rate and info.rate:
        return Fraction(info.frame_count) / info.rate
    return Fraction(info.duration).limit_denominator(1_000_000)


# (x264 CRF, AAC bit rate): tried in order until the base64 text fits
_QUALITY_LADDER = ((20, 96_000), (26, 64_000), (32, 48_000), (38, 32_000), (46, 24_000))


def _add_audio_stream(source: Path, container: Any, bit_rate: int) -> Any | None:
    """An AAC stream matching the source's first audio track's channels (None without one)."""
    import av

    with av.open(str(source), metadata_errors="ignore") as src:
        if not src.streams.audio:
            return None
        layout = "mono" if src.streams.audio[0].channels == 1 else "stereo"
    stream = container.add_stream("aac", rate=48000, layout=layout)
    stream.bit_rate = bit_rate
    return stream


def _copy_audio(source: Path, container: Any, stream: Any, seconds: Fraction, deadline: float) -> None:
    """Decode the source's first audio track and re-encode it into ``stream``, cut at ``seconds``."""
    import av

    resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=48000, frame_size=1024)
    limit, written = int(seconds * 48000), 0

    def feed(frame: Any) -> None:
        nonlocal written
        for chunk in resampler.resample(frame):
            if written >= limit:
                return
            chunk.pts, written = written, written + chunk.samples
            for packet in stream.encode(chunk):
                container.mux(packet)

    with av.open(str(source), metadata_errors="ignore") as src:
        for frame in src.decode(src.streams.audio[0]):
            frame.pts = None  # the resampler re-times from zero
            feed(frame)
            if written >= limit:
                break
            if time.monotonic() > deadline:
                raise VideoError("Re-encoding the audio took too long.", reason="timeout", source=str(source))
    feed(None)
    for packet in stream.encode(None):
        container.mux(packet)


def _write_mp4(out: Path, frames: Frames, rate: Fraction, crf: int, audio_from: Path | None, bit_rate: int, seconds: Fraction, deadline: float) -> None:
    import av

    with av.open(str(out), "w", format="mp4") as container:
        options = {"crf": str(crf), "preset": "veryfast"}
        if params := x264_params():
            options["x264-params"] = params  # repeatable bytes: a fitted clip keys the cache
        stream = container.add_stream("libx264", rate=rate, options=options)
        stream.height, stream.width = frames.array.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = 1 / rate  # one tick per frame: the duration comes out exact
        audio = _add_audio_stream(audio_from, container, bit_rate) if audio_from is not None else None
        for i, pixels in enumerate(frames.array):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if audio is not None and audio_from is not None:
            _copy_audio(audio_from, container, audio, seconds, deadline)


def _encode_fitted(video: Video, frames: Frames, out: Path, max_bytes: int, timeout: float) -> str:
    """Write ``frames`` as an MP4 lasting as long as ``video``; return the quality used."""
    import av

    seconds = _exact_duration(video)
    rate = Fraction(len(frames)) / seconds
    if rate.denominator > 1_000_000:  # keep the muxer's time scale within 32 bits
        rate = rate.limit_denominator(1_000_000)
    deadline = time.monotonic() + timeout
    for crf, bit_rate in _QUALITY_LADDER:
        try:
            _write_mp4(out, frames, rate, crf, video.path if video.has_audio else None, bit_rate, seconds, deadline)
        except av.error.FFmpegError as exc:
            raise VideoError(f"Re-encoding failed ({exc}).", reason="unsupported_codec", source=str(video.path)) from None
        if base64_length(out.stat().st_size) <= max_bytes:
            audio = f", AAC {bit_rate // 1000} kb/s" if video.has_audio else ""
            return f"CRF {crf}{audio}"
    raise LimitError(
        f"Even at the lowest quality the fitted video is {base64_length(out.stat().st_size) / 2**20:.1f} MB as base64, over "
        f"{max_bytes / 2**20:.1f} MB. Lower fps or use media_resolution='default', or send the video by URL (up to 300 MB)."
    )
