"""The request body, exactly as the spec shapes it, checked against the API's limits before sending.

A video travels as a ``video_url`` content part with ``fps`` and ``media_resolution`` *beside*
``video_url``; a public URL is sent as the URL, a local file as ``data:{MIME};base64,...``::

    {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA..."},
     "fps": 2, "media_resolution": "default"}

This module builds that body and does no network I/O. For a local file the base64 text is
never held in memory whole: :class:`PreparedRequest` keeps the body as a JSON template with a
marker where each file goes, and :meth:`PreparedRequest.iter_body` streams the file through
the base64 encoder in small chunks, with the exact ``Content-Length`` known in advance.

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
import math
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.limits import (
    BASE64_LIMIT_BYTES,
    MIME_TYPES,
    URL_LIMIT_BYTES,
    base64_length,
    max_base64_file_bytes,
)
from mimo_nb.core.pricing import ContextCheck, check_context, estimate_text_tokens
from mimo_nb.core.profiles import ServerTokenBreakdown
from mimo_nb.core.tokens import TokenBreakdown, validate_fps, validate_media_resolution
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media.files import file_sha256

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

# ---- The spec's limits and formats (the numbers live in limits.py) ---------------------------

CHUNK_BYTES = 3 * 2**18  # 768 KiB: a multiple of 3, so chunks encode to base64 independently


def mime_type_for(name_or_format: str | os.PathLike[str]) -> str:
    """The MIME type of an MP4/MOV/AVI/WMV file, from its format name or file name.

    >>> mime_type_for("clip.MOV")
    'video/quicktime'
    """
    text = str(name_or_format).lower()
    fmt = text.rsplit(".", 1)[-1]
    if fmt in MIME_TYPES:
        return MIME_TYPES[fmt]
    raise LimitError(
        f"cannot tell the video format of {str(name_or_format)!r}: MiMo accepts MP4, MOV, AVI and "
        "WMV. Convert the file to MP4, or open it with Video.open(...), which probes the format."
    )


def is_url(source: Any) -> bool:
    """True for an ``http://`` or ``https://`` URL string."""
    return (
        isinstance(source, str)
        and source.split("://", 1)[0].lower() in ("http", "https")
        and "://" in source
    )


# ---- One video as a content part ------------------------------------------------------------


@dataclass(frozen=True)
class VideoPart:
    """One video of a request, ready to become a ``video_url`` content part.

    ``kind`` is ``"url"`` (sent as the URL) or ``"data"`` (a local file sent as a data URI).
    ``breakdown`` is the token breakdown when the video was probed, else None: the API's
    :class:`TokenBreakdown`, or a :class:`~mimo_nb.core.profiles.ServerTokenBreakdown` when the
    client was given a self-hosted server's profile.
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
        """Raise :class:`VideoError` if the file vanished or changed size since it was measured."""
        if self.path is None:
            return
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise _changed(self, f"it cannot be read any more ({exc.strerror or exc})") from None
        if size != self.size_bytes:
            raise _changed(
                self, f"it is {size:,} bytes now, {self.size_bytes:,} when the request was built"
            )


def _changed(part: VideoPart, how: str) -> VideoError:
    return VideoError(
        f"{part.name} changed after the request was built: {how}. Wait until the file is fully "
        "written, then build the request again (client.ask does both).",
        reason="changed",
        source=str(part.path),
    )


@dataclass(frozen=True)
class RequestEstimate:
    """The token estimate of a whole request, made before sending it.

    ``videos`` holds one :class:`TokenBreakdown` per video, or None for a URL that was not probed
    (its tokens are then unknown and the sums below leave it out; see :attr:`complete`).
    Under a self-hosted server's ``profile`` a video's estimate is that server's
    :class:`~mimo_nb.core.profiles.ServerTokenBreakdown`: its vision and special tokens count, its
    audio is not estimated (``audio_tokens`` is then None).
    ``text_tokens`` is a rough count of the system prompt and question (4 bytes per token).
    """

    videos: tuple[TokenBreakdown | ServerTokenBreakdown | None, ...]
    text_tokens: int = 0
    profile: str = "mimo-api"

    @property
    def complete(self) -> bool:
        """True when every video has an estimate."""
        return all(v is not None for v in self.videos)

    @property
    def video_tokens(self) -> int:
        """Estimated vision tokens: what the API reports as ``video_tokens``."""
        return sum(v.vision for v in self.videos if v is not None)

    @property
    def audio_tokens(self) -> int | None:
        """Estimated audio tokens without their special tokens: the API's ``audio_tokens``.

        None when a server profile estimated a video: its audio layout is not counted.
        """
        if any(isinstance(v, ServerTokenBreakdown) for v in self.videos):
            return None
        return sum(v.audio_tokens for v in self.videos if isinstance(v, TokenBreakdown))

    @property
    def prompt_tokens(self) -> int:
        """Estimated prompt tokens: each video's total (a server's counted tokens) plus text."""
        return sum(video_prompt_tokens(v) for v in self.videos if v is not None) + self.text_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "videos": [None if v is None else v.to_dict() for v in self.videos],
            "text_tokens": self.text_tokens,
            "video_tokens": self.video_tokens,
            "audio_tokens": self.audio_tokens,
            "prompt_tokens": self.prompt_tokens,
            "complete": self.complete,
            "profile": self.profile,
        }


def video_prompt_tokens(breakdown: TokenBreakdown | ServerTokenBreakdown) -> int:
    """One video's prompt tokens: the API's total, or what a server's source fixes (counted)."""
    if isinstance(breakdown, ServerTokenBreakdown):
        return breakdown.counted
    return breakdown.total


