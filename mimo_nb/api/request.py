"""A request ready to send: the payload's body with each local file streamed in as base64.

The body itself is pure and lives in :mod:`mimo_nb.core.payload` (its shape, its checks, its
token estimate); this module adds what touches files: a :class:`VideoPart` per video (a local
file is measured, and refused if too large), and :class:`PreparedRequest`, which keeps the body
as a JSON template with a marker where each file goes and :meth:`PreparedRequest.iter_body`
streams the file through the base64 encoder in small chunks, with the exact ``Content-Length``
known in advance. The base64 text is never held in memory whole. No network I/O happens here.

>>> part = url_part("https://example.com/clip.mp4", fps=2)
>>> req = prepare_request([part], "please describe the content of the video")
>>> req.json["messages"][0]["content"][0]["fps"]
2
>>> print(req)            # doctest: +ELLIPSIS
{
  "model": "mimo-v2.5",
  "messages": [
...
"""

from __future__ import annotations

import base64
import copy
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.limits import (
    BASE64_LIMIT_BYTES,
    MIME_TYPES,
    URL_LIMIT_BYTES,
    base64_length,
    data_uri_prefix,
    max_base64_file_bytes,
)
from mimo_nb.core.payload import (
    RequestEstimate,
    check_json_value,
    check_request_args,
    estimate_request,
    is_url,
    json_number,
    mime_type_for,
    request_body,
    with_stream,
)
from mimo_nb.core.pricing import ContextCheck
from mimo_nb.core.profiles import ServerTokenBreakdown
from mimo_nb.core.tokens import TokenBreakdown, validate_fps, validate_media_resolution
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media.files import FileState, file_sha256

if TYPE_CHECKING:
    from mimo_nb.core.timemap import TimeMap
    from mimo_nb.media.video import Video

__all__ = [
    "MIME_TYPES",
    "BASE64_LIMIT_BYTES",
    "URL_LIMIT_BYTES",
    "CHUNK_BYTES",
    "base64_length",
    "max_base64_file_bytes",
    "mime_type_for",
    "is_url",
    "VideoPart",
    "RequestEstimate",
    "url_part",
    "file_part",
    "PreparedRequest",
    "prepare_request",
    "check_request_args",
    "check_json_value",
    "checked_url_part",
    "checked_file_part",
]

CHUNK_BYTES = 3 * 2**18  # 768 KiB: a multiple of 3, so chunks encode to base64 independently


# ---- One video as a content part ------------------------------------------------------------


@dataclass(frozen=True)
class VideoPart:
    """One video of a request, ready to become a ``video_url`` content part.

    ``kind`` is ``"url"`` (sent as the URL) or ``"data"`` (a local file sent as a data URI).
    ``breakdown`` is the token breakdown when the video was probed, else None: the API's
    :class:`TokenBreakdown`, or a :class:`~mimo_nb.core.profiles.ServerTokenBreakdown` when the
    client was given a self-hosted server's profile. ``state`` is a local file's
    :class:`~mimo_nb.media.files.FileState` when the part was made (see :meth:`check_unchanged`).
    ``timemap`` is the frames the model is sent, when the video was opened
    (:func:`mimo_nb.api.timeline.timemap_of`), and ``video`` that opened
    :class:`~mimo_nb.media.video.Video` (to show those frames); both None for a URL that was not
    opened.
    """

    kind: Literal["url", "data"]
    fps: float
    media_resolution: str
    url: str | None = None
    path: Path | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    breakdown: TokenBreakdown | ServerTokenBreakdown | None = None
    name: str = ""
    state: FileState | None = None
    timemap: TimeMap | None = field(default=None, compare=False, repr=False)
    video: Video | None = field(default=None, compare=False, repr=False)

    def sha256(self) -> str:
        """Hex sha256 of the file's bytes as they are now (data parts only).

        Raises :class:`VideoError` when the file can no longer be read.
        """
        if self.path is None:
            raise LimitError("only a local video has bytes to hash; this part is a URL.")
        try:
            return file_sha256(self.path)
        except OSError as exc:
            raise _changed(self, f"it cannot be read any more ({exc.strerror or exc})") from None

    def check_unchanged(self) -> None:
        """Raise :class:`VideoError` if the file vanished, or was rewritten or replaced (its
        size, modification time or inode) since the part was made."""
        if self.path is None or self.state is None:
            return
        try:
            changes = self.state.changes(self.path)
        except OSError as exc:
            raise _changed(self, f"it cannot be read any more ({exc.strerror or exc})") from None
        if changes:
            raise _changed(self, changes)


