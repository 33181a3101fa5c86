"""The ``mimo-nb`` command: token estimates, HTML reports and a demo, from the shell.

    mimo-nb estimate --duration 60 --width 1920 --height 1080  # the spec's 17,240 tokens
    mimo-nb report clip.mp4 -o report.html --fps 1              # one self-contained HTML file
    mimo-nb demo --output demo-output                           # a generated clip and its report

Every mimo_nb error ends the command with its message on stderr and exit status 2, never a
traceback. ``report`` asks the model only when ``MIMO_API_KEY`` is set; otherwise the report
shows the exact request, labelled "dry run: not sent".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mimo_nb.core.tokens import MEDIA_RESOLUTIONS, explain_video_tokens
from mimo_nb.errors import MimoError, VideoError

DEMO_CLIP = "sample.mp4"
DEMO_REPORT = "report.html"
DEMO_SECONDS = 4.0  # short: the demo runs in seconds on a laptop


def _estimate(args: argparse.Namespace) -> int:
    breakdown = explain_video_tokens(
        args.duration, args.width, args.height, args.fps, args.media_resolution, args.mute
    )
    print(breakdown)
    return 0


def _mode() -> str:
    return (
        "asking the model (MIMO_API_KEY is set)"
        if os.environ.get("MIMO_API_KEY")
        else "dry run: not sent (no MIMO_API_KEY)"
    )


def _check_knobs(args: argparse.Namespace) -> None:
    """Every argument checked before anything is printed or decoded."""
    from mimo_nb.display.report import check_knobs

    check_knobs(args.fps, args.media_resolution, args.max_completion_tokens)


def _write(video: Any, out: Path, args: argparse.Namespace) -> int:
    from mimo_nb.display.report import collect_report, render_report, write_html

    data = collect_report(
        video,
        fps=args.fps,
        media_resolution=args.media_resolution,
        prompt=args.prompt,
        max_completion_tokens=args.max_completion_tokens,
    )
    write_html(out, render_report(data))
    b = data.breakdown
    print(
        f"{b.total:,} estimated video tokens ({b.frames} frames at {b.width}x{b.height}); "
        f"estimated cost up to {data.cost.total:.6f} {data.cost.currency}"
    )
    if data.over_limits:
        plan = data.segment_plan
        print(
            f"over the limits: {'; '.join(data.over_limits)}; "
            + (
                f"the report plans {len(plan.segments)} segments at fps {plan.fps:g}"
                if plan is not None
                else f"no segment plan: {data.segment_error}"
            )
        )
    if data.error:
        print(f"mimo-nb: the model was not reached: {data.error}", file=sys.stderr)
    print(f"report written to {out.resolve()}")
    return 1 if data.error else 0


def _report(args: argparse.Namespace) -> int:
    from mimo_nb.display.report import check_output
    from mimo_nb.media.video import Video

    _check_knobs(args)  # validate first (knobs, output, video), then print
    out = check_output(args.output)
    video = Video.open(args.video)
    print(_mode())
    return _write(video, out, args)


def _demo(args: argparse.Namespace) -> int:
    from mimo_nb.display.report import check_output
    from mimo_nb.media.samples import generate_clip

    _check_knobs(args)
    out_dir = _folder(args.output)
    report = check_output(out_dir / DEMO_REPORT)
    clip = generate_clip(out_dir / DEMO_CLIP, duration=DEMO_SECONDS, width=320, height=240)
    print(f"generated a {DEMO_SECONDS:g} s sample clip: {clip.resolve()}")
    print(_mode())
    return _write(clip, report, args)


def _folder(text: str) -> Path:
    """The folder ``demo`` writes into, made if missing; :class:`VideoError` ``unwritable`` if
    it is a file or cannot be made."""
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise VideoError(
            f"{text!r} is a file; demo writes a clip and a report into a folder. "
            "Give a folder's name (it is created if missing).",
            reason="unwritable",
            source=text,
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise VideoError(
            f"Cannot make the folder {text!r}: {reason}. Pick a place you may write.",
            reason="unwritable",
            source=text,
        ) from None
    return folder


def _add_sampling(parser: argparse.ArgumentParser) -> None:
    """The two knobs of the API, for every command."""
    parser.add_argument(
        "--fps", type=float, default=2.0, help="frames sampled per second, 0.1-10 (default 2)"
    )
    parser.add_argument(
        "--media-resolution",
        choices=MEDIA_RESOLUTIONS,
        default="default",
        help="default or max (default: default)",
    )


def _add_knobs(parser: argparse.ArgumentParser) -> None:
    _add_sampling(parser)
    parser.add_argument("--prompt", default=None, help="the question to ask about the video")
    parser.add_argument(
        "--max-completion-tokens",
        type=int,
        default=1024,
        help="the answer's budget, reasoning included (default 1024)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimo-nb", description="MiMo video tokens, frames and costs."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    est = sub.add_parser(
        "estimate", help="print the token breakdown of a video of given size and length"
    )
    est.add_argument("--duration", type=float, required=True, help="seconds")
    est.add_argument("--width", type=int, required=True, help="pixels")
    est.add_argument("--height", type=int, required=True, help="pixels")
    _add_sampling(est)
    est.add_argument("--mute", action="store_true", help="the video has no audio")
    est.set_defaults(run=_estimate)

    rep = sub.add_parser("report", help="write a self-contained HTML report about one video")
    rep.add_argument("video", help="a local video file (MP4, MOV, AVI, WMV) or an http(s) URL")
    rep.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="where to write the HTML (default report.html)",
    )
    _add_knobs(rep)
    rep.set_defaults(run=_report)

    demo = sub.add_parser("demo", help="generate a sample clip and write its report")
    demo.add_argument(
        "-o", "--output", default="demo-output", help="directory for the clip and report.html"
    )
    _add_knobs(demo)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "prompt", "") is None:
        from mimo_nb.display.report import DEFAULT_PROMPT

        args.prompt = DEFAULT_PROMPT
    try:
        return args.run(args)
    except MimoError as exc:
        print(f"mimo-nb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mimo-nb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
