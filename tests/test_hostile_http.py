"""A hostile corpus for the client: secrets, deadlines, malformed answers, the bytes behind a
cache key, and bad arguments. Every case failed (or hung) before the fix it names, and passes now.

Deadline cases assert an upper bound on wall time that is generous for a loaded 2-core machine
(timeout=1 must end within 5 s where it used to run for tens of seconds or for ever): they test
that a call ends, not how fast.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import sys
import time
import typing
from pathlib import Path

import httpx
import pytest

import mimo_nb.api.client as client_module
import mimo_nb.api.client._base as client_base_module
import mimo_nb.api.request as request_module
import mimo_nb.core.tokens as tokens_module
from mimo_nb.api.cache import ResponseCache
from mimo_nb.api.client import AsyncMimoClient, MimoClient
from mimo_nb.api.response import Completion, spec_example_completion, spec_example_json
from mimo_nb.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    CacheMissError,
    ConfigurationError,
    InternalServerError,
    LimitError,
    MimoError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
    VideoError,
)
from mimo_nb.testing import Fault, MockMimoServer, sse_chunks

from server_fixtures import KEY, URL, server, srv  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.timeout(60)  # the old client hung on several of these

SLACK = 4.0  # seconds beyond a deadline that a loaded machine may need to report it
PREFIX = KEY[:10]  # no prefix of the key may survive a cut either


def make(srv: MockMimoServer, **kwargs) -> MimoClient:
    kwargs.setdefault("retry_base_delay", 0.001)
    kwargs.setdefault("timeout", 10.0)
    return MimoClient(kwargs.pop("api_key", KEY), base_url=srv.base_url, **kwargs)


def secret_free(*texts: object) -> bool:
    return not any(PREFIX in str(t) for t in texts)


def answer_with(
    status: int, content: bytes, headers: dict[str, str] | None = None
) -> httpx.MockTransport:
    """A transport that sends every POST one fixed answer (HEAD: 404, size unknown)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        return httpx.Response(
            status, content=content, headers=headers or {"content-type": "application/json"}
        )

    return httpx.MockTransport(handler)


