"""The hostile corpus of arguments (issue 19, items 2, 9 and 10, and their siblings).

Every public function that takes a number, a size or a choice checks it through one layer
(:mod:`mimo_nb.core.validate`): NaN, infinities, negatives, ``True`` for a number, ``1.5`` for a
whole number and frames with no pixels are a :class:`LimitError` (a :class:`MimoError`) that
says what was wrong, never a bare ``ValueError``, ``TypeError``, ``KeyError`` or a silently
wrong answer. Files that cannot be written are a :class:`VideoError` ``unwritable``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import mimo_nb as mn
from mimo_nb.cli import main
from mimo_nb.core import validate
from mimo_nb.core.budget import plan_budget_many
from mimo_nb.core.pricing import check_context
from mimo_nb.core.profiles import PROFILES
from mimo_nb.core.tokens import validate_fps
from mimo_nb.display.report import write_report
from mimo_nb.errors import ConfigurationError, LimitError, MimoError, VideoError

NAN, INF = float("nan"), float("inf")
PRICES = mn.Prices(input=1.0, cached_input=0.02, output=2.0, currency="CNY")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mn.generate_clip(
        tmp_path_factory.mktemp("hostile") / "clip.mp4", duration=2.0, width=160, height=120
    )


@pytest.fixture(scope="module")
def thin_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 x 2000 px: under the default cap most fps floor its width to 0 in the formula."""
    return mn.generate_clip(
        tmp_path_factory.mktemp("thin") / "thin.mp4", duration=4.0, width=2, height=2000, fps=10
    )


@pytest.fixture(scope="module")
def frames(clip: Path) -> mn.Frames:
    return mn.Video.open(clip).sample(fps=2)


# ---- Item 2: the planner never proposes a frame with no pixels ------------------------------


@pytest.mark.parametrize("width,height", [(2, 2000), (4000, 2)])
def test_the_planner_proposes_only_frames_with_pixels(width: int, height: int) -> None:
    plan = mn.plan_budget(duration=60, width=width, height=height, max_tokens=20_000)
    assert plan.best is not None  # was fps 10 at 0 x 17504 (2 x 2000)
    assert plan.best.width >= 1 and plan.best.height >= 1
    assert plan.settings and all(s.width >= 1 and s.height >= 1 for s in plan.settings)
    assert all(s.width >= 1 and s.height >= 1 for s in plan.frontier)
    assert plan.cheapest is not None and plan.cheapest.width >= 1 and plan.cheapest.height >= 1
    table = plan_budget_many([60], [width], [height], max_tokens=20_000)
    assert table.fits[0] and table.width[0] >= 1 and table.height[0] >= 1


def test_a_video_no_setting_gives_pixels_gets_no_recommendation() -> None:
    # 1 x 10000 floors to width 0 at every fps under both media_resolutions (10,000:1)
    plan = mn.plan_budget(duration=60, width=1, height=10000, max_tokens=20_000)
    assert plan.best is None and plan.settings == () and plan.cheapest is None
    assert not plan_budget_many([60], [1], [10000], max_tokens=20_000).fits[0]


def test_what_the_planner_proposes_is_what_sample_accepts(thin_clip: Path) -> None:
    video = mn.Video.open(thin_clip)
    with pytest.raises(LimitError, match="no pixels"):
        video.sample(fps=2)  # the formula floors 2 x 2000 to 0 x 17504 here
    best = mn.plan_budget(video, max_tokens=20_000).best
    assert best is not None
    frames = video.sample(best.fps, best.media_resolution)
    assert frames.shape[1:3] == (best.height, best.width)


def test_compare_profiles_names_the_refusal_instead_of_width_0(thin_clip: Path) -> None:
    view = mn.compare_profiles(mn.Video.open(thin_clip), fps=2, thumbnails=False).view("mimo-api")
    assert view.error is not None and "no pixels" in view.error


def test_the_api_profile_refuses_no_pixels_as_the_servers_do() -> None:
    with pytest.raises(LimitError, match="no pixels"):
        PROFILES["mimo-api"].plan(60, 2, 2000, fps=10)
    out = PROFILES["mimo-api"].tokens_array(60, 2, 2000, 10.0)
    assert int(out["tokens"]) == -1 and int(out["vision"]) == -1


