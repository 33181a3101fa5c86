"""The hostile corpus of the asking side (issue 19): a server that omits usage, streams that bring
no answer, numbers that are no numbers, and concurrency far beyond the work.

Every HTTP test talks to a real server on 127.0.0.1 (MockMimoServer).
"""

from __future__ import annotations

import asyncio
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import mimo_nb as mn
import mimo_nb.corpus._sending as sending_module
from mimo_nb.api.pacing import Pacer
from mimo_nb.api.response import spec_example_json
from mimo_nb.core.pricing import cost_from_usage, estimate_text_tokens
from mimo_nb.media.samples import generate_clip
from mimo_nb.testing import Fault, MockMimoServer, sse_chunks

pytestmark = pytest.mark.timeout(180)

KEY = "sk-test-hostile-asking-0123456789"
PROMPT = "Describe the video."
CLIPS = 12
NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("asking")
    for i in range(CLIPS):
        generate_clip(
            root / f"clip{i:02}.mp4", duration=1, width=32, height=32, fps=5, preset="ultrafast"
        )
    return root


@pytest.fixture(scope="module")
def corpus(folder: Path) -> mn.Corpus:
    with ThreadPoolExecutor(2) as pool:  # threads: no process pool to guard
        return mn.Corpus.scan(folder, executor=pool, progress=False)


@pytest.fixture(scope="module")
def clip(folder: Path) -> Path:
    return folder / "clip00.mp4"


async def _ask(corpus: mn.Corpus, server: MockMimoServer, **kwargs: Any) -> Any:
    cache = kwargs.pop("cache", None)
    async with mn.AsyncMimoClient(
        KEY, base_url=server.base_url, max_retries=0, cache=cache
    ) as client:
        return await corpus.ask(client, PROMPT, fps=1, progress=False, **kwargs)


def _worst(client_prices: mn.Prices, prompt_tokens: int, budget: int = 1024) -> float:
    """The most one request can cost: its prompt and a full-length answer."""
    return mn.estimate_cost(prompt_tokens, client_prices, output_tokens=budget).total


# ---- Item 1: max_cost is a cap even when answers carry no usage ---------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_max_cost_caps_a_run_whose_answers_carry_no_usage(
    corpus: mn.Corpus, concurrency: int
) -> None:
    prices = mn.load_prices("mimo-v2.5", "CNY")  # the client's default prices
    prompt = int(corpus.video_tokens(1.0).max()) + estimate_text_tokens(PROMPT)
    worst = _worst(prices, prompt)
    assert len(set(corpus.video_tokens(1.0).tolist())) == 1  # every request costs the same
    budget = 3.5 * worst  # room for 3 requests at their reserved worst case
    with MockMimoServer(api_key=KEY, send_usage=False) as server:
        # output_tokens=0: the forecast expects tiny answers, so the run starts
        answers = asyncio.run(
            _ask(corpus, server, max_cost=budget, output_tokens=0, concurrency=concurrency)
        )
        assert all("usage" not in json.dumps(r.body) for r in server.requests)
        sent = len(server.requests)
    assert sent == 3  # before the fix: all 12, "spent 0.0000"
    assert answers.counts() == {"answered": 3, "skipped": CLIPS - 3}
    assert answers.spent == pytest.approx(3 * worst) and answers.spent <= budget
    table = answers.to_pandas()
    answered = table[table["status"] == "answered"]
    assert (
        answered["cost_reserved"].all()
        and not table.loc[table["status"] == "skipped", "cost_reserved"].any()
    )
    assert answered["cost"].tolist() == pytest.approx([worst] * 3)
    assert answered["prompt_tokens"].isna().all()  # no usage: no actual tokens to show
    summary = str(answers)
    assert f"spent {3 * worst:.4f} CNY" in summary and "3 came without usage" in summary
    page = answers._repr_html_()
    assert page.count("(reserved: no usage)") == 3 and "reserved worst case" in page


