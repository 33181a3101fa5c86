"""The official openai package, pointed at the same local server, gets the same answer."""

from __future__ import annotations

import pytest

from mimo_nb.api.client import MimoClient
from mimo_nb.api.response import Usage
from mimo_nb.testing import MockMimoServer

openai = pytest.importorskip("openai")

KEY = "compat-key"
SYSTEM = "You are MiMo, an AI assistant developed by Xiaomi."
URL = "https://example-files.cnbj1.mi-fds.com/example-files/video/video_example.mp4"
PROMPT = "please describe the content of the video"
MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {
        "role": "user",
        "content": [
            {
                "type": "video_url",
                "video_url": {"url": URL},
                "fps": 2,
                "media_resolution": "default",
            },
            {"type": "text", "text": PROMPT},
        ],
    },
]


@pytest.fixture(scope="module")
def srv():
    with MockMimoServer(api_key=KEY) as server:
        yield server


def mimo(srv) -> MimoClient:
    import httpx

    # the HEAD size probe would go to the example URL's host: answer it locally instead
    transport = httpx.HTTPTransport()

    class LocalOnly(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "HEAD":
                return httpx.Response(405)
            return transport.handle_request(request)

    return MimoClient(KEY, base_url=srv.base_url, transport=LocalOnly())


def test_same_body_and_same_answer(srv):
    srv.reset()
    ours = mimo(srv).ask(URL, PROMPT, system=SYSTEM)
    client = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=0)
    theirs = client.chat.completions.create(
        model="mimo-v2.5", messages=MESSAGES, max_completion_tokens=1024
    )

    mine, sdk = srv.requests
    assert (
        sdk.auth_scheme == "bearer"
        and mine.auth_scheme == "api-key"
        and sdk.auth_ok
        and mine.auth_ok
    )
    assert mine.body == sdk.body  # the JSON we send is the JSON the SDK sends
    message = theirs.choices[0].message
    assert message.content == ours.content
    assert (message.model_extra or {}).get("reasoning_content") == ours.reasoning_content
    assert theirs.choices[0].finish_reason == ours.finish_reason and theirs.id == ours.id
    assert Usage.from_dict(theirs.usage.model_dump()) == ours.usage


def test_same_streamed_answer(srv):
    srv.reset()
    ours = mimo(srv).ask(URL, PROMPT, system=SYSTEM, stream=True).until_done()
    client = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="mimo-v2.5",
            messages=MESSAGES,
            max_completion_tokens=1024,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
        for c in chunks
        if c.choices
    )
    assert content == ours.content and reasoning == ours.reasoning_content
    assert Usage.from_dict(chunks[-1].usage.model_dump()) == ours.usage
    mine, sdk = srv.requests
    assert mine.body == sdk.body


def test_sdk_sees_our_fault_injection_as_its_own_errors(srv):
    srv.reset()
    srv.script("401")
    client = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="mimo-v2.5", messages=MESSAGES)