@pytest.mark.parametrize(
    "call",
    [
        lambda: mn.estimate_video_tokens(60, 1.5, 2.5),
        lambda: mn.estimate_video_tokens_array(60, 1.5, 2.5),
        lambda: mn.estimate_video_tokens_array(60, [640, 1.5], 360),
        lambda: mn.plan_sampling(60, 1920.5, 1080),
        lambda: mn.plan_budget(duration=60, width=1.5, height=2.5, max_tokens=20_000),
        lambda: plan_budget_many([60], [1.5], [2.5], max_tokens=20_000),
        lambda: PROFILES["mimo-vl"].plan(60, 1.5, 2.5, native_fps=30),
        lambda: PROFILES["qwen3-vl"].tokens_array(60, 1.5, 2.5, 2.0, native_fps=30),
        lambda: mn.plan_budget(
            duration=60,
            width=640,
            height=360,
            max_tokens=20_000,
            profile="mimo-vl",
            native_fps=30,
            native_frame_count=1800.5,
        ),
        lambda: plan_budget_many(
            [60], [640], [360], max_tokens=20_000, profile="mimo-vl", native_frame_count=[1.5]
        ),
    ],
)
def test_a_fraction_of_a_pixel_or_frame_is_refused_everywhere(call) -> None:
    with pytest.raises(LimitError, match="whole number"):
        call()


def test_scalar_and_array_estimators_refuse_the_same_extremes() -> None:
    for args in [(1e18, 640, 360), (60, 10**9, 360), (60, True, 360)]:
        with pytest.raises(LimitError):
            mn.estimate_video_tokens(*args)
        with pytest.raises(LimitError):
            mn.estimate_video_tokens_array(*args)
    assert mn.estimate_video_tokens(60, 1920.0, 1080.0) == 17240  # whole floats are sizes
    assert int(mn.estimate_video_tokens_array(60, 1920.0, 1080.0)) == 17240


# ---- Item 9: a MimoError where a bare exception was -----------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_into_a_folder_is_one_line_and_a_non_zero_exit(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(capsys, "report", str(clip), "-o", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "is a folder" in err and "report.html" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_report_to_a_full_disk_is_one_line_and_a_non_zero_exit(
    clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(capsys, "report", str(clip), "-o", "/dev/full")
    assert code == 2 and err.count("\n") == 1 and "no space left" in err
    with pytest.raises(VideoError, match="no space left") as caught:
        write_report(clip, "/dev/full")
    assert caught.value.reason == "unwritable"


def test_demo_into_an_existing_file_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code, out, err = _cli(capsys, "demo", "-o", str(taken))
    assert code == 2 and out == "" and "is a file" in err and err.count("\n") == 1
    assert taken.read_text() == "mine"


def test_write_report_into_a_folder_is_a_video_error(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="is a folder") as caught:
        write_report(clip, tmp_path)
    assert caught.value.reason == "unwritable" and isinstance(caught.value, MimoError)


def test_report_of_a_folder_says_nothing_before_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(capsys, "report", str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert code == 2 and out == "" and "dry run" not in out + err and "folder" in err


def test_report_checks_its_knobs_before_it_prints(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(
        capsys,
        "report",
        str(clip),
        "-o",
        str(tmp_path / "r.html"),
        "--max-completion-tokens",
        "-1",
    )
    assert code == 2 and out == "" and "max_completion_tokens" in err


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"output_tokens": NAN, "max_tokens": 20_000}, "output_tokens"),
        ({"output_tokens": -(10**10), "max_cost": 1.0, "prices": PRICES}, "output_tokens"),
        ({"output_tokens": 1.5, "max_tokens": 20_000}, "output_tokens"),
        ({"max_cost": 1.0, "prices": {"input": 1}}, "cached_input, output"),
        ({"max_cost": 1.0, "prices": "cheap"}, "prices must be a mimo_nb.Prices"),
    ],
)
def test_plan_budget_refuses_bad_budgets(kwargs, match) -> None:
    with pytest.raises(LimitError, match=match):
        mn.plan_budget(duration=60, width=1920, height=1080, **kwargs)


def test_prices_as_a_mapping_are_checked_and_then_accepted() -> None:
    with pytest.raises(LimitError, match="missing cached_input, output"):
        mn.estimate_cost(1000, {"input": 1})
    with pytest.raises(LimitError, match="unknown colour"):
        mn.estimate_cost(1000, {"input": 1, "cached_input": 0, "output": 2, "colour": "red"})
    as_map = {"input": 1.0, "cached_input": 0.02, "output": 2.0, "currency": "CNY"}
    assert mn.estimate_cost(1000, as_map).total == mn.estimate_cost(1000, PRICES).total
    plan = mn.plan_budget(duration=60, width=1920, height=1080, max_cost=0.1, prices=as_map)
    assert plan.prices == PRICES