def test_usage_is_still_the_truth_when_it_comes(corpus: mn.Corpus) -> None:
    """The control: with usage the spend is the usage's cost, nothing is flagged."""
    prices = mn.load_prices("mimo-v2.5", "CNY")
    with MockMimoServer(api_key=KEY) as server:
        answers = asyncio.run(_ask(corpus[:2], server, concurrency=2))
    table = answers.to_pandas()
    usage = spec_example_json()["usage"]
    assert not table["cost_reserved"].any() and "without usage" not in str(answers)
    assert answers.spent == pytest.approx(2 * cost_from_usage(usage, prices).total)


def test_a_single_answer_without_usage_reports_its_reserved_cost(
    clip: Path, tmp_path: Path
) -> None:
    with MockMimoServer(api_key=KEY, send_usage=False) as server:
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0, cache=tmp_path) as client:
            done = client.ask(clip, PROMPT, fps=1, max_completion_tokens=500)
            streamed = client.ask(
                clip, "Again, streamed.", fps=1, max_completion_tokens=500, stream=True
            ).until_done()
            batch = client.map(
                [clip], prompt="In a batch.", fps=1, max_completion_tokens=500, progress=False
            )
            replayed = client.ask(clip, PROMPT, fps=1, max_completion_tokens=500)
        assert len(server.requests) == 3
    for answer in (done, streamed, batch[0].completion, replayed):
        assert answer is not None and answer.usage is None
        expected = _worst(client.prices, answer.estimate.prompt_tokens, 500)
        assert expected > 0 and answer.cost is not None
        assert answer.cost.total == pytest.approx(expected)
        assert answer.cost_reserved and answer.to_dict()["cost_reserved"] is True
        assert (
            "reserved worst case" in str(answer) and "reserved worst case" in answer._repr_html_()
        )
    assert replayed.origin == "cache"
    record = batch.to_records()[0]
    assert (
        record["cost"] == pytest.approx(batch[0].completion.cost.total) and record["cost_reserved"]
    )
    assert "(reserved: no usage)" in batch._repr_html_()


# ---- Item 4: a stream without an answer is interrupted, never cached -----------------------------


def _chunks() -> list[dict[str, Any]]:
    return sse_chunks(spec_example_json())


def _role_only() -> list[str]:
    return [json.dumps(_chunks()[0]), "[DONE]"]


def _usage_only() -> list[str]:
    return [json.dumps(_chunks()[-1]), "[DONE]"]


def _reasoning_only() -> list[str]:
    reasoning = [
        c for c in _chunks() if c["choices"] and "reasoning_content" in c["choices"][0]["delta"]
    ]
    return [json.dumps(c) for c in [_chunks()[0], *reasoning]] + ["[DONE]"]


EMPTY_STREAMS = {
    "only [DONE]": lambda: ["[DONE]"],
    "only a role chunk": _role_only,
    "only a usage chunk": _usage_only,
    "reasoning, no content, no finish reason": _reasoning_only,
}


@pytest.mark.parametrize("events", list(EMPTY_STREAMS), ids=list(EMPTY_STREAMS))
def test_a_stream_without_an_answer_raises_and_is_never_cached(
    clip: Path, tmp_path: Path, events: str
) -> None:
    with MockMimoServer(api_key=KEY) as server:
        server.script(Fault("events", body=EMPTY_STREAMS[events]()))
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0, cache=tmp_path) as client:
            stream = client.ask(clip, PROMPT, fps=1, stream=True)
            with pytest.raises(mn.StreamInterruptedError, match="without an answer") as caught:
                stream.until_done()
        assert caught.value.partial is not None and caught.value.partial.content == ""
        assert stream.completion is None
    assert len(mn.ResponseCache(tmp_path)) == 0
    with mn.MimoClient(KEY, cache=tmp_path, offline=True) as offline:
        with pytest.raises(mn.CacheMissError):
            offline.ask(clip, PROMPT, fps=1)  # nothing replays as a success


