"""A local stand-in for the MiMo endpoint, for your own tests, demos and benchmarks.

What ``httpx.MockTransport`` is for one request, :class:`MockMimoServer` is for a whole MiMo
deployment: a real HTTP server on 127.0.0.1, in a background thread, that checks the ``api-key``
header (or ``Authorization: Bearer``, as the OpenAI SDK sends), validates each payload against
the spec's shape, and answers with the spec page's recorded example response, as JSON or as
server-sent events. Scripted faults make every failure a client must survive reproducible; every
request is recorded (without the key).

>>> from mimo_nb import MimoClient
>>> with MockMimoServer(api_key="test-key") as server:
...     server.script("503", "503")               # fail twice, then answer
...     client = MimoClient("test-key", base_url=server.base_url, retry_base_delay=0.01)
...     client.ask("https://example.com/a.mp4", "describe").origin
'live'

Faults, one per POST, in the order scripted (strings, or :class:`Fault` for parameters):

================  ================================================================================
``"ok"``          answer normally
``"400"`` ...     answer with that status and an OpenAI-style error body: 400, 401, 403, 404, 422,
                  429 and 503 (with ``Retry-After: Fault.retry_after``), 500, 502
``"slow"``        answer after ``Fault.delay`` seconds
``"trickle"``     send the answer ``Fault.chunk`` bytes at a time, every ``Fault.interval`` s
``"ping"``        for ``Fault.delay`` seconds send keep-alives every ``Fault.interval`` s (SSE
                  comments in a stream, spaces before a JSON body), then the answer
``"cut_stream"``  a stream that stops half-way, without its terminating chunk
``"disconnect"``  close the connection without answering
``"malformed_json"`` a 200 whose body is cut JSON
``"body"``        a 200 whose body is ``Fault.body`` (JSON-encoded unless bytes)
``"events"``      a stream of ``data: {item}`` events, one per item of ``Fault.body``, as given
                  (add ``"[DONE]"`` yourself)
``"huge"``        a 200 with ``Fault.size`` bytes of content (chunked, no Content-Length), or in a
                  stream one endless-looking ``data:`` line of that size
``"echo_key"``    a 401 that repeats the key it received in its message (long enough that a cut at
                  500 characters falls inside the key), nested in its body, and in two headers
================  ================================================================================

Files for ``Video.open(url)`` and the client's HEAD size probe: ``server.files[path] = data``
serves ``data`` to GET and HEAD at ``server.url(path)``; ``server.file_faults[path]`` applies a
``"slow"`` or ``"trickle"`` :class:`Fault` to every request for that path.
``server.head_sizes[path] = n`` answers a HEAD with ``Content-Length: n`` and no file. GET and
HEAD requests are recorded in ``server.probes`` as ``(method, path)``.

Two standing behaviours, for corpus-scale runs:

* a **quota** (:class:`Quota`): at most so many tokens and requests in any window (a minute),
  counted when a request arrives, each request weighing its prompt tokens by the spec's formula
  (the server probes the videos it receives) plus its ``max_completion_tokens``; a request over
  the quota gets a 429 with ``Retry-After`` (recorded with ``fault="quota"``);
* a **door** (:meth:`MockMimoServer.hold_after`): after N requests, later ones wait unread at
  the door until :meth:`MockMimoServer.release`; one whose client has hung up meanwhile is
  dropped unprocessed and unrecorded (kill-and-resume tests kill a client at a known point).

By default the answer is the vendor page's recorded example (or what a fault says): it is no
model and says nothing about the video sent. ``MockMimoServer(answer="rules")`` answers by rules
from the frames it receives instead (:func:`rules_response`): it decodes the video sent as a data
URI, samples it by the formula at the request's ``fps`` (as :meth:`Video.sample
<mimo_nb.media.video.Video.sample>` does), reads the frame counters our sample clips draw
(:func:`mimo_nb.media.samples.read_frame_counter`) and says "At MM:SS.ff the counter reads N." for a
few frames, one range, and one moment between two samples it did not see. Asked one of the
counting questions of :mod:`mimo_nb.media.tasks` (it reads the user's text), it answers that
question from the frames it sampled, and only from them:

* "What is the last number shown ...?": the counter of the *last* frame it sampled, "The last
  number I saw is N." (the hosted API's formula samples the file's last frame at any ``fps``,
  so this answer is right at every ``fps``);
* "How many times does the red square change side ...?": it finds the red square in each frame
  sampled by its colour (:func:`mimo_nb.media.samples.read_red_square`) and counts the changes of
  side between consecutive frames (:func:`mimo_nb.media.tasks.count_side_changes`), "The red
  square changed side N times in the frames I was sent." At a low ``fps`` it misses crossings
  that happen between two frames it was sent, and says the wrong number it counted.

Its ``model`` is :data:`~mimo_nb.api.response.STAND_IN`, "rule-based stand-in, not a model", and
every display of its answers says so. Tests check an answer's timeline against it: each frame a
time links to shows the number the answer says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import select
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mimo_nb.api.response import STAND_IN, spec_example_json
from mimo_nb.core.times import write_time
from mimo_nb.errors import LimitError

__all__ = [
    "Fault",
    "Quota",
    "RecordedRequest",
    "MockMimoServer",
    "validate_payload",
    "request_token_charge",
    "sse_chunks",
    "rules_response",
    "FAULT_KINDS",
    "ANSWERS",
]

ANSWERS = ("recorded", "rules")  # what MockMimoServer(answer=...) says: the example, or by rules

STATUS_FAULTS = ("400", "401", "403", "404", "422", "429", "500", "502", "503")
FAULT_KINDS = (
    "ok",
    *STATUS_FAULTS,
    "slow",
    "trickle",
    "ping",
    "cut_stream",
    "disconnect",
    "malformed_json",
    "body",
    "events",
    "huge",
    "echo_key",
)


@dataclass(frozen=True)
class Fault:
    """One scripted behaviour of the server for one request (see the module's table)."""

    kind: str = "ok"
    retry_after: float | None = (
        0.0  # 429 and 503: the Retry-After header, seconds (None: no header)
    )
    delay: float = 2.0  # "slow": seconds before answering; "ping": seconds of keep-alives
    interval: float = 0.25  # "trickle" and "ping": seconds between pieces
    chunk: int = 1  # "trickle": bytes per piece
    size: int = 20 * 2**20  # "huge": bytes of content
    body: Any = None  # "body": the answer; "events": the data of each event

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {FAULT_KINDS}")


@dataclass(frozen=True)
class Quota:
    """Rate limits the server enforces with 429s: at most so much in any ``window`` seconds.

    ``charge(body)`` is what one request weighs in tokens; by default
    :func:`request_token_charge` (the spec's formula over the videos received, the text, and
    ``max_completion_tokens``). ``window`` is 60 s for "per minute"; benchmarks shorten it.
    """

    tokens_per_minute: int | None = None
    requests_per_minute: int | None = None
    window: float = 60.0
    charge: Callable[[Any], int] | None = None


@dataclass
class RecordedRequest:
    """What the server received. The key is not kept: only how it was sent and if it matched."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    body_bytes: int
    auth_scheme: str | None
    auth_ok: bool
    fault: str
    problems: list[str] = field(default_factory=list)

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


# ---- Payload validation (the spec's shape) --------------------------------------------------


def _check_video_part(part: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    video = part.get("video_url")
    if not isinstance(video, dict) or not isinstance(video.get("url"), str):
        return [f"{where}: video_url must be an object with a string 'url'"]
    if "fps" in video or "media_resolution" in video:
        problems.append(f"{where}: fps and media_resolution belong beside video_url, not inside it")
    url = video["url"]
    if url.startswith("data:"):
        head, sep, data = url.partition(",")
        if not sep or not head.endswith(";base64") or not head[5:].startswith("video/"):
            problems.append(f"{where}: a data URI must look like data:video/...;base64,...")
        elif len(data) > 50 * 2**20:
            problems.append(f"{where}: the base64 string is over 50 MB")
        else:
            try:
                base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                problems.append(f"{where}: the base64 data is not valid base64")
    elif not url.startswith(("http://", "https://")):
        problems.append(f"{where}: url must be a public http(s) URL or a data URI")
    fps = part.get("fps", 2)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0.1 <= fps <= 10:
        problems.append(f"{where}: fps must be a number in [0.1, 10]")
    if part.get("media_resolution", "default") not in ("default", "max"):
        problems.append(f"{where}: media_resolution must be 'default' or 'max'")
    return problems


def validate_payload(body: Any) -> list[str]:
    """Problems with a chat-completions body, judged by the spec's shape; empty when fine."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    problems: list[str] = []
    if not isinstance(body.get("model"), str):
        problems.append("model must be a string")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return problems + ["messages must be a non-empty list"]
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
        ):
            problems.append(f"messages[{i}] needs a role of system, user or assistant")
            continue
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            problems.append(f"messages[{i}].content must be a string or a list of parts")
            continue
        for j, part in enumerate(content):
            where = f"messages[{i}].content[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "video_url":
                problems += _check_video_part(part, where)
            elif kind == "text":
                if not isinstance(part.get("text"), str):
                    problems.append(f"{where}: text must be a string")
            else:
                problems.append(f"{where}: unknown part type {kind!r}")
    mct = body.get("max_completion_tokens", 1)
    if isinstance(mct, bool) or not isinstance(mct, int) or mct < 1:
        problems.append("max_completion_tokens must be a positive integer")
    return problems