def test_plan_budget_many_with_mismatched_lengths_names_them() -> None:
    with pytest.raises(LimitError, match="duration has 2 elements but width has 3"):
        plan_budget_many([10, 60], [640, 1920, 1280], [360], max_tokens=20_000)
    with pytest.raises(LimitError, match="native_fps"):
        plan_budget_many(
            [10, 60], 640, 360, max_tokens=20_000, profile="mimo-vl", native_fps=[30, 30, 30]
        )
    ok = plan_budget_many([10, 60], [640], 360, max_tokens=20_000)  # one value for all
    assert len(ok) == 2


@pytest.mark.parametrize("fps", [0.0001, 0.001])
def test_saving_a_gif_at_an_unplayable_rate_is_a_limit_error(
    frames: mn.Frames, tmp_path: Path, fps: float
) -> None:
    with pytest.raises(LimitError, match="fps"):  # was an OverflowError from Pillow
        frames.save(tmp_path / "y.gif", fps=fps)
    assert not (tmp_path / "y.gif").exists()
    assert frames.save(tmp_path / "slow.gif", fps=0.01).stat().st_size > 0  # the slowest kept


@pytest.mark.parametrize(
    "make",
    [
        lambda: mn.BudgetExplorer(duration=NAN, debounce=0),
        lambda: mn.BudgetExplorer(duration=-60, debounce=0),
        lambda: mn.BudgetExplorer(cache_size=-1, debounce=0),
        lambda: mn.BudgetExplorer(cache_size=0, debounce=0),
        lambda: mn.BudgetExplorer(max_tokens=-5, debounce=0),
        lambda: mn.BudgetExplorer(prices={"input": 1}, debounce=0),
        lambda: mn.BudgetExplorer(output_tokens=NAN, debounce=0),
        lambda: mn.TokenCostExplorer(cache_size=-1, debounce=0),
        lambda: mn.TokenCostExplorer(fps=NAN, debounce=0),
        lambda: mn.TokenCostExplorer(native_fps=NAN, debounce=0),
        lambda: mn.TokenCostExplorer(preset="8K", debounce=0),
        lambda: mn.TokenCostExplorer(media_resolution="huge", debounce=0),
        lambda: mn.TokenCostExplorer(debounce=NAN),
    ],
)
def test_explorer_arguments_are_limit_errors_not_trait_or_key_errors(make) -> None:
    with pytest.raises(LimitError):
        make()


def test_frame_explorer_arguments_are_limit_errors(clip: Path) -> None:
    video = mn.Video.open(clip)
    for kwargs in [{"cache_size": -1}, {"size": "huge"}, {"columns": 0}, {"fps": 11}]:
        with pytest.raises(LimitError):
            mn.FrameExplorer(video, debounce=0, **kwargs)


# ---- Item 10: answers that mislead ----------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: mn.estimate_cost(1000, PRICES, output_tokens=-12 * 10**9),
        lambda: mn.estimate_cost(1000, PRICES, output_tokens=NAN),
        lambda: mn.estimate_cost(1.5, PRICES),
        lambda: mn.estimate_cost(-5, PRICES, cached_tokens=-5),
        lambda: mn.estimate_cost(1000, PRICES, cached_tokens=-1),
        lambda: check_context([1000], output_tokens=-1),
    ],
)
def test_negative_or_nan_token_counts_never_make_a_cost(call) -> None:
    with pytest.raises(LimitError):
        call()


def test_max_fps_refuses_a_nan_budget(clip: Path) -> None:
    with ThreadPoolExecutor(2) as threads:
        corpus = mn.Corpus.scan([clip], executor=threads, progress=False)
    for kwargs in [{"tokens": NAN}, {"tokens": -1}, {"tokens": 1.5}, {"cost": NAN}, {"cost": -1}]:
        with pytest.raises(LimitError, match="tokens|cost"):
            corpus.max_fps(**kwargs)
    assert corpus.max_fps(tokens=10**9).fps == 10.0


@pytest.mark.parametrize("key", [True, False, None, 1.5, "0", [True], np.bool_(True)])
def test_frames_refuse_keys_that_are_not_positions_or_masks(frames: mn.Frames, key) -> None:
    with pytest.raises(LimitError, match="Select with"):
        frames[key]


def test_frames_keep_the_keys_that_make_sense(frames: mn.Frames) -> None:
    assert frames[0].shape == frames.shape[1:]
    mask = [True, False, False, True]
    assert frames[mask].indices.tolist() == frames.indices[[0, 3]].tolist()
    assert frames[np.array([1, 0])].indices.tolist() == frames.indices[[1, 0]].tolist()
    assert frames[[-1]].indices.tolist() == frames.indices[-1:].tolist()
    assert len(frames[[]]) == 0 and len(frames[1:]) == len(frames) - 1
    assert frames[:, :8].shape[1] == 8  # a tuple indexes the array, as numpy does
    with pytest.raises(IndexError):
        frames[[len(frames)]]
    with pytest.raises(LimitError, match="one element per frame"):  # was numpy's IndexError
        frames[[True, False]]