def test_an_async_stream_of_only_done_raises_and_is_never_cached(
    clip: Path, tmp_path: Path
) -> None:
    async def run(server: MockMimoServer) -> None:
        async with mn.AsyncMimoClient(
            KEY, base_url=server.base_url, max_retries=0, cache=tmp_path
        ) as client:
            stream = await client.ask(clip, PROMPT, fps=1, stream=True)
            with pytest.raises(mn.StreamInterruptedError, match="without an answer"):
                await stream.until_done()

    with MockMimoServer(api_key=KEY) as server:
        server.script(Fault("events", body=["[DONE]"]))
        asyncio.run(run(server))
    assert len(mn.ResponseCache(tmp_path)) == 0


def test_a_finished_stream_with_empty_content_is_a_complete_answer(
    clip: Path, tmp_path: Path
) -> None:
    """The boundary of the rule: a finish reason makes an answer complete (a "length" answer whose
    budget went on reasoning), so it is returned and cached."""
    chunks = _chunks()
    finished = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    finished[0]["choices"][0]["finish_reason"] = "length"
    with MockMimoServer(api_key=KEY) as server:
        server.script(
            Fault("events", body=[json.dumps(chunks[0]), json.dumps(finished[0]), "[DONE]"])
        )
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0, cache=tmp_path) as client:
            done = client.ask(clip, PROMPT, fps=1, stream=True).until_done()
    assert done.content == "" and done.finish_reason == "length"
    assert len(mn.ResponseCache(tmp_path)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"choices": [{"message": {"role": "assistant", "content": None}}]},
        {"choices": [{"message": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    ],
    ids=["null content", "empty content"],
)
def test_a_plain_answer_without_content_or_finish_reason_is_refused_and_not_cached(
    clip: Path, tmp_path: Path, body: dict[str, Any]
) -> None:
    with MockMimoServer(api_key=KEY) as server:
        server.script(Fault("body", body=body))
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0, cache=tmp_path) as client:
            with pytest.raises(
                mn.APIResponseValidationError, match="a message with content, or a finish_reason"
            ):
                client.ask(clip, PROMPT, fps=1)
    assert len(mn.ResponseCache(tmp_path)) == 0


def test_an_empty_answer_already_in_a_cache_is_not_replayed(clip: Path, tmp_path: Path) -> None:
    """A cache written before the fix may hold an empty answer: it is ignored, never a success."""
    with mn.MimoClient(KEY, cache=tmp_path) as client:
        prepared = client.build_request(clip, PROMPT, fps=1)
    mn.ResponseCache(tmp_path).put(
        prepared.cache_material(),
        {"object": "chat.completion", "choices": [{"message": {"content": ""}}]},
    )
    with mn.MimoClient(KEY, cache=tmp_path, offline=True) as offline:
        with pytest.raises(mn.CacheMissError):
            offline.ask(clip, PROMPT, fps=1)
    with MockMimoServer(api_key=KEY) as server:  # online, it is asked again (and overwritten)
        with mn.MimoClient(KEY, base_url=server.base_url, max_retries=0, cache=tmp_path) as client:
            done = client.ask(clip, PROMPT, fps=1)
        assert done.origin == "live" and done.content and len(server.requests) == 1


# ---- Item 8: the pacing window and its sibling numbers -------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"window": INF},
        {"window": True},
        {"concurrency": True},
        {"max_cost": INF},
        {"max_cost": True},
        {"output_tokens": NAN},
        {"output_tokens": -5},
        {"output_tokens": INF},
    ],
    ids=repr,
)
def test_corpus_ask_refuses_numbers_that_are_no_numbers(
    corpus: mn.Corpus, options: dict[str, Any]
) -> None:
    (name,) = options
    with MockMimoServer(api_key=KEY) as server:
        with pytest.raises(mn.LimitError, match=f"^{name} must be"):
            asyncio.run(_ask(corpus, server, **options))
        assert server.requests == []


@pytest.mark.parametrize(
    "options",
    [{"window": INF}, {"window": True}, {"margin": NAN}, {"margin": INF}, {"margin": -1.0}],
    ids=repr,
)
def test_the_pacer_refuses_windows_that_never_end(options: dict[str, Any]) -> None:
    (name,) = options
    with pytest.raises(mn.LimitError, match=f"^{name} must be a finite number of seconds"):
        Pacer(requests_per_minute=1, **options)


