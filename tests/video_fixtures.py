"""Sample clips for the video tests, generated once per session (never downloaded).

Import the fixtures you use explicitly, e.g. ``from video_fixtures import clips, clip_dir``.
``clips(name, **kwargs)`` writes ``name`` with :func:`mimo_nb.media.samples.generate_clip` the first
time and returns the cached path afterwards, so tests in several files share the work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mimo_nb.media.samples import generate_clip, read_frame_counter

# Small by default: the whole video suite runs on a shared 2-core machine.
SMALL = dict(width=160, height=120)
MakeClip = Callable[..., Path]


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clips(clip_dir: Path) -> MakeClip:
    made: dict[str, Path] = {}

    def make(name: str, **kwargs: Any) -> Path:
        if name not in made:
            options = {**SMALL, "duration": 2.0, **kwargs}
            made[name] = generate_clip(clip_dir / name, **options)
        return made[name]

    return make


def counters(array: np.ndarray) -> list[int]:
    """The frame numbers drawn into each frame of an (N, H, W, 3) array."""
    return [read_frame_counter(frame) for frame in array]
