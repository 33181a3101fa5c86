"""The ``mimo-nb`` command: token estimates from the shell (more commands come with the report)."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .errors import MimoError
from .tokens import explain_video_tokens


def _estimate(args: argparse.Namespace) -> int:
    breakdown = explain_video_tokens(args.duration, args.width, args.height, args.fps, args.resolution, args.mute)
    print(breakdown)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mimo-nb", description="MiMo video tokens, frames and costs.")
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="print the token breakdown of a video of given size and length")
    est.add_argument("--duration", type=float, required=True, help="seconds")
    est.add_argument("--width", type=int, required=True, help="pixels")
    est.add_argument("--height", type=int, required=True, help="pixels")
    est.add_argument("--fps", type=float, default=2.0, help="frames sampled per second, 0.1-10 (default 2)")
    est.add_argument("--resolution", choices=["default", "max"], default="default", help="media_resolution")
    est.add_argument("--mute", action="store_true", help="the video has no audio")
    est.set_defaults(run=_estimate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except MimoError as exc:
        print(f"mimo-nb: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
