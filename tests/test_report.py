"""The HTML report: self-contained, deterministic, escaped, honest about dry runs."""

from __future__ import annotations

import re
import socket
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from mimo_nb.api.client import MimoClient
from mimo_nb.api.response import spec_example_json
from mimo_nb.core.pricing import load_prices
from mimo_nb.display.report import (
    DRY_RUN_LABEL,
    build_report,
    collect_report,
    render_report,
    write_report,
)
from mimo_nb.errors import LimitError, VideoError
from mimo_nb.media.samples import generate_clip
from mimo_nb.testing import MockMimoServer

SECTIONS = ["video", "frames", "tokens", "curves", "cost", "answer"]


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_clip(
        tmp_path_factory.mktemp("report") / "clip.mp4", duration=2.0, width=192, height=144
    )


@pytest.fixture(scope="session")
def dry_html(clip: Path) -> str:
    return build_report(clip, fps=2, send=False)


class _Tags(HTMLParser):
    """Every start tag with its attributes, to check what the page could load or run."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_sections_in_order(dry_html: str) -> None:
    positions = [dry_html.find(f"<section id='{name}'>") for name in SECTIONS]
    assert all(p > 0 for p in positions), dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)


def test_self_contained_nothing_to_load_or_run(dry_html: str) -> None:
    tags = _tags(dry_html)
    names = {t for t, _ in tags}
    assert not names & {"script", "link", "iframe", "object", "embed", "base"}
    images = [a for t, a in tags if t == "img"]
    assert (
        len(images) >= 8 + 3
    )  # 8 sampled frames (2 s at fps 2) and 3 plots, plus the card's strip
    assert all((a.get("src") or "").startswith("data:image/") for a in images)
    assert not any(k.startswith("on") for _, a in tags for k in a)  # no event handlers
    assert "default-src 'none'" in dry_html  # the page's CSP forbids loading anything else


def test_numbers_match_the_core(clip: Path, dry_html: str) -> None:
    from mimo_nb.media.video import Video

    b = Video.open(clip).estimate(fps=2)
    assert f"<b>{b.total:,}</b> tokens ({b.frames} frames at {b.width}x{b.height})" in dry_html
    assert dry_html.count("class='plot'") == 3


def test_dry_run_is_labelled_and_shows_the_request(dry_html: str) -> None:
    assert DRY_RUN_LABEL in dry_html
    assert "No <code>MIMO_API_KEY</code> is set, so nothing was sent" in dry_html
    assert "&quot;video_url&quot;" in dry_html and "&quot;fps&quot;: 2" in dry_html
    assert "base64 characters of clip.mp4 elided" in dry_html


def test_cost_cites_its_prices(dry_html: str) -> None:
    assert load_prices().citation.split(":")[0] in dry_html
    assert "lzwjava.github.io" in dry_html


def test_same_inputs_same_bytes(clip: Path, dry_html: str) -> None:
    assert build_report(clip, fps=2, send=False) == dry_html
    assert "generated" not in dry_html
    stamped = build_report(clip, fps=2, send=False, generated_at="2026-06-01 12:00")
    assert "generated 2026-06-01 12:00" in stamped


def test_no_key_means_dry_run_by_default(clip: Path) -> None:
    data = collect_report(clip, fps=1)  # conftest removes MIMO_API_KEY
    assert not data.sent and data.completion is None and data.error is None


def test_hostile_strings_are_escaped(clip: Path) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    text = build_report(clip, fps=1, send=False, prompt=evil, title=evil)
    assert "<script>" not in text and "onerror=alert" not in text.replace(
        "onerror=alert(2)&gt;", ""
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not any(t == "script" for t, _ in _tags(text))
    assert not any(k.startswith("on") for _, a in _tags(text) for k in a)


def test_answer_from_a_server_replaces_the_dry_run(clip: Path, tmp_path: Path) -> None:
    hostile = spec_example_json()
    hostile["choices"][0]["message"]["content"] = (
        "A cat. <script>alert('x')</script> [y](javascript:alert(1))"
    )
    with MockMimoServer(api_key="test-key", response=hostile) as server:
        client = MimoClient("test-key", base_url=server.base_url, max_retries=0)
        out = write_report(clip, tmp_path / "r.html", fps=1, client=client, send=True)
        assert len(server.requests) == 1
    text = out.read_text(encoding="utf-8")
    assert "The model was asked; its answer:" in text
    assert "A cat." in text
    assert DRY_RUN_LABEL not in text
    assert not any(t == "script" for t, _ in _tags(text))
    hrefs = [a.get("href") or "" for t, a in _tags(text) if t == "a"]
    assert not any(h.strip().lower().startswith("javascript") for h in hrefs)
    assert "test-key" not in text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failed_call_says_why_and_keeps_the_request(clip: Path) -> None:
    client = MimoClient(
        "secret-key-123", base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=0, timeout=5
    )
    data = collect_report(clip, fps=1, client=client, send=True)
    assert data.completion is None and data.error and "APIConnectionError" in data.error
    text = render_report(data)
    assert "The request failed" in text and DRY_RUN_LABEL in text
    assert "secret-key-123" not in text


def test_bad_knobs_fail_before_opening_the_file(tmp_path: Path) -> None:
    with pytest.raises(LimitError, match="fps"):
        build_report(tmp_path / "missing.mp4", fps=11)
    with pytest.raises(LimitError, match="media_resolution"):
        build_report(tmp_path / "missing.mp4", media_resolution="high")
    with pytest.raises(VideoError):
        build_report(tmp_path / "missing.mp4")


def test_long_video_grid_is_bounded(tmp_path: Path) -> None:
    clip = generate_clip(
        tmp_path / "long.mp4", duration=8.0, width=96, height=64, fps=10, audio=False
    )
    text = build_report(clip, fps=10, send=False, max_frames=12)
    frames = text.split("<section id='frames'>")[1].split("</section>")[0]
    assert "80 frames" in frames and "showing the first 12" in frames
    assert len(re.findall(r"<img ", frames)) == 12


# ---- The notebooks' live and replay paths, against the local stand-in server ----------------
# The committed notebooks are dry runs; these check the branches a user with a key takes. The
# stand-in answers with the spec page's recorded example: no model is involved.


def _run_notebook(source: Path, workdir: Path, env: dict[str, str]) -> Any:
    import os

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(source, as_version=4)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(workdir)}},
        ).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def _stdout(nb: Any) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_quickstart_sends_when_a_key_is_set(tmp_path: Path) -> None:
    with MockMimoServer(api_key="test-key") as server:
        nb = _run_notebook(
            NOTEBOOKS / "01_quickstart.ipynb",
            tmp_path,
            {"MIMO_API_KEY": "test-key", "MIMO_BASE_URL": server.base_url},
        )
        assert len(server.requests) == 1
    out = _stdout(nb)
    assert "MIMO_API_KEY is set: requests will be sent" in out
    assert "Sent: this is a live answer from mimo-v2.5." in out
    assert "Dry run: nothing was sent" not in out


def test_study_records_then_replays(tmp_path: Path) -> None:
    with MockMimoServer(api_key="test-key") as server:
        live = _run_notebook(
            NOTEBOOKS / "03_research_report.ipynb",
            tmp_path,
            {"MIMO_API_KEY": "test-key", "MIMO_BASE_URL": server.base_url},
        )
        assert len(server.requests) == 18
    assert "live: 18 answers, 0 failed" in _stdout(live)
    assert len(list((tmp_path / "assets" / "study_cache").glob("*/*.json"))) == 18
    assert len(list((tmp_path / "assets" / "study_clips").glob("*.mp4"))) == 3

    replay = _run_notebook(
        NOTEBOOKS / "03_research_report.ipynb",
        tmp_path,
        {"MIMO_API_KEY": "", "MIMO_BASE_URL": "http://127.0.0.1:9/v1"},
    )  # nothing listens
    out = _stdout(replay)
    assert "mode: replay (18 recorded responses" in out and "clips: recorded with the cache" in out
    assert "replay: 18 answers, 0 failed" in out


def test_a_file_over_the_base64_limit_still_gets_a_report_with_its_segments(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mimo_nb.api.request
    import mimo_nb.display.report

    small = 4000  # base64 characters: the 2 s clip is over it, as a 2-hour file is over 50 MB
    monkeypatch.setattr(mimo_nb.api.request, "BASE64_LIMIT_BYTES", small)
    monkeypatch.setattr(mimo_nb.display.report, "BASE64_LIMIT_BYTES", small)
    data = collect_report(clip, fps=2, send=False)
    assert data.over_limits and "over the 0 MB limit" in data.over_limits[0]
    assert data.request_text.startswith("One request cannot send this video:")
    assert data.error is None and data.segment_plan is not None
    html = render_report(data)
    assert "<section id='segments'>" in html and "class='mimo-band'" in html
    assert collect_report(clip, fps=2, send=True).error.startswith("LimitError")  # type: ignore[union-attr]
