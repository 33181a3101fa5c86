"""Widgets driven in-process: move a control, check the grid, count, size, tokens and cost
follow."""

from __future__ import annotations

import asyncio
import re
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets
import pytest
from traitlets import TraitError

from mimo_nb.api.client import CompletionStream, StreamDelta
from mimo_nb.api.response import spec_example_completion
from mimo_nb.core.pricing import Prices, estimate_cost, load_prices
from mimo_nb.core.tokens import explain_video_tokens
from mimo_nb.display import render, widgets
from mimo_nb.errors import StreamInterruptedError, VideoError
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s, 320x240, 10 fps, with a tone: 60 native frames."""
    return generate_clip(
        tmp_path_factory.mktemp("ui") / "clip.mp4", duration=6, width=320, height=240, fps=10
    )


@pytest.fixture(scope="session")
def quickstart_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart's clip: 4 s, 320x240, 30 fps, with a tone."""
    return generate_clip(
        tmp_path_factory.mktemp("ui") / "quickstart.mp4", duration=4.0, width=320, height=240
    )


@pytest.fixture(scope="session")
def hd_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of 1280x720 without audio: big enough for default and max to differ."""
    return generate_clip(
        tmp_path_factory.mktemp("ui") / "hd.mp4",
        duration=1,
        width=1280,
        height=720,
        fps=10,
        audio=False,
        preset="ultrafast",
    )


def images(html: str) -> list[dict[str, str | None]]:
    found: list[dict[str, str | None]] = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                found.append(dict(attrs))

    P().feed(html)
    return found


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"<b>([\d,]+)</b>", text)]


def expected(video: Video, fps: float, resolution: str = "default"):
    return explain_video_tokens(
        video.duration, video.width, video.height, fps, resolution, mute=not video.has_audio
    )


def check_state(explorer: widgets.FrameExplorer, video: Video, fps: float, resolution: str) -> None:
    b = expected(video, fps, resolution)
    assert numbers(explorer.numbers.value)[0] == b.frames
    assert f"<b>{b.width} x {b.height}</b>" in explorer.numbers.value
    assert render.breakdown_html(b) == explorer.breakdown.value
    assert len(images(explorer.view.value)) == b.frames  # one thumbnail per sampled frame
    frames = explorer.frames()
    assert len(frames) == b.frames
    if explorer.size.value == "model":
        assert frames.array.shape[1:3] == (b.height, b.width)
    cost = estimate_cost(b, load_prices()).total
    assert f"{cost:.6f}" in explorer.cost.value


def from_browser(widget, **state) -> list[dict]:
    """Write ``state`` into ``widget`` as a front end does (a comm "update"); return what the kernel
    sent back."""
    sent: list[dict] = []
    # Widget._send, not comm.send: ipywidgets 8.0 drops messages before comm.send without a kernel.
    widget._send = lambda msg, buffers=None: sent.append(msg)
    try:
        widget._handle_msg(
            {
                "content": {"data": {"method": "update", "state": state, "buffer_paths": []}},
                "buffers": [],
            }
        )
    finally:
        del widget._send
    return [m for m in sent if m.get("method") == "update"]


def test_frame_explorer_follows_the_fps_slider(clip: Path) -> None:
    video = Video.open(clip)
    explorer = widgets.FrameExplorer(video, debounce=0)
    check_state(explorer, video, 2.0, "default")
    for fps in (0.5, 4.0, 10.0, 0.1):
        explorer.fps.value = fps
        check_state(explorer, video, fps, "default")
    assert expected(video, 10.0).frames == 60 and explorer.decodes == 5


# What JupyterLab's slider sends for the value it shows (0.1 + k * 0.1 in floats), and its
# neighbours.
BROWSER_FPS = [
    (2.0000000000000004, 2.0),
    (0.30000000000000004, 0.3),
    (1.2000000000000002, 1.2),
    (4.000000000000001, 4.0),
    (2.9999999999999996, 3.0),
    (9.999999999999998, 10.0),
]


@pytest.mark.parametrize("sent,shown", BROWSER_FPS)
def test_fps_from_the_browser_is_snapped_before_anything_is_computed(
    quickstart_clip: Path, sent: float, shown: float
) -> None:
    video = Video.open(quickstart_clip)
    explorer = widgets.FrameExplorer(video, debounce=0, fps=shown)
    echoed = from_browser(explorer.fps, value=sent)
    assert explorer.fps.value == shown and explorer.key()[0] == shown
    # Nothing is sent back: the browser shows the snapped value already, and an update would race
    # the user's next move (seen in JupyterLab: the slider jumped back while being dragged).
    assert echoed == []
    check_state(explorer, video, shown, "default")


def test_values_set_from_code_still_reach_the_browser(clip: Path) -> None:
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0)
    sent: list[dict] = []
    explorer.fps._send = lambda msg, buffers=None: sent.append(msg)
    explorer.fps.value = 3.0000000000000004
    assert sent == [{"method": "update", "state": {"value": 3.0}, "buffer_paths": []}]
    assert (
        from_browser(explorer.fps, value=4.5) == []
    )  # on the grid: nothing to correct, nothing sent


def test_quickstart_explorer_says_8_frames_after_the_browser_writes_back(
    quickstart_clip: Path,
) -> None:
    """The issue's case: FrameExplorer(video, fps=2) on the quickstart's 4 s clip, in JupyterLab."""
    video = Video.open(quickstart_clip)
    explorer = widgets.FrameExplorer(video, fps=2, debounce=0)
    from_browser(explorer.fps, value=0.1 + 19 * 0.1)  # == 2.0000000000000004
    b = explorer.estimate()
    assert b.frames == 8 and b.timestamps == 4 * 3 and numbers(explorer.numbers.value)[0] == 8
    assert len(images(explorer.view.value)) == 8 and "fps=2," in explorer.snapshot_html()


def test_fps_written_from_code_is_snapped_and_clamped(clip: Path) -> None:
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0, fps=2.0000000000000004)
    assert explorer.fps.value == 2.0
    explorer.fps.value = 0.30000000000000004
    assert explorer.fps.value == 0.3 and explorer.estimate().fps == 0.3
    explorer.fps.value = 2.04
    assert explorer.fps.value == 2.0  # the slider's grid is the API's 0.1 steps
    explorer.fps.value = 50
    assert explorer.fps.value == 10.0


@pytest.mark.parametrize(
    "value,step,start,snapped",
    [
        (2.0000000000000004, 0.1, 0.1, 2.0),
        (0.30000000000000004, 0.1, 0.0, 0.3),
        (59.99999999999999, 1, 0, 60.0),
        (0.1, 0.1, 0.1, 0.1),
        (10.000000000000002, 0.1, 0.1, 10.0),
        (2.25, 0.5, 0.0, 2.0),
        (17.5, 2.5, 0.0, 17.5),
    ],
)
def test_snap_to_step(value: float, step: float, start: float, snapped: float) -> None:
    assert widgets.snap_to_step(value, step, start) == snapped
    assert repr(widgets.snap_to_step(value, step, start)) == repr(
        snapped
    )  # the exact decimal, no noise


def test_token_cost_explorer_shows_the_lesson_numbers_after_the_browser_writes_back() -> None:
    """TokenCostExplorer(duration=60, fps=2): 60 s and 17,240 tokens, whatever noise arrives."""
    explorer = widgets.TokenCostExplorer(duration=60, fps=2, debounce=0)
    stops = list(explorer.duration._options_values)
    from_browser(explorer.duration, index=stops.index(60.0))  # a SelectionSlider sends an index
    from_browser(explorer.fps, value=2.0000000000000004)
    assert explorer.duration.value == 60.0 and explorer.duration.label == "60 s"
    assert numbers(explorer.numbers.value)[0] == 17240
    assert explorer.estimate().duration == 60.0 and "60 s, fps=2," in explorer.snapshot_html()
    explorer.duration.value = 59.99999999999999  # float noise from code lands on the stop it means
    assert explorer.duration.value == 60.0 and numbers(explorer.numbers.value)[0] == 17240
    explorer.fps.value = 0.30000000000000004
    assert explorer.estimate().fps == 0.3
    assert numbers(explorer.numbers.value)[0] == explain_video_tokens(60, 1920, 1080, 0.3).total


def test_duration_slider_stops_on_round_values() -> None:
    explorer = widgets.TokenCostExplorer(debounce=0)
    stops = list(explorer.duration._options_values)
    assert stops == sorted(stops) and all(float(d).is_integer() for d in stops)
    assert explorer.duration._options_labels[:4] == ("1 s", "2 s", "3 s", "5 s")
    assert (
        "10 min" in explorer.duration._options_labels
        and "1 h" not in explorer.duration._options_labels
    )
    for index in (0, len(stops) // 2, len(stops) - 1):
        from_browser(explorer.duration, index=index)
        assert explorer.estimate().duration == stops[index]
    with pytest.raises(TraitError, match="not a stop"):
        explorer.duration.value = 61.5
    own = widgets.TokenCostExplorer(duration=437, debounce=0)  # a lesson's own value becomes a stop
    assert (
        own.duration.value == 437.0
        and own.duration.label == "437 s"
        and own.estimate().duration == 437.0
    )
    assert "437 s, fps=2," in own.snapshot_html()


def test_sizes_from_the_browser_are_whole_pixels() -> None:
    explorer = widgets.TokenCostExplorer(debounce=0)
    explorer.preset.value = widgets.CUSTOM
    from_browser(explorer.width, value=1919.9999999999998)
    from_browser(explorer.height, value=1080.0000000000002)
    assert explorer.frame_size() == (1920, 1080)
    assert numbers(explorer.numbers.value)[0] == 17240


def test_frame_explorer_resolution_and_size_toggles(hd_clip: Path) -> None:
    video = Video.open(hd_clip)
    explorer = widgets.FrameExplorer(video, debounce=0)
    check_state(explorer, video, 2.0, "default")
    default_size = explorer.frames().array.shape
    explorer.media_resolution.value = "max"
    check_state(explorer, video, 2.0, "max")
    assert explorer.frames().array.shape != default_size  # 720p is over the default frame cap
    explorer.size.value = "native"
    assert explorer.frames().array.shape[1:3] == (720, 1280)
    assert numbers(explorer.numbers.value)[0] == expected(video, 2.0, "max").frames


def test_moving_back_does_not_decode_again(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video = Video.open(clip)
    explorer = widgets.FrameExplorer(video, debounce=0)
    explorer.fps.value = 5.0
    explorer.media_resolution.value = "max"
    explorer.media_resolution.value = "default"
    decodes = explorer.decodes
    grid_at_5 = explorer.view.value
    monkeypatch.setattr(video, "sample", lambda *a, **k: pytest.fail("decoded again"))
    explorer.fps.value = 2.0
    explorer.fps.value = 5.0
    assert explorer.decodes == decodes and explorer.view.value == grid_at_5


def test_cache_is_bounded(clip: Path) -> None:
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0, cache_size=2)
    for fps in (1.0, 3.0, 4.0):
        explorer.fps.value = fps
    assert len(explorer._cache) == 2
    assert (2.0, "default", "model", "mimo-api") not in explorer._cache
    assert (4.0, "default", "model", "mimo-api") in explorer._cache


def test_debounce_decodes_once_after_dragging(clip: Path) -> None:
    video = Video.open(clip)

    async def drag() -> tuple[int, int, str]:
        explorer = widgets.FrameExplorer(video, debounce=0.05)
        start = explorer.decodes
        for fps in (2.5, 3.0, 3.5, 4.0):  # a drag: four changes in quick succession
            explorer.fps.value = fps
        during = explorer.decodes
        # numbers follow at once, the grid waits
        assert numbers(explorer.numbers.value)[0] == expected(video, 4.0).frames
        assert explorer.status.value == "updating…"
        await asyncio.sleep(0.3)
        return during - start, explorer.decodes - start, explorer.view.value

    during, after, grid = asyncio.run(drag())
    assert during == 0 and after == 1
    assert len(images(grid)) == expected(video, 4.0).frames


def test_flush_runs_a_pending_decode(clip: Path) -> None:
    async def go() -> int:
        explorer = widgets.FrameExplorer(Video.open(clip), debounce=10)
        explorer.fps.value = 3.0
        assert explorer._debouncer.pending
        explorer.flush()
        return len(images(explorer.view.value))

    assert asyncio.run(go()) == expected(Video.open(clip), 3.0).frames


def test_progress_appears_only_for_slow_decodes(clip: Path) -> None:
    seen: list[int] = []
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0, progress_after=3600)
    explorer.progress.observe(lambda c: seen.append(c["new"]), names="value")
    explorer.fps.value = 3.0
    assert seen == []  # fast decode: no bar
    explorer.progress_after = 0.0
    explorer.fps.value = 6.0
    assert seen and seen[-1] == explorer.progress.max  # counted up to the end
    assert explorer.progress.layout.visibility == "hidden"  # and hidden again


def test_decode_errors_show_in_the_grid(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video = Video.open(clip)
    explorer = widgets.FrameExplorer(video, debounce=0)

    def broken(*args, **kwargs):
        raise VideoError("the file is truncated; re-encode it", reason="truncated")

    monkeypatch.setattr(video, "sample", broken)
    explorer.fps.value = 7.0
    assert "VideoError" in explorer.view.value and "truncated" in explorer.view.value
    assert numbers(explorer.numbers.value)[0] == expected(video, 7.0).frames  # numbers still right


def test_snapshot_is_its_own_output_and_the_live_widget_hides_it(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0, fps=3.0)
    shown: list[dict] = []
    monkeypatch.setattr(
        widgets._engine, "_ipython_display", lambda obj, raw=False: shown.append(obj)
    )
    explorer._ipython_display_()
    snapshot, view = shown
    assert set(snapshot) == {"text/html", "text/plain"}
    html = snapshot["text/html"]
    assert len(images(html)) == expected(Video.open(clip), 3.0).frames
    assert explorer.breakdown.value in html and "static snapshot" in html
    marker = f"data-mimo-fallback-for='IPY_MODEL_{explorer.model_id}'"
    assert marker in html
    assert view["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    assert view["text/html"] == ""  # the snapshot is not repeated where no widget state was saved
    # The rule that hides the snapshot lives inside the widget: only a rendered widget applies it.
    hider = [
        c for c in explorer.children if isinstance(c, ipywidgets.HTML) and "<style>" in c.value
    ]
    assert (
        len(hider) == 1
        and f"[data-mimo-fallback-for='IPY_MODEL_{explorer.model_id}']" in hider[0].value
    )
    assert "display:none" in hider[0].value and render.EXPLORER_CLASS in explorer._dom_classes


def test_token_cost_explorer_follows_its_controls() -> None:
    explorer = widgets.TokenCostExplorer(debounce=0)
    assert numbers(explorer.numbers.value)[0] == explain_video_tokens(60, 1920, 1080).total == 17240
    drawn = explorer.plots_drawn
    explorer.duration.value = 600
    explorer.fps.value = 5.0
    explorer.preset.value = "720p portrait"
    assert explorer.frame_size() == (720, 1280) and explorer.width.disabled
    explorer.media_resolution.value = "max"
    explorer.mute.value = True
    b = explain_video_tokens(600, 720, 1280, 5.0, "max", mute=True)
    assert b.audio == 0
    assert numbers(explorer.numbers.value)[0] == b.total
    assert render.breakdown_html(b) == explorer.breakdown.value
    assert explorer.plots_drawn > drawn
    (img,) = images(explorer.view.value)
    assert img["src"].startswith("data:image/png;base64,")


def test_token_cost_explorer_plot_is_cached() -> None:
    explorer = widgets.TokenCostExplorer(debounce=0)
    first = explorer.view.value
    explorer.fps.value = 3.0
    drawn = explorer.plots_drawn
    explorer.fps.value = 2.0
    assert explorer.plots_drawn == drawn and explorer.view.value == first


def test_token_cost_explorer_custom_size_and_prices() -> None:
    prices = Prices(input=3, cached_input=1, output=6, currency="EUR", source="my quote")
    explorer = widgets.TokenCostExplorer(debounce=0, prices=prices)
    explorer.preset.value = widgets.CUSTOM
    assert not explorer.width.disabled
    explorer.width.value, explorer.height.value = 1000, 50
    b = explain_video_tokens(60, 1000, 50)
    assert numbers(explorer.numbers.value)[0] == b.total
    assert (
        f"{estimate_cost(b, prices).total:.6f} EUR" in explorer.cost.value
        and "my quote" in explorer.cost.value
    )


def test_price_citation_is_one_folded_line(clip: Path) -> None:
    prices = load_prices()
    for explorer in (
        widgets.FrameExplorer(Video.open(clip), debounce=0),
        widgets.TokenCostExplorer(debounce=0),
    ):
        cost = explorer.cost.value
        assert cost.count("<details") == 1 and cost.count(html_escape(prices.source)) == 1
        summary = re.search(r"<summary>(.*?)</summary>", cost).group(1)
        assert summary == f"mimo-v2.5 prices in CNY per 1M tokens, as of {prices.as_of}"
        assert "<br" not in cost


def test_toggle_labels_are_not_cut(clip: Path) -> None:
    explorer = widgets.FrameExplorer(Video.open(clip), debounce=0)
    for toggle, label in (
        (explorer.media_resolution, "media_resolution"),
        (explorer.size, "show frames at"),
    ):
        assert toggle.style.button_width == "auto"  # each button as wide as its label
        (row,) = [r for r in rows_of(explorer) if toggle in getattr(r, "children", ())]
        tag = row.children[0]
        assert (
            tag.value == label and tag.layout.width == explorer.fps.style.description_width
        )  # one label column
    assert [label for label, _ in explorer.size.options] == ["model view", "native size"]


def rows_of(explorer: widgets.Explorer) -> list:
    found, todo = [], list(explorer.children)
    while todo:
        widget = todo.pop()
        found.append(widget)
        todo += list(getattr(widget, "children", ()))
    return found


def test_presets_cover_360p_to_4k_both_ways() -> None:
    presets = widgets.frame_size_presets()
    assert presets["360p landscape"] == (640, 360) and presets["4K portrait"] == (2160, 3840)
    assert len(presets) == 12


class FakeHandle:
    def __init__(self) -> None:
        self.updates: list[dict[str, str]] = []

    def update(self, obj, **kwargs) -> None:
        assert kwargs.get("raw") is True
        self.updates.append(obj)


class WordStream:
    """A stream that hands out its completion word by word, as the server would."""

    def __init__(self, completion, fail_after: int | None = None) -> None:
        self._done = completion
        self._fail_after = fail_after
        self.completion = None

    def __iter__(self):
        pieces = [
            StreamDelta("reasoning", w + " ") for w in self._done.reasoning_content.split()[:20]
        ]
        pieces += [StreamDelta("content", w + " ") for w in self._done.content.split()]
        for n, piece in enumerate(pieces):
            if self._fail_after is not None and n == self._fail_after:
                raise StreamInterruptedError("connection lost", partial=None)
            yield piece
        self.completion = self._done


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[FakeHandle]:
    handles: list[FakeHandle] = []

    def fake_open(bundle):
        assert "text/html" in bundle and "text/plain" in bundle
        handles.append(FakeHandle())
        return handles[-1]

    monkeypatch.setattr(widgets._streaming, "_open_area", fake_open)
    return handles


def test_display_stream_updates_one_area_then_shows_the_completion(
    notebook: list[FakeHandle],
) -> None:
    done = spec_example_completion()
    result = widgets.display_stream(WordStream(done), min_interval=0)
    assert result is done and len(notebook) == 1
    updates = notebook[0].updates
    assert len(updates) > 20  # one area, updated as tokens arrived
    words = done.content.split()
    assert words[0] in updates[21]["text/plain"] and words[5] not in updates[21]["text/plain"]
    assert updates[-1] == {
        "text/html": render.completion_html(done),
        "text/plain": render.completion_text(done),
    }


def test_display_stream_with_a_replayed_stream(notebook: list[FakeHandle]) -> None:
    done = spec_example_completion()
    result = widgets.display_stream(CompletionStream.from_completion(done), min_interval=0)
    assert result is done and notebook[0].updates[-1]["text/html"] == render.completion_html(done)


def test_display_stream_keeps_the_partial_answer_when_broken(notebook: list[FakeHandle]) -> None:
    with pytest.raises(StreamInterruptedError):
        widgets.display_stream(
            WordStream(spec_example_completion(), fail_after=25), min_interval=3600
        )
    last = notebook[0].updates[-1]
    assert "the stream broke off" in last["text/html"] and "The video" in last["text/plain"]


def test_display_stream_outside_a_notebook_prints(capsys: pytest.CaptureFixture[str]) -> None:
    done = spec_example_completion()
    assert widgets.display_stream(WordStream(done)) is done  # IPython not running: prints instead
    out = capsys.readouterr().out
    assert "[answer]" in out and "kitten" in out and "text/html" not in out and "<div" not in out


def test_display_stream_in_a_real_ipython_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through IPython's own display machinery: one display_id, then updates of that id."""
    from IPython.core import display_functions
    from IPython.core.interactiveshell import InteractiveShell

    published: list[dict] = []
    monkeypatch.setattr(
        display_functions,
        "publish_display_data",
        lambda data, metadata=None, **kw: published.append({"data": data, **kw}),
    )
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: True))
    done = spec_example_completion()
    assert widgets.display_stream(WordStream(done), min_interval=0) is done
    ids = {p["transient"]["display_id"] for p in published}
    assert (
        len(ids) == 1
        and not published[0].get("update")
        and all(p.get("update") for p in published[1:])
    )
    assert published[-1]["data"]["text/html"] == render.completion_html(done)