def _prefix(part: VideoPart) -> str:
    """The start of a local video's data URI (its base64 follows)."""
    return data_uri_prefix(str(part.mime_type))


def _changed(part: VideoPart, how: str) -> VideoError:
    return VideoError(
        f"{part.name} changed after the request was built: {how}. Wait until the file is fully "
        "written, then build the request again (client.ask does both).",
        reason="changed",
        source=str(part.path),
    )


def url_part(
    url: str,
    *,
    fps: float = 2,
    media_resolution: str = "default",
    size_bytes: int | None = None,
    breakdown: TokenBreakdown | ServerTokenBreakdown | None = None,
) -> VideoPart:
    """A video passed by public URL; ``size_bytes`` (when known) must be at most 300 MB.

    >>> url_part("https://example.com/a.mp4").kind
    'url'
    """
    if not is_url(url):
        raise LimitError(
            f"{url!r} is not an http(s) URL; pass a public URL, a local path or a Video."
        )
    validate_media_resolution(media_resolution)
    return checked_url_part(
        url, validate_fps(fps), media_resolution, size_bytes=size_bytes, breakdown=breakdown
    )


def checked_url_part(
    url: str,
    fps: float,
    media_resolution: str,
    *,
    size_bytes: int | None = None,
    breakdown: TokenBreakdown | ServerTokenBreakdown | None = None,
) -> VideoPart:
    """:func:`url_part` for an ``fps`` and ``media_resolution`` validated by the caller."""
    if size_bytes is not None and size_bytes > URL_LIMIT_BYTES:
        raise LimitError(
            f"the video at {url} is {size_bytes / 2**20:.1f} MB; MiMo accepts at most 300 MB per "
            "video by URL. Shrink it with Video.open(url).fit(...) and send the result, or cut it "
            "into parts."
        )
    return VideoPart(
        "url",
        fps,
        media_resolution,
        url=url,
        size_bytes=size_bytes,
        breakdown=breakdown,
        name=url.rsplit("/", 1)[-1] or url,
    )


def file_part(
    path: str | os.PathLike[str],
    mime_type: str | None = None,
    *,
    fps: float = 2,
    media_resolution: str = "default",
    size_bytes: int | None = None,
    breakdown: TokenBreakdown | ServerTokenBreakdown | None = None,
    name: str | None = None,
) -> VideoPart:
    """A local file to send as a base64 data URI; its base64 must be at most 50 MB.

    ``mime_type`` defaults to the one of the file's suffix. No probing happens here: pass the
    ``breakdown`` of a probed :class:`~mimo_nb.media.video.Video` to keep it beside the request.
    """
    validate_media_resolution(media_resolution)
    return checked_file_part(
        path,
        mime_type,
        validate_fps(fps),
        media_resolution,
        size_bytes=size_bytes,
        breakdown=breakdown,
        name=name,
    )


def checked_file_part(
    path: str | os.PathLike[str],
    mime_type: str | None,
    fps: float,
    media_resolution: str,
    *,
    size_bytes: int | None = None,
    breakdown: TokenBreakdown | ServerTokenBreakdown | None = None,
    name: str | None = None,
) -> VideoPart:
    """:func:`file_part` for an ``fps`` and ``media_resolution`` validated by the caller."""
    path = Path(path)
    mime_type = mime_type or mime_type_for(path)
    try:
        state = FileState.of(path)
    except OSError as exc:
        raise VideoError(
            f"cannot read {path}: {exc.strerror or exc}. Check the path.",
            reason="not_found",
            source=str(path),
        ) from None
    if size_bytes is None:
        size_bytes = state.size
    encoded = base64_length(size_bytes)
    if encoded > BASE64_LIMIT_BYTES:
        raise LimitError(
            f"{path.name} is {size_bytes / 2**20:.1f} MB, so its base64 text would be "
            f"{encoded / 2**20:.1f} MB: over MiMo's 50 MB limit for a base64 video (files up to "
            f"{max_base64_file_bytes() / 2**20:.1f} MB fit). Shrink it first with "
            f"Video.open({str(path)!r}).fit(fps={json_number(fps)!r}, "
            f"media_resolution={media_resolution!r}), or host it at a public URL (up to 300 MB)."
        )
    return VideoPart(
        "data",
        fps,
        media_resolution,
        path=path,
        mime_type=mime_type,
        size_bytes=size_bytes,
        breakdown=breakdown,
        name=name or path.name,
        state=state,
    )


