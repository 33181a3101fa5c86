"""mn.sweep: every task at every setting through the corpus's paced, cached, resumable asking,
scored, against the rule-based stand-in on 127.0.0.1 (a test double, not a model)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

import mimo_nb as mn
from mimo_nb.api.response import STAND_IN, spec_example_json
from mimo_nb.core.pricing import estimate_text_tokens
from mimo_nb.core.scoring import Score, resolve
from mimo_nb.core.stats import mcnemar_exact, wilson_interval
from mimo_nb.core.tokens import sampled_frame_count
from mimo_nb.corpus.sweep import (
    SweepResult,
    SweepRow,
    SweepTask,
    asweep,
    check_tasks,
    task_prompt,
)
from mimo_nb.display.plots import plot_sweep
from mimo_nb.media.samples import generate_clip
from mimo_nb.testing import MockMimoServer

from server_fixtures import kill_after_answers

pytestmark = pytest.mark.timeout(180)

KEY = "sk-test-sweep-0123456789"
FPS = [0.5, 2]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sweep")
    return {
        name: generate_clip(root / f"{name}.mp4", seconds, 64, 48, fps=10, preset="ultrafast")
        for name, seconds in (("short", 2.0), ("long", 4.0))
    }


def _tasks(clips: dict[str, Path]) -> list[dict[str, object]]:
    """Three tasks the stand-in's rules can answer: the first counter (right at every fps),
    how many frames it read (right only at fps 2), and a multiple choice it cannot be read from
    (it names two options' texts)."""
    return [
        {
            "id": "start",
            "video": clips["short"],
            "question": "What does the counter read at the start?",
            "expected": "0",
            "scorer": "regex:reads (\\d+)",
        },
        {
            "id": "frames",
            "video": mn.Video.open(clips["long"]),
            "question": "How many frames did you read?",
            "expected": str(sampled_frame_count(4.0, 2)),
            "scorer": "regex:the (\\d+) frames",
        },
        {
            "id": "pick",
            "video": clips["long"],
            "question": "Which number is shown last?",
            "choices": ["0", "39"],
            "expected": "B",
        },
    ]


def _run(server: MockMimoServer, tasks: object, cache: Path | None = None, **options: object):
    async def go() -> SweepResult:
        client = mn.AsyncMimoClient(KEY, base_url=server.base_url, cache=cache, max_retries=0)
        async with client:
            return await asweep(client, tasks, fps=FPS, progress=False, **options)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_every_task_at_every_setting_is_asked_once_and_scored(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        result = _run(server, _tasks(clips), tmp_path / "answers")
        sent = [
            (r.body["messages"][-1]["content"][-1]["text"], r.body["messages"][-1]["content"][0])
            for r in server.requests
        ]
    assert len(sent) == 3 * len(FPS)
    asked = {(text, part["fps"]) for text, part in sent}
    assert len(asked) == 6  # each task at each fps, once
    assert task_prompt("Which number is shown last?", ["0", "39"]) in {t for t, _ in sent}
    table = result.to_pandas()
    assert list(table["task"]) == ["start", "frames", "pick"] * 2
    assert list(table["fps"]) == [0.5] * 3 + [2.0] * 3
    assert set(table["answered_by"]) == {"stand-in"} and set(table["origin"]) == {"live"}
    read = table["correct"].astype(object).fillna("unread").tolist()
    assert read == [True, False, "unread", True, True, "unread"]
    assert table["extracted"].tolist()[:2] == ["0", str(sampled_frame_count(4.0, 0.5))]
    assert table.loc[2, "note"].startswith("ambiguous")  # the stand-in named both options
    assert table["answer"].str.contains("counter reads").all()  # the text beside the reading
    assert (table["prompt_tokens"] > 0).all() and (table["cost"] > 0).all()
    assert table["scorer"].tolist()[:3] == [
        "regex('reads (\\\\d+)')",
        "regex('the (\\\\d+) frames')",
        "choice",
    ]
    assert result.stand_in and "stand-in" in repr(result)


def test_the_grid_is_forecast_and_max_cost_refuses_before_anything_is_sent(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    tasks = _tasks(clips)
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        with pytest.raises(mn.LimitError, match=r"over max_cost=1e-09: nothing was sent\. Sweep"):
            _run(server, tasks, tmp_path / "answers", max_cost=1e-9)
        assert server.requests == []
        result = _run(server, tasks, None, max_completion_tokens=100)
    table = result.to_pandas()
    for row in result.forecast:  # the corpus's forecast of the videos plus each question's text
        mine = table[table["fps"] == row["fps"]]
        videos = sum(
            mn.Video.open(clips[c]).estimate(row["fps"]).total for c in ("short", "long", "long")
        )
        text = sum(estimate_text_tokens(t.prompt) for t in check_tasks(tasks))
        assert row["prompt_tokens"] == videos + text == mine["est_prompt_tokens"].sum()
        assert row["output_tokens"] == 100 * 3
        assert row["cost"] == pytest.approx(mine["est_cost"].sum())
    assert [r["fps"] for r in result.forecast] == FPS


def test_an_unpriced_client_gets_tokens_and_no_invented_costs(clips: dict[str, Path]) -> None:
    tasks = _tasks(clips)[:1]
    with MockMimoServer(api_key=KEY, answer="rules") as server:

        async def go() -> SweepResult:
            client = mn.AsyncMimoClient(
                KEY,
                base_url=server.base_url,
                model="own-model",
                context_lengths={"own-model": 10**5},
            )
            async with client:
                assert client.prices is None  # a self-hosted model: no shipped prices
                return await asweep(client, tasks, fps=FPS, progress=False)

        result = asyncio.run(go())
    table = result.to_pandas()
    assert table["est_cost"].isna().all() and table["cost"].isna().all()
    assert [f["cost"] for f in result.forecast] == [None, None]
    assert result.summary()["mean_cost"].isna().all()
    assert "by mean tokens per task" in result.recommend().reason
    assert "no prices (an unpriced client)" in result._repr_html_()


def test_a_second_run_replays_from_the_cache_and_offline_gives_the_same_table(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "answers"
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        first = _run(server, _tasks(clips), cache)
        server.reset()
        again = _run(server, _tasks(clips), cache)
        assert server.requests == []
        monkeypatch.setenv("MIMO_NB_OFFLINE", "1")  # the client reads it: the cache alone
        offline = _run(server, _tasks(clips), cache)
        assert server.requests == []
    same = [c for c in first.to_pandas().columns if c not in ("origin", "status")]
    for replay in (again, offline):
        pd.testing.assert_frame_equal(first.to_pandas()[same], replay.to_pandas()[same])
        assert set(replay.to_pandas()["origin"]) == {"cache"} and replay.spent == 0
        pd.testing.assert_frame_equal(first.summary(), replay.summary())
    assert first.spent > 0
    html = offline._repr_html_()
    assert "cache replay" in html and "Recommended: " in html and "data:image/png" in html


CHILD = textwrap.dedent(f"""
    import json, sys
    import mimo_nb as mn

    def main(short, long, base_url, cache):
        client = mn.MimoClient("{KEY}", base_url=base_url, cache=cache, max_retries=0)
        tasks = [{{"video": path, "question": "What does the counter read at the start?",
                   "expected": "0"}} for path in (short, long)]
        result = mn.sweep(client, tasks, fps=[0.5, 1, 2], scorer="regex:reads (\\\\d+)",
                          concurrency=2, progress=False)
        print(json.dumps(result.to_pandas()["origin"].tolist()))

    if __name__ == "__main__":
        main(*sys.argv[1:])
""")


def test_sigkill_and_resume_pays_each_answer_once(clips: dict[str, Path], tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cache = tmp_path / "answers"
    args = [sys.executable, str(script), str(clips["short"]), str(clips["long"]), "", str(cache)]
    with MockMimoServer(api_key=KEY, answer="rules", delay=0.02) as server:
        args[4] = server.base_url
        kill_after_answers(args, server, cache, 3)  # killed with requests in flight

        rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        origins = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert sorted(origins) == ["cache"] * 3 + ["live"] * 3
        assert len(server.requests) == 6  # 2 tasks x 3 settings, each paid for once
        bodies = {json.dumps(r.body, sort_keys=True) for r in server.requests}
        assert len(bodies) == 6


def test_the_sync_twin_runs_inside_a_running_loop_as_a_notebook_has(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    tasks = _tasks(clips)[:1]
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        client = mn.MimoClient(KEY, base_url=server.base_url, cache=tmp_path / "answers")

        async def in_a_notebook() -> SweepResult:
            return mn.sweep(client, tasks, fps=1, progress=False)  # no await: a thread's loop

        result = asyncio.run(in_a_notebook())
        assert len(server.requests) == 1 and result.to_pandas()["correct"].tolist() == [True]
        plain = mn.sweep(client, tasks, fps=1, progress=False)
        assert len(server.requests) == 1 and plain.to_pandas()["origin"].tolist() == ["cache"]
        client.close()


def test_the_same_question_on_the_same_bytes_twice_is_refused_before_sending(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    """Two tasks that are one request (a copied file, the same question) would be answered once
    live and once from the cache, by timing, and count one observation twice: refused."""
    import shutil

    copy = shutil.copy(clips["short"], tmp_path / "copy.mp4")
    first = _tasks(clips)[0]
    twice = [first, {**first, "id": "again", "video": copy}]
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        client = mn.MimoClient(KEY, base_url=server.base_url, cache=tmp_path / "answers")
        with pytest.raises(mn.LimitError, match="'start' and 'again' ask the same question"):
            mn.sweep(client, twice, fps=1, progress=False)
        other = [first, {**first, "id": "other", "question": "What does it read at the end?"}]
        assert len(mn.sweep(client, other, fps=1, progress=False).to_pandas()) == 2
        client.close()
        assert len(server.requests) == 2  # none for the refused sweep


def test_a_client_with_its_own_transport_is_refused_not_bypassed(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    """sweep() makes an async client from the options; a transport it cannot carry over must not
    be silently replaced by the network (the requests would go somewhere else)."""
    import httpx

    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    for client in (
        mn.MimoClient(KEY, base_url="http://127.0.0.1:9/v1", transport=transport),
        mn.MimoClient(KEY, base_url="http://127.0.0.1:9/v1", transport=transport).with_options(
            timeout=5
        ),
    ):
        with pytest.raises(mn.ConfigurationError, match="asweep") as caught:
            mn.sweep(client, _tasks(clips)[:1], fps=1, progress=False)
        assert KEY not in str(caught.value)
        client.close()
    assert sent == []


# ---- the numbers ------------------------------------------------------------------------------


def _constructed(outcomes: dict[float, list[bool | None]], answer: str = "B") -> SweepResult:
    """A sweep's result built by hand: per fps the tasks' outcomes, tokens growing with fps."""
    n = len(next(iter(outcomes.values())))
    tasks = tuple(
        SweepTask(f"t{i}", "clip.mp4", "Which?", "B", ("x", "y"), resolve("choice"))
        for i in range(n)
    )
    rows = tuple(
        SweepRow(
            f"t{i}",
            fps,
            "default",
            "answered",
            Score(correct, answer if correct is not None else None, "B"),
            "choice",
            answer=answer,
            model=STAND_IN,
            origin="live",
            est_prompt_tokens=int(100 * fps),
            prompt_tokens=int(100 * fps) + 2,
            est_cost=fps / 1000,
            cost=fps / 1000,
        )
        for fps, column in outcomes.items()
        for i, correct in enumerate(column)
    )
    settings = tuple((fps, "default") for fps in outcomes)
    return SweepResult(tasks, settings, rows, (), "CNY", 0.0)


T, F = True, False


def test_summary_compare_and_recommend_on_a_constructed_case() -> None:
    # fps 4 gets all 20; fps 1 misses 2 of them (p = 0.5); fps 0.5 misses 10 (p = 2^-9)
    result = _constructed(
        {0.5: [T] * 10 + [F] * 10, 1: [T] * 18 + [F] * 2, 4: [T] * 20},
    )
    summary = result.summary().set_index("setting")
    for label, right in (("fps 0.5, default", 10), ("fps 1, default", 18), ("fps 4, default", 20)):
        interval = wilson_interval(right, 20)
        row = summary.loc[label]
        assert (row["n"], row["correct"]) == (20, right)
        assert (row["accuracy"], row["ci_low"], row["ci_high"]) == (
            interval.estimate,
            interval.low,
            interval.high,
        )
        assert row["interval"] == interval.text()
    assert summary.loc["fps 1, default", "mean_prompt_tokens"] == 102  # reported, not estimated
    assert summary.loc["fps 1, default", "mean_est_prompt_tokens"] == 100
    comparison = result.compare(4, "fps 0.5, default")
    assert (comparison.only_first, comparison.only_second) == (10, 0)
    assert comparison.p_value == mcnemar_exact(10, 0) == 2 / 2**10
    assert result.compare((4.0, "default"), 1).p_value == 0.5
    table = result.comparisons()
    assert table["setting"].tolist() == ["fps 0.5, default", "fps 1, default"]
    assert table["p_value"].tolist() == [mcnemar_exact(10, 0), mcnemar_exact(2, 0)]
    assert table["difference"].tolist() == [0.5, 0.1]
    assert set(table["test"]) == {"McNemar's exact test, two-sided"}
    chosen = result.recommend()
    assert (chosen.setting, chosen.best) == ("fps 1, default", "fps 4, default")
    assert chosen.reason.endswith("The answers came from the rule-based stand-in, not a model.")
    assert set(summary["answered_by"]) == {"stand-in"}
    assert "McNemar's exact test" in chosen.reason and "fps 0.5, default (p = 0.00195)" in (
        chosen.reason
    )
    assert result.recommend(within=0.05).setting == "fps 4, default"  # 10 points below: too far
    assert [s.label for s in result.frontier()] == [
        "fps 0.5, default",
        "fps 1, default",
        "fps 4, default",
    ]
    with pytest.raises(mn.LimitError, match="no single setting 3"):
        result.compare(3, 4)


def test_missing_answers_block_comparisons_but_not_the_summary() -> None:
    result = _constructed({1: [T, F], 2: [T, T]})
    rows = list(result.rows)
    rows[1] = SweepRow("t1", 1, "default", "skipped", Score(None, None, "B", "no answer"), "choice")
    partial = SweepResult(result.tasks, result.settings, tuple(rows), (), "CNY", 0.0)
    assert partial.missing == 1
    assert partial.summary()["unanswered"].tolist() == [1, 0]
    with pytest.raises(mn.LimitError, match="1 of 4 task x setting pairs have no answer"):
        partial.recommend()
    html = partial._repr_html_()
    assert "answers are missing" in html and "skipped" in html


def test_the_plot_shows_intervals_the_frontier_and_the_recommendation() -> None:
    result = _constructed({0.5: [T] * 10 + [F] * 10, 1: [T] * 18 + [F] * 2, 4: [T] * 20})
    ax = plot_sweep(result)
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1  # one media_resolution: one series of three points with error bars
    x, y = bars[0].lines[0].get_data()
    np.testing.assert_allclose(y, [0.5, 0.9, 1.0])
    np.testing.assert_allclose(x, [52, 102, 402])
    star = next(c for c in ax.collections if c.get_gid() == "recommended")
    assert star.get_offsets().tolist() == [[102.0, 0.9]]  # fps 1: not significantly below
    assert any(line.get_gid() == "frontier" for line in ax.lines)
    assert result.plot().get_ylabel() == "accuracy (95% Wilson interval)"


def test_the_html_labels_the_stand_in_and_escapes_hostile_answers() -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)> B"
    html = _constructed({1: [T, T], 2: [T, T]}, answer=hostile)._repr_html_()
    assert "rule-based stand-in, not a model" in html and "mimo-stand-in" in html
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "Recommended: fps 1, default" in html and "Wilson" in html
    assert "McNemar&#x27;s exact test, two-sided" in html  # escaped, as every string


def test_a_model_answer_is_shown_as_such_and_escaped_end_to_end(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    response = spec_example_json()
    response["choices"][0]["message"]["content"] = "<script>alert(1)</script> The answer is B."
    tasks = [
        {"video": clips["short"], "question": "Which?", "choices": ["x", "y"], "expected": "y"}
    ]
    with MockMimoServer(api_key=KEY, response=response) as server:
        result = _run(server, tasks)
    table = result.to_pandas()
    assert table["answered_by"].tolist() == ["model", "model"] and not result.stand_in
    assert table["extracted"].tolist() == ["B", "B"] and table["correct"].all()
    html = result._repr_html_()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    assert "not a model" not in html and "not a model" not in result.recommend().reason
    assert result.summary()["answered_by"].tolist() == ["model", "model"]


# ---- bad tasks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([], "tasks is empty"),
        ("clip.mp4", "tasks must be a DataFrame or a list of dicts"),
        ([{"video": "a.mp4", "question": "q"}], "task 0 has no expected"),
        ([{"video": "a.mp4", "question": " ", "expected": "1"}], "question must be a non-empty"),
        (
            [{"id": 1, "video": "a.mp4", "question": "q", "expected": "1"}] * 2,
            "task id '1' appears twice",
        ),
        (
            [{"video": "a.mp4", "question": "q", "expected": "A", "choices": "ab"}],
            "choices must be a list",
        ),
        (
            [{"video": "a.mp4", "question": "q", "expected": "A", "choices": ["x"]}],
            "holds 1 options",
        ),
        (
            [{"video": "a.mp4", "question": "q", "expected": "A", "choices": ["x", "x"]}],
            "option 'x' appears twice",
        ),
        (
            [{"video": "a.mp4", "question": "q", "expected": "E", "choices": ["x", "y"]}],
            "must be an option letter",
        ),
        (
            [{"video": "a.mp4", "question": "q", "expected": "1", "scorer": "fuzzy"}],
            "scorer must be one of 'exact', 'choice', 'number'",
        ),
        ([{"video": "a.mp4", "question": "q", "expected": float("nan")}], "expected is blank"),
        ([{"video": 3, "question": "q", "expected": "1"}], "video must be a path or a Video"),
        ([{"video": "a.mp4", "question": "q", "expected": "?!"}], "holds no word or number"),
        (
            [{"video": "a.mp4", "question": "q", "expected": "many", "scorer": "number"}],
            "must be a number",
        ),
    ],
)
def test_bad_tasks_are_refused_with_what_to_do(tasks: object, message: str) -> None:
    with pytest.raises(mn.LimitError, match=message):
        check_tasks(tasks)


def test_a_dataframe_of_tasks_and_a_broken_video_are_checked_before_sending(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.DataFrame(_tasks(clips)).drop(columns=["scorer"])
    checked = check_tasks(frame, "exact")  # choices blank (NaN) in the rows without them
    assert [t.choices for t in checked] == [None, None, ("0", "39")]
    assert [t.scorer.name for t in checked] == ["exact"] * 3
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        with pytest.raises(mn.VideoError, match="task 'bad'"):
            _run(server, [{"id": "bad", "video": broken, "question": "q", "expected": "1"}])
        with pytest.raises(mn.LimitError, match="setting .* appears twice"):
            asyncio.run(_grid_twice(server, _tasks(clips)))
        assert server.requests == []


def test_asweep_needs_the_async_client_and_says_which_to_call(clips: dict[str, Path]) -> None:
    with pytest.raises(mn.LimitError, match=r"call mn.sweep\(client, tasks"):
        asyncio.run(asweep(mn.MimoClient(KEY), _tasks(clips)))  # type: ignore[arg-type]


async def _grid_twice(server: MockMimoServer, tasks: object) -> None:
    async with mn.AsyncMimoClient(KEY, base_url=server.base_url) as client:
        await asweep(client, tasks, fps=[1, 1.0], progress=False)


def test_rescore_reads_the_same_answers_again_without_sending(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    with MockMimoServer(api_key=KEY, answer="rules") as server:
        result = _run(server, _tasks(clips)[:2], tmp_path / "answers")
        sent = len(server.requests)
        counted = result.rescore(lambda output, expected: "frames" in output)
        assert len(server.requests) == sent
    assert counted.to_pandas()["correct"].tolist() == [True] * 4
    assert counted.to_pandas()["scorer"].iloc[0] == "<lambda>"