@pytest.fixture()
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything httpx, httpcore and mimo_nb log, down to DEBUG."""
    for name in ("httpx", "httpcore", "mimo_nb", ""):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mimo_nb.media.samples import generate_clip

    return generate_clip(
        tmp_path_factory.mktemp("hostile") / "clip.mp4", duration=1, width=96, height=64
    )


# ==== Secrets (issue 10, item 3) ==================================================================


def test_a_key_read_from_a_file_with_a_trailing_newline_works_and_never_leaks(
    srv, tmp_path, debug_log
):
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    done = make(srv, api_key=key_file.read_text()).ask(URL, "q")
    assert done.usage is not None and srv.requests[0].auth_ok
    assert secret_free(debug_log.text)


def test_a_key_from_the_environment_is_stripped(srv, monkeypatch):
    monkeypatch.setenv("MIMO_API_KEY", f"  {KEY}\r\n")
    assert MimoClient(base_url=srv.base_url).ask(URL, "q").usage is not None
    assert srv.requests[0].auth_ok


@pytest.mark.parametrize(
    "bad,what",
    [
        (KEY[:12] + "\n" + KEY[12:], "control character"),
        (KEY[:12] + "\x00" + KEY[12:], "control character"),
        ("\u201c" + KEY + "\u201d", "non-ASCII"),
        ("Bearer " + KEY, "Bearer"),
    ],
)
def test_a_malformed_key_is_refused_when_the_client_is_built_without_echoing_it(
    bad, what, debug_log
):
    with pytest.raises(ConfigurationError, match=what) as info:
        MimoClient(bad, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert isinstance(info.value, LimitError)
    assert secret_free(info.value, repr(info.value), debug_log.text)


def test_nothing_below_us_logs_the_key_across_calls_retries_and_errors(srv, debug_log):
    client = make(srv, api_key=KEY + "\n")  # as read from a file
    client.ask(URL, "q")
    list(client.ask(URL, "q", stream=True))
    srv.script("500", "401")
    with pytest.raises(AuthenticationError):
        client.ask(URL, "q")
    assert "retry 1 of 2" in debug_log.text and "HTTP Request" in debug_log.text  # httpx did log
    assert secret_free(debug_log.text)


def test_a_server_echoing_the_key_in_body_and_headers_is_redacted_everywhere(srv):
    srv.script("echo_key")
    with pytest.raises(AuthenticationError) as info:
        make(srv).ask(URL, "q")
    exc = info.value
    assert "***" in str(exc) and "***" in exc.request_id
    assert secret_free(
        str(exc), repr(exc), exc.message, json.dumps(exc.body), exc.request_id, exc.args
    )


def test_redaction_comes_before_the_cut_so_no_prefix_survives():
    # The key straddles the 500th character of the message and the 2000th of a text body.
    for pad in (490, 1995):
        text = ("x" * pad + KEY + " was refused").encode()
        client = MimoClient(
            KEY, transport=answer_with(500, text, {"content-type": "text/plain"}), max_retries=0
        )
        with pytest.raises(InternalServerError) as info:
            client.ask(URL, "q")
        assert secret_free(str(info.value), info.value.body)


def test_a_malformed_success_echoing_the_key_is_redacted_before_it_is_shown():
    body = (
        b'{"choices": "' + b"a" * 190 + KEY.encode() + b'"'
    )  # not JSON, key across the snippet's cut
    with pytest.raises(APIResponseValidationError) as info:
        MimoClient(KEY, transport=answer_with(200, body)).ask(URL, "q")
    assert secret_free(str(info.value), info.value.body)


def test_a_stream_echoing_the_key_keeps_it_out_of_the_error_and_the_partial():
    events = [
        json.dumps({"choices": [{"delta": {"content": f"your key is {KEY}"}}]}),
        json.dumps({"error": {"message": "x" * 495 + KEY}}),
    ]
    body = "".join(f"data: {e}\n\n" for e in events).encode()
    client = MimoClient(
        KEY, transport=answer_with(200, body, {"content-type": "text/event-stream"})
    )
    with pytest.raises(StreamInterruptedError) as info:
        list(client.ask(URL, "q", stream=True))
    assert secret_free(
        str(info.value), info.value.partial.content, json.dumps(info.value.partial.raw)
    )


def test_the_cache_never_stores_an_echoed_key(tmp_path):
    raw = spec_example_json()
    raw["choices"][0]["message"]["content"] = f"the key was {KEY}"
    client = MimoClient(KEY, transport=answer_with(200, json.dumps(raw).encode()), cache=tmp_path)
    assert secret_free(client.ask(URL, "q").content)
    assert all(secret_free(p.read_text()) for p in tmp_path.rglob("*.json"))


# ==== Deadlines (issue 10, item 4) ================================================================


def test_a_trickled_answer_is_cut_at_the_deadline(srv):
    srv.script(Fault("trickle", interval=0.2, chunk=1))
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline of 1 s"):
        make(srv, timeout=1, max_retries=0).ask(URL, "q")
    assert time.monotonic() - start < 1 + SLACK


def test_keep_alive_spaces_before_a_json_answer_do_not_extend_the_deadline(srv):
    srv.script(Fault("ping", delay=60, interval=0.2))
    start = time.monotonic()
    with pytest.raises(APITimeoutError):
        make(srv, timeout=1, max_retries=2).ask(URL, "q")  # no time left for a retry either
    assert time.monotonic() - start < 1 + SLACK
    assert len(srv.requests) == 1


def test_a_stream_of_keep_alive_pings_ends_at_stream_timeout(srv):
    srv.script(Fault("ping", delay=60, interval=0.2))
    start = time.monotonic()
    stream = make(srv, stream_timeout=1).ask(URL, "q", stream=True)
    with pytest.raises(StreamInterruptedError, match="stream_timeout") as info:
        list(stream)
    assert time.monotonic() - start < 1 + SLACK
    assert isinstance(info.value.__cause__, APITimeoutError) and info.value.partial.content == ""


def test_a_per_call_timeout_bounds_a_trickled_stream(srv):
    srv.script(Fault("trickle", interval=0.1, chunk=256))
    start = time.monotonic()
    with pytest.raises(StreamInterruptedError) as info:
        list(make(srv).ask(URL, "q", stream=True, timeout=1))
    assert time.monotonic() - start < 1 + SLACK
    assert info.value.partial.reasoning_content  # what arrived in time is kept


def test_the_async_client_cuts_a_trickle_and_a_ping_stream_at_their_deadlines(srv):
    async def main() -> None:
        async with AsyncMimoClient(
            KEY, base_url=srv.base_url, timeout=1, stream_timeout=1, max_retries=0
        ) as c:
            srv.script(Fault("trickle", interval=0.2, chunk=1))
            with pytest.raises(APITimeoutError):
                await c.ask(URL, "q")
            srv.script(Fault("ping", delay=60, interval=0.2))
            stream = await c.ask(URL, "q", stream=True)
            with pytest.raises(StreamInterruptedError):
                async for _ in stream:
                    pass

    start = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - start < 2 + 2 * SLACK


def test_the_url_probe_and_the_request_share_one_deadline(srv):
    srv.file_faults["/slow.mp4"] = Fault("slow", delay=3)
    srv.head_sizes["/slow.mp4"] = 1000
    srv.script(Fault("slow", delay=3))
    start = time.monotonic()
    with pytest.raises(APITimeoutError):  # each step alone fits in 4 s; together they do not
        make(srv, timeout=4, max_retries=0).ask(srv.url("/slow.mp4"), "q")
    assert time.monotonic() - start < 4 + SLACK


def test_a_trickled_download_in_video_open_ends_at_its_timeout(srv, clip):
    from mimo_nb.media.video import Video

    srv.files["/clip.mp4"] = clip.read_bytes()
    srv.file_faults["/clip.mp4"] = Fault("trickle", interval=0.2, chunk=64)
    start = time.monotonic()
    with pytest.raises(VideoError) as info:
        Video.open(srv.url("/clip.mp4"), timeout=1)
    assert info.value.reason == "timeout" and time.monotonic() - start < 1 + SLACK
    del srv.file_faults["/clip.mp4"]
    assert Video.open(srv.url("/clip.mp4"), timeout=30).duration == pytest.approx(1, abs=0.1)


def test_a_long_retry_after_is_not_slept_past_the_deadline(srv):
    srv.script(Fault("429", retry_after=30))
    start = time.monotonic()
    with pytest.raises(RateLimitError):
        make(srv, timeout=2, max_retries=2).ask(URL, "q")
    assert time.monotonic() - start < 2 + SLACK and len(srv.requests) == 1


def test_retry_log_lines_count_up_to_the_number_of_retries(srv, caplog):
    caplog.set_level(logging.WARNING, logger="mimo_nb")
    srv.script("500", "500", "500")
    with pytest.raises(InternalServerError):
        make(srv, max_retries=2).ask(URL, "q")
    lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert [line.split("; ")[1].split(" in ")[0] for line in lines] == [
        "retry 1 of 2",
        "retry 2 of 2",
    ]


@pytest.mark.parametrize(
    "timeout", [-1, 0, float("nan"), float("inf"), "5", True, httpx.Timeout(5, read=-1)]
)
def test_a_bad_timeout_is_refused(timeout):
    with pytest.raises(ConfigurationError, match="timeout"):
        MimoClient(KEY, timeout=timeout)
    with pytest.raises(LimitError, match="timeout"):
        MimoClient(KEY).ask(URL, "q", timeout=timeout)


def test_an_httpx_timeout_is_accepted_and_bounds_each_operation(srv):
    client = make(srv, timeout=httpx.Timeout(10, read=0.5), max_retries=0)
    assert client.ask(URL, "q").usage is not None
    srv.script(Fault("slow", delay=2))
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match="per-operation"):
        client.ask(URL, "q")
    assert time.monotonic() - start < 0.5 + SLACK


# ==== Malformed answers (issue 10, item 5) ========================================================


MALFORMED_BODIES = {
    "null": (b"null", "the body is null"),
    "a number": (b"123", "the body is 123"),
    "a list": (b"[1, 2]", "the body is \\[1, 2\\]"),
    "a string": (b'"str"', 'the body is "str"'),
    "choices as a dict": (b'{"choices": {"0": {}}}', "choices is"),
    "a null choice": (b'{"choices": [null]}', "choices\\[0\\] is null"),
    "a string message": (b'{"choices": [{"message": "hi"}]}', "choices\\[0\\].message is"),
    "numeric content": (b'{"choices": [{"message": {"content": 5}}]}', "message.content is 5"),
    "content as a list": (
        b'{"choices": [{"message": {"content": [{"type": "text", "text": "hi"}]}}]}',
        "message.content is \\[",
    ),
    "usage 1e999": (
        b'{"choices": [{"message": {"content": "a"}}], "usage": {"prompt_tokens": 1e999}}',
        "usage.prompt_tokens is inf",
    ),
    "a negative count": (
        b'{"choices": [{"message": {"content": "a"}}], "usage": {"total_tokens": -3}}',
        "usage.total_tokens is -3",
    ),
    "usage as a string": (
        b'{"choices": [{"message": {"content": "a"}}], "usage": "lots"}',
        "usage is",
    ),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    "a 5000-digit count": (
        b'{"choices": [{"message": {"content": "a"}}], "usage": {"prompt_tokens": '
        + b"9" * 5000
        + b"}}",
        "not JSON",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED_BODIES))
def test_a_malformed_answer_is_a_validation_error_naming_the_field(name):
    body, match = MALFORMED_BODIES[name]
    with pytest.raises(APIResponseValidationError, match=match) as info:
        MimoClient(KEY, transport=answer_with(200, body), max_retries=0).ask(URL, "q")
    assert isinstance(info.value, APIError) and info.value.status_code == 200


MALFORMED_EVENTS = {
    "null": ("null", "an event is not a chat-completion chunk: a stream event is null"),
    "a number": ("123", "a stream event is 123"),
    "a list": ("[1, 2]", "a stream event is \\[1, 2\\]"),
    "a string": ('"str"', 'a stream event is "str"'),
    "choices as a dict": ('{"choices": {"a": 1}}', "choices is"),
    "a null choice": ('{"choices": [null]}', "choices\\[0\\] is null"),
    "a string delta": ('{"choices": [{"delta": "hi"}]}', "delta is"),
    "numeric content": ('{"choices": [{"delta": {"content": 5}}]}', "delta.content is 5"),
    "usage 1e999": (
        '{"choices": [], "usage": {"completion_tokens": 1e999}}',
        "completion_tokens is inf",
    ),
    "not JSON": ("{oops", "an event is not JSON"),
}


@pytest.mark.parametrize("name", list(MALFORMED_EVENTS))
def test_a_malformed_stream_event_interrupts_with_what_arrived(name):
    bad, match = MALFORMED_EVENTS[name]
    first = json.dumps({"choices": [{"delta": {"content": "Hello"}}]})
    body = f"data: {first}\n\ndata: {bad}\n\ndata: [DONE]\n\n".encode()
    client = MimoClient(
        KEY, transport=answer_with(200, body, {"content-type": "text/event-stream"})
    )
    with pytest.raises(StreamInterruptedError, match=match) as info:
        list(client.ask(URL, "q", stream=True))
    assert isinstance(info.value, APIError) and info.value.partial.content == "Hello"
    assert isinstance(info.value.__cause__, APIResponseValidationError)


@pytest.mark.parametrize(
    "content", [123, ["<b>a</b>", {"x": 1}], None, {"text": "<script>alert(1)</script>"}]
)
def test_non_string_content_renders_safely(content):
    done = Completion(id=None, model=None, content=content)
    assert isinstance(done.content, str)
    html, text = done._repr_html_(), str(done)
    assert "<script>" not in html and isinstance(text, str)


def test_an_oversized_answer_is_refused_without_reading_it_all(srv):
    srv.script(Fault("huge", size=64 * 2**20))
    start = time.monotonic()
    with pytest.raises(APIResponseValidationError, match="max_response_bytes=1,048,576"):
        make(srv, max_response_bytes=2**20).ask(URL, "q")
    assert time.monotonic() - start < 10  # 64 MiB were never read


def test_a_declared_oversized_answer_is_refused_from_its_header():
    reads = []

    class Body(httpx.SyncByteStream):
        def __iter__(self):
            reads.append(1)
            yield b"{}"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        return httpx.Response(200, headers={"content-length": str(2**30)}, stream=Body())

    with pytest.raises(APIResponseValidationError, match="declares 1,073,741,824 bytes"):
        MimoClient(KEY, transport=httpx.MockTransport(handler)).ask(URL, "q")
    assert reads == []


def test_one_endless_stream_line_is_cut_at_the_cap(srv):
    srv.script(Fault("huge", size=64 * 2**20))
    with pytest.raises(StreamInterruptedError, match="max_response_bytes") as info:
        list(make(srv, max_response_bytes=2**20).ask(URL, "q", stream=True))
    assert isinstance(info.value.__cause__, APIResponseValidationError)


# ==== Right bytes, right answer (issue 10, item 6) ================================================


def _flip(path: Path) -> bytes:
    """Rewrite ``path`` in place with other bytes of the same size; return the old bytes."""
    data = path.read_bytes()
    path.write_bytes(data[:-16] + bytes(255 - b for b in data[-16:]))
    return data


def test_a_video_rewritten_after_open_is_never_answered_from_the_old_files_cache(
    srv, clip, tmp_path
):
    from mimo_nb.media.video import Video

    path = tmp_path / "v.mp4"
    path.write_bytes(clip.read_bytes())
    video = Video.open(path)
    client = make(srv, cache=tmp_path / "cache")
    assert client.ask(video, "q").origin == "live"
    assert client.ask(video, "q").origin == "cache"
    stat = path.stat()
    old = _flip(path)  # same size, other bytes, same Video object: refused (the probe is stale)
    with pytest.raises(VideoError) as info:
        client.ask(video, "q")
    assert info.value.reason == "changed"
    path.write_bytes(old)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert client.ask(video, "q").origin == "cache"
    _flip(path)  # a rewrite that keeps size and mtime: only the bytes tell, and they are hashed
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert client.ask(video, "q").origin == "live"
    assert len(srv.requests) == 2


class ChangeWhileSending(httpx.BaseTransport):
    """Runs ``change`` once, before the body is read (httpx.MockTransport reads it first)."""

    def __init__(self, change) -> None:
        self.change, self.done = change, None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        if self.done is None:
            self.done = self.change()
        request.read()
        return httpx.Response(200, json=spec_example_json())


def test_an_answer_is_cached_under_the_bytes_that_were_sent(clip, tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(clip.read_bytes())
    transport = ChangeWhileSending(
        lambda: _flip(path)
    )  # the file changes while the request is on its way
    client = MimoClient(KEY, transport=transport, cache=tmp_path / "cache")
    assert client.ask(path, "q").origin == "live"
    assert client.ask(path, "q").origin == "cache"  # the flipped bytes are what was answered
    path.write_bytes(transport.done)
    offline = client.with_options(offline=True)
    with pytest.raises(CacheMissError):  # the original bytes were never answered
        offline.ask(path, "q")


@pytest.mark.parametrize("change", ["grow", "shrink", "vanish"])
def test_a_file_that_changes_between_build_and_send_is_a_video_error(srv, clip, tmp_path, change):
    path = tmp_path / "v.mp4"
    path.write_bytes(clip.read_bytes())
    client = make(srv)
    prepared = client.build_request(path, "q")
    if change == "grow":
        with open(path, "ab") as handle:
            handle.write(b"more")
    elif change == "shrink":
        path.write_bytes(path.read_bytes()[:100])
    else:
        path.unlink()
    with pytest.raises(VideoError, match="changed after the request was built") as info:
        client.send(prepared)
    assert info.value.reason == "changed" and srv.requests == []


def test_a_file_that_grows_during_the_upload_is_a_video_error(clip, tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(clip.read_bytes())

    def grow() -> bool:
        with open(path, "ab") as handle:
            handle.write(b"appended while sending")
        return True

    with pytest.raises(VideoError, match="grew past"):
        MimoClient(KEY, transport=ChangeWhileSending(grow)).ask(path, "q")


def test_offline_mode_never_touches_the_network(srv, tmp_path, monkeypatch):
    srv.head_sizes["/a.mp4"] = 1000
    online = make(srv, cache=tmp_path)
    online.ask(srv.url("/a.mp4"), "q")
    srv.reset()
    offline = make(srv, cache=tmp_path, offline=True)
    assert offline.ask(srv.url("/a.mp4"), "q").origin == "cache"
    assert offline.build_request(srv.url("/b.mp4"), "q").parts[0].size_bytes is None
    with pytest.raises(CacheMissError):
        offline.ask(srv.url("/b.mp4"), "q")
    monkeypatch.setenv("MIMO_NB_OFFLINE", "1")
    from mimo_nb.media.video import Video

    with pytest.raises(VideoError) as info:
        Video.open(srv.url("/a.mp4"))
    assert info.value.reason == "offline"
    assert srv.probes == [] and srv.requests == []


# ==== Every bad argument is a MimoError (issue 10, item 8) ========================================


def _nothing_sent() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing may be sent for a bad argument ({request.method})")

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"prompt": "describe \ud800 this"}, "prompt contains a lone surrogate"),
        ({"system": "be \udfff brief"}, "system contains a lone surrogate"),
        ({"temperature": float("nan")}, "temperature must be a finite number"),
        ({"temperature": float("inf")}, "temperature must be a finite number"),
        ({"top_p": 1.5}, "top_p"),
        (
            {"extra_body": {"thinking": {"budget": float("nan")}}},
            "extra_body\\['thinking'\\]\\['budget'\\] is nan",
        ),
        ({"extra_body": {"x": object()}}, "only JSON values"),
        ({"extra_body": {"model": "other"}}, "pass model="),
        ({"extra_headers": {"x-trace": "a\r\nb"}}, "line breaks"),
        ({"stream": "yes"}, "stream must be True or False"),
        ({"model": 123}, "model must be"),
    ],
)
def test_a_bad_argument_is_a_limit_error_before_anything_is_sent(kwargs, match):
    args = {"prompt": "q", **kwargs}
    with pytest.raises(LimitError, match=match):
        MimoClient(KEY, transport=_nothing_sent()).ask("https://example.com/a.mp4", **args)


def test_an_unknown_keyword_is_a_type_error_not_a_body_field():
    client = MimoClient(KEY, transport=_nothing_sent())
    with pytest.raises(TypeError, match="temprature"):
        client.ask(URL, "q", temprature=0.2)
    with pytest.raises(TypeError, match="temprature"):
        client.map([URL], prompt="q", temprature=0.2)
    with pytest.raises(LimitError, match="Did you mean 'temperature'.*extra_body") as caught:
        client.map([URL], prompt="q", temprature=0.2)  # a MimoError too (a bare TypeError before)
    assert isinstance(caught.value, TypeError)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"base_url": "ftp://example.com/v1"}, "base_url"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
        ({"stream_timeout": -5}, "stream_timeout"),
        ({"offline": "yes"}, "offline"),
        ({"cache": 42}, "cache"),
        ({"http_client": httpx.AsyncClient()}, "AsyncMimoClient"),
        ({"default_headers": {"x": "a\nb"}}, "line breaks"),
    ],
)
def test_a_bad_client_option_is_a_configuration_error(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        MimoClient(KEY, **kwargs)


def test_fps_is_validated_once_per_call(monkeypatch):
    calls = []
    real = tokens_module.validate_fps

    def counting(fps):
        calls.append(fps)
        return real(fps)

    for module in (tokens_module, request_module, client_base_module):
        monkeypatch.setattr(module, "validate_fps", counting)
    MimoClient(KEY, transport=answer_with(200, json.dumps(spec_example_json()).encode())).ask(
        URL, "q", fps=3
    )
    assert calls == [3]


# ==== The client's shape (issue 11) ===============================================================


def test_the_constructor_lists_every_option():
    for cls in (MimoClient, AsyncMimoClient):
        params = inspect.signature(cls.__init__).parameters
        assert not any(p.kind is p.VAR_KEYWORD for p in params.values())
        for name in (
            "api_key",
            "base_url",
            "model",
            "timeout",
            "stream_timeout",
            "max_retries",
            "max_response_bytes",
            "cache",
            "offline",
            "prices",
            "transport",
            "http_client",
        ):
            assert name in params, name


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is new in 3.11")
def test_the_return_type_follows_the_stream_flag():
    for method, stream_type in (
        (MimoClient.ask, "CompletionStream"),
        (MimoClient.send, "CompletionStream"),
        (AsyncMimoClient.ask, "AsyncCompletionStream"),
    ):
        signatures = [inspect.signature(f) for f in typing.get_overloads(method)]
        by_flag = {s.parameters["stream"].annotation: s.return_annotation for s in signatures}
        assert by_flag == {
            "Literal[False]": "Completion",
            "Literal[True]": stream_type,
            "bool": f"Completion | {stream_type}",
        }


def test_with_options_returns_a_copy_sharing_the_connections(srv):
    client = make(srv)
    quick = client.with_options(timeout=3, model="mimo-v2-omni")
    assert (quick.timeout, quick.model, client.timeout, client.model) == (
        3.0,
        "mimo-v2-omni",
        10.0,
        "mimo-v2.5",
    )
    assert quick._http is client._http
    quick.ask(URL, "q")
    quick.close()  # the copy does not own the connections
    assert client.ask(URL, "q").usage is not None
    assert [r.body["model"] for r in srv.requests] == ["mimo-v2-omni", "mimo-v2.5"]


def test_per_call_headers_body_and_model_and_a_users_http_client(srv):
    seen = []
    http = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.method)]})
    client = MimoClient(KEY, base_url=srv.base_url, http_client=http)
    client.ask(
        URL,
        "q",
        extra_headers={"x-trace": "t1"},
        extra_body={"thinking": {"type": "disabled"}},
        temperature=0.2,
        model="mimo-v2-omni",
    )
    (req,) = srv.requests
    assert req.headers["x-trace"] == "t1" and req.auth_ok
    assert req.body["thinking"] == {"type": "disabled"} and req.body["temperature"] == 0.2
    assert req.body["model"] == "mimo-v2-omni" and seen == ["HEAD", "POST"]
    client.close()
    assert not http.is_closed  # yours to close
    http.close()


def test_mimo_base_url_is_read_by_the_client(srv, monkeypatch):
    monkeypatch.setenv("MIMO_BASE_URL", srv.base_url + "/")
    client = MimoClient(KEY)
    assert client.base_url == srv.base_url and client.ask(URL, "q").usage is not None


@pytest.mark.parametrize(
    "fault,error",
    [
        ("400", "BadRequestError"),
        ("401", AuthenticationError),
        ("403", PermissionDeniedError),
        ("404", NotFoundError),
        ("422", UnprocessableEntityError),
        ("502", InternalServerError),
    ],
)
def test_each_status_has_its_class_under_api_status_error(srv, fault, error):
    srv.script(*[fault] * 3)
    with pytest.raises(APIStatusError) as info:
        make(srv).ask(URL, "q")
    name = error if isinstance(error, str) else error.__name__
    assert type(info.value).__name__ == name and info.value.status_code == int(fault)


def test_connection_errors_and_timeouts_are_api_errors():
    assert issubclass(APIConnectionError, APIError) and issubclass(
        APITimeoutError, APIConnectionError
    )
    assert issubclass(StreamInterruptedError, APIError) and issubclass(APIStatusError, APIError)
    assert issubclass(ConfigurationError, LimitError) and issubclass(APIError, MimoError)


def test_an_interrupted_streams_message_is_not_wrapped_twice(srv):
    srv.script("cut_stream")
    with pytest.raises(StreamInterruptedError) as info:
        list(make(srv).ask(URL, "q", stream=True))
    message = str(info.value)
    assert message.count("broke off") == 1 and "Check the network" not in message
    assert "the connection broke (RemoteProtocolError)" in message


def test_the_stand_in_is_a_documented_public_testing_module():
    import mimo_nb.testing as testing

    assert "your own tests" in testing.__doc__ and "MockTransport" in testing.__doc__
    for kind in ("trickle", "ping", "echo_key", "huge", "body", "events"):
        assert kind in testing.FAULT_KINDS and f'``"{kind}"``' in testing.__doc__
    with MockMimoServer() as other:
        assert repr(other).startswith("MockMimoServer(base_url='http://127.0.0.1:")
        assert "test-key" not in repr(other)


def test_the_stand_ins_event_fault_reaches_the_client(srv):
    chunks = [json.dumps(c) for c in sse_chunks(spec_example_completion().raw)] + ["[DONE]"]
    srv.script(Fault("events", body=chunks))
    assert make(srv).ask(URL, "q", stream=True).until_done().usage.video_tokens == 1144


def test_a_replayed_cache_entry_that_is_malformed_is_ignored(tmp_path, caplog):
    client = MimoClient(
        KEY, transport=answer_with(200, json.dumps(spec_example_json()).encode()), cache=tmp_path
    )
    client.ask(URL, "q")
    (entry,) = tmp_path.rglob("*.json")
    stored = json.loads(entry.read_text())
    stored["response"]["choices"][0]["message"]["content"] = (
        5  # not a string: not a chat completion
    )
    entry.write_text(json.dumps(stored))
    assert client.ask(URL, "q").origin == "live"
    assert "not a chat completion" in caplog.text
    assert len(ResponseCache(tmp_path)) == 1


def test_a_result_that_comes_after_the_deadline_is_discarded():
    from mimo_nb._deadline import Deadline, DeadlineExceeded, call_before

    discarded = []
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        call_before(Deadline(0.2), lambda: time.sleep(1) or "late", discard=discarded.append)
    assert time.monotonic() - start < 0.2 + SLACK
    time.sleep(1.5)
    assert discarded == ["late"]
    assert call_before(Deadline(5), lambda: "on time", discard=discarded.append) == "on time"


def test_the_module_keeps_no_dead_code():
    source = inspect.getsource(client_module)
    assert "VideoSource" not in source and "except ImportError:  # pragma" not in source
    assert 'hasattr(source, "mime_type")' not in source
    assert os.path.exists(client_module.__file__)
