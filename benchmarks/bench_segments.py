"""Long videos (issue 20): planning a corpus's segments, writing a long clip's segments, memory.

    python benchmarks/bench_segments.py            # the 30-minute clip (about 7 minutes on an
                                                   # idle 2-core machine, plus generating the
                                                   # clip once, about 20: it is cached)
    python benchmarks/bench_segments.py --quick    # a 3-minute clip (a few minutes)

(a) Planning: the segments of a 10^4-video corpus (durations log-uniform from 1 minute to 3
    hours, 1080p / 720p / 360p / 4K / portrait, 70% with sound) with the array planner
    (``plan_segments_array``, best of 5) against a loop of ``plan_segments`` over the same videos
    (once). Every video's numbers are checked equal between the two. Two rows: fps 2 for all
    (the issue's setting) and a mix of fps 0.1 to 10 (the low ones hit the byte limit, which the
    scalar planner finds by stepping down). Goal: >= 100x.
(b) Writing: the segments of a long 720p30 clip with sound (made with
    mimo_nb.media.samples.generate_clip: pixel noise, x264 veryfast, a keyframe every 250
    frames, a 440 Hz tone; cached in $TMPDIR/mimo_nb_bench) at fps 2, against one full decode of
    the file with PyAV (frame and slice threads, nothing converted): the decode floor, measured
    in the same run. ``write`` is ``Video.open`` (the probe: one demux pass) +
    ``plan_video_segments`` + ``write`` into a fresh folder. Rows: the default plan (2 segments
    of 1,800 frames for 30 minutes; one of 360 for 3), with --quick also 2 segments (as the
    30-minute default), and about 8 segments (``max_frames_per_segment``). The writer streams
    each segment's frames from the decoder into the encoder, two segments at once, so one's
    decoding overlaps the other's encoding and sound; a plan of one segment has nothing to
    overlap its sound with. Goal: within 1.2x of the floor.
(c) Memory: each measurement runs in its own process; peak is the child's VmHWM (its own
    high-water mark; not ru_maxrss, which Linux carries over from the parent) less its RSS
    before the work. It is set against the bytes of every sampled frame of the video at the
    model's size (RGB) and of one segment's frames: the writer holds a few frames per segment
    it is writing, never a segment's (goal: bounded by a few segments' frames).

The floor and the writes alternate, ``--repeats`` times (default 2), and the fastest of each
counts (the machine is shared; other sessions only ever add time): compare ratios, not seconds.
The first frame of every written segment is checked against the frame counter drawn into the
clip. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIPS = {
    "full": dict(
        name="bench_720p30_1800s_gop250_noise_tone.mp4", label="30 min 720p30", seconds=1800
    ),
    "quick": dict(
        name="bench_720p30_180s_gop250_noise_tone.mp4", label="3 min 720p30", seconds=180
    ),
}
FPS = 2.0
CORPUS = 10_000


def cache_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "mimo_nb_bench"
    path.mkdir(exist_ok=True)
    return path


def ensure_clip(key: str) -> Path:
    from mimo_nb.media.samples import generate_clip

    spec = CLIPS[key]
    path = cache_dir() / str(spec["name"])
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".part.mp4")
        generate_clip(
            partial,
            duration=float(spec["seconds"]),
            width=1280,
            height=720,
            fps=30,
            audio=True,
            gop=250,
            noise=4,
            preset="veryfast",
        )
        partial.rename(path)
        print(f"  generated {path.name} in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def machine() -> str:
    """Cores and the 1/5/15-minute load averages: the conditions a table was measured under."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.1f} / {five:.1f} / {fifteen:.1f}"


# ---- (a) planning -----------------------------------------------------------------------------


def corpus(mixed_fps: bool):  # type: ignore[no-untyped-def]
    """The 10^4 videos: duration, width, height, fps, has_audio arrays (deterministic)."""
    import numpy as np

    rng = np.random.default_rng(20)
    duration = np.round(np.exp(rng.uniform(np.log(60), np.log(3 * 3600), CORPUS)), 2)
    sizes = np.array([(1920, 1080), (1280, 720), (640, 360), (3840, 2160), (1080, 1920)])
    width, height = sizes[rng.integers(0, len(sizes), CORPUS)].T
    fps = rng.choice([0.1, 0.2, 0.5, 1, 2, 3, 5, 10], CORPUS) if mixed_fps else np.full(CORPUS, FPS)
    audio = rng.random(CORPUS) < 0.7
    return duration, width, height, fps, audio


def bench_planning() -> None:
    from mimo_nb.core.segments import plan_segments, plan_segments_array

    print(f"\n(a) Planning the segments of {CORPUS:,} videos ({machine()})\n")
    print(
        "| corpus | array planner (best of 5) | loop of plan_segments | ratio | equal | segments |"
    )
    print("|---|---|---|---|---|---|")
    for mixed in (False, True):
        d, w, h, f, a = corpus(mixed)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            out = plan_segments_array(d, w, h, fps=f, has_audio=a)
            best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        plans = [
            plan_segments(float(d[i]), int(w[i]), int(h[i]), fps=float(f[i]), has_audio=bool(a[i]))
            for i in range(CORPUS)
        ]
        loop = time.perf_counter() - start
        equal = all(
            (len(p.segments), p.total_frames, p.total_tokens, sum(s.est_bytes for s in p.segments))
            == (
                out["segments"][i],
                out["frames"][i],
                out["tokens"][i],
                out["est_bytes"][i],
            )
            for i, p in enumerate(plans)
        )
        ratio = loop / best
        label = "fps 0.1 to 10, mixed" if mixed else f"fps {FPS:g}"
        print(
            f"| {label} | {best * 1000:.1f} ms | {loop:.2f} s | {ratio:.0f}x "
            f"({'MET' if ratio >= 100 else 'MISSED'}) | {'yes' if equal else 'NO'} "
            f"| {int(out['segments'].sum()):,} |",
            flush=True,
        )