# ---- What a request weighs against a token quota --------------------------------------------

_charge_memo: dict[
    str, int
] = {}  # sha256 of a data URI -> its video tokens (a corpus repeats none, tests many)


def _video_tokens(part: dict[str, Any]) -> int:
    """The spec's token estimate of one received video part (0 for a URL we cannot read)."""
    url = part.get("video_url", {}).get("url", "")
    if not url.startswith("data:"):
        return 0
    key = hashlib.sha256(
        f"{part.get('fps')}|{part.get('media_resolution')}|".encode() + url.encode()
    ).hexdigest()
    if key not in _charge_memo:
        from mimo_nb.media.video import (
            Video,  # the stand-in probes what it receives, as the real server must
        )

        video = Video.open(base64.b64decode(url.partition(",")[2]))
        _charge_memo[key] = video.estimate(
            float(part.get("fps", 2)), part.get("media_resolution", "default")
        ).total
    return _charge_memo[key]


def request_token_charge(body: Any) -> int:
    """Tokens a request weighs against a quota: prompt (videos by the formula + text) + max output.

    The text counts as mimo_nb estimates it (4 bytes a token) over the system message and the
    user's text, and the answer at its ``max_completion_tokens``: the most the request can use.
    """
    from mimo_nb.core.pricing import estimate_text_tokens

    if not isinstance(body, dict):
        return 0
    videos, text = 0, ""
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            text += content
            continue
        for part in content or []:
            if part.get("type") == "video_url":
                videos += _video_tokens(part)
            elif part.get("type") == "text":
                text += part.get("text", "")
    return videos + estimate_text_tokens(text) + int(body.get("max_completion_tokens") or 0)


