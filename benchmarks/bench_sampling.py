"""Sampling speed and memory: mimo_nb against the two obvious ways of getting the model's frames.

    python benchmarks/bench_sampling.py            # all cases (about 10 minutes the first time)
    python benchmarks/bench_sampling.py --quick    # the 1080p clip only

Clips (generated with mimo_nb.samples, cached in $TMPDIR/mimo_nb_bench):
  A  60 s, 1920x1080, 30 fps, H.264, a keyframe every 250 frames (x264 veryfast: B-frames)
  B  10 min, 1280x720, 30 fps, H.264 (x264 ultrafast, default GOP 250), to keep generation short

For fps 0.5, 2 and 10 each case runs in its own process (so peak memory is its own) and returns
the formula's frames at the formula's size, in one of three ways:
  mimo_nb   Video.open(path).sample(fps): decode at the target size, keep only the planned frames
            (default backend: PyAV); "mimo_nb[decord]" the same with MIMO_NB_BACKEND=decord
  pyav_all  (a) decode every frame with PyAV; convert the planned ones to RGB; Pillow resize
  decord    (b) decord VideoReader(path).get_batch(indices) at native size; Pillow resize
Each run checks the frame counters drawn into the clip. Peak memory is the child's ru_maxrss
minus its resident size before the work started. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FPS_VALUES = (0.5, 2, 10)
CLIPS = {
    "A 60s 1080p30 gop250": dict(name="bench_1080p_60s_gop250.mp4", duration=60, width=1920, height=1080, fps=30, gop=250, preset="veryfast"),
    "B 10min 720p30": dict(name="bench_720p_600s.mp4", duration=600, width=1280, height=720, fps=30, preset="ultrafast"),
}
METHODS = ("mimo_nb", "mimo_nb_decord", "pyav_all", "decord")


def cache_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "mimo_nb_bench"
    path.mkdir(exist_ok=True)
    return path


def ensure_clip(spec: dict) -> Path:
    from mimo_nb.samples import generate_clip

    spec = dict(spec)
    path = cache_dir() / spec.pop("name")
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".part.mp4")
        generate_clip(partial, **spec)
        partial.rename(path)
        print(f"  generated {path.name} in {time.perf_counter() - start:.1f} s", flush=True)
    return path


# ---- what runs in the child process ---------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _resize_all(frames, size):  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(f).resize(size, Image.BICUBIC)) for f in frames])


def child(method: str, path: str, fps: float) -> None:
    import numpy as np

    from mimo_nb.samples import read_frame_counter
    from mimo_nb.video import Video

    video = Video.open(path)
    plan = video.plan(fps)
    indices = plan.indices(video.native_frame_count)
    size = (plan.width, plan.height)
    import av  # noqa: F401  (imported before the baseline RSS, like decord below)

    if method == "decord":
        import decord  # noqa: F401
    before = _rss_mb()
    start = time.perf_counter()
    if method in ("mimo_nb", "mimo_nb_decord"):
        out = video.sample(fps).array
    elif method == "pyav_all":
        wanted = {int(i) for i in indices}
        picked = {}
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    picked[i] = frame.to_ndarray(format="rgb24")
        out = _resize_all([picked[int(i)] for i in indices], size)
    else:
        reader = decord.VideoReader(path)
        native = reader.get_batch(list(map(int, indices))).asnumpy()
        out = _resize_all(native, size)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    checks = np.linspace(0, len(out) - 1, min(8, len(out))).astype(int)
    correct = all(read_frame_counter(out[k]) == int(indices[k]) for k in checks)
    print(json.dumps(dict(seconds=seconds, peak_mb=peak - before, frames=len(out), out_mb=out.nbytes / 2**20,
                          size=f"{size[0]}x{size[1]}", correct=correct)))


def run_case(method: str, path: Path, fps: float, timeout: float) -> dict:
    env = dict(os.environ)
    env.pop("MIMO_NB_BACKEND", None)
    if method == "mimo_nb_decord":
        env["MIMO_NB_BACKEND"] = "decord"
    cmd = [sys.executable, __file__, "--child", method, str(path), str(fps)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return dict(error=f"over {timeout:.0f} s")
    if done.returncode != 0:
        return dict(error=(done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:60])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the 1080p clip only")
    parser.add_argument("--timeout", type=float, default=240, help="seconds allowed per case")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return
    from mimo_nb.decode import decode_backend

    print(f"mimo_nb backend: {decode_backend()}; {os.cpu_count()} CPUs; clips cached in {cache_dir()}", flush=True)
    header = (f"{'clip':<22} {'fps':>4} {'frames':>6} {'size':>9} | {'mimo_nb':>14} | {'mimo_nb[decord]':>15} | "
              f"{'(a) pyav_all':>20} | {'(b) decord':>20} | ok")
    rows = []
    for label, spec in CLIPS.items():
        if args.quick and label.startswith("B"):
            continue
        path = ensure_clip(spec)
        for fps in FPS_VALUES:
            results = {m: run_case(m, path, fps, args.timeout) for m in METHODS}
            ours = results["mimo_nb"]

            def cell(r: dict, with_ratio: bool) -> str:
                if "error" in r:
                    return f"{'ERR ' + r['error']:>14}"[:20]
                text = f"{r['seconds']:6.2f}s {r['peak_mb']:5.0f}MB"
                if with_ratio and "seconds" in ours:
                    text += f" x{r['seconds'] / ours['seconds']:4.1f}"
                return text

            ok = all(r.get("correct") for r in results.values())
            row = (f"{label:<22} {fps:>4g} {ours.get('frames', '?'):>6} {ours.get('size', '?'):>9} | {cell(ours, False):>14} | "
                   f"{cell(results['mimo_nb_decord'], False):>15} | "
                   f"{cell(results['pyav_all'], True):>20} | {cell(results['decord'], True):>20} | {'yes' if ok else 'NO'}")
            rows.append(row)
            if len(rows) == 1:
                print(header)
            print(row, flush=True)
    print("times: wall seconds; MB: peak RSS growth during the work; xN: baseline time / mimo_nb time "
          "(default backend; >1 means mimo_nb is faster); ok: frame counters checked in every method")


if __name__ == "__main__":
    main()
