"""The request body: exactly the spec's, limits checked before sending, large files streamed."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from mimo_nb.api.client import MimoClient
from mimo_nb.api.request import (
    BASE64_LIMIT_BYTES,
    MIME_TYPES,
    base64_length,
    file_part,
    max_base64_file_bytes,
    mime_type_for,
    prepare_request,
    url_part,
)
from mimo_nb.core.tokens import explain_video_tokens
from mimo_nb.errors import ConfigurationError, ContextLengthError, LimitError, VideoError


def curl_bodies(text: str) -> list[dict]:
    """Every --data-raw JSON body of the spec page's curl examples."""
    return [json.loads(m) for m in re.findall(r"--data-raw '(\{.*?\})'", text, flags=re.S)]


def no_network() -> httpx.MockTransport:
    """A transport that answers HEAD with 404 (size unknown) and refuses everything else."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "HEAD", "tests never send to the real API"
        return httpx.Response(404)

    return httpx.MockTransport(handler)


@pytest.fixture()
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.mp4"
    path.write_bytes(bytes(range(256)) * 3 + b"\x01\x02")  # 770 bytes: not a multiple of 3
    return path


# ---- The spec's example, byte for byte in meaning --------------------------------------------


def test_body_for_the_spec_example_equals_the_curl_body(spec_page_text):
    spec = curl_bodies(spec_page_text)[0]
    system = spec["messages"][0]["content"]
    video = spec["messages"][1]["content"][0]
    prompt = spec["messages"][1]["content"][1]["text"]
    client = MimoClient(transport=no_network())  # no key needed for a dry run
    prepared = client.build_request(video["video_url"]["url"], prompt, system=system)
    assert prepared.json == spec
    assert json.loads(prepared.body_bytes()) == spec
    # numbers keep the spec's spelling: "fps": 2, not 2.0
    assert b'"fps":2,' in prepared.body_bytes()


def test_all_three_curl_examples_share_the_shape_we_build(spec_page_text):
    bodies = curl_bodies(spec_page_text)
    assert len(bodies) == 3
    base64_example = bodies[2]["messages"][1]["content"][0]
    assert base64_example["video_url"]["url"].startswith("data:{MIME_TYPE};base64,")
    assert set(base64_example) == {"type", "video_url", "fps", "media_resolution"}


def test_pure_builder_matches_client_builder():
    part = url_part("https://example.com/a.mp4", fps=0.5, media_resolution="max")
    body = prepare_request([part], "q", max_completion_tokens=50).json
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "video_url",
                    "video_url": {"url": "https://example.com/a.mp4"},
                    "fps": 0.5,
                    "media_resolution": "max",
                },
                {"type": "text", "text": "q"},
            ],
        }
    ]
    assert body["max_completion_tokens"] == 50 and "stream" not in body


# ---- Local files as data URIs ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["mp4", "mov", "avi", "wmv"])
def test_data_uri_has_the_right_mime_and_exact_base64(tmp_path: Path, suffix: str):
    data = os.urandom(1000)
    path = tmp_path / f"clip.{suffix}"
    path.write_bytes(data)
    body = json.loads(prepare_request([file_part(path)], "q").body_bytes())
    url = body["messages"][0]["content"][0]["video_url"]["url"]
    assert url == f"data:{MIME_TYPES[suffix]};base64,{base64.b64encode(data).decode()}"


def test_mime_types_follow_the_formats():
    assert mime_type_for("a.MP4") == "video/mp4"
    assert mime_type_for("mov") == "video/quicktime"
    assert mime_type_for("x.avi") == "video/x-msvideo"
    assert mime_type_for("x.wmv") == "video/x-ms-wmv"
    with pytest.raises(LimitError, match="MP4, MOV, AVI"):
        mime_type_for("clip.mkv")


@pytest.mark.parametrize("chunk", [3, 7, 300, 2**20])
def test_streamed_body_is_exact_whatever_the_chunk_size(tiny_file: Path, chunk: int):
    prepared = prepare_request([file_part(tiny_file), file_part(tiny_file)], "two videos ✓")
    streamed = b"".join(prepared.iter_body(chunk))
    assert len(streamed) == prepared.content_length
    assert json.loads(streamed) == prepared.json
    encoded = base64.b64encode(tiny_file.read_bytes()).decode()
    assert streamed.count(encoded.encode()) == 2


def test_display_elides_base64_but_json_has_it(tiny_file: Path):
    prepared = prepare_request([file_part(tiny_file)], "q")
    encoded = base64.b64encode(tiny_file.read_bytes()).decode()
    assert encoded not in str(prepared) and encoded not in prepared._repr_html_()
    assert "elided" in str(prepared) and "data:video/mp4;base64," in str(prepared)
    assert encoded in json.dumps(prepared.json)


def test_a_file_that_changes_while_sent_is_reported(tiny_file: Path):
    prepared = prepare_request([file_part(tiny_file)], "q")
    tiny_file.write_bytes(b"short")
    with pytest.raises(
        VideoError, match="changed after the request was built: it ended after 5 of"
    ) as info:
        prepared.body_bytes()
    assert info.value.reason == "changed"


def test_missing_file_is_a_video_error(tmp_path: Path):
    with pytest.raises(VideoError, match="cannot read"):
        file_part(tmp_path / "nope.mp4")


# ---- Limits ---------------------------------------------------------------------------------


def test_base64_arithmetic():
    assert [base64_length(n) for n in (0, 1, 2, 3, 4)] == [0, 4, 4, 4, 8]
    assert (
        base64_length(max_base64_file_bytes())
        <= BASE64_LIMIT_BYTES
        < base64_length(max_base64_file_bytes() + 1)
    )


def test_file_over_the_base64_limit_offers_video_fit(tmp_path: Path):
    path = tmp_path / "big.mp4"
    with open(path, "wb") as handle:  # sparse: 40 MB on paper, nothing on disk
        handle.truncate(40 * 2**20)
    with pytest.raises(
        LimitError, match=r"Video\.open\(.*\)\.fit\(fps=2, media_resolution='default'\)"
    ):
        file_part(path)
    file_part(path, size_bytes=max_base64_file_bytes())  # the largest that fits is accepted


def test_url_over_300_mb_is_refused():
    with pytest.raises(LimitError, match="300 MB"):
        url_part("https://example.com/a.mp4", size_bytes=301 * 2**20)


def test_client_checks_url_size_with_head():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(200, headers={"Content-Length": str(400 * 2**20)})

    client = MimoClient(transport=httpx.MockTransport(handler))
    with pytest.raises(LimitError, match="300 MB"):
        client.build_request("https://example.com/huge.mp4", "q")
    assert seen == ["HEAD"]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"fps": 0.05}, "fps"),
        ({"fps": 11}, "fps"),
        ({"fps": "fast"}, "fps"),
        ({"media_resolution": "high"}, "media_resolution"),
        ({"max_completion_tokens": 0}, "max_completion_tokens"),
        ({"extra_body": {"messages": []}}, "set by ask"),
    ],
)
def test_bad_arguments_raise_limit_error_before_any_io(kwargs, match):
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent for a bad argument")

    client = MimoClient(transport=httpx.MockTransport(handler))
    with pytest.raises(LimitError, match=match):
        client.build_request("https://example.com/a.mp4", "q", **kwargs)


def test_empty_prompt_and_no_videos_are_refused():
    client = MimoClient(transport=no_network())
    with pytest.raises(LimitError, match="prompt"):
        client.build_request("https://example.com/a.mp4", "  ")
    with pytest.raises(LimitError, match="at least one video"):
        client.build_request([], "q")
    with pytest.raises(LimitError, match="cannot send a int"):
        client.build_request(42, "q")


def test_context_check_of_the_core_is_applied():
    big = explain_video_tokens(600, 1920, 1080, fps=10, media_resolution="max")
    part = url_part("https://example.com/a.mp4", breakdown=big)
    with pytest.raises(ContextLengthError) as info:
        prepare_request([part], "q", context_lengths={"mimo-v2.5": 100_000})
    assert info.value.needed > info.value.limit == 100_000
    assert prepare_request([part], "q").context.fits is None  # unknown context: no check


def test_extra_fields_and_streaming_flags():
    part = url_part("https://example.com/a.mp4")
    body = prepare_request(
        [part], "q", stream=True, extra={"temperature": 0.2, "thinking": {"type": "disabled"}}
    ).json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2 and body["thinking"] == {"type": "disabled"}
    assert (
        "stream_options"
        not in prepare_request([part], "q", stream=True, extra={"stream_options": None}).json
    )


def test_cache_material_replaces_files_by_their_hash(tiny_file: Path, tmp_path: Path):
    copy_ = tmp_path / "copy.mp4"
    copy_.write_bytes(tiny_file.read_bytes())
    a = prepare_request([file_part(tiny_file)], "q").cache_material()
    b = prepare_request([file_part(copy_)], "q", stream=True).cache_material()
    assert a == b  # same bytes, another path, streamed or not: the same request
    assert "base64" not in json.dumps(a)


def test_dry_run_needs_no_key_but_sending_does(tiny_file: Path):
    client = MimoClient(transport=no_network())
    assert "api_key=<missing>" in repr(client)
    prepared = client.build_request("https://example.com/a.mp4", "q")
    with pytest.raises(ConfigurationError, match="MIMO_API_KEY"):
        client.send(prepared)


# ---- Integration with mimo_nb.media.video --------------------------------------------------------


@pytest.fixture(scope="module")
def sample_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    samples = pytest.importorskip("mimo_nb.media.samples")
    return samples.generate_clip(
        tmp_path_factory.mktemp("req") / "clip.mov", duration=1, width=160, height=120
    )


def test_local_path_is_probed_and_estimated(sample_clip: Path):
    pytest.importorskip("mimo_nb.media.video")
    from mimo_nb.media.video import Video

    client = MimoClient(transport=no_network())
    prepared = client.build_request(sample_clip, "q", fps=4)
    video = Video.open(sample_clip)
    assert prepared.estimate.videos == (video.estimate(fps=4),)
    url = prepared.json["messages"][0]["content"][0]["video_url"]["url"]
    assert url.startswith("data:video/quicktime;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == sample_clip.read_bytes()
    from_bytes = client.build_request(sample_clip.read_bytes(), "q", fps=4)
    assert from_bytes.estimate.videos[0].total == video.estimate(fps=4).total


def test_a_part_and_a_video_share_one_file_state_check(tmp_path):
    """A rewrite that keeps the size is caught by both (size, modification time, inode)."""
    from mimo_nb.media.files import FileState

    path = tmp_path / "a.mp4"
    path.write_bytes(b"x" * 30)
    part = file_part(path)
    assert part.state == FileState.of(path)
    part.check_unchanged()
    os.utime(path, ns=(0, 0))  # same bytes, same size: only the modification time moves
    with pytest.raises(VideoError, match="modified since") as info:
        part.check_unchanged()
    assert info.value.reason == "changed"


def test_the_payload_is_pure_and_the_api_streams_it():
    from mimo_nb.core import payload

    body = payload.request_body([("https://example.com/a.mp4", 2.0, "max")], "q", stream=True)
    part = url_part("https://example.com/a.mp4", fps=2, media_resolution="max")
    assert prepare_request([part], "q", stream=True).json == body
    assert payload.with_stream(body, True) is body and "stream" not in payload.with_stream(
        body, False
    )


def test_one_data_uri_helper():
    from mimo_nb.core.limits import data_uri, data_uri_prefix
    from mimo_nb.media import imaging

    image = np.zeros((4, 4, 3), np.uint8)
    assert imaging.png_data_uri(image) == data_uri(imaging.encode_png(image), "image/png")
    assert data_uri(b"abc", "video/mp4") == data_uri_prefix("video/mp4") + "YWJj"