BlockHook = Callable[[str, bytes], None]
"""``hook(marker, raw_bytes)``: sees each block of a local video as it is read for sending."""


def _iter_base64(
    part: VideoPart, chunk_bytes: int = CHUNK_BYTES, on_block: Callable[[bytes], None] | None = None
) -> Iterator[bytes]:
    """The base64 of a part's file in chunks: exactly ``size_bytes`` bytes of it, or a VideoError.

    ``on_block(raw_bytes)`` sees every block read (the client hashes what it sends with it).
    """
    assert part.path is not None and part.size_bytes is not None
    chunk_bytes = max(3, chunk_bytes // 3 * 3)
    left = part.size_bytes
    carry = b""
    try:
        handle = open(part.path, "rb")
    except OSError as exc:
        raise _changed(part, f"it cannot be read any more ({exc.strerror or exc})") from None
    with handle:
        while left > 0:
            block = handle.read(min(chunk_bytes, left))
            if not block:
                raise _changed(
                    part, f"it ended after {part.size_bytes - left:,} of {part.size_bytes:,} bytes"
                )
            left -= len(block)
            if on_block is not None:
                on_block(block)
            if carry:
                block, carry = carry + block, b""
            cut = len(block) // 3 * 3  # a short read must not put padding mid-stream
            if cut < len(block):
                block, carry = block[:cut], block[cut:]
            if block:
                yield base64.b64encode(block)
        if handle.read(1):
            raise _changed(part, f"it grew past the {part.size_bytes:,} bytes measured")
    if carry:
        yield base64.b64encode(carry)


# ---- The whole request ----------------------------------------------------------------------


@dataclass
class PreparedRequest(Displayed):
    """A request ready to send: the JSON body (videos as markers until sent), estimate, checks.

    ``json`` is the exact body as a dict (reading every local file, so it is large for large
    files); ``elided_json()`` the same with base64 shortened for display; ``iter_body()`` the
    exact bytes to send, streamed, ``content_length`` long.
    """

    template: dict[str, Any]
    parts: tuple[VideoPart, ...]
    estimate: RequestEstimate
    context: ContextCheck | None = None
    markers: dict[str, VideoPart] = field(default_factory=dict, repr=False)

    # -- views of the body --

    def _replace_markers(self, value_for: Callable[[str, VideoPart], Any]) -> dict[str, Any]:
        body = copy.deepcopy(self.template)
        for message in body.get("messages", []):
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for item in content:
                url = item.get("video_url", {}).get("url") if isinstance(item, dict) else None
                if url in self.markers:
                    item["video_url"]["url"] = value_for(url, self.markers[url])
        return body

    @property
    def json(self) -> dict[str, Any]:
        """The exact body that would be sent, as a dict (local files read and base64-encoded)."""

        def inline(marker: str, part: VideoPart) -> str:
            return _prefix(part) + b"".join(_iter_base64(part)).decode("ascii")

        return self._replace_markers(inline)

    def elided_json(self) -> dict[str, Any]:
        """The body with each data URI's base64 replaced by a short note (for display)."""

        def note(marker: str, part: VideoPart) -> str:
            size = base64_length(part.size_bytes or 0)
            return _prefix(part) + f"<{size:,} base64 characters of {part.name} elided>"

        return self._replace_markers(note)

    def cache_material(self, sent: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The canonical request for the cache key: each local video replaced by its sha256.

        ``sent`` maps a video's marker (its placeholder in ``template``) to the sha256 of the
        bytes that were sent for it; by default each file is hashed as it is now.
        Streaming flags are left out (a streamed and a plain answer are the same answer).
        """

        def digest(marker: str, part: VideoPart) -> dict[str, Any]:
            sha256 = sent[marker] if sent is not None else part.sha256()
            return {"sha256": sha256, "mime_type": part.mime_type}

        body = self._replace_markers(digest)
        body.pop("stream", None)
        body.pop("stream_options", None)
        return body

    @property
    def stream(self) -> bool:
        """True when the body asks for a streamed answer."""
        return bool(self.template.get("stream"))

    def with_stream(self, stream: bool) -> PreparedRequest:
        """This request asking for a streamed answer (``stream=True``, usage in the last chunk) or
        a plain one; itself when it already does."""
        template = with_stream(self.template, stream)
        return self if template is self.template else replace(self, template=template)

    def check_files(self) -> None:
        """Raise :class:`VideoError` if a local video vanished or changed size since building."""
        for part in self.parts:
            part.check_unchanged()

    # -- the bytes on the wire --

    def _segments(self) -> list[bytes | tuple[str, VideoPart]]:
        """The body as literal byte runs and the (marker, video) pairs between them."""
        text = json.dumps(self.template, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        out: list[bytes | tuple[str, VideoPart]] = []
        for marker, part in self.markers.items():
            head, _, text = text.partition(json.dumps(marker))
            out += [head.encode("utf-8"), (marker, part)]
        out.append(text.encode("utf-8"))
        return out

    @property
    def content_length(self) -> int:
        """The exact length in bytes of the body :meth:`iter_body` yields."""
        total = 0
        for seg in self._segments():
            if isinstance(seg, bytes):
                total += len(seg)
            else:
                part = seg[1]
                total += len(self._data_prefix(part)) + base64_length(part.size_bytes or 0) + 1
        return total

    @staticmethod
    def _data_prefix(part: VideoPart) -> bytes:
        return ('"' + _prefix(part)).encode("ascii")

    def iter_body(
        self, chunk_bytes: int = CHUNK_BYTES, on_block: BlockHook | None = None
    ) -> Iterator[bytes]:
        """Yield the exact JSON body in chunks; a file is never in memory whole.

        Base64 text needs no JSON escaping, so it is written between the template's pieces as
        it is encoded. ``on_block(marker, raw_bytes)`` sees each block of a file as it is read.
        Raises :class:`VideoError` if a file is not the size it was when the request was built.
        """
        for seg in self._segments():
            if isinstance(seg, bytes):
                yield seg
                continue
            marker, part = seg
            hook = None if on_block is None else (lambda block, m=marker: on_block(m, block))
            yield self._data_prefix(part)
            yield from _iter_base64(part, chunk_bytes, hook)
            yield b'"'

    async def aiter_body(
        self, chunk_bytes: int = CHUNK_BYTES, on_block: BlockHook | None = None
    ) -> AsyncIterator[bytes]:
        """:meth:`iter_body` for async clients (file reads are short, chunked and blocking)."""
        for chunk in self.iter_body(chunk_bytes, on_block):
            yield chunk

    def body_bytes(self) -> bytes:
        """The whole body as one bytes object (for small requests and tests)."""
        return b"".join(self.iter_body())

    # -- display --

    def __str__(self) -> str:
        return json.dumps(self.elided_json(), ensure_ascii=False, indent=2)

    def __repr__(self) -> str:
        videos = ", ".join(f"{p.kind}:{p.name}" for p in self.parts)
        return (
            f"PreparedRequest(model={self.template.get('model')!r}, videos=[{videos}], "
            f"estimated_prompt_tokens={self.estimate.prompt_tokens}, bytes={self.content_length:,})"
        )


def prepare_request(
    parts: Iterable[VideoPart],
    prompt: str,
    *,
    model: str = "mimo-v2.5",
    system: str | None = None,
    max_completion_tokens: int = 1024,
    stream: bool = False,
    extra: Mapping[str, Any] | None = None,
    context_lengths: Mapping[str, int] | None = None,
    profile: str = "mimo-api",
) -> PreparedRequest:
    """Build the body of a chat completion about ``parts``, as the spec's examples do.

    The message order follows the spec: an optional system message, then one user message whose
    content is the videos followed by the text. ``extra`` adds top-level fields (for example
    ``temperature`` or ``thinking``). Raises :class:`~mimo_nb.errors.ContextLengthError` when
    the estimate does not fit the model's context (known only for some models). ``profile``
    names whose rules the parts' breakdowns follow (the estimate carries it).
    """
    parts = tuple(parts)
    markers: dict[str, VideoPart] = {}
    videos = []
    for part in parts:
        if part.kind == "url":
            url = part.url or ""
        else:
            url = f"mimo-nb-video-{uuid.uuid4().hex}"  # replaced by the data URI when sent
            markers[url] = part
        videos.append((url, part.fps, part.media_resolution))
    body = request_body(
        videos,
        prompt,
        model=model,
        system=system,
        max_completion_tokens=max_completion_tokens,
        stream=stream,
        extra=extra,
    )
    estimate, context = estimate_request(
        [p.breakdown for p in parts],
        prompt,
        system=system,
        model=model,
        max_completion_tokens=max_completion_tokens,
        context_lengths=context_lengths,
        profile=profile,
    )
    return PreparedRequest(
        template=body, parts=parts, estimate=estimate, context=context, markers=markers
    )
