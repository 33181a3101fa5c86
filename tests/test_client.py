"""MimoClient and AsyncMimoClient against a real HTTP server on 127.0.0.1 that acts like MiMo."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import socket
import time
from pathlib import Path

import httpx
import pytest

from mimo_nb.api.client import AsyncMimoClient, ClientOptions, MimoClient
from mimo_nb.api.response import spec_example_completion
from mimo_nb.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
)
from mimo_nb.testing import Fault, MockMimoServer

from server_fixtures import KEY, URL, server, srv  # noqa: F401  (pytest fixtures)


def make(srv: MockMimoServer, **kwargs) -> MimoClient:
    kwargs.setdefault("retry_base_delay", 0.001)
    kwargs.setdefault("timeout", 5.0)
    return MimoClient(kwargs.pop("api_key", KEY), base_url=srv.base_url, **kwargs)


# ---- The happy path -------------------------------------------------------------------------


def test_ask_returns_the_servers_answer_and_sends_the_api_key_header(srv):
    done = make(srv).ask(URL, "please describe the content of the video", system="You are MiMo.")
    expected = spec_example_completion()
    assert (done.content, done.reasoning_content, done.usage) == (
        expected.content,
        expected.reasoning_content,
        expected.usage,
    )
    assert done.origin == "live" and done.request_id.startswith("req-")
    assert done.estimate is not None and done.estimate.videos == (None,)
    (req,) = srv.requests
    assert req.auth_scheme == "api-key" and req.auth_ok and req.problems == []
    assert req.path == "/v1/chat/completions"
    assert req.body["messages"][0] == {"role": "system", "content": "You are MiMo."}


def test_api_key_comes_from_the_environment(srv, monkeypatch):
    monkeypatch.setenv("MIMO_API_KEY", KEY)
    client = MimoClient(base_url=srv.base_url)
    assert client.ask(URL, "q").usage.video_tokens == 1144


def test_local_file_travels_as_a_data_uri(srv, tmp_path: Path):
    from mimo_nb.api.request import file_part, prepare_request

    data = bytes(range(256)) * 40
    path = tmp_path / "clip.avi"
    path.write_bytes(data)
    make(srv).send(prepare_request([file_part(path)], "q"))
    url = srv.requests[0].body["messages"][0]["content"][0]["video_url"]["url"]
    assert url == "data:video/x-msvideo;base64," + base64.b64encode(data).decode()
    assert srv.requests[0].problems == []
    headers = srv.requests[0].headers  # streamed from the file, yet with an exact length
    assert (
        "transfer-encoding" not in headers
        and int(headers["content-length"]) == srv.requests[0].body_bytes
    )


def test_url_size_is_probed_with_head_on_the_server(srv):
    srv.head_sizes["/big.mp4"] = 301 * 2**20
    srv.head_sizes["/ok.mp4"] = 1000
    client = make(srv)
    from mimo_nb.errors import LimitError

    with pytest.raises(LimitError, match="300 MB"):
        client.ask(srv.url("/big.mp4"), "q")
    assert client.build_request(srv.url("/ok.mp4"), "q").parts[0].size_bytes == 1000
    assert client.build_request(srv.url("/unknown.mp4"), "q").parts[0].size_bytes is None
    assert srv.requests == []  # nothing was POSTed


def test_a_urls_size_is_probed_once_per_client_and_unknown_sizes_are_asked_again():
    heads = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            heads.append(str(request.url))
            known = request.url.path == "/a.mp4"
            return httpx.Response(
                200 if known else 404, headers={"Content-Length": "1000"} if known else {}
            )
        return httpx.Response(200, json=spec_example_completion().raw)

    client = MimoClient(KEY, transport=httpx.MockTransport(handler))
    for _ in range(3):
        assert client.build_request("https://example.com/a.mp4", "q").parts[0].size_bytes == 1000
        assert client.build_request("https://example.com/b.mp4", "q").parts[0].size_bytes is None
    assert heads.count("https://example.com/a.mp4") == 1
    assert heads.count("https://example.com/b.mp4") == 3
    assert (
        MimoClient(KEY, transport=httpx.MockTransport(handler))
        .build_request("https://example.com/a.mp4", "q")
        .parts[0]
        .size_bytes
        == 1000
    )
    assert heads.count("https://example.com/a.mp4") == 2  # a new client asks again


# ---- Faults: each ends in the documented error or a successful retry --------------------------


def test_missing_key_raises_before_sending(srv):
    client = make(srv, api_key=None)
    with pytest.raises(ConfigurationError, match="MIMO_API_KEY"):
        client.ask(URL, "q")
    assert srv.requests == []


@pytest.mark.parametrize(
    "fault,status,error", [("401", 401, AuthenticationError), ("403", 403, PermissionDeniedError)]
)
def test_auth_errors_are_not_retried(srv, fault, status, error):
    srv.script(fault)
    with pytest.raises(error) as info:
        make(srv).ask(URL, "q")
    assert info.value.status_code == status and info.value.request_id.startswith("req-")
    assert len(srv.requests) == 1


def test_wrong_key_is_rejected_and_never_echoed(srv):
    with pytest.raises(AuthenticationError) as info:
        make(srv, api_key="sk-wrong-key-42").ask(URL, "q")
    assert "sk-wrong-key-42" not in str(info.value) and "sk-wrong-key-42" not in repr(info.value)


def test_bad_request_is_not_retried(srv):
    srv.script("400")
    with pytest.raises(BadRequestError, match="could not be read") as info:
        make(srv).ask(URL, "q")
    assert info.value.status_code == 400 and len(srv.requests) == 1


@pytest.mark.parametrize("faults", [("500", "500"), ("503", "429"), ("disconnect",), ("slow",)])
def test_transient_faults_are_retried_to_success(srv, faults):
    srv.script(*[Fault(f, delay=1.5) for f in faults])
    # 5 s for the whole call, each read at most 0.5 s: a stalled attempt is retried in time
    done = make(srv, max_retries=2, timeout=httpx.Timeout(5.0, read=0.5)).ask(URL, "q")
    assert done.usage.video_tokens == 1144
    assert [r.fault for r in srv.requests] == [*faults, "ok"]


def test_server_error_after_the_last_retry(srv):
    srv.script("500", "503", "500")
    with pytest.raises(InternalServerError) as info:
        make(srv, max_retries=2).ask(URL, "q")
    assert info.value.status_code == 500 and len(srv.requests) == 3


def test_rate_limit_honours_retry_after(srv):
    srv.script(Fault("429", retry_after=0.4))
    start = time.monotonic()
    make(srv, max_retries=1, retry_base_delay=0.001).ask(URL, "q")
    assert time.monotonic() - start >= 0.4
    srv.script(Fault("429", retry_after=0.0), Fault("429", retry_after=0.0))
    with pytest.raises(RateLimitError) as info:
        make(srv, max_retries=1).ask(URL, "q")
    assert info.value.retry_after == 0.0 and info.value.status_code == 429


def test_a_503_retry_after_is_honoured_too(srv):
    srv.script(Fault("503", retry_after=0.4))
    start = time.monotonic()
    make(srv, max_retries=1).ask(URL, "q")
    assert time.monotonic() - start >= 0.4
    srv.script(Fault("503", retry_after=0.0), Fault("503", retry_after=0.0))
    with pytest.raises(InternalServerError) as info:
        make(srv, max_retries=1).ask(URL, "q")
    assert info.value.retry_after == 0.0 and info.value.status_code == 503


def test_slow_answer_past_the_timeout(srv):
    srv.script(Fault("slow", delay=1.0))
    start = time.monotonic()
    with pytest.raises(APITimeoutError, match="timeout"):
        make(srv, max_retries=0, timeout=0.2).ask(URL, "q")
    assert time.monotonic() - start < 1.0


def test_malformed_json_is_an_api_error(srv):
    srv.script("malformed_json")
    with pytest.raises(APIResponseValidationError, match="not a chat completion") as info:
        make(srv).ask(URL, "q")
    assert isinstance(info.value, APIError) and info.value.status_code == 200


def test_unreachable_server_is_a_connection_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = MimoClient(
        KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, retry_base_delay=0.001
    )
    with pytest.raises(APIConnectionError, match="connection failed"):
        client.ask(URL, "q")


def test_no_retry_on_other_4xx():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "HEAD":  # the size probe goes to the video's host: never with the key
            assert "api-key" not in request.headers and "authorization" not in request.headers
        return httpx.Response(404, json={"error": {"message": "no such model"}})

    client = MimoClient(
        KEY, transport=httpx.MockTransport(handler), max_retries=3, retry_base_delay=0.001
    )
    with pytest.raises(APIError, match="404: no such model"):
        client.ask("https://example.com/a.mp4", "q")
    assert calls == ["HEAD", "POST"]


# ---- Secrets --------------------------------------------------------------------------------


def test_key_never_in_repr_errors_or_logs(srv, caplog):
    caplog.set_level(logging.DEBUG)
    client = make(srv)
    assert KEY not in repr(client) and KEY not in str(client)
    srv.script("500", "500", "500")
    with pytest.raises(InternalServerError) as info:
        client.ask(URL, "q")
    assert (
        KEY not in str(info.value)
        and KEY not in repr(info.value)
        and KEY not in str(info.value.body)
    )
    assert "retry" in caplog.text and KEY not in caplog.text
    prepared = client.build_request(URL, "q")
    assert KEY not in repr(prepared) and KEY not in str(prepared)


def test_a_server_echoing_the_key_is_redacted():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(405)
        return httpx.Response(
            401, json={"error": {"message": f"key {request.headers['api-key']} is invalid"}}
        )

    client = MimoClient(KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(AuthenticationError) as info:
        client.ask("https://example.com/a.mp4", "q")
    assert KEY not in str(info.value) and "***" in str(info.value)


# ---- Async ----------------------------------------------------------------------------------


def test_async_ask_and_faults(srv):
    async def main():
        async with AsyncMimoClient(
            KEY, base_url=srv.base_url, retry_base_delay=0.001, timeout=5
        ) as client:
            done = await client.ask(URL, "q")
            srv.script("503", "disconnect")
            again = await client.ask(URL, "q")
            srv.script("401")
            with pytest.raises(AuthenticationError):
                await client.ask(URL, "q")
            return done, again

    done, again = asyncio.run(main())
    assert done.usage == again.usage == spec_example_completion().usage
    assert [r.fault for r in srv.requests] == ["ok", "503", "disconnect", "ok", "401"]


def test_async_timeout(srv):
    async def main():
        client = AsyncMimoClient(KEY, base_url=srv.base_url, max_retries=0, timeout=0.2)
        try:
            await client.ask(URL, "q")
        finally:
            await client.aclose()

    srv.script(Fault("slow", delay=1.0))
    with pytest.raises(APITimeoutError):
        asyncio.run(main())


def test_sample_video_end_to_end(srv, tmp_path: Path):
    samples = pytest.importorskip("mimo_nb.media.samples")
    pytest.importorskip("mimo_nb.media.video")
    clip = samples.generate_clip(tmp_path / "clip.mp4", duration=1, width=160, height=120)
    done = make(srv).ask(clip, "What is the number on screen?", fps=4)
    assert done.estimate.complete and done.estimate.videos[0].fps == 4
    part = srv.requests[0].body["messages"][0]["content"][0]
    assert part["fps"] == 4 and part["video_url"]["url"].startswith("data:video/mp4;base64,")
    assert srv.requests[0].problems == []


def test_both_clients_take_the_options_of_one_options_object():
    """The constructors and with_options list every ClientOptions field, with the same defaults:
    they cannot drift (the options are checked once, in ClientOptions.checked)."""
    import dataclasses
    import inspect

    from mimo_nb.api.client import ClientOptions

    fields = [f.name for f in dataclasses.fields(ClientOptions)]
    sync = inspect.signature(MimoClient.__init__).parameters
    async_ = inspect.signature(AsyncMimoClient.__init__).parameters
    assert list(sync) == list(async_) == ["self", *fields, "transport", "http_client"]
    assert [sync[n].default for n in fields] == [async_[n].default for n in fields]
    assert list(inspect.signature(MimoClient.with_options).parameters)[1:] == fields
    client = MimoClient(KEY, timeout=5)
    assert client.options.timeout == client.timeout == 5.0
    assert client.with_options(model="mimo-v2-omni").options.timeout == 5.0


# ---- The options: one copy, read-only ---------------------------------------------------------

OPTION_NAMES = [f.name for f in dataclasses.fields(ClientOptions)]


def every_option(tmp_path: Path) -> dict:
    """A value for every option, none of them the default."""
    from mimo_nb.api.cache import ResponseCache
    from mimo_nb.core.pricing import load_prices

    return {
        "api_key": KEY,
        "base_url": "http://127.0.0.1:9/v1",
        "model": "mimo-v2-omni",
        "timeout": 7,
        "stream_timeout": 70,
        "max_retries": 4,
        "retry_base_delay": 0.25,
        "retry_max_delay": 3,
        "max_response_bytes": 4096,
        "cache": ResponseCache(tmp_path / "cache"),
        "offline": True,
        "prices": load_prices("mimo-v2.5", "USD"),
        "context_lengths": {"mimo-v2-omni": 100_000},
        "default_headers": {"x-trace": "t1"},
        "profile": "sglang-mimo-v2",
    }


@pytest.mark.parametrize("kind", [MimoClient, AsyncMimoClient])
def test_every_option_reads_back_from_the_clients_options(kind, tmp_path: Path):
    given = every_option(tmp_path)
    assert list(given) == OPTION_NAMES  # a new option needs a value here
    client = kind(**given)
    public = [name for name in OPTION_NAMES if name != "api_key"]  # the key is never shown
    for name in public:
        assert getattr(client, name) == given[name], name
        assert getattr(client, name) is getattr(client.options, name), name  # no second copy
    assert not set(vars(client)) & {*OPTION_NAMES, "options"}  # nothing copied onto the client
    # A changed copy reads its own options; the original's are as they were.
    copy = client.with_options(timeout=3, model="mimo-v2.5", default_headers={"x-other": "o"})
    assert (copy.timeout, copy.model, copy.default_headers) == (3.0, "mimo-v2.5", {"x-other": "o"})
    assert (client.timeout, client.model, client.default_headers) == (
        7.0,
        "mimo-v2-omni",
        {"x-trace": "t1"},
    )
    for name in public:
        assert getattr(copy, name) is getattr(copy.options, name), name
    assert copy.options == client.options.replace(
        timeout=3, model="mimo-v2.5", default_headers={"x-other": "o"}
    )


def test_prices_read_the_options_else_the_models_shipped_ones():
    from mimo_nb.core.pricing import load_prices

    usd = load_prices("mimo-v2.5", "USD")
    assert MimoClient(KEY, prices=usd).prices is usd
    assert MimoClient(KEY).prices == load_prices("mimo-v2.5", "CNY")
    assert MimoClient(KEY).with_options(prices=usd).prices is usd
    assert MimoClient(KEY, model="my-own-model").prices is None  # none shipped: no invented cost


@pytest.mark.parametrize("kind", [MimoClient, AsyncMimoClient])
@pytest.mark.parametrize("name", [*OPTION_NAMES, "options"])
def test_assigning_or_deleting_an_option_raises_and_names_with_options(kind, name):
    client = kind(KEY, timeout=9)
    before = client.options
    with pytest.raises(ConfigurationError, match=r"is read-only") as info:
        setattr(client, name, 5)
    message = str(info.value)
    assert f"{kind.__name__}.{name} is read-only" in message
    expected = "client.with_options(...)" if name == "options" else f"with_options({name}=...)"
    assert expected in message and "5" not in message.replace(expected, "")
    with pytest.raises(ConfigurationError, match=r"is read-only"):
        delattr(client, name)
    assert client.options is before and client.timeout == 9.0  # nothing changed
    client.note = "a user's own attribute"  # other names are as on any object
    assert client.note == "a user's own attribute"


def test_the_options_mappings_are_read_only_copies_of_what_was_given():
    headers, lengths = {"x-trace": "t1"}, {"mimo-v2.5": 100_000}
    client = MimoClient(KEY, default_headers=headers, context_lengths=lengths)
    headers["Authorization"] = "Bearer late"  # the caller's dicts are not the client's
    lengths["mimo-v2.5"] = 1
    assert client.default_headers == {"x-trace": "t1"}
    assert client.context_lengths == {"mimo-v2.5": 100_000}
    with pytest.raises(TypeError):
        client.default_headers["Authorization"] = "Bearer sk-unredacted"  # type: ignore[index]
    with pytest.raises(TypeError):
        client.context_lengths["mimo-v2.5"] = 1  # type: ignore[index]


def test_with_options_keeps_the_key_out_of_reprs_and_shares_only_the_connections(srv, monkeypatch):
    import copy
    import pickle

    secret = "Bearer sk-header-secret-77"
    client = make(srv, default_headers={"Authorization": secret, "x-trace": "t1"})
    quick = client.with_options(timeout=3, default_headers={"x-other": "o"})
    for shown in (client, quick, client.options, quick.options):
        for text in (repr(shown), str(shown)):
            assert KEY not in text and secret not in text and "sk-header" not in text
    assert "api_key=<set>" in repr(client.options) and "'Authorization': '***'" in repr(
        client.options
    )
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    assert "api_key=<missing>" in repr(MimoClient(base_url=srv.base_url).options)
    # Shared on purpose: the connections and the URL sizes learnt (the copy is the same service).
    assert quick._http is client._http and quick._url_sizes is client._url_sizes
    # Not shared: the options and their mappings, and the secrets each redacts.
    assert quick.options is not client.options
    assert quick.default_headers is not client.default_headers
    assert quick.context_lengths is client.context_lengths is None
    quick.ask(URL, "q")
    client.ask(URL, "q")
    first, second = srv.requests  # the POSTs (the HEAD probes are recorded apart)
    assert "x-other" in first.headers and "x-trace" not in first.headers
    assert "authorization" not in first.headers  # the copy's headers replaced the original's
    assert second.headers["x-trace"] == "t1" and "x-other" not in second.headers
    # Copies of the options themselves (copy, deepcopy, pickle) are equal and as guarded.
    for again in (
        copy.copy(client.options),
        copy.deepcopy(client.options),
        pickle.loads(pickle.dumps(client.options)),
    ):
        assert again == client.options and KEY not in repr(again) and secret not in repr(again)
        with pytest.raises(TypeError):
            again.default_headers["x"] = "y"  # type: ignore[index]


def test_the_types_show_the_options_read_only(tmp_path: Path, monkeypatch):
    """mypy reads tests/typecheck_client_options.py: each ``# E:`` line is an error saying so,
    every other line type-checks (the options' types, the read-only properties)."""
    import re

    from mypy import api

    path = Path(__file__).with_name("typecheck_client_options.py")
    expected = {
        number: words.strip()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for words in re.findall(r"  # E: (.+)$", line)  # a comment after code
    }
    monkeypatch.chdir(path.parent.parent)  # the project's config, and its mimo_nb, are read
    out, err, status = api.run(
        [str(path), "--no-error-summary", "--cache-dir", str(tmp_path / "mypy")]
    )
    found = {}
    for line in out.splitlines():
        match = re.match(r".*typecheck_client_options\.py:(\d+): error: (.*)$", line)
        assert match, f"an unexpected line from mypy: {line}\n{err}"
        found[int(match[1])] = match[2]
    assert sorted(found) == sorted(expected), out
    for number, words in expected.items():
        assert words in found[number], (number, found[number])
    assert status == 1 and len(expected) == 7
