"""The estimate attached to an answer follows the client's profile (local stand-in server)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from mimo_nb.api.client import AsyncMimoClient, MimoClient
from mimo_nb.core.pricing import estimate_text_tokens
from mimo_nb.core.profiles import PROFILES, ServerTokenBreakdown
from mimo_nb.core.tokens import TokenBreakdown
from mimo_nb.errors import ConfigurationError
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video

from server_fixtures import KEY, server, srv  # noqa: F401  (pytest fixtures)

PROMPT = "What happens in the video?"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s, 320x240 at 10 fps with a tone: 60 native frames."""
    return generate_clip(
        tmp_path_factory.mktemp("profile") / "clip.mp4", duration=6, width=320, height=240, fps=10
    )


def make(srv, **kwargs) -> MimoClient:
    return MimoClient(KEY, base_url=srv.base_url, timeout=10.0, retry_base_delay=0.001, **kwargs)


def test_default_client_estimates_with_the_api_formula(srv, clip: Path) -> None:
    client = make(srv)
    assert client.profile == "mimo-api"
    done = client.ask(clip, PROMPT, fps=2)
    video = Video.open(clip)
    (breakdown,) = done.estimate.videos
    assert isinstance(breakdown, TokenBreakdown) and breakdown == video.estimate(2.0, "default")
    assert done.estimate.profile == "mimo-api"
    assert done.estimate.audio_tokens == breakdown.audio_tokens > 0
    assert done.estimate.prompt_tokens == breakdown.total + estimate_text_tokens(PROMPT)


@pytest.mark.parametrize("name", ["mimo-vl", "sglang-mimo-v2", "qwen3-vl"])
def test_a_server_profile_makes_the_answers_estimate(srv, clip: Path, name: str) -> None:
    done = make(srv, profile=name).ask(clip, PROMPT, fps=2)
    video = Video.open(clip)
    expected = video.estimate(2.0, "default", profile=name)
    (breakdown,) = done.estimate.videos
    assert isinstance(breakdown, ServerTokenBreakdown) and breakdown == expected
    assert done.estimate.profile == name
    assert done.estimate.video_tokens == expected.vision
    assert done.estimate.prompt_tokens == expected.counted + estimate_text_tokens(PROMPT)
    assert done.estimate.audio_tokens is None  # the server's audio layout is not estimated
    rows = dict((field, (est, actual)) for field, est, actual in done.comparison())
    assert rows["video"][0] == expected.vision and rows["audio"][0] is None
    assert done.estimate.to_dict()["profile"] == name
    # The request itself is the same as for the API: fps and media_resolution on the part.
    part = srv.requests[-1].body["messages"][-1]["content"][0]
    assert (part["fps"], part["media_resolution"]) == (2, "default")


def test_the_profiles_disagree_on_this_clip(srv, clip: Path) -> None:
    """Not a tautology: the API's and MiMo-VL's vision tokens differ here."""
    api = make(srv).build_request(clip, PROMPT, fps=2).estimate
    vl = make(srv, profile="mimo-vl").build_request(clip, PROMPT, fps=2).estimate
    assert api.video_tokens != vl.video_tokens


def test_with_options_carries_the_profile(srv, clip: Path) -> None:
    client = make(srv, profile="mimo-vl")
    assert client.with_options(timeout=3).profile == "mimo-vl"
    other = client.with_options(profile="qwen3-vl")
    assert other.profile == "qwen3-vl" and client.profile == "mimo-vl"
    estimate = other.build_request(clip, PROMPT, fps=1).estimate
    assert estimate.videos[0] == Video.open(clip).estimate(1.0, profile="qwen3-vl")
    back = client.with_options(profile="mimo-api")
    assert back.build_request(clip, PROMPT).estimate.profile == "mimo-api"


def test_a_custom_profile_object_is_used_as_given(srv, clip: Path) -> None:
    small = replace(PROFILES["qwen3-vl"], longest_edge=64 * 32 * 32)
    estimate = make(srv, profile=small).build_request(clip, PROMPT, fps=2).estimate
    assert estimate.videos[0] == Video.open(clip).estimate(2.0, profile=small)
    assert estimate.videos[0] != Video.open(clip).estimate(2.0, profile="qwen3-vl")


def test_an_unknown_profile_is_refused_when_the_client_is_made(srv) -> None:
    with pytest.raises(ConfigurationError, match="mimo-api, mimo-vl, sglang-mimo-v2, qwen3-vl"):
        make(srv, profile="vllm")
    with pytest.raises(ConfigurationError, match="not one we know"):
        make(srv).with_options(profile="mimo")


def test_async_client_takes_the_profile_too(srv, clip: Path) -> None:
    async def ask() -> object:
        async with AsyncMimoClient(
            KEY, base_url=srv.base_url, timeout=10.0, profile="sglang-mimo-v2"
        ) as client:
            assert client.with_options(max_retries=0).profile == "sglang-mimo-v2"
            return await client.ask(clip, PROMPT, fps=2)

    done = asyncio.run(ask())
    assert done.estimate.videos[0] == Video.open(clip).estimate(2.0, profile="sglang-mimo-v2")
    assert done.estimate.profile == "sglang-mimo-v2"
