"""Doctest set-up: the ``>>>`` examples in mimo_nb's docstrings run as tests (``make test``).

Examples are written the way a user would type them in a notebook, so each module's doctests run
in a fresh temporary folder that already holds ``clip.mp4`` (a generated 2 s clip, 320x240, with
sound) and ``videos/`` (three small generated clips of 1, 2 and 3 s, for the corpus examples), with
``mn`` (mimo_nb) and ``np`` (numpy) imported. Examples that would call the network
(a real MiMo endpoint) are marked ``# doctest: +SKIP`` in the docstring, with the reason beside
them; everything else runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def _doctest_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mimo_nb.media.samples import generate_clip

    folder = tmp_path_factory.mktemp("doctest")
    generate_clip(folder / "clip.mp4", duration=2.0, width=320, height=240)
    (folder / "videos").mkdir()
    for seconds in (1, 2, 3):
        clip = folder / "videos" / f"clip{seconds}.mp4"
        generate_clip(clip, duration=seconds, width=160, height=120)
    return folder


@pytest.fixture(autouse=True)
def _doctest_folder(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Run each doctest in its own copy of the doctest folder, without a key in the environment."""
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    import shutil

    import numpy as np

    import mimo_nb
    import mimo_nb.corpus._workers

    source: Path = request.getfixturevalue("_doctest_clip_dir")
    here = request.getfixturevalue("tmp_path")
    shutil.copy(source / "clip.mp4", here / "clip.mp4")
    shutil.copytree(source / "videos", here / "videos")
    monkeypatch.chdir(here)
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    monkeypatch.delenv("MIMO_NB_OFFLINE", raising=False)
    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(mn=mimo_nb, np=np)
    # The session's shared process pool keeps the folder its workers started in, so relative
    # paths would be resolved there, not here (a known limitation of Corpus.scan/map after a
    # change of folder): each doctest gets its own pool, started here, shut down after it.
    monkeypatch.setattr(mimo_nb.corpus._workers, "_shared_pool", None)
    yield
    pool = mimo_nb.corpus._workers._shared_pool
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
