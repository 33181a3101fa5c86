"""Streaming: SSE deltas assembled into the same Completion; a broken stream keeps what arrived."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from mimo_nb.api.client import AsyncMimoClient, CompletionStream, MimoClient, StreamDelta
from mimo_nb.api.response import spec_example_completion
from mimo_nb.errors import AuthenticationError, StreamInterruptedError
from mimo_nb.testing import sse_chunks

from server_fixtures import KEY, URL, server, srv  # noqa: F401  (pytest fixtures)


def client_for(srv, **kw) -> MimoClient:
    return MimoClient(KEY, base_url=srv.base_url, retry_base_delay=0.001, timeout=5, **kw)


def test_stream_yields_reasoning_then_content_and_assembles_the_same_completion(srv):
    stream = client_for(srv).ask(URL, "q", stream=True)
    assert isinstance(stream, CompletionStream)
    deltas = list(stream)
    kinds = [d.kind for d in deltas]
    assert kinds == sorted(kinds, key=lambda k: k != "reasoning") and {
        "reasoning",
        "content",
    } == set(kinds)
    expected = spec_example_completion()
    done = stream.completion
    assert (
        "".join(d.text for d in deltas if d.kind == "content") == expected.content == done.content
    )
    assert done.reasoning_content == expected.reasoning_content
    assert done.usage == expected.usage  # from the final chunk
    assert done.finish_reason == "stop" and done.id == expected.id and done.origin == "live"
    body = srv.requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert srv.requests[0].headers["accept"] == "text/event-stream"


def test_cut_stream_raises_with_the_partial_answer(srv):
    srv.script("cut_stream")
    stream = client_for(srv).ask(URL, "q", stream=True)
    received: list[StreamDelta] = []
    with pytest.raises(StreamInterruptedError, match="broke off") as info:
        for delta in stream:
            received.append(delta)
    partial = info.value.partial
    full = spec_example_completion()
    assert received, "the first half arrived before the cut"
    assert partial.reasoning_content == "".join(d.text for d in received if d.kind == "reasoning")
    assert partial.content == "".join(d.text for d in received if d.kind == "content")
    assert full.reasoning_content.startswith(partial.reasoning_content) and partial.usage is None
    assert stream.completion is None
    assert len(srv.requests) == 1  # a broken stream is not silently re-sent


def _sse_transport(events: list[str], status: int = 200):
    body = "".join(f"data: {e}\n\n" for e in events).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        return httpx.Response(status, headers={"content-type": "text/event-stream"}, content=body)

    return httpx.MockTransport(handler)


def test_stream_ending_without_done_or_finish_is_interrupted():
    chunks = sse_chunks(spec_example_completion().raw)[:3]
    client = MimoClient(KEY, transport=_sse_transport([json.dumps(c) for c in chunks]))
    with pytest.raises(StreamInterruptedError, match="without \\[DONE\\]") as info:
        list(client.ask(URL, "q", stream=True))
    assert info.value.partial.reasoning_content


def test_stream_without_usage_and_without_done_but_finished():
    chunks = [c for c in sse_chunks(spec_example_completion().raw) if not c.get("usage")]
    client = MimoClient(KEY, transport=_sse_transport([json.dumps(c) for c in chunks]))
    done = client.ask(URL, "q", stream=True).until_done()
    assert done.usage is None and done.finish_reason == "stop"
    assert done.content == spec_example_completion().content


def test_mid_stream_error_event_and_garbage_are_interruptions():
    client = MimoClient(KEY, transport=_sse_transport(['{"error": {"message": "overloaded"}}']))
    with pytest.raises(StreamInterruptedError, match="overloaded"):
        list(client.ask(URL, "q", stream=True))
    client = MimoClient(KEY, transport=_sse_transport(["{not json"]))
    with pytest.raises(StreamInterruptedError, match="not JSON"):
        list(client.ask(URL, "q", stream=True))


def test_stream_error_status_is_raised_before_iterating(srv):
    srv.script("401")
    with pytest.raises(AuthenticationError):
        client_for(srv).ask(URL, "q", stream=True)
    srv.script("503")
    assert client_for(srv).ask(URL, "q", stream=True).until_done().usage.video_tokens == 1144


def test_closing_a_stream_early_releases_it(srv):
    with client_for(srv).ask(URL, "q", stream=True) as stream:
        first = next(iter(stream))
    assert first.kind == "reasoning" and stream.completion is None
    assert client_for(srv).ask(URL, "q").usage is not None  # the server still answers


def test_async_stream_and_async_cut(srv):
    async def main():
        async with AsyncMimoClient(KEY, base_url=srv.base_url, timeout=5) as client:
            stream = await client.ask(URL, "q", stream=True)
            texts = [d.text async for d in stream]
            srv.script("cut_stream")
            broken = await client.ask(URL, "q", stream=True)
            with pytest.raises(StreamInterruptedError) as info:
                async for _ in broken:
                    pass
            return stream.completion, texts, info.value.partial

    done, texts, partial = asyncio.run(main())
    assert done.content == spec_example_completion().content and done.usage.audio_tokens == 19
    assert "".join(texts) == done.reasoning_content + done.content
    assert done.content.startswith(partial.content)
