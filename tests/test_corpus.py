"""Corpus: scan on any executor (Dask included), forecast, map, and the paced, budgeted, resumable
ask."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mimo_nb as mn
from mimo_nb.api.pacing import Pacer, minimum_wall_time
from mimo_nb.api.response import spec_example_json
from mimo_nb.core.pricing import estimate_text_tokens
from mimo_nb.corpus import FPS_GRID, SaveContactSheet, size_class
from mimo_nb.corpus._forecast import _Table
from mimo_nb.media.samples import generate_clip
from mimo_nb.testing import MockMimoServer, Quota, request_token_charge

from server_fixtures import kill_after_answers
from system_requirements import IN_CI

pytestmark = pytest.mark.timeout(180)

KEY = "sk-test-corpus-0123456789"
PROMPT = "Describe the video."
# name -> generate_clip arguments: formats, audio or not, portrait, rotated
CLIPS = {
    "a.mp4": dict(duration=1.0, width=64, height=48),
    "b.mov": dict(duration=2.0, width=96, height=64, audio=False),
    "c.avi": dict(duration=1.5, width=64, height=64),
    "d.wmv": dict(duration=1.0, width=80, height=48, audio=False),
    "sub/e.mp4": dict(duration=3.0, width=48, height=96),
    "sub/f.mp4": dict(duration=2.0, width=64, height=48, rotation=90),
    "sub/deeper/g.mov": dict(duration=1.0, width=128, height=72),
    "h.mp4": dict(duration=2.5, width=64, height=48, audio=False),
}
BROKEN = {
    "notes.mp4": "not_a_video",
    "half.mp4": "truncated",
    "empty.mp4": "empty",
    "voice.mp4": "no_video_stream",
    "clip.mkv": "unsupported_format",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for name, spec in CLIPS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        generate_clip(root / name, fps=10, preset="ultrafast", **spec)
    (root / "notes.mp4").write_text("a shopping list, not a video\n" * 20)
    (root / "half.mp4").write_bytes((root / "a.mp4").read_bytes()[:1500])
    (root / "empty.mp4").write_bytes(b"")
    generate_clip(root / "voice.mp4", duration=1, video=False)
    _write_mkv(root / "clip.mkv")
    (root / "readme.txt").write_text("not picked up: not a video suffix")
    return root


def _write_mkv(path: Path) -> None:
    import av

    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(3):
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 60, np.uint8), format="rgb24")
            ):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.fixture(scope="module")
def corpus(folder: Path) -> mn.Corpus:
    return mn.Corpus.scan(folder, progress=False)  # the default: a local process pool


def _ok_names(corpus: mn.Corpus) -> list[str]:
    table = corpus.to_pandas()
    return table.loc[table["error_type"].isna(), "name"].tolist()


# ---- Scan ------------------------------------------------------------------------------------


def test_scan_probes_every_file_and_broken_files_are_rows(corpus: mn.Corpus, folder: Path) -> None:
    table = corpus.to_pandas()
    assert sorted(table["name"]) == sorted([*CLIPS, *BROKEN])  # readme.txt is not a video file
    assert table["path"].tolist() == sorted(table["path"])  # source order: sorted paths
    for name, spec in CLIPS.items():
        row = table.set_index("name").loc[name]
        video = mn.Video.open(folder / name)
        assert row["error_type"] is None or pd.isna(row["error_type"])
        assert (
            (row["width"], row["height"])
            == (spec["width"], spec["height"])
            == (video.width, video.height)
        )
        assert row["duration"] == video.duration
        assert row["native_frame_count"] == video.native_frame_count
        assert bool(row["has_audio"]) == spec.get("audio", True) == video.has_audio
        assert row["size_bytes"] == video.size_bytes and row["format"] == video.format
        assert row["delivery"] == "base64"
    assert table.set_index("name").loc["sub/f.mp4", "rotation"] == 90
    for name, reason in BROKEN.items():
        row = table.set_index("name").loc[name]
        assert row["error_type"] == "VideoError" and row["error_reason"] == reason, (
            name,
            row["error"],
        )
        assert name in row["error"]  # the message names the file
    assert list(corpus.failures()["name"]) == [n for n in table["name"] if n in BROKEN]


def test_scan_sources_glob_list_manifests_dataframe(corpus: mn.Corpus, folder: Path) -> None:
    threads = ThreadPoolExecutor(2)
    globbed = mn.Corpus.scan(
        str(folder / "**" / "*.mp4"), executor=threads, progress=False
    ).to_pandas()
    assert sorted(globbed["name"]) == sorted(
        Path(n).name for n in [*CLIPS, *BROKEN] if n.endswith(".mp4")
    )

    listed = mn.Corpus.scan(
        [folder / "a.mp4", str(folder / "missing.mp4"), "http://127.0.0.1:9/x.mp4"],
        executor=threads,
        progress=False,
    ).to_pandas()
    assert listed["error_reason"].tolist()[1:] == ["not_found", "download"]
    assert pd.isna(listed["error_type"][0]) and listed["duration"][0] == 1.0

    manifest = pd.DataFrame(
        {"label": ["cat", "dog", "none"], "Path": ["a.mp4", "sub/e.mp4", "nowhere.mp4"]}
    )
    manifest.to_csv(folder / "manifest.csv", index=False)
    manifest.to_parquet(folder / "manifest.parquet")
    for name in ("manifest.csv", "manifest.parquet"):
        table = mn.Corpus.scan(folder / name, executor=threads, progress=False).to_pandas()
        assert table["label"].tolist() == [
            "cat",
            "dog",
            "none",
        ]  # the manifest's columns ride along
        assert (
            table["duration"].tolist()[:2] == [1.0, 3.0] and table["error_reason"][2] == "not_found"
        )
    in_memory = mn.Corpus.scan(
        manifest.assign(Path=[str(folder / p) for p in manifest["Path"]]),
        executor=threads,
        progress=False,
    )
    assert in_memory.to_pandas()["duration"].tolist()[:2] == [1.0, 3.0]

    with pytest.raises(mn.LimitError, match="path column"):
        mn.Corpus.scan(pd.DataFrame({"label": ["x"]}), progress=False)
    with pytest.raises(mn.LimitError, match="neither a folder"):
        mn.Corpus.scan(folder / "no-such-folder", progress=False)
    threads.shutdown()


def test_any_executor_gives_the_same_table(corpus: mn.Corpus, folder: Path) -> None:
    with ThreadPoolExecutor(3) as threads:
        again = mn.Corpus.scan(folder, executor=threads, progress=False, chunk_size=2)
    pd.testing.assert_frame_equal(again.to_pandas(), corpus.to_pandas())


def test_dask_local_cluster_gives_the_same_table(corpus: mn.Corpus, folder: Path) -> None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        if IN_CI:
            pytest.fail("distributed is not installed; make test installs it with the dev extras")
        pytest.skip("distributed is not installed (pip install 'mimo_nb[dask]')")
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        on_dask = mn.Corpus.scan(
            folder, executor=client.get_executor(), progress=False, chunk_size=3
        )
        sheets = sorted(
            r.value
            for r in on_dask.map(
                SaveContactSheet(str(folder / "sheets-dask"), fps=1), progress=False
            )
        )
    pd.testing.assert_frame_equal(on_dask.to_pandas(), corpus.to_pandas())
    assert sheets == sorted(str(folder / "sheets-dask" / f"{Path(n).stem}.png") for n in CLIPS)


def _die_on_files_named_crash() -> None:
    """A worker initializer: this worker's "decoder" kills the process on files named crash*."""
    import mimo_nb.corpus._rows as rows_module  # where _probe_chunk finds probe_row

    probe = rows_module.probe_row

    def crashing_probe(source: str, timeout: float = 60.0, base: str | None = None) -> dict:  # type: ignore[type-arg]
        if Path(source).name.startswith("crash"):
            os._exit(1)  # as a segfault in a decoder would: no exception, the process is gone
        return probe(source, timeout, base)

    rows_module.probe_row = crashing_probe


