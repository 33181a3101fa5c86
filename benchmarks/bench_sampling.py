"""Sampling speed and memory: mimo_nb against the decode floor and the obvious ways of getting
the model's frames.

    python benchmarks/bench_sampling.py            # both tables and the explorer
                                                   # (about 20 minutes; clips cached)
    python benchmarks/bench_sampling.py --quick    # the 1080p rows only
    python benchmarks/bench_sampling.py --seek-cost  # a seek's cost in frames (SEEK_COST_FRAMES)
    python benchmarks/bench_sampling.py --explorer-only --repeats 3  # the explorer row alone

Clips (made with mimo_nb.media.samples.generate_clip: pixel noise, H.264 x264 veryfast, 30 fps, no
audio; cached in $TMPDIR/mimo_nb_bench):
  A  60 s 1920x1080, a keyframe every 250 frames
  B  10 min 1280x720, a keyframe every 250 frames
  C  20 min 640x360, a keyframe every 30 frames

Dense table (every frame must be decoded): A and B at fps 0.5, 2 and 10.
Sparse table (seeking pays): B at fps 0.1, C at fps 0.5.

Each method runs in its own process and returns the formula's frames at the formula's size:
  floor      decode every frame with PyAV (frame + slice threads), convert nothing: the floor
  pyav_pick  decode every frame with PyAV; convert the planned ones straight to the model size
  pyav_seek  for each planned frame: seek to it (backward, keyframe), decode up to it, convert
  decord     decord.VideoReader(path, width=, height=) (resizing inside decord), get_batch(indices)
  mimo_nb    mn.Video.open(path).sample(fps): the probe (one demux pass) is timed too
Every method's frames are checked against the frame counters drawn into the clip. Memory is the
child's peak RSS minus its RSS before the work. Ratios are to the floor measured in the same
row of the same run (the machine is shared and noisy: compare ratios, not seconds).

--seek-cost times mimo_nb's PyAV path forced to seek against forced to decode through, on 20 s
clips with a keyframe every 30 frames, for targets that make each seek skip d frames; the line
fitted to the extra time per seek against d crosses zero at the break-even: a seek's cost in
frames (wall time, and CPU time of every thread).

The explorer rows time a FrameExplorer on clip C at a new fps setting: first paint (the keyframe
preview) and the full grid (every exact frame), against sample() in the same process: rounds
alternate sample() and a new explorer, and the fastest of each counts.
Not part of the test suite.
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

CLIPS = {
    "A": dict(
        name="bench_1080p30_60s_gop250_noise.mp4",
        label="60 s 1080p30",
        seconds=60,
        width=1920,
        height=1080,
        gop=250,
    ),
    "B": dict(
        name="bench_720p30_600s_gop250_noise.mp4",
        label="10 min 720p30",
        seconds=600,
        width=1280,
        height=720,
        gop=250,
    ),
    "C": dict(
        name="bench_360p30_1200s_gop30_noise.mp4",
        label="20 min 360p30",
        seconds=1200,
        width=640,
        height=360,
        gop=30,
    ),
}
# --seek-cost: short clips with a keyframe every 30 frames, where seeks are frequent enough to time
SEEK_CLIPS = {
    "S360": dict(
        name="seek_360p30_20s_gop30_noise.mp4",
        label="360p",
        seconds=20,
        width=640,
        height=360,
        gop=30,
    ),
    "S720": dict(
        name="seek_720p30_20s_gop30_noise.mp4",
        label="720p",
        seconds=20,
        width=1280,
        height=720,
        gop=30,
    ),
    "S1080": dict(
        name="seek_1080p30_20s_gop30_noise.mp4",
        label="1080p",
        seconds=20,
        width=1920,
        height=1080,
        gop=30,
    ),
}
SKIPS = (2, 8, 14, 20, 26)  # frames a seek skips, per keyframe
DENSE = [("A", 0.5), ("A", 2), ("A", 10), ("B", 0.5), ("B", 2), ("B", 10)]
SPARSE = [("B", 0.1), ("C", 0.5)]
DENSE_METHODS = ("floor", "pyav_pick", "decord", "mimo_nb")
SPARSE_METHODS = ("floor", "pyav_seek", "decord", "mimo_nb")


def cache_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "mimo_nb_bench"
    path.mkdir(exist_ok=True)
    return path


def ensure_clip(key: str) -> Path:
    try:
        from mimo_nb.media.samples import generate_clip
    except ImportError:  # before the rename
        from mimo_nb.media.samples import sample_video as generate_clip  # type: ignore[no-redef]
    spec = dict({**CLIPS, **SEEK_CLIPS}[key])
    path = cache_dir() / spec.pop("name")
    spec.pop("label")
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".part.mp4")
        length = spec.pop("seconds")
        try:
            generate_clip(
                partial, duration=length, fps=30, noise=4, preset="veryfast", audio=False, **spec
            )
        except TypeError:
            generate_clip(
                partial, seconds=length, fps=30, noise=4, preset="veryfast", audio=False, **spec
            )
        partial.rename(path)
        print(f"  generated {path.name} in {time.perf_counter() - start:.0f} s", flush=True)
    return path


# ---- what runs in the child process ---------------------------------------------------------


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (``VmHWM``: at its highest), from /proc."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds() -> float:
    """User + system CPU of this process, every thread (less disturbed by other sessions)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _plan(path: str, fps: float):  # type: ignore[no-untyped-def]
    """The formula's frames for this clip, computed as mimo_nb does, outside the timed part."""
    from mimo_nb.media.video import Video

    video = Video.open(path)
    plan = video.plan(fps)
    return video.sample_indices(plan.frames), (plan.width, plan.height), float(video.native_fps)