# ---- Answers --------------------------------------------------------------------------------


def _first_video(body: Any) -> dict[str, Any] | None:
    """The first ``video_url`` part of a chat-completions body, or None."""
    for message in body.get("messages") or [] if isinstance(body, dict) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "video_url":
                return part
    return None


def _user_text(body: Any) -> str:
    """The text of the user's messages in a chat-completions body (the question asked)."""
    said = []
    for message in body.get("messages") or [] if isinstance(body, dict) else []:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            said.append(content)
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "text":
                said.append(str(part.get("text", "")))
    return "\n".join(said)


def _describe_counters(seen: list[tuple[float, int]], fps: float) -> str:
    """The default rule: what the counter read at a few of the frames sampled, and a moment
    between two samples it did not see."""
    said = [f"I read the frame counters of the {len(seen)} frames sampled at fps {fps:g}."]
    picks = sorted({0, len(seen) // 2, len(seen) - 1})
    said += [f"At {write_time(seen[i][0])} the counter reads {seen[i][1]}." for i in picks]
    if len(seen) > 1:
        (t0, n0), (t1, n1) = seen[0], seen[1]
        said.append(f"From {write_time(t0)} to {write_time(t1)} it runs from {n0} to {n1}.")
        if t1 - t0 > 0.02:  # a moment it did not see, said as such
            middle = write_time((t0 + t1) / 2)
            said.append(f"No frame was sampled at {middle}, so I cannot say what it read then.")
    return " ".join(said)


def _say_side_changes(positions: list[float | None]) -> str:
    """The side-change rule: the changes of side of the red square between the frames sent."""
    from mimo_nb.media.tasks import count_side_changes

    if all(p is None for p in positions):
        return "I found no red square in the frames I was sent, so I cannot say."
    changes = count_side_changes(positions)
    times = "time" if changes == 1 else "times"
    return f"The red square changed side {changes} {times} in the frames I was sent."


def _rules_text(part: dict[str, Any] | None, question: str = "") -> tuple[str, int, int]:
    """What the stand-in says about a video part, asked ``question``, and its video and audio
    tokens."""
    url = (part or {}).get("video_url", {}).get("url", "")
    if not url.startswith("data:"):
        return "I read only videos sent as data URIs; this one was not, so I say nothing.", 0, 0
    from mimo_nb.media.samples import read_frame_counter, read_red_square
    from mimo_nb.media.tasks import question_kind
    from mimo_nb.media.video import Video  # the stand-in decodes what it receives

    assert part is not None
    fps, resolution = float(part.get("fps", 2)), part.get("media_resolution", "default")
    video = Video.open(base64.b64decode(url.partition(",")[2]))
    frames = video.sample(fps, resolution)
    kind = question_kind(question)
    if kind == "side_changes":
        text = _say_side_changes([read_red_square(frame) for frame in frames])
    else:
        seen = [
            (float(t), read_frame_counter(f))
            for t, f in zip(frames.timestamps, frames, strict=True)
        ]
        if kind == "last_number":
            text = f"The last number I saw is {seen[-1][1]}."
        else:
            text = _describe_counters(seen, fps)
    breakdown = video.estimate(fps, resolution)
    return text, breakdown.video_tokens, breakdown.audio_tokens


def rules_response(body: Any) -> dict[str, Any]:
    """The rule-based stand-in's answer to a chat-completions ``body``, from the frames it samples
    from the first video only (see the module's docstring for the rules):

    - asked the last number shown: the counter of the last frame sampled;
    - asked how often the red square changes side: the changes of side between the frames
      sampled, the square found by its colour;
    - asked anything else: what the frame counters of a few frames sampled read.

    Its ``model`` is :data:`~mimo_nb.api.response.STAND_IN`: it is no model.
    """
    from mimo_nb.core.pricing import estimate_text_tokens

    content, video_tokens, audio_tokens = _rules_text(_first_video(body), _user_text(body))
    prompt = video_tokens + audio_tokens + 16
    completion = estimate_text_tokens(content)
    return {
        "id": "rules-" + hashlib.sha256(content.encode()).hexdigest()[:12],  # same answer, same id
        "object": "chat.completion",
        "created": int(time.time()),
        "model": STAND_IN,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"video_tokens": video_tokens, "audio_tokens": audio_tokens},
        },
    }


