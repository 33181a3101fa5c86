"""Forecasts, Corpus.ask's budget and mn.sweep follow the client's server profile: under a
self-hosted server's profile every number is the client's own per-request estimate summed; under
the hosted API's nothing changes. Asking goes to the stand-in on 127.0.0.1 (a test double)."""

from __future__ import annotations

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mimo_nb as mn
from mimo_nb.core.payload import RequestEstimate
from mimo_nb.core.pricing import estimate_text_tokens
from mimo_nb.core.profiles import PROFILES, Profile
from mimo_nb.corpus.sweep import SweepResult, asweep, check_tasks
from mimo_nb.media.samples import generate_clip
from mimo_nb.testing import MockMimoServer

pytestmark = pytest.mark.timeout(180)

KEY = "sk-test-profiles-0123456789"
PROMPT = "What happens in the video?"
FPS = [0.5, 2.0]
# name -> (duration, width, height, audio): sizes the servers resize differently from the API
CLIPS = {
    "a.mp4": (1.0, 64, 48, True),
    "b.mp4": (2.0, 96, 64, False),
    "c.mp4": (3.0, 320, 180, True),
}
SERVER_PROFILES: list[str | Profile] = [
    "mimo-vl",
    "sglang-mimo-v2",
    "qwen3-vl",
    dataclasses.replace(PROFILES["qwen3-vl"], longest_edge=64 * 32 * 32),  # a custom setup
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiles")
    for name, (duration, width, height, audio) in CLIPS.items():
        generate_clip(root / name, duration, width, height, fps=10, audio=audio, preset="ultrafast")
    return root


@pytest.fixture(scope="module")
def corpus(folder: Path) -> mn.Corpus:
    with ThreadPoolExecutor(2) as pool:
        return mn.Corpus.scan(folder, executor=pool, progress=False)


def _estimates(
    asked: list[tuple[Path, str]], profile: str | Profile, fps: float
) -> list[RequestEstimate]:
    """The estimate of the client's own request for each (video, prompt) under ``profile``
    (nothing is sent)."""

    async def go() -> list[RequestEstimate]:
        async with mn.AsyncMimoClient(KEY, base_url="http://127.0.0.1:9", profile=profile) as c:
            return [(await c.build_request(v, text, fps=fps)).estimate for v, text in asked]

    return asyncio.run(go())


def _client_estimates(folder: Path, profile: str | Profile, fps: float) -> list[RequestEstimate]:
    return _estimates([(folder / n, PROMPT) for n in sorted(CLIPS)], profile, fps)


@pytest.mark.parametrize("profile", SERVER_PROFILES, ids=["vl", "sglang", "qwen3", "custom"])
def test_a_server_profiles_forecast_is_the_sum_of_the_clients_own_estimates(
    corpus: mn.Corpus, folder: Path, profile: str | Profile
) -> None:
    forecast = corpus.forecast(FPS, prompt=PROMPT, output_tokens=10, profile=profile)
    api = corpus.forecast(FPS, prompt=PROMPT, output_tokens=10)
    name = profile if isinstance(profile, str) else profile.name
    assert forecast.profile == name and api.profile == "mimo-api"
    for row, api_row in zip(forecast.rows, api.rows, strict=True):
        estimates = _client_estimates(folder, profile, row["fps"])
        assert {e.profile for e in estimates} == {name}
        assert row["prompt_tokens"] == sum(e.prompt_tokens for e in estimates)
        assert row["vision_tokens"] == sum(e.video_tokens for e in estimates)
        assert row["frames"] == sum(v.frames for e in estimates for v in e.videos)  # type: ignore[union-attr]
        assert row["largest_video_tokens"] == max(
            e.prompt_tokens - e.text_tokens for e in estimates
        )
        assert row["audio_tokens"] is None and row["refused"] == 0  # a server's audio: not counted
        assert row["prompt_tokens"] != api_row["prompt_tokens"]  # the API's formula differs here
        per_video = corpus.video_tokens(row["fps"], profile=profile)
        assert per_video.tolist() == [e.prompt_tokens - e.text_tokens for e in estimates]
    assert f"by profile {name!r}" in repr(forecast)
    html = forecast._repr_html_()
    assert f"profile &#x27;{name}&#x27;" in html or f"profile '{name}'" in html
    assert "not counted" in html and "spec's formula" not in html


def test_the_hosted_apis_forecast_is_unchanged(corpus: mn.Corpus, folder: Path) -> None:
    default = corpus.forecast(FPS, ["default", "max"], prompt=PROMPT)
    named = corpus.forecast(FPS, ["default", "max"], prompt=PROMPT, profile="mimo-api")
    pd.testing.assert_frame_equal(default.to_pandas(), named.to_pandas())
    assert "refused" not in default.to_pandas().columns and default.profile == "mimo-api"
    for row in default.rows[: len(FPS)]:  # media_resolution "default": the client's numbers
        estimates = _client_estimates(folder, "mimo-api", row["fps"])
        assert row["prompt_tokens"] == sum(e.prompt_tokens for e in estimates)
        assert row["audio_tokens"] > 0  # the API counts audio
    assert "spec's formula" in default._repr_html_() and "by profile" not in repr(default)
    choice = corpus.max_fps(tokens=10**9, output_tokens=0)
    assert choice.profile == "mimo-api" and "profile" not in str(choice)
    server = corpus.max_fps(tokens=10**9, output_tokens=0, profile="mimo-vl")
    assert server.curve != choice.curve and "(by profile 'mimo-vl')" in str(server)


async def _ask(corpus: mn.Corpus, server: MockMimoServer, profile: str, **kwargs: object):
    async with mn.AsyncMimoClient(KEY, base_url=server.base_url, max_retries=0) as client:
        chosen = client.with_options(profile=profile)
        return await corpus.ask(chosen, PROMPT, progress=False, output_tokens=0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fps", FPS)
def test_max_cost_caps_on_the_profiles_numbers(corpus: mn.Corpus, fps: float) -> None:
    # qwen3-vl's server spends more than the API's formula on these clips at fps 0.5 and less
    # at fps 2: a cap between the two refuses exactly the run whose own numbers are over it.
    with MockMimoServer(api_key=KEY) as server:
        plans = {
            p: asyncio.run(_ask(corpus, server, p, fps=fps, dry_run=True))
            for p in ("mimo-api", "qwen3-vl")
        }
        assert server.requests == []
        cost = {p: a.forecast_cost for p, a in plans.items()}
        assert cost["mimo-api"] != cost["qwen3-vl"]
        prices = mn.AsyncMimoClient(KEY).prices
        for p, answers in plans.items():  # the ask's forecast is the corpus's forecast
            forecast = corpus.forecast(
                fps, prompt=PROMPT, output_tokens=0, prices=prices, profile=p
            )
            assert answers.forecast_cost == pytest.approx(forecast.rows[0]["cost"])
            assert answers.est_prompt_tokens.sum() == forecast.rows[0]["prompt_tokens"]
        over, under = sorted(cost, key=cost.__getitem__, reverse=True)
        cap = (cost[over] + cost[under]) / 2
        one_token = {"max_completion_tokens": 1}  # its worst case is then its forecast
        with pytest.raises(mn.LimitError, match="over max_cost"):
            asyncio.run(_ask(corpus, server, over, fps=fps, max_cost=cap, **one_token))
        assert server.requests == []  # refused before anything was sent, on its own numbers
        # not refused: it starts sending (the stand-in's canned usage may then stop it early)
        answers = asyncio.run(_ask(corpus, server, under, fps=fps, max_cost=cap, **one_token))
        assert len(server.requests) >= 1 and answers.counts().get("answered", 0) >= 1
    assert (over, under) == (("qwen3-vl", "mimo-api") if fps == 0.5 else ("mimo-api", "qwen3-vl"))
    assert answers.settings["profile"] == under
    assert ("tokens by profile" in str(answers)) == (under != "mimo-api")


def test_a_video_the_server_would_reject_counts_nothing(tmp_path: Path) -> None:
    generate_clip(tmp_path / "one.mp4", 0.1, 64, 48, fps=10, audio=False, preset="ultrafast")
    generate_clip(tmp_path / "two.mp4", 2.0, 64, 48, fps=10, audio=False, preset="ultrafast")
    with ThreadPoolExecutor(2) as pool:
        corpus = mn.Corpus.scan(tmp_path, executor=pool, progress=False)
    assert corpus.to_pandas()["native_frame_count"].tolist() == [1, 20]
    row = corpus.forecast(2, prompt=PROMPT, output_tokens=0, profile="mimo-vl").rows[0]
    assert row["refused"] == 1 and row["videos"] == 2
    with pytest.raises(mn.LimitError, match="smart_nframes"):  # the client refuses it too

        async def one() -> None:
            async with mn.AsyncMimoClient(
                KEY, base_url="http://127.0.0.1:9", profile="mimo-vl"
            ) as c:
                await c.build_request(tmp_path / "one.mp4", PROMPT, fps=2)

        asyncio.run(one())
    video = mn.Video.open(tmp_path / "two.mp4").estimate(2, profile="mimo-vl")
    assert row["prompt_tokens"] == video.counted + 2 * estimate_text_tokens(PROMPT)


def test_a_table_without_frame_counts_cannot_be_forecast_by_a_server(corpus: mn.Corpus) -> None:
    table = corpus.to_pandas()[["path", "duration", "width", "height", "has_audio"]]
    bare = mn.Corpus.from_pandas(table)
    assert bare.forecast(2).rows[0]["prompt_tokens"] == corpus.forecast(2).rows[0]["prompt_tokens"]
    with pytest.raises(mn.LimitError, match=r"3 rows of this table have none.*Corpus\.scan"):
        bare.forecast(2, profile="sglang-mimo-v2")


# ---- mn.sweep(profile=...) --------------------------------------------------------------------


def _tasks(folder: Path) -> list[dict[str, object]]:
    return [
        {
            "id": name,
            "video": folder / name,
            "question": "What does the counter read at the start?",
            "expected": "0",
        }
        for name in sorted(CLIPS)
    ]


def test_a_sweep_with_a_profile_forecasts_by_it_and_records_it(folder: Path) -> None:
    tasks = _tasks(folder)
    scorer = "regex:reads (\\d+)"
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        client = mn.MimoClient(KEY, base_url=server.base_url, max_retries=0)
        with client:
            result = mn.sweep(
                client, tasks, fps=FPS, scorer=scorer, profile="qwen3-vl", progress=False
            )
            plain = mn.sweep(client, tasks, fps=FPS, scorer=scorer, progress=False)
        assert len(server.requests) == 2 * len(tasks) * len(FPS)

        async def own() -> SweepResult:  # profile=None: the client's own
            async with mn.AsyncMimoClient(KEY, base_url=server.base_url, profile="mimo-vl") as a:
                return await asweep(a, tasks[:1], fps=2, scorer=scorer, progress=False)

        assert asyncio.run(own()).profile == "mimo-vl"
    assert result.profile == "qwen3-vl" and plain.profile == "mimo-api"
    table = result.to_pandas()
    asked = [(Path(str(t.video)), t.prompt) for t in check_tasks(tasks)]
    for row, api_row in zip(result.forecast, plain.forecast, strict=True):
        estimates = _estimates(asked, "qwen3-vl", row["fps"])
        mine = table[table["fps"] == row["fps"]]
        # each task's own request under the profile, as the sweep estimated and forecast it
        assert mine["est_prompt_tokens"].tolist() == [e.prompt_tokens for e in estimates]
        assert row["prompt_tokens"] == sum(e.prompt_tokens for e in estimates)
        assert row["prompt_tokens"] == mine["est_prompt_tokens"].sum()
        assert row["cost"] == pytest.approx(mine["est_cost"].sum())
        assert row["prompt_tokens"] != api_row["prompt_tokens"]
    assert set(result.summary()["profile"]) == {"qwen3-vl"}
    assert "profile" not in plain.summary().columns
    html = result._repr_html_()
    assert "by profile <b>qwen3-vl</b>" in html and "(by profile &#x27;qwen3-vl&#x27;)" in html
    assert "mimo-sweep-profile" not in plain._repr_html_()
    assert "profile 'qwen3-vl'" in repr(result) and "profile" not in repr(plain)
    assert np.array_equal(
        result.to_pandas()["correct"].fillna(False), plain.to_pandas()["correct"].fillna(False)
    )  # the stand-in's answers do not depend on the estimate


def test_a_sweep_refuses_a_profile_it_does_not_know(folder: Path) -> None:
    with pytest.raises(mn.MimoError, match="not one we know"):
        asyncio.run(
            asweep(
                mn.AsyncMimoClient(KEY, base_url="http://127.0.0.1:9"),
                _tasks(folder),
                profile="vllm-guess",
                progress=False,
            )
        )