def _floor(path: str) -> int:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def _pyav_pick(path: str, indices, size):  # type: ignore[no-untyped-def]
    import av
    import numpy as np

    wanted = {int(i) for i in indices}
    picked = {}
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                picked[i] = frame.reformat(
                    width=size[0], height=size[1], format="rgb24"
                ).to_ndarray()
    return np.stack([picked[int(i)] for i in indices])


def _pyav_seek(path: str, indices, size, fps: float):  # type: ignore[no-untyped-def]
    import av
    import numpy as np

    out = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.time_base
        for index in indices:
            target = int(round(int(index) / fps / base))
            container.seek(target, stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.pts >= target:
                    out.append(
                        frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
                    )
                    break
    return np.stack(out)


def _decord(path: str, indices, size):  # type: ignore[no-untyped-def]
    import decord

    reader = decord.VideoReader(path, width=size[0], height=size[1], num_threads=2)
    return reader.get_batch([int(i) for i in indices]).asnumpy()


def child(method: str, path: str, fps: float) -> None:
    import numpy as np

    from mimo_nb.media.samples import read_frame_counter

    indices, size, native_fps = _plan(path, fps)
    import av  # noqa: F401  (imported before the baseline RSS)

    if method == "decord":
        import decord  # noqa: F401
    import mimo_nb.media.video as mv

    before = _rss_mb()
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    out = None
    if method == "floor":
        frames = _floor(path)
    elif method == "pyav_pick":
        out = _pyav_pick(path, indices, size)
    elif method == "pyav_seek":
        out = _pyav_seek(path, indices, size, native_fps)
    elif method == "decord":
        out = _decord(path, indices, size)
    else:
        out = mv.Video.open(path).sample(fps).array
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    # VmHWM, this process's own high-water mark: ru_maxrss would not do, as Linux carries it
    # over from the parent through fork and exec (a child of a 2 GB parent reports 2 GB).
    peak = _rss_mb("VmHWM")
    correct = True
    if out is not None:
        frames = len(out)
        checks = np.linspace(0, len(out) - 1, min(16, len(out))).astype(int)
        correct = all(read_frame_counter(out[k]) == int(indices[k]) for k in checks)
    print(
        json.dumps(
            dict(
                seconds=seconds,
                cpu=cpu,
                peak_mb=peak - before,
                frames=frames,
                size=f"{size[0]}x{size[1]}",
                correct=correct,
            )
        )
    )


def explorer_child(path: str, fps: float, repeats: int = 1) -> None:
    """Time a FrameExplorer's new setting: first paint and full grid, against sample().

    Rounds alternate sample() and a new explorer's move from fps 0.1 to ``fps``, so a change in
    the machine's load hits both alike; the fastest of each counts (other sessions on the
    machine only ever add time).
    """
    import gc

    import ipywidgets

    from mimo_nb.display.widgets import FrameExplorer
    from mimo_nb.media.video import Video

    video = Video.open(path)
    samples, firsts, fulls, paints = [], [], [], 0
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        video.sample(fps)
        samples.append(time.perf_counter() - start)
        explorer = FrameExplorer(video, fps=0.1, debounce=0)
        explorer.wait()
        painted: list[float] = []
        explorer.view.observe(
            lambda change, painted=painted: painted.append(time.perf_counter()), names="value"
        )
        start = time.perf_counter()
        explorer.fps.value = fps
        explorer.wait()
        done = time.perf_counter()
        firsts.append((painted[0] - start) if painted else done - start)
        fulls.append(done - start)
        paints = len(painted)
        # ipywidgets keeps every widget (and so the explorer's cached frames) until closed
        ipywidgets.Widget.close_all()
        del explorer
        gc.collect()
    print(
        json.dumps(
            dict(
                first_paint=min(firsts),
                full_grid=min(fulls),
                sample=min(samples),
                paints=paints,
                runs=[
                    dict(sample=s, full_grid=f, first_paint=p)
                    for s, f, p in zip(samples, fulls, firsts, strict=True)
                ],
            )
        )
    )


def seek_cost_child(path: str, repeats: int) -> None:
    """Time forced seeking against decoding through, for targets that make every seek skip d frames.

    For each keyframe K (after the first) the targets are K - d - 1 and K: seeking jumps from
    K - d - 1 to K, skipping d frames, once per keyframe; decoding through decodes those d
    frames (the decoder skips the ones nothing refers to, as mimo_nb does). Everything else is
    the same in both modes, so per seek, time(seek) - time(through) = seek cost - d * frame cost,
    and the line fitted over d crosses zero at the break-even: the seek cost in frames.
    """
    import numpy as np

    import mimo_nb.media.decode as decode
    from mimo_nb.media.video import Video

    decode.PARALLEL_MIN_SEEKS = 10**9  # one decoder: the cost of a seek, not of parallel blocks
    video = Video.open(path)
    info, size = video.probe_info, (64, 36)  # tiny: conversion is the same in both modes
    keys = info.frame_table().keys.tolist()
    rows = []
    for d in SKIPS:
        pairs = [
            (key - d - 1, key)
            for before, key in zip(keys, keys[1:], strict=False)
            if key - d - 1 > before
        ]
        targets = [t for pair in pairs for t in pair]
        seeks = len(targets) // 2
        times: dict[str, list[tuple[float, float]]] = {"seek": [], "through": []}
        for _ in range(repeats):  # alternated, so a change in the machine's load hits both alike
            for mode, cost in (("seek", -1.0), ("through", float("inf"))):
                cpu, start = _cpu_seconds(), time.perf_counter()
                stats: dict[str, int] = {}
                for _frame in decode.iter_frames(
                    info, targets, size, prefer="pyav", seek_cost=cost, stats=stats
                ):
                    pass
                times[mode].append((time.perf_counter() - start, _cpu_seconds() - cpu))
        # the fastest of the repeats: other sessions on the machine only ever add time
        seek, through = np.min(times["seek"], axis=0), np.min(times["through"], axis=0)
        rows.append(
            dict(
                skip=d,
                seeks=seeks,
                wall=float((seek[0] - through[0]) / seeks),
                cpu=float((seek[1] - through[1]) / seeks),
                through_wall=float(through[0]),
            )
        )
    print(json.dumps(dict(rows=rows, frames=len(info.frame_table()))))


def _break_even(rows: list[dict], field: str) -> tuple[float, float, float]:
    """Line fitted to extra time per seek against frames skipped: (seek s, frame s, break-even)."""
    import numpy as np

    slope, intercept = np.polyfit([r["skip"] for r in rows], [r[field] for r in rows], 1)
    frame = -slope
    return float(intercept), float(frame), float(intercept / frame) if frame > 0 else float("inf")


def seek_cost_table(repeats: int, timeout: float) -> None:
    """Per clip: extra time per seek at each skip, the fitted line and where it crosses zero."""
    print(
        "\nSeek cost (seek vs decode through, per seek; negative: the seek saved time; "
        f"{machine()})\n"
    )
    print(
        "| clip | decode through | "
        + " | ".join(f"d={d}" for d in SKIPS)
        + " | seek | skipped frame | break-even (wall) | break-even (CPU) |"
    )
    print("|---|---|" + "---|" * (len(SKIPS) + 4))
    for key, spec in SEEK_CLIPS.items():
        result = run_child(["--seek-cost-child", str(ensure_clip(key)), str(repeats)], timeout)
        if "error" in result:
            print(f"| {spec['label']} | ERR {result['error']} |")
            continue
        rows = result["rows"]
        seek, frame, wall_even = _break_even(rows, "wall")
        _, _, cpu_even = _break_even(rows, "cpu")
        cells = " | ".join(f"{r['wall'] * 1000:+.1f} ms" for r in rows)
        print(
            f"| {spec['label']} | {rows[0]['through_wall']:.2f} s | {cells} "
            f"| {seek * 1000:.1f} ms "
            f"| {frame * 1000:.2f} ms | {wall_even:.1f} frames | {cpu_even:.1f} frames |",
            flush=True,
        )


def run_child(args: list[str], timeout: float) -> dict:
    env = dict(os.environ)
    env.pop("MIMO_NB_BACKEND", None)
    cmd = [sys.executable, __file__, *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return dict(error=f"over {timeout:.0f} s")
    if done.returncode != 0:
        return dict(
            error=(done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:60]
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the tables -----------------------------------------------------------------------------


def _cell(result: dict, floor: dict, memory: bool = True) -> str:
    if "error" in result:
        return f"ERR {result['error']}"
    text = f"{result['seconds']:.2f} s"
    if "seconds" in floor and result is not floor:
        text += f" ({result['seconds'] / floor['seconds']:.2f}x)"
    if memory:
        text += f", +{result['peak_mb']:.0f} MB"
    if not result.get("correct", True):
        text += " WRONG FRAMES"
    return text


def machine() -> str:
    """The conditions a table was measured under: cores, and the 1/5/15-minute load averages.

    A ratio to the floor depends on them: with two cores, mimo_nb's converting thread competes
    with the decoder's threads, and any other load takes from both (README: the fps 10 rows).
    """
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.1f} / {five:.1f} / {fifteen:.1f}"


def table(
    title: str, rows: list[tuple[str, float]], methods: tuple[str, ...], timeout: float
) -> None:
    print(
        f"\n{title}\n({machine()} at the start; the last column: the 1-minute load after the row)\n"
    )
    print("| clip, fps | frames | " + " | ".join(methods) + " | load |")
    print("|---|---|" + "---|" * (len(methods) + 1))
    for key, fps in rows:
        path = ensure_clip(key)
        results = {m: run_child(["--child", m, str(path), str(fps)], timeout) for m in methods}
        floor = results["floor"]
        frames = results["mimo_nb"].get("frames", "?")
        cells = [_cell(results[m], floor, memory=m != "floor") for m in methods]
        print(
            f"| {CLIPS[key]['label']}, {fps:g} | {frames} | "
            + " | ".join(cells)
            + f" | {os.getloadavg()[0]:.1f} |",
            flush=True,
        )


def explorer_table(repeats: int, timeout: float) -> None:
    """The FrameExplorer row on clip C: ``repeats`` rounds in one process, the fastest of each
    figure counts."""
    path = ensure_clip("C")
    result = run_child(["--explorer", str(path), "0.5", str(max(1, repeats))], timeout)
    print(f"\nFrameExplorer on the 20 min 360p30 clip, fps 0.1 -> 0.5 ({machine()})\n")
    if "error" in result:
        print(f"ERR {result['error']}")
        return
    for run in result["runs"] if len(result["runs"]) > 1 else []:
        print(
            f"  round: full grid {run['full_grid']:.2f} s, sample() {run['sample']:.2f} s, "
            f"first paint {run['first_paint']:.2f} s"
        )
    print(
        f"| first paint | full grid | sample() in the same process |\n|---|---|---|\n"
        f"| {result['first_paint']:.2f} s | {result['full_grid']:.2f} s "
        f"({result['full_grid'] / result['sample']:.2f}x) "
        f"| {result['sample']:.2f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the 1080p rows only")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per case")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--explorer", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument(
        "--explorer-only",
        action="store_true",
        help="only the FrameExplorer row (--repeats rounds; the fastest counts)",
    )
    parser.add_argument(
        "--seek-cost",
        action="store_true",
        help="measure what a seek costs in frames (sets SEEK_COST_FRAMES)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="--seek-cost, --explorer-only: timings per case (the fastest counts)",
    )
    parser.add_argument("--seek-cost-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seek_cost_child:
        seek_cost_child(args.seek_cost_child[0], int(args.seek_cost_child[1]))
        return
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return
    if args.explorer:
        explorer_child(
            args.explorer[0], float(args.explorer[1]), int((args.explorer[2:] or [1])[0])
        )
        return
    print(f"{machine()}; clips cached in {cache_dir()}", flush=True)
    if args.seek_cost:
        seek_cost_table(args.repeats, args.timeout)
        print(f"\nat the end: {machine()}")
        return
    if args.explorer_only:
        explorer_table(args.repeats, args.timeout)
        print(f"\nat the end: {machine()}")
        return
    dense = [row for row in DENSE if row[0] == "A"] if args.quick else DENSE
    table(
        "Dense targets (every frame must be decoded); ratios to the floor of the same row",
        dense,
        DENSE_METHODS,
        args.timeout,
    )
    if args.quick:
        return
    table(
        "Sparse targets (seeking pays); ratios to the floor of the same row",
        SPARSE,
        SPARSE_METHODS,
        args.timeout,
    )
    explorer_table(3, args.timeout)
    print(f"\nat the end: {machine()}")


if __name__ == "__main__":
    main()