@pytest.mark.parametrize(
    "options",
    [
        {"window": NAN},
        {"window": 0},
        {"window": -60.0},
        {"requests_per_minute": NAN},
        {"requests_per_minute": INF},
        {"requests_per_minute": True},
        {"requests_per_minute": 0},
        {"tokens_per_minute": NAN},
        {"tokens_per_minute": 10.0**6},
        {"tokens_per_minute": -1},
        {"concurrency": 0},
        {"concurrency": 2.0},
        {"max_cost": NAN},
        {"max_cost": -1.0},
    ],
    ids=repr,
)
def test_kept_corpus_ask_refuses_the_rest_of_its_numbers(
    corpus: mn.Corpus, options: dict[str, Any]
) -> None:
    """Refused before the fix too; kept so that they stay refused, with a LimitError."""
    (name,) = options
    with MockMimoServer(api_key=KEY) as server:
        with pytest.raises(mn.LimitError, match=f"^{name} must be"):
            asyncio.run(_ask(corpus, server, **options))
        assert server.requests == []


# ---- Item 9: per-call options are LimitErrors, checked once before anything -------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_completion_tokens": NAN}, "max_completion_tokens must be a positive integer"),
        ({"max_completion_tokens": 2.5}, "max_completion_tokens must be a positive integer"),
        ({"temperature": NAN}, "temperature must be a finite number"),
        ({"top_p": 2}, "top_p must be a number in"),
        ({"extra_body": {"seed": NAN}}, "JSON has no NaN"),
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"system": 3}, "system must be a string"),
    ],
    ids=repr,
)
def test_corpus_ask_refuses_bad_call_options_once_before_sending(
    corpus: mn.Corpus, options: dict[str, Any], message: str
) -> None:
    with MockMimoServer(api_key=KEY) as server:
        with pytest.raises(
            mn.LimitError, match=message
        ):  # before: a bare ValueError, or 12 error rows
            asyncio.run(_ask(corpus, server, **options))
        assert server.requests == []


def test_corpus_ask_refuses_an_empty_prompt_once(corpus: mn.Corpus) -> None:
    async def run(server: MockMimoServer) -> None:
        async with mn.AsyncMimoClient(KEY, base_url=server.base_url) as client:
            await corpus.ask(client, "  ", progress=False)

    with MockMimoServer(api_key=KEY) as server:
        with pytest.raises(mn.LimitError, match="prompt must be a non-empty string"):
            asyncio.run(run(server))
        assert server.requests == []


@pytest.mark.parametrize(
    "options",
    [{"max_completion_tokens": NAN}, {"temperature": NAN}, {"temperature": INF}, {"top_p": NAN}],
    ids=repr,
)
def test_kept_client_ask_refuses_bad_call_options(clip: Path, options: dict[str, Any]) -> None:
    """The single call already refused these with a LimitError; kept."""
    with MockMimoServer(api_key=KEY) as server:
        with mn.MimoClient(KEY, base_url=server.base_url) as client:
            with pytest.raises(mn.LimitError):
                client.ask(clip, PROMPT, **options)
        assert server.requests == []


# ---- Item 10: concurrency beyond the work starts no more workers than items ---------------------


class _CountingAsyncio:
    """``asyncio`` as the sender's worker queue sees it, counting the awaitables each gather
    is given."""

    def __init__(self) -> None:
        self.gathered: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def gather(self, *awaitables: Any, **kwargs: Any) -> Any:
        self.gathered.append(len(awaitables))
        return asyncio.gather(*awaitables, **kwargs)


def test_huge_concurrency_starts_no_more_workers_than_items(
    corpus: mn.Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _CountingAsyncio()
    monkeypatch.setattr(sending_module, "asyncio", spy)  # the one worker queue (Corpus.ask's too)
    with MockMimoServer(api_key=KEY) as server:
        answers = asyncio.run(_ask(corpus, server, concurrency=10**6))
        assert len(server.requests) == CLIPS
    assert answers.counts() == {"answered": CLIPS}
    assert spy.gathered and max(spy.gathered) <= CLIPS  # before: one gather of 10**6 workers
    assert math.isfinite(answers.spent) and answers.spent > 0