@pytest.mark.parametrize("width", [0, -3, 1.5, NAN, True])
def test_players_refuse_a_width_that_is_not_pixels(clip: Path, frames: mn.Frames, width) -> None:
    with pytest.raises(LimitError, match="width"):
        frames.play(width=width)
    with pytest.raises(LimitError, match="width"):
        mn.Video.open(clip).play(width=width)


# ---- Siblings: the same mistakes elsewhere --------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_fps(True),
        lambda: validate_fps("2"),
        lambda: mn.Prices(input=True, cached_input=0, output=1),
        lambda: mn.generate_clip("never.mp4", noise=1.5),
        lambda: mn.compare_profiles(None, thumb_width=0),
        lambda: mn.compare_profiles(None, timeout=NAN),
    ],
)
def test_siblings_are_limit_errors(call) -> None:
    with pytest.raises(LimitError):
        call()


def test_client_options_go_through_the_layer_and_keep_their_configuration_error() -> None:
    for kwargs in [{"max_retries": -1}, {"max_retries": 1.5}, {"retry_base_delay": NAN}]:
        with pytest.raises(ConfigurationError):
            mn.MimoClient(api_key="sk-test", **kwargs)
    # a whole number is a count, as everywhere else (was refused as a float)
    assert mn.MimoClient(api_key="sk-test", max_retries=2.0).max_retries == 2


# ---- The layer itself -----------------------------------------------------------------------


def test_the_layer_says_what_was_wrong_and_what_to_do() -> None:
    with pytest.raises(LimitError, match=r"duration must be a positive, finite number, got nan"):
        validate.positive("duration", NAN)
    with pytest.raises(LimitError, match=r"got bool True\. \(seconds\)"):
        validate.number("timeout", True, hint="(seconds)")
    with pytest.raises(ConfigurationError):
        validate.positive_int("max_retries", -1, error=ConfigurationError)
    with pytest.raises(LimitError, match=r"every width .* got 1\.5 at 1"):
        validate.sizes([640, 1.5], 360)
    assert validate.positive_int("n", np.int64(3)) == 3 and validate.size(2.0, 4) == (2, 4)
    assert validate.number("x", None, allow_none=True) is None


# ---- A typo among the options a call passes on ------------------------------------------------


def _typo_calls(clip: Path) -> list[tuple[str, object]]:
    import asyncio

    from mimo_nb.corpus.long import ask_long
    from mimo_nb.media.segments import plan_video_segments

    offline = mn.AsyncMimoClient("test-key", base_url="http://127.0.0.1:9/v1", offline=True)
    sync = mn.MimoClient("test-key", base_url="http://127.0.0.1:9/v1", offline=True)
    task = [{"video": str(clip), "question": "What does the counter read?", "expected": "1"}]
    corpus = mn.Corpus.scan([clip], progress=False, executor="serial")
    video = mn.Video.open(clip)
    return [
        ("sweep", lambda: mn.sweep(sync, task, fsp=2, progress=False)),
        ("sweep", lambda: asyncio.run(mn.corpus.sweep.asweep(offline, task, temprature=0.2))),
        ("Corpus.ask", lambda: asyncio.run(corpus.ask(offline, "q?", concurency=2))),
        ("ask_long", lambda: asyncio.run(ask_long(offline, video, "q?", fps=1, overlapp=1))),
        ("plan_video_segments", lambda: plan_video_segments(video, fps=1, overlapp=1)),
        ("write_report", lambda: write_report(clip, clip.with_suffix(".html"), fsp=1)),
    ]


def test_a_typo_among_passed_on_options_names_the_call_and_the_option(clip: Path) -> None:
    """Before: TypeError from _check_ask_args() or plan_segments(), functions the caller never
    called (and for sweep only after probing every task). Now an UnknownOptionError, a
    LimitError and a TypeError both, naming the call, the closest option and every one."""
    for where, call in _typo_calls(clip):
        with pytest.raises(mn.LimitError, match=rf"^{where} got an unknown option") as caught:
            call()  # type: ignore[operator]
        assert isinstance(caught.value, TypeError)
        assert "Did you mean" in str(caught.value) and "It takes: " in str(caught.value)


def test_the_video_fills_its_own_segment_arguments(clip: Path) -> None:
    from mimo_nb.media.segments import plan_video_segments

    with pytest.raises(mn.LimitError, match="unknown option 'native_fps'"):
        plan_video_segments(mn.Video.open(clip), fps=1, native_fps=3)