# ---- (b), (c) writing: what runs in the child process ----------------------------------------


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (``VmHWM``: at its highest), from /proc."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _floor(path: str) -> dict:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = sum(1 for _ in container.decode(stream))
    return dict(frames=frames)


def _write(path: str, max_frames: int | None) -> dict:
    import av

    from mimo_nb.media.samples import read_frame_counter
    from mimo_nb.media.segments import plan_video_segments
    from mimo_nb.media.video import Video

    out = Path(tempfile.mkdtemp(dir=cache_dir(), prefix="segments-"))
    try:
        start = time.perf_counter()
        cut = plan_video_segments(Video.open(path), fps=FPS, max_frames_per_segment=max_frames)
        files = cut.write(out)
        seconds = time.perf_counter() - start
        plan = cut.plan
        correct = True
        for f in files:  # outside the timed part: each file's first frame is the planned one
            with av.open(str(f.path)) as container:
                first = next(container.decode(video=0)).to_ndarray(format="rgb24")
            correct &= read_frame_counter(first) == f.segment.file_indices[0]
        frame_bytes = [s.frames * s.width * s.height * 3 for s in plan.segments]
        return dict(
            write_seconds=seconds,
            segments=len(plan.segments),
            frames=plan.total_frames,
            size=f"{plan.segments[0].width}x{plan.segments[0].height}",
            video_frames_mb=sum(frame_bytes) / 2**20,
            segment_frames_mb=max(frame_bytes) / 2**20,
            file_mb=sum(f.size_bytes for f in files) / 2**20,
            correct=bool(correct),
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)


def child(method: str, path: str, max_frames: int | None) -> None:
    import av  # noqa: F401  (imported before the baseline RSS)
    import numpy  # noqa: F401

    import mimo_nb.media.encode  # noqa: F401
    import mimo_nb.media.segments  # noqa: F401

    before = _rss_mb()
    start = time.perf_counter()
    result = _floor(path) if method == "floor" else _write(path, max_frames)
    seconds = result.pop("write_seconds", time.perf_counter() - start)
    # VmHWM, this process's own high-water mark: ru_maxrss would not do, as Linux carries it
    # over from the parent through fork and exec (a child of a 2 GB parent reports 2 GB).
    peak = _rss_mb("VmHWM")
    print(json.dumps(dict(result, seconds=seconds, peak_mb=peak - before)))


def run_child(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, __file__, *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(error=f"over {timeout:.0f} s")
    if done.returncode != 0:
        return dict(error=(done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_writing(key: str, repeats: int, timeout: float) -> None:
    path = ensure_clip(key)
    seconds = int(CLIPS[key]["seconds"])
    asked = seconds * int(FPS)
    rows: list[tuple[str, int | None]] = [("default plan", None)]
    if asked <= 2048:  # --quick: the default is one segment; two is the 30-minute clip's default
        rows.append((f"max_frames_per_segment={asked // 2}", asked // 2))
    rows.append((f"max_frames_per_segment={asked // 8}", asked // 8))  # about eight segments
    print(
        f"\n(b, c) Writing the segments of the {CLIPS[key]['label']} clip at fps {FPS:g} "
        f"({machine()}; fastest of {repeats})\n"
    )
    print(
        "| plan | segments x frames (model size) | decode floor | write | ratio | peak RSS "
        "| every sampled frame | one segment's frames | files | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, max_frames in rows:
        floors, writes = [], []
        for _ in range(repeats):  # alternated: a change in the machine's load hits both alike
            floors.append(run_child(["--child", "floor", str(path), "0"], timeout))
            writes.append(run_child(["--child", "write", str(path), str(max_frames or 0)], timeout))
        errors = [r["error"] for r in floors + writes if "error" in r]
        if errors:
            print(f"| {label} | ERR {errors[0][:80]} |", flush=True)
            continue
        floor = min(floors, key=lambda r: r["seconds"])
        write = min(writes, key=lambda r: r["seconds"])
        ratio = write["seconds"] / floor["seconds"]
        per = write["frames"] // write["segments"]
        print(
            f"| {label} | {write['segments']} x ~{per} ({write['size']}) "
            f"| {floor['seconds']:.1f} s ({floor['frames']:,} frames) "
            f"| {write['seconds']:.1f} s | {ratio:.2f}x ({'MET' if ratio <= 1.2 else 'MISSED'}) "
            f"| +{max(r['peak_mb'] for r in writes):.0f} MB "
            f"| {write['video_frames_mb']:.0f} MB | {write['segment_frames_mb']:.0f} MB "
            f"| {write['file_mb']:.1f} MB{'' if write['correct'] else ' WRONG FRAMES'} "
            f"| {os.getloadavg()[0]:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a 3-minute clip")
    parser.add_argument("--repeats", type=int, default=2, help="runs per case (the fastest counts)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per case")
    parser.add_argument("--skip-planning", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]) or None)
        return
    print(f"{machine()}; clips cached in {cache_dir()}", flush=True)
    if not args.skip_planning:
        bench_planning()
    bench_writing("quick" if args.quick else "full", max(1, args.repeats), args.timeout)
    print(f"\nat the end: {machine()}")


if __name__ == "__main__":
    main()
