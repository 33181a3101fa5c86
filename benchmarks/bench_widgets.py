"""FrameExplorer: time from a slider change to the updated grid, for a 60-frame sample.

A generated 30 s, 640x360, 30 fps clip sampled at fps 2 gives 60 frames. "Cold" moves the
slider to a setting not decoded yet (decode + thumbnails); "cached" moves back to one already
seen. The debounce is off, so the change handler runs to the end before the setter returns;
the front end's own drawing of the HTML is not included (no browser here).

Goal (issue 5): cached median under 50 ms on this machine.
Run: .venv/bin/python benchmarks/bench_widgets.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from mimo_nb.display.widgets import FrameExplorer
from mimo_nb.media.samples import generate_clip
from mimo_nb.media.video import Video

COLD_RUNS = 5
CACHED_RUNS = 30


def timed_change(explorer: FrameExplorer, fps: float) -> float:
    t0 = time.perf_counter()
    explorer.fps.value = fps  # observers run synchronously: numbers, then the grid
    return time.perf_counter() - t0


def timed_change_and_send(explorer: FrameExplorer, fps: float) -> float:
    """The change plus JSON-encoding the widgets' new values, as a kernel would to send them
    (there is no kernel here, so ipywidgets sends nothing on its own)."""
    t0 = time.perf_counter()
    explorer.fps.value = fps
    json.dumps(
        {
            name: getattr(explorer, name).value
            for name in ("view", "numbers", "breakdown", "cost", "status")
        }
    )
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = generate_clip(
            Path(tmp) / "bench.mp4", duration=30, width=640, height=360, fps=30, preset="ultrafast"
        )
        video = Video.open(clip)
        frames_at_2 = video.plan(fps=2.0).frames
        assert frames_at_2 == 60, frames_at_2

        cold = []
        for _ in range(COLD_RUNS):
            explorer = FrameExplorer(video, fps=1.0, debounce=0)  # a fresh, empty cache each time
            before = explorer.decodes
            cold.append(timed_change(explorer, 2.0))
            assert explorer.decodes == before + 1 and len(explorer.frames()) == 60

        cached, sent = [], []
        explorer.fps.value = 1.0
        for _ in range(CACHED_RUNS):
            decodes = explorer.decodes
            cached.append(timed_change(explorer, 2.0))
            assert explorer.view.value.count("<img") == 60
            timed_change(explorer, 1.0)
            assert explorer.decodes == decodes, "a cached move decoded again"
            sent.append(timed_change_and_send(explorer, 2.0))
            timed_change(explorer, 1.0)

    cold_ms, cached_ms = statistics.median(cold) * 1e3, statistics.median(cached) * 1e3
    sent_ms = statistics.median(sent) * 1e3
    explorer.fps.value = 2.0
    grid_kb = len(explorer.view.value) / 1024
    print(
        f"clip: 30 s 640x360 @30 fps, sampled at fps 2 -> 60 frames at "
        f"{explorer.frames().array.shape[2]}x{explorer.frames().array.shape[1]}"
    )
    print(f"cold   (decode + thumbnails), median of {COLD_RUNS}:  {cold_ms:8.1f} ms")
    print(f"cached (moving back),         median of {CACHED_RUNS}: {cached_ms:8.1f} ms")
    print(
        f"cached + JSON of the new state ({grid_kb:,.0f} KB grid), median of {CACHED_RUNS}: "
        f"{sent_ms:5.1f} ms"
    )
    print(
        f"cold / cached: {cold_ms / cached_ms:,.0f}x; goal cached < 50 ms -> "
        f"{'MET' if max(cached_ms, sent_ms) < 50 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
