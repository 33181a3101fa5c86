"""The ``mimo-nb`` command: estimate, report and demo, and clean failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mimo_nb.cli import main
from mimo_nb.media.samples import generate_clip

SECTIONS = ["video", "frames", "tokens", "curves", "cost", "answer"]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: a fresh process, its exit status and both streams."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd or Path.cwd())}  # no MIMO_API_KEY
    return subprocess.run(
        [sys.executable, "-m", "mimo_nb.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_clip(
        tmp_path_factory.mktemp("cli") / "clip.mp4", duration=2.0, width=160, height=120
    )


def test_estimate_prints_the_spec_figure() -> None:
    done = _run("estimate", "--duration", "60", "--width", "1920", "--height", "1080")
    assert done.returncode == 0, done.stderr
    total = [line for line in done.stdout.splitlines() if line.startswith("total")]
    assert total and "17,240" in total[0]


def test_estimate_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["estimate", "--duration", "60", "--width", "1920", "--height", "1080", "--fps", "5"])
        == 0
    )
    assert "42,830" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "--duration", "60", "--width", "1920", "--height", "1080", "--fps", "20"],
        ["estimate", "--duration", "60", "--width", "1920", "--height", "1080", "--fps", "0.05"],
        ["report", "missing.mp4", "--fps", "11"],
        ["demo", "--out", "never", "--fps", "0"],
    ],
)
def test_bad_fps_is_a_clear_message_not_a_traceback(args: list[str], tmp_path: Path) -> None:
    done = _run(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "fps" in done.stderr and "[0.1, 10.0]" in done.stderr
    assert not (tmp_path / "never").exists()  # rejected before doing anything


def test_non_number_fps_is_rejected_by_argparse(tmp_path: Path) -> None:
    done = _run(
        "estimate",
        "--duration",
        "60",
        "--width",
        "1",
        "--height",
        "1",
        "--fps",
        "fast",
        cwd=tmp_path,
    )
    assert (
        done.returncode == 2
        and "invalid float value" in done.stderr
        and "Traceback" not in done.stderr
    )


def test_missing_video_is_a_clear_message(tmp_path: Path) -> None:
    done = _run("report", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "r.html"), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nope.mp4" in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_writes_every_section(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "report.html"
    assert main(["report", str(clip), "-o", str(out), "--fps", "1", "--prompt", "What moves?"]) == 0
    printed = capsys.readouterr().out
    assert "dry run: not sent" in printed and f"report written to {out.resolve()}" in printed
    text = out.read_text(encoding="utf-8")
    for name in SECTIONS:
        assert f"<section id='{name}'>" in text
    assert "What moves?" in text and "dry run: not sent" in text
    assert "fps 1 · media_resolution default" in text


def test_demo_generates_a_clip_and_its_report(tmp_path: Path) -> None:
    done = _run("demo", "--output", "demo-output", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = tmp_path / "demo-output" / "report.html"
    assert (tmp_path / "demo-output" / "sample.mp4").stat().st_size > 0
    assert f"report written to {report.resolve()}" in done.stdout
    text = report.read_text(encoding="utf-8")
    for name in SECTIONS:
        assert f"<section id='{name}'>" in text
    assert "sample.mp4" in text and "dry run: not sent" in text


def test_report_on_a_video_over_the_frame_cap_plans_its_segments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 260 s at fps 10 asks for 2,600 frames: one request keeps 2,048
    long = generate_clip(
        tmp_path / "long.mp4", duration=260, width=64, height=48, fps=2, audio=False,
        preset="ultrafast",
    )  # fmt: skip
    out = tmp_path / "report.html"
    assert main(["report", str(long), "-o", str(out), "--fps", "10"]) == 0
    printed = capsys.readouterr().out
    assert "over the limits: at fps 10 the video asks for 2,600 frames and one request keeps" in (
        printed
    )
    assert "the report plans 2 segments at fps 10" in printed
    text = out.read_text(encoding="utf-8")
    where = [text.find(f"<section id='{name}'>") for name in ["tokens", "segments", "curves"]]
    assert 0 < where[0] < where[1] < where[2]
    segments = text[where[1] : where[2]]
    assert segments.count("class='mimo-band'") == 2
    assert "2 segments" in segments and "00:02:10" in segments  # the cut, half way


def test_report_within_the_limits_has_no_segments_section(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(clip), "-o", str(out), "--fps", "10"]) == 0
    assert "<section id='segments'>" not in out.read_text(encoding="utf-8")