def _pieces(text: str, n: int) -> list[str]:
    """``text`` split into about ``n`` pieces that join back to it exactly."""
    if not text:
        return []
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


def sse_chunks(response: dict[str, Any], pieces: int = 8) -> list[dict[str, Any]]:
    """The example response as OpenAI-style stream chunks: reasoning, then content, then usage."""
    message = response["choices"][0]["message"]
    base = {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    out = [chunk({"role": "assistant", "content": ""})]
    out += [
        chunk({"reasoning_content": p})
        for p in _pieces(message.get("reasoning_content") or "", pieces)
    ]
    out += [chunk({"content": p}) for p in _pieces(message.get("content") or "", pieces)]
    out.append(chunk({}, response["choices"][0]["finish_reason"]))
    if response.get("usage") is not None:  # usage rides in the final chunk
        out.append({**base, "choices": [], "usage": response["usage"]})
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API front end
    disable_nagle_algorithm = (
        True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    )
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    # -- reading --

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _auth(self) -> tuple[str | None, bool]:
        owner = self.server.owner
        if "api-key" in self.headers:
            return "api-key", self.headers["api-key"] == owner.api_key
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return "bearer", auth[7:].strip() == owner.api_key
        return None, False

    # -- writing --

    def _send_json(
        self, status: int, payload: Any, extra_headers: dict[str, str] | None = None
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", self._request_id)
        for key, value in (extra_headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(
        self, status: int, message: str, kind: str, extra_headers: dict[str, str] | None = None
    ) -> None:
        self._send_json(
            status,
            {"error": {"message": message, "type": kind, "code": str(status)}},
            extra_headers,
        )

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", self._request_id)
        self.end_headers()

    def _send_chunked(self, content_type: str, data: bytes, fault: Fault) -> None:
        """``data`` as a chunked body, paced as the fault says (trickled, or after keep-alives)."""
        self._start_chunked(content_type)
        if fault.kind == "ping":
            keep_alive = b": ping\n\n" if content_type == "text/event-stream" else b" "
            end = time.monotonic() + fault.delay
            while time.monotonic() < end:
                self._write_chunk(keep_alive)
                time.sleep(fault.interval)
        if fault.kind == "trickle":
            for i in range(0, len(data), max(1, fault.chunk)):
                self._write_chunk(data[i : i + max(1, fault.chunk)])
                time.sleep(fault.interval)
        elif data:
            self._write_chunk(data)
        self.wfile.write(b"0\r\n\r\n")

    def _send_stream(self, response: dict[str, Any], fault: Fault) -> None:
        events = [f"data: {json.dumps(c)}\n\n".encode() for c in sse_chunks(response)]
        events.append(b"data: [DONE]\n\n")
        if fault.kind == "cut_stream":
            self._start_chunked("text/event-stream")
            for event in events[: len(events) // 2]:
                self._write_chunk(event)
            self._drop_connection()  # no terminating chunk: the client sees a broken body
            return
        if fault.kind in ("trickle", "ping"):
            return self._send_chunked("text/event-stream", b"".join(events), fault)
        self._start_chunked("text/event-stream")
        for event in events:
            self._write_chunk(event)
        self.wfile.write(b"0\r\n\r\n")

    def _send_huge(self, stream: bool, size: int) -> None:
        """``size`` bytes of content in 64 KiB chunks, never whole in memory on this side either."""
        piece = b"x" * 2**16
        if stream:
            self._start_chunked("text/event-stream")
            self._write_chunk(b'data: {"choices": [{"delta": {"content": "')
        else:
            self._start_chunked("application/json")
            self._write_chunk(b'{"choices": [{"message": {"content": "')
        try:
            for _ in range(size // len(piece) + 1):
                self._write_chunk(piece)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up, as it should
        self._write_chunk(b'"}}]}\n\n' if stream else b'"}}]}')
        self.wfile.write(b"0\r\n\r\n")

    def _echo_key(self) -> None:
        """A 401 that repeats the key it was sent, as a careless server might."""
        key = self.headers.get("api-key") or self.headers.get("Authorization", "")[7:]
        pad = "x" * (500 - len("Incorrect API key provided: ") - max(1, len(key) // 2))
        message = f"Incorrect API key provided: {pad}{key} (key {key} is invalid)"
        body = {
            "error": {
                "message": message,
                "type": "authentication_error",
                "code": "401",
                "param": [key, {"received": key, key: "as a key"}],
            }
        }
        self._send_json(
            401, body, {"x-request-id": f"req-{key}", "www-authenticate": f"Bearer realm={key}"}
        )

    def _drop_connection(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the endpoint --

    def _file(self, head: bool) -> None:
        owner = self.server.owner
        owner._probe(self.command, self.path)
        data = owner.files.get(self.path)
        fault = owner.file_faults.get(self.path, Fault("ok"))
        if fault.kind == "slow":
            time.sleep(fault.delay)
        if data is None:
            size = owner.head_sizes.get(self.path) if head else None
            self.send_response(200 if size is not None else 404)
            self.send_header("Content-Length", str(size or 0))
            self.end_headers()
            return
        if head or fault.kind != "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)
            return
        self._request_id = "file"
        self._send_chunked("video/mp4", data, fault)

    def do_HEAD(self) -> None:  # noqa: N802  (for the client's URL size probe)
        self._file(head=True)

    def do_GET(self) -> None:  # noqa: N802  (for Video.open(url) downloads)
        self._file(head=False)

    def _client_gone(self) -> bool:
        """True when the client has closed its end (EOF or reset) while its request waited."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        owner = self.server.owner
        arrived = time.monotonic()  # when a quota counts the request
        self._request_id = f"req-{uuid.uuid4().hex[:12]}"
        raw = self._read_body()
        if not owner._through_door():
            if self._client_gone():
                self.close_connection = True  # held at the door and abandoned: never processed
                return
            arrived = time.monotonic()  # it comes in when the door opens
        fault = owner._next_fault()
        scheme, auth_ok = self._auth()
        try:
            body: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        problems = validate_payload(body) if body is not None else ["the body is not valid JSON"]
        over_quota = (
            owner._over_quota(body, arrived)
            if auth_ok and not problems and fault.kind == "ok"
            else None
        )
        owner._record(
            RecordedRequest(
                method="POST",
                path=self.path,
                headers={
                    k.lower(): ("<redacted>" if k.lower() in ("api-key", "authorization") else v)
                    for k, v in self.headers.items()
                },
                body=body,
                body_bytes=len(raw),
                auth_scheme=scheme,
                auth_ok=auth_ok,
                fault="quota" if over_quota is not None else fault.kind,
                problems=problems,
            )
        )
        owner._enter()
        try:
            if owner.delay:
                time.sleep(owner.delay)
            self._answer(fault, auth_ok, problems, body, over_quota)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer
        finally:
            owner._leave()

    def _answer(
        self,
        fault: Fault,
        auth_ok: bool,
        problems: list[str],
        body: Any,
        over_quota: float | None = None,
    ) -> None:
        retry = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        stream = isinstance(body, dict) and bool(body.get("stream"))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._send_error(404, f"no route {self.path}", "not_found")
        if fault.kind == "disconnect":
            return self._drop_connection()
        if fault.kind == "echo_key":
            return self._echo_key()
        if fault.kind in ("401", "403") or not auth_ok:
            status = 403 if fault.kind == "403" else 401
            return self._send_error(
                status, "Invalid API key: check the api-key header.", "authentication_error"
            )
        if over_quota is not None:
            return self._send_error(
                429,
                "Rate limit reached for tokens or requests per minute; slow down.",
                "rate_limit_error",
                {"Retry-After": f"{over_quota:.3f}"},
            )
        if fault.kind in STATUS_FAULTS and fault.kind != "400":
            status = int(fault.kind)
            headers = retry if status in (429, 503) else {}
            kind = {404: "not_found", 422: "invalid_request_error", 429: "rate_limit_error"}.get(
                status, "server_error"
            )
            message = {
                404: "The model does not exist.",
                422: "The body could not be validated.",
                429: "Rate limit reached; slow down.",
            }.get(status, "The server had an error; try again.")
            return self._send_error(status, message, kind, headers)
        if fault.kind == "400" or problems:
            message = "; ".join(problems) or "The video could not be read."
            return self._send_error(400, message, "invalid_request_error")
        if fault.kind == "slow":
            time.sleep(fault.delay)
        owner = self.server.owner
        response = rules_response(body) if owner.answer == "rules" else owner.response
        if not owner.send_usage:
            response = {k: v for k, v in response.items() if k != "usage"}
        if fault.kind == "malformed_json":
            return self._send_json(200, json.dumps(response).encode("utf-8")[:40])
        if fault.kind == "body":
            data = (
                fault.body
                if isinstance(fault.body, bytes)
                else json.dumps(fault.body).encode("utf-8")
            )
            return self._send_json(200, data)
        if fault.kind == "events":
            events = b"".join(f"data: {item}\n\n".encode() for item in fault.body or [])
            return self._send_chunked("text/event-stream", events, Fault("ok"))
        if fault.kind == "huge":
            return self._send_huge(stream, fault.size)
        if stream:
            return self._send_stream(response, fault)
        if fault.kind in ("trickle", "ping"):
            return self._send_chunked(
                "application/json", json.dumps(response).encode("utf-8"), fault
            )
        return self._send_json(200, response)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow handler never blocks shutdown
    allow_reuse_address = True
    request_queue_size = (
        128  # socketserver's default backlog of 5 resets bursts of concurrent connects
    )
    owner: MockMimoServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) closes the socket under a slow answer: expected.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class MockMimoServer:
    """A MiMo-like chat-completions endpoint on 127.0.0.1, in a background thread.

    Args:
        api_key: the key the server accepts (in ``api-key`` or ``Authorization: Bearer``).
        delay: seconds to wait before every answer (for benchmarks).
        response: the JSON answer; defaults to the spec page's recorded example.
        send_usage: False answers without ``usage``, in JSON and in streams (as a server that
            ignores ``stream_options`` or a proxy that strips it); settable between requests.
        answer: ``"recorded"`` (``response``, by default the spec page's example) or ``"rules"``:
            a rule-based stand-in that reads the frame counters (and, asked how often it changes
            side, the red square) of the frames it samples from the video it receives
            (:func:`rules_response`; "rule-based stand-in, not a model").
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        delay: float = 0.0,
        response: dict[str, Any] | None = None,
        port: int = 0,
        quota: Quota | None = None,
        send_usage: bool = True,
        answer: str = "recorded",
    ) -> None:
        if answer not in ANSWERS:
            raise LimitError(f"answer must be one of {ANSWERS}, got {answer!r}.")
        self.answer = answer
        self.api_key = api_key
        self.send_usage = send_usage
        self.delay = delay
        self.quota = quota
        self._quota_log: deque[tuple[float, int]] = (
            deque()
        )  # (arrival, tokens) of admitted requests
        self._door_after: int | None = None
        self._door_passed = 0
        self._door_open = threading.Event()
        self._door_open.set()
        self.held = 0  # requests waiting at the door now
        self.response = response or spec_example_json()
        self.head_sizes: dict[str, int] = {}  # path -> Content-Length answered to HEAD
        self.files: dict[str, bytes] = {}  # path -> bytes served to GET (and sized for HEAD)
        self.file_faults: dict[str, Fault] = {}  # path -> how GET/HEAD of it behave, every time
        self.requests: list[RecordedRequest] = []
        self.probes: list[tuple[str, str]] = []  # (method, path) of every GET and HEAD
        self._faults: deque[Fault] = deque()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests answered at once (to check client concurrency)
        self._lock = threading.Lock()
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:  # never shows the key
        base_url = self.base_url if self._httpd else None
        return f"MockMimoServer(base_url={base_url!r}, requests={len(self.requests)})"

    # -- lifecycle --

    def start(self) -> MockMimoServer:
        self._httpd = _Server(("127.0.0.1", self._port), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mimo-nb-testing",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> MockMimoServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start the server first"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give a client: ``http://127.0.0.1:{port}/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def url(self, path: str) -> str:
        """An absolute URL on this server, e.g. for HEAD size probes."""
        return f"http://127.0.0.1:{self.port}{path}"

    # -- faults and records --

    def script(self, *faults: str | Fault) -> None:
        """Queue behaviours for the next requests, one each; then answers normally.

        >>> with MockMimoServer() as server:
        ...     server.script("429", Fault("slow", delay=0.1))  # fail, answer late, then normally
        ...     [f.kind for f in server._faults]
        ['429', 'slow']
        """
        with self._lock:
            self._faults.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)

    def reset(self) -> None:
        """Forget queued faults, recorded requests, probes and the quota's window; open the door.

        Files and sizes stay.
        """
        with self._lock:
            self._faults.clear()
            self.requests.clear()
            self.probes.clear()
            self.max_in_flight = 0
            self._quota_log.clear()
        self.release()

    @property
    def quota_rejections(self) -> int:
        """How many requests the quota answered with 429."""
        with self._lock:
            return sum(1 for r in self.requests if r.fault == "quota")

    def _over_quota(self, body: Any, arrived: float) -> float | None:
        """Admit a request that ``arrived`` (monotonic s) against the quota (None), or the seconds
        until it fits.

        Only requests that arrived in the window before this one count, whichever thread
        finished weighing its request first.
        """
        quota = self.quota
        if quota is None:
            return None
        tokens = (quota.charge or request_token_charge)(
            body
        )  # probing the videos takes a while: not under the lock
        with self._lock:
            start = arrived - quota.window
            self._quota_log = deque(
                e for e in self._quota_log if e[0] > start - quota.window
            )  # keep two windows
            inside = sorted(e for e in self._quota_log if start < e[0] <= arrived)
            count, held = len(inside), sum(t for _, t in inside)

            def fits(count: int, held: int) -> bool:
                return (
                    quota.requests_per_minute is None or count + 1 <= quota.requests_per_minute
                ) and (quota.tokens_per_minute is None or held + tokens <= quota.tokens_per_minute)

            if fits(count, held):
                self._quota_log.append((arrived, tokens))
                return None
            for when, weight in inside:
                count, held = count - 1, held - weight
                if fits(count, held):
                    return max(when + quota.window - arrived, 0.001)
            return quota.window  # larger than the whole quota: never fits

    # -- the door: hold requests at a known point (kill-and-resume tests) --

    def hold_after(self, count: int) -> None:
        """Let ``count`` more requests through, then hold the next ones unread until
        :meth:`release`."""
        with self._lock:
            self._door_after, self._door_passed = count, 0
            self._door_open.clear()

    def release(self) -> None:
        """Open the door: held requests go on (or are dropped, unrecorded, if their client left)."""
        with self._lock:
            self._door_after = None
        self._door_open.set()

    def _through_door(self) -> bool:
        """True when the request passed straight through; False when it was held first."""
        with self._lock:
            if self._door_after is None or self._door_passed < self._door_after:
                self._door_passed += 1
                return True
            self.held += 1
        self._door_open.wait()
        with self._lock:
            self.held -= 1
        return False

    def _next_fault(self) -> Fault:
        with self._lock:
            return self._faults.popleft() if self._faults else Fault("ok")

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _probe(self, method: str, path: str) -> None:
        with self._lock:
            self.probes.append((method, path))


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted: ``python -m mimo_nb.testing --api-key KEY --delay 0.05``.

    Prints the ``base_url`` on the first line of stdout, for a client in another process.
    """
    import argparse

    parser = argparse.ArgumentParser(
        description="A local MiMo stand-in answering with the spec's example."
    )
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with MockMimoServer(api_key=args.api_key, delay=args.delay, port=args.port) as server:
        server.head_sizes["/clip.mp4"] = 1000
        print(server.base_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