def _json_number(value: float) -> int | float:
    """2.0 -> 2, so the body reads like the spec's (``"fps": 2``)."""
    return int(value) if float(value).is_integer() else float(value)


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
    if size_bytes is None:
        try:
            size_bytes = path.stat().st_size
        except OSError as exc:
            raise VideoError(
                f"cannot read {path}: {exc.strerror or exc}. Check the path.",
                reason="not_found",
                source=str(path),
            ) from None
    encoded = base64_length(size_bytes)
    if encoded > BASE64_LIMIT_BYTES:
        raise LimitError(
            f"{path.name} is {size_bytes / 2**20:.1f} MB, so its base64 text would be "
            f"{encoded / 2**20:.1f} MB: over MiMo's 50 MB limit for a base64 video (files up to "
            f"{max_base64_file_bytes() / 2**20:.1f} MB fit). Shrink it first with "
            f"Video.open({str(path)!r}).fit(fps={_json_number(fps)!r}, "
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

        def data_uri(marker: str, part: VideoPart) -> str:
            encoded = b"".join(_iter_base64(part)).decode("ascii")
            return f"data:{part.mime_type};base64,{encoded}"

        return self._replace_markers(data_uri)

    def elided_json(self) -> dict[str, Any]:
        """The body with each data URI's base64 replaced by a short note (for display)."""

        def note(marker: str, part: VideoPart) -> str:
            size = base64_length(part.size_bytes or 0)
            return (
                f"data:{part.mime_type};base64,<{size:,} base64 characters of {part.name} elided>"
            )

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
        if stream == self.stream:
            return self
        template = dict(self.template)
        if stream:
            template["stream"] = True
            template.setdefault("stream_options", {"include_usage": True})
        else:
            template.pop("stream", None)
            template.pop("stream_options", None)
        return replace(self, template=template)

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
        return f'"data:{part.mime_type};base64,'.encode("ascii")

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


def check_request_args(
    prompt: str,
    system: str | None = None,
    max_completion_tokens: int = 1024,
    extra: Mapping[str, Any] | None = None,
    model: str = "mimo-v2.5",
) -> None:
    """Raise :class:`LimitError` for a bad prompt, system, token budget, model or extra field.

    >>> check_request_args("q", extra={"temperature": float("nan")})
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: extra_body['temperature'] is nan: JSON has no NaN or infinity, ...
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise LimitError(
            "prompt must be a non-empty string: the question to ask about the video(s)."
        )
    check_json_value(prompt, "prompt")
    if system is not None:
        if not isinstance(system, str):
            raise LimitError(f"system must be a string or None, got {type(system).__name__}.")
        check_json_value(system, "system")
    if not isinstance(model, str) or not model.strip():
        raise LimitError(f"model must be a model name such as 'mimo-v2.5', got {model!r}.")
    check_json_value(model, "model")
    if (
        not isinstance(max_completion_tokens, int)
        or isinstance(max_completion_tokens, bool)
        or max_completion_tokens < 1
    ):
        raise LimitError(
            f"max_completion_tokens must be a positive integer, got {max_completion_tokens!r}."
        )
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise LimitError(
            f"extra_body must be a dict of top-level fields, got {type(extra).__name__}."
        )
    clash = [k for k in _RESERVED if k in extra]
    if clash:
        raise LimitError(
            f"{clash} are set by ask() itself; pass the videos and prompt instead of raw {clash}."
        )
    for key, value in extra.items():
        if not isinstance(key, str):
            raise LimitError(f"extra_body keys must be strings, got {key!r}.")
        check_json_value(value, f"extra_body[{key!r}]")


_RESERVED = ("messages",)


def check_json_value(value: Any, where: str) -> None:
    """Raise :class:`LimitError` unless ``value`` can be sent as JSON in UTF-8, exactly.

    Refused: NaN and infinities (``json.dumps`` would write ``NaN``, which is not JSON), strings
    with lone surrogates (not encodable as UTF-8), and anything but str, int, float, bool, None,
    lists, tuples and dicts with string keys. ``where`` names the value in the message.
    """
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LimitError(
                f"{where} contains a lone surrogate (U+{ord(value[exc.start]):04X} at character "
                f"{exc.start}), "
                "which cannot be sent as UTF-8. Remove it, or clean the text with "
                "text.encode('utf-8', 'replace').decode('utf-8')."
            ) from None
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LimitError(
                f"{where} is {value!r}: JSON has no NaN or infinity, so it cannot be sent. "
                "Pass a finite number."
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LimitError(
                    f"{where} has a key {key!r} that is not a string; JSON keys are strings."
                )
            check_json_value(key, f"a key of {where}")
            check_json_value(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_json_value(item, f"{where}[{i}]")
        return
    raise LimitError(
        f"{where} is a {type(value).__name__}; a request holds only JSON values (str, int, float, "
        "bool, None, lists and dicts). Convert it first, e.g. float(x) or x.tolist()."
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
    check_request_args(prompt, system, max_completion_tokens, extra, model)
    extra = dict(extra or {})

    markers: dict[str, VideoPart] = {}
    content: list[dict[str, Any]] = []
    for part in parts:
        if part.kind == "url":
            url: str = part.url or ""
        else:
            url = f"mimo-nb-video-{uuid.uuid4().hex}"  # replaced by the data URI when sent
            markers[url] = part
        content.append(
            {
                "type": "video_url",
                "video_url": {"url": url},
                "fps": _json_number(part.fps),
                "media_resolution": part.media_resolution,
            }
        )
    content.append({"type": "text", "text": prompt})

    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": content})
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_completion_tokens": max_completion_tokens,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}  # usage arrives in the final chunk
    for key, value in extra.items():  # None removes a field (e.g. stream_options=None)
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value

    text = (system or "") + prompt
    estimate = RequestEstimate(
        videos=tuple(p.breakdown for p in parts),
        text_tokens=estimate_text_tokens(text),
        profile=profile,
    )
    context = check_context(
        [video_prompt_tokens(p.breakdown) for p in parts if p.breakdown is not None],
        text=text,
        model=model,
        output_tokens=max_completion_tokens,
        context_lengths=context_lengths,
    )
    context.raise_if_over()
    return PreparedRequest(
        template=body, parts=parts, estimate=estimate, context=context, markers=markers
    )
