"""Batches: a concurrency limit, per-item errors collected, records and DataFrames."""

from __future__ import annotations

import asyncio

import pytest

from mimo_nb.api.client import AsyncMimoClient, BatchResult, MimoClient
from mimo_nb.errors import LimitError
from mimo_nb.testing import MockMimoServer

KEY = "batch-key"


@pytest.fixture(scope="module")
def server():
    with MockMimoServer(api_key=KEY, delay=0.05) as srv:
        yield srv


@pytest.fixture()
def srv(server):
    server.reset()
    return server


def urls(n: int) -> list[str]:
    return [f"https://example.com/clip{i}.mp4" for i in range(n)]


def items_with_one_bad() -> list:
    good = urls(5)
    return [
        good[0],
        {"videos": good[1], "prompt": "own prompt"},
        {"videos": good[2], "fps": 99},
        (good[3], "pair prompt"),
        good[4],
    ]


def check(result: BatchResult) -> None:
    assert len(result) == 5
    assert [item.ok for item in result] == [True, True, False, True, True]
    assert isinstance(result[2].error, LimitError) and result.errors == [result[2]]
    assert result[1].label == "https://example.com/clip1.mp4"
    records = result.to_records()
    assert [r["index"] for r in records] == list(range(5))
    assert records[2]["error_type"] == "LimitError" and "fps" in records[2]["error"]
    assert records[0]["usage_video_tokens"] == 1144 and records[0]["content"]


def test_map_collects_errors_and_keeps_order(srv):
    client = MimoClient(KEY, base_url=srv.base_url)
    result = client.map(items_with_one_bad(), prompt="common prompt", concurrency=3, progress=False)
    check(result)
    prompts = sorted(r.body["messages"][0]["content"][-1]["text"] for r in srv.requests)
    assert prompts == ["common prompt", "common prompt", "own prompt", "pair prompt"]
    assert 1 < srv.max_in_flight <= 3


def test_amap_collects_errors_and_respects_the_limit(srv):
    async def main():
        async with AsyncMimoClient(KEY, base_url=srv.base_url) as client:
            return await client.map(
                items_with_one_bad() * 2, prompt="p", concurrency=4, progress=False
            )

    result = asyncio.run(main())
    assert len(result) == 10 and len(result.errors) == 2
    assert 1 < srv.max_in_flight <= 4


def test_server_faults_are_per_item(srv):
    srv.script("401")  # the first request fails for good (not retried); the rest succeed
    result = MimoClient(KEY, base_url=srv.base_url).map(
        urls(4), prompt="p", concurrency=1, progress=False
    )
    assert [item.ok for item in result] == [False, True, True, True]
    assert result.to_records()[0]["error_type"] == "AuthenticationError"


def test_dataframe_and_argument_errors(srv):
    pd = pytest.importorskip("pandas")
    result = MimoClient(KEY, base_url=srv.base_url).map(urls(2), prompt="p", progress=False)
    frame = result.to_dataframe()
    assert isinstance(frame, pd.DataFrame) and list(frame["usage_audio_tokens"]) == [19, 19]
    missing = MimoClient(KEY, base_url=srv.base_url).map(
        urls(1), progress=False
    )  # no prompt anywhere
    assert "prompt" in str(missing[0].error)
    with pytest.raises(LimitError):
        MimoClient(KEY, base_url=srv.base_url).map(urls(1), prompt="p", concurrency=0)