class AsyncWordStream(WordStream):
    """The async twin: ``async for`` yields the same deltas, one event-loop turn apart."""

    async def __aiter__(self):
        for delta in WordStream.__iter__(self):
            await asyncio.sleep(0)
            yield delta


def test_display_stream_async_updates_one_area(notebook: list[FakeHandle]) -> None:
    done = spec_example_completion()
    result = asyncio.run(widgets.display_stream_async(AsyncWordStream(done), min_interval=0))
    assert result is done and len(notebook) == 1
    updates = notebook[0].updates
    assert len(updates) > 20
    assert updates[-1] == {
        "text/html": render.completion_html(done),
        "text/plain": render.completion_text(done),
    }


def test_display_stream_async_with_the_async_clients_stream(notebook: list[FakeHandle]) -> None:
    from mimo_nb.api.client import AsyncCompletionStream

    done = spec_example_completion()
    result = asyncio.run(
        widgets.display_stream_async(AsyncCompletionStream.from_completion(done), min_interval=0)
    )
    assert result is done and notebook[0].updates[-1]["text/html"] == render.completion_html(done)


def test_display_stream_async_keeps_the_partial_answer_when_broken(
    notebook: list[FakeHandle],
) -> None:
    with pytest.raises(StreamInterruptedError):
        asyncio.run(
            widgets.display_stream_async(
                AsyncWordStream(spec_example_completion(), fail_after=25), min_interval=3600
            )
        )
    assert "the stream broke off" in notebook[0].updates[-1]["text/html"]


def test_display_stream_async_does_not_block_the_loop(notebook: list[FakeHandle]) -> None:
    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await widgets.display_stream_async(
            AsyncWordStream(spec_example_completion()), min_interval=0
        )
        task.cancel()
        return ticks

    assert asyncio.run(main()) > 10  # other tasks ran while the answer streamed


def test_display_stream_async_outside_a_notebook_prints(capsys: pytest.CaptureFixture[str]) -> None:
    done = spec_example_completion()
    assert asyncio.run(widgets.display_stream_async(AsyncWordStream(done))) is done
    assert "[answer]" in capsys.readouterr().out