def test_a_file_that_kills_its_worker_is_one_row(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    for name in ("a.mp4", "b.mov", "c.avi", "h.mp4"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "crash-c.avi").write_bytes((folder / "c.avi").read_bytes())
    pools: list[ProcessPoolExecutor] = []

    def crashing_pool() -> ProcessPoolExecutor:  # the session pool, as default_executor keeps it
        if not pools or getattr(pools[-1], "_broken", False):
            pools.append(
                ProcessPoolExecutor(
                    2,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_die_on_files_named_crash,
                )
            )
        return pools[-1]

    monkeypatch.setattr(mn.corpus._workers, "default_executor", crashing_pool)
    try:
        table = mn.Corpus.scan(tmp_path, progress=False, chunk_size=2).to_pandas().set_index("name")
    finally:
        for pool in pools:
            pool.shutdown(cancel_futures=True)
    assert table.loc["crash-c.avi", "error_type"] == "BrokenProcessPool"
    assert table.loc["crash-c.avi", "error_reason"] == "worker"
    good = table.drop(index="crash-c.avi")
    assert good["error_type"].isna().all() and good["duration"].tolist() == [1.0, 2.0, 1.5, 2.5]
    assert len(pools) >= 2  # the pool broke, and the scan went on on a fresh one


def test_summary_counts_and_escapes_names(corpus: mn.Corpus, folder: Path, tmp_path: Path) -> None:
    summary = corpus.summary()
    assert (summary.count, summary.probed, summary.failed) == (
        len(CLIPS) + len(BROKEN),
        len(CLIPS),
        len(BROKEN),
    )
    assert summary.hours == pytest.approx(sum(s["duration"] for s in CLIPS.values()) / 3600)
    assert summary.formats == {"avi": 1, "mov": 2, "mp4": 4, "wmv": 1}
    assert summary.with_audio == sum(1 for s in CLIPS.values() if s.get("audio", True))
    assert sum(summary.failures.values()) == len(BROKEN) and summary.delivery == {
        "base64": len(CLIPS)
    }
    html = corpus._repr_html_()
    assert "data:image/png;base64," in html and "13 items" in html

    generate_clip(
        tmp_path / "<script>alert(1)<\\script>.mp4", duration=1, width=32, height=32, fps=5
    )
    (tmp_path / "<img src=x onerror=alert(2)>.mp4").write_text("broken")
    evil = mn.Corpus.scan(tmp_path, executor=ThreadPoolExecutor(1), progress=False)
    page = evil._repr_html_()
    assert "<script>" not in page and "<img src=x" not in page and "&lt;img src=x" in page


def test_scan_probes_urls_and_says_how_each_file_travels(tmp_path: Path) -> None:
    generate_clip(tmp_path / "hosted.mp4", duration=1.5, width=64, height=48, fps=10)
    with MockMimoServer(api_key=KEY) as server:
        server.files["/v/hosted.mp4"] = (tmp_path / "hosted.mp4").read_bytes()
        url = f"{server.base_url.rsplit('/v1', 1)[0]}/v/hosted.mp4"
        table = mn.Corpus.scan(
            [url, tmp_path / "hosted.mp4"], executor=ThreadPoolExecutor(1), progress=False
        ).to_pandas()
    assert table["delivery"].tolist() == ["url", "base64"] and table["error_type"].isna().all()
    assert table["duration"].tolist() == [1.5, 1.5] and table["name"][0] == "hosted.mp4"
    limit = mn.corpus._rows.BASE64_LIMIT_BYTES  # base64 grows a file by 4/3: 3/4 of the limit fits
    assert mn.corpus._rows._delivery(limit * 3 // 4, is_url=False) == "base64"
    assert mn.corpus._rows._delivery(limit * 3 // 4 + 3, is_url=False) == "fit"


def test_size_classes() -> None:
    assert [
        size_class(w, h) for w, h in [(64, 48), (640, 360), (1080, 1920), (3840, 2160), (1280, 719)]
    ] == ["< 360p", "360p", "1080p", "4K+", "480p"]


# ---- Forecast --------------------------------------------------------------------------------


def test_forecast_equals_the_scalar_formula(corpus: mn.Corpus, folder: Path) -> None:
    prices = mn.load_prices("mimo-v2.5", "CNY")
    fps, resolutions = [0.5, 1.0, 2.5, 10.0], ["default", "max"]
    forecast = corpus.forecast(fps, resolutions, prompt=PROMPT, output_tokens=300, prices=prices)
    videos = [mn.Video.open(folder / name) for name in _ok_names(corpus)]
    text = estimate_text_tokens(PROMPT)
    table = forecast.to_pandas()
    assert len(table) == 8
    for row in table.itertuples():
        per_video = [
            mn.estimate_video_tokens(
                v.duration, v.width, v.height, row.fps, row.media_resolution, mute=not v.has_audio
            )
            for v in videos
        ]
        assert row.prompt_tokens == sum(per_video) + text * len(videos)
        assert row.largest_video_tokens == max(per_video)
        assert row.frames == sum(v.estimate(row.fps, row.media_resolution).frames for v in videos)
        scalar_cost = sum(
            mn.estimate_cost(t + text, prices, output_tokens=300).total for t in per_video
        )
        assert row.cost == pytest.approx(scalar_cost, rel=1e-12)
        assert forecast._tokens_to_cost(row.total_tokens) == pytest.approx(
            row.cost, rel=1e-12
        )  # the plot's cost axis
    for v, tokens in zip(videos, corpus.video_tokens(2.0, "max"), strict=True):
        assert tokens == v.estimate(2.0, "max").total
    assert "Forecast" in forecast._repr_html_() and "data:image/png" in forecast._repr_html_()


def test_forecast_of_a_large_table_equals_the_scalar_formula() -> None:
    rng = np.random.default_rng(7)
    sizes = np.array([(1920, 1080), (1080, 1920), (3840, 2160), (20, 900), (640, 16), (33, 33)])
    n = 4000  # many rows, few sizes: the forecast groups rows by (size, frame count)
    pick = rng.integers(0, len(sizes), n)
    durations = np.concatenate([[0.01, 0.05, 5000.0, 204.8, 204.85], rng.uniform(0.1, 900, n - 5)])
    frame = pd.DataFrame(
        {
            "path": [f"v{i}.mp4" for i in range(n)],
            "duration": durations,
            "width": sizes[pick, 0],
            "height": sizes[pick, 1],
            "has_audio": rng.random(n) < 0.5,
        }
    )
    corpus = mn.Corpus.from_pandas(frame)
    assert _Table(corpus).grouped
    rows = list(
        zip(
            durations.tolist(),
            sizes[pick, 0].tolist(),
            sizes[pick, 1].tolist(),
            (~frame["has_audio"]).tolist(),
            strict=True,
        )
    )
    forecast = corpus.forecast([0.1, 2.0, 2.1, 10.0], ["default", "max"], output_tokens=0)
    for row in forecast.rows:
        per_video = [
            mn.estimate_video_tokens(d, w, h, row["fps"], row["media_resolution"], m)
            for d, w, h, m in rows
        ]
        assert (row["prompt_tokens"], row["largest_video_tokens"]) == (
            sum(per_video),
            max(per_video),
        )
        assert row["vision_tokens"] == sum(
            mn.explain_video_tokens(d, w, h, row["fps"], row["media_resolution"]).vision
            for d, w, h, _ in rows
        )
        assert row["prompt_tokens"] == int(
            corpus.video_tokens(row["fps"], row["media_resolution"]).sum()
        )


def test_max_fps_is_exact_on_the_grid(corpus: mn.Corpus, folder: Path) -> None:
    videos = [mn.Video.open(folder / name) for name in _ok_names(corpus)]

    def total(fps: float) -> int:
        return sum(v.estimate(fps).total + 100 for v in videos)

    budget = total(1.3) + 1
    choice = corpus.max_fps(tokens=budget, output_tokens=100)
    expected = max(f for f in FPS_GRID if total(f) <= budget)
    assert choice.fps == expected >= 1.3 and choice.total_tokens == total(expected) <= budget
    assert all(total(f) > budget for f in FPS_GRID if f > expected)
    assert len(choice.curve) == 100 and choice.curve[0][0] == 0.1 and choice.curve[-1][0] == 10.0

    prices = mn.load_prices("mimo-v2.5", "CNY")
    by_cost = corpus.max_fps(cost=choice.cost, output_tokens=100, prices=prices)
    assert by_cost.fps == choice.fps
    nothing = corpus.max_fps(tokens=10)
    assert nothing.fps is None and "no fps fits" in str(nothing)
    with pytest.raises(mn.LimitError, match="budget"):
        corpus.max_fps()


def test_from_pandas_round_trip(corpus: mn.Corpus) -> None:
    again = mn.Corpus.from_pandas(corpus.to_pandas())
    assert again.forecast([1, 2]).rows == corpus.forecast([1, 2]).rows
    index = int(np.flatnonzero(again.ok)[0])
    frames = again.video(index).sample(fps=2)
    assert len(frames) == corpus.video(index).plan(fps=2).frames
    with pytest.raises(mn.LimitError, match="could not be probed"):
        again.video(int(np.flatnonzero(~again.ok)[0]))
    with pytest.raises(mn.LimitError, match="needs the columns"):
        mn.Corpus.from_pandas(pd.DataFrame({"path": ["a.mp4"]}))


# ---- Map -------------------------------------------------------------------------------------


class _CountingExecutor(ThreadPoolExecutor):
    """Records the most tasks submitted and not yet finished at any moment."""

    def __init__(self) -> None:
        super().__init__(2)
        self.outstanding = self.most = 0
        self._count_lock = threading.Lock()

    def submit(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        with self._count_lock:
            self.outstanding += 1
            self.most = max(self.most, self.outstanding)
        future = super().submit(fn, *args, **kwargs)

        def done(_: object) -> None:
            with self._count_lock:
                self.outstanding -= 1

        future.add_done_callback(done)
        return future


def _frame_count(video: mn.Video) -> int:
    return len(video.sample(fps=2))


def test_map_streams_results_with_bounded_submissions(corpus: mn.Corpus) -> None:
    counting = _CountingExecutor()
    results = list(corpus.map(_frame_count, executor=counting, max_in_flight=2, progress=False))
    assert counting.most <= 2
    assert sorted(r.index for r in results) == np.flatnonzero(corpus.ok).tolist()
    for r in results:
        assert r.ok and r.value == corpus.video(r.index).plan(fps=2).frames


def test_map_on_the_process_pool_ships_notebook_functions(
    corpus: mn.Corpus, tmp_path: Path
) -> None:
    def fails_on_avi(video: mn.Video) -> str:  # a local function: travels by value (cloudpickle)
        if video.format == "avi":
            raise ValueError("no AVI today")
        return video.format

    results = {r.name: r for r in corpus.map(fails_on_avi, progress=False)}
    assert results["c.avi"].error_type == "ValueError" and results["c.avi"].error == "no AVI today"
    assert results["b.mov"].value == "mov" and len(results) == len(CLIPS)
    sheets = [r.value for r in corpus.map(SaveContactSheet(str(tmp_path)), progress=False)]
    assert sorted(Path(s).name for s in sheets) == sorted(f"{Path(n).stem}.png" for n in CLIPS)


# ---- Pacing ----------------------------------------------------------------------------------


def test_pacer_holds_each_request_for_a_window_after_its_answer() -> None:
    now = [100.0]

    async def run() -> None:
        pacer = Pacer(
            requests_per_minute=3, tokens_per_minute=1000, window=60.0, clock=lambda: now[0]
        )
        tickets = []
        for at, tokens in [(100.0, 400), (110.0, 400), (120.0, 100)]:
            now[0] = at
            tickets.append(await pacer.acquire(tokens))
        now[0] = 125.0
        assert (
            pacer._wait_needed(100, now[0]) is None
        )  # all three in flight: only an answer can make room
        for ticket, done in zip(tickets, (101.0, 112.0, 121.0), strict=True):
            pacer.settle(ticket)
            ticket.done = done  # answered then (the fake clock stood still)
        assert pacer._wait_needed(100, now[0]) == pytest.approx(
            101 + 60 - 125
        )  # the 4th request: one must leave
        assert pacer._wait_needed(700, now[0]) == pytest.approx(
            112 + 60 - 125
        )  # 700 tokens: two must leave
        pacer.settle(tickets[0], tokens=900)  # it really used more: the truth counts
        assert pacer._log[0].tokens == 900
        with pytest.raises(mn.LimitError, match="could never be sent"):
            pacer.check(1001)

    asyncio.run(run())
    assert (
        minimum_wall_time([400] * 5, requests_per_minute=None, tokens_per_minute=1000, window=60)
        == 120.0
    )
    assert (
        minimum_wall_time([1] * 7, requests_per_minute=3, tokens_per_minute=None, window=10) == 20.0
    )


def test_stand_in_quota_answers_429_with_retry_after(folder: Path) -> None:
    with MockMimoServer(api_key=KEY, quota=Quota(requests_per_minute=2, window=30)) as server:
        client = mn.MimoClient(KEY, base_url=server.base_url, max_retries=0)
        client.ask(folder / "a.mp4", PROMPT)
        client.ask(folder / "a.mp4", PROMPT)
        with pytest.raises(mn.RateLimitError) as caught:
            client.ask(folder / "a.mp4", PROMPT)
        assert 25 < caught.value.retry_after <= 30 and server.quota_rejections == 1
        body = server.requests[0].body
        assert request_token_charge(body) == (
            mn.Video.open(folder / "a.mp4").estimate().total + estimate_text_tokens(PROMPT) + 1024
        )


async def _ask(
    corpus: mn.Corpus, server: MockMimoServer, **kwargs: object
) -> mn.corpus.CorpusAnswers:
    cache = kwargs.pop("cache", None)
    async with mn.AsyncMimoClient(
        KEY, base_url=server.base_url, max_retries=0, cache=cache
    ) as client:
        return await corpus.ask(client, PROMPT, fps=1, progress=False, **kwargs)  # type: ignore[arg-type]


def test_paced_ask_meets_no_429_where_unpaced_does(corpus: mn.Corpus) -> None:
    # max_completion_tokens covers the stand-in's canned usage (2,109 tokens), as a true estimate
    # would
    charges = [int(c) for c in corpus.video_tokens(1.0) + estimate_text_tokens(PROMPT) + 2100]
    quota = Quota(tokens_per_minute=3 * max(charges), requests_per_minute=4, window=1.0)
    with MockMimoServer(api_key=KEY, delay=0.02, quota=quota) as server:
        paced = asyncio.run(
            _ask(
                corpus,
                server,
                max_completion_tokens=2100,
                concurrency=4,
                window=1.0,
                tokens_per_minute=quota.tokens_per_minute,
                requests_per_minute=4,
            )
        )
        assert server.quota_rejections == 0 and paced.counts() == {"answered": len(CLIPS)}
        assert len(server.requests) == len(CLIPS) and paced.minimum_seconds > 0
        server.reset()
        unpaced = asyncio.run(_ask(corpus, server, max_completion_tokens=2100, concurrency=4))
        assert server.quota_rejections > 0 and unpaced.counts()["error"] == server.quota_rejections


def test_answers_join_the_scan_with_estimate_beside_actual(corpus: mn.Corpus) -> None:
    with MockMimoServer(api_key=KEY) as server:
        answers = asyncio.run(_ask(corpus, server, concurrency=3))
    table = answers.to_pandas()
    assert (
        len(table) == len(corpus) and table["name"].tolist() == corpus.to_pandas()["name"].tolist()
    )
    answered = table[table["status"] == "answered"]
    assert len(answered) == len(CLIPS) and table["status"].value_counts()["not probed"] == len(
        BROKEN
    )
    assert answered["est_prompt_tokens"].tolist() == [
        int(t) + estimate_text_tokens(PROMPT) for t in corpus.video_tokens(1.0)
    ]
    assert (answered["video_tokens"] == 1144).all()  # the stand-in answers the spec's example usage
    assert answered["est_video_tokens"].notna().all() and answered["cost"].gt(0).all()
    assert answers.spent == pytest.approx(answered["cost"].sum())


def test_answers_html_escapes_model_text_and_file_names(tmp_path: Path) -> None:
    generate_clip(tmp_path / "<b onclick=alert(3)>bold.mp4", duration=1, width=32, height=32, fps=5)
    (tmp_path / "<i>broken.mp4").write_text("not a video")
    corpus = mn.Corpus.scan(tmp_path, executor=ThreadPoolExecutor(1), progress=False)
    response = spec_example_json()
    response["choices"][0]["message"]["content"] = (
        "A cat. <script>alert(1)</script><img src=x onerror=alert(2)>"
    )
    with MockMimoServer(api_key=KEY, response=response) as server:
        answers = asyncio.run(_ask(corpus, server))
    page = answers._repr_html_()
    for unsafe in ("<script>", "<img src=x", "<b onclick", "<i>"):
        assert unsafe not in page
    assert "A cat. &lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as the text it is
    assert "&lt;b onclick=alert(3)&gt;bold.mp4" in page and "&lt;i&gt;broken.mp4" in page
    row = answers.to_pandas().set_index("status").loc["answered"]
    cell = "<td style='text-align:right'>{:,}</td>"
    assert cell.format(row["est_prompt_tokens"]) in page  # the estimate beside the actual
    assert cell.format(row["prompt_tokens"]) in page
    for shown in (corpus.summary(), corpus.forecast([1, 2]), corpus.max_fps(tokens=10**9)):
        shown_html = shown._repr_html_()
        assert "<b onclick" not in shown_html and "data:image/png;base64," in shown_html


def test_max_cost_refuses_to_start_and_stops_before_crossing(corpus: mn.Corpus) -> None:
    prices = mn.load_prices("mimo-v2.5", "CNY")
    with MockMimoServer(api_key=KEY) as server:
        full = corpus.forecast(1.0, prompt=PROMPT, output_tokens=1024, prices=prices).rows[0][
            "cost"
        ]
        with pytest.raises(mn.LimitError, match="over max_cost"):
            asyncio.run(_ask(corpus, server, max_cost=full * 0.9))
        assert server.requests == []

        # Expect tiny answers (the forecast passes), but the stand-in's answers cost more than that.
        def worst(
            prompt_tokens: int,
        ) -> float:  # the most one request can cost: a full-length answer
            return mn.estimate_cost(prompt_tokens, prices, output_tokens=1024).total

        text = estimate_text_tokens(PROMPT)
        budget = 3.5 * worst(int(corpus.video_tokens(1.0).max()) + text)
        answers = asyncio.run(_ask(corpus, server, max_cost=budget, output_tokens=0, concurrency=1))
    counts = answers.counts()
    assert (
        counts["answered"] == len(server.requests) >= 2
        and counts["skipped"] == len(CLIPS) - counts["answered"]
    )
    assert answers.spent <= budget
    table = answers.to_pandas()
    skipped = table[table["status"] == "skipped"]
    assert (skipped["error"] == "not sent: max_cost would be crossed").all()
    assert (
        answers.spent + worst(int(skipped["est_prompt_tokens"].iloc[0])) > budget
    )  # one more might have crossed


def test_dry_run_sends_nothing_and_needs_no_key(corpus: mn.Corpus, tmp_path: Path) -> None:
    with MockMimoServer(api_key=KEY) as server:

        async def run() -> mn.corpus.CorpusAnswers:
            async with mn.AsyncMimoClient(None, base_url=server.base_url, cache=tmp_path) as client:
                return await corpus.ask(
                    client, PROMPT, fps=1, dry_run=True, tokens_per_minute=5000, progress=False
                )

        dry = asyncio.run(run())
        assert server.requests == []
    assert dry.counts() == {"would send": len(CLIPS)} and dry.minimum_seconds > 0
    assert "base64 characters of" in str(dry.requests[0]) and "Dry run" in dry._repr_html_()
    with pytest.raises(mn.LimitError, match="AsyncMimoClient"):
        asyncio.run(corpus.ask(mn.MimoClient(KEY), PROMPT))  # type: ignore[arg-type]


def test_ask_builds_each_request_from_the_file_as_it_is_now(tmp_path: Path) -> None:
    generate_clip(tmp_path / "grows.mp4", duration=1.0, width=64, height=48, fps=10)
    generate_clip(tmp_path / "goes.mp4", duration=1.0, width=64, height=48, fps=10)
    corpus = mn.Corpus.scan(tmp_path, executor=ThreadPoolExecutor(1), progress=False)
    generate_clip(
        tmp_path / "grows.mp4", duration=3.0, width=64, height=48, fps=10
    )  # rewritten after the scan
    (tmp_path / "goes.mp4").unlink()
    with MockMimoServer(api_key=KEY) as server:
        table = asyncio.run(_ask(corpus, server)).to_pandas().set_index("name")
        assert len(server.requests) == 1
    now = mn.Video.open(tmp_path / "grows.mp4").estimate(1.0)
    assert table.loc["grows.mp4", "est_prompt_tokens"] == now.total + estimate_text_tokens(PROMPT)
    assert (
        table.loc["grows.mp4", "est_video_tokens"] == now.vision
        and table.loc["grows.mp4", "status"] == "answered"
    )
    assert (
        table.loc["goes.mp4", "status"] == "error"
        and table.loc["goes.mp4", "error_type"] == "VideoError"
    )


# ---- Kill and resume -------------------------------------------------------------------------

CHILD = textwrap.dedent(f"""
    import asyncio, json, sys
    from concurrent.futures import ThreadPoolExecutor
    import mimo_nb as mn

    async def main(folder, base_url, cache):
        corpus = mn.Corpus.scan(folder, executor=ThreadPoolExecutor(2), progress=False)
        client = mn.AsyncMimoClient("{KEY}", base_url=base_url, cache=cache, max_retries=0)
        async with client:
            answers = await corpus.ask(
                client, "Describe the video.", fps=1, concurrency=3, progress=False
            )
        print(json.dumps(answers.counts()))

    if __name__ == "__main__":
        asyncio.run(main(*sys.argv[1:]))
""")


def test_sigkill_and_resume_pays_each_answer_once(
    corpus: mn.Corpus, folder: Path, tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cache = tmp_path / "answers"
    items, half = len(CLIPS), len(CLIPS) // 2
    with MockMimoServer(api_key=KEY, delay=0.02) as server:
        args = [sys.executable, str(script), str(folder), server.base_url, str(cache)]
        kill_after_answers(args, server, cache, half)  # the kill lands with some in flight

        rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert json.loads(rerun.stdout.strip().splitlines()[-1]) == {
            "replayed": half,
            "answered": items - half,
        }
        assert len(server.requests) == items  # every answer paid for once
        assert len(mn.ResponseCache(cache)) == items


def test_relative_paths_follow_the_callers_folder_not_the_workers(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared pool's workers keep the folder they started in; a notebook's %cd moves only us.

    Found by the doctests: after a chdir, every relative path failed with "No such video file".
    """
    monkeypatch.chdir(folder)
    first = mn.Corpus.scan("sub", progress=False)  # starts (or reuses) the shared pool here
    assert first.summary().probed == 3
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "clips").mkdir(parents=True)
    generate_clip(
        elsewhere / "clips" / "x.mp4", duration=1, width=48, height=32, fps=10, preset="ultrafast"
    )
    monkeypatch.chdir(elsewhere)
    second = mn.Corpus.scan(["clips/x.mp4"], progress=False)
    table = second.to_pandas()
    assert table["error"].isna().all(), table["error"].tolist()
    assert table["path"].tolist() == ["clips/x.mp4"]  # kept as given
    sheets = list(second.map(SaveContactSheet("sheets/"), progress=False))
    assert [r.value for r in sheets] == ["sheets/x.png"]
    assert (elsewhere / "sheets" / "x.png").stat().st_size > 0


def test_a_relative_file_is_named_as_given_in_its_error(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Error text names the file as the caller wrote it: a saved notebook shows the same on every
    machine."""
    monkeypatch.chdir(folder)
    table = mn.Corpus.scan(["notes.mp4"], progress=False).to_pandas()
    assert "(notes.mp4)" in table.loc[0, "error"] and str(folder) not in table.loc[0, "error"]
